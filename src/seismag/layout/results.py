"""The results layout: what training and ``seismag evaluate`` write, and the plots and the report read.

Described in full in ``docs/artifacts.md``::

    RESULTS/run_config.json, dataset_summary.json
    RESULTS/{model}_models/{Display}Model_{N}day_fold_{k}.pth, ..._fold_{k}_logs.txt, ...
    RESULTS/{model}_models/{Display}Model_{N}day_summary.json, ..._ensemble_config.json, ...
    RESULTS/evaluation/   (``seismag evaluate``: the same layout, one "fold" = the test set)

The one place that says what those files are called and hold: names (and the inverse,
:func:`parse_file_name`), the epoch-log line and its one reader (:func:`format_epoch_line`,
:func:`parse_epoch_log`), the metric keys, the summary and ensemble-config records. The
writers (``training.artifacts``, ``inference.evaluate``) write what it builds; the plots
(``plots.results``) read through it.

May import: numpy, the standard library, :mod:`seismag.errors`; nothing that imports torch,
so that the plots redraw results made on another machine without the training code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from seismag.errors import DataError

RUN_CONFIG_FILE = "run_config.json"
DATASET_SUMMARY_FILE = "dataset_summary.json"
#: ``seismag evaluate`` writes the results layout again under this sub-folder by default.
EVALUATION_FOLDER = "evaluation"
#: ``seismag plot`` writes its figures under this sub-folder.
FIGURE_FOLDER = "performance_visualization"
MODEL_FOLDER_SUFFIX = "_models"

#: Registry names of the SPEC's five models, in the order docs/artifacts.md lists them.
#: Readers show these first, in this order, and any other model found on disk after them
#: (alphabetically): a results folder holds no order of its own (its folders sort
#: alphabetically, and run_config.json may be absent from copied or partial results), and
#: the plots must not import the model registry.
SPEC_MODELS = ("gru", "lstm", "rnn", "mlp", "transformer")

#: Kind of a per-fold file -> the end of its name after ``..._fold_{k}``.
#:
#: ``test_indices`` (training) are rows of the loaded window each validation row is: rows of
#: :class:`~seismag.dataset.loading.WindowData` after the rows the NaN policy dropped and
#: the ``--train-until`` cut, so file rows only when neither removed any.
#: ``test_file_rows`` (``seismag evaluate``, whose one "fold" is a whole external test set)
#: are the rows of the test folder's class files that were scored (class-0 file rows first,
#: then class-1 rows; dropped rows absent).
FOLD_FILES = {
    "checkpoint": ".pth",
    "train_probs": "_train_probs.npy",
    "test_probs": "_test_probs.npy",
    "train_labels": "_train_labels.npy",
    "test_labels": "_test_labels.npy",
    "test_indices": "_test_indices.npy",
    "metrics": "_metrics.json",
    "logs": "_logs.txt",
    "test_file_rows": "_test_file_rows.npy",
    "feature_importance": "_feature_importance.csv",
}
FOLD_KINDS = tuple(FOLD_FILES)
#: Fold files only some models write (a boosted head's feature importances, one row per
#: feature: :data:`FEATURE_IMPORTANCE_COLUMNS`); :attr:`ArtifactPaths.model_fold_kinds` says
#: which a model writes, and its folds are complete only with them.
MODEL_FOLD_KINDS = ("feature_importance",)
#: The files of every trained fold: it is complete (``--resume`` skips it) when all exist
#: (with its model's own :data:`MODEL_FOLD_KINDS`).
TRAINING_FOLD_KINDS = tuple(kind for kind in FOLD_KINDS if kind != "test_file_rows" and kind not in MODEL_FOLD_KINDS)
#: Columns of a ``_feature_importance.csv``: the feature's name, its share of the kept trees'
#: split gain (on the rows they were fitted on), its number of splits, and the rise of the
#: validation rows' log loss when its column is shuffled.
FEATURE_IMPORTANCE_COLUMNS = ("feature", "gain_share", "splits", "permutation_log_loss")


def feature_importance_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """A ``_feature_importance.csv``'s text: a header of :data:`FEATURE_IMPORTANCE_COLUMNS`, one row per feature."""
    lines = [",".join(FEATURE_IMPORTANCE_COLUMNS)]
    for row in rows:
        lines.append(",".join(str(row[column]) for column in FEATURE_IMPORTANCE_COLUMNS))
    return "\n".join(lines) + "\n"


def read_feature_importance(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of a ``_feature_importance.csv`` (:func:`feature_importance_text`), numbers as numbers.

    Raises
    ------
    DataError
        Unreadable, another header, or a row without a name or with a value that is not a number.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot be read ({exc})") from None
    if not lines or tuple(lines[0].split(",")) != FEATURE_IMPORTANCE_COLUMNS:
        raise DataError(path, f"is not a feature-importance table (its header must be "
                              f"{','.join(FEATURE_IMPORTANCE_COLUMNS)})")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        parts = line.split(",")
        try:
            if len(parts) != len(FEATURE_IMPORTANCE_COLUMNS) or not parts[0]:
                raise ValueError
            rows.append({"feature": parts[0], "gain_share": float(parts[1]), "splits": int(parts[2]),
                         "permutation_log_loss": float(parts[3])})
        except ValueError:
            raise DataError(path, f"line {number}: expected a feature name and three numbers, got {line!r}") from None
    return rows
#: The per-fold ``.npy`` arrays, in the order they are written.
FOLD_ARRAYS = ("train_probs", "test_probs", "train_labels", "test_labels", "test_indices")
#: Kind of a per-model-and-window file -> the end of its name after ``{Display}Model_{N}day``.
WINDOW_FILES = {
    "summary": "_summary.json",
    "ensemble": "_ensemble.pth",
    "ensemble_config": "_ensemble_config.json",
    "permutation": "_permutation.json",
}
WINDOW_KINDS = tuple(WINDOW_FILES)
#: Where a results folder keeps its ensembles, as a glob relative to the folder.
ENSEMBLE_PATTERN = f"*{MODEL_FOLDER_SUFFIX}/*{WINDOW_FILES['ensemble']}"


def ensemble_files(results_dir: str | os.PathLike) -> list[Path]:
    """Every ensemble a results folder holds (:data:`ENSEMBLE_PATTERN`), sorted."""
    return sorted(Path(results_dir).glob(ENSEMBLE_PATTERN))


def model_folder_name(model: str) -> str:
    """``"gru"`` -> ``"gru_models"`` (the lower-case registry name)."""
    return f"{model}{MODEL_FOLDER_SUFFIX}"


def window_name(window_days: int) -> str:
    """``7`` -> ``"7day"`` (the spelling of file names, figure names and the summaries)."""
    return f"{int(window_days)}day"


def file_prefix(display_name: str, window_days: int) -> str:
    """``("GRU", 7)`` -> ``"GRUModel_7day"``, the start of every file of a model and window."""
    return f"{display_name}Model_{window_name(window_days)}"


def fold_file_name(display_name: str, window_days: int, fold: int, kind: str) -> str:
    """``("GRU", 7, 1, "test_probs")`` -> ``"GRUModel_7day_fold_1_test_probs.npy"``."""
    if kind not in FOLD_FILES:
        raise ValueError(f"unknown fold file kind {kind!r}; one of {', '.join(FOLD_KINDS)}")
    return f"{file_prefix(display_name, window_days)}_fold_{int(fold)}{FOLD_FILES[kind]}"


def window_file_name(display_name: str, window_days: int, kind: str) -> str:
    """``("GRU", 7, "summary")`` -> ``"GRUModel_7day_summary.json"``."""
    if kind not in WINDOW_FILES:
        raise ValueError(f"unknown file kind {kind!r}; one of {', '.join(WINDOW_KINDS)}")
    return f"{file_prefix(display_name, window_days)}{WINDOW_FILES[kind]}"


class ResultFileName(NamedTuple):
    """What a results file's name says; ``fold`` is None for a per-window file."""

    display_name: str
    window_days: int
    kind: str
    fold: int | None


_NAME_RE = re.compile(r"^(?P<display>.+?)Model_(?P<days>\d+)day_(?P<rest>.+)$")
_FOLD_RE = re.compile(r"^fold_(?P<fold>\d+)(?P<end>.*)$")
_FOLD_KIND_OF = {end: kind for kind, end in FOLD_FILES.items()}
_WINDOW_KIND_OF = {end[1:]: kind for kind, end in WINDOW_FILES.items()}


def parse_file_name(name: str) -> ResultFileName | None:
    """The inverse of :func:`fold_file_name` and :func:`window_file_name`; None for other names."""
    match = _NAME_RE.match(name)
    if not match:
        return None
    display, days, rest = match.group("display"), int(match.group("days")), match.group("rest")
    fold_match = _FOLD_RE.match(rest)
    if fold_match:
        kind = _FOLD_KIND_OF.get(fold_match.group("end"))
        return None if kind is None else ResultFileName(display, days, kind, int(fold_match.group("fold")))
    kind = _WINDOW_KIND_OF.get(rest)
    return None if kind is None else ResultFileName(display, days, kind, None)


@dataclass(frozen=True)
class ArtifactPaths:
    """Where one model x window's artifacts live: ``root/{model}_models/{Display}Model_{N}day_*``."""

    root: Path
    model: str
    display_name: str
    window_days: int
    #: The :data:`MODEL_FOLD_KINDS` this model's folds write besides :data:`TRAINING_FOLD_KINDS`.
    model_fold_kinds: tuple[str, ...] = ()

    @property
    def folder(self) -> Path:
        return Path(self.root) / model_folder_name(self.model)

    @property
    def prefix(self) -> str:
        return file_prefix(self.display_name, self.window_days)

    def fold_file(self, fold: int, suffix: str) -> Path:
        """``suffix`` '' (or 'checkpoint') -> the checkpoint; else a kind of :data:`FOLD_FILES`."""
        kind = "checkpoint" if suffix == "" else suffix
        return self.folder / fold_file_name(self.display_name, self.window_days, fold, kind)

    @property
    def fold_kinds(self) -> tuple[str, ...]:
        """The kinds of file training writes for each fold of this model."""
        return TRAINING_FOLD_KINDS + tuple(self.model_fold_kinds)

    def fold_files(self, fold: int) -> list[Path]:
        """The files training writes for ``fold`` (:attr:`fold_kinds`)."""
        return [self.fold_file(fold, kind) for kind in self.fold_kinds]

    def fold_complete(self, fold: int) -> bool:
        return all(p.is_file() for p in self.fold_files(fold))

    def complete(self, num_folds: int, permutation: bool = False) -> bool:
        """Every fold's files and the model's summary, ensemble and ensemble config exist
        (and its permutation-control file, when the run has one): nothing left to write."""
        kinds = [kind for kind in WINDOW_KINDS if kind != "permutation" or permutation]
        return (all(self.fold_complete(fold) for fold in range(1, num_folds + 1))
                and all(self.window_file(kind).is_file() for kind in kinds))

    def window_file(self, kind: str) -> Path:
        return self.folder / window_file_name(self.display_name, self.window_days, kind)

    @property
    def summary(self) -> Path:
        return self.window_file("summary")

    @property
    def permutation(self) -> Path:
        return self.window_file("permutation")

    @property
    def ensemble(self) -> Path:
        return self.window_file("ensemble")

    @property
    def ensemble_config(self) -> Path:
        return self.window_file("ensemble_config")


# ------------------------------------------------------------------------- epoch log

#: The pairs every epoch line has, in this order (docs/artifacts.md, *Epoch log format*).
LOG_KEYS = ("epoch", "train_loss", "train_acc", "train_f1", "val_loss", "val_acc", "val_f1", "lr")


def format_epoch_line(record: Mapping[str, float]) -> str:
    """One epoch as ``epoch=1 train_loss=0.693100 ...``: :data:`LOG_KEYS` first, then any others."""
    parts = [f"epoch={int(record['epoch'])}"]
    parts += [f"{key}={record[key]:.6f}" for key in LOG_KEYS[1:]]
    parts += [f"{key}={value:.6f}" for key, value in record.items() if key not in LOG_KEYS]
    return " ".join(parts)


def parse_epoch_lines(text: str, path: str | os.PathLike) -> list[dict[str, float]]:
    """The epochs of a ``_logs.txt`` text, in file order (``path`` names it in errors).

    Comment lines (``#``) and blank lines are skipped; every other line must be
    ``key=value`` pairs with at least the :data:`LOG_KEYS`, each a number; extra pairs
    are kept when numeric and skipped otherwise. ``epoch`` is an int, the rest floats.
    """
    records = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        row: dict[str, float] = {}
        for token in line.split():
            key, sep, value = token.partition("=")
            if not sep or not key:
                raise DataError(path, f"line {number}: expected key=value pairs, got {token!r}")
            try:
                row[key] = float(value)
            except ValueError:
                # Extra pairs may be non-numeric; the required ones may not.
                if key in LOG_KEYS:
                    raise DataError(path, f"line {number}: {key}={value!r} is not a number") from None
        missing = [key for key in LOG_KEYS if key not in row]
        if missing:
            raise DataError(path, f"line {number}: missing {', '.join(missing)}")
        row["epoch"] = int(row["epoch"])
        records.append(row)
    return records


@dataclass
class EpochLog:
    """The epochs of one fold's ``_logs.txt``, as :func:`parse_epoch_log` reads them.

    ``epochs`` is int64 of shape ``(n_epochs,)``, increasing (an epoch logged twice: its
    later line); ``values[key]`` is float64 of the same shape for every other key of any
    line, NaN where an epoch's line lacks it. ``log[key]`` is ``values[key]``; iterating
    gives one dict per epoch (``epoch`` an int, then every key's value), in epoch order,
    as iterating a NumPy record array gives its rows.
    """

    path: Path
    epochs: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.epochs.size)

    def __getitem__(self, key: str) -> np.ndarray:
        return self.values[key]

    def __iter__(self) -> Iterator[dict[str, float]]:
        for index, epoch in enumerate(self.epochs):
            yield {"epoch": int(epoch), **{key: float(column[index]) for key, column in self.values.items()}}


def parse_epoch_log(path: str | os.PathLike) -> EpochLog:
    """Read a ``_logs.txt`` (docs/artifacts.md, *Epoch log format*): the one epoch-log reader.

    The lines as :func:`parse_epoch_lines` reads them (comments and blank lines skipped, at
    least the :data:`LOG_KEYS` on every line, numeric extra pairs kept), by epoch.

    Raises
    ------
    DataError
        Naming the file (and the line): unreadable, or a line that is not an epoch.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot read epoch log ({exc})") from None
    rows = {row["epoch"]: row for row in parse_epoch_lines(text, path)}
    epochs = np.array(sorted(rows), dtype=np.int64)
    keys = [key for key in dict.fromkeys(key for row in rows.values() for key in row) if key != "epoch"]
    values = {key: np.array([rows[epoch].get(key, np.nan) for epoch in epochs], dtype=np.float64) for key in keys}
    return EpochLog(path=path, epochs=epochs, values=values)


# ------------------------------------------------------------- metrics and summaries

#: Metric keys of a fold's ``_metrics.json`` that the summaries average (mean / std).
METRIC_KEYS = ("f1", "precision", "recall", "specificity", "mcc", "norm_mcc", "accuracy",
               "balanced_accuracy", "roc_auc", "pr_auc")
#: Summary list name (one value per fold, fold order) -> the fold metric it lists.
SUMMARY_LISTS = {
    "val_f1s": "f1", "val_precisions": "precision", "val_recalls": "recall",
    "val_specificities": "specificity", "val_mccs": "mcc", "val_norm_mccs": "norm_mcc",
    "val_accuracies": "accuracy", "val_aucs": "roc_auc", "best_epochs": "best_epoch",
}
ENSEMBLE_METHOD = "f1_weighted"


def summary_lists(fold_metrics: Sequence[Mapping[str, Any]]) -> dict[str, list]:
    """The summary's per-fold lists (``val_f1s``, ...): one value per fold, None where absent."""
    return {name: [m.get(key) for m in fold_metrics] for name, key in SUMMARY_LISTS.items()}


def _identity(model: str, display_name: str, window_days: int) -> dict[str, Any]:
    return {"model_name": f"{display_name}Model", "model": model,
            "window_name": window_name(window_days), "window_days": window_days}


def fold_mean_std(fold_metrics: Sequence[Mapping[str, Any]], keys: Sequence[str] = METRIC_KEYS
                  ) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Mean and standard deviation over folds of each metric in ``keys``: the summary's
    ``mean`` / ``std``. The std is the population one (``ddof=0``, as ``np.std``); folds
    without a value (None) are left out, and a metric no fold has is None."""
    mean: dict[str, float | None] = {}
    std: dict[str, float | None] = {}
    for key in keys:
        values = [m[key] for m in fold_metrics if m.get(key) is not None]
        mean[key] = float(np.mean(values)) if values else None
        std[key] = float(np.std(values)) if values else None
    return mean, std


def summary_record(model: str, display_name: str, window_days: int, *,
                   fold_metrics: Sequence[Mapping[str, Any]], mean: Mapping[str, Any],
                   std: Mapping[str, Any], protocol: Mapping[str, Any],
                   extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``_summary.json`` of a model and window, as a dict (see docs/artifacts.md).

    ``fold_metrics`` are the folds' metrics in fold order; ``mean`` / ``std`` their
    averages over folds; ``extra`` keys (intervals, baselines, permutation, ...) go last.
    ``best_fold`` is the 1-based fold of the highest F1, the first one on ties.
    """
    lists = summary_lists(fold_metrics)
    f1s = lists["val_f1s"]
    best_index = max(range(len(f1s)), key=f1s.__getitem__)
    return {**_identity(model, display_name, window_days), "num_folds": len(fold_metrics), **lists,
            "mean": mean, "std": std, "best_fold": best_index + 1, "best_val_f1": float(f1s[best_index]),
            "protocol": protocol, **(extra or {})}


def ensemble_config_record(model: str, display_name: str, window_days: int, *,
                           fold_metrics: Sequence[Mapping[str, Any]], mean: Mapping[str, Any],
                           std: Mapping[str, Any], protocol: Mapping[str, Any],
                           ensemble_weights: Sequence[float], strategy: str,
                           model_params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``_ensemble_config.json`` of a model and window, as a dict (see docs/artifacts.md)."""
    return {
        **_identity(model, display_name, window_days),
        "ensemble_weights": [float(w) for w in ensemble_weights],
        "ensemble_method": ENSEMBLE_METHOD,
        "strategy": strategy,
        "model_params": model_params,
        "fold_metrics": {f"fold_{m['fold']}": m for m in fold_metrics},
        "average_metrics": {key: {"mean": mean[key], "std": std[key]} for key in METRIC_KEYS},
        "protocol": protocol,
    }
