"""Loading and validating windows in the seed layout.

``DIR/window-{N}/data_0.npy`` and ``data_1.npy`` hold one sample per row,
``N * steps_per_day`` feature columns (the magnetometer series, oldest sample
first) and the label (0 or 1) in the last column. An optional ``meta.csv`` holds
one row per sample in file order (class-0 rows, then class-1 rows).

Every problem with a file is reported as one :class:`~seismag.errors.DataError`
naming the file, before anything is trained or written.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError
from ..layout import (
    CLASS_FILES,
    META_FILE,
    WINDOW_DIR_PREFIX,
    check_class_file,
    npy_file_problem,
    window_dir,
)

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

    @property
    def n_samples(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.features.shape[1])

    @property
    def class_counts(self) -> list[int]:
        return [int(np.sum(self.labels == 0)), int(np.sum(self.labels == 1))]

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
    steps_per_day: int = 1440,
    *,
    nan_policy: str = "interpolate",
    max_missing: float = 0.1,
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

    Returns
    -------
    WindowData
        Features float32 ``(n, N * steps_per_day)`` and labels int64 ``(n,)``.

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
    n_features = int(window_days) * int(steps_per_day)
    _refuse_one_class(folder)
    arrays = [check_class_file(folder / name, label, window_days, steps_per_day)
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
    keep, interpolated = fill_gaps(features, max_missing)
    dropped = int((~keep).sum())
    if dropped:
        features = np.ascontiguousarray(features[keep])
        labels = labels[keep]
        source_rows = source_rows[keep]

    meta = _read_meta(folder / META_FILE, n_rows)
    if meta is not None and dropped:
        meta = {key: values[source_rows] for key, values in meta.items()}

    for label in (0, 1):
        if not np.any(labels == label):
            raise DataError(folder / CLASS_FILES[label],
                            f"no usable class-{label} rows ({dropped} dropped for more than "
                            f"{max_missing:.0%} missing values); both classes are needed")

    notes = []
    if dropped or interpolated:
        notes.append(f"window {window_days}: {dropped} rows dropped (> {max_missing:.0%} missing), "
                     f"{interpolated} rows with short gaps interpolated")
    return WindowData(
        window_days=int(window_days), steps_per_day=int(steps_per_day), features=features,
        labels=labels, source_rows=source_rows, meta=meta, path=folder,
        dropped_rows=dropped, interpolated_rows=interpolated, notes=notes,
    )


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


def fill_gaps(features: np.ndarray, max_missing: float) -> tuple[np.ndarray, int]:
    """Interpolate NaN gaps in place in rows with at most ``max_missing`` missing.

    Returns the mask of rows to keep (the others have too much missing; a row
    with no value at all is never kept, even under ``max_missing=1``: there is
    nothing to interpolate from) and the number of rows that were interpolated.
    """
    missing = np.isnan(features)
    if not missing.any():
        return np.ones(features.shape[0], dtype=bool), 0
    share = missing.mean(axis=1)
    keep = (share <= max_missing) & (share < 1.0)
    rows = np.flatnonzero(keep & (share > 0))
    for row in rows:
        interpolate_gaps(features[row], missing[row])
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


def _read_meta(path: Path, n_rows: int) -> dict[str, np.ndarray] | None:
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
