"""References a precursor must beat, scored on the same station-days and events as the models.

``reference:random``
    Random alarms: the diagonal nu = 1 - tau, ASS 0.5, gain 1 (analytic, nothing drawn).
``reference:rate``
    Where events happen and nothing of when: each station's rate of target events over the
    models' training period (recorded in ``scores.meta.json``; else the catalog before the
    scored days; :func:`seismag.evaluation.skill.events.station_rates`), the same
    score on every day of a station. Judged on timing it lies on the diagonal; a model
    compared with it is compared with "no timing skill" by the paired surrogates.
``activity_{N}day``
    A trained ``activity`` ensemble in scores.csv (geomagnetic activity columns alone) is
    a storm reference too, compared with every model of its window.
``reference:kp``
    Geomagnetic activity alone: a row's score is the highest daily maximum Kp over its
    window's days ``[window_end - window_days, window_end)``, from the Kp file
    (:func:`seismag.sources.indices.kp.read_kp`).
``reference:dst``
    The same with ``-min Dst`` (nT): the deeper the storm, the higher the score.

The window is the models' own (``window_days`` from a model name ``..._{N}day``), so the
reference looks at exactly the days the model looked at. Scores whose window holds no
index value are empty (no alarm), as a model's are when its window has no data. Days with
some values missing use the values present (``daily_max`` / ``daily_min``).

May import numpy and :mod:`seismag.sources.indices` (kp, dst).
"""

from __future__ import annotations

import re

import numpy as np

from seismag.sources.indices.dst import DstSeries
from seismag.sources.indices.kp import KpSeries

__all__ = ["ACTIVITY_MODEL", "RANDOM", "RATE", "activity_scores", "dst_scores", "kp_scores", "reference_name", "window_days_of"]

RANDOM = "reference:random"
RATE = "reference:rate"
#: The model name stem of a trained activity ensemble (``activity_7day``).
ACTIVITY_MODEL = "activity"
#: The activity references: name stem -> what its alarms are raised by, in words.
ACTIVITY = {"kp": "daily max Kp", "dst": "-min Dst", ACTIVITY_MODEL: "the trained activity ensemble"}
_WINDOW_RE = re.compile(r"_(\d+)day$")


def window_days_of(model: str) -> int | None:
    """The window length a model name ends with (``gru_7day`` -> 7), None when it has none."""
    match = _WINDOW_RE.search(model)
    return int(match.group(1)) if match else None


def reference_name(index: str, window_days: int, several_windows: bool) -> str:
    """``reference:kp``, or ``reference:kp_7day`` when the models have several window lengths."""
    return f"reference:{index}_{window_days}day" if several_windows else f"reference:{index}"


def kp_scores(kp: KpSeries, window_end, window_days: int) -> np.ndarray:
    """The Kp reference's score of each row: max of daily max Kp over the window's days.

    Returns
    -------
    ndarray of float64, shape (n_rows,)
        NaN where the window holds no Kp value.
    """
    return activity_scores(kp.days, kp.daily_max(), window_end, window_days)


def dst_scores(dst: DstSeries, window_end, window_days: int) -> np.ndarray:
    """The Dst reference's score of each row: ``-(min of daily min Dst)`` over the window's days, nT."""
    return activity_scores(dst.days, -dst.daily_min(), window_end, window_days)


def activity_scores(days, daily, window_end, window_days: int) -> np.ndarray:
    """``max(daily[d])`` over the days ``d`` in ``[window_end - window_days, window_end)`` of each row.

    Parameters
    ----------
    days : array of datetime64[D], shape (n_days,)
        Sorted, unique; days not listed have no value.
    daily : array of float, shape (n_days,)
        NaN where missing.
    window_end : array of datetime64[D], shape (n_rows,)
    window_days : int
        At least 1.

    Returns
    -------
    ndarray of float64, shape (n_rows,)
        NaN where no day of the window has a value.
    """
    window_end = np.asarray(window_end, dtype="datetime64[D]")
    if window_end.size == 0:
        return np.zeros(0)
    days = np.asarray(days, dtype="datetime64[D]")
    daily = np.asarray(daily, dtype=np.float64)
    first = window_end.min() - np.timedelta64(window_days, "D")
    span = int((window_end.max() - first).astype(np.int64))
    axis = np.full(span, np.nan)
    offset = (days - first).astype(np.int64)
    inside = (offset >= 0) & (offset < span)
    axis[offset[inside]] = daily[inside]
    windows = np.lib.stride_tricks.sliding_window_view(axis, window_days)
    start = (window_end - first).astype(np.int64) - window_days
    highest = np.fmax.reduce(windows[start], axis=1, initial=-np.inf)
    return np.where(np.isneginf(highest), np.nan, highest)
