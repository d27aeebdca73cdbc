"""The hourly Dst index in the WDC exchange format: read and written.

Format (:func:`read_dst`, :func:`write_dst_wdc`)
    The World Data Center for Geomagnetism, Kyoto, record of 120 characters a day
    (https://wdc.kugi.kyoto-u.ac.jp/dstae/format/dstformat.html)::

        1-3 'DST'   4-5 year % 100   6-7 month   8 '*'   9-10 day
        11-12 '  ' (final), 'PP' (provisional) or 'RR' (quick look)
        13 'X'   14 version (0 quick look, 1 provisional, 2 final, 3+ corrected final)
        15-16 century digits ('19' or blank for 19xx, '20' from 2000)
        17-20 base value in units of 100 nT
        21-116 24 hourly values (hour 0 first), 4 characters each, nT relative to the base
        117-120 daily mean, nT relative to the base

    A value is ``base * 100 + field``; ``9999`` marks a missing hour (and a daily mean with
    a missing hour). The writer uses base 0 whenever every value fits in a field
    (-999..9998 nT, always for Dst on record) and a daily mean rounded half away from
    zero, as Kyoto does (checked against every day of the shared 2006-2022 file).

All times are UTC. The writer is here with the reader, so the synthetic generator and the
build can never disagree on a column.

May import numpy, the standard library, :mod:`seismag.errors`, :mod:`seismag.io` and
:mod:`seismag.sources.indices.days`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from seismag.errors import DataError
from seismag.io import write_text
from seismag.sources.indices.days import day_array, nan_reduce, read_lines, refuse_repeated_days, sorted_days, utc_date

__all__ = ["DST_PER_DAY", "DstSeries", "read_dst", "write_dst_wdc"]

DST_PER_DAY = 24

_WDC_RECORD = 120
_WDC_MISSING = 9999
# cols 11-12 and 14 of a WDC record for each status; the reader maps them back.
_DST_STATUS_CODES = {"final": ("  ", "2"), "provisional": ("PP", "1"), "quicklook": ("RR", "0")}


@dataclass(frozen=True)
class DstSeries:
    """Hourly Dst, one row a day.

    Attributes
    ----------
    days : ndarray of datetime64[D], shape (n_days,)
        Sorted, unique; consecutive or with gaps.
    dst : ndarray of float64, shape (n_days, 24)
        Dst in nT for hours 00-01, ..., 23-24 UT; NaN where missing.
    daily_mean : ndarray of float64, shape (n_days,)
        The daily mean the file gives (nT), NaN where it marks it missing.
    status : ndarray of str, shape (n_days,)
        ``'final'``, ``'provisional'`` or ``'quicklook'`` (from columns 11-12 and 14).
    path : str
    """

    days: np.ndarray
    dst: np.ndarray
    daily_mean: np.ndarray
    status: np.ndarray
    path: str = ""

    def __len__(self) -> int:
        return int(self.days.shape[0])

    def daily_min(self) -> np.ndarray:
        """Lowest hourly Dst of each day in nT, shape (n_days,); NaN on a day with no value.

        With some hours missing this is the lowest value present, an upper bound of the
        true minimum (:meth:`complete` tells such days).
        """
        return nan_reduce(self.dst, np.min)

    def complete(self) -> np.ndarray:
        """True for the days that have all 24 hourly values, shape (n_days,)."""
        return np.isfinite(self.dst).all(axis=1)


def read_dst(path: str | os.PathLike) -> DstSeries:
    """Read hourly Dst in the WDC exchange format (one 120-character record a day).

    Returns
    -------
    DstSeries
        Values in nT (base value applied), 9999 as NaN, days sorted.

    Raises
    ------
    DataError
        Missing or empty file, a record that is short, does not start ``DST``, has a bad
        date or a field that is not a number (the message gives the line number), or a
        repeated day.
    """
    path = os.fspath(path)
    lines = read_lines(path)
    days: list[np.datetime64] = []
    values: list[list[float]] = []
    means: list[float] = []
    statuses: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        day, hourly, mean, status = _parse_dst_record(path, number, line)
        days.append(day)
        values.append(hourly)
        means.append(mean)
        statuses.append(status)
    if not days:
        raise DataError(path, "no Dst records")
    days_sorted, order = sorted_days(path, days)
    return DstSeries(
        days=days_sorted,
        dst=np.array(values, dtype=np.float64)[order],
        daily_mean=np.array(means, dtype=np.float64)[order],
        status=np.array(statuses, dtype=str)[order],
        path=path,
    )


def write_dst_wdc(path: str | os.PathLike, days, dst, *, status: str | Sequence[str] = "final") -> Path:
    """Write hourly Dst in the WDC exchange format (as Kyoto's files), atomically.

    Parameters
    ----------
    days : datetime64[D]-like, shape (n_days,)
        Unique days, written in the order given.
    dst : array-like, shape (n_days, 24)
        Hourly Dst in nT, rounded to whole nT when written; NaN for a missing hour (9999).
    status : str or sequence of str
        ``'final'``, ``'provisional'`` or ``'quicklook'``, for all days or one per day;
        sets columns 11-12 and the version (14): ``'  '/2``, ``'PP'/1``, ``'RR'/0``.

    The daily mean is the mean of the 24 hours rounded half away from zero, 9999 when an
    hour is missing. The base value is 0 unless a value of the day does not fit a 4-digit
    field (below -999 nT or above 9998 nT), then the largest multiple of 100 nT at or
    below the day's lowest value.

    Raises
    ------
    ValueError
        Wrong shapes, repeated days, a year outside 1900..2099, an unknown status, or a
        day whose values span more than a field can hold.
    """
    days_given = day_array(days, "days")
    values = np.asarray(dst, dtype=np.float64)
    if values.shape != (days_given.size, DST_PER_DAY):
        raise ValueError(f"dst must have shape ({days_given.size}, {DST_PER_DAY}) to match days, got {values.shape}")
    refuse_repeated_days(days_given)
    statuses = [status] * days_given.size if isinstance(status, str) else list(status)
    if len(statuses) != days_given.size:
        raise ValueError(f"status has {len(statuses)} entries for {days_given.size} days")
    unknown = sorted(set(statuses) - set(_DST_STATUS_CODES))
    if unknown:
        raise ValueError(f"unknown Dst status {unknown[0]!r}; known: {', '.join(_DST_STATUS_CODES)}")
    lines = [_dst_record(day, row, state) for day, row, state in zip(days_given, values, statuses)]
    return write_text(path, "".join(line + "\n" for line in lines))


# --------------------------------------------------------------------------- internals


def _parse_dst_record(path: str, number: int, line: str) -> tuple[np.datetime64, list[float], float, str]:
    if len(line) < _WDC_RECORD:
        raise DataError(path, f"line {number}: {len(line)} characters, a WDC Dst record has {_WDC_RECORD} (truncated?)")
    if line[0:3] != "DST" or line[7] != "*":
        raise DataError(path, f"line {number}: not a WDC Dst record (should start 'DSTyymm*dd'): {line[:12]!r}")

    def integer(start: int, stop: int, what: str, blank: int | None = None) -> int:
        field = line[start:stop]
        if not field.strip() and blank is not None:
            return blank
        try:
            return int(field)
        except ValueError:
            problem = f"line {number}: columns {start + 1}-{stop} ({what}) not a number: {field!r}"
            raise DataError(path, problem) from None

    century = integer(14, 16, "century digits", blank=19)
    year = century * 100 + integer(3, 5, "year")
    month, day = integer(5, 7, "month"), integer(8, 10, "day")
    try:
        date = utc_date(year, month, day)
    except ValueError:
        raise DataError(path, f"line {number}: bad date {year:04d}-{month:02d}-{day:02d}") from None
    base = integer(16, 20, "base value", blank=0) * 100
    hourly = []
    for hour in range(DST_PER_DAY):
        start = 20 + 4 * hour
        value = integer(start, start + 4, f"hour {hour:02d}")
        hourly.append(math.nan if value == _WDC_MISSING else float(base + value))
    mean = integer(116, 120, "daily mean")
    flag, version = line[10:12], line[13]
    if flag == "RR":
        status = "quicklook"
    elif flag == "PP":
        status = "provisional"
    else:
        status = {"0": "quicklook", "1": "provisional"}.get(version, "final")
    return date, hourly, (math.nan if mean == _WDC_MISSING else float(base + mean)), status


def _round_half_away(value: float) -> int:
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _dst_record(day: np.datetime64, row: np.ndarray, status: str) -> str:
    stamp = day.item()
    if not 1900 <= stamp.year <= 2099:
        raise ValueError(f"{day}: the WDC record holds years 1900-2099 only")
    present = np.isfinite(row)
    whole = [_round_half_away(value) if ok else 0 for value, ok in zip(row.tolist(), present)]
    mean = _round_half_away(sum(whole) / DST_PER_DAY) if present.all() else None
    known = [value for value, ok in zip(whole, present) if ok] + ([mean] if mean is not None else [])
    base = 0
    if known and (min(known) < -999 or max(known) > 9998):
        base = math.floor(min(known) / 100.0)
        if max(known) - base * 100 > 9998:
            raise ValueError(f"{day}: Dst values {min(known)}..{max(known)} nT do not fit one base value")

    def field(value: int | None) -> str:
        return f"{_WDC_MISSING:4d}" if value is None else f"{value - base * 100:4d}"

    flag, version = _DST_STATUS_CODES[status]
    century, year = divmod(stamp.year, 100)
    hours = "".join(field(value if ok else None) for value, ok in zip(whole, present))
    return (
        f"DST{year:02d}{stamp.month:02d}*{stamp.day:02d}{flag}X{version}{century:2d}{base:4d}"
        + hours
        + field(mean)
    )
