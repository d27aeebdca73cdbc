"""Reading the forecast-skill files for the figures: ``skill.json`` and ``scores.csv``.

``DIR/skill.json`` is written by ``seismag skill --out DIR`` (format ``seismag-skill``,
version 2; the full contract is in :mod:`seismag.evaluation.skill.run`): settings, scored period,
in-sample flag, stations, target events with the stations each counts for, the number of
(event, station) pairs, the pointwise 95 % contour and what it is (``contour``), the
family of models the adjusted p-values run over, and per model or reference the ASS, its
surrogate p-value (raw and family-wise adjusted), the surrogates' mean and sd, the
probability gains, the Molchan trajectory, the comparisons with the references
(``versus``) and a verdict. Alarms are judged on timing, so random alarms are the diagonal
for every forecast.
``scores.csv`` is written by ``seismag scan`` (columns :data:`SCORE_COLUMNS`) and read by
its one reader, :func:`seismag.layout.forecast.read_scores`. Both are read as plain files,
never through the skill computation, and every problem is one
:class:`~seismag.errors.DataError` line naming the file.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from seismag.errors import DataError
from seismag.plots.results import load_json

__all__ = ["SKILL_FILE", "SKILL_FORMAT", "SKILL_VERSION", "SCORE_COLUMNS", "GAIN_TAUS", "Skill", "ScoreTable",
           "find_skill", "read_skill", "read_scores", "is_number"]

# The file contract is layout's (one owner for scan, skill and these readers).
from seismag.layout import forecast  # noqa: E402
from seismag.layout.forecast import GAIN_TAUS, SCORE_COLUMNS, SKILL_FORMAT, SKILL_OUTCOMES, SKILL_VERSION  # noqa: E402
from seismag.layout.forecast import SKILL_JSON as SKILL_FILE  # noqa: E402


@dataclass(frozen=True)
class Skill:
    """A checked ``skill.json``: ``data`` is the JSON object, ``path`` the file read.

    ``path`` is ``None`` for a dict given in memory.
    """

    data: dict
    path: Path | None = None

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else "<skill dict>"

    @property
    def models(self) -> dict[str, dict]:
        return self.data["models"]

    @property
    def events(self) -> list[dict]:
        return self.data["events"]

    @property
    def settings(self) -> dict:
        return self.data.get("settings") or {}

    @property
    def in_sample(self) -> bool:
        return bool(self.data["in_sample"])

    @property
    def lead_days(self) -> int | None:
        value = self.settings.get("lead_days")
        return int(value) if isinstance(value, (int, float)) and value > 0 else None

    def trajectory(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(tau, nu)`` of one model or reference, each of shape ``(n_points,)``."""
        points = self.models[name]["molchan"]
        return (np.array([p["tau"] for p in points], dtype=np.float64),
                np.array([p["nu"] for p in points], dtype=np.float64))

    def names(self, kind: str | None = None) -> list[str]:
        """Model and reference names in file order (``kind`` 'model' or 'reference' to filter)."""
        return [name for name, entry in self.models.items() if kind is None or entry["kind"] == kind]


def find_skill(source: str | os.PathLike) -> Path:
    """``source`` itself when it is a file, else ``source/skill.json``."""
    path = Path(source)
    return path / SKILL_FILE if path.is_dir() else path


def read_skill(source: "str | os.PathLike | Mapping[str, Any] | Skill") -> Skill:
    """Read and check a ``skill.json`` (a path, its folder, a dict, or a :class:`Skill`).

    Raises
    ------
    DataError
        One line naming the file: missing, unreadable, not JSON, not the ``seismag-skill``
        format of :data:`SKILL_VERSION`, or an entry missing, of the wrong type or out of range.
    """
    if isinstance(source, Skill):
        return source
    if isinstance(source, Mapping):
        data, path = dict(source), None
    else:
        path = find_skill(source)
        data = load_json(path, missing="no such file (written by seismag skill --out DIR)", invalid="not valid JSON")
    where = str(path) if path is not None else "<skill dict>"
    _check_skill(where, data)
    return Skill(data=data, path=path)


def _check_skill(where: str, data: Any) -> None:
    def fail(problem: str):
        raise DataError(where, problem)

    if not isinstance(data, dict):
        fail(f"not a seismag skill file (a JSON {type(data).__name__}, expected an object)")
    if data.get("format") != SKILL_FORMAT:
        fail(f"not a seismag skill file (format {data.get('format')!r}, expected {SKILL_FORMAT!r})")
    if data.get("version") != SKILL_VERSION:
        fail(f"skill file version {data.get('version')!r} is not supported (this seismag reads "
             f"version {SKILL_VERSION})")
    for key, kind in (("models", dict), ("events", list), ("contour_95", list), ("in_sample", bool),
                      ("stations", dict)):
        if not isinstance(data.get(key), kind):
            fail(f"{key!r} missing or not a JSON {'object' if kind is dict else kind.__name__}")
    for optional in ("settings", "scored_period", "family"):
        if data.get(optional) is not None and not isinstance(data[optional], dict):
            fail(f"{optional!r} is not a JSON object")
    if not _is_count(data.get("n_pairs")):
        fail("'n_pairs' missing or not a whole number, 0 or more")
    if data.get("contour") is not None and not isinstance(data["contour"], str):
        fail("'contour' (what the contour is) is not text")
    _check_points(fail, "contour_95", data["contour_95"])
    for index, event in enumerate(data["events"]):
        if not isinstance(event, dict) or not isinstance(event.get("stations"), list) \
                or not isinstance(event.get("time"), str):
            fail(f"events[{index}] needs a 'time' (ISO text) and a 'stations' list")
        try:
            np.datetime64(event["time"].rstrip("Z"), "s")
        except ValueError:
            fail(f"events[{index}]: time {event['time']!r} is not an ISO time")
    for name, entry in data["models"].items():
        label = f"models[{name!r}]"
        if not isinstance(entry, dict):
            fail(f"{label} is not a JSON object")
        if entry.get("kind") not in ("model", "reference"):
            fail(f"{label}: kind {entry.get('kind')!r} is not 'model' or 'reference'")
        if not is_number(entry.get("ass")):
            fail(f"{label}: 'ass' missing or not a number")
        for key in ("n_events", "n_pairs", "n_station_days"):
            if not _is_count(entry.get(key)):
                fail(f"{label}: {key!r} missing or not a whole number, 0 or more")
        for key in ("ass_p_value", "ass_p_adjusted"):
            _check_probability(fail, f"{label}: {key!r}", entry.get(key))
        for key in ("ass_surrogate_mean", "ass_surrogate_sd"):
            if entry.get(key) is not None and not is_number(entry[key]):
                fail(f"{label}: {key!r} is not a number or null")
        if entry.get("significant") is not None and not isinstance(entry["significant"], bool):
            fail(f"{label}: 'significant' is not true, false or null")
        _check_versus(fail, label, entry.get("versus"), data["models"])
        gains = entry.get("probability_gain")
        if not isinstance(gains, dict) or any(g is not None and not is_number(g) for g in gains.values()):
            fail(f"{label}: 'probability_gain' must map tau to a number or null")
        if not isinstance(entry.get("molchan"), list):
            fail(f"{label}: 'molchan' missing or not a list")
        _check_points(fail, f"{label}.molchan", entry["molchan"])
        taus = [p["tau"] for p in entry["molchan"]]
        if any(b < a for a, b in zip(taus, taus[1:])):
            fail(f"{label}.molchan: tau must not decrease along the trajectory")
        if not isinstance(entry.get("verdict", ""), str):
            fail(f"{label}: 'verdict' is not text")


def _check_versus(fail, label: str, versus: Any, models: dict) -> None:
    """A model's comparisons: reference name -> {ass_difference, p_value, p_adjusted, outcome}."""
    if versus is None:
        return
    if not isinstance(versus, dict):
        fail(f"{label}: 'versus' is not a JSON object")
    for reference, comparison in versus.items():
        where = f"{label}.versus[{reference!r}]"
        if reference not in models:
            fail(f"{where}: no forecast of that name in 'models'")
        if not isinstance(comparison, dict) or not is_number(comparison.get("ass_difference")):
            fail(f"{where} needs a number 'ass_difference'")
        for key in ("p_value", "p_adjusted"):
            _check_probability(fail, f"{where}: {key!r}", comparison.get(key))
        outcome = comparison.get("outcome")
        if outcome is not None and outcome not in SKILL_OUTCOMES:
            fail(f"{where}: outcome {outcome!r} is not {', '.join(map(repr, SKILL_OUTCOMES))} or null")


def _check_probability(fail, label: str, value: Any) -> None:
    if value is not None and not (is_number(value) and 0.0 <= value <= 1.0):
        fail(f"{label} {value!r} is not a probability in [0, 1] or null")


def _is_count(value: Any) -> bool:
    """A whole number, 0 or more (a float like 3.0 that JSON writers may give counts too)."""
    return is_number(value) and value >= 0 and float(value).is_integer()


def _check_points(fail, label: str, points: list) -> None:
    for index, point in enumerate(points):
        if not isinstance(point, dict) or not all(is_number(point.get(k)) for k in ("tau", "nu")):
            fail(f"{label}[{index}] needs numbers 'tau' and 'nu'")
        if not (0.0 <= point["tau"] <= 1.0 and 0.0 <= point["nu"] <= 1.0):
            fail(f"{label}[{index}]: tau {point['tau']} and nu {point['nu']} must lie in [0, 1]")


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class ScoreTable:
    """The rows of a ``scores.csv``, as parallel arrays of shape ``(n_rows,)``.

    ``prob_class1`` is NaN where the file leaves the score empty (too much missing data).
    """

    station: np.ndarray
    window_end: np.ndarray  # datetime64[D]
    model: np.ndarray
    prob_class1: np.ndarray
    in_sample: np.ndarray  # bool
    path: str = ""
    models: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return int(self.station.shape[0])


def read_scores(path: str | os.PathLike) -> ScoreTable:
    """Read a ``scores.csv`` written by ``seismag scan`` (columns :data:`SCORE_COLUMNS`).

    Read and checked by :func:`seismag.layout.forecast.read_scores`, the reader
    ``seismag skill`` uses too, then laid out as the figures take it: rows by model (in
    order of first appearance), station and window end.

    Raises
    ------
    DataError
        Every problem that reader refuses (a missing or empty file, a missing column, a
        date, number or flag that cannot be read, a repeated row, ...), in one line
        naming the file and the line.
    """
    return score_table(forecast.read_scores(path))


def score_table(scores: forecast.Scores) -> ScoreTable:
    """A read ``scores.csv`` (:class:`seismag.layout.forecast.Scores`) as parallel arrays."""
    codes = np.array(scores.stations, dtype=str)
    parts = list(scores.models.values())
    return ScoreTable(station=np.concatenate([codes[rows.station] for rows in parts]),
                      window_end=np.concatenate([rows.window_end for rows in parts]).astype("datetime64[D]"),
                      model=np.array([rows.name for rows in parts for _ in range(len(rows))], dtype=str),
                      prob_class1=np.concatenate([rows.score for rows in parts]).astype(np.float64),
                      in_sample=np.concatenate([rows.in_sample for rows in parts]).astype(bool),
                      path=scores.path, models=tuple(scores.models))
