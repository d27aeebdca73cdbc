"""Reading a results folder (the layout of ``docs/artifacts.md``).

Why this module is long: every figure and the report read through it (folders, summaries,
fold arrays, epoch logs, ensemble configs, evaluation runs, permutation files), each with
its own notes for what is missing, so that no figure module opens a file itself.

This module is the only part of the plots that opens files; what they are
called and hold comes from :mod:`seismag.layout.results`, which the training code
writes with (its :func:`~seismag.layout.results.parse_epoch_log` reads the epoch logs).
It never imports the training code: everything comes from the files on disk, so
figures can be redrawn from results made on another machine.

The models are the ``*_models`` folders found (not a fixed list), and each
model's display name comes from its file names (``GRUModel_7day_...`` ->
``GRU``), so a newly registered model shows up without any change here.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from seismag.errors import DataError, SeismagError
from seismag.layout import results as layout
from seismag.layout.results import (FIGURE_FOLDER, FOLD_KINDS, METRIC_KEYS, WINDOW_KINDS, EpochLog, fold_mean_std,
                                    parse_epoch_log, window_name)
from seismag.layout.seed import npy_problem_message

logger = logging.getLogger("seismag.plots")


class NothingToPlot(SeismagError):
    """The results folder holds none of the files a figure needs."""


def parse_window(value: int | str) -> int:
    """Window length in days from ``7``, ``"7"``, ``"7day"``, ``"7-day"`` or ``"window-7"``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        days = int(value)
    else:
        match = re.fullmatch(r"\s*(?:window-?)?(\d+)\s*(?:-?\s*days?)?\s*", str(value), re.IGNORECASE)
        if not match:
            raise SeismagError(f"not a window length: {value!r} (expected e.g. 7, '7' or '7day')")
        days = int(match.group(1))
    if days <= 0:
        raise SeismagError(f"window length must be positive, not {value!r}")
    return days


def note(notes: list[str] | None, message: str) -> None:
    """Record a skipped figure or input: logged, and kept in ``notes`` when given."""
    logger.warning("%s", message)
    if notes is not None:
        notes.append(message)


def figure_root(results: "ResultsFolder", out_dir: str | os.PathLike | None = None) -> Path:
    """``out_dir`` when given, else ``RESULTS/performance_visualization``."""
    return Path(out_dir) if out_dir is not None else results.path / FIGURE_FOLDER


class PlotResult(list):
    """The paths written (a plain ``list[Path]``), plus ``notes``: what was skipped and why."""

    def __init__(self, paths: Iterable[Path] = (), notes: Iterable[str] = ()):
        super().__init__(paths)
        self.notes: list[str] = list(notes)


@dataclass(frozen=True)
class ModelEntry:
    """One ``{model}_models`` folder.

    ``key`` is the registry name (``"gru"``), ``display_name`` the name in file
    names and figures (``"GRU"``).
    """

    key: str
    display_name: str
    folder: Path

    def prefix(self, window_days: int) -> str:
        """``GRUModel_7day`` for window 7."""
        return layout.file_prefix(self.display_name, window_days)


@dataclass
class MetricStats:
    """Mean and std over folds of each metric for one model and window.

    ``source`` says which file the numbers come from: ``"summary"``,
    ``"ensemble_config"`` or ``"fold_metrics"`` (recomputed from the per-fold
    ``_metrics.json`` when neither of the others exists, e.g. an interrupted run).
    """

    mean: dict[str, float]
    std: dict[str, float]
    num_folds: int
    source: str
    path: Path
    protocol: dict[str, Any] | None = None

    def origin(self) -> str:
        """Where the numbers come from, for notes and the report table."""
        if self.source == "fold_metrics":
            return f"{self.num_folds} per-fold _metrics.json file(s) (mean/std recomputed)"
        return self.path.name


def load_json(path: str | os.PathLike, *, missing: str = "file not found", invalid: str = "corrupt JSON") -> Any:
    """Read a JSON file (every JSON file the plots and the report read comes through here).

    A missing, unreadable or corrupt file raises :class:`DataError` naming it: ``missing``
    is the message for a file that is not there (say what writes it), ``invalid`` begins
    the one for text that is not JSON (the line, column and problem follow).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(path, missing) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot read file ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(path, f"{invalid} (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def _load_json_object(path: Path) -> dict[str, Any]:
    data = load_json(path)
    if not isinstance(data, dict):
        raise DataError(path, f"expected a JSON object, found {type(data).__name__}")
    return data


def _load_vector(path: Path, *, kind: str) -> np.ndarray:
    problem = npy_problem_message(path)
    if problem is not None:
        raise DataError(path, problem)
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(path, f"cannot read {kind} array ({exc})") from None
    array = np.asarray(array)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise DataError(path, f"expected a 1-D {kind} array, found shape {array.shape}")
    return array


class ResultsFolder:
    """Index of a results folder, scanned once; every read goes through here.

    Parameters
    ----------
    path : path-like
        The folder ``seismag train`` wrote (``RESULTS/`` in docs/artifacts.md).

    Raises
    ------
    SeismagError
        If the folder does not exist.

    Examples
    --------
    >>> results = ResultsFolder("results")          # doctest: +SKIP
    >>> [m.display_name for m in results.models]    # doctest: +SKIP
    ['GRU', 'LSTM', 'RNN', 'MLP', 'Transformer']
    >>> results.folds("gru", 7)                     # doctest: +SKIP
    [1, 2, 3, 4, 5]
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise SeismagError(f"{self.path}: results folder not found")
        if not self.path.is_dir():
            raise SeismagError(f"{self.path}: not a folder (expected a results folder)")
        # files[model key][window days] -> {(kind, fold or None): path}
        self._files: dict[str, dict[int, dict[tuple[str, int | None], Path]]] = {}
        self._json: dict[Path, dict[str, Any]] = {}
        self.models: list[ModelEntry] = self._scan()

    # -- scanning -----------------------------------------------------------------
    def _scan(self) -> list[ModelEntry]:
        entries: list[ModelEntry] = []
        for folder in sorted(self.path.glob(f"*{layout.MODEL_FOLDER_SUFFIX}")):
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            key = folder.name[: -len(layout.MODEL_FOLDER_SUFFIX)].lower()
            parsed: list[tuple[str, int, str, int | None, Path]] = []
            for file in folder.iterdir():
                # Dot files are atomic-write temporaries of a run still going or killed.
                if file.name.startswith(".") or not file.is_file():
                    continue
                named = layout.parse_file_name(file.name)
                if named is None:
                    continue
                parsed.append((named.display_name, named.window_days, named.kind, named.fold, file))
            if not parsed:
                continue
            display = self._display_name(key, [p[0] for p in parsed])
            windows: dict[int, dict[tuple[str, int | None], Path]] = {}
            for name, days, kind, fold, file in parsed:
                if name != display:
                    logger.debug("ignoring %s: its model name is not %r", file, display)
                    continue
                windows.setdefault(days, {})[(kind, fold)] = file
            self._files[key] = windows
            entries.append(ModelEntry(key=key, display_name=display, folder=folder))
        # The SPEC's five first, in the layout's order (SPEC_MODELS), then any other alphabetically.
        order = {name: i for i, name in enumerate(layout.SPEC_MODELS)}
        entries.sort(key=lambda e: (order.get(e.key, len(order)), e.key))
        return entries

    @staticmethod
    def _display_name(key: str, names: Sequence[str]) -> str:
        # The display name whose lower case is the folder's registry name wins;
        # otherwise the most common prefix in the folder.
        for name in dict.fromkeys(names):
            if name.lower() == key:
                return name
        return Counter(names).most_common(1)[0][0]

    # -- lookup ---------------------------------------------------------------------
    def model(self, model: str | ModelEntry) -> ModelEntry:
        """The entry for a registry name or display name (case-insensitive)."""
        if isinstance(model, ModelEntry):
            return model
        wanted = str(model).lower()
        for entry in self.models:
            if wanted in (entry.key, entry.display_name.lower(), entry.display_name.lower() + "model"):
                return entry
        raise SeismagError(f"{self.path}: no results for model {model!r}")

    def windows(self, model: str | ModelEntry | None = None) -> list[int]:
        """Window lengths (days) with any file, for one model or for all."""
        keys = [self.model(model).key] if model is not None else list(self._files)
        return sorted({days for key in keys for days in self._files.get(key, {})})

    def file(self, model: str | ModelEntry, window_days: int, kind: str, fold: int | None = None) -> Path:
        """Where a file of the contract lives (whether or not it exists)."""
        entry = self.model(model)
        if kind in WINDOW_KINDS:
            return entry.folder / layout.window_file_name(entry.display_name, window_days, kind)
        if kind not in FOLD_KINDS or fold is None:
            raise ValueError(f"unknown file kind {kind!r} (fold={fold!r})")
        return entry.folder / layout.fold_file_name(entry.display_name, window_days, fold, kind)

    def has(self, model: str | ModelEntry, window_days: int, kind: str, fold: int | None = None) -> bool:
        files = self._files.get(self.model(model).key, {}).get(int(window_days), {})
        return (kind, fold) in files

    def folds(
        self,
        model: str | ModelEntry,
        window_days: int,
        require: Sequence[str] = ("test_probs", "test_labels"),
    ) -> list[int]:
        """Fold numbers (1-based, sorted) that have every file kind in ``require``."""
        files = self._files.get(self.model(model).key, {}).get(int(window_days), {})
        folds = {fold for (_kind, fold) in files if fold is not None}
        return sorted(f for f in folds if all((kind, f) in files for kind in require))

    def expected_folds(self, model: str | ModelEntry, window_days: int) -> int:
        """How many folds this model and window should have.

        The largest of the summary's ``num_folds``, the length of the ensemble
        config's ``ensemble_weights`` and the highest fold number of any file.
        """
        entry = self.model(model)
        files = self._files.get(entry.key, {}).get(int(window_days), {})
        counts = [max((fold for (_k, fold) in files if fold is not None), default=0)]
        summary = self.summary(entry, window_days)
        if summary and isinstance(summary.get("num_folds"), int):
            counts.append(summary["num_folds"])
        config = self.ensemble_config(entry, window_days)
        if config and isinstance(config.get("ensemble_weights"), list):
            counts.append(len(config["ensemble_weights"]))
        return max(counts)

    def note_missing_folds(
        self, model: str | ModelEntry, window_days: int, used: Sequence[int], what: str,
        notes: list[str] | None,
    ) -> None:
        """Note (see :func:`note`) when ``used`` is not every expected fold."""
        entry = self.model(model)
        expected = self.expected_folds(entry, window_days)
        missing = sorted(set(range(1, expected + 1)) - set(used))
        if missing and used:
            note(notes, f"{entry.display_name} {window_name(window_days)}: fold(s) "
                        f"{', '.join(map(str, missing))} missing; {what} drawn from {len(used)} "
                        f"of {expected} folds")

    def select(
        self,
        windows: Iterable[int | str] | None = None,
        models: Iterable[str] | None = None,
        notes: list[str] | None = None,
    ) -> tuple[list[ModelEntry], list[int]]:
        """Resolve user filters into (models, windows) that exist.

        Requested models or windows that are not in the folder are skipped with
        a note. Raises :class:`NothingToPlot` when nothing is left.
        """
        if isinstance(windows, (str, int)):
            windows = [windows]
        if isinstance(models, str):
            models = [models]
        if not self.models:
            raise NothingToPlot(
                f"{self.path}: no model results found (expected folders like gru_models/ "
                "holding files such as GRUModel_7day_fold_1_test_probs.npy)"
            )
        chosen = list(self.models)
        if models is not None:
            chosen = []
            for name in models:
                try:
                    entry = self.model(name)
                except SeismagError:
                    note(notes, f"model {name!r}: no results in {self.path}; skipped")
                    continue
                if entry not in chosen:
                    chosen.append(entry)
        available = sorted({d for e in chosen for d in self.windows(e)})
        if windows is None:
            days = available
        else:
            days = []
            for value in windows:
                window = parse_window(value)
                if window not in available:
                    note(notes, f"window {window_name(window)}: no results in {self.path}; skipped")
                elif window not in days:
                    days.append(window)
            days.sort()
        if not chosen or not days:
            raise NothingToPlot(f"{self.path}: none of the requested models/windows have results")
        return chosen, days

    def check_readable(self, models: Sequence[ModelEntry], windows: Sequence[int]) -> None:
        """Read every file the figures of ``models`` x ``windows`` may open, before any is drawn.

        JSON files (summaries, ensemble configs, permutation files, fold metrics, the run
        record) are parsed, epoch logs parsed and ``.npy`` headers checked, so a torn or
        invalid file stops ``plot_all`` with one :class:`DataError` naming it and no
        figure written, instead of half the figures.
        """
        for path in (self.path / layout.RUN_CONFIG_FILE, self.path / layout.DATASET_SUMMARY_FILE):
            if path.is_file():
                _load_json_object(path)
        for entry in models:
            for days in windows:
                for (kind, _fold), path in sorted(self._files.get(entry.key, {}).get(days, {}).items(),
                                                  key=lambda item: str(item[1])):
                    if path.suffix == ".json":
                        self._object(path)
                    elif path.suffix == ".npy":
                        problem = npy_problem_message(path)
                        if problem is not None:
                            raise DataError(path, problem)
                    elif kind == "logs":
                        parse_epoch_log(path)

    # -- reading ----------------------------------------------------------------
    def _object(self, path: Path) -> dict[str, Any]:
        # Summaries and configs are read by several figures; parse each once.
        if path not in self._json:
            self._json[path] = _load_json_object(path)
        return self._json[path]

    def summary(self, model: str | ModelEntry, window_days: int) -> dict[str, Any] | None:
        """``{Model}Model_{N}day_summary.json``, or ``None`` when absent."""
        if not self.has(model, window_days, "summary"):
            return None
        return self._object(self.file(model, window_days, "summary"))

    def ensemble_config(self, model: str | ModelEntry, window_days: int) -> dict[str, Any] | None:
        """``{Model}Model_{N}day_ensemble_config.json``, or ``None`` when absent."""
        if not self.has(model, window_days, "ensemble_config"):
            return None
        return self._object(self.file(model, window_days, "ensemble_config"))

    def fold_metrics(self, model: str | ModelEntry, window_days: int, fold: int) -> dict[str, Any] | None:
        """A fold's ``_metrics.json``, or ``None`` when absent."""
        if not self.has(model, window_days, "metrics", fold):
            return None
        return self._object(self.file(model, window_days, "metrics", fold))

    def predictions(self, model: str | ModelEntry, window_days: int, fold: int) -> tuple[np.ndarray, np.ndarray]:
        """Validation ``(probs, labels)`` of a fold: float64 ``(n,)`` and int64 ``(n,)`` in {0, 1}."""
        probs_path = self.file(model, window_days, "test_probs", fold)
        labels_path = self.file(model, window_days, "test_labels", fold)
        probs = _load_vector(probs_path, kind="probability").astype(np.float64)
        labels = _load_vector(labels_path, kind="label")
        if probs.shape != labels.shape:
            raise DataError(probs_path, f"{probs.shape[0]} probabilities but {labels_path.name} "
                                        f"holds {labels.shape[0]} labels")
        if not np.all(np.isfinite(probs)) or probs.min(initial=0.0) < 0 or probs.max(initial=0.0) > 1:
            raise DataError(probs_path, "probabilities must be finite and within [0, 1]")
        if not np.all(np.isin(labels, (0, 1))):
            raise DataError(labels_path, "labels must be 0 or 1")
        return probs, labels.astype(np.int64)

    def epoch_log(self, model: str | ModelEntry, window_days: int, fold: int) -> EpochLog | None:
        """A fold's parsed ``_logs.txt``, or ``None`` when absent."""
        if not self.has(model, window_days, "logs", fold):
            return None
        return parse_epoch_log(self.file(model, window_days, "logs", fold))

    def run_config(self) -> dict[str, Any] | None:
        """``run_config.json``, or ``None`` when absent."""
        path = self.path / layout.RUN_CONFIG_FILE
        return _load_json_object(path) if path.is_file() else None

    def dataset_summary(self) -> dict[str, Any] | None:
        """``dataset_summary.json``, or ``None`` when absent."""
        path = self.path / layout.DATASET_SUMMARY_FILE
        return _load_json_object(path) if path.is_file() else None

    def fold_weights(
        self, model: str | ModelEntry, window_days: int, folds: Sequence[int]
    ) -> tuple[np.ndarray, str | None]:
        """Weights of ``folds`` for averaging, and a note when they had to be replaced.

        The weights are the ensemble config's ``ensemble_weights`` (validation F1
        normalised, in fold order), taken for the folds given and normalised to
        sum to 1. Without a usable ensemble config every fold weighs the same.
        """
        folds = list(folds)
        equal = np.full(len(folds), 1.0 / max(len(folds), 1))
        entry = self.model(model)
        where = f"{entry.display_name} {window_name(window_days)}"
        config = self.ensemble_config(entry, window_days)
        if config is None:
            return equal, f"{where}: no ensemble config; folds averaged with equal weights"
        weights = config.get("ensemble_weights")
        if not isinstance(weights, list) or not weights:
            return equal, f"{where}: ensemble config has no ensemble_weights; folds averaged with equal weights"
        if max(folds, default=0) > len(weights):
            return equal, (f"{where}: ensemble_weights has {len(weights)} entries but fold "
                           f"{max(folds)} exists; folds averaged with equal weights")
        try:
            chosen = np.array([float(weights[f - 1]) for f in folds])
        except (TypeError, ValueError):
            return equal, f"{where}: ensemble_weights are not numbers; folds averaged with equal weights"
        if not np.all(np.isfinite(chosen)) or np.any(chosen < 0) or chosen.sum() <= 0:
            return equal, f"{where}: ensemble_weights unusable; folds averaged with equal weights"
        return chosen / chosen.sum(), None

    def metric_stats(self, model: str | ModelEntry, window_days: int) -> MetricStats | None:
        """Mean and std over folds of every metric, or ``None`` when nothing is there.

        Read from the summary when present, else from the ensemble config's
        ``average_metrics``, else recomputed (``np.mean`` / ``np.std``, ddof=0 as
        the contract says) from the per-fold ``_metrics.json`` files that exist.
        """
        entry = self.model(model)
        summary = self.summary(entry, window_days)
        if summary is not None and isinstance(summary.get("mean"), dict):
            mean, std = summary["mean"], summary.get("std") or {}
            num = summary.get("num_folds") or len(summary.get("val_f1s") or [])
            return MetricStats(
                mean=_numbers(mean), std=_numbers(std), num_folds=int(num or 0), source="summary",
                path=self.file(entry, window_days, "summary"), protocol=summary.get("protocol"),
            )
        config = self.ensemble_config(entry, window_days)
        if config is not None and isinstance(config.get("average_metrics"), dict):
            averages = config["average_metrics"]
            mean = {k: v.get("mean") for k, v in averages.items() if isinstance(v, dict)}
            std = {k: v.get("std") for k, v in averages.items() if isinstance(v, dict)}
            return MetricStats(
                mean=_numbers(mean), std=_numbers(std),
                num_folds=len(config.get("fold_metrics") or config.get("ensemble_weights") or []),
                source="ensemble_config", path=self.file(entry, window_days, "ensemble_config"),
                protocol=config.get("protocol"),
            )
        folds = self.folds(entry, window_days, require=("metrics",))
        if not folds:
            return None
        per_fold = [self.fold_metrics(entry, window_days, f) or {} for f in folds]
        numbers = [{key: _number(m.get(key)) for key in METRIC_KEYS} for m in per_fold]
        mean, std = fold_mean_std(numbers)
        # A metric no fold has stays absent here (the figures skip it), not None.
        mean = {k: v for k, v in mean.items() if v is not None}
        std = {k: v for k, v in std.items() if v is not None}
        return MetricStats(mean=mean, std=std, num_folds=len(folds), source="fold_metrics",
                           path=self.file(entry, window_days, "metrics", folds[0]))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _numbers(mapping: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in mapping.items():
        number = _number(value)
        if number is not None:
            out[key] = number
    return out
