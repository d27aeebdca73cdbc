"""Target events: which earthquakes a forecast is judged on, and which stations can catch each.

A catalog event is a **target** when

- its magnitude is at least ``min_magnitude`` (and its depth at most ``max_depth_km`` when
  given; an event of unknown depth is then left out);
- with ``decluster``, it is a Gardner-Knopoff mainshock (:mod:`seismag.data.decluster`).
  The catalog is declustered *before* the depth cut (a shallow aftershock of a deep
  mainshock stays an aftershock). Declustering the catalog cut at ``min_magnitude`` gives
  the same verdict for every event kept as declustering the whole catalog: an event is
  gathered only by a window of an event at least as large, and those are all kept;
- it lies within the radius of at least one station (Dobrovolsky ``10^(0.43 M)`` km, or a
  fixed radius) whose origin day (UTC) is a scored station-day.

Events are scored at the **event level**: an event within the radius of three stations
is one event, caught at threshold theta when any of those stations is under alarm on its
origin day. Its level (:func:`event_levels`) is therefore the highest alarm level among
them.

May import numpy, :mod:`seismag.errors` and :mod:`seismag.data` (catalog, decluster).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seismag.data.catalog import Catalog, dobrovolsky_radius_km, haversine_km
from seismag.data.decluster import gardner_knopoff
from seismag.errors import ConfigError

from .alarms import StationDays

__all__ = ["TargetEvents", "event_levels", "event_radius_km", "select_target_events"]

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
        The origin day on the :class:`~seismag.skill.alarms.StationDays` axis.
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
    notes: list[str] = []
    selected = catalog.select(catalog.magnitude >= min_magnitude)
    if decluster and len(selected):
        declustered = gardner_knopoff(selected)
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
    offset = days.day_offset(selected.time.astype("datetime64[D]")) if len(selected) else np.zeros(0, np.int64)
    distance = haversine_km(selected.latitude[:, None], selected.longitude[:, None],
                            np.asarray(station_latitude, dtype=np.float64)[None, :],
                            np.asarray(station_longitude, dtype=np.float64)[None, :])
    n_stations = np.size(station_latitude)
    within = np.asarray(distance).reshape(len(selected), n_stations) <= event_radius_km(
        selected.magnitude, radius, radius_km)[:, None]
    on_axis = offset >= 0
    reach = within & on_axis[:, None]
    reach[on_axis] &= days.scored[:, offset[on_axis]].T
    keep = reach.any(axis=1)
    events = TargetEvents(
        event_id=selected.event_id[keep], time=selected.time[keep], magnitude=selected.magnitude[keep],
        latitude=selected.latitude[keep], longitude=selected.longitude[keep], depth_km=selected.depth_km[keep],
        day_offset=offset[keep], reach=reach[keep])
    return events, notes


def event_levels(levels: np.ndarray, events: TargetEvents) -> np.ndarray:
    """Each event's level: the highest alarm level, on its origin day, of the stations that reach it.

    Parameters
    ----------
    levels : ndarray, shape (n_stations, n_days)
        From :meth:`StationDays.levels`.

    Returns
    -------
    ndarray of float64, shape (n_events,)
        NaN when none of its stations has a score covering that day.
    """
    at_event = np.where(events.reach, levels[:, events.day_offset].T, np.nan)
    highest = np.fmax.reduce(at_event, axis=1, initial=-np.inf) if at_event.size else np.zeros(len(events))
    return np.where(np.isneginf(highest), np.nan, highest)
