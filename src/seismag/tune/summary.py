"""What a search writes and prints: best_config.toml, trials.csv, tuning_rows.npz, tune_summary.json.

Also the results (:class:`StudyResult`, :class:`TuneResult`) and the text
``seismag tune`` prints (:func:`format_tune_result`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from seismag import __version__
from seismag.config import TUNED_TABLE, RunConfig, make_config, write_config_toml
from seismag.io import atomic_path, write_json, write_text
from seismag.layout.results import fold_mean_std
from seismag.tune.spec import StudySpec
from seismag.tune.split import TuningSplit, inner_split_description
from seismag.tune.storage import redact_url

OBJECTIVE = "weighted F1 on the inner validation rows (the model of the epoch the run's selection keeps)"

PROTOCOL_NOTES = {
    "fold": ("the search saw only the training rows of outer fold {fold} of {num_folds} (trials trained on "
             "{n_fit} of them and were scored on {n_val}); that fold's {n_held_out} validation rows were never "
             "seen, so fold {fold}'s score in a k-fold run with this configuration is clean. The other folds' "
             "validation rows lie inside the rows the search saw: their scores are optimistic."),
    "nested": ("nested cross-validation: one study per outer fold on that fold's training rows only (inner "
               "split {share:.0%}); each fold was then trained with its own best parameters and scored on its "
               "validation rows, which its search never saw. Every fold's score is clean."),
}


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class StudyResult:
    """One study: its best trial and the files written for it."""

    outer_fold: int
    study_name: str
    best_params: dict[str, Any]
    best_value: float
    best_trial: int
    n_complete: int
    n_pruned: int
    n_failed: int
    config_path: Path
    trials_path: Path
    rows_path: Path


@dataclass(frozen=True)
class TuneResult:
    """What :func:`~seismag.tune.study.run_study` did.

    ``studies`` holds one study (``protocol='fold'``) or one per outer fold
    (``'nested'``); ``nested`` the nested cross-validation scores.
    """

    model: str
    window_days: int
    protocol: str
    storage: str
    out_dir: Path
    summary_path: Path
    studies: tuple[StudyResult, ...]
    nested: dict[str, Any] | None = None

    @property
    def best_params(self) -> dict[str, Any] | None:
        """The best parameters (``protocol='fold'``); None for a nested run (one set per fold)."""
        return self.studies[0].best_params if self.protocol == "fold" else None

    @property
    def config_path(self) -> Path | None:
        """``best_config.toml`` for ``seismag train --config`` (``protocol='fold'``), else None."""
        return self.studies[0].config_path if self.protocol == "fold" else None

    @property
    def clean_folds(self) -> list[int]:
        """Outer folds whose validation rows no search saw."""
        return [s.outer_fold for s in self.studies]


# --------------------------------------------------------------------------- one study's files
def write_best_config(path: Path, spec: StudySpec, model_fields: set[str], best_params: Mapping[str, Any],
                      study_name: str, best_trial: int, best_value: float, split: TuningSplit) -> Path:
    """A TOML that ``seismag train --config`` accepts: the base configuration plus the best parameters.

    It keeps the seed, split and number of folds, so training with it uses
    the outer folds the search was protected from, and records the search's
    ``train_until`` in its ``[tuned]`` table, which ``seismag train`` checks
    (:func:`~seismag.config.check_tuned_cutoff`). ``model_fields`` are the
    settings of the model's config (those of ``best_params`` go to ``[model.<name>]``).
    """
    preset_config = make_config(spec.preset)
    values: dict[str, Any] = {"preset": spec.preset, "models": [spec.model], "windows": [spec.window_days]}
    for field in dataclasses.fields(RunConfig):
        name = field.name
        if name in ("models", "windows", "model_overrides"):
            continue
        value = best_params.get(name, getattr(spec.config, name))
        if name in best_params or value != getattr(preset_config, name) or name in ("seed", "split", "num_folds"):
            values[name] = list(value) if isinstance(value, tuple) else value
    values[TUNED_TABLE] = {"train_until": spec.config.train_until}  # what the search saw
    model_values = {**spec.config.overrides_for(spec.model, model_fields),
                    **{k: v for k, v in best_params.items() if k in model_fields}}
    if model_values:
        values["model_overrides"] = {spec.model: {k: list(v) if isinstance(v, tuple) else v
                                                  for k, v in model_values.items()}}
    write_config_toml(path, values)
    header = [f"# seismag tune: study '{study_name}', best trial {best_trial}",
              f"# {OBJECTIVE}: {best_value:.4f}",
              f"# [{TUNED_TABLE}] train_until: the cutoff of the windows searched (\"\": every window); "
              "train refuses this file for an earlier cutoff",
              f"# searched on outer fold {split.outer_fold} of {split.num_folds}'s training rows only: "
              f"fold {split.outer_fold}'s score in `seismag train --config` is clean, the others are optimistic",
              f"# train: seismag train --data DIR --config {path.name}", ""]
    write_text(path, "\n".join(header) + path.read_text(encoding="utf-8"))
    make_config(spec.preset, path)  # the file must be one `seismag train --config` accepts
    return path


def write_trials_csv(path, trials) -> Path:
    """The study's trials table (one row per trial, ``param_*`` and ``attr_*`` columns); no pandas needed."""
    params = sorted({name for t in trials for name in t.params})
    attrs = sorted({name for t in trials for name in t.user_attrs})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["number", "state", "value", "last_epoch", "datetime_start", "datetime_complete",
                     "duration_s"] + [f"param_{p}" for p in params] + [f"attr_{a}" for a in attrs])
    for t in sorted(trials, key=lambda t: t.number):
        duration = ((t.datetime_complete - t.datetime_start).total_seconds()
                    if t.datetime_complete and t.datetime_start else None)
        writer.writerow([t.number, t.state.name, _cell(t.value), _cell(t.last_step),
                         _cell(t.datetime_start and t.datetime_start.isoformat(timespec="seconds")),
                         _cell(t.datetime_complete and t.datetime_complete.isoformat(timespec="seconds")),
                         _cell(None if duration is None else round(duration, 3))]
                        + [_cell(t.params.get(p)) for p in params] + [_cell(t.user_attrs.get(a)) for a in attrs])
    return write_text(path, buffer.getvalue())


def write_rows(path: Path, split: TuningSplit) -> Path:
    """``tuning_rows.npz``: the fit, scored and held-out row indices of one study."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, fit_rows=split.fit_rows, val_rows=split.val_rows, held_out_rows=split.held_out_rows)
    return path


# --------------------------------------------------------------------------- the run's summary
def nested_record(fold_scores: list[dict[str, Any]]) -> dict[str, Any]:
    """The nested cross-validation scores: per fold, and their mean and standard deviation."""
    mean, std = fold_mean_std(fold_scores, ("f1", "mcc", "roc_auc", "precision", "recall", "accuracy"))
    return {"folds": fold_scores, "mean": mean, "std": std}


def write_summary(spec: StudySpec, studies: tuple[StudyResult, ...], nested: dict[str, Any] | None,
                  counts: Mapping[str, int], elapsed_s: float, optuna_version: str) -> Path:
    """``tune_summary.json``: the protocol and which folds are clean, the space, sampler, pruner and studies.

    ``counts`` are outer fold ``spec.outer_fold``'s row counts (``num_folds``,
    ``n_fit``, ``n_val``, ``n_held_out``) for the protocol note.
    """
    config, protocol, out_dir = spec.config, spec.protocol, spec.out_dir
    first = studies[0]
    protocol_record = {
        "protocol": protocol,
        "note": PROTOCOL_NOTES[protocol].format(fold=spec.outer_fold, share=spec.inner_fraction, **counts),
        "clean_folds": [s.outer_fold for s in studies],
        "split": config.split, "group_by": config.group_by if config.split == "group" else None,
        "num_folds": config.num_folds, "seed": config.seed, "inner_fraction": spec.inner_fraction,
        "inner_split": inner_split_description(config),
        "selection": config.selection, "train_until": config.train_until or None,
    }
    summary = {
        "model": spec.model, "window_days": spec.window_days, "objective": OBJECTIVE, "direction": "maximize",
        "protocol": protocol_record,
        "storage": redact_url(spec.storage), "trials_requested": spec.trials,
        "search_space": {k: v.describe() for k, v in spec.space.items()},
        "sampler": (f"TPE (seeded per trial number from seed {config.seed}, {spec.n_startup_trials} random "
                    "startup trials)"),
        "pruner": (f"median of earlier trials' inner F1 at the same epoch, after {spec.prune_startup_trials} "
                   f"completed trials and from epoch {max(1, spec.prune_warmup_epochs)}") if spec.pruning else "none",
        "studies": [_study_record(s, out_dir) for s in studies],
        "nested": nested,
        "best_params": first.best_params if protocol == "fold" else None,
        "best_value": first.best_value if protocol == "fold" else None,
        "best_config": str(first.config_path.relative_to(out_dir)) if protocol == "fold" else None,
        "run_config": config.to_dict(), "data_dir": str(Path(spec.data_dir).resolve()),
        "elapsed_s": round(elapsed_s, 2), "seismag_version": __version__,
        "optuna_version": optuna_version, "written_at": datetime.now().isoformat(timespec="seconds"),
    }
    return write_json(out_dir / "tune_summary.json", summary)


def _study_record(study: StudyResult, out_dir: Path) -> dict[str, Any]:
    return {"outer_fold": study.outer_fold, "study_name": study.study_name, "best_trial": study.best_trial,
            "best_value": study.best_value, "best_params": {k: list(v) if isinstance(v, tuple) else v
                                                            for k, v in study.best_params.items()},
            "n_complete": study.n_complete, "n_pruned": study.n_pruned, "n_failed": study.n_failed,
            "config": str(study.config_path.relative_to(out_dir)),
            "trials": str(study.trials_path.relative_to(out_dir)),
            "rows": str(study.rows_path.relative_to(out_dir))}


# --------------------------------------------------------------------------- text
def format_params(params: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={_short(v)}" for k, v in params.items())


def format_tune_result(result: TuneResult) -> str:
    """What ``seismag tune`` prints: the best parameters, the files, and which folds are clean."""
    lines = []
    for study in result.studies:
        lines += [f"study '{study.study_name}': {study.n_complete} complete, {study.n_pruned} pruned"
                  + (f", {study.n_failed} failed" if study.n_failed else ""),
                  f"best trial {study.best_trial}: inner F1 {study.best_value:.4f}"]
        lines += [f"  {name} = {_short(value)}" for name, value in study.best_params.items()]
        lines.append(f"  config: {study.config_path}")
    if result.nested:
        mean, std = result.nested["mean"], result.nested["std"]
        lines.append(f"nested CV: F1 {mean['f1']:.4f} ± {std['f1']:.4f}, MCC {mean['mcc']:.4f} ± {std['mcc']:.4f}")
    if result.protocol == "fold":
        fold = result.studies[0].outer_fold
        lines.append(f"honest: fold {fold}'s validation rows were never seen by the search; in "
                     f"`seismag train --config {result.config_path}` only fold {fold}'s score is clean.")
    lines.append(f"summary: {result.summary_path}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)
