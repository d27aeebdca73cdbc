"""The surrogate null of the area skill score: circular time shifts of the scores.

A surrogate keeps everything about a forecast but its timing against the catalog: each
station's score series (its rows in window-end order, empty scores included) is rotated
by ``k`` rows, ``score'[i] = score[(i - k) mod n_rows]``, while the rows, the scored
station-days and the events stay where they are. The scores' own distribution, clustering
and autocorrelation survive; any alignment with the earthquakes is broken. That needs no
retraining, and unlike a Normal or binomial approximation it assumes neither that alarms
are independent from day to day (a 7-day window slides one day at a time, so its scores
are strongly autocorrelated) nor that events are (they cluster in time, and an event
reached by three stations is three dependent pairs): the events stay as clustered as
they are, and every surrogate scores them with the forecast's own autocorrelation. With
``--surrogates 0`` there is no significance statement at all.

**One shift for all stations**, drawn per surrogate: stations see the same geomagnetic
storms, and a model's scores are correlated across the network. Shifting every station
by the same ``k`` keeps that correlation, so the surrogates raise alarms as coherently in
space as the model does; independent shifts would scatter the alarms over the network,
which changes how often several stations are under alarm on one day and so the event-level
hits of a random forecast. For stations with daily rows (what ``seismag scan`` writes) a
shift by ``k`` rows is a shift by ``k`` days; a station with fewer rows is shifted by
``k mod n_rows``.

Shifts are drawn uniformly from ``[min_shift, T - min_shift]``, ``T`` the fewest rows of a
station and ``min_shift`` the lead time: a shift shorter than the horizon leaves each alarm
partly over its own days. Scores autocorrelated over longer than that still leave some
skill at the smallest shifts, which makes the surrogate ASS larger and the p-value, if
anything, too large (conservative). ``p = (1 + #{ASS_surrogate >= ASS}) / (1 + n)``.
The shifts are distinct: drawn without replacement, and when ``--surrogates`` asks for as
many as there are possible shifts or more, every possible shift is used once (``n`` is
then their number). Repeated draws of a few possible shifts would let ``p`` fall below
``1 / (1 + number of possible shifts)``, a precision the record cannot give.

May import numpy and :mod:`seismag.errors`.
"""

from __future__ import annotations

import numpy as np

from seismag.errors import ConfigError

from seismag.evaluation.skill.alarms import StationDays
from seismag.evaluation.skill.events import TargetEvents, pair_levels
from seismag.evaluation.skill.family import upper_p_values
from seismag.evaluation.skill.molchan import event_alarm_fractions

__all__ = ["draw_shifts", "pair_fractions", "shifted_scores", "surrogate_ass", "surrogate_p_value", "timing_ass",
           "timing_cells"]


def draw_shifts(n_surrogates: int, days: StationDays, seed: int) -> np.ndarray:
    """Up to ``n_surrogates`` distinct shifts (rows), one per surrogate, shared by all stations
    and models: all possible shifts when there are no more of them than ``n_surrogates``.

    Raises
    ------
    ConfigError
        A station has too few rows for any shift of at least the lead time both ways.
    """
    if n_surrogates < 0:
        raise ConfigError(f"surrogates must be 0 or more, got {n_surrogates}")
    if n_surrogates == 0:
        return np.zeros(0, dtype=np.int64)
    _, counts = days.station_starts()
    fewest = int(counts.min())
    low, high = days.lead_days, fewest - days.lead_days
    if high < low:
        raise ConfigError(f"too few scored days for surrogates: a station has {fewest} rows, a circular shift "
                          f"needs at least {2 * days.lead_days} (twice the lead of {days.lead_days} days); "
                          "use --surrogates 0")
    possible = np.arange(low, high + 1, dtype=np.int64)
    if possible.size <= n_surrogates:
        return possible
    return np.sort(np.random.default_rng(seed).choice(possible, size=n_surrogates, replace=False))


def shifted_scores(score: np.ndarray, days: StationDays, shift: int) -> np.ndarray:
    """``score`` (in ``days``'s row order) with each station's series rotated by ``shift`` rows."""
    starts, counts = days.station_starts()
    rank = np.arange(days.n_rows) - starts
    return np.asarray(score)[starts + (rank - shift) % counts]


def timing_cells(score: np.ndarray, days: StationDays, events: TargetEvents) -> tuple[np.ndarray, np.ndarray]:
    """The timing levels of ``score`` (:meth:`StationDays.timing_levels`) as the Molchan
    diagram takes them: every scored station-day's, and every (event, station) pair's.

    Returns
    -------
    (cells, pairs) : ndarrays of float64, shapes (n_station_days,) and (n_pairs,)
    """
    levels = days.timing_levels(score)
    return levels[days.scored], pair_levels(levels, events)


def pair_fractions(score: np.ndarray, days: StationDays, events: TargetEvents) -> np.ndarray:
    """Each (event, station) pair's alarm fraction under the timing levels of ``score``.

    ``1 - mean`` of it is the forecast's ASS (:func:`seismag.evaluation.skill.molchan.event_alarm_fractions`);
    it is the fast path for the surrogates.

    Returns
    -------
    ndarray of float64, shape (n_pairs,)
    """
    return event_alarm_fractions(*timing_cells(score, days, events))


def timing_ass(score: np.ndarray, days: StationDays, events: TargetEvents) -> float:
    """The ASS of ``score`` (timing levels, pairs) without building the trajectory."""
    return float(1.0 - np.mean(pair_fractions(score, days, events)))


def surrogate_ass(score: np.ndarray, days: StationDays, events: TargetEvents, shifts: np.ndarray) -> np.ndarray:
    """The ASS of the forecast ``score`` shifted by each of ``shifts``.

    Returns
    -------
    ndarray of float64, shape (len(shifts),)
    """
    return np.array([timing_ass(shifted_scores(score, days, int(k)), days, events) for k in shifts])


def surrogate_p_value(ass: float, surrogates: np.ndarray) -> float | None:
    """``(1 + #{surrogate >= ass}) / (1 + n)``; None without surrogates.

    Surrogates equal to ``ass`` up to rounding (1e-12) count as at least as good
    (:func:`seismag.evaluation.skill.family.upper_p_values`, the same count for a family).
    """
    surrogates = np.asarray(surrogates, dtype=np.float64)
    if surrogates.size == 0:
        return None
    return float(upper_p_values([ass], surrogates[None, :])[0][0])
