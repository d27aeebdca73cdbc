"""Sudden commencements: the ISGI yearly lists of storm sudden commencements and impulses.

Format (:func:`read_ssc`, :func:`write_ssc_list`)
    The ISGI / Ebro Observatory yearly lists ``ssc_YYYY_d.txt``: an optional ``<pre>``, a
    title ``SC YYYY`` naming the year the list covers, a ``CONTRIBUTING OBSERVATORIES``
    block, a column line ``YYYY MM dd hh  min  Rise-time  Amplitude (nT)  Qualification
    Observatories  Type``, then one row per event::

        2011 02 14 15 55.4  6 4 5 5 8  24.6 16.1 24.0 24.2 19.4  2 2 2 2 2  ABG HON KNY MBO SJG  SSC

    date, hour and minute (decimal, or integer in later years), five rise times (minutes),
    five amplitudes (nT), five qualifications (0-3), the five observatories and the type:
    ``SSC`` (storm sudden commencement), ``SI`` (sudden impulse) or ``SI-`` (a negative
    impulse, listed with negative amplitudes). Notes and acknowledgements after the rows
    are ignored. The reader keeps the time (rounded to the nearest minute), the type
    (``SI-`` reads as ``SI``; its amplitude keeps the sign) and the mean of the five
    amplitudes; a year named by a title is covered whole: a day of it without a listed
    event had none.

All times are UTC. The writer is here with the reader, so the synthetic generator and the
build can never disagree on a column.

May import numpy, the standard library, :mod:`seismag.errors`, :mod:`seismag.io` and
:mod:`seismag.sources.indices.days`.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from seismag.errors import DataError
from seismag.io import write_text
from seismag.sources.indices.days import read_lines, utc_date

__all__ = ["SSC_DEFAULT_OBSERVATORIES", "SSC_KINDS", "SscList", "read_ssc", "write_ssc_list"]

#: The two kinds of sudden commencement the lists hold: storm sudden commencements and
#: sudden impulses.
SSC_KINDS = ("SSC", "SI")
#: Observatories named in rows the writer writes when the caller names none (the stations
#: of the 2011 list).
SSC_DEFAULT_OBSERVATORIES = ("ABG", "HON", "KNY", "MBO", "SJG")

_SSC_TYPES = {"SSC": "SSC", "SI": "SI", "SI-": "SI"}
_SSC_STATIONS = 5
_SSC_COLUMN_LINE = (
    "YYYY MM dd hh  min  Rise-time       Amplitude (nT)     Qualification   Observatories    Type"
)
_SSC_TITLE = re.compile(r"^\s*SC\s+(\d{4})\s*$")
_SSC_ROW = re.compile(r"^\s*\d{4}\s+\d")


@dataclass(frozen=True)
class SscList:
    """Sudden commencements: storm sudden commencements (SSC) and sudden impulses (SI).

    Attributes
    ----------
    times : ndarray of datetime64[m], shape (n,)
        Onset, UTC, rounded to the nearest minute; sorted.
    kind : ndarray of str, shape (n,)
        ``'SSC'`` or ``'SI'`` (a listed ``SI-`` reads as ``'SI'`` with negative amplitude).
    amplitude_nt : ndarray of float64, shape (n,)
        Mean of the listed station amplitudes, nT (negative for a negative impulse).
    years : ndarray of int64
        The years the lists cover, sorted: every day of them is covered, so a day of these
        years without an event had none. Days of other years are not covered.
    paths : tuple of str
        The files read.
    """

    times: np.ndarray
    kind: np.ndarray
    amplitude_nt: np.ndarray
    years: np.ndarray
    paths: tuple = ()

    def __len__(self) -> int:
        return int(self.times.shape[0])

    def covers(self, days) -> np.ndarray:
        """True for the days (datetime64[D]-like) that fall in a covered year."""
        day_array = np.asarray(days, dtype="datetime64[D]")
        year = day_array.astype("datetime64[Y]").astype(np.int64) + 1970
        return np.isin(year, self.years)

    def counts_on(self, days, kinds: Sequence[str] = SSC_KINDS) -> np.ndarray:
        """Events of ``kinds`` on each UTC day of ``days`` (float; NaN on a day not covered)."""
        day_array = np.asarray(days, dtype="datetime64[D]")
        selected = np.isin(self.kind, list(kinds))
        event_days, counts = np.unique(self.times[selected].astype("datetime64[D]"), return_counts=True)
        out = np.zeros(day_array.shape, dtype=np.float64)
        if event_days.size:
            position = np.minimum(np.searchsorted(event_days, day_array), event_days.size - 1)
            found = event_days[position] == day_array
            out[found] = counts[position[found]]
        out[~self.covers(day_array)] = np.nan
        return out


def read_ssc(path_or_dir: str | os.PathLike | Iterable[str | os.PathLike]) -> SscList:
    """Read sudden-commencement lists: one file, several files, or a folder of ``*.txt``.

    Events listed twice (same minute and type, e.g. overlapping files) are kept once.

    Raises
    ------
    DataError
        A missing file, a folder without ``*.txt`` files, a data row that cannot be read
        (the message gives file and line), an event outside the year the title names, or a
        file that says neither by title nor by an event which year it covers.
    """
    paths = _ssc_paths(path_or_dir)
    times: list[np.datetime64] = []
    kinds: list[str] = []
    amplitudes: list[float] = []
    years: set[int] = set()
    for path in paths:
        file_times, file_kinds, file_amplitudes, file_years = _parse_ssc_file(path)
        times += file_times
        kinds += file_kinds
        amplitudes += file_amplitudes
        years |= file_years
    time_array = np.array(times, dtype="datetime64[m]")
    kind_array = np.array(kinds, dtype="<U3")
    amplitude_array = np.array(amplitudes, dtype=np.float64)
    order = np.lexsort((kind_array, time_array))
    time_array, kind_array, amplitude_array = time_array[order], kind_array[order], amplitude_array[order]
    if time_array.size:
        keep = np.ones(time_array.size, dtype=bool)
        keep[1:] = (time_array[1:] != time_array[:-1]) | (kind_array[1:] != kind_array[:-1])
        time_array, kind_array, amplitude_array = time_array[keep], kind_array[keep], amplitude_array[keep]
    return SscList(
        times=time_array,
        kind=kind_array,
        amplitude_nt=amplitude_array,
        years=np.array(sorted(years), dtype=np.int64),
        paths=tuple(paths),
    )


def write_ssc_list(
    path: str | os.PathLike,
    times,
    kind,
    amplitude_nt,
    *,
    year: int | None = None,
    rise_time_min=5,
    qualification=2,
    observatories: Sequence[str] = SSC_DEFAULT_OBSERVATORIES,
) -> Path:
    """Write one year's sudden-commencement list in the ISGI layout, atomically.

    Parameters
    ----------
    times : datetime64-like, shape (n,)
        Onsets, UTC; written to 0.1 minute, in time order.
    kind : str or sequence of str, shape (n,)
        ``'SSC'`` or ``'SI'`` each; an ``'SI'`` with negative amplitude is written ``SI-``.
    amplitude_nt : float or array-like, shape (n,) or (n, 5)
        nT, written to 0.1 nT: one value per event (written for all five stations, so
        :func:`read_ssc` gives it back as the mean) or one per station.
    year : int, optional
        The year the list covers (its title ``SC YYYY``); default the year of the events.
        Needed for a list without events: it still says that the year had none.
    rise_time_min, qualification : int or array-like, shape (n,) or (n, 5)
        The layout has no missing-value mark, so these are written as given; the defaults
        are the medians of the 2006-2022 lists (5 minutes, quality 2).
    observatories : sequence of 5 str
        Station codes written in every row and in the contributing-observatories line.

    Raises
    ------
    ValueError
        Shapes that do not match, an unknown kind, events of several years or outside
        ``year``, no events and no ``year``, or not five observatory codes.
    """
    time_array = np.atleast_1d(np.asarray(times, dtype="datetime64[ms]"))
    n = time_array.size
    kinds = [kind] * n if isinstance(kind, str) else list(kind)
    if len(kinds) != n:
        raise ValueError(f"kind has {len(kinds)} entries for {n} events")
    bad_kind = sorted(set(kinds) - set(SSC_KINDS))
    if bad_kind:
        raise ValueError(f"unknown kind {bad_kind[0]!r}; the lists know 'SSC' and 'SI'")
    amplitudes = _per_station(amplitude_nt, n, "amplitude_nt", np.float64)
    rises = _per_station(rise_time_min, n, "rise_time_min", np.float64)
    qualities = _per_station(qualification, n, "qualification", np.float64)
    for name, array in (("amplitude_nt", amplitudes), ("rise_time_min", rises), ("qualification", qualities)):
        if not np.isfinite(array).all():
            raise ValueError(f"{name} must be finite: the list layout has no missing-value mark")
    stations = [str(code) for code in observatories]
    if len(stations) != _SSC_STATIONS or any(not code or " " in code for code in stations):
        raise ValueError(f"observatories must be {_SSC_STATIONS} codes without spaces, got {stations}")
    event_years = sorted(set((time_array.astype("datetime64[Y]").astype(np.int64) + 1970).tolist()))
    if year is None:
        if len(event_years) != 1:
            raise ValueError(
                "a list covers one year: give year= for a list without events"
                if not event_years else f"events of several years {event_years}: write one list a year"
            )
        year = event_years[0]
    if any(value != year for value in event_years):
        raise ValueError(f"events of {event_years} in the list of year {year}")
    # Tenths of a minute since the epoch, so 59.96 minutes rolls over into the next hour.
    tenths = np.round(time_array.astype(np.int64) / 6000.0).astype(np.int64)
    order = np.argsort(tenths, kind="stable")
    rows = []
    for index in order:
        minute_of_epoch, tenth = divmod(int(tenths[index]), 10)
        stamp = np.datetime64(minute_of_epoch, "m").item()
        label = kinds[index]
        if label == "SI" and float(np.mean(amplitudes[index])) < 0:
            label = "SI-"
        rows.append(
            f"{stamp.year:04d} {stamp.month:02d} {stamp.day:02d} {stamp.hour:02d} {stamp.minute:02d}.{tenth:d}  "
            + " ".join(f"{int(round(value)):d}" for value in rises[index])
            + "  "
            + " ".join(f"{value:4.1f}" for value in amplitudes[index])
            + "  "
            + " ".join(f"{int(round(value)):d}" for value in qualities[index])
            + "  "
            + " ".join(stations)
            + f"  {label}"
        )
    text = "\n".join(
        ["<pre>", f"SC {year}", "CONTRIBUTING OBSERVATORIES", " ".join(stations), _SSC_COLUMN_LINE, *rows, "</pre>"]
    )
    return write_text(path, text + "\n")


# --------------------------------------------------------------------------- internals


def _ssc_paths(path_or_dir) -> list[str]:
    if isinstance(path_or_dir, (str, os.PathLike)):
        candidates = [path_or_dir]
    else:
        candidates = list(path_or_dir)
        if not candidates:
            raise DataError("(no files)", "read_ssc was given an empty list of files")
    paths: list[str] = []
    for candidate in candidates:
        path = Path(candidate)
        if path.is_dir():
            found = sorted(str(p) for p in path.glob("*.txt") if p.is_file())
            if not found:
                raise DataError(path, "folder holds no *.txt sudden-commencement lists")
            paths += found
        elif path.is_file():
            paths.append(str(path))
        else:
            raise DataError(path, "no such file or folder")
    return paths


def _parse_ssc_file(path: str) -> tuple[list, list, list, set]:
    lines = read_lines(path)
    times, kinds, amplitudes = [], [], []
    title_year: int | None = None
    event_years: set[int] = set()
    for number, text in enumerate(lines, start=1):
        title = _SSC_TITLE.match(text)
        if title:
            title_year = int(title.group(1))
            continue
        if not _SSC_ROW.match(text):
            continue
        fields = text.split()
        # 5 date/time + 5 rise times + 5 amplitudes + 5 qualifications + stations + type
        if len(fields) < 22:
            raise DataError(path, f"line {number}: {len(fields)} fields, a sudden-commencement row has at least 22 "
                                  "(date, hh, min, 5 rise times, 5 amplitudes, 5 qualifications, stations, type)")
        label = fields[-1]
        if label not in _SSC_TYPES:
            raise DataError(path, f"line {number}: type {label!r} is not SSC, SI or SI-")
        try:
            year, month, day, hour = (int(field) for field in fields[:4])
            minute = float(fields[4])
            amplitude = [float(field) for field in fields[10:15]]
            for field in fields[5:10] + fields[15:20]:  # rise times, qualifications: checked, not kept
                float(field)
            start = utc_date(year, month, day)
        except ValueError:
            raise DataError(path, f"line {number}: not a sudden-commencement row: {text.strip()[:60]!r}") from None
        if not (0 <= hour <= 23 and 0.0 <= minute < 60.0):
            raise DataError(path, f"line {number}: time {fields[3]} {fields[4]} is not hh (0-23) min (0-59.9)")
        if title_year is not None and year != title_year:
            raise DataError(path, f"line {number}: event of {year} in the list titled 'SC {title_year}'")
        onset = start + np.timedelta64(hour * 60 + int(math.floor(minute + 0.5)), "m")
        times.append(onset)
        kinds.append(_SSC_TYPES[label])
        amplitudes.append(float(np.mean(amplitude)))
        event_years.add(year)
    if title_year is None and not event_years:
        raise DataError(path, "neither a title 'SC YYYY' nor an event row: which year does this list cover?")
    years = {title_year} if title_year is not None else event_years
    return times, kinds, amplitudes, years


def _per_station(values, n: int, name: str, dtype) -> np.ndarray:
    array = np.asarray(values, dtype=dtype)
    if array.ndim == 0:
        return np.full((n, _SSC_STATIONS), array, dtype=dtype)
    if array.shape == (n,):
        return np.repeat(array[:, None], _SSC_STATIONS, axis=1)
    if array.shape == (n, _SSC_STATIONS):
        return array
    raise ValueError(f"{name} must be a number, shape ({n},) or ({n}, {_SSC_STATIONS}); got shape {array.shape}")
