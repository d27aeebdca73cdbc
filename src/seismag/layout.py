"""The on-disk contracts, for the writers and the readers alike.

Why this module is long: it is the one owner of both contracts (names, schemas and the
checks a file must pass, each problem worded for the user); split up, the readers and
the writers would again each keep their own copy of a rule.

**Seed layout** (``seismag synth`` and ``seismag build`` write it; loading, analysis and
training read it)::

    DATA/window-{N}/data_0.npy   (n_class0, N * steps_per_day + 1), label 0 in the last column
    DATA/window-{N}/data_1.npy   (n_class1, N * steps_per_day + 1), label 1 in the last column
    DATA/window-{N}/meta.csv     optional: one row per sample, file order (class 0, then class 1)

**Results layout** (training and ``seismag evaluate`` write it; the plots and the report
read it), described in full in ``docs/artifacts.md``::

    RESULTS/run_config.json, dataset_summary.json
    RESULTS/{model}_models/{Display}Model_{N}day_fold_{k}.pth, ..._fold_{k}_logs.txt, ...
    RESULTS/{model}_models/{Display}Model_{N}day_summary.json, ..._ensemble_config.json, ...

This module is the one place that says what those files are called and hold: names,
the epoch-log line, the metric keys, the summary and ensemble-config schema, and the
checks a class file must pass. It builds names and plain dicts and checks files; the
writers (``training.artifacts``, ``data.synthetic``, ...) keep doing the writing.

It imports neither torch nor the training or model code, so the plots (which redraw
results made on another machine) and the data layer use it without pulling them in.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from seismag.errors import DataError, describe_os_error

# =========================================================================== seed layout

WINDOW_DIR_PREFIX = "window-"
#: ``CLASS_FILES[c]`` holds the samples of class ``c`` (label ``c`` in its last column).
CLASS_FILES = ("data_0.npy", "data_1.npy")
META_FILE = "meta.csv"


def window_dir_name(window_days: int) -> str:
    """``7`` -> ``"window-7"``, the folder of one window length."""
    return f"{WINDOW_DIR_PREFIX}{int(window_days)}"


def window_dir(data_dir: str | os.PathLike, window_days: int) -> Path:
    """``data_dir/window-{N}``."""
    return Path(data_dir) / window_dir_name(window_days)


def window_fingerprint(folder: str | os.PathLike) -> str:
    """SHA-256 over one window folder's class files and ``meta.csv`` (when present).

    Read in 1 MiB blocks, so memory stays flat for large windows. Two folders with
    the same fingerprint hold the same bytes; ``--resume`` compares it with the one
    a results folder recorded.
    """
    import hashlib

    digest = hashlib.sha256()
    for name in (*CLASS_FILES, META_FILE):
        path = Path(folder) / name
        if not path.is_file():
            continue
        digest.update(f"{name}:{path.stat().st_size}:".encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


# How each problem with a class file is put into words. The loader (training, evaluate,
# tune) and the analyzer (``seismag analyze``) have always worded the same problems
# differently, and users and tests read both; the checks behind them are one
# (:func:`check_class_file`). The analyzer words every label problem the same way.
_ANALYSIS_LABEL = ("label column (last column) must be {label} in {class_file}, but {n_wrong} of "
                   "{n_rows} rows differ (first: row {first}, label {first_value!r})")
CLASS_FILE_WORDINGS: dict[str, dict[str, str]] = {
    "loader": {
        "missing": "class-{label} file not found",
        "directory": "is a directory, not a .npy file",
        "symlink_loop": "is a symbolic link loop (the link never reaches a file)",
        "not_readable": "cannot be read ({cause})",
        "zero_bytes": "cannot be read as a .npy file (no NumPy header)",
        "npz": "cannot be read as a .npy file (no NumPy header)",
        "no_header": "cannot be read as a .npy file (no NumPy header){looks}",
        "pickled": "not a numeric NumPy array (pickled Python objects, dtype object)",
        "truncated": "truncated: the header promises {promised}, the file holds fewer bytes ({size} of {needed})",
        "not_mappable": "not a numeric NumPy array ({error})",
        "unreadable": "cannot be read as a .npy file ({error_type}: {error})",
        "dtype": "has non-numeric dtype {dtype}; expected floats",
        "ndim": "must be 2-D (samples x (features + label)), got shape {shape}",
        "empty": "is empty (0 samples)",
        "columns": ("has {found} feature columns + 1 label column, expected {days} days x {steps} steps = "
                    "{expected} features; check the window folder and steps_per_day"),
        "label_not_finite": "label column (last) holds NaN/inf at row {row}",
        "label_not_binary": "label column (last) must be 0 or 1, found {value:g} at row {row}",
        "label_mismatch": "row {row} is labelled {value} but this file holds class {label}",
    },
    "analysis": {
        "missing": "missing class file (class {label} samples of the {days}-day window)",
        "directory": "a directory, not a .npy file",
        "symlink_loop": "a symbolic link loop (the link never reaches a file)",
        "not_readable": "cannot be read ({cause})",
        "zero_bytes": "empty file (0 bytes)",
        "npz": "not a single .npy array (looks like an .npz archive)",
        "no_header": "not a readable .npy array (no NumPy header){looks}",
        "pickled": "not a readable .npy array (pickled Python objects, dtype object, not numbers)",
        "truncated": ("not a readable .npy array (truncated: the header promises {promised}, "
                      "the file holds fewer bytes ({size} of {needed}))"),
        "not_mappable": "not a readable .npy array ({error})",
        "unreadable": "not a readable .npy array ({error})",
        "dtype": "non-numeric dtype {dtype}; expected integer or float values",
        "ndim": "expected a 2-D array (n_samples, n_features + 1), got shape {shape}",
        "empty": "empty file: no samples (shape {shape})",
        "columns": ("{found} feature columns (+ 1 label column), expected {expected} "
                    "= {days} days x {steps} steps per day"),
        "label_not_finite": _ANALYSIS_LABEL,
        "label_not_binary": _ANALYSIS_LABEL,
        "label_mismatch": _ANALYSIS_LABEL,
    },
}


def _shape_words(shape: tuple[int, ...]) -> str:
    if len(shape) == 2:
        return f"{shape[0]} rows of {shape[1]} values"
    count = int(np.prod(shape, dtype=np.int64))
    return f"{count} values (shape {shape})"


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the sample is still text.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in text)


def npy_file_problem(path: str | os.PathLike) -> tuple[str, dict[str, Any]] | None:
    """What keeps ``path`` from being read as one numeric ``.npy`` array, from its header alone.

    Returns ``None`` when the file looks sound, else ``(problem, facts)``: ``problem`` a
    key of :data:`CLASS_FILE_WORDINGS` (``missing``, ``directory``, ``symlink_loop``,
    ``not_readable``, ``zero_bytes``, ``npz``, ``no_header``, ``pickled``, ``truncated``,
    ``unreadable``) and ``facts`` the values its wording names. Only the header is read;
    the readers of class files and of the results' fold arrays share it, so a truncated
    file or a symlink loop reads the same everywhere.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return "missing", {}
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink_loop", {}
        return "not_readable", {"cause": describe_os_error(exc)}
    if stat.S_ISDIR(info.st_mode):
        return "directory", {}
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
            if not head:
                return "zero_bytes", {}
            if head.startswith(b"PK"):
                return "npz", {}
            if head != b"\x93NUMPY":
                head += handle.read(506)
                looks = "; it looks like a text or CSV file" if _looks_like_text(head) else ""
                return "no_header", {"looks": looks}
            handle.seek(0)
            try:
                version = np.lib.format.read_magic(handle)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _fortran, dtype = read_header(handle)
            except Exception as exc:  # noqa: BLE001  (a corrupt header: one clear message)
                return "unreadable", {"error": exc, "error_type": type(exc).__name__}
            offset = handle.tell()
    except OSError as exc:
        return "not_readable", {"cause": describe_os_error(exc)}
    if dtype.hasobject:
        return "pickled", {}
    needed = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if info.st_size < needed:
        return "truncated", {"promised": _shape_words(tuple(shape)), "size": info.st_size, "needed": needed}
    return None


def npy_problem_message(path: str | os.PathLike) -> str | None:
    """:func:`npy_file_problem` in the loader's words (``None`` when the header is sound),
    for any ``.npy`` a reader opens (the results' fold arrays, say), not only class files."""
    problem = npy_file_problem(path)
    if problem is None:
        return None
    kind, facts = problem
    return "file not found" if kind == "missing" else CLASS_FILE_WORDINGS["loader"][kind].format(**facts)


def check_class_file(path: str | os.PathLike, label: int, window_days: int, steps_per_day: int,
                     *, wording: str = "loader") -> np.ndarray:
    """Open one class file of the seed layout memory-mapped, after every check it must pass.

    The checks, in this order: the file exists, is not 0 bytes, is a single ``.npy``
    array (not an ``.npz`` archive, not pickled), can be memory-mapped, has an integer or
    float dtype, is 2-D, has at least one row, has ``window_days * steps_per_day``
    feature columns plus the label column, and its label column (the last) is finite,
    0 or 1, and equal to ``label`` in every row. Only the label column is read; the
    feature values (NaN, infinities) are the loader's to check after conversion.

    Parameters
    ----------
    path : path
        ``window-{N}/data_{label}.npy``.
    label : {0, 1}
        The class this file holds.
    window_days, steps_per_day : int
        The window length N in days and the samples per day (1440 for 1-minute data).
    wording : {'loader', 'analysis'}
        Which wording of :data:`CLASS_FILE_WORDINGS` the error uses.

    Returns
    -------
    np.ndarray
        The memory-mapped (read-only) array, shape ``(n_samples, N * steps_per_day + 1)``.

    Raises
    ------
    DataError
        Naming the file and the first problem found.
    """
    words = CLASS_FILE_WORDINGS[wording]
    path = Path(path)
    days, steps = int(window_days), int(steps_per_day)
    expected = days * steps

    def fail(problem: str, **facts: Any) -> DataError:
        return DataError(path, words[problem].format(label=label, class_file=CLASS_FILES[label], days=days,
                                                     steps=steps, expected=expected, **facts))

    problem = npy_file_problem(path)
    if problem is not None:
        raise fail(problem[0], **problem[1])
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        # An object (pickled) array, or a truncated file, cannot be memory-mapped.
        raise fail("not_mappable", error=exc) from None
    except Exception as exc:  # noqa: BLE001  (a corrupt header and the like: one clear message)
        raise fail("unreadable", error=exc, error_type=type(exc).__name__) from None
    if array.dtype.kind not in "iuf":
        raise fail("dtype", dtype=array.dtype)
    shape = tuple(array.shape)
    if array.ndim != 2:
        raise fail("ndim", shape=shape)
    if shape[0] == 0:
        raise fail("empty", shape=shape)
    if shape[1] != expected + 1:
        raise fail("columns", found=shape[1] - 1)
    raw = np.asarray(array[:, -1])  # one value per row: cheap even for a large file
    wrong = np.flatnonzero(raw != label)
    if wrong.size:
        column = raw.astype(np.float64)
        facts = {"n_wrong": wrong.size, "n_rows": shape[0], "first": int(wrong[0]),
                 "first_value": raw[wrong[0]].item()}
        not_finite = np.flatnonzero(~np.isfinite(column))
        not_binary = np.flatnonzero(~np.isin(column, (0.0, 1.0)))
        if not_finite.size:
            raise fail("label_not_finite", row=int(not_finite[0]), **facts)
        if not_binary.size:
            row = int(not_binary[0])
            raise fail("label_not_binary", row=row, value=column[row], **facts)
        row = int(wrong[0])
        raise fail("label_mismatch", row=row, value=int(column[row]), **facts)
    return array


# ========================================================================= dataset.json

#: Beside the window folders (``DATA/dataset.json``), written by ``seismag build`` and
#: ``seismag synth``. A folder without it holds one channel, as the SPEC's seed layout.
DATASET_FILE = "dataset.json"
DATASET_FORMAT = "seismag-dataset"
#: Per-window geomagnetic-activity columns of ``meta.csv`` (``seismag build --kp --dst --ssc``):
#: the largest 3-hourly Kp, the lowest hourly Dst (nT) and the number of storm sudden
#: commencements within the window's days. The ``activity`` model's input.
ACTIVITY_COLUMNS = ("max_kp", "min_dst", "n_ssc")
DATASET_VERSION = 1
#: Order of a row's feature columns: all channels of day 1 (each ``steps_per_day`` long),
#: then day 2, ... A sequence model's day token is one day of every channel side by side.
FEATURE_ORDER = "day, channel, step"

# ------------------------------------------------------------------------ label settings

#: ``dataset.json``'s key for the events that made a window class 1 (``seismag build``
#: writes it). Every ensemble trained on the folder carries the same dict, and ``seismag
#: scan`` records it per model beside ``scores.csv`` (:func:`write_forecast_scores`), so
#: ``seismag skill`` judges forecasts by the targets the models learnt.
LABELS_KEY = "labels"
#: Its keys: ``min_magnitude``; ``radius`` (``'dobrovolsky'``: ``10 ** (0.43 M)`` km per
#: event, or ``'fixed'``); ``radius_km`` (the fixed radius, None for Dobrovolsky);
#: ``lead_days`` (the label horizon after a window's end); ``max_depth_km`` (None: no
#: depth cut, every event counts by its epicentral distance whatever its depth);
#: ``decluster`` (causal Gardner-Knopoff mainshocks only).
LABEL_KEYS = ("min_magnitude", "radius", "radius_km", "lead_days", "max_depth_km", "decluster")
RADIUS_RULES = ("dobrovolsky", "fixed")


def label_settings(record: Mapping[str, Any], where: str | os.PathLike) -> dict[str, Any]:
    """A label-settings mapping checked and in plain types (the :data:`LABEL_KEYS`, in order).

    ``where`` names the file (or thing) in the one-line :class:`DataError` a missing or
    unknown key, or a value of the wrong kind, raises.
    """
    def fail(problem: str) -> DataError:
        return DataError(where, f"'{LABELS_KEY}': {problem}")

    if not isinstance(record, Mapping):
        raise fail(f"must be a mapping of {', '.join(LABEL_KEYS)}")
    missing = [key for key in LABEL_KEYS if key not in record]
    unknown = sorted(str(key) for key in record if key not in LABEL_KEYS)
    if missing or unknown:
        raise fail("; ".join(part for part in (f"missing {', '.join(missing)}" if missing else "",
                                               f"unknown {', '.join(unknown)}" if unknown else "") if part))

    def number(key: str, value: Any, *, positive: bool = False) -> float:
        if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
                or not np.isfinite(value) or (positive and value <= 0)):
            raise fail(f"{key} must be a {'positive ' if positive else ''}number, got {value!r}")
        return float(value)

    radius, radius_km = record["radius"], record["radius_km"]
    if radius not in RADIUS_RULES:
        raise fail(f"radius must be one of {', '.join(RADIUS_RULES)}, got {radius!r}")
    if (radius == "fixed") != (radius_km is not None):
        raise fail(f"radius_km must be {'a number' if radius == 'fixed' else 'null'} with radius {radius}, "
                   f"got {radius_km!r}")
    lead_days = record["lead_days"]
    if isinstance(lead_days, bool) or not isinstance(lead_days, (int, np.integer)) or lead_days < 1:
        raise fail(f"lead_days must be a whole number of days >= 1, got {lead_days!r}")
    if not isinstance(record["decluster"], (bool, np.bool_)):
        raise fail(f"decluster must be true or false, got {record['decluster']!r}")
    depth = record["max_depth_km"]
    return {"min_magnitude": number("min_magnitude", record["min_magnitude"]), "radius": str(radius),
            "radius_km": None if radius_km is None else number("radius_km", radius_km, positive=True),
            "lead_days": int(lead_days),
            "max_depth_km": None if depth is None else number("max_depth_km", depth),
            "decluster": bool(record["decluster"])}


def read_label_settings(data_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The label settings ``DATA/dataset.json`` records; None when unknown (no
    ``dataset.json``, or one without :data:`LABELS_KEY`: synthetic windows, older builds)."""
    info = read_dataset_info(data_dir)
    return None if info is None else (None if info.labels is None else dict(info.labels))


@dataclass(frozen=True)
class DatasetInfo:
    """What ``dataset.json`` records about a seed-layout folder.

    ``channels`` / ``units``: the component of each channel, in column order within a day
    (``('H', 'D', 'Z')``, ``('nT', 'arcmin', 'nT')``); ``steps_per_day``: samples per day
    and channel as stored; ``stations``: code -> ``{'latitude', 'longitude', ...}``;
    ``build``: the settings that made the folder; ``recipe``: the preprocessing steps
    (``seismag.dataset.recipe``) that turn the stored raw windows into model input, as plain
    dicts in order; ``activity_columns``: the geomagnetic-activity columns of ``meta.csv``;
    ``labels``: which events made a window class 1 (:func:`label_settings`; None when the
    folder does not say: an older build, or synthetic windows).
    """

    channels: tuple[str, ...] = ("H",)
    units: tuple[str, ...] = ("nT",)
    steps_per_day: int = 1440
    stations: Mapping[str, Mapping[str, Any]] = None  # type: ignore[assignment]
    build: Mapping[str, Any] = None  # type: ignore[assignment]
    recipe: tuple[Mapping[str, Any], ...] = ()
    activity_columns: tuple[str, ...] = ()
    labels: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "stations", dict(self.stations or {}))
        object.__setattr__(self, "build", dict(self.build or {}))
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "units", tuple(self.units))
        object.__setattr__(self, "recipe", tuple(dict(step) for step in self.recipe))
        object.__setattr__(self, "activity_columns", tuple(self.activity_columns))
        if self.labels is not None:
            object.__setattr__(self, "labels", label_settings(self.labels, "the dataset's label settings"))

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    def to_dict(self) -> dict[str, Any]:
        record = {"format": DATASET_FORMAT, "version": DATASET_VERSION,
                  "channels": list(self.channels), "units": list(self.units),
                  "steps_per_day": int(self.steps_per_day), "feature_order": FEATURE_ORDER,
                  "stations": {code: dict(info) for code, info in self.stations.items()},
                  "build": dict(self.build), "recipe": [dict(step) for step in self.recipe],
                  "activity_columns": list(self.activity_columns)}
        if self.labels is not None:  # absent: unknown (synthetic windows, older builds)
            record[LABELS_KEY] = dict(self.labels)
        return record

    @classmethod
    def from_dict(cls, record: Mapping[str, Any], path: str | os.PathLike = DATASET_FILE) -> "DatasetInfo":
        """Checked: a wrong format, version or field is one :class:`DataError` naming ``path``."""
        _check_format(record, path, DATASET_FORMAT, DATASET_VERSION, "a seismag dataset description")
        if record.get("feature_order", FEATURE_ORDER) != FEATURE_ORDER:
            raise DataError(path, f"feature_order must be '{FEATURE_ORDER}', got {record.get('feature_order')!r}")
        channels, units = record.get("channels"), record.get("units")
        if (not isinstance(channels, list) or not channels or not all(isinstance(c, str) and c for c in channels)
                or len(set(channels)) != len(channels)):
            raise DataError(path, "'channels' must be a non-empty list of distinct component names")
        if not isinstance(units, list) or len(units) != len(channels) or not all(isinstance(u, str) for u in units):
            raise DataError(path, f"'units' must list one unit per channel ({len(channels)})")
        steps = record.get("steps_per_day")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise DataError(path, f"'steps_per_day' must be a positive integer, got {steps!r}")
        for key, kind in (("stations", Mapping), ("build", Mapping), ("recipe", list), ("activity_columns", list)):
            if key in record and not isinstance(record[key], kind):
                raise DataError(path, f"'{key}' must be a {'list' if kind is list else 'mapping'}")
        recipe = record.get("recipe", [])
        if not all(isinstance(step, Mapping) and isinstance(step.get("step"), str) for step in recipe):
            raise DataError(path, "every 'recipe' entry must be a mapping with a 'step' name")
        labels = record.get(LABELS_KEY)
        return cls(tuple(channels), tuple(units), steps, record.get("stations", {}), record.get("build", {}),
                   tuple(recipe), tuple(record.get("activity_columns", [])),
                   None if labels is None else label_settings(labels, path))


def dataset_info_path(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / DATASET_FILE


def read_dataset_info(data_dir: str | os.PathLike) -> DatasetInfo | None:
    """``DATA/dataset.json`` checked, or None when the folder has none (one channel, no recipe)."""
    path = dataset_info_path(data_dir)
    record = _read_json(path)
    return None if record is None else DatasetInfo.from_dict(record, path)


def _read_json(path: Path) -> Any | None:
    """A JSON file's content, or None when there is no such file; DataError naming it otherwise."""
    import json

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise DataError(path, f"cannot be read: {describe_os_error(error)}") from None
    try:
        record = json.loads(text)
    except ValueError as error:
        raise DataError(path, f"is not valid JSON ({error})") from None
    return record


def _check_format(record: Any, path: str | os.PathLike, name: str, version: int, what: str) -> None:
    """A record's ``format`` must be ``name`` and its ``version`` ``version`` (DataError naming ``path``)."""
    if not isinstance(record, Mapping) or record.get("format") != name:
        raise DataError(path, f"is not {what} ('format' must be '{name}')")
    if record.get("version") != version:
        raise DataError(path, f"has version {record.get('version')!r}; this seismag reads version {version}")


# ==================================================================== forecast files

#: ``scores.csv`` (``seismag scan`` writes it; ``seismag skill`` and the skill figures read it):
#: one row per station, UTC day and model, in these columns. ``window_end`` is the ISO date
#: of the midnight the window ends at; an empty ``prob_class1`` is a day with too much missing
#: data; ``in_sample`` is ``true``/``false`` against the ensemble's training period.
SCORE_COLUMNS = ("station", "latitude", "longitude", "window_end", "model", "prob_class1", "member_std",
                 "missing_fraction", "in_sample")
#: Beside ``scores.csv``, its companion ``scores.meta.json`` (the CSV's name with
#: :data:`SCORES_META_SUFFIX` for its suffix): per model (the ``model`` column) the
#: ``ensemble`` scanned, its ``training_period`` and its ``labels`` (:data:`LABEL_KEYS`; null:
#: the ensemble does not know them), and the CSV's ``scores_sha256``, so that a companion
#: left beside another CSV is told apart. Written with the CSV by :func:`write_forecast_scores`.
SCORES_META_SUFFIX = ".meta.json"
SCORES_META_FORMAT = "seismag-scores-meta"
SCORES_META_VERSION = 1


def scores_meta_path(scores: str | os.PathLike) -> Path:
    """``DIR/scores.csv`` -> ``DIR/scores.meta.json``, the companion of a scores table."""
    scores = Path(scores)
    return scores.with_name(scores.stem + SCORES_META_SUFFIX)


def write_forecast_scores(out: str | os.PathLike, rows: Sequence[Sequence[Any]],
                          models: Mapping[str, Mapping[str, Any]]) -> Path:
    """Write ``scores.csv`` (:data:`SCORE_COLUMNS`, then ``rows`` as given) and its companion.

    ``models``: the ``model`` column's name -> ``{'ensemble', 'training_period', 'labels'}``
    (``labels`` checked by :func:`label_settings`, or None). Each file is written atomically
    and neither replaces an old one unless both were written in full; the companion is
    renamed into place just before the CSV, and records the CSV's SHA-256, so that the one
    way they can part (a crash between the two renames) is recognised by
    :func:`read_forecast_meta`.
    """
    import csv
    import hashlib
    import io as _io

    from seismag.io import atomic_path, write_json

    text = _io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(SCORE_COLUMNS)
    writer.writerows(rows)
    data = text.getvalue().encode("utf-8")
    record = {"format": SCORES_META_FORMAT, "version": SCORES_META_VERSION, "scores": Path(out).name,
              "scores_sha256": hashlib.sha256(data).hexdigest(),
              "models": {name: _model_meta(entry, f"model {name}") for name, entry in sorted(models.items())}}
    with atomic_path(out) as tmp:
        tmp.write_bytes(data)
        write_json(scores_meta_path(out), record)
    return Path(out)


def _model_meta(entry: Mapping[str, Any], where: str) -> dict[str, Any]:
    labels, period = entry.get("labels"), entry.get("training_period")
    if period is not None and not isinstance(period, Mapping):
        raise DataError(where, f"'training_period' must be a mapping or null, got {period!r}")
    ensemble = entry.get("ensemble")
    return {"ensemble": None if ensemble is None else str(ensemble),
            "training_period": None if period is None else dict(period),
            "labels": None if labels is None else label_settings(labels, where)}


def read_forecast_meta(scores: str | os.PathLike) -> dict[str, Any] | None:
    """The companion of ``scores`` checked (see :func:`write_forecast_scores`); None when
    there is none (a scores.csv written before companions were, or by other means).

    Raises
    ------
    DataError
        Naming the companion: not JSON, another format or version, a bad model entry, or
        written with another ``scores.csv`` (its SHA-256 differs).
    """
    import hashlib

    path = scores_meta_path(scores)
    record = _read_json(path)
    if record is None:
        return None
    _check_format(record, path, SCORES_META_FORMAT, SCORES_META_VERSION, "a scores companion")
    models = record.get("models")
    if not isinstance(models, Mapping) or not all(isinstance(entry, Mapping) for entry in models.values()):
        raise DataError(path, "'models' must map each model to its ensemble, training_period and labels")
    try:
        digest = hashlib.sha256(Path(scores).read_bytes()).hexdigest()
    except OSError as error:
        raise DataError(scores, f"cannot be read: {describe_os_error(error)}") from None
    if digest != record.get("scores_sha256"):
        raise DataError(path, f"describes another {record.get('scores') or 'scores table'} than {scores} (their "
                              "SHA-256 differ): scan again to write both, or delete the companion to judge "
                              "without the recorded label settings")
    return {**record, "models": {name: _model_meta(entry, path) for name, entry in models.items()}}
#: ``seismag skill --out DIR`` writes ``DIR/skill.json`` and ``DIR/skill.csv``; the report
#: and ``seismag plot`` look for them in ``RESULTS/skill/``.
SKILL_FOLDER = "skill"
SKILL_JSON = "skill.json"
SKILL_CSV = "skill.csv"
SKILL_FORMAT = "seismag-skill"
#: 2: (event, station) pairs against within-station timing levels; surrogate and
#: family-wise adjusted p; paired comparisons by cluster sign flips (issue 24).
SKILL_VERSION = 2
#: A comparison's outcome in skill.json (``models[m]["versus"][ref]["outcome"]``; null
#: without surrogates): the model ahead of the reference, indistinguishable, behind it.
SKILL_OUTCOMES = ("ahead", "indistinguishable", "behind")
#: The alarm fractions skill.json gives the probability gain at (its keys).
GAIN_TAUS = ("0.05", "0.1", "0.2")
SKILL_CSV_COLUMNS = ("model", "kind", "n_events", "n_pairs", "n_station_days", "ass", "ass_p_value",
                     "ass_p_adjusted", "gain_0.05", "gain_0.1", "gain_0.2", "in_sample", "verdict")


# ======================================================================== results layout

RUN_CONFIG_FILE = "run_config.json"
DATASET_SUMMARY_FILE = "dataset_summary.json"
#: Present while train, synth or build writes into a results or seed-layout folder
#: (:func:`seismag.lock.folder_lock`); hidden, and no reader looks at it.
LOCK_FILE = ".seismag.lock"
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
FOLD_FILES = {
    "checkpoint": ".pth",
    "train_probs": "_train_probs.npy",
    "test_probs": "_test_probs.npy",
    "train_labels": "_train_labels.npy",
    "test_labels": "_test_labels.npy",
    "test_indices": "_test_indices.npy",
    "metrics": "_metrics.json",
    "logs": "_logs.txt",
}
FOLD_KINDS = tuple(FOLD_FILES)
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

    def fold_files(self, fold: int) -> list[Path]:
        return [self.fold_file(fold, kind) for kind in FOLD_KINDS]

    def fold_complete(self, fold: int) -> bool:
        return all(p.is_file() for p in self.fold_files(fold))

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


def parse_epoch_log(path: str | os.PathLike) -> list[dict[str, float]]:
    """Read a ``_logs.txt``: :func:`parse_epoch_lines` of its text."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot read epoch log ({exc})") from None
    return parse_epoch_lines(text, path)


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
