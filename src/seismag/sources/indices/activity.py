"""Geomagnetic activity on one row per UTC day, and summarised over windows of days.

:func:`daily_activity` puts the indices (:mod:`~seismag.sources.indices.kp`,
:mod:`~seismag.sources.indices.dst`, :mod:`~seismag.sources.indices.ssc`) on one table of
UTC days (:class:`DailyActivity`): daily maximum Kp, daily minimum Dst, number of sudden
commencements, each with its coverage (a day an index does not cover is NaN, never 0).
:func:`window_activity` summarises windows of days; with a storm rule
(:class:`~seismag.sources.indices.storm.StormRule`) it also counts the disturbed days and
the days the data cannot settle.

Geomagnetic storms are the main confound of magnetic precursor studies, so windows must be
described (and, when asked, dropped) by the activity they contain. All times are UTC.

May import numpy, :mod:`seismag.errors` and the index modules kp, dst and ssc of this
package (never :mod:`~seismag.sources.indices.storm`, which imports this one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from seismag.errors import ConfigError
from seismag.sources.indices.dst import DstSeries
from seismag.sources.indices.kp import KpSeries
from seismag.sources.indices.ssc import SSC_KINDS, SscList

__all__ = ["DailyActivity", "daily_activity", "window_activity"]


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
    ssc_kinds: Sequence[str] = SSC_KINDS,
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
    unknown = [k for k in kinds if k not in SSC_KINDS]
    if unknown or not kinds:
        raise ConfigError(f"ssc_kinds must name some of {', '.join(SSC_KINDS)}; got {list(kinds)}")
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


def window_activity(activity: DailyActivity, window_start_days, window_days: int, rule=None) -> dict[str, np.ndarray]:
    """Summarise the activity of windows of ``window_days`` days.

    Window ``i`` covers the UTC days ``window_start_days[i]`` to
    ``window_start_days[i] + window_days - 1``.

    Parameters
    ----------
    rule : StormRule, optional
        A :class:`~seismag.sources.indices.storm.StormRule` (anything with its
        ``evaluate(activity) -> (disturbed, undecided)``): adds the two day counts below.

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
