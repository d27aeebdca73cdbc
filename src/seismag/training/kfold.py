"""The one k-fold driver: splits, per-fold training, artifacts, the F1-weighted
ensemble and the summary, for any registered model on one window."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import asdict, is_dataclass
from typing import Any, Callable

import numpy as np
import torch

from .. import __version__
from .. import models as model_registry
from ..config import RunConfig
from ..data.loading import WindowData
from ..errors import ConfigError
from .artifacts import ArtifactPaths, read_fold_metrics, write_fold, write_summary
from ..io import write_json
from .fold import FoldResult, TrainingObjects, train_fold
from .tensors import Scaler, WindowTensors
from ..runtime import derive_seed
from .evaluation import (interval_record, majority_baseline, permutation_rngs, permutation_summary,
                         permuted_labels)
from .parallel import FoldRunner
from .splits import LEAKAGE_NOTES, group_kfold, stratified_kfold, time_kfold

logger = logging.getLogger("seismag")

ENSEMBLE_STRATEGY = "weighted_mean"

SELECTION_NOTES = {
    "outer": ("each fold's epoch was chosen by its validation F1, the same rows it is scored on "
              "(the SPEC's protocol): the reported scores are the best of many looks and are optimistic"),
    "inner": ("each fold's epoch was chosen on an inner split ({share:.0%} of its training rows); "
              "the validation rows it is scored on never chose anything"),
}


def make_splits(config: RunConfig, data: WindowData) -> list[tuple[np.ndarray, np.ndarray]]:
    """The folds the configuration asks for (same seed, same folds for every model)."""
    if config.split == "stratified":
        return stratified_kfold(data.labels, config.num_folds, config.seed)
    if config.split == "group":
        return group_kfold(data.labels, data.meta_column(config.group_by), config.num_folds, config.seed)
    if config.split == "time":
        return time_kfold(data.meta_column(config.time_column), data.labels, config.num_folds,
                          config.embargo_days, window_days=data.window_days, source=data.meta_path)
    raise ConfigError(f"unknown split '{config.split}'")


def resolved_model_config(config: RunConfig, model_name: str, window_days: int, steps_per_day: int):
    """The model's config for a window: its paper preset with the run's overrides that apply to it."""
    fields = {f.name for f in dataclasses.fields(model_registry.get_model_entry(model_name).config_cls)}
    return model_registry.model_config(model_name, window_days, steps_per_day,
                                       **config.overrides_for(model_name, fields))


def split_groups(config: RunConfig, data: WindowData) -> np.ndarray | None:
    """The groups a grouped split keeps together (also inside inner splits), else None."""
    return data.meta_column(config.group_by) if config.split == "group" else None


def protocol_record(config: RunConfig) -> dict[str, Any]:
    """What produced the numbers: written beside every score."""
    note = LEAKAGE_NOTES[config.split].format(group_by=config.group_by, embargo_days=config.embargo_days)
    return {"split": config.split, "num_folds": config.num_folds, "scaling": config.scaling,
            "selection": config.selection,
            "selection_note": SELECTION_NOTES[config.selection].format(share=config.inner_fraction),
            "group_by": config.group_by if config.split == "group" else None,
            "embargo_days": config.embargo_days if config.split == "time" else None,
            "leakage_note": note, "seed": config.seed}


def plain(value: Any) -> Any:
    """A model config as plain JSON-able data."""
    if is_dataclass(value):
        value = asdict(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def run_kfold(model_name: str, data: WindowData, config: RunConfig, out_dir, *, device: torch.device,
              precision: str = "fp32", resume: bool = False, tensors: WindowTensors | None = None,
              splits: list | None = None, progress: Callable | None = None,
              objects: TrainingObjects | None = None) -> dict[str, Any]:
    """Cross-validate ``model_name`` on ``data`` and write every artifact under ``out_dir``.

    Returns the summary dict written to ``{Model}Model_{N}day_summary.json``.
    ``progress(fold, num_folds)`` may return a per-epoch callback (the CLI's bar).
    ``objects``: a loss, optimizer, scheduler or GPUs to use instead of the
    configuration's (the SPEC's ``kfold_train_eval``); recorded in the protocol.
    """
    entry = model_registry.get_model_entry(model_name)
    model_config = resolved_model_config(config, model_name, data.window_days, data.steps_per_day)
    paths = ArtifactPaths(out_dir, model_name, entry.display_name, data.window_days)
    tensors = tensors or WindowTensors.from_window(data, device)
    splits = splits if splits is not None else make_splits(config, data)
    protocol = protocol_record(config)
    if objects is not None and objects.describe():
        protocol["training_objects"] = objects.describe()
        _check_sendable(objects, config)

    groups = split_groups(config, data)
    tasks = []
    for fold, (train_rows, val_rows) in enumerate(splits, start=1):
        if resume and paths.fold_complete(fold):
            logger.info("%s %dday fold %d/%d: complete on disk, skipped (--resume)",
                        entry.display_name, data.window_days, fold, len(splits))
            continue
        tasks.append(dict(model_name=model_name, model_config=model_config, train_rows=train_rows,
                          val_rows=val_rows, config=config, fold=fold, num_folds=len(splits),
                          seed=derive_seed(config.seed, model_name, data.window_days, fold),
                          device=device, precision=precision, groups=groups, paths=paths, protocol=protocol,
                          objects=objects))

    def epoch_bar(task: dict[str, Any]) -> dict[str, Any]:
        return {"on_epoch": progress(task["fold"], len(splits)) if progress else None}

    with FoldRunner(tensors, config, device) as runner:
        for index, metrics in runner.run(train_and_write_fold, tasks, local_extra=epoch_bar):
            logger.info("%s %dday fold %d/%d: val F1 %.4f  MCC %.4f  AUC %s  (best epoch %d of %d)",
                        entry.display_name, data.window_days, tasks[index]["fold"], len(splits), metrics["f1"],
                        metrics["mcc"], _fmt(metrics["roc_auc"]), metrics["best_epoch"], metrics["epochs_run"])
        # Every fold's model comes back from its files: one path whether it was trained
        # here, in a worker process, or by an earlier run (--resume).
        fold_metrics, members, scalers = [], [], []
        for fold in range(1, len(splits) + 1):
            metrics, member, scaler = load_fold(paths, fold, device)
            fold_metrics.append(metrics)
            members.append(member.eval())
            scalers.append(scaler)

        labels = np.concatenate([np.load(paths.fold_file(k, "test_labels")) for k in range(1, len(splits) + 1)])
        probs = np.concatenate([np.load(paths.fold_file(k, "test_probs")) for k in range(1, len(splits) + 1)])
        honesty = {"intervals": interval_record(fold_metrics, labels, probs, seed=config.seed),
                   "baselines": {"majority": majority_baseline(labels), "chance_auc": 0.5}}
        if config.permutation_control:
            honesty["permutation"] = permutation_control(model_name, model_config, tensors, splits, config,
                                                         fold_metrics, runner, device=device, precision=precision,
                                                         groups=groups, objects=objects)
            write_json(paths.permutation, honesty["permutation"])
    return write_ensemble(paths, model_name, members, scalers, fold_metrics, protocol, plain(model_config),
                          data.window_days, data.steps_per_day, extra=honesty)


def train_and_write_fold(tensors: WindowTensors, *, model_name: str, model_config: Any, train_rows: np.ndarray,
                         val_rows: np.ndarray, config: RunConfig, fold: int, num_folds: int, seed: int,
                         device: torch.device, precision: str, groups: np.ndarray | None, paths: ArtifactPaths,
                         protocol: dict[str, Any], on_epoch: Callable | None = None,
                         objects: TrainingObjects | None = None) -> dict[str, Any]:
    """Train one fold and write its artifacts; returns its metrics (runs in a worker too)."""
    result: FoldResult = train_fold(
        model_name, model_config, tensors, train_rows, val_rows, config, fold=fold, seed=seed,
        device=device, precision=precision, on_epoch=on_epoch, groups=groups, objects=objects)
    extra = {"fold": fold, "seed": seed, "window_days": tensors.window_days,
             "steps_per_day": tensors.steps_per_day, "scaler": result.scaler.to_dict(),
             "run_config": config.to_dict(), "protocol": protocol}
    header = [f"{paths.display_name}Model {tensors.window_days}day fold {fold}/{num_folds}",
              f"seed={seed} n_train={len(train_rows)} n_val={len(val_rows)} best_epoch={result.best_epoch}",
              f"split={config.split} scaling={config.scaling} selection={config.selection}"]
    write_fold(paths, result, extra, header)
    return result.metrics


def train_fold_metrics(tensors: WindowTensors, *, labels: np.ndarray, model_name: str, model_config: Any,
                       train_rows: np.ndarray, val_rows: np.ndarray, config: RunConfig,
                       **fold_args: Any) -> dict[str, Any]:
    """Train one fold on ``labels`` in place of the window's own; returns its metrics (runs in a worker too)."""
    relabelled = WindowTensors(tensors.features, torch.as_tensor(labels, device=tensors.labels.device),
                               tensors.window_days, tensors.steps_per_day)
    return train_fold(model_name, model_config, relabelled, train_rows, val_rows, config, **fold_args).metrics


def permutation_control(model_name: str, model_config: Any, tensors: WindowTensors, splits: list,
                        config: RunConfig, fold_metrics: list[dict[str, Any]], runner: FoldRunner, *,
                        device: torch.device, precision: str, groups: np.ndarray | None,
                        objects: TrainingObjects | None = None) -> dict[str, Any]:
    """Repeat the cross-validation with training labels permuted (validation labels real).

    Returns the real CV mean F1 and AUC beside their permutation distributions,
    p-values and a verdict (see :func:`~seismag.training.evaluation.permutation_summary`).
    Every permuted fold is one task for ``runner`` (parallel with ``fold_workers``).
    """
    real_labels = tensors.labels.cpu().numpy()
    n, k = config.permutation_control, len(splits)
    tasks = []
    for index, rng in enumerate(permutation_rngs(n, config.seed), start=1):
        for fold, (train_rows, val_rows) in enumerate(splits, start=1):
            tasks.append(dict(
                labels=permuted_labels(real_labels, train_rows, rng, groups), model_name=model_name,
                model_config=model_config, train_rows=train_rows, val_rows=val_rows, config=config, fold=fold,
                seed=derive_seed(config.seed, model_name, tensors.window_days, fold, "permutation", index),
                device=device, precision=precision, groups=groups, objects=objects))
    scores: list[dict[str, Any] | None] = [None] * len(tasks)
    for index, metrics in runner.run(train_fold_metrics, tasks):
        scores[index] = metrics
        permutation = index // k
        done = scores[permutation * k:(permutation + 1) * k]
        if all(done):
            means = _fold_means(done)
            logger.info("permutation %d/%d: F1 %.4f  AUC %s", permutation + 1, n, means["f1"], _fmt(means["roc_auc"]))
    null = [_fold_means(scores[i * k:(i + 1) * k]) for i in range(n)]
    return permutation_summary(_fold_means(fold_metrics), null)


def _check_sendable(objects: TrainingObjects, config: RunConfig) -> None:
    """Fold workers receive their tasks pickled: refuse objects that cannot travel, in one line."""
    if int(config.fold_workers) <= 1:
        return
    import pickle

    try:
        pickle.dumps(objects)
    except Exception as exc:  # pickling raises many types (PicklingError, AttributeError, TypeError)
        raise ConfigError(f"the loss/optimizer/scheduler objects cannot be sent to fold workers ({exc}); "
                          "define them in an importable module or use fold_workers 1") from None


def _fold_means(fold_metrics: list[dict[str, Any]]) -> dict[str, float | None]:
    out = {}
    for metric in ("f1", "roc_auc", "mcc"):
        values = [m[metric] for m in fold_metrics if m.get(metric) is not None]
        out[metric] = float(np.mean(values)) if values else None
    return out


def write_ensemble(paths: ArtifactPaths, model_name: str, members: list, scalers: list[Scaler],
                   fold_metrics: list[dict[str, Any]], protocol: dict[str, Any], model_params: dict[str, Any],
                   window_days: int, steps_per_day: int, strategy: str = ENSEMBLE_STRATEGY,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Combine the fold models by validation F1, save the ensemble, its config and the summary."""
    f1s = [m["f1"] for m in fold_metrics]
    weights = f1s if sum(f1s) > 0 else [1.0] * len(f1s)  # all-zero F1: equal weights
    ensemble = model_registry.F1WeightedEnsemble(members, weights, strategy=strategy)
    ensemble.save(paths.ensemble, extra={
        "scalers": [s.to_dict() for s in scalers], "window_days": window_days,
        "steps_per_day": steps_per_day, "model": model_name, "protocol": protocol,
        "seismag_version": __version__})
    return write_summary(paths, model_name, fold_metrics, protocol, model_params,
                         [float(w) for w in np.asarray(ensemble.weights, dtype=float)], ensemble.strategy, extra)


def load_fold(paths: ArtifactPaths, fold: int, device: torch.device | str = "cpu"):
    """A finished fold from disk: (metrics, model, scaler)."""
    metrics = read_fold_metrics(paths, fold)
    member, checkpoint = model_registry.load_model_checkpoint(paths.fold_file(fold, ""), device=device)
    return metrics, member, Scaler.from_dict(checkpoint["extra"]["scaler"], device)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"
