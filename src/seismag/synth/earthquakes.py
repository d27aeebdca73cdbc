"""The earthquakes of continuous synthetic records: the events that carry a precursor and
the catalog that lists them among small background earthquakes.

Events (M 5.5 ... 6.8, Gutenberg-Richter with b = 1, one per ~``DAYS_PER_EVENT`` days) are
placed one per slot over the record, each at a random distance up to ``EVENT_REACH_RADII``
Dobrovolsky radii (``10 ** (0.43 M)`` km) from a station chosen at random, so most have
stations within their radius and a few have none. An event's precursor starts
``PRECURSOR_DAYS`` (+-15 %) before it; its strength per unit effect is the event's size
(log-normal, median 1) times ``1 - 0.3 * distance / radius`` inside the radius, 0 outside.

The catalog (:func:`write_catalog`, USGS ComCat columns) adds background earthquakes
(M 2.5 ... 4.4, within ``BACKGROUND_HALF_WIDTH_DEG`` of the network's centre, none with a
precursor), the first of them within an hour after the span's start and the last within
an hour after its end, so that ``read_catalog`` (which takes a file's span from its first and
last row) sees the whole span. Times are minutes since the record's start (00:00 UT).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from seismag.sources.catalog import Catalog, dobrovolsky_radius_km, haversine_km, write_comcat_csv
from seismag.synth.field import PRECURSOR_DAYS
from seismag.synth.stations import KM_PER_DEGREE, MINUTES_PER_DAY, StationTable

__all__ = ["PlantedEvent", "draw_events", "event_margin_days", "write_catalog"]

DAYS_PER_EVENT = 10.0
EVENT_MAGNITUDES = (5.5, 6.8)
BACKGROUND_EVENTS_PER_DAY = 0.5
BACKGROUND_MAGNITUDES = (2.5, 4.4)
BACKGROUND_HALF_WIDTH_DEG = 2.5
GUTENBERG_RICHTER_B = 1.0
EVENT_REACH_RADII = 1.2  # an event lies up to this many radii from the station it is placed by
PRECURSOR_DISTANCE_FALLOFF = 0.3  # strength 1 at the epicentre, 0.7 at the radius


@dataclass(frozen=True)
class PlantedEvent:
    """One earthquake of the record with the precursor planted before it."""

    event_id: str
    minute: int  # origin time, minutes since the record's start
    latitude: float
    longitude: float
    depth_km: float
    magnitude: float
    radius_km: float  # Dobrovolsky radius
    size: float  # precursor size factor (log-normal, median 1)
    onset_minute: float  # precursor onset, minutes since the record's start
    distance_km: np.ndarray  # to every station

    @property
    def within(self) -> np.ndarray:
        """Per station: inside the radius."""
        return self.distance_km <= self.radius_km

    def strength(self) -> np.ndarray:
        """Precursor strength per unit effect at each station (0 outside the radius)."""
        falloff = 1.0 - PRECURSOR_DISTANCE_FALLOFF * self.distance_km / self.radius_km
        return np.where(self.within, self.size * falloff, 0.0)


def draw_events(rng: np.random.Generator, stations: StationTable, days: int, lead_days: int) -> list[PlantedEvent]:
    """One event per slot of ~``DAYS_PER_EVENT`` days, after a margin that holds its lead window."""
    margin = event_margin_days(lead_days)
    n_events = max(1, int(round(days / DAYS_PER_EVENT)))
    slot = (days - 0.25 - margin) / n_events
    events = []
    for k in range(n_events):
        minute = int((margin + slot * (k + rng.uniform())) * MINUTES_PER_DAY)
        magnitude = round(_gutenberg_richter(rng, *EVENT_MAGNITUDES), 1)
        radius = float(dobrovolsky_radius_km(magnitude))
        anchor = int(rng.integers(len(stations.code)))
        distance, bearing = rng.uniform(0.0, EVENT_REACH_RADII * radius), rng.uniform(0.0, 2.0 * math.pi)
        latitude = float(stations.latitude_deg[anchor] + distance * math.cos(bearing) / KM_PER_DEGREE)
        longitude = float(stations.longitude_deg[anchor]
                          + distance * math.sin(bearing) / (KM_PER_DEGREE * math.cos(math.radians(latitude))))
        size = float(rng.lognormal(0.0, 0.25))
        onset = minute - PRECURSOR_DAYS * (1.0 + rng.uniform(-0.15, 0.15)) * MINUTES_PER_DAY
        events.append(PlantedEvent(
            event_id=f"sy{k + 1:04d}", minute=minute, latitude=round(latitude, 4), longitude=round(longitude, 4),
            depth_km=round(float(rng.uniform(5.0, 40.0)), 2), magnitude=magnitude, radius_km=radius, size=size,
            onset_minute=float(onset),
            distance_km=np.asarray(haversine_km(stations.latitude_deg, stations.longitude_deg,
                                                round(latitude, 4), round(longitude, 4)), dtype=np.float64),
        ))
    return events


def event_margin_days(lead_days: int) -> int:
    """Events start this many days into the record: room for the precursor and the lead window."""
    return max(int(lead_days), int(math.ceil(PRECURSOR_DAYS * 1.15)) + 1)


def _gutenberg_richter(rng: np.random.Generator, low: float, high: float) -> float:
    """A magnitude in [low, high] with ``log10 N(>= M) = a - b M``."""
    u = rng.uniform()
    return low - math.log10(1.0 - u * (1.0 - 10.0 ** (-GUTENBERG_RICHTER_B * (high - low)))) / GUTENBERG_RICHTER_B


def write_catalog(path: Path, rng: np.random.Generator, time: Callable[[float], np.datetime64], span_days: int,
                  stations: StationTable, events: list[PlantedEvent]) -> tuple[np.datetime64, np.datetime64]:
    """Write the events and small background earthquakes over ``span_days`` from the record's
    start as a ComCat CSV; ``time`` turns minutes since the record's start into a time.
    Returns the catalog's span (its first and last origin time)."""
    span_minutes = span_days * MINUTES_PER_DAY
    n_background = max(2, int(rng.poisson(BACKGROUND_EVENTS_PER_DAY * span_days)))
    minutes = np.sort(rng.uniform(0, span_minutes, n_background)).astype(np.int64)
    # The first and the last row mark the span: from the record's first hour to just past the
    # label horizon of its last window.
    minutes[0], minutes[-1] = rng.integers(0, 60), span_minutes + rng.integers(0, 60)
    rows, places, mag_types = [], [], []
    for k, minute in enumerate(minutes.tolist()):
        latitude = float(np.mean(stations.latitude_deg)) + rng.uniform(-1.0, 1.0) * BACKGROUND_HALF_WIDTH_DEG
        longitude = float(np.mean(stations.longitude_deg)) + rng.uniform(-1.0, 1.0) * BACKGROUND_HALF_WIDTH_DEG
        magnitude = round(_gutenberg_richter(rng, *BACKGROUND_MAGNITUDES), 1)
        rows.append((time(minute), round(latitude, 4), round(longitude, 4), round(rng.uniform(2.0, 60.0), 2),
                     magnitude, f"sb{k + 1:05d}"))
        places.append(_place(stations, latitude, longitude))
        mag_types.append("ml")
    for event in events:
        rows.append((time(event.minute), event.latitude, event.longitude, event.depth_km, event.magnitude,
                     event.event_id))
        places.append(_place(stations, event.latitude, event.longitude))
        mag_types.append("mw")
    order = sorted(range(len(rows)), key=lambda i: (rows[i][0], rows[i][5]))
    catalog = Catalog.from_events([rows[i] for i in order])
    write_comcat_csv(path, catalog, places=[places[i] for i in order], mag_types=[mag_types[i] for i in order],
                     net="sy")
    return catalog.start, catalog.end


def _place(stations: StationTable, latitude: float, longitude: float) -> str:
    """ComCat's ``place``: distance and direction from the nearest station."""
    distance = np.asarray(haversine_km(stations.latitude_deg, stations.longitude_deg, latitude, longitude))
    nearest = int(np.argmin(distance))
    north = latitude - stations.latitude_deg[nearest]
    east = (longitude - stations.longitude_deg[nearest]) * math.cos(math.radians(latitude))
    points = ("N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW")
    direction = points[int(round(math.degrees(math.atan2(east, north)) % 360.0 / 22.5)) % 16]
    return f"{distance[nearest]:.0f} km {direction} of synthetic station {stations.code[nearest]}"
