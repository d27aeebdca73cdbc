"""The names the original notebooks document (SPEC.md Modules 1-6), as thin
aliases over seismag's one loop, one k-fold driver and one artifact writer, so
the SPEC's examples run as written after ``from seismag.compat import *``.

The five per-model variants (``kfold_train_eval_gru``, ``main_lstm``, ...) are
generated from the model registry; they differ only in the model name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler

from . import models as model_registry
from .config import make_config
from .data.analysis import DatasetAnalyzer, compute_class_weights, quick_analyze  # noqa: F401
from .data.loading import WindowData
from .environment import (  # noqa: F401
    check_environment, check_version_compatibility, clear_gpu_memory, get_device, get_memory_usage,
    print_environment_info, set_random_seeds,
)
from .errors import CheckpointError, ConfigError
from .models import (  # noqa: F401
    F1WeightedEnsemble, GRUClassifier, LSTMClassifier, MLPClassifier, RNNClassifier, TransformerClassifier,
    add_positional_encoding, prepare_mlp_data, reshape_data_for_gru, reshape_data_for_lstm,
    reshape_data_for_rnn, reshape_data_for_transformer,
)
from .training.artifacts import ArtifactPaths
from .training.engine import batch_step, quick_scores, resolve_device
from .training.inference import load_ensemble_model, load_trained_ensemble  # noqa: F401
from .training.kfold import load_fold, protocol_record, write_ensemble
from .training.metrics import calculate_binary_metrics  # noqa: F401
from .training.pipeline import format_summary_table, run_experiment, setup_logging  # noqa: F401


# --------------------------------------------------------------------------- Module 3 utilities
def setup_device(gpu_ids: list[int] | None = None) -> tuple[torch.device, list[int]]:
    """(device, GPU ids): all visible GPUs by default, the CPU and [] without CUDA."""
    if not torch.cuda.is_available():
        return torch.device("cpu"), []
    ids = list(range(torch.cuda.device_count())) if gpu_ids is None else list(gpu_ids)
    return resolve_device(f"cuda:{ids[0]}" if ids else "cpu"), ids


def set_seed(seed: int = 42, strict: bool = False) -> None:
    set_random_seeds(seed, strict_determinism=strict)


def calculate_class_weights(labels, method: str = "sqrt", normalize: bool = True) -> torch.Tensor:
    """Class weights from labels as a float32 tensor (see ``compute_class_weights``)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64).ravel(), minlength=2)
    return torch.tensor(compute_class_weights(counts, method=method, normalize=normalize), dtype=torch.float32)


def _labels_of(dataset) -> np.ndarray:
    if isinstance(dataset, TensorDataset):
        return dataset.tensors[-1].cpu().numpy().astype(np.int64)
    return np.array([int(dataset[i][-1]) for i in range(len(dataset))])


def create_balanced_sampler(dataset, oversample: bool = True) -> WeightedRandomSampler:
    """Draws each class equally often: weight 1/count per sample, with replacement.

    ``oversample=True`` draws as many samples as the dataset holds; False draws
    twice the minority count (undersampling the majority).
    """
    labels = _labels_of(dataset)
    counts = np.bincount(labels, minlength=2)
    weights = torch.as_tensor(1.0 / counts[labels], dtype=torch.double)
    n = len(labels) if oversample else int(2 * counts.min())
    return WeightedRandomSampler(weights, num_samples=n, replacement=True)


def create_data_loaders(dataset, batch_size: int = 32, num_gpus: int = 1, is_train: bool = True,
                        num_workers: int = 0) -> DataLoader:
    """A DataLoader with ``batch_size * num_gpus`` per batch (SPEC's scaling rule)."""
    return DataLoader(dataset, batch_size=batch_size * max(1, num_gpus), shuffle=is_train,
                      num_workers=num_workers, drop_last=False)


def create_data_loaders_balanced(dataset, batch_size: int = 32, num_gpus: int = 1, is_train: bool = True,
                                 oversample: bool = True, num_workers: int = 0) -> DataLoader:
    if not is_train:
        return create_data_loaders(dataset, batch_size, num_gpus, is_train=False, num_workers=num_workers)
    return DataLoader(dataset, batch_size=batch_size * max(1, num_gpus),
                      sampler=create_balanced_sampler(dataset, oversample), num_workers=num_workers)


def create_model(model_class, device="cpu", device_ids: list[int] | None = None, **kwargs) -> nn.Module:
    """Instantiate ``model_class(**kwargs)`` on ``device``; DataParallel over several GPUs."""
    model = model_class(**kwargs).to(device)
    if device_ids and len(device_ids) > 1:
        model = nn.DataParallel(model, device_ids=device_ids)
    return model


def save_checkpoint(model: nn.Module, optimizer=None, epoch: int | None = None, loss: float | None = None,
                    checkpoint_dir: str = "results", additional_info: dict | None = None,
                    filename: str | None = None) -> Path:
    """Save model + optimizer state; returns the path (``checkpoint_epoch{N}.pth`` by default)."""
    module = model.module if isinstance(model, nn.DataParallel) else model
    path = Path(checkpoint_dir) / (filename or f"checkpoint_epoch{epoch if epoch is not None else 0}.pth")
    model_registry.save_model_checkpoint(module, path, optimizer=optimizer, epoch=epoch,
                                         metrics={"loss": loss}, extra=dict(additional_info or {}))
    return path


def load_checkpoint(checkpoint_path, model: nn.Module | None = None, optimizer=None, device="cpu"):
    """(model, optimizer, epoch, loss, info). Without ``model`` it is rebuilt from the checkpoint."""
    loaded, checkpoint = model_registry.load_model_checkpoint(checkpoint_path, device=device)
    if model is not None:
        target = model.module if isinstance(model, nn.DataParallel) else model
        try:
            target.load_state_dict(loaded.state_dict())
        except RuntimeError as exc:
            raise CheckpointError(f"{checkpoint_path}: does not fit this model ({str(exc).splitlines()[0]})") from None
        loaded = model
    if optimizer is not None and checkpoint.get("optimizer_state"):
        optimizer.load_state_dict(checkpoint["optimizer_state"])
    loss = (checkpoint.get("metrics") or {}).get("loss")
    return loaded, optimizer, checkpoint.get("epoch"), loss, checkpoint.get("extra") or {}


def run_epoch(model: nn.Module, loader: DataLoader, device, loss_fn: nn.Module | None = None,
              optimizer=None, max_grad_norm: float = 1.0) -> dict[str, float]:
    """The SPEC's ``run_epoch`` over a DataLoader (training when ``optimizer`` is given).

    Uses the engine's batch step; one-sample training batches are skipped.
    Returns loss, accuracy and weighted F1 of the epoch.
    """
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    device = torch.device(device)
    model.train(optimizer is not None)
    total, count, probs, labels = 0.0, 0, [], []
    with torch.set_grad_enabled(optimizer is not None):
        for x, y in loader:
            if optimizer is not None and len(y) < 2:
                continue
            x, y = x.to(device), y.to(device)
            loss, logits = batch_step(model, x, y, loss_fn, optimizer, max_grad_norm, device)
            total += float(loss.detach()) * len(y)
            count += len(y)
            probs.append(torch.softmax(logits.detach(), 1)[:, 1].cpu())
            labels.append(y.cpu())
    accuracy, f1 = quick_scores(torch.cat(labels), torch.cat(probs))
    return {"loss": total / max(count, 1), "accuracy": accuracy, "f1": f1}


# --------------------------------------------------------------------------- Modules 5 and 6
_SCHEDULERS = {"ReduceLROnPlateau": "plateau", "CosineAnnealingLR": "cosine"}


def kfold_train_eval(model_name: str, dataset, output_dir: str = "results", loss_fn=None,
                     optimizer_class=torch.optim.AdamW, optimizer_kwargs: dict | None = None,
                     scheduler_class=None, scheduler_kwargs: dict | None = None, epochs: int = 100,
                     device=None, device_ids=None, batch_size: int = 32, num_folds: int = 5,
                     random_state: int = 42, model_class=None, window_days: int | None = None,
                     steps_per_day: int | None = None, **model_params: Any) -> dict[str, Any]:
    """SPEC Module 5 k-fold training of one model on a TensorDataset ``(X, y)``.

    ``X`` is ``(n, days, steps_per_day)`` or flat ``(n, days * steps_per_day)``
    (then ``steps_per_day`` defaults to 1440). Runs seismag's k-fold driver and
    writes the SPEC's artifacts under ``output_dir`` (``results`` or
    ``results/{model}_models``). Class weights are recomputed on each fold's
    training rows (sqrt method, ``class_weight_method=`` to change), so a
    ``loss_fn`` passed here is not used. Returns the summary dict (``val_f1s``, ...).
    """
    if optimizer_class is not torch.optim.AdamW:
        raise ConfigError("seismag trains with AdamW (the SPEC's optimizer); other optimizers are not supported")
    X = dataset.tensors[0].detach().cpu().numpy().astype(np.float32)
    y = dataset.tensors[1].detach().cpu().numpy().astype(np.int64)
    if X.ndim == 3:
        window_days, steps_per_day = X.shape[1], X.shape[2]
    steps_per_day = steps_per_day or 1440
    X = np.ascontiguousarray(X.reshape(len(X), -1))
    window_days = window_days or X.shape[1] // steps_per_day
    if window_days * steps_per_day != X.shape[1]:
        raise ConfigError(f"{X.shape[1]} features are not window_days x steps_per_day; pass both")
    data = WindowData(window_days, steps_per_day, X, y, np.arange(len(y)))
    optimizer_kwargs = dict(optimizer_kwargs or {})
    train_keys = {k: model_params.pop(k) for k in list(model_params)
                  if k in ("class_weight_method", "balanced_sampling", "early_stopping", "max_grad_norm",
                           "split", "scaling", "precision")}
    for fixed in ("input_size", "output_size"):
        model_params.pop(fixed, None)
    scheduler = "auto" if scheduler_class is None else _SCHEDULERS.get(getattr(scheduler_class, "__name__", ""))
    if scheduler is None:
        raise ConfigError(f"unsupported scheduler {scheduler_class}; use ReduceLROnPlateau or CosineAnnealingLR")
    scheduler_kwargs = scheduler_kwargs or {}
    config = make_config(
        "paper", models=[model_name], windows=[window_days], steps_per_day=steps_per_day, epochs=epochs,
        num_folds=num_folds, batch_size=batch_size, seed=random_state, scheduler=scheduler,
        learning_rate=optimizer_kwargs.get("lr"), weight_decay=optimizer_kwargs.get("weight_decay"),
        plateau_patience=scheduler_kwargs.get("patience"), plateau_factor=scheduler_kwargs.get("factor"),
        device=str(device) if device is not None else None,
        model_overrides={model_name: model_params}, **train_keys)
    root = Path(output_dir)
    if root.name == f"{model_name}_models":
        root = root.parent
    from .training.kfold import run_kfold

    summary = run_kfold(model_name, data, config, root, device=resolve_device(config.device))
    return summary


def train_eval(model_name: str, data_dir: str = "data", output_dir: str = "results",
               windows=(7, 14, 30), preset: str = "paper", resume: bool = False, **settings: Any):
    """Every window for one model (SPEC "Full Training Function"): ``{days: summary}``."""
    config = make_config(preset, models=[model_name], windows=list(windows), **settings)
    return run_experiment(config, data_dir, output_dir, resume=resume)[model_name]


def main_model(model_name: str, optimize: bool = False, base_path: str = ".", data_dir: str | None = None,
               output_dir: str | None = None, **settings: Any):
    """SPEC Module 6 orchestration for one model: logging, every window, ensembles, summary table.

    ``optimize=True`` first runs a hyperparameter search (``seismag tune``; needs
    ``pip install 'seismag[tune]'``) per window, then trains with the best parameters.
    """
    setup_logging()
    data_dir = data_dir or str(Path(base_path) / "data")
    output_dir = output_dir or str(Path(base_path) / "results")
    if not optimize:
        results = train_eval(model_name, data_dir, output_dir, **settings)
    else:
        # Tune each window on an inner split of outer fold 1's training rows, then run
        # the k-fold protocol with the best parameters (see seismag.tune for which folds stay clean).
        from .tune import tuned_config

        tune_keys = {k: settings.pop(k) for k in list(settings) if k in ("trials", "timeout", "storage")}
        windows = settings.pop("windows", (7, 14, 30))
        results = {}
        for days in windows:
            config = tuned_config(data_dir, model_name, days, out_dir=str(Path(output_dir) / "tuning" / f"{model_name}_{days}day"),
                                  **tune_keys, **settings)
            results.update(run_experiment(config, data_dir, output_dir)[model_name])
    print(format_summary_table({model_name: results}))
    return results


def perform_model_ensemble(model_name: str, window_days: int, results_dir: str = "results",
                           strategy: str = "weighted_mean", device="cpu"):
    """Rebuild ``{Model}Model_{N}day_ensemble.pth`` from the fold checkpoints on disk
    (e.g. with another strategy) and return the loaded ensemble."""
    entry = model_registry.get_model_entry(model_name)
    paths = ArtifactPaths(Path(results_dir), entry.name, entry.display_name, int(window_days))
    folds = []
    fold = 1
    while paths.fold_complete(fold):
        folds.append(load_fold(paths, fold, device))
        fold += 1
    if not folds:
        raise ConfigError(f"no complete folds for {entry.display_name}Model_{window_days}day in {paths.folder}")
    metrics, members, scalers = (list(x) for x in zip(*folds))
    checkpoint = model_registry.load_model_checkpoint(paths.fold_file(1, ""))[1]
    extra = checkpoint["extra"]
    config = make_config("paper", **extra["run_config"])
    write_ensemble(paths, entry.name, members, scalers, metrics, protocol_record(config),
                   checkpoint["model_config"], extra["window_days"], extra["steps_per_day"], strategy)
    return load_trained_ensemble(paths.ensemble, device=device)


def _per_model(template, model_name: str):
    def bound(*args, **kwargs):
        return template(model_name, *args, **kwargs)

    bound.__name__ = f"{template.__name__.replace('_model', '').rstrip('_')}_{model_name}"
    bound.__doc__ = f"{template.__doc__.splitlines()[0]} (model '{model_name}')."
    return bound


# main_gru, kfold_train_eval_gru, train_eval_gru, ... for every registered model.
for _name in model_registry.list_models():
    globals()[f"main_{_name}"] = _per_model(main_model, _name)
    globals()[f"kfold_train_eval_{_name}"] = _per_model(kfold_train_eval, _name)
    globals()[f"train_eval_{_name}"] = _per_model(train_eval, _name)
del _name
