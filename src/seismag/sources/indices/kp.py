"""The planetary Kp index: read (the CSV re-export and GFZ's text file) and written (the CSV).

Formats
-------
Kp, CSV re-export (:func:`read_kp`, :func:`write_kp_csv`)
    One header line ``Date,K_00,K_03,K_06,K_09,K_12,K_15,K_18,K_21,Kp_Sum``, then one row a
    day: ISO date, the eight 3-hourly planetary Kp values (``K_00`` covers 00-03 UT) with
    thirds written as decimals (``1.333`` is 1+, ``1.667`` is 2-, integers without a
    decimal point), and their sum. The writer reproduces the shared GFZ re-export byte for
    byte: ``Kp_Sum`` is the correctly rounded sum of the eight written values
    (``math.fsum``), printed as Python's shortest repr without a trailing ``.0``
    (``13.001``, ``3.6670000000000003``, ``16``). An empty field, ``NaN`` or ``-1`` is a
    missing value; the writer writes a missing value as an empty field and then leaves
    ``Kp_Sum`` empty.
Kp, GFZ text (:func:`read_kp`)
    GFZ Potsdam's ``Kp_ap_Ap_SN_F107_since_1932.txt`` (and ``..._nowcast.txt``): comment
    lines start with ``#``; a data row holds 28 whitespace-separated fields
    ``YYYY MM DD days days_m Bsr dB Kp1..Kp8 ap1..ap8 Ap SN F10.7obs F10.7adj D`` with Kp as
    decimals (``0.333``, ``5.667``) and ``-1`` for a Kp not (yet) determined. Only the date
    and the eight Kp fields are used. The layout is recognised from the content (a ``#``
    line or a 28-field row first), not from the file name.

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

import numpy as np

from seismag.errors import DataError
from seismag.io import write_text
from seismag.sources.indices.days import day_array, nan_reduce, read_lines, refuse_repeated_days, sorted_days, utc_date

__all__ = ["KP_COLUMNS", "KP_PER_DAY", "KpSeries", "read_kp", "write_kp_csv"]

#: The 3-hourly Kp columns of the CSV layout (``K_00`` covers 00:00-03:00 UT).
KP_COLUMNS = ("K_00", "K_03", "K_06", "K_09", "K_12", "K_15", "K_18", "K_21")
KP_PER_DAY = 8

_KP_CSV_HEADER = ("Date",) + KP_COLUMNS + ("Kp_Sum",)
_GFZ_FIELDS = 28
_GFZ_LAYOUT = "YYYY MM DD days days_m Bsr dB Kp1..Kp8 ap1..ap8 Ap SN F10.7obs F10.7adj D"


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
        return nan_reduce(self.kp, np.max)

    def complete(self) -> np.ndarray:
        """True for the days that have all eight values, shape (n_days,)."""
        return np.isfinite(self.kp).all(axis=1)


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
    lines = read_lines(path)
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
    days_sorted, order = sorted_days(path, days)
    return KpSeries(days=days_sorted, kp=np.array(values, dtype=np.float64).reshape(-1, KP_PER_DAY)[order],
                    path=path, layout=layout)


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
    days_given = day_array(days, "days")
    values = np.asarray(kp, dtype=np.float64)
    if values.shape != (days_given.size, KP_PER_DAY):
        raise ValueError(f"kp must have shape ({days_given.size}, {KP_PER_DAY}) to match days, got {values.shape}")
    refuse_repeated_days(days_given)
    lines = [",".join(_KP_CSV_HEADER)]
    for day, row in zip(days_given, values):
        texts = [_kp_text(value, day, slot) for slot, value in enumerate(row)]
        total = "" if "" in texts else _shortest_repr(math.fsum(float(text) for text in texts))
        lines.append(",".join([str(day), *texts, total]))
    return write_text(path, "\n".join(lines) + "\n")


# --------------------------------------------------------------------------- internals


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
            days.append(utc_date(year, month, day))
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
            days.append(utc_date(int(fields[0]), int(fields[1]), int(fields[2])))
        except ValueError:
            raise DataError(path, f"line {number}: bad date {' '.join(fields[:3])!r}") from None
        values.extend(_kp_value(path, number, fields[7 + slot], f"Kp{slot + 1}") for slot in range(KP_PER_DAY))
    return days, values


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
