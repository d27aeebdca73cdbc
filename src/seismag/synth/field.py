"""What a station records: the field at its place (Sq, storms, ULF) and the H, D, Z channels
with the precursor.

Both generators build their samples here, so windows and continuous records can never
disagree on the physics. Times are days since :data:`~seismag.synth.stations.EPOCH`; arrays
are ``(n, L)``: ``n`` rows (stations or windows), ``L`` samples.

* Level: the station baseline plus secular change, a linear instrument drift and a random
  walk with 3-hourly nodes (:func:`station_level`).
* Sq, the daily variation: in H a bell peaking near local noon (tens of nT, 35 % larger in
  summer, changing from day to day: :func:`sq_day_factor`); in D a swing east in the morning
  and west in the afternoon (``D_SQ_ARCMIN_PER_NT``); in Z a swing of the opposite sign
  (``Z_SQ_RATIO`` of H's amplitude).
* Storms: the global disturbance (:mod:`seismag.synth.storms`) scaled per station with a small
  local-time asymmetry; in D a fifth of it across H, its sign following local time; in Z a
  quarter of it with the opposite sign.
* ULF: unit red noise (:func:`seismag.synth.noise.red_noise`) times an envelope that grows
  with the storm's depth and rate of change; in D 0.7 and in Z 0.4 of H's.
* F is ``sqrt(H**2 + Z**2)`` (the callers take it before the spikes: F is its own instrument).

The precursor, at strength ``s`` (``effect`` x event size x station factor): H's level sinks
by ``PRECURSOR_LEVEL_NT * s``, its ULF grows by ``1 + PRECURSOR_ULF_GAIN * s`` and its Sq
weakens by ``PRECURSOR_SQ_DROP * s``; Z's level rises by ``PRECURSOR_Z_LEVEL_NT * s``, its ULF
grows by ``1 + PRECURSOR_Z_ULF_GAIN * s`` (so the Z/H ULF ratio doubles at strength 1) and its
Sq weakens as H's. D carries no precursor: it is the control channel that only the external
field moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from seismag.errors import ConfigError
from seismag.synth.noise import interp_nodes
from seismag.synth.stations import ARRAY_H_NT, MINUTES_PER_DAY, StationTable
from seismag.synth.storms import solar_activity

__all__ = ["COMPONENTS", "COMPONENT_UNITS", "DEFAULT_EFFECT", "PRECURSOR_CHANNELS", "Field", "check_components",
           "check_effect", "check_precursor_channels", "d_channel",
           "h_channel", "sq_day_factor", "station_field", "station_level", "z_channel"]

COMPONENTS = ("H", "D", "Z", "F")  # the channels the generators can write
COMPONENT_UNITS = {"H": "nT", "D": "arcmin", "Z": "nT", "F": "nT"}

# A field of 1 nT across the horizontal component turns it by 1/H radians.
ARCMIN_PER_NT = 180.0 * 60.0 / (math.pi * ARRAY_H_NT)
D_SQ_ARCMIN_PER_NT = 0.1  # D's Sq swing per nT of H's Sq amplitude (30 nT -> 3 arc-minutes)
Z_SQ_RATIO = 0.35  # Z's Sq swing / H's Sq amplitude
D_STORM_RATIO = 0.2  # transverse storm field / H's storm field (partial ring current, FACs)
Z_STORM_RATIO = -0.25  # Z rises when H falls (external field minus the induced part)
D_ULF_RATIO = 0.7  # ULF amplitude across H / along H
Z_ULF_RATIO = 0.4  # ULF amplitude in Z / in H: external sources are mostly horizontal

# Strength of the class-1 precursor in the default dataset (see seismag.synth.windows).
DEFAULT_EFFECT = 1.0
#: The channels that carry the precursor by default (D never does; F follows H and Z).
PRECURSOR_CHANNELS = ("H", "Z")
PRECURSOR_DAYS = 3.0  # how long before the event the precursor starts
PRECURSOR_RAMP_HOURS = 12.0  # it switches on over this long
PRECURSOR_LEVEL_NT = 100.0
PRECURSOR_ULF_GAIN = 2.0
PRECURSOR_SQ_DROP = 0.25
PRECURSOR_Z_LEVEL_NT = 50.0  # Z rises while H sinks (a local source below the station)
PRECURSOR_Z_ULF_GAIN = 5.0  # Z's ULF grows faster than H's: the Z/H ratio doubles at strength 1


def check_effect(effect: float | None) -> float:
    """The precursor strength as a float >= 0 (None: :data:`DEFAULT_EFFECT`); one
    ConfigError otherwise. Shared by the window and the continuous-record generators."""
    if effect is None:
        effect = DEFAULT_EFFECT
    try:
        effect = float(effect)
    except (TypeError, ValueError):
        raise ConfigError(f"effect must be a number >= 0, got {effect!r}") from None
    if not math.isfinite(effect) or effect < 0.0:
        raise ConfigError(f"effect must be a finite number >= 0, got {effect!r}")
    return effect


def check_components(components: Sequence[str] | None) -> tuple[str, ...]:
    """Component letters (any case) -> upper-case tuple; None -> ('H',)."""
    if components is None:
        return ("H",)
    if isinstance(components, str):
        components = components.split(",")
    letters = tuple(str(c).strip().upper() for c in components)
    if not letters or any(c not in COMPONENTS for c in letters) or len(set(letters)) != len(letters):
        raise ConfigError(f"components must be distinct letters among {', '.join(COMPONENTS)}, "
                          f"got {','.join(map(str, components)) or '(none)'}")
    return letters


def check_precursor_channels(precursor_in: Sequence[str] | None, components: tuple[str, ...]) -> tuple[str, ...]:
    """The channels that carry the precursor (None: :data:`PRECURSOR_CHANNELS`) as an upper-case
    tuple among them; one ConfigError for another letter, or for a choice that leaves every
    channel of ``components`` without the precursor (class 1 would then carry none)."""
    if precursor_in is None:
        return PRECURSOR_CHANNELS
    if isinstance(precursor_in, str):
        precursor_in = precursor_in.split(",")
    letters = tuple(dict.fromkeys(str(c).strip().upper() for c in precursor_in))
    if not letters or any(c not in PRECURSOR_CHANNELS for c in letters):
        raise ConfigError(f"the precursor can be planted in {', '.join(PRECURSOR_CHANNELS)}, "
                          f"got {','.join(map(str, precursor_in)) or '(none)'}")
    if not any(c in letters or c == "F" for c in components):
        raise ConfigError(f"the precursor is planted in {','.join(letters)}, which the rows ({','.join(components)}) "
                          "do not hold: add it to the components")
    return letters


def station_level(baseline, secular_per_year, t_abs: np.ndarray, drift_per_day, t_rel: np.ndarray,
                  walk: np.ndarray) -> np.ndarray:
    """Baseline + secular variation + a linear drift + a random walk with 3-hourly nodes.

    ``baseline`` (in the channel's unit: nT, or arc-minutes for D) and its change per year
    apply at ``t_abs`` (days since EPOCH); the drift (per day) and the walk's nodes (one row
    per station, every 3 hours) count from ``t_rel`` (days since the window or the record began).
    """
    level = baseline + secular_per_year * (t_abs / 365.25)
    level = level + drift_per_day * t_rel
    return level + interp_nodes(walk, t_rel * 8.0)


def sq_day_factor(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Day-to-day change of the Sq amplitude shared by all stations, one value for each of
    ``days`` (days since EPOCH): log-normal (SD 0.15) times 0.85 + 0.15 x the solar cycle."""
    return np.exp(rng.normal(0.0, 0.15, days.size)) * (0.85 + 0.15 * solar_activity(days))


@dataclass(frozen=True)
class Field:
    """What the stations see of the world over some rows of samples, before any precursor.

    Arrays are ``(n, L)``: ``n`` rows (stations or windows), ``L`` samples.
    """

    local_hour: np.ndarray
    sq_amplitude: np.ndarray  # nT, H's Sq amplitude (season and day-to-day change included)
    storm: np.ndarray  # nT, H's storm field
    ulf_envelope: np.ndarray  # nT RMS of H's ULF noise


def _local_hour(longitude_deg: np.ndarray, t_abs_days: np.ndarray) -> np.ndarray:
    return (t_abs_days * 24.0 + longitude_deg[:, None] / 15.0) % 24.0


def station_field(stations: StationTable, station: np.ndarray, t_abs: np.ndarray, day_factor: np.ndarray,
                  disturbance: np.ndarray, ulf_rms: np.ndarray, steps_per_day: int) -> Field:
    """Sq amplitude, storm field and ULF envelope of ``station`` rows at ``t_abs`` (days since EPOCH).

    ``day_factor`` is the Sq day-to-day factor at every sample, ``disturbance`` the global
    disturbance (nT), ``ulf_rms`` each row's quiet ULF level (nT RMS).
    """
    # Daily variation: seasonal and day-to-day amplitude change (its shape: _sq_bell).
    local_hour = _local_hour(stations.longitude_deg[station], t_abs)
    day_of_year = t_abs % 365.25  # EPOCH is 1 January
    season = 1.0 + 0.35 * np.cos(2.0 * np.pi * (day_of_year - 172.0) / 365.25)
    sq_amplitude = stations.sq_amplitude_nt[station][:, None] * season * day_factor

    # Storms: the shared disturbance, scaled per station, with a small local-time asymmetry.
    asymmetry = 1.0 + 0.1 * np.cos(2.0 * np.pi * (local_hour - 18.0) / 24.0)
    storm = stations.storm_scale[station][:, None] * disturbance * asymmetry

    # ULF: red noise whose amplitude follows storm activity.
    storm_rate_nt_per_min = np.abs(np.gradient(storm, axis=1)) * steps_per_day / MINUTES_PER_DAY
    ulf_envelope = ulf_rms * (1.0 + np.clip(-storm, 0.0, None) / 60.0 + storm_rate_nt_per_min)
    return Field(local_hour, sq_amplitude, storm, ulf_envelope)


def _sq_bell(local_hour: np.ndarray) -> np.ndarray:
    """H's Sq shape: a bell near local noon (1 at its peak), slightly negative at night."""
    return np.exp(-0.5 * ((local_hour - 11.5) / 3.0) ** 2) - 0.15


def _sq_swing(local_hour: np.ndarray) -> np.ndarray:
    """D's and Z's Sq shape: +1 at 08:30 local time, -1 at 14:30, near 0 at night."""
    x = (local_hour - 11.5) / 3.0
    return -x * np.exp(0.5 - 0.5 * x * x)


def h_channel(level: np.ndarray, field: Field, strength: np.ndarray | None, noise: np.ndarray) -> np.ndarray:
    """H (nT): level, Sq, storm and ULF noise; the precursor (``strength``, None for none)
    lowers the level, raises the ULF and weakens Sq (see the module docstring)."""
    sq_amplitude, ulf_envelope = field.sq_amplitude, field.ulf_envelope
    if strength is not None:
        level = level - PRECURSOR_LEVEL_NT * strength
        ulf_envelope = ulf_envelope * (1.0 + PRECURSOR_ULF_GAIN * strength)
        sq_amplitude = sq_amplitude * np.clip(1.0 - PRECURSOR_SQ_DROP * strength, 0.0, None)
    return level + sq_amplitude * _sq_bell(field.local_hour) + field.storm + ulf_envelope * noise


def d_channel(level: np.ndarray, field: Field, noise: np.ndarray) -> np.ndarray:
    """D (arc-minutes east): level, a small Sq swing (east in the morning, west in the
    afternoon), a storm excursion whose sign follows local time, and ULF noise. The
    precursor leaves D alone: it is the control channel."""
    swing = D_SQ_ARCMIN_PER_NT * field.sq_amplitude * _sq_swing(field.local_hour)
    storm = (D_STORM_RATIO * ARCMIN_PER_NT) * field.storm * np.sin(2.0 * np.pi * (field.local_hour - 12.0) / 24.0)
    return level + swing + storm + (D_ULF_RATIO * ARCMIN_PER_NT) * field.ulf_envelope * noise


def z_channel(level: np.ndarray, field: Field, strength: np.ndarray | None, noise: np.ndarray) -> np.ndarray:
    """Z (nT down): level, a Sq swing of the opposite sign (down in the morning, up in the
    afternoon), a storm field a quarter of H's and of the opposite sign, and ULF noise.
    The precursor raises the level and the ULF (faster than in H: the Z/H ratio grows)
    and weakens Sq as in H."""
    sq_amplitude, ulf_envelope = field.sq_amplitude, Z_ULF_RATIO * field.ulf_envelope
    if strength is not None:
        level = level + PRECURSOR_Z_LEVEL_NT * strength
        ulf_envelope = ulf_envelope * (1.0 + PRECURSOR_Z_ULF_GAIN * strength)
        sq_amplitude = sq_amplitude * np.clip(1.0 - PRECURSOR_SQ_DROP * strength, 0.0, None)
    swing = -Z_SQ_RATIO * sq_amplitude * _sq_swing(field.local_hour)
    return level + swing + Z_STORM_RATIO * field.storm + ulf_envelope * noise
