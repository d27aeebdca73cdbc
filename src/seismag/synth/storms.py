"""The global disturbance: the solar cycle and the geomagnetic storms it drives.

A storm is a sudden commencement (+ tens of nT, in 60 % of storms), a main phase
(-50 ... -300 nT over 3 to 12 hours) and an exponential recovery over days. Storm onsets are
a Poisson process of ``STORMS_PER_YEAR`` at the cycle's mean, thinned by the solar cycle.
Storms are drawn on a grid of minutes (:func:`draw_storms`) and rendered on any slice of it
(:func:`render_storms`, Dst-like, nT); every station sees the one disturbance, scaled by its
:attr:`~seismag.synth.stations.StationTable.storm_scale` (:func:`seismag.synth.field.station_field`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from seismag.synth.stations import MINUTES_PER_DAY

__all__ = ["STORM_PAD_DAYS", "Storm", "draw_storm", "draw_storms", "render_storms", "solar_activity"]

STORMS_PER_YEAR = 24.0  # mean rate of storms with a main phase below -50 nT
SOLAR_CYCLE_YEARS = 11.0
STORM_PAD_DAYS = 30  # storms that start this long before a grid's first day still reach it


def solar_activity(days: np.ndarray) -> np.ndarray:
    """Solar-cycle factor (0.4 ... 1.6) at ``days`` since EPOCH; the cycle peaked in 2014."""
    phase = 2.0 * np.pi * (np.asarray(days, dtype=np.float64) / 365.25 + 0.7) / SOLAR_CYCLE_YEARS
    return 1.0 + 0.6 * np.cos(phase)


class Storm(NamedTuple):
    """One storm of the global disturbance; times in minutes of its grid, sizes in nT."""

    onset: int  # sudden commencement (or gradual start when ssc_nt is 0)
    ssc_nt: float
    initial_min: float
    main_min: float
    depth_nt: float
    recovery_min: float

    @property
    def span_min(self) -> int:
        """Minutes after the onset during which the storm is drawn (it has faded below 0.1 %)."""
        return int(self.initial_min + self.main_min + 7.0 * self.recovery_min)


def draw_storm(rng: np.random.Generator, onset: int) -> Storm:
    """The shape of one storm starting at ``onset``: the draws of every storm, in their order."""
    ssc_nt = rng.uniform(5.0, 40.0) if rng.uniform() < 0.6 else 0.0
    initial_min = rng.uniform(1.0, 6.0) * 60.0
    main_min = rng.uniform(3.0, 12.0) * 60.0
    depth_nt = min(50.0 + rng.exponential(50.0), 300.0)
    recovery_min = rng.uniform(12.0, 48.0) * 60.0
    return Storm(int(onset), ssc_nt, initial_min, main_min, depth_nt, recovery_min)


def draw_storms(rng: np.random.Generator, total_minutes: int, first_day: float) -> list[Storm]:
    """Storms over a grid of ``total_minutes`` whose minute 0 is ``first_day`` days after EPOCH.

    Onsets are a Poisson process thinned by the solar cycle, ``STORMS_PER_YEAR`` at its mean.
    """
    max_rate_per_minute = STORMS_PER_YEAR * 1.6 / (365.25 * MINUTES_PER_DAY)
    n_candidates = rng.poisson(max_rate_per_minute * total_minutes)
    onsets = np.sort(rng.uniform(0, total_minutes, n_candidates))
    keep = rng.uniform(0, 1.6, n_candidates) < solar_activity(onsets / MINUTES_PER_DAY + first_day)
    return [draw_storm(rng, onset) for onset in onsets[keep].astype(np.int64)]


def render_storms(storms: list[Storm], first_minute: int, n_minutes: int) -> np.ndarray:
    """The disturbance (nT, float64) at minutes ``first_minute ...`` of the storms' grid.

    Any slice of the grid holds the same values as the whole grid rendered at once.
    """
    series = np.zeros(n_minutes, dtype=np.float64)
    stop = first_minute + n_minutes
    for storm in storms:
        begin, end = max(storm.onset, first_minute), min(storm.onset + storm.span_min, stop)
        if begin >= end:
            continue
        t = np.arange(begin - storm.onset, end - storm.onset, dtype=np.float64)
        series[begin - first_minute: end - first_minute] += storm_shape(
            t, storm.ssc_nt, storm.initial_min, storm.main_min, storm.depth_nt, storm.recovery_min)
    return series


def storm_shape(t, ssc_nt, initial_min, main_min, depth_nt, recovery_min):
    """One storm (nT) at ``t`` minutes after its sudden commencement."""
    end_main = initial_min + main_min
    # Sudden commencement: a step within minutes that fades during the main phase.
    ssc = ssc_nt * (1.0 - np.exp(-t / 3.0)) * np.clip((end_main - t) / main_min, 0.0, 1.0)
    progress = np.clip((t - initial_min) / main_min, 0.0, 1.0)
    main = -depth_nt * progress * progress * (3.0 - 2.0 * progress)  # smooth descent
    recovery = np.exp(-np.clip(t - end_main, 0.0, None) / recovery_min)
    return ssc + main * recovery
