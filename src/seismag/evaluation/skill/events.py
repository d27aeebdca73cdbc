"""Target events: which earthquakes a forecast is judged on, and which stations can catch each.

A catalog event is a **target** when

- its magnitude is at least ``min_magnitude`` (and its depth at most ``max_depth_km`` when
  given; an event of unknown depth is then left out);
- with ``decluster``, it is a mainshock of the causal Gardner-Knopoff rule that ``build``
  labels by (:mod:`seismag.sources.decluster`, ``causal=True``): removed only as an aftershock
  of an earlier event at least as large, so whether an event is a target never depends on
  what came after it. The catalog is declustered *before* the depth cut (a shallow
  aftershock of a deep mainshock stays an aftershock), and cutting it at ``min_magnitude``
  first changes nothing: only an event at least as large removes another;
- it lies within the radius of at least one station (Dobrovolsky ``10^(0.43 M)`` km, or a
  fixed radius) whose origin day (UTC) is a scored station-day.

Events are scored as **(event, station) pairs**: an event within the radius of three
scored stations is three pairs, each caught when its own station-day is under alarm
(:func:`pair_levels`). Judged this way, alarms without timing skill catch a share tau of
the pairs whether they are drawn per station or shared by the whole network; judged per
event ("caught when any of its stations is under alarm") the same alarms would score
anywhere from 0.5 to 0.8 depending on how alike the stations' alarms are
(:mod:`seismag.evaluation.skill.molchan`). The pairs of one event are not independent: the
circular-shift surrogates keep them, and the events' clustering in time, as they are.

May import numpy, :mod:`seismag.errors` and :mod:`seismag.sources` (catalog, decluster).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seismag.sources.catalog import Catalog, dobrovolsky_radius_km, haversine_km
from seismag.sources.decluster import gardner_knopoff
from seismag.errors import ConfigError

from seismag.evaluation.skill.alarms import StationDays

__all__ = ["TargetEvents", "event_radius_km", "pair_levels", "select_target_events", "station_rates"]

RADIUS_CHOICES = ("dobrovolsky", "fixed")


@dataclass(frozen=True)
class TargetEvents:
    """The target events of an evaluation, in time order.

    Attributes
    ----------
    event_id : ndarray of str, shape (n,)
    time : ndarray of datetime64[s], shape (n,)
    magnitude, latitude, longitude, depth_km : ndarray of float64, shape (n,)
    day_offset : ndarray of int64, shape (n,)
        The origin day on the :class:`~seismag.evaluation.skill.alarms.StationDays` axis.
    reach : ndarray of bool, shape (n, n_stations)
        True for the stations that can catch the event: within its radius and scored on
        its origin day.
    """

    event_id: np.ndarray
    time: np.ndarray
    magnitude: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    depth_km: np.ndarray
    day_offset: np.ndarray
    reach: np.ndarray

    def __len__(self) -> int:
        return int(self.event_id.shape[0])

    @property
    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """``(event_index, station_index)`` of every (event, station) pair, by event."""
        return np.nonzero(self.reach)

    @property
    def n_pairs(self) -> int:
        return int(self.reach.sum())


def event_radius_km(magnitude, radius: str = "dobrovolsky", radius_km: float | None = None) -> np.ndarray:
    """The radius around a station within which an event of ``magnitude`` is a target, km.

    ``radius`` ``'dobrovolsky'``: ``10 ** (0.43 M)``; ``'fixed'``: ``radius_km`` for all.
    """
    magnitude = np.asarray(magnitude, dtype=np.float64)
    if radius == "dobrovolsky":
        return np.asarray(dobrovolsky_radius_km(magnitude), dtype=np.float64)
    if radius == "fixed":
        if radius_km is None or not radius_km > 0:
            raise ConfigError(f"a fixed radius needs radius_km > 0, got {radius_km}")
        return np.full(magnitude.shape, float(radius_km))
    raise ConfigError(f"radius must be one of {', '.join(RADIUS_CHOICES)}, got {radius!r}")


def select_target_events(
    catalog: Catalog,
    station_latitude,
    station_longitude,
    days: StationDays,
    *,
    min_magnitude: float,
    radius: str = "dobrovolsky",
    radius_km: float | None = None,
    max_depth_km: float | None = None,
    decluster: bool = False,
) -> tuple[TargetEvents, list[str]]:
    """The catalog's target events for the stations and scored days of ``days``.

    Parameters
    ----------
    catalog : Catalog
    station_latitude, station_longitude : array, shape (n_stations,)
        Degrees, in the station order of ``days``.
    days : StationDays
    min_magnitude, radius, radius_km, max_depth_km, decluster
        See the module docstring.

    Returns
    -------
    (TargetEvents, notes)
        ``notes``: what was left out and why, in words (for the report).
    """
    selected, notes = _eligible(catalog, min_magnitude, max_depth_km, decluster)
    offset = days.day_offset(selected.time.astype("datetime64[D]")) if len(selected) else np.zeros(0, np.int64)
    within = _within_radius(selected, station_latitude, station_longitude, radius, radius_km)
    on_axis = offset >= 0
    reach = within & on_axis[:, None]
    reach[on_axis] &= days.scored[:, offset[on_axis]].T
    keep = reach.any(axis=1)
    events = TargetEvents(
        event_id=selected.event_id[keep], time=selected.time[keep], magnitude=selected.magnitude[keep],
        latitude=selected.latitude[keep], longitude=selected.longitude[keep], depth_km=selected.depth_km[keep],
        day_offset=offset[keep], reach=reach[keep])
    return events, notes


def station_rates(catalog: Catalog, station_latitude, station_longitude, start, end, *, min_magnitude: float,
                  radius: str = "dobrovolsky", radius_km: float | None = None, max_depth_km: float | None = None,
                  decluster: bool = False) -> np.ndarray:
    """Target events a day within reach of each station over ``[start, end)`` (days): the
    ``reference:rate`` forecast, which knows where events happen and nothing of when.

    Returns
    -------
    ndarray of float64, shape (n_stations,)
        Zeros when the period is empty.
    """
    start, end = np.datetime64(start, "D"), np.datetime64(end, "D")
    n_days = int((end - start).astype(np.int64))
    if n_days <= 0:
        return np.zeros(np.size(station_latitude))
    selected, _ = _eligible(catalog, min_magnitude, max_depth_km, decluster)
    day = selected.time.astype("datetime64[D]")
    selected = selected.select((day >= start) & (day < end))
    within = _within_radius(selected, station_latitude, station_longitude, radius, radius_km)
    return within.sum(axis=0) / n_days


def _eligible(catalog: Catalog, min_magnitude: float, max_depth_km: float | None,
              decluster: bool) -> tuple[Catalog, list[str]]:
    """The events that may be targets by magnitude, declustering and depth, and notes on what was left out."""
    notes: list[str] = []
    selected = catalog.select(catalog.magnitude >= min_magnitude)
    if decluster and len(selected):
        declustered = gardner_knopoff(selected, causal=True)
        dropped = int((~declustered.mainshock).sum())
        selected = selected.select(declustered.mainshock)
        if dropped:
            notes.append(f"decluster: {dropped} of the catalog's {len(declustered.catalog)} events of M >= "
                         f"{min_magnitude:g} are fore- or aftershocks, not targets")
    if max_depth_km is not None:
        unknown = int(np.isnan(selected.depth_km).sum())
        if unknown:
            notes.append(f"{unknown} event(s) of unknown depth left out (max depth {max_depth_km:g} km)")
        selected = selected.select(selected.depth_km <= max_depth_km)
    return selected, notes


def _within_radius(selected: Catalog, station_latitude, station_longitude, radius: str,
                   radius_km: float | None) -> np.ndarray:
    """``(n_events, n_stations)``: True where the epicentre lies within the event's radius of the station."""
    distance = haversine_km(selected.latitude[:, None], selected.longitude[:, None],
                            np.asarray(station_latitude, dtype=np.float64)[None, :],
                            np.asarray(station_longitude, dtype=np.float64)[None, :])
    n_stations = np.size(station_latitude)
    return np.asarray(distance).reshape(len(selected), n_stations) <= event_radius_km(
        selected.magnitude, radius, radius_km)[:, None]


def pair_levels(levels: np.ndarray, events: TargetEvents) -> np.ndarray:
    """Each (event, station) pair's level: its station's alarm level on the event's origin day.

    Parameters
    ----------
    levels : ndarray, shape (n_stations, n_days)
        From :meth:`StationDays.timing_levels` (or :meth:`StationDays.levels`).

    Returns
    -------
    ndarray of float64, shape (n_pairs,)
        In the order of :attr:`TargetEvents.pairs`; NaN where the station has no score
        covering that day.
    """
    event, station = events.pairs
    return levels[station, events.day_offset[event]]
