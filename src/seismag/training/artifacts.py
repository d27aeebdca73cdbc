"""The one artifact writer: writes ``results/`` as ``seismag.layout`` names it and
``docs/artifacts.md`` (and the SPEC's Module 5/6 output layout) describe.

Every file is written atomically, so a killed run leaves only complete files,
and a fold counts as done (for ``--resume``) only when all of its files exist.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from seismag.errors import DataError
from seismag.io import write_json, write_npy, write_text
from seismag.layout.results import (  # noqa: F401  (ArtifactPaths, LOG_KEYS, ... re-exported: callers import them here)
    FOLD_ARRAYS,
    LOG_KEYS,
    METRIC_KEYS,
    ArtifactPaths,
    ensemble_config_record,
    feature_importance_text,
    fold_mean_std,
    format_epoch_line,
    parse_epoch_log,
    summary_lists,
    summary_record,
)
from seismag import models as model_registry
from seismag.models import save_model_checkpoint


def write_fold(paths: ArtifactPaths, result, extra: dict[str, Any], header: list[str]) -> None:
    """Write one fold's arrays, metrics and log, then its checkpoint last.

    The checkpoint goes last: its presence (with the other files) marks the fold complete.
    It records the SHA-256 of every other file of the fold (``extra['fold_files']``, under
    the checkpoint's own checksum), so ``--resume`` knows each kept file is the one written.
    """
    fold = result.fold
    write_npy(paths.fold_file(fold, "train_probs"), result.train_probs.astype(np.float32))
    write_npy(paths.fold_file(fold, "test_probs"), result.val_probs.astype(np.float32))
    write_npy(paths.fold_file(fold, "train_labels"), result.train_labels.astype(np.int64))
    write_npy(paths.fold_file(fold, "test_labels"), result.val_labels.astype(np.int64))
    write_npy(paths.fold_file(fold, "test_indices"), result.val_rows.astype(np.int64))
    write_json(paths.fold_file(fold, "metrics"), result.metrics)
    lines = [f"# {h}" for h in header] + [format_epoch_line(r) for r in result.history]
    write_text(paths.fold_file(fold, "logs"), "\n".join(lines) + "\n")
    if "feature_importance" in paths.model_fold_kinds:
        write_text(paths.fold_file(fold, "feature_importance"), feature_importance_text(result.extra["feature_importance"]))
    digests = {kind: file_sha256(paths.fold_file(fold, kind)) for kind in recorded_kinds(paths)}
    save_model_checkpoint(result.model, paths.fold_file(fold, ""), epoch=result.best_epoch,
                          metrics=result.metrics, extra={**extra, FOLD_FILES_KEY: digests})


#: The checkpoint's ``extra`` key holding the SHA-256 of each of its fold's other files.
FOLD_FILES_KEY = "fold_files"


def recorded_kinds(paths: ArtifactPaths) -> tuple[str, ...]:
    """The fold files whose digests the checkpoint records: every file of the fold but itself."""
    return tuple(kind for kind in paths.fold_kinds if kind != "checkpoint")


def unit_paths(out_dir, model: str, window_days: int) -> ArtifactPaths:
    """Where ``model``'s files of a window live in ``out_dir``, with the fold files its
    registry entry says it writes (a boosted head's feature importances)."""
    entry = model_registry.get_model_entry(model)
    return ArtifactPaths(out_dir, entry.name, entry.display_name, window_days,
                         ("feature_importance",) if entry.importances else ())


def file_sha256(path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_fold_metrics(paths: ArtifactPaths, fold: int) -> dict[str, Any]:
    path = paths.fold_file(fold, "metrics")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(path, f"cannot be read ({exc}); delete the fold's files to retrain it") from None


def read_summary(paths: ArtifactPaths) -> dict[str, Any]:
    """A model's ``_summary.json`` as written (a finished model kept by ``--resume``)."""
    try:
        summary = json.loads(paths.summary.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(paths.summary, f"cannot be read ({exc})") from None
    if not isinstance(summary, dict):
        raise DataError(paths.summary, "is not a model summary (not a JSON object)")
    return summary


def summarise(fold_metrics: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, float], dict[str, float]]:
    """Per-fold lists (SPEC names such as ``val_f1s``), and mean / std over folds (ddof=0)."""
    mean, std = fold_mean_std(fold_metrics)
    return summary_lists(fold_metrics), mean, std


def write_summary(paths: ArtifactPaths, model: str, fold_metrics: list[dict[str, Any]],
                  protocol: dict[str, Any], model_params: dict[str, Any],
                  ensemble_weights: list[float], strategy: str,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``_summary.json`` (plus ``extra`` keys) and ``_ensemble_config.json``; return the summary."""
    _, mean, std = summarise(fold_metrics)
    identity = (model, paths.display_name, paths.window_days)
    summary = summary_record(*identity, fold_metrics=fold_metrics, mean=mean, std=std, protocol=protocol,
                             extra=extra)
    write_json(paths.summary, summary)
    write_json(paths.ensemble_config, ensemble_config_record(
        *identity, fold_metrics=fold_metrics, mean=mean, std=std, protocol=protocol,
        ensemble_weights=ensemble_weights, strategy=strategy, model_params=model_params))
    return summary
