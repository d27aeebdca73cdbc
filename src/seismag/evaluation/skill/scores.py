"""Reading ``scores.csv`` (written by ``seismag scan``) and checking every row of it.

One row per station, day and model, in the columns of :data:`SCORE_COLUMNS`::

    station, latitude, longitude, window_end, model, prob_class1, member_std, missing_fraction, in_sample

``window_end`` is an ISO date (the UTC midnight at which the window ends, exclusive); the
forecast made from the window is for ``[window_end, window_end + lead_days)``.
``prob_class1`` is a float in [0, 1], or empty when the window had too much missing data:
such a row is kept (its station-days are scored, under no alarm). ``in_sample`` is
``true`` / ``false``. A file that breaks any of this is refused with one line naming the
file, the line and the problem.

May import numpy and :mod:`seismag.errors`.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass

import numpy as np

from seismag.errors import DataError

__all__ = ["SCORE_COLUMNS", "ModelRows", "Scores", "read_scores"]

from seismag.layout import SCORE_COLUMNS  # noqa: E402  (the columns of scores.csv: layout owns the file)
_BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True)
class ModelRows:
    """One model's rows, sorted by station and window end.

    Attributes
    ----------
    name : str
    station : ndarray of int64, shape (n_rows,)
        Index into :attr:`Scores.stations`.
    window_end : ndarray of datetime64[D], shape (n_rows,)
    score : ndarray of float64, shape (n_rows,)
        ``prob_class1``; NaN where the file's field is empty.
    in_sample : ndarray of bool, shape (n_rows,)
    line : ndarray of int64, shape (n_rows,)
        The row's line in the file, for messages.
    """

    name: str
    station: np.ndarray
    window_end: np.ndarray
    score: np.ndarray
    in_sample: np.ndarray
    line: np.ndarray

    def __len__(self) -> int:
        return int(self.station.shape[0])


@dataclass(frozen=True)
class Scores:
    """The content of one scores.csv.

    Attributes
    ----------
    path : str
    stations : tuple of str
        Station codes in order of first appearance.
    latitude, longitude : ndarray of float64, shape (n_stations,)
    models : dict of str to ModelRows
        In order of first appearance.
    """

    path: str
    stations: tuple
    latitude: np.ndarray
    longitude: np.ndarray
    models: dict


def read_scores(path: str | os.PathLike) -> Scores:
    """Read and check a scores.csv.

    Raises
    ------
    DataError
        Missing or empty file, a missing column, a row with the wrong number of fields, a
        date, number or boolean that cannot be read, a ``prob_class1`` outside [0, 1], a
        station whose coordinates change between rows, a repeated (model, station,
        window_end), or no rows at all. The message names the file and the line.
    """
    path = os.fspath(path)
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(path, f"cannot open the scores: {exc.strerror or exc}") from None
    stations: dict[str, tuple[float, float, int]] = {}
    rows: dict[str, list[tuple]] = {}
    seen: dict[tuple, int] = {}
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise DataError(path, "empty file (no header line); expected the columns " + ", ".join(SCORE_COLUMNS))
        names = [name.strip() for name in header]
        missing = [name for name in SCORE_COLUMNS if name not in names]
        if missing:
            raise DataError(path, f"line 1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                                  f"(scores.csv has {', '.join(SCORE_COLUMNS)})")
        column = {name: names.index(name) for name in SCORE_COLUMNS}
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise DataError(path, f"line {line}: {len(row)} fields, the header has {len(names)}")
            field = {name: row[index].strip() for name, index in column.items()}
            station, model = field["station"], field["model"]
            if not station or not model:
                raise DataError(path, f"line {line}: empty {'station' if not station else 'model'}")
            latitude = _number(path, line, "latitude", field["latitude"], -90.0, 90.0)
            longitude = _number(path, line, "longitude", field["longitude"], -180.0, 360.0)
            window_end = _date(path, line, field["window_end"])
            score = np.nan if field["prob_class1"] == "" else _number(path, line, "prob_class1",
                                                                      field["prob_class1"], 0.0, 1.0)
            for name in ("member_std", "missing_fraction"):
                if field[name] != "":
                    _number(path, line, name, field[name], 0.0, math.inf if name == "member_std" else 1.0)
            in_sample = _BOOLEANS.get(field["in_sample"].lower())
            if in_sample is None:
                raise DataError(path, f"line {line}: in_sample {field['in_sample']!r} is not true or false")
            if station in stations:
                lat0, lon0, line0 = stations[station]
                if (lat0, lon0) != (latitude, longitude):
                    raise DataError(path, f"line {line}: station {station} at {latitude:g}, {longitude:g}, but at "
                                          f"{lat0:g}, {lon0:g} on line {line0}")
            else:
                stations[station] = (latitude, longitude, line)
            key = (model, station, window_end)
            if key in seen:
                raise DataError(path, f"line {line}: a second row for model {model}, station {station}, "
                                      f"window_end {window_end} (the first is on line {seen[key]})")
            seen[key] = line
            rows.setdefault(model, []).append((station, window_end, score, in_sample, line))
    if not rows:
        raise DataError(path, "no score rows (only a header)")
    codes = tuple(stations)
    index = {code: i for i, code in enumerate(codes)}
    models = {}
    for model, entries in rows.items():
        station = np.array([index[e[0]] for e in entries], dtype=np.int64)
        window_end = np.array([e[1] for e in entries], dtype="datetime64[D]")
        order = np.lexsort((window_end, station))
        models[model] = ModelRows(
            name=model, station=station[order], window_end=window_end[order],
            score=np.array([e[2] for e in entries], dtype=np.float64)[order],
            in_sample=np.array([e[3] for e in entries], dtype=bool)[order],
            line=np.array([e[4] for e in entries], dtype=np.int64)[order])
    return Scores(path=path, stations=codes,
                  latitude=np.array([stations[c][0] for c in codes], dtype=np.float64),
                  longitude=np.array([stations[c][1] for c in codes], dtype=np.float64),
                  models=models)


def _number(path: str, line: int, name: str, text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(path, f"line {line}: {name} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise DataError(path, f"line {line}: {name} {text!r} is not a finite number")
    if not low <= value <= high:
        raise DataError(path, f"line {line}: {name} {text} is outside [{low:g}, {high:g}]")
    return value


def _date(path: str, line: int, text: str) -> np.datetime64:
    """An ISO date ``YYYY-MM-DD`` (a valid calendar day)."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise DataError(path, f"line {line}: window_end {text!r} is not a date YYYY-MM-DD")
    try:
        return np.datetime64(text, "D")
    except ValueError:
        raise DataError(path, f"line {line}: window_end {text!r} is not a date YYYY-MM-DD") from None
