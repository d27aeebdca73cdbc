"""The one artifact writer: file names and contents of ``results/`` exactly as
``docs/artifacts.md`` (and the SPEC's Module 5/6 output layout) describe.

Every file is written atomically, so a killed run leaves only complete files,
and a fold counts as done (for ``--resume``) only when all of its files exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError
from ..models import save_model_checkpoint
from ..io import write_json, write_npy, write_text

LOG_KEYS = ("epoch", "train_loss", "train_acc", "train_f1", "val_loss", "val_acc", "val_f1", "lr")
FOLD_ARRAYS = ("train_probs", "test_probs", "train_labels", "test_labels", "test_indices")


@dataclass(frozen=True)
class ArtifactPaths:
    """Where one model x window's artifacts live: ``root/{model}_models/{Display}Model_{N}day_*``."""

    root: Path
    model: str
    display_name: str
    window_days: int

    @property
    def folder(self) -> Path:
        return Path(self.root) / f"{self.model}_models"

    @property
    def prefix(self) -> str:
        return f"{self.display_name}Model_{self.window_days}day"

    def fold_file(self, fold: int, suffix: str) -> Path:
        """``suffix`` '' -> the checkpoint; otherwise e.g. 'train_probs' -> .npy, 'logs' -> .txt."""
        if suffix == "":
            return self.folder / f"{self.prefix}_fold_{fold}.pth"
        ext = {"logs": ".txt", "metrics": ".json"}.get(suffix, ".npy")
        return self.folder / f"{self.prefix}_fold_{fold}_{suffix}{ext}"

    def fold_files(self, fold: int) -> list[Path]:
        return [self.fold_file(fold, s) for s in ("", *FOLD_ARRAYS, "metrics", "logs")]

    def fold_complete(self, fold: int) -> bool:
        return all(p.is_file() for p in self.fold_files(fold))

    @property
    def summary(self) -> Path:
        return self.folder / f"{self.prefix}_summary.json"

    @property
    def permutation(self) -> Path:
        return self.folder / f"{self.prefix}_permutation.json"

    @property
    def ensemble(self) -> Path:
        return self.folder / f"{self.prefix}_ensemble.pth"

    @property
    def ensemble_config(self) -> Path:
        return self.folder / f"{self.prefix}_ensemble_config.json"


def format_epoch_line(record: dict[str, float]) -> str:
    parts = [f"epoch={int(record['epoch'])}"]
    parts += [f"{key}={record[key]:.6f}" for key in LOG_KEYS[1:]]
    parts += [f"{key}={value:.6f}" for key, value in record.items() if key not in LOG_KEYS]
    return " ".join(parts)


def parse_epoch_log(path: Path) -> list[dict[str, float]]:
    """Read a ``_logs.txt`` back (used by --resume; the plots have their own reader)."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = dict(item.split("=", 1) for item in line.split())
        records.append({k: (int(v) if k == "epoch" else float(v)) for k, v in fields.items()})
    return records


def write_fold(paths: ArtifactPaths, result, extra: dict[str, Any], header: list[str]) -> None:
    """Write one fold's arrays, metrics and log, then its checkpoint last.

    The checkpoint goes last: its presence (with the other files) marks the fold complete.
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
    save_model_checkpoint(result.model, paths.fold_file(fold, ""), epoch=result.best_epoch,
                          metrics=result.metrics, extra=extra)


def read_fold_metrics(paths: ArtifactPaths, fold: int) -> dict[str, Any]:
    path = paths.fold_file(fold, "metrics")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(path, f"cannot be read ({exc}); delete the fold's files to retrain it") from None


SUMMARY_LISTS = {
    "val_f1s": "f1", "val_precisions": "precision", "val_recalls": "recall",
    "val_specificities": "specificity", "val_mccs": "mcc", "val_norm_mccs": "norm_mcc",
    "val_accuracies": "accuracy", "val_aucs": "roc_auc", "best_epochs": "best_epoch",
}
AVERAGED = ("f1", "precision", "recall", "specificity", "mcc", "norm_mcc", "accuracy",
            "balanced_accuracy", "roc_auc", "pr_auc")


def summarise(fold_metrics: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, float], dict[str, float]]:
    """Per-fold lists (SPEC names such as ``val_f1s``), and mean / std over folds (ddof=0)."""
    lists = {name: [m.get(key) for m in fold_metrics] for name, key in SUMMARY_LISTS.items()}
    mean, std = {}, {}
    for key in AVERAGED:
        values = [m[key] for m in fold_metrics if m.get(key) is not None]
        mean[key] = float(np.mean(values)) if values else None
        std[key] = float(np.std(values)) if values else None
    return lists, mean, std


def write_summary(paths: ArtifactPaths, model: str, fold_metrics: list[dict[str, Any]],
                  protocol: dict[str, Any], model_params: dict[str, Any],
                  ensemble_weights: list[float], strategy: str,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write ``_summary.json`` (plus ``extra`` keys) and ``_ensemble_config.json``; return the summary."""
    lists, mean, std = summarise(fold_metrics)
    f1s = lists["val_f1s"]
    best_index = int(np.argmax(f1s))
    identity = {"model_name": f"{paths.display_name}Model", "model": model,
                "window_name": f"{paths.window_days}day", "window_days": paths.window_days}
    summary = {**identity, "num_folds": len(fold_metrics), **lists, "mean": mean, "std": std,
               "best_fold": best_index + 1, "best_val_f1": float(f1s[best_index]), "protocol": protocol,
               **(extra or {})}
    write_json(paths.summary, summary)
    write_json(paths.ensemble_config, {
        **identity,
        "ensemble_weights": [float(w) for w in ensemble_weights],
        "ensemble_method": "f1_weighted",
        "strategy": strategy,
        "model_params": model_params,
        "fold_metrics": {f"fold_{m['fold']}": m for m in fold_metrics},
        "average_metrics": {key: {"mean": mean[key], "std": std[key]} for key in AVERAGED},
        "protocol": protocol,
    })
    return summary
