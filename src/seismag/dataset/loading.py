"""Loading and validating windows in the seed layout.

``DIR/window-{N}/data_0.npy`` and ``data_1.npy`` hold one sample per row,
``N * steps_per_day`` feature columns (the magnetometer series, oldest sample
first) and the label (0 or 1) in the last column. An optional ``meta.csv`` holds
one row per sample in file order (class-0 rows, then class-1 rows).

Every problem with a file is reported as one :class:`~seismag.errors.DataError`
naming the file, before anything is trained or written.

Why this module is long: :class:`WindowData` is the one description of a loaded window
that training, evaluation and inference share, so what it answers lives beside it: its
channels and ``dataset.json``, the recipe (applied in one place, :func:`apply_recipe`),
the activity columns the ``activity`` model takes, the time cut of ``--train-until`` and
the training period an ensemble records.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from seismag import defaults
from seismag.errors import ConfigError, DataError
from seismag.layout.dataset_info import (DATASET_FILE, DatasetInfo, assumed_dataset_info, dataset_info_or_assumed,
                                         dataset_info_path)
from seismag.layout.seed import (
    ACTIVITY_COLUMNS,
    CLASS_FILES,
    META_FILE,
    WINDOW_DIR_PREFIX,
    check_class_file,
    npy_file_problem,
    window_dir,
)
from seismag.sources.indices.storm import DST_STORM, KP_STORM

#: How missing samples (NaN) in a window are handled: interpolated in time, or refused.
NAN_POLICIES = ("interpolate", "refuse")


@dataclass
class WindowData:
    """One window length's samples, ready for training.

    Attributes
    ----------
    features : np.ndarray
        float32, C-contiguous, shape ``(n_samples, window_days * steps_per_day)``;
        values in the unit of the input (nT for magnetometer data).
    labels : np.ndarray
        int64, shape ``(n_samples,)``, 0 or 1.
    source_rows : np.ndarray
        int64, shape ``(n_samples,)``: each kept row's index in file order
        (class-0 file rows first, then class-1 rows), before any row was dropped.
    meta : dict of str to np.ndarray, or None
        ``meta.csv`` columns (strings), aligned with the kept rows.
    steps_per_day : int
        Width of one day of model input: every channel's steps of a day side by side,
        after the recipe (``channels * recipe.output_steps(raw steps)``). Sequence models
        see ``(batch, days, steps_per_day)``.
    dataset : DatasetInfo or None
        ``dataset.json`` of the folder (None: none there, so the folder holds what
        :func:`~seismag.layout.dataset_info.assumed_dataset_info` says).
    """

    window_days: int
    steps_per_day: int
    features: np.ndarray
    labels: np.ndarray
    source_rows: np.ndarray
    meta: dict[str, np.ndarray] | None = None
    path: Path | None = None
    dropped_rows: int = 0
    interpolated_rows: int = 0
    notes: list[str] = field(default_factory=list)
    dataset: DatasetInfo | None = None
    #: The recipe applied to the stored windows to make ``features`` (plain dicts, in order).
    recipe: tuple[dict, ...] = ()

    @property
    def channels(self) -> tuple[str, ...]:
        return (self.dataset or assumed_dataset_info()).channels

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    def select(self, keep: np.ndarray, note: str = "") -> "WindowData":
        """The rows where ``keep`` is true (features, labels, source rows and meta alike)."""
        meta = None if self.meta is None else {key: values[keep] for key, values in self.meta.items()}
        return dataclasses.replace(self, features=np.ascontiguousarray(self.features[keep]), labels=self.labels[keep],
                                   source_rows=self.source_rows[keep], meta=meta,
                                   notes=self.notes + ([note] if note else []))

    def until(self, date: str) -> "WindowData":
        """Only the windows whose label horizon ends on or before ``date`` (midnight UTC):
        ``--train-until``, so that a later scored period is out of sample. Needs the
        ``label_horizon_end`` column of ``meta.csv`` (``seismag build`` writes it)."""
        horizon = self._times("label_horizon_end", "--train-until")
        keep = horizon <= np.datetime64(date, "s")
        if not keep.any():
            raise DataError(self.meta_path, f"no window's label horizon ends by {date} (--train-until): "
                                            f"the first ends {str(horizon.min())}")
        return self.select(keep, f"window {self.window_days}: {int((~keep).sum())} windows after {date} left out "
                                 f"(--train-until), {int(keep.sum())} kept")

    def training_period(self, train_until: str = "") -> dict:
        """What the windows trained on span: the first ``window_start`` and the last
        ``label_horizon_end`` of ``meta.csv`` (None without those columns). Ensembles carry it,
        so that ``scan`` and ``skill`` can refuse to score days the model has seen."""
        period = {"train_until": train_until or None, "first_window_start": None, "last_horizon_end": None}
        if self.meta is not None and "window_start" in self.meta and "label_horizon_end" in self.meta:
            period["first_window_start"] = str(self._times("window_start", "the training period").min())
            period["last_horizon_end"] = str(self._times("label_horizon_end", "the training period").max())
        return period

    def _times(self, column: str, purpose: str) -> np.ndarray:
        text = self.meta_column(column)  # a clear DataError when meta.csv or the column is absent
        try:
            return np.array([np.datetime64(value.strip(), "s") for value in text], dtype="datetime64[s]")
        except ValueError:
            raise DataError(self.meta_path, f"column '{column}' holds a value that is not an ISO time "
                                            f"(needed for {purpose})") from None

    def activity_table(self) -> tuple[tuple[str, ...], np.ndarray]:
        """The ``meta.csv`` activity columns as float32 ``(n, columns)``: the ``activity`` model's input.

        The columns are those ``dataset.json`` lists (else every one of
        :data:`~seismag.layout.seed.ACTIVITY_COLUMNS` that ``meta.csv`` has). A missing
        column or an empty or non-numeric value is one :class:`DataError` naming ``meta.csv``.
        """
        where = self.meta_path
        listed = self.dataset.activity_columns if self.dataset else ()
        columns = tuple(listed) or tuple(c for c in ACTIVITY_COLUMNS if self.meta is not None and c in self.meta)
        if not columns:
            raise DataError(where, "has no geomagnetic-activity columns (" + ", ".join(ACTIVITY_COLUMNS)
                            + "); the activity model needs a build with --kp/--dst (seismag build)")
        table = np.empty((self.n_samples, len(columns)), dtype=np.float32)
        for index, name in enumerate(columns):
            text = self.meta_column(name)
            try:
                values = np.array([float(v) if v.strip() else np.nan for v in text], dtype=np.float64)
            except ValueError:
                raise DataError(where, f"column '{name}' holds a value that is not a number") from None
            if not np.isfinite(values).all():
                row = int(np.flatnonzero(~np.isfinite(values))[0])
                raise DataError(where, f"column '{name}' is empty or not finite for {int((~np.isfinite(values)).sum())} "
                                       f"windows (first at line {row + 2}): the indices do not cover them; "
                                       "the activity model needs every window covered")
            table[:, index] = values
        return columns, table

    def activity_by_class(self, activity_table=None) -> dict | None:
        """Per class, each activity column's mean, min and max, and the share of windows
        with a storm (max Kp >= KP_STORM or min Dst <= DST_STORM nT, the storm of
        :mod:`seismag.sources.indices.storm`); None without activity columns.
        A class that differs from the other here differs in storms, whatever else it holds.
        ``activity_table``: a function returning :meth:`activity_table`'s result, to reuse a
        table already parsed (the prepared window's)."""
        try:
            columns, table = (activity_table or self.activity_table)()
        except DataError:
            return None
        out: dict = {"columns": {}, "storm_share": []}
        for index, name in enumerate(columns):
            out["columns"][name] = [
                {"mean": float(table[self.labels == k, index].mean()), "min": float(table[self.labels == k, index].min()),
                 "max": float(table[self.labels == k, index].max())} if np.any(self.labels == k) else None
                for k in (0, 1)]
        storm = np.zeros(self.n_samples, dtype=bool)
        if "max_kp" in columns:
            storm |= table[:, columns.index("max_kp")] >= KP_STORM
        if "min_dst" in columns:
            storm |= table[:, columns.index("min_dst")] <= DST_STORM
        out["storm_share"] = [float(storm[self.labels == k].mean()) if np.any(self.labels == k) else None
                              for k in (0, 1)]
        return out

    def input_record(self) -> dict:
        """How raw windows become this model input: travels in every checkpoint and ensemble.

        ``channels``/``units`` in column order, ``steps_per_day`` as stored (per channel,
        before the recipe), the ``recipe``, and the stations (for the local-time step).
        """
        info = self.dataset or assumed_dataset_info(self.steps_per_day)
        return {"channels": list(info.channels), "units": list(info.units), "steps_per_day": int(info.steps_per_day),
                "recipe": [dict(step) for step in self.recipe],
                "stations": {code: dict(values) for code, values in info.stations.items()}}

    @property
    def n_samples(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.features.shape[1])

    @property
    def class_counts(self) -> list[int]:
        return [int(np.sum(self.labels == 0)), int(np.sum(self.labels == 1))]

    def check_class_rows(self, minimum: int, purpose: str) -> None:
        """Refuse, naming the window folder and the class file, a class with fewer than
        ``minimum`` rows left to train on (``purpose`` says what needs them, e.g. "2 folds").

        Raises
        ------
        DataError
            On the class file (``.../window-N/data_1.npy``): the rows it has left and what
            needs more.
        """
        for label, count in enumerate(self.class_counts):
            if count >= minimum:
                continue
            where = self.path / CLASS_FILES[label] if self.path else CLASS_FILES[label]
            dropped = f", after {self.dropped_rows} row(s) of the window were dropped" if self.dropped_rows else ""
            raise DataError(where, f"{count} class-{label} row{'s' * (count != 1)} to train on{dropped}; "
                                   f"{purpose} need at least {minimum} of each class (class counts "
                                   f"{self.class_counts})")

    @property
    def meta_path(self) -> Path | str:
        """The window's ``meta.csv`` (its full path when the folder is known), for messages."""
        return self.path / META_FILE if self.path else META_FILE

    def meta_column(self, name: str) -> np.ndarray:
        """A ``meta.csv`` column, aligned with the samples; clear error when absent."""
        where = self.meta_path
        if self.meta is None:
            raise DataError(where, f"needed for column '{name}' but the file does not exist")
        if name not in self.meta:
            raise DataError(where, f"has no column '{name}' (columns: {', '.join(self.meta)})")
        return self.meta[name]


def load_window(
    data_dir: str | os.PathLike,
    window_days: int,
    steps_per_day: int = defaults.STEPS_PER_DAY,
    *,
    nan_policy: str = "interpolate",
    max_missing: float = defaults.MAX_MISSING,
    recipe: Sequence[dict] | None = None,
    require_both_classes: bool = True,
) -> WindowData:
    """Load and validate ``data_dir/window-{window_days}``.

    Parameters
    ----------
    data_dir : path
        Folder holding ``window-{N}`` sub-folders (the seed layout).
    window_days : int
        Window length N in days.
    steps_per_day : int
        Samples per day (1440 for 1-minute data).
    nan_policy : {'interpolate', 'refuse'}
        'interpolate' fills NaN gaps in a row by linear interpolation along time
        and drops rows with more than ``max_missing`` of their values missing
        (the counts are reported in ``dropped_rows`` / ``interpolated_rows``);
        'refuse' raises on any NaN.
    max_missing : float
        Largest share of missing values a row may have and be kept (0..1).
    recipe : list of dict, optional
        The preprocessing steps to apply (``seismag.dataset.recipe``); None: the folder's
        own ``dataset.json`` recipe. A trained ensemble passes its own, so new data is
        always prepared as its training data was.
    require_both_classes : bool
        Training needs both classes; scoring a quiet station's windows does not.

    With ``DATA/dataset.json`` the folder describes itself: its channels and
    ``steps_per_day`` (per channel) are read from it, and ``steps_per_day`` given here
    must be the default or agree. Rows are ``days x channels x steps`` ("day, channel,
    step"); gaps are filled per channel, then the recipe runs.

    Returns
    -------
    WindowData
        Features float32 ``(n, N * steps_per_day)`` (``steps_per_day``: the day width of
        the model input, all channels) and labels int64 ``(n,)``.

    Raises
    ------
    DataError
        Missing folder or class file, unreadable or non-numeric file, not 2-D,
        empty (a one-class build's other class file says so, and what the folder
        serves for instead), wrong number of feature columns, label column not 0/1 or not
        matching its file, infinite values, NaN under 'refuse', only one class left.
    """
    if nan_policy not in NAN_POLICIES:
        raise ConfigError(f"nan_policy must be one of {', '.join(NAN_POLICIES)}, got '{nan_policy}'")
    if not 0.0 <= max_missing <= 1.0:
        raise ConfigError(f"max_missing must be between 0 and 1, got {max_missing}")
    if int(window_days) <= 0 or int(steps_per_day) <= 0:
        raise ConfigError("window_days and steps_per_day must be positive")
    folder = window_dir(data_dir, window_days)
    if not folder.is_dir():
        raise DataError(folder, f"window directory not found (expected the seed layout "
                                f"{Path(data_dir) / (WINDOW_DIR_PREFIX + 'N')}/{CLASS_FILES[0]}, {CLASS_FILES[1]})")
    info = dataset_info_or_assumed(data_dir, steps_per_day)
    if not info.assumed and int(steps_per_day) not in (defaults.STEPS_PER_DAY, info.steps_per_day):
        raise DataError(dataset_info_path(data_dir), f"records steps_per_day {info.steps_per_day}, but "
                        f"{steps_per_day} was asked for; leave --steps-per-day out, the folder describes itself")
    steps_per_day, channels = info.steps_per_day, info.n_channels
    row_steps = int(steps_per_day) * channels
    n_features = int(window_days) * row_steps
    if require_both_classes:
        _refuse_one_class(folder)
    arrays = [class_file_or_empty(folder / name, label, window_days, row_steps, require_both_classes)
              for label, name in enumerate(CLASS_FILES)]

    n_rows = sum(a.shape[0] for a in arrays)
    features = np.empty((n_rows, n_features), dtype=np.float32)
    labels = np.empty(n_rows, dtype=np.int64)
    start = 0
    # Copy in row blocks so a memory-mapped float64 file is never materialised whole.
    for label, array in enumerate(arrays):
        for block in range(0, array.shape[0], 4096):
            rows = array[block:block + 4096, :n_features]
            features[start + block:start + block + rows.shape[0]] = rows
        labels[start:start + array.shape[0]] = label
        start += array.shape[0]

    if np.isinf(features).any():
        row = int(np.argwhere(np.isinf(features))[0, 0])
        name, file_row = _file_row(row, arrays)
        raise DataError(folder / name, f"holds infinite values (first at row {file_row})")

    source_rows = np.arange(n_rows, dtype=np.int64)
    if nan_policy == "refuse" and np.isnan(features).any():
        row = int(np.argwhere(np.isnan(features))[0, 0])
        name, file_row = _file_row(row, arrays)
        raise DataError(folder / name, f"holds NaN values (first at row {file_row}); "
                        "use nan_policy='interpolate' to fill short gaps")
    keep, interpolated = fill_gaps(features, max_missing, channels=channels, steps_per_day=int(steps_per_day))
    dropped = int((~keep).sum())
    if dropped:
        features = np.ascontiguousarray(features[keep])
        labels = labels[keep]
        source_rows = source_rows[keep]

    meta = read_meta(folder / META_FILE, n_rows)
    if meta is not None and dropped:
        meta = {key: values[source_rows] for key, values in meta.items()}

    for label in (0, 1) if require_both_classes else ():
        if not np.any(labels == label):
            present = arrays[label].shape[0]
            why = (f"{dropped} dropped for more than {max_missing:.0%} missing values" if present
                   else "the file has no rows: a one-class build, which serves to measure false alarms")
            raise DataError(folder / CLASS_FILES[label],
                            f"no usable class-{label} rows ({why}); training needs both classes")

    notes = []
    if dropped or interpolated:
        notes.append(f"window {window_days}: {dropped} rows dropped (> {max_missing:.0%} missing), "
                     f"{interpolated} rows with short gaps interpolated")
    steps = [dict(step) for step in (info.recipe if recipe is None else recipe or ())]
    where = str(dataset_info_path(data_dir)) if recipe is None else "the ensemble's recipe"
    from seismag.dataset.recipe import Recipe

    prepared = Recipe.from_dicts(steps, where)
    longitudes = None
    if prepared.needs_longitude:
        longitudes = _row_longitudes(len(features), info, meta, folder)
    features, day_width, described = apply_recipe(features, prepared, window_days=int(window_days),
                                                  channels=channels, steps_per_day=int(steps_per_day),
                                                  longitudes=longitudes)
    if described:
        notes.append(f"window {window_days}: recipe {described}")
    return WindowData(
        window_days=int(window_days), steps_per_day=day_width, features=features,
        labels=labels, source_rows=source_rows, meta=meta, path=folder,
        dropped_rows=dropped, interpolated_rows=interpolated, notes=notes, dataset=None if info.assumed else info,
        recipe=tuple(steps),
    )


def apply_recipe(features: np.ndarray, recipe, *, window_days: int, channels: int, steps_per_day: int,
                 longitudes: np.ndarray | None = None) -> tuple[np.ndarray, int, str]:
    """Raw windows (gaps filled, "day, channel, step" order) -> model input, by ``recipe``
    (a :class:`~seismag.dataset.recipe.Recipe`, read once by the caller).

    The one place where a recipe meets data: ``load_window`` (training, evaluation)
    and ``predict`` / ``scan`` (an ensemble's own recipe) all call it. Returns the
    prepared float32 features, the width of one day of them (every channel) and the
    recipe's one-line description ('' when there are no steps).
    """
    if not recipe:
        return features, channels * int(steps_per_day), ""
    out = recipe.apply(features, window_days=int(window_days), channels=channels,
                       steps_per_day=int(steps_per_day), longitudes=longitudes)
    return out, channels * recipe.output_steps(int(steps_per_day)), recipe.describe()


def class_file_or_empty(path: Path, label: int, window_days: int, row_steps: int, require: bool) -> np.ndarray:
    """A class file checked; a missing or empty one is an empty array where both classes are not needed."""
    empty = np.empty((0, int(window_days) * row_steps + 1), dtype=np.float32)
    if not require and (not path.is_file() or path.stat().st_size == 0):
        return empty
    if not require and npy_file_problem(path) is None:
        try:
            if np.load(path, mmap_mode="r", allow_pickle=False).shape[0] == 0:
                return empty  # the empty class of a one-class build
        except Exception:  # noqa: BLE001  (check_class_file words it)
            pass
    return check_class_file(path, label, window_days, row_steps)


def station_longitudes(stations: np.ndarray, table: Mapping[str, Mapping], where) -> np.ndarray:
    """Each row's station longitude (east positive) from a station table (``dataset.json``'s
    ``stations``, or the one an ensemble carries)."""
    out = np.empty(len(stations), dtype=np.float64)
    for code in np.unique(stations):
        entry = table.get(str(code))
        if entry is None or "longitude" not in entry:
            raise DataError(where, f"station '{code}' has no longitude in {DATASET_FILE}; the local-time "
                                   "step of the recipe needs one")
        out[stations == code] = float(entry["longitude"])
    return out


def _row_longitudes(n_rows: int, info: DatasetInfo, meta, folder: Path) -> np.ndarray:
    table = info.stations
    if meta is not None and "station" in meta:
        return station_longitudes(meta["station"], table, folder / META_FILE)
    if len(table) == 1:
        (entry,) = table.values()
        if "longitude" in entry:
            return np.full(n_rows, float(entry["longitude"]))
    raise DataError(folder / META_FILE, "the recipe's local-time step needs each row's station: "
                                        f"a meta.csv 'station' column, or one station in {DATASET_FILE}")


def _refuse_one_class(folder: Path) -> None:
    """One clear line for a folder whose class files are sound but one has no rows.

    ``seismag build`` writes such folders on purpose (a quiet station's windows are all
    class 0); they cannot be trained on, but an ensemble's alarms on them are false alarms.
    Any other problem with a class file is :func:`check_class_file`'s to word.
    """
    rows = []
    for name in CLASS_FILES:
        path = folder / name
        if npy_file_problem(path) is not None:
            return
        try:
            shape = np.load(path, mmap_mode="r", allow_pickle=False).shape
        except Exception:  # noqa: BLE001  (check_class_file words it)
            return
        rows.append(shape[0] if len(shape) == 2 else None)
    if None in rows or (rows[0] == 0) == (rows[1] == 0):
        return
    present = 0 if rows[0] else 1
    use = "false alarms" if present == 0 else "missed events"
    raise DataError(folder / CLASS_FILES[1 - present],
                    f"is empty (0 samples): this folder holds class {present} windows only, and training "
                    f"needs both classes; a one-class folder (a quiet station's build, say) serves to score "
                    f"a trained ensemble's {use}: seismag predict --input {folder / CLASS_FILES[present]}")


def _file_row(row: int, arrays: list[np.ndarray]) -> tuple[str, int]:
    n0 = arrays[0].shape[0]
    return (CLASS_FILES[0], row) if row < n0 else (CLASS_FILES[1], row - n0)


def fill_gaps(features: np.ndarray, max_missing: float, *, channels: int = 1,
              steps_per_day: int | None = None) -> tuple[np.ndarray, int]:
    """Interpolate NaN gaps in place in rows with at most ``max_missing`` missing.

    Returns the mask of rows to keep (the others have too much missing; a row
    with no value at all is never kept, even under ``max_missing=1``: there is
    nothing to interpolate from) and the number of rows that were interpolated.
    With several channels (rows in "day, channel, step" order, ``steps_per_day`` per
    channel) each channel's series is filled from itself, never across channels; a
    row is also dropped when one of its channels holds no value at all.
    """
    missing = np.isnan(features)
    if not missing.any():
        return np.ones(features.shape[0], dtype=bool), 0
    share = missing.mean(axis=1)
    keep = (share <= max_missing) & (share < 1.0)
    if channels > 1:
        days = features.shape[1] // (channels * steps_per_day)
        by_channel = missing.reshape(len(features), days, channels, steps_per_day).all(axis=(1, 3))
        keep &= ~by_channel.any(axis=1)
    rows = np.flatnonzero(keep & (share > 0))
    for row in rows:
        if channels == 1:
            interpolate_gaps(features[row], missing[row])
            continue
        days = features.shape[1] // (channels * steps_per_day)
        grid = features[row].reshape(days, channels, steps_per_day)
        gaps = missing[row].reshape(days, channels, steps_per_day)
        for channel in range(channels):
            series = np.ascontiguousarray(grid[:, channel, :]).reshape(-1)
            interpolate_gaps(series, gaps[:, channel, :].reshape(-1))
            grid[:, channel, :] = series.reshape(days, steps_per_day)
    return keep, int(len(rows))


def interpolate_gaps(values: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Fill the NaN runs of one series in place by linear interpolation along time.

    The one gap filler of the package: the loader, ``predict`` and ``build`` all fill
    gaps through it. Only ``values``' own samples are used (a window is filled from
    itself, nothing from outside it leaks in); a gap at an edge takes the nearest valid
    value. ``values`` is 1-D (one window, oldest sample first) and must hold at least
    one valid value when it holds a NaN; ``missing`` is its NaN mask when already known.
    The interpolation runs in float64 and is stored in ``values``' dtype. Returns ``values``.
    """
    if missing is None:
        missing = np.isnan(values)
    if missing.any():
        positions = np.arange(values.shape[0])
        values[missing] = np.interp(positions[missing], positions[~missing], values[~missing])
    return values


def read_meta(path: Path, n_rows: int) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(path, f"cannot be read as CSV ({exc})") from None
    if not header:
        raise DataError(path, "is empty; expected a header line and one row per sample")
    if len(rows) != n_rows:
        raise DataError(path, f"has {len(rows)} rows, expected one per sample ({n_rows}: class-0 rows then class-1 rows)")
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise DataError(path, f"line {number} has {len(row)} fields, the header has {len(header)}")
    columns = list(zip(*rows)) if rows else [()] * len(header)
    return {name: np.array(values, dtype=str) for name, values in zip(header, columns)}
