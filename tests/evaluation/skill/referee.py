"""The referee's network for calibration tests: six stations 1 degree apart, every target event
within reach of exactly three of them, a year of daily scores, in memory (no files).

Forecasts (all ``..._7day``; scores in [0, 1]):

``station_noise_7day``  noise drawn per station-day: no skill
``shared_noise_7day``   one noise series shared by every station (what a global index looks like)
``constant_7day``       a fixed per-station constant: knows nothing of when
``precursor_7day``      high on the ``lead_days`` rows before each event at the stations in reach
``activity_7day``       a zero-skill storm reference: shared noise, as a trained activity ensemble

Events: ``"poisson"`` (independent days) or ``"clustered"`` (bursts of four events within
three days).
"""

from __future__ import annotations

import numpy as np

from seismag.sources.catalog import Catalog
from seismag.layout.forecast import ModelRows, Scores

N_STATIONS, N_DAYS, LEAD_DAYS, RADIUS_KM = 6, 365, 7, 100.0
LATITUDE = 35.0
LONGITUDE = 139.0 + np.arange(N_STATIONS, dtype=np.float64)  # 91 km apart: a 100 km radius reaches 3
FIRST = np.datetime64("2021-01-01")
NULL_FORECASTS = ("station_noise_7day", "shared_noise_7day", "constant_7day")


def event_days(rng: np.random.Generator, kind: str, n_events: int = 40) -> np.ndarray:
    if kind == "poisson":
        return np.sort(rng.choice(N_DAYS, size=n_events, replace=False))
    bursts = rng.choice(N_DAYS - 3, size=n_events // 4, replace=False)
    return np.sort((bursts[:, None] + rng.integers(0, 3, size=(bursts.size, 4))).ravel())


def network(seed: int, kind: str = "poisson", forecasts=None, strength: float = 1.0) -> tuple[Scores, Catalog]:
    """The scores and catalog of one draw; ``forecasts`` picks names (default: all)."""
    rng = np.random.default_rng(seed)
    days = event_days(rng, kind)
    centre = rng.integers(1, N_STATIONS - 1, size=days.size)  # its neighbours on both sides reach it too
    reach = np.abs(np.arange(N_STATIONS)[None, :] - centre[:, None]) <= 1
    rows = np.arange(N_DAYS)
    raised = np.zeros((N_STATIONS, N_DAYS), dtype=bool)
    for day, stations in zip(days, reach):
        raised[np.ix_(stations, rows[(rows < day + 1) & (rows > day - LEAD_DAYS)])] = True
    shared = rng.random(N_DAYS)
    made = {
        "station_noise_7day": rng.random((N_STATIONS, N_DAYS)),
        "shared_noise_7day": np.broadcast_to(shared, (N_STATIONS, N_DAYS)),
        "constant_7day": np.broadcast_to(rng.permutation(N_STATIONS)[:, None] / 10 + 0.2, (N_STATIONS, N_DAYS)),
        "precursor_7day": np.where(raised, 0.5 + 0.5 * strength, 0.5 * rng.random((N_STATIONS, N_DAYS))),
        "activity_7day": np.broadcast_to(rng.random(N_DAYS), (N_STATIONS, N_DAYS)),
    }
    names = forecasts or tuple(made)
    station = np.repeat(np.arange(N_STATIONS), N_DAYS)
    window_end = np.tile(FIRST + rows, N_STATIONS)
    models = {name: ModelRows(name=name, station=station, window_end=window_end,
                              score=np.array(made[name], dtype=np.float64).ravel(),
                              in_sample=np.zeros(station.size, dtype=bool), line=np.arange(station.size) + 2)
              for name in names}
    scores = Scores(path="referee.csv", stations=tuple(f"S{i}" for i in range(N_STATIONS)),
                    latitude=np.full(N_STATIONS, LATITUDE), longitude=LONGITUDE, models=models)
    catalog = Catalog.from_events(
        [(f"{FIRST + int(day)}T06:00:00", LATITUDE, float(LONGITUDE[c]), 10.0, 6.0, f"ev{i}")
         for i, (day, c) in enumerate(zip(days, centre))],
        start=str(FIRST - 400), end=str(FIRST + N_DAYS + LEAD_DAYS + 5))
    return scores, catalog
