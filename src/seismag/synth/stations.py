"""The synthetic world's ground: its clock and its stations, with their H, D and Z baselines.

Both generators place their stations here: the windows' dense local array
(:mod:`seismag.synth.windows`, +-10 km) and the continuous records' regional network
(:mod:`seismag.synth.records`, +-150 km) are drawn by one function, only the size differs.
Times in the synthetic world count in days from :data:`EPOCH` (00:00 UT): the baselines are
given at it, and secular change, seasons and the solar cycle count from it.

A station table is drawn from a random stream the caller owns (:func:`draw_stations`, then
:func:`draw_channel_baselines` from a stream of its own, so that H stays the same whether D
and Z are asked for or not).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass

import numpy as np

from seismag import defaults

__all__ = ["EPOCH", "MINUTES_PER_DAY", "ChannelBaselines", "StationTable", "draw_channel_baselines",
           "draw_stations"]

EPOCH = _dt.datetime(2015, 1, 1)  # day 0 of the synthetic world (00:00 UT, 1 January)
MINUTES_PER_DAY = defaults.MINUTES_PER_DAY

ARRAY_LATITUDE_DEG = 35.0  # geographic
ARRAY_LONGITUDE_DEG = 139.0  # east; local time = UT + 9.3 h
ARRAY_GEOMAGNETIC_LATITUDE_DEG = 26.0
ARRAY_H_NT = 30_000.0
H_GRADIENT_NT_PER_KM = 3.0  # H falls northwards at mid-latitudes
SECULAR_NT_PER_YEAR = 10.0
KM_PER_DEGREE = 111.0

# D (declination, arc-minutes east) and Z (vertical, nT down), as in central Japan.
ARRAY_D_ARCMIN = -438.0  # 7.3 degrees west
D_GRADIENT_ARCMIN_PER_KM = -0.11  # D turns westwards going north
D_SECULAR_ARCMIN_PER_YEAR = -1.0
ARRAY_Z_NT = 35_000.0
Z_GRADIENT_NT_PER_KM = 8.0  # Z grows northwards
Z_SECULAR_NT_PER_YEAR = 15.0


@dataclass(frozen=True)
class StationTable:
    """Where the stations stand and how their H responds; arrays of shape ``(n_stations,)``."""

    code: tuple[str, ...]
    north_km: np.ndarray  # position relative to the network centre, km
    east_km: np.ndarray
    latitude_deg: np.ndarray  # geographic
    longitude_deg: np.ndarray  # east longitude; local time = UT + longitude / 15 h
    baseline_nt: np.ndarray  # H at EPOCH, nT
    secular_nt_per_year: np.ndarray
    sq_amplitude_nt: np.ndarray  # H's daily (Sq) amplitude before season and day-to-day change
    storm_scale: np.ndarray  # response to the global disturbance (geomagnetic latitude, ~0.9)


def draw_stations(rng: np.random.Generator, codes: tuple[str, ...], half_width_km: float) -> StationTable:
    """Stations placed at random in a square of ``2 * half_width_km`` around the array centre.

    Absolute H is ~30,000 nT; it falls by ~3 nT per km northwards, and crustal anomalies add
    ~10 nT, so a dense local array differs by tens of nT and a regional network by hundreds.
    """
    n_stations = len(codes)
    north_km = rng.uniform(-half_width_km, half_width_km, n_stations)
    east_km = rng.uniform(-half_width_km, half_width_km, n_stations)
    return StationTable(
        code=codes,
        north_km=north_km,
        east_km=east_km,
        latitude_deg=ARRAY_LATITUDE_DEG + north_km / KM_PER_DEGREE,
        longitude_deg=ARRAY_LONGITUDE_DEG + east_km / (KM_PER_DEGREE * math.cos(math.radians(ARRAY_LATITUDE_DEG))),
        baseline_nt=ARRAY_H_NT - H_GRADIENT_NT_PER_KM * north_km + rng.normal(0.0, 10.0, n_stations),
        secular_nt_per_year=SECULAR_NT_PER_YEAR + rng.normal(0.0, 1.0, n_stations),
        sq_amplitude_nt=rng.uniform(26.0, 34.0, n_stations),
        storm_scale=math.cos(math.radians(ARRAY_GEOMAGNETIC_LATITUDE_DEG)) * rng.uniform(0.95, 1.05, n_stations),
    )


@dataclass(frozen=True)
class ChannelBaselines:
    """The D and Z baselines of a station table, arrays of shape ``(n_stations,)``."""

    d_baseline_arcmin: np.ndarray  # D at EPOCH, arc-minutes east
    d_secular_arcmin_per_year: np.ndarray
    z_baseline_nt: np.ndarray  # Z at EPOCH, nT down
    z_secular_nt_per_year: np.ndarray


def draw_channel_baselines(rng: np.random.Generator, stations: StationTable) -> ChannelBaselines:
    """D and Z at each station: the regional gradients plus crustal anomalies (2 arc-minutes, 20 nT)."""
    n_stations = len(stations.code)
    return ChannelBaselines(
        d_baseline_arcmin=(ARRAY_D_ARCMIN + D_GRADIENT_ARCMIN_PER_KM * stations.north_km
                           + rng.normal(0.0, 2.0, n_stations)),
        d_secular_arcmin_per_year=D_SECULAR_ARCMIN_PER_YEAR + rng.normal(0.0, 0.2, n_stations),
        z_baseline_nt=ARRAY_Z_NT + Z_GRADIENT_NT_PER_KM * stations.north_km + rng.normal(0.0, 20.0, n_stations),
        z_secular_nt_per_year=Z_SECULAR_NT_PER_YEAR + rng.normal(0.0, 1.5, n_stations),
    )
