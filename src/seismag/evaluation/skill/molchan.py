"""The Molchan error diagram from plain arrays: trajectory, area skill score, gain, significance.

Everything here works on two arrays and knows nothing of stations, days or files:

``levels`` : shape (n_cells,)
    The alarm level of every scored cell (a station-day): the cell is under alarm at
    threshold ``theta`` when its level is ``>= theta``. NaN: never under alarm (a cell
    covered only by empty scores); it still counts in tau's denominator.
``event_levels`` : shape (n_events,)
    For each target event, the highest level among the cells that can catch it (the
    event's day at every station within its radius); NaN when none can.

Definitions (Molchan 1990, 1991; Zechar & Jordan 2008, Geophys. J. Int. 172, 715-724):
``tau(theta)`` = cells under alarm / n_cells, ``nu(theta)`` = events missed / n_events.
The trajectory runs over every distinct finite level, from "never" (tau 0, nu 1) to
"always" (tau 1, nu 0). Between two consecutive points it is the straight line: lowering
the threshold across one level switches all its tied cells on at once, and the line is
the expectation over the orders in which those cells could have been switched on one by
one (random tie-breaking). The area under it is therefore exact as a trapezoid sum over
the points; with the per-event form of :func:`event_alarm_fractions`,
``ASS = 1 - mean(event_alarm_fractions)``.

**Cells and pairs.** :mod:`seismag.evaluation.skill.run` hands this module the cells of the
network (station-days) and, as its "events", the (event, station) **pairs**: each target
event once for every station within its radius that was scored on its origin day. With
pairs, alarms with no timing skill lie on the diagonal however their stations correlate:
a pair is caught exactly when its own cell is under alarm, so random alarms covering tau
of the cells catch a fraction tau of the pairs in expectation, whether the alarms are
drawn per station-day, shared by the whole network or anything between. The pairs of one
event, and of events close in time, are not independent; that dependence is left to the
circular-shift surrogates (:mod:`seismag.evaluation.skill.surrogates`), never to a formula here. The binomial alpha below treats
the pairs as independent and is pointwise: a description of one point of the curve, not a
test of the curve.

pyCSEP (``csep.plots.plot_Molchan_diagram``) computes the same trajectory and trapezoid
for a gridded forecast (cells = spatial bins, one time window) but counts active bins
rather than events and reports ``max(0.5, ASS)`` rounded to 0.01; ``tests/evaluation/skill`` checks
this module against a transcription of it.

May import numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "GAIN_TAUS",
    "Trajectory",
    "area_skill_score",
    "binomial_tail",
    "event_alarm_fractions",
    "molchan_trajectory",
    "probability_gain",
    "significance_contour",
]

#: The alarm fractions at which the probability gain is reported.
GAIN_TAUS = (0.05, 0.1, 0.2)


@dataclass(frozen=True)
class Trajectory:
    """A Molchan trajectory, from (tau 0, nu 1) to (tau 1, nu 0).

    Attributes
    ----------
    threshold : ndarray of float64, shape (n_points,)
        The level at which each point is reached; NaN for the first ("never") and the
        last ("always") point.
    tau, nu : ndarray of float64, shape (n_points,)
        Fraction of cells under alarm, fraction of events missed; tau non-decreasing,
        nu non-increasing.
    hits : ndarray of int64, shape (n_points,)
        Events caught, ``n_events * (1 - nu)``.
    n_events, n_cells : int
    """

    threshold: np.ndarray
    tau: np.ndarray
    nu: np.ndarray
    hits: np.ndarray
    n_events: int
    n_cells: int


def molchan_trajectory(levels: np.ndarray, event_levels: np.ndarray, *, thin: bool = True) -> Trajectory:
    """The Molchan trajectory of cells with alarm ``levels`` and events with ``event_levels``.

    Parameters
    ----------
    levels : array, shape (n_cells,)
        Alarm level of each scored cell; NaN = never under alarm.
    event_levels : array, shape (n_events,)
        Highest level among the cells that can catch each event; NaN = caught only by
        "always".
    thin : bool
        Drop the points inside a horizontal run (the same nu before and after them): they
        lie on the straight line between their neighbours, so the curve, its area, the
        gain and the most significant point of each run are unchanged. A year at ten
        stations then has at most ``2 N + 2`` points instead of one per station-day.

    Raises
    ------
    ValueError
        No cells, or no events (nu is undefined).
    """
    levels = np.asarray(levels, dtype=np.float64).ravel()
    event_levels = np.asarray(event_levels, dtype=np.float64).ravel()
    if levels.size == 0 or event_levels.size == 0:
        raise ValueError("a Molchan trajectory needs at least one cell and one event")
    finite = np.sort(levels[np.isfinite(levels)])[::-1]  # descending
    thresholds = np.unique(finite)[::-1]
    # cells with level >= theta: the count of the descending array down to theta's last copy
    cells_on = np.searchsorted(-finite, -thresholds, side="right")
    hit_levels = np.sort(event_levels[np.isfinite(event_levels)])[::-1]
    hits = np.searchsorted(-hit_levels, -thresholds, side="right")
    n_cells, n_events = levels.size, event_levels.size
    threshold = np.concatenate([[np.nan], thresholds, [np.nan]])
    tau = np.concatenate([[0.0], cells_on / n_cells, [1.0]])
    hits = np.concatenate([[0], hits, [n_events]]).astype(np.int64)
    if thin and tau.size > 2:
        same_before = np.r_[False, hits[1:] == hits[:-1]]
        same_after = np.r_[hits[:-1] == hits[1:], False]
        keep = ~(same_before & same_after)
        threshold, tau, hits = threshold[keep], tau[keep], hits[keep]
    return Trajectory(threshold=threshold, tau=tau, nu=1.0 - hits / n_events, hits=hits,
                      n_events=n_events, n_cells=n_cells)


def area_skill_score(tau: np.ndarray, nu: np.ndarray) -> float:
    """ASS = 1 - the area under the trajectory ``nu(tau)`` (trapezoids between its points).

    The trajectory must run from tau 0 to tau 1. 0.5 for the diagonal (random alarms),
    1 for a perfect forecast, 0 for one that always alarms on the wrong cells first.
    """
    tau = np.asarray(tau, dtype=np.float64)
    nu = np.asarray(nu, dtype=np.float64)
    return float(1.0 - np.sum(np.diff(tau) * (nu[1:] + nu[:-1]) / 2.0))


def event_alarm_fractions(levels: np.ndarray, event_levels: np.ndarray) -> np.ndarray:
    """Each event's share of the area: the mid-point of the tau interval in which it is caught.

    An event at level ``E`` is caught when the threshold reaches ``E``; at that step tau
    goes from ``#{level > E} / n`` to ``#{level >= E} / n``, and along the straight
    trajectory the event counts half way (random tie-breaking). An event no cell can catch
    (NaN) is caught by "always": between ``#{finite levels} / n`` and 1.

    ``area_skill_score(trajectory) == 1 - mean(event_alarm_fractions)`` exactly, which
    makes the ASS a mean over events (here: pairs), the fast path for the surrogates.

    Returns
    -------
    ndarray of float64, shape (n_events,)
    """
    levels = np.asarray(levels, dtype=np.float64).ravel()
    event_levels = np.asarray(event_levels, dtype=np.float64).ravel()
    ascending = np.sort(levels[np.isfinite(levels)])
    n, n_finite = levels.size, ascending.size
    above = n_finite - np.searchsorted(ascending, event_levels, side="right")   # level > E
    at_or_above = n_finite - np.searchsorted(ascending, event_levels, side="left")  # level >= E
    fraction = (above + at_or_above) / (2.0 * n)
    never = ~np.isfinite(event_levels)
    fraction[never] = (n_finite / n + 1.0) / 2.0
    return fraction


def probability_gain(tau: np.ndarray, nu: np.ndarray, at: float) -> float | None:
    """The probability gain ``G = (1 - nu) / tau`` at alarm fraction ``at``.

    ``nu`` is read off the trajectory by linear interpolation at exactly ``tau = at``
    (the straight segments of the trajectory, the same curve the area is taken under), so
    random alarms give G = 1 and the gain does not depend on which trajectory points
    happen to lie near ``at``. None when ``at`` is not in (0, 1].
    """
    if not 0.0 < at <= 1.0:
        return None
    tau = np.asarray(tau, dtype=np.float64)
    nu = np.asarray(nu, dtype=np.float64)
    # a vertical drop at tau = at: take the point after the drop (the alarm at that fraction)
    position = int(np.searchsorted(tau, at, side="right"))
    if position > 0 and tau[position - 1] == at:
        value = nu[position - 1]
    else:
        left = position - 1
        value = nu[left] + (nu[position] - nu[left]) * (at - tau[left]) / (tau[position] - tau[left])
    return float((1.0 - value) / at)


def binomial_tail(n: int, hits, tau) -> np.ndarray:
    """``alpha = P(X >= hits)`` with ``X ~ Binomial(n, tau)``, elementwise.

    The chance that random alarms covering a fraction ``tau`` of the cells catch at least
    ``hits`` of ``n`` events (Zechar & Jordan 2008, eq. 4). Exact sums in log space.

    Returns
    -------
    ndarray of float64, the broadcast shape of ``hits`` and ``tau``.
    """
    hits_array, tau_array = np.broadcast_arrays(np.asarray(hits, dtype=np.int64), np.asarray(tau, dtype=np.float64))
    out = np.empty(hits_array.shape, dtype=np.float64)
    for index in np.ndindex(hits_array.shape):
        h = int(hits_array[index])
        out[index] = 1.0 if h <= 0 else (0.0 if h > n else float(_binomial_tails(n, float(tau_array[index]))[h]))
    return out


def significance_contour(n_events: int, level: float = 0.05, taus: np.ndarray | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """The pointwise 95 % contour: for each tau the largest nu with ``alpha <= level``.

    ``alpha`` is :func:`binomial_tail` of ``n_events`` independent events (pairs). A point
    below the contour is one that independent random alarms covering the same tau would
    rarely reach. It is **pointwise**: a trajectory has many points, and the smallest of
    their alphas is not a p-value of the forecast (that is the surrogates' job). The
    contour is a step function of tau (nu takes the values ``1 - h / N``); it is given on
    ``taus`` (default: 0 to 1 in steps of 0.005 plus a logarithmic grid from 1e-4, for log
    axes). Taus where no nu >= 0 is significant (near tau 1) are left out.

    Returns
    -------
    (tau, nu) : two ndarrays of float64
    """
    if n_events < 1:
        raise ValueError(f"a contour needs at least one event, got {n_events}")
    if taus is None:
        taus = np.unique(np.concatenate([np.linspace(0.0, 1.0, 201), np.logspace(-4, 0, 41)]))
    out_tau, out_nu = [], []
    for p in np.asarray(taus, dtype=np.float64):
        significant = np.flatnonzero(_binomial_tails(n_events, float(p)) <= level)
        if significant.size == 0:
            continue
        out_tau.append(float(p))
        out_nu.append(1.0 - int(significant[0]) / n_events)
    return np.array(out_tau), np.array(out_nu)


def _binomial_tails(n: int, p: float) -> np.ndarray:
    """``P(X >= h)`` for h = 0..n, ``X ~ Binomial(n, p)`` (all of :func:`binomial_tail`'s values at once)."""
    k = np.arange(n + 1)
    if p <= 0.0:
        return (k == 0).astype(np.float64)
    if p >= 1.0:
        return np.ones(n + 1)
    log_f = _log_factorials(n)
    pmf = np.exp(log_f[n] - log_f[k] - log_f[n - k] + k * math.log(p) + (n - k) * math.log1p(-p))
    return np.minimum(1.0, np.cumsum(pmf[::-1])[::-1])


def _log_factorials(n: int) -> np.ndarray:
    """``log(k!)`` for k = 0..n."""
    return np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))])
