"""The names the original notebooks document (SPEC.md Modules 1-6), as thin
aliases over seismag's one loop, one k-fold driver and one artifact writer, so
the SPEC's examples run as written after ``from seismag.spec.compat import *``.

The five per-model variants (``kfold_train_eval_gru``, ``main_lstm``, ...) are
generated from the model registry; they differ only in the model name.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler

from seismag import defaults
from seismag import models as model_registry
from seismag.config import FIELD_NAMES, make_config
from seismag.dataset.balance import compute_class_weights  # noqa: F401
from seismag.dataset.loading import WindowData
from seismag.environment import check_environment, check_version_compatibility, print_environment_info  # noqa: F401
from seismag.runtime import clear_gpu_memory, get_device, get_memory_usage, set_random_seeds  # noqa: F401
from seismag.errors import CheckpointError, ConfigError
from seismag.layout.results import ArtifactPaths, model_folder_name, window_name
from seismag.layout.seed import WINDOW_DIR_PREFIX, window_dir_name
from seismag.models import F1WeightedEnsemble  # noqa: F401
from seismag.models.checkpoint import file_stamp, utc_now
from seismag.spec.classifiers import (  # noqa: F401
    GRUClassifier, LSTMClassifier, MLPClassifier, RNNClassifier, TransformerClassifier,
)
from seismag.spec.analysis import DatasetAnalyzer, quick_analyze  # noqa: F401
from seismag.spec.aliases import (  # noqa: F401
    add_positional_encoding, prepare_mlp_data, reshape_data_for_gru, reshape_data_for_lstm,
    reshape_data_for_rnn, reshape_data_for_transformer,
)
from seismag.training.fold import TrainingObjects
from seismag.training.loop import batch_step, quick_scores
from seismag.runtime import check_gpu_ids, prepare_training, resolve_device
from seismag.training.losses import FocalLoss  # noqa: F401
from seismag.inference import load_ensemble_model, load_trained_ensemble  # noqa: F401
from seismag.lock import folder_lock
from seismag.training.job import WindowJob
from seismag.training.prepared import PreparedWindow
from seismag.training.kfold import load_fold, protocol_record, run_kfold, write_ensemble
from seismag.training.metrics import calculate_binary_metrics  # noqa: F401
from seismag.training.pipeline import format_summary_table, run_experiment  # noqa: F401
from seismag.training import pipeline
from seismag.plots import (  # noqa: F401  Result_drawing's four figure modules
    plot_all, plot_confusion_matrices, plot_model_comparison, plot_roc_curves, plot_training_curves,
)
from seismag.report import write_report  # noqa: F401  and the report

# Result_drawing: every figure module reads the results folder named BASE_DIR (SPEC
# "Required Path Modifications"); pass it, e.g. plot_roc_curves(BASE_DIR).
BASE_DIR = Path("results")


# --------------------------------------------------------------------------- Module 3 utilities
def setup_device(gpu_ids: list[int] | None = None) -> tuple[torch.device, list[int]]:
    """(device, GPU ids): all visible GPUs by default, the CPU and [] without CUDA.

    Given ``gpu_ids`` are checked against the visible GPUs (ConfigError for one
    that does not exist, or for any id without CUDA).
    """
    if gpu_ids is None:
        gpu_ids = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    ids = check_gpu_ids(gpu_ids)  # ids this machine does not have are an error, not returned unchecked
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


def setup_logging(log_file: str | None = None, log_dir=None, level: int = logging.INFO,
                  include_timestamp: bool = True, console: bool = True) -> logging.Logger:
    """SPEC Module 3's ``setup_logging``: :func:`seismag.training.pipeline.setup_logging` with
    the log folder and file made at once ("auto-created"), not at the first line."""
    return pipeline.setup_logging(log_file, log_dir, level=level, include_timestamp=include_timestamp,
                                  console=console, delay=False)


def save_checkpoint(model: nn.Module, optimizer=None, epoch: int | None = None, loss: float | None = None,
                    checkpoint_dir: str = "results", additional_info: dict | None = None,
                    filename: str | None = None) -> Path:
    """Save model + optimizer state; returns the path.

    "Checkpoint saving includes timestamp for version control" (SPEC Module 3): the file
    records its creation time (``created_at``, UTC, ISO 8601), and the default name carries
    the same time, ``checkpoint_epoch{N}_{YYYYmmddTHHMMSSZ}.pth``, so saves of one epoch
    at different times are kept side by side. ``filename`` names the file as given.
    """
    module = model.module if isinstance(model, nn.DataParallel) else model
    created = utc_now()
    default = f"checkpoint_epoch{epoch if epoch is not None else 0}_{file_stamp(created)}.pth"
    path = Path(checkpoint_dir) / (filename or default)
    model_registry.save_model_checkpoint(module, path, optimizer=optimizer, epoch=epoch,
                                         metrics={"loss": loss}, extra=dict(additional_info or {}),
                                         created_at=created)
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
_RUN_ONLY = ("models", "windows", "model_overrides")


def kfold_train_eval(model_name: str, dataset, output_dir: str = "results", loss_fn=None,
                     optimizer_class=torch.optim.AdamW, optimizer_kwargs: dict | None = None,
                     scheduler_class=None, scheduler_kwargs: dict | None = None, epochs: int = 100,
                     device=None, device_ids=None, batch_size: int = 32, num_folds: int = 5,
                     random_state: int = 42, model_class=None, window_days: int | None = None,
                     steps_per_day: int | None = None, **params: Any) -> dict[str, Any]:
    """SPEC Module 5 k-fold training of one model on a TensorDataset ``(X, y)``.

    ``X`` is ``(n, days, steps_per_day)`` or flat ``(n, days * steps_per_day)``
    (then ``steps_per_day`` is a sequence model's ``input_size``, else 1440), in the data's unit: each fold
    standardises with its own training rows' statistics (``scaling='none'``
    to train on ``X`` as given). Runs seismag's one k-fold driver and writes
    the SPEC's artifacts under ``output_dir`` (``results`` or
    ``results/{model}_models``). Returns the summary dict (``val_f1s``, ...).

    Every argument takes effect:

    - ``loss_fn`` is used as given, its class weights included (without it,
      class weights are computed on each fold's training rows by
      ``class_weight_method``, sqrt by default, and ``loss='focal'`` selects
      the focal loss).
    - ``optimizer_class(params, **optimizer_kwargs)`` and
      ``scheduler_class(optimizer, **scheduler_kwargs)`` are built as given;
      a ``ReduceLROnPlateau`` steps on the selection rows' loss for
      ``mode='min'``, their weighted F1 for ``mode='max'``. Without a
      scheduler class, the SPEC's table: cosine annealing for the Transformer,
      ReduceLROnPlateau otherwise.
    - ``model_class`` must be this model's registered class (``GRUClassifier``
      for ``kfold_train_eval_gru``).
    - ``device_ids`` are checked against the visible GPUs; more than one
      trains under ``nn.DataParallel``.
    - Any other keyword is a run setting (``selection='outer'``, the SPEC's
      epoch choice on the scored rows; ``precision='bf16'``; ``split``,
      ``class_weight_method``, ...) or a model option (``hidden_sizes``,
      ``dropout_prob``, ``input_size`` which must match the window); anything
      else is an error.

    The default epoch choice (``selection='inner'``) differs from the SPEC on
    purpose: see the README's "Evaluation protocol".
    """
    model_name = _registered_name(model_name, model_class)
    X = dataset.tensors[0].detach().cpu().numpy().astype(np.float32)
    y = dataset.tensors[1].detach().cpu().numpy().astype(np.int64)
    if X.ndim == 3:
        window_days, steps_per_day = X.shape[1], X.shape[2]
    elif steps_per_day is None and "input_size" in params and \
            model_registry.get_model_entry(model_name).input_layout == "sequence":
        steps_per_day = int(params["input_size"])  # a sequence model's input_size is the steps of one day
    steps_per_day = steps_per_day or defaults.STEPS_PER_DAY
    X = np.ascontiguousarray(X.reshape(len(X), -1))
    window_days = window_days or X.shape[1] // steps_per_day
    if window_days * steps_per_day != X.shape[1]:
        raise ConfigError(f"{X.shape[1]} features are not window_days x steps_per_day; pass both")
    data = WindowData(window_days, steps_per_day, X, y, np.arange(len(y)))
    for key in _RUN_ONLY:
        if key in params:
            raise ConfigError(f"kfold_train_eval trains one model on one dataset; '{key}' does not apply "
                              "(use train_eval or seismag train)")
    run_settings = {k: params.pop(k) for k in list(params) if k in FIELD_NAMES}
    if params.get("output_size", 2) != 2:
        raise ConfigError(f"output_size must be 2 (seismag classifies two classes), got {params['output_size']}")
    params.pop("output_size", None)

    objects: dict[str, Any] = {}
    optimizer_kwargs = dict(optimizer_kwargs or {})
    if optimizer_class is torch.optim.AdamW and set(optimizer_kwargs) <= {"lr", "weight_decay"}:
        # The SPEC's optimizer: the run configuration's AdamW (fused where available).
        run_settings.update({setting: optimizer_kwargs[key] for key, setting in
                             (("lr", "learning_rate"), ("weight_decay", "weight_decay")) if key in optimizer_kwargs})
    else:
        objects.update(optimizer_class=optimizer_class, optimizer_kwargs=optimizer_kwargs)
    run_settings.update(_scheduler_settings(scheduler_class, dict(scheduler_kwargs or {}), epochs, objects))
    if loss_fn is not None:
        objects["loss_fn"] = loss_fn
    gpu_ids = check_gpu_ids(device_ids)
    if gpu_ids:
        device = _device_for_gpus(device, gpu_ids)
        objects["device_ids"] = tuple(gpu_ids)
    config = make_config(
        "paper", models=[model_name], windows=[window_days], steps_per_day=steps_per_day, epochs=epochs,
        num_folds=num_folds, batch_size=batch_size, seed=random_state,
        device=str(device) if device is not None else None,
        model_overrides={model_name: params}, **run_settings)
    root = Path(output_dir)
    if root.name == model_folder_name(model_name):
        root = root.parent
    device, precision = prepare_training(config)
    # A bad model option or split is refused here, before the folder is touched.
    window = PreparedWindow.from_data(config, data)
    window.model_config(model_name)
    with folder_lock(root, command="kfold_train_eval"), \
            WindowJob(window, device, precision) as job:
        return run_kfold(model_name, job, root, objects=TrainingObjects(**objects) if objects else None)


def _registered_name(model_name: str, model_class) -> str:
    """``model_name``, checked against ``model_class`` when one is given."""
    if model_class is None:
        return model_name
    name = model_registry.model_name_of_class(model_class)
    label = getattr(model_class, "__name__", repr(model_class))
    if name is None:
        raise ConfigError(f"model_class {label} is not a registered seismag model; register it with "
                          "@register_model (README: Adding a model)")
    if name != model_name:
        raise ConfigError(f"model_class {label} is the '{name}' model, not '{model_name}'; "
                          f"call kfold_train_eval_{name}")
    return name


def _scheduler_settings(scheduler_class, kwargs: dict, epochs: int, objects: dict) -> dict[str, Any]:
    """The run settings for the SPEC's two schedulers as documented; any other goes into ``objects``."""
    plateau, cosine = torch.optim.lr_scheduler.ReduceLROnPlateau, torch.optim.lr_scheduler.CosineAnnealingLR
    if scheduler_class is None:
        if kwargs:
            raise ConfigError(f"scheduler_kwargs {kwargs} given without a scheduler_class")
        return {"scheduler": "auto"}
    if scheduler_class is plateau and kwargs.get("mode", "min") == "min" and set(kwargs) <= {"mode", "patience", "factor"}:
        return {"scheduler": "plateau", **{setting: kwargs[key] for key, setting in
                                           (("patience", "plateau_patience"), ("factor", "plateau_factor"))
                                           if key in kwargs}}
    if scheduler_class is cosine and set(kwargs) <= {"T_max"} and kwargs.get("T_max", epochs) == epochs:
        return {"scheduler": "cosine"}
    objects.update(scheduler_class=scheduler_class, scheduler_kwargs=kwargs)
    return {}


def _device_for_gpus(device, gpu_ids: list[int]) -> str:
    """DataParallel keeps the model on the first of its GPUs: the device must be that one."""
    first = f"cuda:{gpu_ids[0]}"
    if device is None or str(device) in ("cuda", "auto"):
        return first
    if str(device) != first:
        raise ConfigError(f"device {device} and device_ids {gpu_ids}: DataParallel needs the model on "
                          f"{first}, the first of device_ids")
    return first


# SPEC Module 6 "Common Training Parameters" and "Time Window Configuration". main_* reads
# both when called, so the SPEC's customisation (``training_config['epochs'] = 50``,
# ``training_config['hidden_sizes'] = [256, 128]``, deleting a window from
# ``window_mapping``) takes effect. A training_config entry still at its documented value
# leaves the preset alone (main_gru(preset='quick') stays quick); a changed one overrides it.
SPEC_TRAINING_CONFIG = {"batch_size": 32, "learning_rate": 0.001, "weight_decay": 0.01, "max_grad_norm": 1.0,
                        "epochs": 100, "num_folds": 5}
training_config: dict[str, Any] = dict(SPEC_TRAINING_CONFIG)
window_mapping: dict[str, dict[str, Any]] = {
    window_dir_name(days): {"name": window_name(days), "seq_length": days} for days in defaults.WINDOWS}


def train_eval(model_name: str, data_dir: str = "data", output_dir: str = "results",
               windows=defaults.WINDOWS, preset: str = "paper", resume: bool = False, **settings: Any):
    """Every window for one model (SPEC "Full Training Function"): ``{days: summary}``."""
    config = make_config(preset, models=[model_name], windows=list(windows), **settings)
    return run_experiment(config, data_dir, output_dir, resume=resume)[model_name]


def spec_settings(model_name: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run settings from a SPEC ``training_config`` dict: the entries changed from the documented
    defaults; keys that are model options (``hidden_sizes``, ``dropout_prob``, ``num_layers``...)
    become overrides of ``model_name``. Anything else is an error."""
    config = training_config if config is None else config
    entry = model_registry.get_model_entry(model_name)
    options = set(entry.config_cls.field_names())
    settings: dict[str, Any] = {}
    model_options: dict[str, Any] = {}
    for key, value in config.items():
        if key in SPEC_TRAINING_CONFIG and SPEC_TRAINING_CONFIG[key] == value:
            continue
        if key in FIELD_NAMES and key not in _RUN_ONLY:
            settings[key] = value
        elif key in options:
            model_options[key] = value
        else:
            raise ConfigError(f"training_config['{key}'] is neither a run setting nor a {model_name} option")
    if model_options:
        settings["model_overrides"] = {model_name: model_options}
    return settings


def spec_windows(model_name: str, mapping: dict[str, dict[str, Any]] | None = None,
                 steps_per_day: int = defaults.STEPS_PER_DAY) -> list[int]:
    """Window lengths from a SPEC ``window_mapping`` (``{"window-7": {"name": "7day", "seq_length": 7}}``;
    the MLP's variant gives ``"features": 10080``), each entry checked against its key."""
    mapping = window_mapping if mapping is None else mapping
    windows = []
    for key, spec in mapping.items():
        number = key.removeprefix(WINDOW_DIR_PREFIX)
        days = int(number) if number.isdigit() else None
        if days is None or not isinstance(spec, dict):
            raise ConfigError(f"window_mapping['{key}']: keys are 'window-N' with a dict of name and "
                              "seq_length (or features)")
        implied = {"name": window_name(days), "seq_length": days, "features": days * steps_per_day}
        for field, value in spec.items():
            if field not in implied:
                raise ConfigError(f"window_mapping['{key}']: unknown entry '{field}' (name, seq_length, features)")
            if value != implied[field]:
                raise ConfigError(f"window_mapping['{key}']['{field}'] is {value!r}; a {days}-day window of "
                                  f"{steps_per_day} steps a day has {implied[field]!r}")
        windows.append(days)
    if not windows:
        raise ConfigError("window_mapping is empty: no window to train")
    return windows


def _refuse_shadowed_dicts(check_config: bool, check_mapping: bool) -> None:
    """The SPEC's notebooks define ``training_config`` in the notebook itself. Copied into a
    notebook that imports seismag, that makes a second dict main_* would not see: refuse it
    (one line saying what to do) instead of training without the user's changes."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    if frame is None:
        return
    for name, own, check in (("training_config", training_config, check_config),
                             ("window_mapping", window_mapping, check_mapping)):
        theirs = frame.f_globals.get(name)
        if check and isinstance(theirs, dict) and theirs is not own and theirs != own:
            raise ConfigError(f"your code defines its own {name} dict, which main_* does not read; pass it "
                              f"(main_gru({name}={name})) or change seismag.spec.compat.{name} in place")


def main_model(model_name: str, optimize: bool = False, base_path: str = ".", data_dir: str | None = None,
               output_dir: str | None = None, training_config: dict[str, Any] | None = None,
               window_mapping: dict[str, dict[str, Any]] | None = None, **settings: Any):
    """SPEC Module 6 orchestration for one model: logging, every window, ensembles, summary table.

    Reads ``training_config`` and ``window_mapping`` (the SPEC's documented
    dicts; by default this module's, which the SPEC's examples change in
    place) when called; keyword ``settings`` override both. A notebook that
    defines dicts of its own under those names must pass them: they are
    refused rather than silently ignored.
    ``optimize=True`` first runs a hyperparameter search (``seismag tune``; needs
    ``pip install 'seismag[tune]'``) per window, then trains with the best parameters.
    """
    if training_config is None or window_mapping is None:
        _refuse_shadowed_dicts(training_config is None, window_mapping is None)
    setup_logging()
    data_dir = data_dir or str(Path(base_path) / "data")
    output_dir = output_dir or str(Path(base_path) / "results")
    spec = spec_settings(model_name, training_config)
    if "model_overrides" in spec and "model_overrides" in settings:
        merged = {k: dict(v) for k, v in spec.pop("model_overrides").items()}
        for model, params in settings.pop("model_overrides").items():
            merged.setdefault(model, {}).update(params)
        settings["model_overrides"] = merged
    settings = {**spec, **settings}
    steps_per_day = settings.get("steps_per_day") or defaults.STEPS_PER_DAY
    settings.setdefault("windows", spec_windows(model_name, window_mapping, steps_per_day=steps_per_day))
    if not optimize:
        results = train_eval(model_name, data_dir, output_dir, **settings)
    else:
        # Tune each window on an inner split of outer fold 1's training rows, then run
        # the k-fold protocol with the best parameters (see seismag.tune for which folds stay clean).
        from seismag.tune import tuned_config

        tune_keys = {k: settings.pop(k) for k in list(settings) if k in ("trials", "timeout", "storage")}
        windows = settings.pop("windows")
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
        raise ConfigError(f"no complete folds for {paths.prefix} in {paths.folder}")
    metrics, members, scalers = (list(x) for x in zip(*folds))
    checkpoint = model_registry.load_model_checkpoint(paths.fold_file(1, ""))[1]
    extra = checkpoint["extra"]
    config = make_config("paper", **extra["run_config"])
    with folder_lock(Path(results_dir), command="perform_model_ensemble"):
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
