"""Label: the class of each candidate window, from the earthquake catalog.

Lives here: which catalog events qualify for a station (magnitude, depth at most
``max_depth_km`` when given, great-circle distance between epicentre and station within a
fixed radius or the Dobrovolsky radius ``10 ** (0.43 * M)`` km), the label of
each window (class 1 when a qualifying event has its origin time in the window's label
horizon ``[window_end, window_end + lead_days)``), the first such event of each window,
the geomagnetic activity of each window (``--kp/--dst/--ssc``), and the drop reasons, in
their order: :data:`DROP_HORIZON` (the horizon is not inside the catalog's span, so no
label can be given), :data:`DROP_AFTERSHOCK` (``--decluster``: the window's data reach
into an aftershock period near the station), :data:`DROP_STORM` (``--exclude-storms``: a
day of the window is disturbed by the rule), then :data:`DROP_MISSING` (more than
``max_missing`` of the window's minutes have no value).

With ``--decluster`` (causal Gardner-Knopoff, :mod:`seismag.sources.decluster`) only
mainshocks label windows, and a window is dropped when its data (``window_start`` to
``window_end``) reach past a mainshock into that mainshock's aftershock period (its
``T(M)`` days) while the station lies within the period's ``L(M)`` km, and the period's
first aftershock happened before the window's label horizon ends: such data are
post-seismic, and their label horizons hold aftershocks, which a precursor study does
not try to predict. The windows before the mainshock, whose horizon holds it, stay.

Both rules are causal: whether a window is kept, and its label, depend only on the
catalog up to the window's label horizon end (an event is removed only by an earlier,
larger-or-equal mainshock; a period counts only once its first aftershock has happened).
So a window labelled from a catalog that ends at a date is labelled the same from one
that goes on past it, and a training cutoff (``--train-until``) keeps no trace of events
after it.

May import numpy, :mod:`seismag.sources.catalog`, :mod:`seismag.sources.decluster`,
:mod:`seismag.sources.indices`, :mod:`seismag.dataset.stations` (a station's place) and
:mod:`.plan` (the candidate windows it labels); nothing that writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from seismag.sources.catalog import Catalog, dobrovolsky_radius_km, haversine_km
from seismag.sources.decluster import AftershockPeriods
from seismag.sources.indices.activity import DailyActivity, window_activity
from seismag.sources.indices.storm import StormRule

from seismag.dataset.stations import StationMinutes

from seismag.dataset.build.plan import CandidateWindows

__all__ = [
    "DROP_AFTERSHOCK",
    "DROP_HORIZON",
    "DROP_MISSING",
    "DROP_STORM",
    "KEPT",
    "LabelContext",
    "Qualifying",
    "WindowPlan",
    "label_station",
    "label_windows",
    "qualifying_events",
]

DROP_HORIZON = "label_horizon_outside_catalog"
DROP_AFTERSHOCK = "aftershock_period"
DROP_STORM = "disturbed_day"
DROP_MISSING = "too_many_missing"
KEPT = "kept"


@dataclass(frozen=True)
class LabelContext:
    """What labelling uses beside the catalog: the declustering and the geomagnetic activity.

    ``mainshock``: bool per catalog event (None: every event may label a window);
    ``periods``: the aftershock periods whose windows are dropped (each from its
    ``known_from`` on); ``activity``: the daily
    activity table (None: no activity columns); ``rule``: the storm rule of
    ``--exclude-storms`` (None: no window is dropped for storms).
    """

    mainshock: np.ndarray | None = None
    periods: AftershockPeriods | None = None
    activity: DailyActivity | None = None
    rule: StormRule | None = None


@dataclass(frozen=True)
class WindowPlan(CandidateWindows):
    """Every candidate window of one length at one station: its label or why it is dropped.

    The candidate windows' attributes (:class:`~seismag.dataset.build.plan.CandidateWindows`:
    ``station``, ``window_days``, ``window_start``, ``window_end``, ``horizon_end``,
    ``missing_fraction``), and per window, all of shape ``(n_candidates,)`` in time order:

    Attributes
    ----------
    status : ndarray of str
        ``'kept'`` or the window's drop reason (:data:`DROP_HORIZON`, :data:`DROP_AFTERSHOCK`,
        :data:`DROP_STORM`, :data:`DROP_MISSING`).
    label : ndarray of int8
        1 or 0; -1 where the horizon is outside the catalog (no label can be given).
        Computed for windows dropped for missing data too.
    qualifying_events : ndarray of int64
        Number of qualifying events in the horizon.
    event_index : ndarray of int64
        Index into ``catalog`` of the first qualifying event in the horizon, -1 if none.
    event_distance_km : ndarray of float64
        Distance station-epicentre of that event, NaN if none.
    activity : dict of str to ndarray
        Per window ``max_kp``, ``min_dst``, ``n_ssc`` (NaN where an index does not cover
        every day) and, with a storm rule, ``disturbed_days`` and ``undecided_days``;
        empty without indices.
    """

    status: np.ndarray
    label: np.ndarray
    qualifying_events: np.ndarray
    event_index: np.ndarray
    event_distance_km: np.ndarray
    activity: dict = field(default_factory=dict)

    @property
    def kept(self) -> np.ndarray:
        return self.status == KEPT

    def count(self, label: int) -> int:
        """Kept windows of class ``label``."""
        return int(np.count_nonzero(self.kept & (self.label == label)))

    def dropped(self) -> dict[str, int]:
        reasons, counts = np.unique(self.status[~self.kept], return_counts=True)
        return {str(r): int(c) for r, c in zip(reasons, counts)}


@dataclass(frozen=True)
class Qualifying:
    """Events that would make a window of one station class 1, sorted by origin time.

    ``time`` (datetime64), ``index`` into the catalog (int64) and ``distance_km`` from
    the station (float64), all of shape ``(n_events,)``.
    """

    time: np.ndarray
    index: np.ndarray
    distance_km: np.ndarray


def qualifying_events(latitude: float, longitude: float, catalog: Catalog, settings: dict,
                      eligible: np.ndarray | None = None) -> Qualifying:
    """The events of magnitude >= ``min_magnitude`` (and depth <= ``max_depth_km`` when the
    settings give one; an event of unknown depth is then left out) within the radius of the
    station, epicentral distance (among the ``eligible`` ones, e.g. the mainshocks of a
    declustered catalog, declustered before the depth cut)."""
    strong = catalog.magnitude >= settings["min_magnitude"]
    if settings.get("max_depth_km") is not None:
        strong &= catalog.depth_km <= settings["max_depth_km"]  # NaN (unknown depth): False
    if eligible is not None:
        strong &= eligible
    strong = np.flatnonzero(strong)
    distance = haversine_km(latitude, longitude, catalog.latitude[strong], catalog.longitude[strong])
    if settings["radius_mode"] == "fixed":
        limit = settings["radius_km"]
    else:
        limit = dobrovolsky_radius_km(catalog.magnitude[strong])
    inside = np.asarray(distance <= limit)
    index = strong[inside]
    order = np.argsort(catalog.time[index], kind="stable")
    return Qualifying(
        time=catalog.time[index][order],
        index=index[order],
        distance_km=np.asarray(distance)[inside][order],
    )


def label_station(station: StationMinutes, candidates: dict[int, CandidateWindows], catalog: Catalog,
                  settings: dict, context: LabelContext | None = None) -> dict[int, WindowPlan]:
    """Label the candidate windows of every length of one station, by length."""
    context = context or LabelContext()
    qualifying = qualifying_events(station.latitude, station.longitude, catalog, settings, context.mainshock)
    after_periods = None
    if context.periods is not None and len(context.periods):
        periods = context.periods
        near = np.asarray(haversine_km(station.latitude, station.longitude, periods.latitude,
                                       periods.longitude)) <= periods.radius_km
        after_periods = (periods.start[near], periods.end[near], periods.known_from[near])
    return {n: label_windows(windows, qualifying, catalog, settings["max_missing"], context=context,
                             aftershock_periods=after_periods)
            for n, windows in candidates.items()}


def in_aftershock_period(window_start: np.ndarray, window_end: np.ndarray, horizon_end: np.ndarray,
                         periods: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> np.ndarray:
    """True where a window's data reach past a mainshock into its aftershock period, known
    by the window's label horizon end: ``window_end > start``, ``window_start < end`` and
    ``horizon_end > known_from`` for some period ``(start, end, known_from)``."""
    out = np.zeros(window_end.shape, dtype=bool)
    if periods is None:
        return out
    for start, end, known_from in zip(*periods):
        out |= (window_end > start) & (window_start < end) & (horizon_end > known_from)
    return out


def label_windows(candidates: CandidateWindows, qualifying: Qualifying, catalog: Catalog,
                  max_missing: float, *, context: LabelContext | None = None,
                  aftershock_periods: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> WindowPlan:
    """Label and keep or drop each candidate window (drop reasons in the module's order)."""
    context = context or LabelContext()
    first = np.searchsorted(qualifying.time, candidates.window_end, side="left")
    after = np.searchsorted(qualifying.time, candidates.horizon_end, side="left")
    count = (after - first).astype(np.int64)
    has_event = count > 0
    safe = np.minimum(first, max(len(qualifying.time) - 1, 0))
    event_index = np.where(has_event, qualifying.index[safe] if len(qualifying.time) else -1, -1).astype(np.int64)
    distance = np.where(has_event, qualifying.distance_km[safe] if len(qualifying.time) else np.nan, np.nan)

    covered = (candidates.window_end >= catalog.start) & (candidates.horizon_end <= catalog.end)
    label = np.where(covered, has_event.astype(np.int8), np.int8(-1)).astype(np.int8)
    status = np.full(candidates.window_end.shape, KEPT, dtype=object)
    status[candidates.missing_fraction > max_missing] = DROP_MISSING
    activity: dict = {}
    if context.activity is not None:
        start_days = candidates.window_start.astype("datetime64[D]")
        activity = window_activity(context.activity, start_days, candidates.window_days, context.rule)
        if context.rule is not None:
            status[activity["disturbed_days"] > 0] = DROP_STORM
    status[in_aftershock_period(candidates.window_start, candidates.window_end, candidates.horizon_end,
                                aftershock_periods)] = DROP_AFTERSHOCK
    status[~covered] = DROP_HORIZON  # last, so it wins: the first reason in the drop order
    return WindowPlan(
        **{column.name: getattr(candidates, column.name) for column in fields(CandidateWindows)},
        status=status.astype(str) if status.size else np.array([], dtype=str),
        label=label,
        qualifying_events=np.where(covered, count, 0),
        event_index=np.where(covered, event_index, -1),
        event_distance_km=np.where(covered, distance, np.nan),
        activity=activity,
    )
