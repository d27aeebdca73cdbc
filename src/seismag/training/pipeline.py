"""The experiment pipeline over models x windows (SPEC Module 6), with logging,
progress and the summary table."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from seismag import __version__
from seismag import models as model_registry
from seismag.config import RunConfig, default_models
from seismag.dataset.balance import imbalance_ratio, imbalance_severity
from seismag.errors import ConfigError, OutputError, output_error
from seismag.io import make_folder, write_json
from seismag.layout.dataset_info import assumed_dataset_info
from seismag.layout.results import DATASET_SUMMARY_FILE, RUN_CONFIG_FILE
from seismag.layout.seed import ACTIVITY_COLUMNS, window_fingerprint
from seismag.lock import folder_lock
from seismag.runtime import prepare_training
from seismag.training.job import WindowJob
from seismag.training.kfold import plain
from seismag.training.parallel import check_fold_workers
from seismag.training.preflight import check_output, check_resume, inspect_kept, set_aside
from seismag.training.prepared import PreparedWindow, prepare_window
from seismag.training.unit import train_model

logger = logging.getLogger("seismag")

TABLE_METRICS = ("f1", "precision", "recall", "specificity", "mcc", "roc_auc")


def setup_logging(log_file: str | None = None, log_dir: str | os.PathLike | None = None,
                  level: int = logging.INFO, include_timestamp: bool = True,
                  console: bool = True, delay: bool = True) -> logging.Logger:
    """Log to ``{log_dir}/training_YYYYmmdd_HHMMSS.log`` and the console (SPEC Module 3).

    ``log_dir`` defaults to ``$LOG_DIR`` or ``./logs``. With ``delay`` the folder and the
    file are made when the first line is logged, so a run refused before it starts writes
    nothing; without it, at once (the SPEC's ``setup_logging``).
    """
    log_dir = Path(log_dir or os.environ.get("LOG_DIR") or "logs")
    for part in (log_dir, *log_dir.parents):  # refused now: the first that exists must be a folder
        if part.exists():
            if not part.is_dir():
                raise OutputError(part, "exists and is not a folder")
            break
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
    try:
        file_handler = LazyFileHandler(log_dir / log_file, encoding="utf-8", delay=True)
        if not delay:
            file_handler.stream = file_handler._open()
    except OSError as exc:
        raise output_error(log_dir / log_file, exc) from None
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


class LazyFileHandler(logging.FileHandler):
    """A log file (and its folder) made at the first line logged, not before."""

    def _open(self):
        make_folder(Path(self.baseFilename).parent)
        return super()._open()


def run_experiment(config: RunConfig, data_dir, out_dir, *, resume: bool = False, progress: bool = True,
                   executor: str = "local", address: str | None = None) -> dict[str, dict[int, dict[str, Any]]]:
    """Train every configured model on every configured window and write all artifacts.

    ``executor='local'`` runs the units (model x window) here, one after the
    other; ``'ray'`` runs them as Ray tasks (``address``: an existing cluster,
    'auto', or None for a local Ray instance). Returns ``{model: {window_days: summary}}``.

    Everything that can be checked is checked before anything is written (the
    windows, the folds, the model settings); the results folder is locked while
    the run writes into it, and ``resume`` refuses a folder made by another run.
    """
    if executor not in ("local", "ray"):
        raise ConfigError(f"unknown executor '{executor}'; use local or ray")
    out_dir = Path(out_dir)
    device, precision = prepare_training(config)
    windows = load_windows(config, data_dir)
    config = with_activity_reference(config, windows)
    check_model_overrides(config)
    check_fold_workers(config, device)
    for window in windows.values():
        window.check_folds(config.models)
    record = run_record(config, data_dir, windows, device, precision)
    units = [(model, days) for days in config.windows for model in config.models]
    check_output(out_dir, units, config.num_folds)
    with folder_lock(out_dir, command="train"):
        damaged = []
        if resume:  # the recorded run, and every file the run keeps, before anything is written
            record = check_resume(out_dir, record)
            damaged = inspect_kept(out_dir, windows, config.models)
        write_run_record(out_dir, record, data_dir, windows)
        set_aside(damaged)  # their folds are unfinished now, and train again
        if executor == "ray":
            from seismag.training.executors import run_units_ray

            summaries = run_units_ray(config, data_dir, out_dir, units, resume=resume, address=address)
        else:
            summaries = {}
            for days, window in windows.items():
                for note in window.data.notes:
                    logger.info(note)
                # tensors, workers: once per window, for every model
                with WindowJob(window, device, precision) as job:
                    for model in config.models:
                        summaries[(model, days)] = train_model(job, model, out_dir, resume=resume,
                                                               progress=progress)
    results: dict[str, dict[int, dict[str, Any]]] = {}
    for model, days in units:
        results.setdefault(model, {})[days] = summaries[(model, days)]
    return results


def with_activity_reference(config: RunConfig, windows: dict[int, PreparedWindow]) -> RunConfig:
    """The default models gain the ``activity`` reference when every window has activity
    columns: what geomagnetic activity alone predicts stands beside every comparison."""
    references = tuple(model_registry.reference_models())  # the activity reference
    if tuple(config.models) != default_models() or set(references) & set(config.models):
        return config
    if not all(window.data.meta is not None and any(c in window.data.meta for c in ACTIVITY_COLUMNS)
               for window in windows.values()):
        return config
    logger.info("the data carry geomagnetic-activity columns: the activity reference trains beside the models")
    config = dataclasses.replace(config, models=(*config.models, *references))
    for window in windows.values():
        window.config = config
    return config


def load_windows(config: RunConfig, data_dir) -> dict[int, PreparedWindow]:
    """Every configured window, prepared (:func:`~seismag.training.prepared.prepare_window`:
    loaded, cut, its folds cut) before anything trains or is written: a bad file late in the
    list should not cost an hour of training first."""
    return {days: prepare_window(config, data_dir, days) for days in config.windows}


def run_record(config: RunConfig, data_dir, windows: dict[int, PreparedWindow], device: torch.device,
               precision: str) -> dict[str, Any]:
    """What ``run_config.json`` holds: the run configuration, how it resolved, every
    model's resolved config per window, and a fingerprint of each window's data."""
    models = {model: {str(days): plain(window.model_config(model))
                      for days, window in windows.items()} for model in config.models}
    data = {str(days): {"n_samples": window.data.n_samples, "class_counts": list(window.data.class_counts),
                        "sha256": window_fingerprint(window.data.path), "inputs": window.data.input_record()}
            for days, window in windows.items()}
    return {**config.to_dict(), "resolved_device": str(device), "resolved_precision": precision,
            "data_dir": str(Path(data_dir).resolve()), "seismag_version": __version__,
            "torch_version": torch.__version__,
            "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "resolved_models": models, "data_fingerprint": data}


def write_run_record(out_dir: Path, record: dict[str, Any], data_dir, windows: dict[int, PreparedWindow]) -> None:
    """``run_config.json`` and ``dataset_summary.json``: how the results folder was made."""
    out_dir.mkdir(parents=True, exist_ok=True)
    logger.info("data %s -> results %s%s", data_dir, out_dir,
                f" (log {logger.log_file})" if getattr(logger, "log_file", None) else "")
    summary = {"data_dir": str(Path(data_dir).resolve()),
               "windows": {str(days): _window_summary(window) for days, window in windows.items()}}
    for path, content in ((out_dir / RUN_CONFIG_FILE, record), (out_dir / DATASET_SUMMARY_FILE, summary)):
        if not holds_json(path, content):  # a resume that changes nothing leaves them untouched
            write_json(path, content)


def holds_json(path: Path, content: Any) -> bool:
    """Whether ``path`` already holds ``content`` as JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8")) == json.loads(json.dumps(content, default=_plain_value))
    except (OSError, ValueError):
        return False


def _plain_value(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value.tolist() if hasattr(value, "tolist") else str(value)


def check_model_overrides(config: RunConfig) -> None:
    """A '*' override must name a setting some model has (a typo is an error, not a no-op)."""
    fields = set()
    for model in model_registry.list_models():
        fields |= set(model_registry.get_model_entry(model).config_cls.field_names())
    unknown = set(config.model_overrides.get("*", {})) - fields
    if unknown:
        raise ConfigError(f"model setting(s) {', '.join(sorted(unknown))} belong to no registered model")


def _window_summary(window: PreparedWindow) -> dict[str, Any]:
    data = window.data
    counts = data.class_counts
    ratio = imbalance_ratio(counts)
    return {"n_samples": data.n_samples, "n_features": data.n_features, "class_counts": counts,
            "imbalance_ratio": round(ratio, 4), "severity": imbalance_severity(ratio),
            "dropped_rows": data.dropped_rows, "interpolated_rows": data.interpolated_rows,
            "has_meta": data.meta is not None, "channels": list(data.channels),
            "units": list((data.dataset or assumed_dataset_info()).units),
            "recipe": [dict(step) for step in data.recipe], "recipe_text": _recipe_text(data.recipe),
            "activity": data.activity_by_class(window.activity_table)}


def _recipe_text(steps) -> str:
    if not steps:
        return "none (the stored windows as they are)"
    from seismag.dataset.recipe import Recipe

    return Recipe.from_dicts(list(steps), "the recipe").describe()


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
    lines += proper_score_lines(results)
    if protocol:
        lines += ["", f"split: {protocol['split']} ({protocol['num_folds']} folds), scaling: "
                  f"{protocol['scaling']}, epoch selection: {protocol['selection']}",
                  f"note: {protocol['leakage_note']}", f"note: {protocol['selection_note']}"]
    return "\n".join(lines)


PROPER_SCORES = (("brier", "Brier"), ("brier_skill", "BSS"), ("log_loss", "log loss"), ("ece", "ECE"))


def proper_score_lines(results: dict[str, dict[int, dict[str, Any]]]) -> list[str]:
    """The summaries' proper scores, before -> after calibration, one line per model x window
    (none when no summary carries a ``calibration`` record)."""
    rows = [(model, days, summary["calibration"]) for model, by_window in results.items()
            for days, summary in sorted(by_window.items()) if summary.get("calibration")]
    if not rows:
        return []
    lines = ["", "proper scores of the pooled out-of-fold probabilities, uncalibrated -> calibrated (Platt "
             "scaling fitted on the other folds' rows); Brier skill (BSS) is against the class prior, 0 = no skill",
             f"{'model':<12}{'window':>7}  " + "  ".join(f"{name:>17}" for _, name in PROPER_SCORES)]
    for model, days, record in rows:
        cells = []
        for key, _ in PROPER_SCORES:
            before, after = record["uncalibrated"].get(key), record["calibrated"].get(key)
            cells.append(f"{_score(before)} -> {_score(after)}".rjust(17))
        lines.append(f"{model:<12}{days:>6}d  " + "  ".join(cells))
    return lines


def _score(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"
