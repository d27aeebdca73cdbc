"""The reliability of the daily probabilities: does a day given P(event) = 0.2 see a target event
one time in five?

Each scored row of scores.csv forecasts ``[window_end, window_end + lead_days)`` at its station;
its outcome is 1 when a target event within the station's reach has its origin in that span
(the same targets the Molchan diagram counts). Against those outcomes the model's
``prob_class1`` gets the proper scores of :mod:`seismag.scores` and a reliability table, and a
Brier skill score against the per-station event rate of the training period (``reference:rate``):
``1 - exp(-rate * lead_days)``, the chance of at least one event in the span if events came as a
Poisson process at the station's rate. Positive: the daily probabilities are closer to what
happened than that rate; negative: farther (badly calibrated or no skill).

May import: numpy, :mod:`seismag.scores` and the skill modules before it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seismag.evaluation.skill.alarms import StationDays
from seismag.evaluation.skill.events import TargetEvents
from seismag.scores import brier_score, proper_scores

NOTE = ("outcome: a target event within reach of the station in [window_end, window_end + lead_days); "
        "reference: each station's training-period event rate as 1 - exp(-rate * lead_days); rows with an "
        "empty score are left out")


def row_outcomes(days: StationDays, events: TargetEvents) -> np.ndarray:
    """``(n_rows,)`` int64: 1 where a target event within the row's station's reach has its origin
    day in the row's forecast span ``[offset, offset + lead_days)``, else 0."""
    hit = np.zeros((days.scored.shape[0], days.n_days + 1), dtype=np.int64)
    event_index, station_index = events.pairs
    np.add.at(hit, (station_index, events.day_offset[event_index] + 1), 1)
    cumulative = np.cumsum(hit, axis=1)  # cumulative[s, d]: events at s on days before d
    start = days.row_offset
    end = np.minimum(start + days.lead_days, days.n_days)
    counts = cumulative[days.row_station, end] - cumulative[days.row_station, start]
    return (counts > 0).astype(np.int64)


def daily_reliability(score: np.ndarray, days: StationDays, events: TargetEvents, rate: np.ndarray,
                      calibration: str | None = None) -> dict[str, Any] | None:
    """The proper scores of a model's daily probabilities ``score`` ``(n_rows,)`` (NaN: unscored)
    against the rows' outcomes, with ``brier_skill_rate`` against the per-station event rate
    ``rate`` (events a day, ``(n_stations,)``). ``calibration``: how the scores were made
    (``scores.meta.json``). None when no row was scored."""
    scored = np.isfinite(score)
    if not scored.any():
        return None
    outcome = row_outcomes(days, events)[scored]
    probability = np.clip(score[scored], 0.0, 1.0)
    reference = 1.0 - np.exp(-np.asarray(rate, dtype=np.float64)[days.row_station[scored]] * days.lead_days)
    record = proper_scores(outcome, probability)
    reference_score = brier_score(outcome, reference)
    record["brier_rate_reference"] = reference_score
    record["brier_skill_rate"] = (None if reference_score <= 0.0
                                  else 1.0 - record["brier"] / reference_score)
    record["calibration"] = calibration
    record["note"] = NOTE
    return record
