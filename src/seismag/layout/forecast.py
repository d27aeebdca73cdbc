"""The forecast files: ``scores.csv`` with its companion ``scores.meta.json``, and ``skill.json``.

``seismag scan`` writes ``scores.csv`` and ``scores.meta.json`` (:func:`write_forecast_scores`);
``seismag skill`` and the skill figures read the CSV through :func:`read_scores` and the
companion through :func:`read_forecast_meta`. ``seismag skill --out DIR`` writes
``skill.json`` and ``skill.csv`` (the names, format, version and outcome words here; its
schema is :mod:`seismag.evaluation.skill.run`'s, and its reader for the figures
:mod:`seismag.plots.skill_files`).

``scores.csv`` has one row per station, day and model, in the columns of :data:`SCORE_COLUMNS`::

    station, latitude, longitude, window_end, model, prob_class1, member_std, missing_fraction, in_sample

``window_end`` is an ISO date (the UTC midnight at which the window ends, exclusive); the
forecast made from the window is for ``[window_end, window_end + lead_days)``.
``prob_class1`` is a float in [0, 1], or empty when the window had too much missing data:
such a row is kept (its station-days are scored, under no alarm). ``in_sample`` is
``true`` / ``false``. A file that breaks any of this is refused with one line naming the
file, the line and the problem.

May import: numpy, the standard library, :mod:`seismag.errors`, :mod:`seismag.io` and
:mod:`seismag.layout.dataset_info` (the label settings, the JSON checks); nothing that
imports torch.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seismag.errors import DataError, describe_os_error
from seismag.io import atomic_path, write_json
from seismag.layout.dataset_info import check_format, label_settings, read_json_or_none

# ============================================================================= scores.csv

#: ``scores.csv`` (``seismag scan`` writes it; ``seismag skill`` and the skill figures read it):
#: one row per station, UTC day and model, in these columns. ``window_end`` is the ISO date
#: of the midnight the window ends at; an empty ``prob_class1`` is a day with too much missing
#: data; ``in_sample`` is ``true``/``false`` against the ensemble's training period.
SCORE_COLUMNS = ("station", "latitude", "longitude", "window_end", "model", "prob_class1", "member_std",
                 "missing_fraction", "in_sample")
#: Columns ``seismag scan`` writes after :data:`SCORE_COLUMNS` and readers do not require (files
#: written before them still read): ``prob_class1_uncalibrated``, the ensemble's P(class 1) before
#: its calibrator (equal to ``prob_class1`` when the ensemble has none or ``--no-calibration``).
EXTRA_SCORE_COLUMNS = ("prob_class1_uncalibrated",)
#: The columns ``scores.csv`` is written with.
WRITTEN_SCORE_COLUMNS = SCORE_COLUMNS + EXTRA_SCORE_COLUMNS
#: Beside ``scores.csv``, its companion ``scores.meta.json`` (the CSV's name with
#: :data:`SCORES_META_SUFFIX` for its suffix): per model (the ``model`` column) the
#: ``ensemble`` scanned, its ``training_period`` and its ``labels``
#: (:data:`~seismag.layout.dataset_info.LABEL_KEYS`; null: the ensemble does not know them), its
#: ``calibration`` (one sentence: calibrated and how, or why not; null in companions written before),
#: and the CSV's ``scores_sha256``, so that a companion left beside another CSV is told apart.
#: Written with the CSV by :func:`write_forecast_scores`.
SCORES_META_SUFFIX = ".meta.json"
SCORES_META_FORMAT = "seismag-scores-meta"
SCORES_META_VERSION = 1


def scores_meta_path(scores: str | os.PathLike) -> Path:
    """``DIR/scores.csv`` -> ``DIR/scores.meta.json``, the companion of a scores table."""
    scores = Path(scores)
    return scores.with_name(scores.stem + SCORES_META_SUFFIX)


def write_forecast_scores(out: str | os.PathLike, rows: Sequence[Sequence[Any]],
                          models: Mapping[str, Mapping[str, Any]]) -> Path:
    """Write ``scores.csv`` (:data:`SCORE_COLUMNS` and as many of :data:`EXTRA_SCORE_COLUMNS` as the
    rows hold, then ``rows`` as given) and its companion.

    ``models``: the ``model`` column's name -> ``{'ensemble', 'training_period', 'labels'}``
    (``labels`` checked by :func:`~seismag.layout.dataset_info.label_settings`, or None).
    Each file is written atomically and neither replaces an old one unless both were written
    in full; the companion is renamed into place just before the CSV, and records the CSV's
    SHA-256, so that the one way they can part (a crash between the two renames) is
    recognised by :func:`read_forecast_meta`.
    """
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    # rows of SCORE_COLUMNS alone (a table made by other means) or with the extra columns after them
    width = len(rows[0]) if len(rows) else len(WRITTEN_SCORE_COLUMNS)
    if not len(SCORE_COLUMNS) <= width <= len(WRITTEN_SCORE_COLUMNS) or any(len(row) != width for row in rows):
        raise ValueError(f"score rows must all hold the {len(SCORE_COLUMNS)} columns of SCORE_COLUMNS, "
                         f"optionally followed by {', '.join(EXTRA_SCORE_COLUMNS)}")
    writer.writerow(WRITTEN_SCORE_COLUMNS[:width])
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
    ensemble, calibration = entry.get("ensemble"), entry.get("calibration")
    if calibration is not None and not isinstance(calibration, str):
        raise DataError(where, f"'calibration' must be a sentence or null, got {calibration!r}")
    return {"ensemble": None if ensemble is None else str(ensemble),
            "training_period": None if period is None else dict(period),
            "labels": None if labels is None else label_settings(labels, where),
            "calibration": calibration}


def read_forecast_meta(scores: str | os.PathLike) -> dict[str, Any] | None:
    """The companion of ``scores`` checked (see :func:`write_forecast_scores`); None when
    there is none (a scores.csv written before companions were, or by other means).

    Raises
    ------
    DataError
        Naming the companion: not JSON, another format or version, a bad model entry, or
        written with another ``scores.csv`` (its SHA-256 differs).
    """
    path = scores_meta_path(scores)
    record = read_json_or_none(path)
    if record is None:
        return None
    check_format(record, path, SCORES_META_FORMAT, SCORES_META_VERSION, "a scores companion")
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
            for name in EXTRA_SCORE_COLUMNS:
                if name in names and row[names.index(name)].strip() != "":
                    _number(path, line, name, row[names.index(name)].strip(), 0.0, 1.0)
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


# ============================================================================== skill.json

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
