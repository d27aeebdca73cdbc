"""The day and line rules the index files share: what a day is, how a file's lines are read.

Kp and Dst are tables of one row a UTC day, and every index file is text; these helpers
keep those rules in one place for :mod:`~seismag.sources.indices.kp`,
:mod:`~seismag.sources.indices.dst` and :mod:`~seismag.sources.indices.ssc`: the lines of
a file (one DataError naming it when it cannot be read), a date that must exist, days
sorted and refused when repeated, and the row-wise extreme of a day that ignores missing
values.

May import numpy, the standard library and :mod:`seismag.errors`.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from seismag.errors import DataError

__all__ = ["day_array", "nan_reduce", "read_lines", "refuse_repeated_days", "sorted_days", "utc_date"]


def read_lines(path: str) -> list[str]:
    """The file's lines (a UTF-8 BOM dropped); DataError naming the file when it cannot be read."""
    try:
        with open(path, encoding="utf-8-sig", errors="strict", newline=None) as handle:
            return handle.read().split("\n")
    except FileNotFoundError:
        raise DataError(path, "no such file") from None
    except IsADirectoryError:
        raise DataError(path, "is a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise DataError(path, f"not a text file (undecodable byte at offset {exc.start})") from None
    except OSError as exc:
        raise DataError(path, f"cannot open: {exc.strerror or exc}") from None


def utc_date(year: int, month: int, day: int) -> np.datetime64:
    """The day as datetime64[D]; ValueError for an impossible date (2011-02-30)."""
    return np.datetime64(_dt.date(year, month, day), "D")


def sorted_days(path: str, days: list) -> tuple[np.ndarray, np.ndarray]:
    """``(days sorted, the order that sorts them)``; DataError for no days or a repeated day."""
    if not days:
        raise DataError(path, "no data rows")
    days_sorted = np.array(days, dtype="datetime64[D]")
    order = np.argsort(days_sorted, kind="stable")
    days_sorted = days_sorted[order]
    repeated = days_sorted[1:][days_sorted[1:] == days_sorted[:-1]]
    if repeated.size:
        raise DataError(path, f"day {repeated[0]} is listed more than once")
    return days_sorted, order


def day_array(days, name: str) -> np.ndarray:
    """``days`` as a 1-D datetime64[D] array; ValueError naming the argument ``name`` otherwise."""
    try:
        return np.atleast_1d(np.asarray(days, dtype="datetime64[D]"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be dates (datetime64[D]-like): {exc}") from None


def refuse_repeated_days(days: np.ndarray) -> None:
    """ValueError when a day is given more than once (what a writer is given)."""
    unique, counts = np.unique(days, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"day {unique[counts > 1][0]} given more than once")


def nan_reduce(values: np.ndarray, reduce) -> np.ndarray:
    """Row-wise ``np.max``/``np.min`` ignoring NaN; NaN for an all-NaN row (without NumPy's warning)."""
    present = np.isfinite(values)
    fill = -np.inf if reduce is np.max else np.inf
    out = reduce(np.where(present, values, fill), axis=1) if values.size else np.zeros(values.shape[0])
    out = out.astype(np.float64)
    out[~present.any(axis=1)] = np.nan
    return out
