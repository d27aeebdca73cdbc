"""Label: the class of each candidate window, from the earthquake catalog.

Lives here: which catalog events qualify for a station (magnitude, great-circle distance
within a fixed radius or the Dobrovolsky radius ``10 ** (0.43 * M)`` km), the label of
each window (class 1 when a qualifying event has its origin time in the window's label
horizon ``[window_end, window_end + lead_days)``), the first such event of each window,
and the drop reasons, in their order: :data:`DROP_HORIZON` (the horizon is not inside the
catalog's span, so no label can be given), then :data:`DROP_MISSING` (more than
``max_missing`` of the window's minutes have no value).

May import numpy, :mod:`seismag.data.catalog` and :mod:`.plan` (the candidate windows it
labels); nothing that writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seismag.data.catalog import Catalog, dobrovolsky_radius_km, haversine_km

from .plan import CandidateWindows, StationDays

__all__ = [
    "DROP_HORIZON",
    "DROP_MISSING",
    "KEPT",
    "Qualifying",
    "WindowPlan",
    "label_station",
    "label_windows",
    "qualifying_events",
]

DROP_HORIZON = "label_horizon_outside_catalog"
DROP_MISSING = "too_many_missing"
KEPT = "kept"


@dataclass(frozen=True)
class WindowPlan:
    """Every candidate window of one length at one station: its label or why it is dropped.

    All arrays have shape ``(n_candidates,)`` and are in time order.

    Attributes
    ----------
    station : str
    window_days : int
    window_start, window_end, horizon_end : ndarray of datetime64[s]
        The window is ``[window_start, window_end)``; its label horizon is
        ``[window_end, horizon_end)``.
    missing_fraction : ndarray of float64
        Share of the window's minutes with no value.
    status : ndarray of str
        ``'kept'``, ``'label_horizon_outside_catalog'`` or ``'too_many_missing'``.
    label : ndarray of int8
        1 or 0; -1 where the horizon is outside the catalog (no label can be given).
        Computed for windows dropped for missing data too.
    qualifying_events : ndarray of int64
        Number of qualifying events in the horizon.
    event_index : ndarray of int64
        Index into ``catalog`` of the first qualifying event in the horizon, -1 if none.
    event_distance_km : ndarray of float64
        Distance station-epicentre of that event, NaN if none.
    """

    station: str
    window_days: int
    window_start: np.ndarray
    window_end: np.ndarray
    horizon_end: np.ndarray
    missing_fraction: np.ndarray
    status: np.ndarray
    label: np.ndarray
    qualifying_events: np.ndarray
    event_index: np.ndarray
    event_distance_km: np.ndarray

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


def qualifying_events(latitude: float, longitude: float, catalog: Catalog, settings: dict) -> Qualifying:
    """The events of magnitude >= ``min_magnitude`` within the radius of the station."""
    strong = np.flatnonzero(catalog.magnitude >= settings["min_magnitude"])
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


def label_station(station: StationDays, candidates: dict[int, CandidateWindows], catalog: Catalog,
                  settings: dict) -> dict[int, WindowPlan]:
    """Label the candidate windows of every length of one station, by length."""
    qualifying = qualifying_events(station.latitude, station.longitude, catalog, settings)
    return {n: label_windows(windows, qualifying, catalog, settings["max_missing"])
            for n, windows in candidates.items()}


def label_windows(candidates: CandidateWindows, qualifying: Qualifying, catalog: Catalog,
                  max_missing: float) -> WindowPlan:
    """Label and keep or drop each candidate window (drop reasons in the module's order)."""
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
    status[~covered] = DROP_HORIZON  # last, so it wins: the first reason in the drop order
    return WindowPlan(
        station=candidates.station,
        window_days=candidates.window_days,
        window_start=candidates.window_start,
        window_end=candidates.window_end,
        horizon_end=candidates.horizon_end,
        missing_fraction=candidates.missing_fraction,
        status=status.astype(str) if status.size else np.array([], dtype=str),
        label=label,
        qualifying_events=np.where(covered, count, 0),
        event_index=np.where(covered, event_index, -1),
        event_distance_km=np.where(covered, distance, np.nan),
    )
