"""The experiment pipeline over models x windows (SPEC Module 6), with logging,
progress and the summary table."""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from .. import models as model_registry
from ..config import RunConfig
from ..data.analysis import imbalance_ratio, imbalance_severity
from ..data.loading import load_window
from ..errors import ConfigError
from ..io import write_json
from ..layout import DATASET_SUMMARY_FILE, RUN_CONFIG_FILE
from .engine import WindowTensors, prepare_training, resolve_device, resolve_precision
from .kfold import make_splits, run_kfold

logger = logging.getLogger("seismag")

TABLE_METRICS = ("f1", "precision", "recall", "specificity", "mcc", "roc_auc")


def setup_logging(log_file: str | None = None, log_dir: str | os.PathLike | None = None,
                  level: int = logging.INFO, include_timestamp: bool = True,
                  console: bool = True) -> logging.Logger:
    """Log to ``{log_dir}/training_YYYYmmdd_HHMMSS.log`` and the console (SPEC Module 3).

    ``log_dir`` defaults to ``$LOG_DIR`` or ``./logs``.
    """
    log_dir = Path(log_dir or os.environ.get("LOG_DIR") or "logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    if log_file is None:
        log_file = f"training_{stamp}.log"
    elif include_timestamp:
        stem, dot, ext = log_file.rpartition(".")
        log_file = f"{stem or ext}_{stamp}.{ext if dot else 'log'}"
    root = logging.getLogger("seismag")
    root.setLevel(level)
    for handler in list(root.handlers):
        if getattr(handler, "_seismag", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.FileHandler(log_dir / log_file, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    handlers = [file_handler]
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(logging.Formatter("%(message)s"))
        handlers.append(stream)
    for handler in handlers:
        handler._seismag = True
        root.addHandler(handler)
    root.propagate = False
    root.log_file = str(log_dir / log_file)
    return root


def epoch_progress(model: str, window_days: int, epochs: int, enabled: bool = True):
    """A tqdm bar per fold: epochs, current loss and validation F1, ETA."""
    from tqdm.auto import tqdm

    def start(fold: int, num_folds: int):
        bar = tqdm(total=epochs, desc=f"{model} {window_days}d fold {fold}/{num_folds}", unit="epoch",
                   leave=False, disable=not enabled, file=sys.stderr)

        def on_epoch(record: dict[str, float]) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{record['train_loss']:.3f}", val_f1=f"{record['val_f1']:.3f}")
            if record["epoch"] >= epochs:
                bar.close()

        on_epoch.close = bar.close
        return on_epoch

    return start


def run_experiment(config: RunConfig, data_dir, out_dir, *, resume: bool = False, progress: bool = True,
                   executor: str = "local", address: str | None = None) -> dict[str, dict[int, dict[str, Any]]]:
    """Train every configured model on every configured window and write all artifacts.

    ``executor='local'`` runs the units (model x window) here, one after the
    other; ``'ray'`` runs them as Ray tasks (``address``: an existing cluster,
    'auto', or None for a local Ray instance). Returns ``{model: {window_days: summary}}``.
    """
    out_dir = Path(out_dir)
    device = resolve_device(config.device)
    precision = resolve_precision(config.precision, device)
    # Validate every window before training or writing anything: a bad file late
    # in the list should not cost an hour of training first.
    windows = {days: load_window(data_dir, days, config.steps_per_day, nan_policy=config.nan_policy,
                                 max_missing=config.max_missing) for days in config.windows}
    check_model_overrides(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    logger.info("data %s -> results %s%s", data_dir, out_dir,
                f" (log {logger.log_file})" if getattr(logger, "log_file", None) else "")
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    write_json(out_dir / RUN_CONFIG_FILE, {
        **config.to_dict(), "resolved_device": str(device), "resolved_precision": precision,
        "data_dir": str(Path(data_dir).resolve()), "seismag_version": __version__,
        "torch_version": torch.__version__, "started_at": started})
    write_json(out_dir / DATASET_SUMMARY_FILE, {
        "data_dir": str(Path(data_dir).resolve()),
        "windows": {str(days): _window_summary(data) for days, data in windows.items()}})

    units = [(model, days) for days in config.windows for model in config.models]
    if executor == "ray":
        from .executors import run_units_ray

        summaries = run_units_ray(config, data_dir, out_dir, units, resume=resume, address=address)
    elif executor == "local":
        summaries = {}
        for days, data in windows.items():
            for note in data.notes:
                logger.info(note)
            # One tensor copy and one split per window, shared by every model.
            tensors = WindowTensors.from_window(data, device)
            splits = make_splits(config, data)
            for model in config.models:
                summaries[(model, days)] = train_unit(config, data_dir, out_dir, model, days, resume=resume,
                                                      progress=progress, data=data, tensors=tensors,
                                                      splits=splits)
            del tensors
    else:
        raise ConfigError(f"unknown executor '{executor}'; use local or ray")
    results: dict[str, dict[int, dict[str, Any]]] = {}
    for model, days in units:
        results.setdefault(model, {})[days] = summaries[(model, days)]
    return results


def train_unit(config: RunConfig, data_dir, out_dir, model: str, window_days: int, *, resume: bool = False,
               progress: bool = False, data=None, tensors=None, splits=None) -> dict[str, Any]:
    """One unit of work: a model's k-fold cross-validation on one window.

    Self-contained (loads its window when ``data`` is not given), so an executor
    can run units in other processes or on other machines that see ``data_dir``
    and ``out_dir``. Per-fold seeds derive from the run seed, so where a unit
    runs does not change its numbers.
    """
    device, precision = prepare_training(config)
    if data is None:
        data = load_window(data_dir, window_days, config.steps_per_day, nan_policy=config.nan_policy,
                           max_missing=config.max_missing)
    began = time.perf_counter()
    n_folds = len(splits) if splits is not None else config.num_folds
    logger.info("training %s on the %d-day window: %d samples %s, %d folds, device %s, %s",
                model, window_days, data.n_samples, data.class_counts, n_folds, device, precision)
    summary = run_kfold(model, data, config, out_dir, device=device, precision=precision, resume=resume,
                        tensors=tensors, splits=splits,
                        progress=epoch_progress(model, window_days, config.epochs, progress))
    logger.info("%s %dday: F1 %.4f +/- %.4f  (%.1f s)", summary["model_name"], window_days,
                summary["mean"]["f1"], summary["std"]["f1"], time.perf_counter() - began)
    return summary


def check_model_overrides(config: RunConfig) -> None:
    """A '*' override must name a setting some model has (a typo is an error, not a no-op)."""
    import dataclasses

    fields = set()
    for model in model_registry.list_models():
        fields |= {f.name for f in dataclasses.fields(model_registry.get_model_entry(model).config_cls)}
    unknown = set(config.model_overrides.get("*", {})) - fields
    if unknown:
        raise ConfigError(f"model setting(s) {', '.join(sorted(unknown))} belong to no registered model")


def _window_summary(data) -> dict[str, Any]:
    counts = data.class_counts
    ratio = imbalance_ratio(counts)
    return {"n_samples": data.n_samples, "n_features": data.n_features, "class_counts": counts,
            "imbalance_ratio": round(ratio, 4), "severity": imbalance_severity(ratio),
            "dropped_rows": data.dropped_rows, "interpolated_rows": data.interpolated_rows,
            "has_meta": data.meta is not None}


def format_summary_table(results: dict[str, dict[int, dict[str, Any]]]) -> str:
    """Mean +/- std of the headline metrics per model x window, the F1 interval, the
    all-majority baseline, the permutation p-value when run, and the protocol."""
    header = (f"{'model':<12}{'window':>7}  " + "  ".join(f"{m:>15}" for m in TABLE_METRICS)
              + f"  {'F1 95% CI':>15}  {'majority F1':>11}  {'perm. p':>7}")
    # The interval is the t-interval of the fold mean shown beside it.
    lines = [header, "-" * len(header)]
    protocol, verdicts = None, []
    for model, by_window in results.items():
        for days, summary in sorted(by_window.items()):
            protocol = summary.get("protocol", protocol)
            cells = []
            for metric in TABLE_METRICS:
                mean, std = summary["mean"].get(metric), summary["std"].get(metric)
                cells.append(f"{'n/a':>15}" if mean is None else f"{mean:>7.4f} ± {std:<6.4f}")
            interval = (summary.get("intervals") or {}).get("over_folds", {}).get("f1")
            cells.append(f"{'n/a':>15}" if not interval else f"[{interval[0]:.3f}, {interval[1]:.3f}]".rjust(15))
            majority = (summary.get("baselines") or {}).get("majority", {}).get("f1")
            cells.append(f"{'n/a':>11}" if majority is None else f"{majority:>11.4f}")
            permutation = summary.get("permutation")
            p = None if not permutation else min(m["p_value"] for m in permutation["metrics"].values())
            cells.append(f"{'-':>7}" if p is None else f"{p:>7.3f}")
            if permutation:
                verdicts.append(f"{model} {days}d: {permutation['verdict']}")
            lines.append(f"{model:<12}{days:>6}d  " + "  ".join(cells))
    lines += ["", "A classifier that learned nothing scores the majority F1 and an AUC of 0.5; "
              "compare against those, not against 0."]
    lines += [f"permutation control: {v}" for v in verdicts]
    if protocol:
        lines += ["", f"split: {protocol['split']} ({protocol['num_folds']} folds), scaling: "
                  f"{protocol['scaling']}, epoch selection: {protocol['selection']}",
                  f"note: {protocol['leakage_note']}", f"note: {protocol['selection_note']}"]
    return "\n".join(lines)
