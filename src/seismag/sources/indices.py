"""Geomagnetic activity indices: Kp, Dst and sudden-commencement lists, read, written, summarised.

Why this module is long: it is the one owner of three file formats (a reader and a writer
each, so the synthetic generator and the build can never disagree on a column), of the
per-day activity table built from them, and of the storm rule that decides which days are
disturbed; the rules refer to each other (what a missing value is, what a day covers).

Geomagnetic storms are the main confound of magnetic precursor studies, so windows must be
described (and, when asked, dropped) by the activity they contain. All times are UTC.

Formats
-------
Kp, CSV re-export (``read_kp``, ``write_kp_csv``)
    One header line ``Date,K_00,K_03,K_06,K_09,K_12,K_15,K_18,K_21,Kp_Sum``, then one row a
    day: ISO date, the eight 3-hourly planetary Kp values (``K_00`` covers 00-03 UT) with
    thirds written as decimals (``1.333`` is 1+, ``1.667`` is 2-, integers without a
    decimal point), and their sum. The writer reproduces the shared GFZ re-export byte for
    byte: ``Kp_Sum`` is the correctly rounded sum of the eight written values
    (``math.fsum``), printed as Python's shortest repr without a trailing ``.0``
    (``13.001``, ``3.6670000000000003``, ``16``). An empty field, ``NaN`` or ``-1`` is a
    missing value; the writer writes a missing value as an empty field and then leaves
    ``Kp_Sum`` empty.
Kp, GFZ text (``read_kp``)
    GFZ Potsdam's ``Kp_ap_Ap_SN_F107_since_1932.txt`` (and ``..._nowcast.txt``): comment
    lines start with ``#``; a data row holds 28 whitespace-separated fields
    ``YYYY MM DD days days_m Bsr dB Kp1..Kp8 ap1..ap8 Ap SN F10.7obs F10.7adj D`` with Kp as
    decimals (``0.333``, ``5.667``) and ``-1`` for a Kp not (yet) determined. Only the date
    and the eight Kp fields are used. The layout is recognised from the content (a ``#``
    line or a 28-field row first), not from the file name.
Dst, WDC exchange format (``read_dst``, ``write_dst_wdc``)
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
Sudden commencements (``read_ssc``, ``write_ssc_list``)
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

The activity table
------------------
:func:`daily_activity` puts the indices on one row per UTC day (:class:`DailyActivity`):
daily maximum Kp, daily minimum Dst, number of sudden commencements, each with its
coverage (a day an index does not cover is NaN, never 0). :func:`window_activity`
summarises windows of days; :func:`parse_storm_rule` and :class:`StormRule` decide which
days are disturbed, with an explicit third answer, *undecided*, for days whose data cannot
settle the rule (see :class:`StormRule`).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from seismag.errors import ConfigError, DataError
from seismag.io import write_text

__all__ = [
    "KP_COLUMNS",
    "KP_PER_DAY",
    "DST_PER_DAY",
    "KpSeries",
    "DstSeries",
    "SscList",
    "DailyActivity",
    "StormClause",
    "StormRule",
    "read_kp",
    "read_dst",
    "read_ssc",
    "write_kp_csv",
    "write_dst_wdc",
    "write_ssc_list",
    "daily_activity",
    "window_activity",
    "parse_storm_rule",
    "windows_with_disturbed_days",
]

#: The 3-hourly Kp columns of the CSV layout (``K_00`` covers 00:00-03:00 UT).
KP_COLUMNS = ("K_00", "K_03", "K_06", "K_09", "K_12", "K_15", "K_18", "K_21")
KP_PER_DAY = 8
DST_PER_DAY = 24

_KP_CSV_HEADER = ("Date",) + KP_COLUMNS + ("Kp_Sum",)
_GFZ_FIELDS = 28
_GFZ_LAYOUT = "YYYY MM DD days days_m Bsr dB Kp1..Kp8 ap1..ap8 Ap SN F10.7obs F10.7adj D"
_WDC_RECORD = 120
_WDC_MISSING = 9999
# cols 11-12 and 14 of a WDC record for each status; the reader maps them back.
_DST_STATUS_CODES = {"final": ("  ", "2"), "provisional": ("PP", "1"), "quicklook": ("RR", "0")}
_SSC_KINDS = ("SSC", "SI")
_SSC_TYPES = {"SSC": "SSC", "SI": "SI", "SI-": "SI"}
_SSC_STATIONS = 5
#: Observatories named in rows the writer writes when the caller names none (the stations
#: of the 2011 list).
SSC_DEFAULT_OBSERVATORIES = ("ABG", "HON", "KNY", "MBO", "SJG")
_SSC_COLUMN_LINE = (
    "YYYY MM dd hh  min  Rise-time       Amplitude (nT)     Qualification   Observatories    Type"
)


# --------------------------------------------------------------------------- series


@dataclass(frozen=True)
class KpSeries:
    """3-hourly planetary Kp, one row a day.

    Attributes
    ----------
    days : ndarray of datetime64[D], shape (n_days,)
        Sorted, unique; consecutive or with gaps (a day not listed is not covered).
    kp : ndarray of float64, shape (n_days, 8)
        Kp for 00-03, 03-06, ..., 21-24 UT (0..9, thirds as decimals); NaN where missing.
    path : str
        The file read ('' when built in memory).
    layout : str
        ``'csv'``, ``'gfz-text'`` or ``''``.
    """

    days: np.ndarray
    kp: np.ndarray
    path: str = ""
    layout: str = ""

    def __len__(self) -> int:
        return int(self.days.shape[0])

    def daily_max(self) -> np.ndarray:
        """Largest Kp of each day, shape (n_days,); NaN on a day with no value.

        On a day with some of its eight values missing this is the largest value present,
        a lower bound of the true maximum (:meth:`complete` tells such days).
        """
        return _nan_reduce(self.kp, np.max)

    def complete(self) -> np.ndarray:
        """True for the days that have all eight values, shape (n_days,)."""
        return np.isfinite(self.kp).all(axis=1)


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
        return _nan_reduce(self.dst, np.min)

    def complete(self) -> np.ndarray:
        """True for the days that have all 24 hourly values, shape (n_days,)."""
        return np.isfinite(self.dst).all(axis=1)


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

    def counts_on(self, days, kinds: Sequence[str] = _SSC_KINDS) -> np.ndarray:
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


# --------------------------------------------------------------------------- readers


def read_kp(path: str | os.PathLike) -> KpSeries:
    """Read Kp from the CSV re-export or GFZ's ``Kp_ap_Ap_SN_F107`` text file.

    The layout is told from the content: a first line ``Date,K_00,...`` is the CSV, a
    first line starting with ``#`` (or a 28-field data row) is GFZ text.

    Returns
    -------
    KpSeries
        Days sorted; ``-1``, an empty field and ``NaN`` become NaN.

    Raises
    ------
    DataError
        Missing or empty file, an unknown layout, a row that cannot be read (the message
        gives the line number), a Kp outside 0..9, a repeated day, or no rows at all.
    """
    path = os.fspath(path)
    lines = _read_lines(path)
    first = next((text for text in lines if text.strip()), None)
    if first is None:
        raise DataError(path, "empty file (no Kp header or rows)")
    head = first.strip()
    if head.lower().startswith("date,"):
        days, values, layout = (*_parse_kp_csv(path, lines), "csv")
    elif head.startswith("#") or len(head.split()) == _GFZ_FIELDS:
        days, values, layout = (*_parse_kp_gfz(path, lines), "gfz-text")
    else:
        raise DataError(
            path,
            "unknown Kp layout; expected the CSV header 'Date,K_00,...,K_21,Kp_Sum' or GFZ's "
            f"Kp_ap_Ap_SN_F107 text ({_GFZ_LAYOUT}); first line: {head[:80]!r}",
        )
    day_array, order = _sorted_days(path, days)
    return KpSeries(days=day_array, kp=np.array(values, dtype=np.float64).reshape(-1, KP_PER_DAY)[order],
                    path=path, layout=layout)


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
    lines = _read_lines(path)
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
    day_array, order = _sorted_days(path, days)
    return DstSeries(
        days=day_array,
        dst=np.array(values, dtype=np.float64)[order],
        daily_mean=np.array(means, dtype=np.float64)[order],
        status=np.array(statuses, dtype=str)[order],
        path=path,
    )


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


# --------------------------------------------------------------------------- writers


def write_kp_csv(path: str | os.PathLike, days, kp) -> Path:
    """Write Kp in the CSV layout of the shared GFZ re-export, atomically.

    Parameters
    ----------
    days : datetime64[D]-like, shape (n_days,)
        Unique days, written in the order given.
    kp : array-like, shape (n_days, 8)
        Kp on the thirds grid (k/3 for k = 0..27, to within 0.003, so ``5.667`` and
        ``17/3`` both do); NaN for a missing value.

    Raises
    ------
    ValueError
        Wrong shapes, repeated days, or a value off the thirds grid or outside 0..9.
    """
    day_array = _day_array(days, "days")
    values = np.asarray(kp, dtype=np.float64)
    if values.shape != (day_array.size, KP_PER_DAY):
        raise ValueError(f"kp must have shape ({day_array.size}, {KP_PER_DAY}) to match days, got {values.shape}")
    _refuse_repeated_days(day_array)
    lines = [",".join(_KP_CSV_HEADER)]
    for day, row in zip(day_array, values):
        texts = [_kp_text(value, day, slot) for slot, value in enumerate(row)]
        total = "" if "" in texts else _shortest_repr(math.fsum(float(text) for text in texts))
        lines.append(",".join([str(day), *texts, total]))
    return write_text(path, "\n".join(lines) + "\n")


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
    day_array = _day_array(days, "days")
    values = np.asarray(dst, dtype=np.float64)
    if values.shape != (day_array.size, DST_PER_DAY):
        raise ValueError(f"dst must have shape ({day_array.size}, {DST_PER_DAY}) to match days, got {values.shape}")
    _refuse_repeated_days(day_array)
    statuses = [status] * day_array.size if isinstance(status, str) else list(status)
    if len(statuses) != day_array.size:
        raise ValueError(f"status has {len(statuses)} entries for {day_array.size} days")
    unknown = sorted(set(statuses) - set(_DST_STATUS_CODES))
    if unknown:
        raise ValueError(f"unknown Dst status {unknown[0]!r}; known: {', '.join(_DST_STATUS_CODES)}")
    lines = [_dst_record(day, row, state) for day, row, state in zip(day_array, values, statuses)]
    return write_text(path, "".join(line + "\n" for line in lines))


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
    bad_kind = sorted(set(kinds) - set(_SSC_KINDS))
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


# --------------------------------------------------------------------------- daily activity


@dataclass(frozen=True)
class DailyActivity:
    """Geomagnetic activity, one row per UTC day.

    The days run without gaps from the first to the last day any of the given indices
    covers. A day an index does not cover holds NaN for it, never 0.

    Attributes
    ----------
    days : ndarray of datetime64[D], shape (n_days,)
    max_kp : ndarray of float64, shape (n_days,)
        Largest 3-hourly Kp of the day (of the values present); NaN where no Kp.
    kp_complete : ndarray of bool, shape (n_days,)
        True where all eight Kp values of the day are present.
    min_dst : ndarray of float64, shape (n_days,)
        Lowest hourly Dst of the day in nT (of the hours present); NaN where no Dst.
    dst_complete : ndarray of bool, shape (n_days,)
        True where all 24 hours are present.
    n_ssc : ndarray of float64, shape (n_days,)
        Sudden commencements with onset that day; NaN on a day no list covers.
    """

    days: np.ndarray
    max_kp: np.ndarray
    kp_complete: np.ndarray
    min_dst: np.ndarray
    dst_complete: np.ndarray
    n_ssc: np.ndarray

    def __len__(self) -> int:
        return int(self.days.shape[0])


def daily_activity(
    kp: KpSeries | None = None,
    dst: DstSeries | None = None,
    ssc: SscList | None = None,
    *,
    ssc_kinds: Sequence[str] = _SSC_KINDS,
) -> DailyActivity:
    """Put the given indices on one table of UTC days (see :class:`DailyActivity`).

    Parameters
    ----------
    kp, dst, ssc
        Any of the three; at least one.
    ssc_kinds
        Which sudden commencements ``n_ssc`` counts: both kinds by default (the lists are
        of sudden commencements, SC, of which SSC and SI are the two types; both are
        sharp global field steps), or ``('SSC',)`` for storm onsets only.

    Raises
    ------
    ConfigError
        No index given, or an unknown kind in ``ssc_kinds``.
    """
    kinds = tuple(ssc_kinds)
    unknown = [k for k in kinds if k not in _SSC_KINDS]
    if unknown or not kinds:
        raise ConfigError(f"ssc_kinds must name some of {', '.join(_SSC_KINDS)}; got {list(kinds)}")
    spans = []
    if kp is not None and len(kp):
        spans.append((kp.days[0], kp.days[-1]))
    if dst is not None and len(dst):
        spans.append((dst.days[0], dst.days[-1]))
    if ssc is not None and ssc.years.size:
        spans.append((np.datetime64(f"{ssc.years[0]:04d}-01-01"), np.datetime64(f"{ssc.years[-1]:04d}-12-31")))
    if kp is None and dst is None and ssc is None:
        raise ConfigError("daily_activity needs at least one index (kp, dst or ssc)")
    if not spans:
        empty = np.array([], dtype="datetime64[D]")
        return DailyActivity(empty, np.array([]), np.array([], bool), np.array([]), np.array([], bool), np.array([]))
    first = min(span[0] for span in spans).astype("datetime64[D]")
    last = max(span[1] for span in spans).astype("datetime64[D]")
    days = np.arange(first, last + np.timedelta64(1, "D"), dtype="datetime64[D]")
    max_kp = np.full(days.size, np.nan)
    kp_complete = np.zeros(days.size, dtype=bool)
    min_dst = np.full(days.size, np.nan)
    dst_complete = np.zeros(days.size, dtype=bool)
    if kp is not None and len(kp):
        at = (kp.days - first).astype(np.int64)
        max_kp[at] = kp.daily_max()
        kp_complete[at] = kp.complete()
    if dst is not None and len(dst):
        at = (dst.days - first).astype(np.int64)
        min_dst[at] = dst.daily_min()
        dst_complete[at] = dst.complete()
    n_ssc = ssc.counts_on(days, kinds) if ssc is not None else np.full(days.size, np.nan)
    return DailyActivity(days, max_kp, kp_complete, min_dst, dst_complete, n_ssc)


def window_activity(
    activity: DailyActivity,
    window_start_days,
    window_days: int,
    rule: "StormRule | None" = None,
) -> dict[str, np.ndarray]:
    """Summarise the activity of windows of ``window_days`` days.

    Window ``i`` covers the UTC days ``window_start_days[i]`` to
    ``window_start_days[i] + window_days - 1``.

    Returns
    -------
    dict of str to ndarray, each shape (n_windows,)
        ``max_kp`` (largest Kp), ``min_dst`` (lowest Dst, nT) and ``n_ssc`` (sudden
        commencements), each NaN unless its index covers every day of the window
        completely (all 8 Kp values, all 24 Dst hours, every day in a listed year): a
        partly covered window gets NaN, not the extreme of the part covered, because that
        part could hide the storm. With a ``rule``, also ``disturbed_days`` (days the rule
        knows to be disturbed) and ``undecided_days`` (days the data cannot settle), int64;
        these count day by day, so they are informative on partly covered windows too.

    Raises
    ------
    ConfigError
        ``window_days`` below 1.
    """
    index, inside = _window_index(activity, window_start_days, window_days)
    n_windows = index.shape[0]
    if len(activity) == 0:
        # No table at all: nothing is covered, and every day of every window is undecided.
        result = {name: np.full(n_windows, np.nan) for name in ("max_kp", "min_dst", "n_ssc")}
        if rule is not None:
            result["disturbed_days"] = np.zeros(n_windows, dtype=np.int64)
            result["undecided_days"] = np.full(n_windows, int(window_days), dtype=np.int64)
        return result

    def column(values: np.ndarray, complete: np.ndarray, reduce) -> np.ndarray:
        covered = (complete[index] & inside).all(axis=1)
        out = reduce(np.where(inside, values[index], 0.0), axis=1).astype(np.float64)
        out[~covered] = np.nan
        return out

    result = {
        "max_kp": column(activity.max_kp, activity.kp_complete, np.max),
        "min_dst": column(activity.min_dst, activity.dst_complete, np.min),
        "n_ssc": column(activity.n_ssc, np.isfinite(activity.n_ssc), np.sum),
    }
    if rule is not None:
        disturbed, undecided = rule.evaluate(activity)
        result["disturbed_days"] = (disturbed[index] & inside).sum(axis=1).astype(np.int64)
        # A day outside the table has no data at all: it is undecided, never quiet.
        result["undecided_days"] = ((undecided[index] & inside) | ~inside).sum(axis=1).astype(np.int64)
    return result


# --------------------------------------------------------------------------- storm rule


_CLAUSE = re.compile(r"^\s*([A-Za-z_]+)\s*(>=|<=|>|<)\s*([-+]?[0-9.eE+-]+)\s*$")
_RULE_KEYS = ("kp", "dst", "ssc")
_OPERATORS = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less}


@dataclass(frozen=True)
class StormClause:
    """One test of a storm rule: ``key op threshold`` (``kp >= 5``)."""

    key: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.threshold:g}"


@dataclass(frozen=True)
class StormRule:
    """Which days count as disturbed: any clause holding makes a day disturbed (OR).

    ``kp`` is the day's largest 3-hourly Kp, ``dst`` its lowest hourly Dst (nT), ``ssc``
    its number of sudden commencements (see :func:`daily_activity`).

    Days without full data are not guessed at. Each clause is true, false or undecided:

    - no value of the index that day: undecided;
    - all values present: true or false;
    - some values missing: the extreme of the values present bounds the true one (the
      true daily Kp maximum can only be higher, the true Dst minimum only lower), so
      ``kp>=5`` holding on the values present is true, failing is undecided; ``kp<3``
      failing is false, holding is undecided; likewise ``dst<=-50`` (true if it holds)
      and ``dst>-30`` (false if it fails).

    A day is disturbed when some clause is true, quiet when all are false, otherwise
    undecided. Undecided days are reported (``undecided_days`` of
    :func:`window_activity`), never silently counted as quiet; whether they drop a window
    is the caller's choice (:func:`windows_with_disturbed_days`). A rule naming an index
    that was not loaded therefore leaves every day it does not find disturbed undecided:
    load every index in :attr:`keys`.
    """

    clauses: tuple
    text: str

    def __str__(self) -> str:
        return ",".join(str(clause) for clause in self.clauses)

    @property
    def keys(self) -> frozenset:
        """The indices the rule reads (``{'kp', 'dst'}`` for ``kp>=5,dst<=-50``)."""
        return frozenset(clause.key for clause in self.clauses)

    def evaluate(self, activity: DailyActivity) -> tuple[np.ndarray, np.ndarray]:
        """``(disturbed, undecided)`` bool arrays, one entry per day of ``activity``."""
        n = len(activity)
        any_true = np.zeros(n, dtype=bool)
        any_undecided = np.zeros(n, dtype=bool)
        for clause in self.clauses:
            truth, undecided = _clause_truth(clause, activity)
            any_true |= truth
            any_undecided |= undecided
        return any_true, any_undecided & ~any_true

    def disturbed(self, activity: DailyActivity) -> np.ndarray:
        """True for the days known to be disturbed, shape (n_days,)."""
        return self.evaluate(activity)[0]

    def undecided(self, activity: DailyActivity) -> np.ndarray:
        """True for the days the data cannot settle, shape (n_days,)."""
        return self.evaluate(activity)[1]


def parse_storm_rule(text: str) -> StormRule:
    """Parse a storm rule such as ``"kp>=5,dst<=-50"`` (clauses joined by commas: OR).

    Keys ``kp``, ``dst``, ``ssc`` (case-insensitive); operators ``>=``, ``<=``, ``>``, ``<``;
    a finite number. Spaces are allowed around each part.

    Raises
    ------
    ConfigError
        One line naming the rule text and the problem (empty rule or clause, unknown key
        or operator, a threshold that is not a finite number).
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"storm rule {text!r}: empty; write clauses like 'kp>=5,dst<=-50'")
    clauses = []
    for part in text.split(","):
        if not part.strip():
            raise ConfigError(f"storm rule {text!r}: an empty clause (two commas, or a comma at an end)")
        match = _CLAUSE.match(part)
        if match is None:
            raise ConfigError(
                f"storm rule {text!r}: clause {part.strip()!r} is not KEY OP NUMBER "
                f"(keys {', '.join(_RULE_KEYS)}; operators {', '.join(_OPERATORS)})"
            )
        key, op, number = match.group(1).lower(), match.group(2), match.group(3)
        if key not in _RULE_KEYS:
            raise ConfigError(f"storm rule {text!r}: unknown key {match.group(1)!r} (keys {', '.join(_RULE_KEYS)})")
        try:
            threshold = float(number)
        except ValueError:
            raise ConfigError(f"storm rule {text!r}: threshold {number!r} is not a number") from None
        if not math.isfinite(threshold):
            raise ConfigError(f"storm rule {text!r}: threshold {number!r} is not a finite number")
        clauses.append(StormClause(key, op, threshold))
    return StormRule(clauses=tuple(clauses), text=text)


def windows_with_disturbed_days(
    activity: DailyActivity,
    window_start_days,
    window_days: int,
    rule: StormRule,
    *,
    undecided: str = "keep",
) -> np.ndarray:
    """True for the windows to drop because they contain a disturbed day.

    Parameters
    ----------
    undecided
        What a day the data cannot settle does to its window: ``'keep'`` (the default:
        the window stays, and ``undecided_days`` of :func:`window_activity` counts such
        days for the report) or ``'drop'`` (treated as disturbed: the cautious choice
        when the indices do not cover the whole record).

    Returns
    -------
    ndarray of bool, shape (n_windows,)

    Raises
    ------
    ConfigError
        ``undecided`` not ``'keep'`` or ``'drop'``, or ``window_days`` below 1.
    """
    if undecided not in ("keep", "drop"):
        raise ConfigError(f"undecided must be 'keep' or 'drop', got {undecided!r}")
    columns = window_activity(activity, window_start_days, window_days, rule)
    drop = columns["disturbed_days"] > 0
    if undecided == "drop":
        drop |= columns["undecided_days"] > 0
    return drop


# --------------------------------------------------------------------------- internals


def _nan_reduce(values: np.ndarray, reduce) -> np.ndarray:
    """Row-wise max/min ignoring NaN; NaN for an all-NaN row (without NumPy's warning)."""
    present = np.isfinite(values)
    fill = -np.inf if reduce is np.max else np.inf
    out = reduce(np.where(present, values, fill), axis=1) if values.size else np.zeros(values.shape[0])
    out = out.astype(np.float64)
    out[~present.any(axis=1)] = np.nan
    return out


def _read_lines(path: str) -> list[str]:
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


def _sorted_days(path: str, days: list) -> tuple[np.ndarray, np.ndarray]:
    if not days:
        raise DataError(path, "no data rows")
    day_array = np.array(days, dtype="datetime64[D]")
    order = np.argsort(day_array, kind="stable")
    day_array = day_array[order]
    repeated = day_array[1:][day_array[1:] == day_array[:-1]]
    if repeated.size:
        raise DataError(path, f"day {repeated[0]} is listed more than once")
    return day_array, order


def _date(year: int, month: int, day: int) -> np.datetime64:
    """The day as datetime64[D]; ValueError for an impossible date (2011-02-30)."""
    return np.datetime64(_dt.date(year, month, day), "D")


def _kp_value(path: str, number: int, text: str, column: str) -> float:
    field = text.strip()
    if not field or field.lower() == "nan":
        return math.nan
    try:
        value = float(field)
    except ValueError:
        raise DataError(path, f"line {number}: {column} is not a number: {field!r}") from None
    if value == -1.0:
        return math.nan
    if not 0.0 <= value <= 9.0:
        raise DataError(path, f"line {number}: {column} = {field} is outside 0..9 (and not -1, missing)")
    return value


def _parse_kp_csv(path: str, lines: list[str]) -> tuple[list, list]:
    header_number = next(n for n, text in enumerate(lines, start=1) if text.strip())
    names = [name.strip() for name in lines[header_number - 1].split(",")]
    lowered = [name.lower() for name in names]
    needed = ("date",) + tuple(column.lower() for column in KP_COLUMNS)
    missing = [name for name, low in zip(("Date",) + KP_COLUMNS, needed) if low not in lowered]
    if missing:
        raise DataError(
            path, f"line {header_number}: Kp CSV header lacks {', '.join(missing)}; found {', '.join(names)}"
        )
    where = [lowered.index(low) for low in needed]
    days, values = [], []
    for number in range(header_number + 1, len(lines) + 1):
        text = lines[number - 1]
        if not text.strip():
            continue
        fields = text.split(",")
        if len(fields) < len(names):
            raise DataError(path, f"line {number}: {len(fields)} fields, the header has {len(names)} (truncated?)")
        try:
            year, month, day = (int(part) for part in fields[where[0]].strip().split("-"))
            days.append(_date(year, month, day))
        except ValueError:
            raise DataError(path, f"line {number}: Date is not YYYY-MM-DD: {fields[where[0]].strip()!r}") from None
        values.extend(_kp_value(path, number, fields[i], column) for i, column in zip(where[1:], KP_COLUMNS))
    return days, values


def _parse_kp_gfz(path: str, lines: list[str]) -> tuple[list, list]:
    days, values = [], []
    for number, text in enumerate(lines, start=1):
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = stripped.split()
        if len(fields) != _GFZ_FIELDS:
            raise DataError(
                path, f"line {number}: {len(fields)} fields, GFZ Kp rows have {_GFZ_FIELDS} ({_GFZ_LAYOUT})"
            )
        try:
            days.append(_date(int(fields[0]), int(fields[1]), int(fields[2])))
        except ValueError:
            raise DataError(path, f"line {number}: bad date {' '.join(fields[:3])!r}") from None
        values.extend(_kp_value(path, number, fields[7 + slot], f"Kp{slot + 1}") for slot in range(KP_PER_DAY))
    return days, values


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
        date = _date(year, month, day)
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


_SSC_TITLE = re.compile(r"^\s*SC\s+(\d{4})\s*$")
_SSC_ROW = re.compile(r"^\s*\d{4}\s+\d")


def _parse_ssc_file(path: str) -> tuple[list, list, list, set]:
    lines = _read_lines(path)
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
            start = _date(year, month, day)
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


def _day_array(days, name: str) -> np.ndarray:
    try:
        return np.atleast_1d(np.asarray(days, dtype="datetime64[D]"))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be dates (datetime64[D]-like): {exc}") from None


def _refuse_repeated_days(day_array: np.ndarray) -> None:
    unique, counts = np.unique(day_array, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"day {unique[counts > 1][0]} given more than once")


def _shortest_repr(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def _kp_text(value: float, day, slot: int) -> str:
    if not math.isfinite(value):
        return ""
    thirds = round(value * 3.0)
    if abs(value * 3.0 - thirds) > 0.01 or not 0 <= thirds <= 27:
        raise ValueError(f"Kp {value!r} on {day} {KP_COLUMNS[slot]} is not a third of a unit in 0..9")
    return str(thirds // 3) if thirds % 3 == 0 else f"{thirds / 3.0:.3f}"


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


def _per_station(values, n: int, name: str, dtype) -> np.ndarray:
    array = np.asarray(values, dtype=dtype)
    if array.ndim == 0:
        return np.full((n, _SSC_STATIONS), array, dtype=dtype)
    if array.shape == (n,):
        return np.repeat(array[:, None], _SSC_STATIONS, axis=1)
    if array.shape == (n, _SSC_STATIONS):
        return array
    raise ValueError(f"{name} must be a number, shape ({n},) or ({n}, {_SSC_STATIONS}); got shape {array.shape}")


def _window_index(activity: DailyActivity, window_start_days, window_days: int) -> tuple[np.ndarray, np.ndarray]:
    """``(index, inside)``, shape (n_windows, window_days): table rows of each window day."""
    if isinstance(window_days, bool) or not isinstance(window_days, (int, np.integer)) or window_days < 1:
        raise ConfigError(f"window_days must be a whole number of days >= 1, got {window_days!r}")
    starts = np.atleast_1d(np.asarray(window_start_days, dtype="datetime64[D]"))
    if len(activity) == 0:
        shape = (starts.size, int(window_days))
        return np.zeros(shape, dtype=np.int64), np.zeros(shape, dtype=bool)
    offsets = (starts - activity.days[0]).astype(np.int64)
    index = offsets[:, None] + np.arange(int(window_days), dtype=np.int64)[None, :]
    inside = (index >= 0) & (index < len(activity))
    return np.clip(index, 0, len(activity) - 1), inside


def _clause_truth(clause: StormClause, activity: DailyActivity) -> tuple[np.ndarray, np.ndarray]:
    """``(true, undecided)`` of one clause for every day (see :class:`StormRule`)."""
    if clause.key == "ssc":
        values, complete, bound = activity.n_ssc, np.isfinite(activity.n_ssc), None
    elif clause.key == "kp":
        values, complete, bound = activity.max_kp, activity.kp_complete.astype(bool), "lower"
    else:
        values, complete, bound = activity.min_dst, activity.dst_complete.astype(bool), "upper"
    present = np.isfinite(values)
    holds = np.zeros(values.shape, dtype=bool)
    holds[present] = _OPERATORS[clause.op](values[present], clause.threshold)
    partial = present & ~complete
    # On a partial day the value present is a bound of the day's true value. A test in the
    # direction the true value can still move cannot be settled by the bound.
    rising = clause.op in (">=", ">")
    settled_if_holds = (bound == "lower") == rising
    if settled_if_holds:
        true = holds & present
        undecided = ~present | (partial & ~holds)
    else:
        true = holds & complete
        undecided = ~present | (partial & holds)
    return true, undecided
