"""The one k-fold driver: splits, per-fold training, artifacts, the F1-weighted
ensemble and the summary, for any registered model on one window."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any, Callable

import numpy as np
import torch

from seismag import __version__
from seismag import models as model_registry
from seismag.config import RunConfig
from seismag.errors import ConfigError
from seismag.training.artifacts import (ArtifactPaths, read_fold_metrics, read_summary, unit_paths, write_fold,
                                        write_summary)
from seismag.io import write_json
from seismag.training.fold import FoldResult, TrainingObjects, train_fold
from seismag.training.tensors import Scaler, WindowTensors
from seismag.scores import PROPER_SCORE_KEYS
from seismag.training.evaluation import (calibration_summary, fold_proper_scores, interval_record, majority_baseline,
                                         permutation_rngs, permutation_summary, permuted_labels)
from seismag.training.job import WindowJob
from seismag.training.splits import LEAKAGE_NOTES, FoldRows

logger = logging.getLogger("seismag")

ENSEMBLE_STRATEGY = "weighted_mean"

SELECTION_NOTES = {
    "outer": ("each fold's epoch was chosen by its validation F1, the same rows it is scored on "
              "(the SPEC's protocol): the reported scores are the best of many looks and are optimistic"),
    "inner": ("each fold's epoch was chosen on an inner split ({share:.0%} of its training rows); "
              "the validation rows it is scored on never chose anything"),
}


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


@dataclass(frozen=True)
class FoldTask:
    """One fold to train: everything a worker process needs besides the window's tensors.

    A real fold writes its artifacts under ``paths``; a permutation-control fold
    trains on ``labels`` (training labels permuted) and only returns its metrics.
    """

    model_name: str
    model_config: Any
    rows: FoldRows
    config: RunConfig
    fold: int
    num_folds: int
    seed: int
    device: torch.device
    precision: str
    objects: TrainingObjects | None = None
    paths: ArtifactPaths | None = None
    protocol: dict[str, Any] | None = None
    labels: np.ndarray | None = None
    #: How raw data become this model's input (channels, recipe, ...): in every checkpoint.
    inputs: dict[str, Any] | None = None

    def train(self, tensors: WindowTensors, on_epoch: Callable | None = None) -> FoldResult:
        if self.labels is not None:
            tensors = WindowTensors(tensors.features, torch.as_tensor(self.labels, device=tensors.labels.device),
                                    tensors.window_days, tensors.steps_per_day)
        return train_fold(self.model_name, self.model_config, tensors, self.rows, self.config, fold=self.fold,
                          seed=self.seed, device=self.device, precision=self.precision, on_epoch=on_epoch,
                          objects=self.objects)


def run_kfold(model_name: str, job: WindowJob, out_dir, *, resume: bool = False,
              progress: Callable | None = None, objects: TrainingObjects | None = None) -> dict[str, Any]:
    """Cross-validate ``model_name`` on the job's window and write every artifact under ``out_dir``.

    Returns the summary dict written to ``{Model}Model_{N}day_summary.json``.
    ``progress(fold, num_folds)`` may return a per-epoch callback (the CLI's bar).
    ``objects``: a loss, optimizer, scheduler or GPUs to use instead of the
    configuration's (the SPEC's ``kfold_train_eval``); recorded in the protocol.
    """
    config, data, splits, prepared = job.config, job.data, job.splits, job.prepared
    entry = model_registry.get_model_entry(model_name)
    tensors, runner, inputs = job.inputs(model_name)
    model_config = prepared.model_config(model_name)
    paths = unit_paths(out_dir, model_name, data.window_days)
    if resume and paths.complete(len(splits), permutation=bool(config.permutation_control)):
        # Finished (and, from the pipeline, inspected): kept as written, nothing rewritten.
        logger.info("%s %dday: every fold and the ensemble complete on disk, kept (--resume)",
                    entry.display_name, data.window_days)
        return read_summary(paths)
    protocol = protocol_record(config)
    protocol["training_period"] = data.training_period(config.train_until)
    # Which events made a window class 1 (dataset.json's labels; None: unknown): scan
    # copies them beside scores.csv, and skill judges by the same targets.
    labels = data.dataset.labels if data.dataset is not None else None
    protocol["labels"] = None if labels is None else dict(labels)
    if objects is not None and objects.describe():
        protocol["training_objects"] = objects.describe()
        _check_sendable(objects, config)

    tasks = []
    for fold in range(1, len(splits) + 1):
        if resume and paths.fold_complete(fold):
            logger.info("%s %dday fold %d/%d: complete on disk, skipped (--resume)",
                        entry.display_name, data.window_days, fold, len(splits))
            continue
        seed = prepared.fold_seed(model_name, fold)
        tasks.append(FoldTask(model_name, model_config, prepared.fold_rows(fold, seed), config, fold, len(splits),
                              seed, job.device, job.precision, objects, paths=paths, protocol=protocol,
                              inputs=inputs))

    def epoch_bar(task: FoldTask) -> dict[str, Any]:
        return {"on_epoch": progress(task.fold, len(splits)) if progress else None}

    for index, metrics in runner.run(train_and_write_fold, tasks, local_extra=epoch_bar):
        logger.info("%s %dday fold %d/%d: val F1 %.4f  MCC %.4f  AUC %s  (best epoch %d of %d)",
                    entry.display_name, data.window_days, tasks[index].fold, len(splits), metrics["f1"],
                    metrics["mcc"], _fmt(metrics["roc_auc"]), metrics["best_epoch"], metrics["epochs_run"])
    # Every fold's model comes back from its files: one path whether it was trained
    # here, in a worker process, or by an earlier run (--resume).
    fold_metrics, members, scalers = [], [], []
    for fold in range(1, len(splits) + 1):
        metrics, member, scaler = load_fold(paths, fold, job.device)
        fold_metrics.append(metrics)
        members.append(member.eval())
        scalers.append(scaler)

    fold_probs, fold_labels = out_of_fold(paths, len(splits))
    labels, probs = np.concatenate(fold_labels), np.concatenate(fold_probs)
    honesty = {"intervals": interval_record(fold_metrics, labels, probs, seed=config.seed),
               "baselines": {"majority": majority_baseline(labels), "chance_auc": 0.5}}
    if config.permutation_control:
        scored = [{**m, **fold_proper_scores(y, p)} for m, y, p in zip(fold_metrics, fold_labels, fold_probs)]
        honesty["permutation"] = permutation_control(model_name, model_config, job, scored, objects)
        write_json(paths.permutation, honesty["permutation"])
    return write_ensemble(paths, model_name, members, scalers, fold_metrics, protocol, plain(model_config),
                          data.window_days, tensors.steps_per_day, extra=honesty, inputs=inputs,
                          validation=(fold_probs, fold_labels))


def train_and_write_fold(tensors: WindowTensors, task: FoldTask, on_epoch: Callable | None = None) -> dict[str, Any]:
    """Train one fold and write its artifacts; returns its metrics (runs in a worker too)."""
    result: FoldResult = task.train(tensors, on_epoch)
    config, paths = task.config, task.paths
    extra = {"fold": task.fold, "seed": task.seed, "window_days": tensors.window_days,
             "steps_per_day": tensors.steps_per_day, "scaler": result.scaler.to_dict(),
             "run_config": config.to_dict(), "protocol": task.protocol, "inputs": task.inputs}
    header = [f"{paths.display_name}Model {tensors.window_days}day fold {task.fold}/{task.num_folds}",
              f"seed={task.seed} n_train={len(task.rows.train)} n_val={len(task.rows.val)} best_epoch={result.best_epoch}",
              f"split={config.split} scaling={config.scaling} selection={config.selection}"]
    write_fold(paths, result, extra, header)
    return result.metrics


def train_fold_metrics(tensors: WindowTensors, task: FoldTask) -> dict[str, Any]:
    """Train one permutation-control fold; returns its metrics and proper scores (runs in a worker too)."""
    result = task.train(tensors)
    return {**result.metrics, **fold_proper_scores(result.val_labels, result.val_probs)}


def permutation_control(model_name: str, model_config: Any, job: WindowJob, fold_metrics: list[dict[str, Any]],
                        objects: TrainingObjects | None = None) -> dict[str, Any]:
    """Repeat the cross-validation with training labels permuted (validation labels real).

    Returns the real CV mean F1 and AUC beside their permutation distributions,
    p-values and a verdict (see :func:`~seismag.training.evaluation.permutation_summary`).
    Every permuted fold is one task for the job's runner (parallel with ``fold_workers``).
    """
    config, splits, prepared = job.config, job.splits, job.prepared
    _, runner, _ = job.inputs(model_name)
    real_labels = job.tensors.labels.cpu().numpy()
    n, k = config.permutation_control, len(splits)
    tasks = []
    for index, rng in enumerate(permutation_rngs(n, config.seed), start=1):
        for fold, (train_rows, _) in enumerate(splits, start=1):
            labels = permuted_labels(real_labels, train_rows, rng, job.groups)
            seed = prepared.fold_seed(model_name, fold, "permutation", index)
            tasks.append(FoldTask(model_name, model_config, prepared.fold_rows(fold, seed, labels), config, fold,
                                  k, seed, job.device, job.precision, objects, labels=labels))
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
    for metric in ("f1", "roc_auc", "mcc", *PROPER_SCORE_KEYS):
        values = [m[metric] for m in fold_metrics if m.get(metric) is not None]
        out[metric] = float(np.mean(values)) if values else None
    return out


def write_ensemble(paths: ArtifactPaths, model_name: str, members: list, scalers: list[Scaler],
                   fold_metrics: list[dict[str, Any]], protocol: dict[str, Any], model_params: dict[str, Any],
                   window_days: int, steps_per_day: int, strategy: str = ENSEMBLE_STRATEGY,
                   extra: dict[str, Any] | None = None, inputs: dict[str, Any] | None = None,
                   validation: tuple[list[np.ndarray], list[np.ndarray]] | None = None) -> dict[str, Any]:
    """Combine the fold models by validation F1, save the ensemble, its config and the summary.

    ``validation``: the folds' validation P(class 1) and labels (:func:`out_of_fold`) where the
    caller has them already; read from the fold files otherwise.
    """
    f1s = [m["f1"] for m in fold_metrics]
    weights = f1s if sum(f1s) > 0 else [1.0] * len(f1s)  # all-zero F1: equal weights
    ensemble = model_registry.F1WeightedEnsemble(members, weights, strategy=strategy)
    # The calibrator is fitted on the folds' out-of-fold rows and travels in the ensemble's
    # metadata (plain numbers, under its checksum); the summary gets its cross-fitted scores.
    calibration = calibration_summary(*(validation or out_of_fold(paths, len(members))))
    extra = {**(extra or {}), "calibration": calibration}
    calibrator = calibration["calibrator"]
    ensemble.save(paths.ensemble, extra={
        "scalers": [s.to_dict() for s in scalers], "window_days": window_days,
        "steps_per_day": steps_per_day, "model": model_name, "protocol": protocol,
        "seismag_version": __version__, "inputs": inputs,
        "calibration": calibrator})  # training_period and labels: in the protocol
    return write_summary(paths, model_name, fold_metrics, protocol, model_params,
                         [float(w) for w in np.asarray(ensemble.weights, dtype=float)], ensemble.strategy, extra)


def out_of_fold(paths: ArtifactPaths, num_folds: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Every fold's validation P(class 1) and labels from its files, in fold order."""
    folds = range(1, num_folds + 1)
    return ([np.load(paths.fold_file(k, "test_probs")) for k in folds],
            [np.load(paths.fold_file(k, "test_labels")) for k in folds])


def load_fold(paths: ArtifactPaths, fold: int, device: torch.device | str = "cpu"):
    """A finished fold from disk: (metrics, model, scaler)."""
    metrics = read_fold_metrics(paths, fold)
    member, checkpoint = model_registry.load_model_checkpoint(paths.fold_file(fold, ""), device=device)
    return metrics, member, Scaler.from_dict(checkpoint["extra"]["scaler"], device)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"
