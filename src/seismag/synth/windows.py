"""Synthetic geomagnetic windows in the seed layout.

Why this module is long: it tells the whole story of a window dataset, what a row holds
(this docstring), who recorded what and when, the rows chunk by chunk and the files. The
physics it draws from is shared with the continuous records of :mod:`seismag.synth.records`,
so that the two can never disagree on it: the clock and the station table
(:mod:`~seismag.synth.stations`), the storms (:mod:`~seismag.synth.storms`), the field at a
station and the H, D, Z channels with the precursor (:mod:`~seismag.synth.field`), and red
noise, spikes and gaps (:mod:`~seismag.synth.noise`).

The generator stands in for real magnetometer records so that every stage
downstream (loading, analysis, training, plots) can run anywhere, and so that
the pipeline can be checked against a known truth: with ``effect=0`` the two
classes come from one distribution and any honest classifier sits at chance.

What a row holds
----------------
By default one row is the horizontal component H (nT) of one station over ``window_days``
days, sampled ``steps_per_day`` times a day (1440: one value a minute), the
window starting at 00:00 UT. It is the sum of

* the station baseline (~30,000 nT; the stations form a dense local array, so
  they differ by tens of nT, see ``LOCAL_ARRAY_HALF_WIDTH_KM``) plus secular variation
  (~10 nT a year) and a slow instrumental drift;
* the daily (Sq) variation: a bell peaking near local noon (so the peak's UT
  depends on the station's longitude), tens of nT, larger in summer, changing
  from day to day;
* geomagnetic storms from one catalogue shared by all stations (and by both
  classes and every window length): a sudden commencement (+ tens of nT), a
  main phase (-50 ... -300 nT over hours) and an exponential recovery over days,
  scaled by latitude with a small local-time asymmetry;
* ULF (Pc5-band) noise with a red 1/f^a spectrum whose amplitude grows with
  storm activity;
* occasional one-sample spikes and short NaN gaps (a few minutes) in a minority
  of rows; a loader is expected to interpolate the gaps.

Several channels
----------------
``components`` (``seismag synth --components H,D,Z``) asks for more channels
per row, among H, D, Z and F; a row then holds all channels of day 1, then of
day 2, ... (:data:`seismag.layout.dataset_info.FEATURE_ORDER`), and ``dataset.json`` beside
the windows names them. Without it a row is H alone and no ``dataset.json`` is
written, byte for byte as before the other channels existed. D and Z come from
random streams of their own, so H is the same whatever else is asked for.

D (declination, arc-minutes east, about -438 = 7.3 degrees west) and Z (vertical, nT
down, ~35,000) have their own baselines, secular change and drift, and carry the same Sq,
storms and ULF noise in their own proportions (:mod:`seismag.synth.field`: in D a few
arc-minutes, in Z a third of H's Sq and a quarter of its storm field with the opposite
sign). F is ``sqrt(H**2 + Z**2)``, without the spikes of H and Z (a separate instrument);
a gap stops every channel at once.

Windows come in groups: one earthquake is recorded by several stations, so
several class-1 rows share an ``event_id`` and the same dates (and therefore
the same storms). Class-0 rows are drawn by exactly the same procedure (groups
of stations on shared dates, labelled ``REF-...``) so that the classes differ
in nothing but the precursor; a group split (by ``event_id``) keeps every group
on one side. A split that ignores the groups lets a model recognise a
validation window by its siblings' storms: even with ``effect=0`` it then
scores above chance (that is the leakage the group split exists to remove;
``stations_per_event=(1, 1)`` makes every window independent instead).

The precursor
-------------
Class 1 carries, over its last ``PRECURSOR_DAYS`` days (onset jittered by
+-11 h, switched on over ~12 h), a precursor whose strength is ``effect`` times
a per-event factor (event size, log-normal, median 1) times a per-station
factor (distance to the epicentre, 0.7 ... 1):

* the H level sinks by ``PRECURSOR_LEVEL_NT`` (100 nT at strength 1) and stays
  down to the end of the window: a slow bay, unlike a storm's fast main phase
  and recovery;
* the ULF amplitude grows by a factor ``1 + PRECURSOR_ULF_GAIN * strength``
  (x3 at strength 1); the red spectrum means this also amplifies the
  10 min ... hours variation;
* the daily variation weakens by ``PRECURSOR_SQ_DROP * strength`` (25 %).

In Z the precursor raises the level (50 nT at strength 1), grows the ULF faster than in H
(the Z/H ULF ratio doubles at strength 1: the polarisation ratio that ULF precursor studies
report) and weakens Sq as in H. D carries no precursor: lithospheric sources are thought to
show in the vertical field and in Z/H, and D is left as the control channel that only the
external field moves (:mod:`seismag.synth.field` holds these numbers).

``effect=0`` adds nothing, so both classes are the same distribution. The
default is far larger than precursors reported in real records: it is sized so
that the SPEC's models, fed per-feature standardised values, learn it within a
few epochs on the 'quick' preset (validation F1 about 0.9 to 0.97 under a
group split), while storms that mimic it keep it from being trivial. Band power
alone (a precursor made only of ULF enhancement) was too subtle for them.

Reproducibility
---------------
All randomness comes from :func:`numpy.random.default_rng` seeded by
:class:`numpy.random.SeedSequence` entropy ``(seed, purpose, window_days,
label, chunk)``: windows and classes are independent, rows are generated in
chunks whose size depends only on the row length (bounded memory, the same
bytes whoever asks), and the same seed gives the same bytes.
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from seismag import defaults
from seismag.errors import ConfigError, DataError
from seismag.io import write_json
from seismag.layout.dataset_info import DATASET_FILE, DatasetInfo, dataset_info_path
from seismag.layout.seed import ClassRows, window_dir, write_window
from seismag.lock import folder_lock
from seismag.synth.field import (COMPONENT_UNITS, COMPONENTS, DEFAULT_EFFECT, PRECURSOR_DAYS,
                                 PRECURSOR_RAMP_HOURS, check_components, check_effect, check_precursor_channels,
                                 d_channel, h_channel, sq_day_factor, station_field,
                                 station_level, z_channel)
from seismag.synth.noise import ULF_QUIET_RMS_NT, add_instrument_faults, interp_nodes, random_stream, red_noise
from seismag.synth.stations import (EPOCH, MINUTES_PER_DAY, ChannelBaselines, StationTable, draw_channel_baselines,
                                    draw_stations)
from seismag.synth.storms import STORM_PAD_DAYS, draw_storms, render_storms

__all__ = ["COMPONENTS", "DEFAULT_EFFECT", "PRESETS", "generate_dataset", "generate_window"]

# The columns of the meta.csv it writes (generate_window returns them per row).
META_COLUMNS = ("station", "event_id", "window_start")

# window_days -> (n_class0, n_class1). 'paper' follows SPEC.md (window 7: 1661 / 999;
# window 14: 2.27:1); 'quick' keeps the ratios at a size the demo trains in minutes.
PRESETS: dict[str, dict[int, tuple[int, int]]] = {
    "quick": {7: (120, 72), 14: (125, 55), 30: (100, 50)},
    "paper": {7: (1661, 999), 14: (1500, 661), 30: (1000, 500)},
}

# --- the windows' settings (the physics they draw from: stations, storms, field, noise) ----

CALENDAR_DAYS = 1461  # four years of dates from EPOCH (00:00 UT) to draw windows from
LOCAL_ARRAY_HALF_WIDTH_KM = 10.0  # the windows' stations lie within +-10 km of the centre

NAN_ROW_SHARE = 0.10  # rows with one to three gaps of 1-10 minutes
SPIKE_ROW_SHARE = 0.10  # rows with one to three single-sample spikes

DEFAULT_N_STATIONS = 8
DEFAULT_STATIONS_PER_EVENT = (2, 5)  # inclusive range of stations that record one event

# Rows generated together: about this many values (a few float64 arrays of 8 MB),
# a function of the row length only, so bytes never depend on the caller.
_CHUNK_VALUES = 1 << 20
_MAX_CHUNK_ROWS = 64

# SeedSequence purposes: never reuse a number for a new purpose (seismag.synth.records uses 20+).
_SEED_STATIONS, _SEED_STORMS, _SEED_CALENDAR, _SEED_PLAN, _SEED_ROWS = 1, 2, 3, 4, 5
_SEED_CHANNEL_BASELINES, _SEED_CHANNEL_ROWS = 6, 7


# --- the windows' world: stations, storms, calendar ------------------------------------


@functools.lru_cache(maxsize=8)
def _stations(seed: int, n_stations: int) -> StationTable:
    """A dense local array (stations within ~10 km), as precursor studies use.

    Absolute H is ~30,000 nT and differs between stations by tens of nT (the
    latitude gradient of ~3 nT/km plus crustal anomalies). A regional network
    spread over degrees would differ by thousands of nT: far more than any
    precursor, and then a model fed per-feature standardised values sees
    mostly which station a row came from.
    """
    codes = tuple(f"ST{i + 1:02d}" for i in range(n_stations))
    return draw_stations(random_stream(seed, _SEED_STATIONS, n_stations), codes, LOCAL_ARRAY_HALF_WIDTH_KM)


@functools.lru_cache(maxsize=8)
def _channel_baselines(seed: int, n_stations: int) -> ChannelBaselines:
    """The D and Z baselines of :func:`_stations` (a stream of their own, so H stays as it was)."""
    return draw_channel_baselines(random_stream(seed, _SEED_CHANNEL_BASELINES, n_stations), _stations(seed, n_stations))


@functools.lru_cache(maxsize=4)
def _disturbance_minutes(seed: int) -> np.ndarray:
    """The global storm disturbance (nT, Dst-like), one value a minute.

    Index 0 is ``STORM_PAD_DAYS`` days before EPOCH. Shared by every station, both
    classes and all window lengths: storms hit all stations on the same dates.
    """
    total_minutes = (STORM_PAD_DAYS + CALENDAR_DAYS + 2) * MINUTES_PER_DAY
    storms = draw_storms(random_stream(seed, _SEED_STORMS), total_minutes, -STORM_PAD_DAYS)
    return render_storms(storms, 0, total_minutes).astype(np.float32)


@functools.lru_cache(maxsize=4)
def _sq_day_factor(seed: int) -> np.ndarray:
    """Day-to-day change of the Sq amplitude shared by all stations (one value a day)."""
    return sq_day_factor(random_stream(seed, _SEED_CALENDAR), np.arange(CALENDAR_DAYS + 64))


# --- per-window plan: who recorded what, when -------------------------------------------


@dataclass(frozen=True)
class _Plan:
    label: int
    station: np.ndarray  # (n,) station index
    start_day: np.ndarray  # (n,) window start, days since EPOCH
    group: np.ndarray  # (n,) index into group_ids
    group_ids: tuple[str, ...]
    strength: np.ndarray  # (n,) precursor strength per unit effect
    onset_jitter_days: np.ndarray  # (n,)


def _plan(seed: int, window_days: int, label: int, n_rows: int, n_stations: int,
          stations_per_event: tuple[int, int]) -> _Plan:
    """Draw groups (an event or a reference period, several stations, shared dates).

    Both labels use this one procedure, so dates, stations and group sizes have
    the same distribution in both classes.
    """
    rng = random_stream(seed, _SEED_PLAN, window_days, label, n_stations)
    low, high = stations_per_event
    stations, starts, groups, strengths, n_groups = [], [], [], [], 0
    total = 0
    while total < n_rows:
        size = min(int(rng.integers(low, high + 1)), n_rows - total)
        start = int(rng.integers(0, CALENDAR_DAYS - window_days + 1))
        event_size = rng.lognormal(0.0, 0.25)
        stations.append(rng.choice(n_stations, size=size, replace=False))
        starts.append(np.full(size, start))
        groups.append(np.full(size, n_groups))
        strengths.append(event_size * rng.uniform(0.7, 1.0, size))  # nearer stations see more
        n_groups += 1
        total += size
    if n_rows == 0:
        stations = starts = groups = strengths = [np.zeros(0)]
    station = np.concatenate(stations).astype(np.int64)
    start_day = np.concatenate(starts).astype(np.int64)
    group = np.concatenate(groups).astype(np.int64)
    strength = np.concatenate(strengths).astype(np.float64)
    onset_jitter = rng.uniform(-0.15, 0.15, n_rows)
    # Chronological file order (then station), as a recording archive would list them.
    order = np.lexsort((station, start_day))
    prefix = "EQ" if label == 1 else "REF"
    # Number groups in order of first appearance so ids read 0001, 0002, ... down the file.
    _, first = np.unique(group[order], return_index=True)
    renumber = np.empty(n_groups, dtype=np.int64)
    renumber[group[order][np.sort(first)]] = np.arange(n_groups)
    return _Plan(
        label=label,
        station=station[order],
        start_day=start_day[order],
        group=renumber[group[order]],
        group_ids=tuple(f"{prefix}-{window_days}d-{k + 1:04d}" for k in range(n_groups)),
        strength=strength[order],
        onset_jitter_days=onset_jitter,
    )


def _meta_rows(plan: _Plan, stations: StationTable) -> list[dict]:
    return [
        {
            "station": stations.code[plan.station[i]],
            "event_id": plan.group_ids[plan.group[i]],
            "window_start": (EPOCH + _dt.timedelta(days=int(plan.start_day[i]))).isoformat(timespec="seconds"),
        }
        for i in range(plan.station.size)
    ]


# --- rows --------------------------------------------------------------------------------


def _rows(seed: int, window_days: int, steps_per_day: int, plan: _Plan, stations: StationTable,
          effect: float, chunk: int, rows: slice, components: tuple, precursor_in: tuple) -> np.ndarray:
    """Generate ``plan`` rows ``rows`` (chunk number ``chunk``): float32 (n, days * channels * spd).

    Columns in "day, channel, step" order (:data:`seismag.layout.dataset_info.FEATURE_ORDER`). H comes
    from its own random stream and D, Z from another, so a row's H is the same whichever
    other channels are asked for (and the H-only rows are those of earlier versions).
    """
    rng = random_stream(seed, _SEED_ROWS, window_days, plan.label, steps_per_day, chunk)
    station = plan.station[rows]
    start_day = plan.start_day[rows].astype(np.float64)
    n = station.size
    n_steps = window_days * steps_per_day
    step_days = 1.0 / steps_per_day
    t_in_window = np.arange(n_steps) * step_days  # days since window start, (L,)
    t_abs = start_day[:, None] + t_in_window[None, :]  # days since EPOCH, (n, L)

    # Baseline, secular variation, instrumental drift (linear + 3-hourly random walk).
    level = _window_level(rng, stations.baseline_nt[station], stations.secular_nt_per_year[station],
                          t_abs, t_in_window, window_days, 0.4, 0.5)
    shared_days = _sq_day_factor(seed)[plan.start_day[rows][:, None] + np.arange(window_days + 1)[None, :]]
    own_days = np.exp(rng.normal(0.0, 0.1, (n, window_days + 1)))
    day_factor = interp_nodes(shared_days * own_days, t_in_window)
    disturbance = _sample_disturbance(seed, t_abs)
    ulf_rms = ULF_QUIET_RMS_NT * rng.lognormal(0.0, 0.2, n)[:, None]
    field = station_field(stations, station, t_abs, day_factor, disturbance, ulf_rms, steps_per_day)

    # Precursor (class 1 only): smooth switch-on over the last days.
    strength = None
    if plan.label == 1 and effect > 0.0:
        precursor_days = min(PRECURSOR_DAYS, 0.5 * window_days)
        onset = window_days - precursor_days * (1.0 + plan.onset_jitter_days[rows])
        ramp = 0.5 * (1.0 + np.tanh((t_in_window[None, :] - onset[:, None]) * 24.0 / PRECURSOR_RAMP_HOURS))
        strength = effect * plan.strength[rows][:, None] * ramp

    h_strength, z_strength = (strength if channel in precursor_in else None for channel in "HZ")
    values = {"H": h_channel(level, field, h_strength, red_noise(rng, n, n_steps, steps_per_day))}
    extra = None
    if components != ("H",):
        extra = random_stream(seed, _SEED_CHANNEL_ROWS, window_days, plan.label, steps_per_day, chunk)
        table = _channel_baselines(seed, len(stations.code))
        # Every extra channel is drawn, asked for or not, so each is the same in any selection.
        level_d = _window_level(extra, table.d_baseline_arcmin[station], table.d_secular_arcmin_per_year[station],
                                t_abs, t_in_window, window_days, 0.02, 0.03)
        level_z = _window_level(extra, table.z_baseline_nt[station], table.z_secular_nt_per_year[station],
                                t_abs, t_in_window, window_days, 0.3, 0.4)
        values["D"] = d_channel(level_d, field, red_noise(extra, n, n_steps, steps_per_day))
        values["Z"] = z_channel(level_z, field, z_strength, red_noise(extra, n, n_steps, steps_per_day))
        values["F"] = np.hypot(values["H"], values["Z"])  # before spikes: F is its own instrument
    add_instrument_faults(values, steps_per_day, rng, extra, spike_share=SPIKE_ROW_SHARE, gap_share=NAN_ROW_SHARE)
    return _day_channel_step([values[name] for name in components], window_days).astype(np.float32)


def _day_channel_step(channels: list[np.ndarray], window_days: int) -> np.ndarray:
    """``C`` arrays (n, days * spd) -> (n, days * C * spd): all channels of day 1, then day 2, ..."""
    if len(channels) == 1:
        return channels[0]
    stacked = np.stack(channels, axis=1)  # (n, C, days * spd)
    n, n_channels, n_steps = stacked.shape
    by_day = stacked.reshape(n, n_channels, window_days, n_steps // window_days).transpose(0, 2, 1, 3)
    return by_day.reshape(n, n_channels * n_steps)


def _window_level(rng: np.random.Generator, baseline: np.ndarray, secular_per_year: np.ndarray,
                  t_abs: np.ndarray, t_in_window: np.ndarray, window_days: int,
                  drift_per_day: float, walk_step: float) -> np.ndarray:
    """The level of (n, L) rows (:func:`~seismag.synth.field.station_level`): the drift (SD
    ``drift_per_day`` a day) and the walk's 3-hourly steps (SD ``walk_step``) drawn per row."""
    n = baseline.size
    drift = rng.normal(0.0, drift_per_day, n)
    walk_nodes = int(math.ceil(window_days * 8)) + 2
    walk = np.cumsum(rng.normal(0.0, walk_step, (n, walk_nodes)), axis=1)
    return station_level(baseline[:, None], secular_per_year[:, None], t_abs, drift[:, None], t_in_window, walk)


def _sample_disturbance(seed: int, t_abs_days: np.ndarray) -> np.ndarray:
    grid = _disturbance_minutes(seed)
    minutes = (t_abs_days + STORM_PAD_DAYS) * MINUTES_PER_DAY
    whole = np.rint(minutes)
    if np.allclose(minutes, whole, rtol=0.0, atol=1e-6):
        return grid[whole.astype(np.int64)].astype(np.float64)
    return np.interp(minutes, np.arange(grid.size), grid)


# --- public API --------------------------------------------------------------------------


def generate_window(
    window_days: int,
    n_class0: int,
    n_class1: int,
    *,
    seed: int = 42,
    effect: float | None = None,
    steps_per_day: int = defaults.STEPS_PER_DAY,
    n_stations: int = DEFAULT_N_STATIONS,
    stations_per_event: tuple[int, int] = DEFAULT_STATIONS_PER_EVENT,
    components: Sequence[str] | None = None,
    precursor_in: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Generate one window's samples in memory.

    Parameters
    ----------
    window_days : int
        Days per sample.
    n_class0, n_class1 : int
        Samples without / with a following earthquake.
    seed : int
        Non-negative; same seed, same values (bit for bit).
    effect : float, optional
        Precursor strength, >= 0; ``None`` means :data:`DEFAULT_EFFECT`. 0 makes
        both classes one distribution.
    steps_per_day : int
        Samples a day (1440: one a minute).
    n_stations : int
        Stations in the network.
    stations_per_event : (int, int)
        Inclusive range of how many stations record one event (or one
        reference period for class 0).
    components : sequence of str, optional
        Channels of a row, in order, among H, D, Z, F (any case); None means H.
    precursor_in : sequence of str, optional
        Channels carrying the precursor, among H, Z (None: both); ``["Z"]``: Z alone (F follows).

    Returns
    -------
    X : ndarray, float32, shape (n_class0 + n_class1, window_days * n_channels * steps_per_day)
        Class-0 rows first; columns in "day, channel, step" order (all channels of day 1,
        then day 2, ...). H, Z, F in nT, D in arc-minutes. May hold short NaN gaps (in
        every channel at once).
    y : ndarray, int64, shape (n_class0 + n_class1,)
    meta : list of dict
        One per row: ``station``, ``event_id`` (``EQ-...`` for class 1, shared by
        the stations that recorded one event; ``REF-...`` for the class-0
        groups recorded on shared dates), ``window_start`` (ISO, 00:00 UT).
    """
    effect = _check(window_days, steps_per_day, seed, effect, n_stations, stations_per_event)
    components = check_components(components)
    precursor_in = check_precursor_channels(precursor_in, components)
    for name, count in (("n_class0", n_class0), ("n_class1", n_class1)):
        if not isinstance(count, (int, np.integer)) or count < 0:
            raise ConfigError(f"{name} must be a non-negative integer, got {count!r}")
    stations = _stations(int(seed), int(n_stations))
    blocks, labels, meta = [], [], []
    for label, count in ((0, int(n_class0)), (1, int(n_class1))):
        plan = _plan(int(seed), int(window_days), label, count, int(n_stations), tuple(stations_per_event))
        blocks.extend(_iter_chunks(int(seed), int(window_days), int(steps_per_day), plan, stations, effect,
                                   components, precursor_in))
        labels.append(np.full(count, label, dtype=np.int64))
        meta.extend(_meta_rows(plan, stations))
    n_features = int(window_days) * len(components) * int(steps_per_day)
    X = np.concatenate(blocks, axis=0) if blocks else np.zeros((0, n_features), dtype=np.float32)
    return X, np.concatenate(labels), meta


def _check_out_dir(out: Path, windows: tuple[int, ...], overwrite: bool) -> None:
    """The overwrite rule of ``build`` (:func:`seismag.dataset.build.write.check_out_dir`) for
    the folders a synthetic dataset writes, and its ``dataset.json``."""
    if out.exists() and not out.is_dir():
        raise DataError(out, "the output path exists and is not a folder")
    if overwrite:
        return
    present = [window_dir(out, w).name for w in windows if window_dir(out, w).exists()]
    present += [DATASET_FILE] if dataset_info_path(out).exists() else []
    if present:
        raise DataError(out, f"already holds {', '.join(present)} of a dataset; "
                             "choose another folder or overwrite (overwrite=True / --overwrite)")


def generate_dataset(
    out_dir: str | os.PathLike,
    preset: str = "quick",
    seed: int = 42,
    effect: float | None = None,
    windows: tuple[int, ...] = defaults.WINDOWS,
    steps_per_day: int = defaults.STEPS_PER_DAY,
    *,
    n_stations: int = DEFAULT_N_STATIONS,
    stations_per_event: tuple[int, int] = DEFAULT_STATIONS_PER_EVENT,
    components: Sequence[str] | None = None,
    precursor_in: Sequence[str] | None = None,
    overwrite: bool = False,
) -> dict:
    """Write a synthetic dataset in the seed layout.

    Writes ``out_dir/window-{N}/data_0.npy`` and ``data_1.npy`` (float32,
    ``(n_samples, N * steps_per_day + 1)``, label 0.0 / 1.0 in the last column)
    and ``meta.csv`` (``station,event_id,window_start``, one row per sample in
    file order: class 0 then class 1), through
    :func:`seismag.layout.seed.write_window`, the writer ``build`` uses
    too. Every file is written atomically; rows are generated in chunks, so
    memory stays bounded for the 'paper' preset.

    ``components`` (channels among H, D, Z, F, in row order; see :func:`generate_window`)
    makes each row ``N * len(components) * steps_per_day`` wide and adds
    ``out_dir/dataset.json`` (:class:`seismag.layout.dataset_info.DatasetInfo`: channels, units,
    steps_per_day, the stations' coordinates, these settings, no recipe, no activity
    columns). Left at None the folder holds H alone and no ``dataset.json``, byte for
    byte what earlier versions wrote; ``components=["H"]`` writes the same rows plus
    the description. ``precursor_in``: see :func:`generate_window` (in ``dataset.json`` when given).

    A ``window-{N}`` folder this call would write, or a ``dataset.json``, that already
    exists in ``out_dir`` is an error (a :class:`~seismag.errors.DataError`, before
    anything is written) unless ``overwrite``, as for ``build``; then an old
    ``dataset.json`` is replaced, or removed when this call writes none. Other files in
    ``out_dir`` are never touched.

    Returns
    -------
    dict
        ``{"preset", "seed", "effect", "steps_per_day", "channels", "out_dir", "windows":
        {"7": {"n_class0", "n_class1", "n_features", "n_events", "path"}, ...}}``.
    """
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose from: {', '.join(sorted(PRESETS))}")
    sizes = PRESETS[preset]
    windows = tuple(windows)
    if not windows:
        raise ConfigError("windows must name at least one window length")
    for window_days in windows:
        if window_days not in sizes:
            raise ConfigError(
                f"preset {preset!r} has no sizes for a {window_days}-day window; "
                f"it has {', '.join(str(w) for w in sorted(sizes))}"
            )
    checked = [_check(w, steps_per_day, seed, effect, n_stations, stations_per_event) for w in windows]
    effect = checked[0]
    stations_per_event = (int(stations_per_event[0]), int(stations_per_event[1]))
    described = components is not None
    components = check_components(components)
    planted, precursor_in = precursor_in is not None, check_precursor_channels(precursor_in, components)

    out = Path(out_dir)
    _check_out_dir(out, windows, overwrite)
    stations = _stations(int(seed), int(n_stations))
    summary: dict = {"preset": preset, "seed": int(seed), "effect": effect, "steps_per_day": int(steps_per_day),
                     "channels": list(components), "out_dir": str(out), "windows": {}}
    # One writer at a time: two synths into one folder would mix their windows.
    with folder_lock(out, command="synth"):
        for window_days in windows:
            folder = window_dir(out, window_days)
            n_features = window_days * len(components) * steps_per_day
            counts = sizes[window_days]
            plans = [_plan(int(seed), window_days, label, count, int(n_stations), stations_per_event)
                     for label, count in enumerate(counts)]
            write_window(
                folder,
                n_features,
                [ClassRows(count, _iter_chunks(int(seed), window_days, int(steps_per_day), plan, stations, effect,
                                               components, precursor_in))
                 for count, plan in zip(counts, plans)],
                META_COLUMNS,
                [[row[column] for column in META_COLUMNS] for plan in plans for row in _meta_rows(plan, stations)],
            )
            summary["windows"][str(window_days)] = {
                "n_class0": counts[0],
                "n_class1": counts[1],
                "n_features": n_features,
                "n_events": len(plans[1].group_ids),
                "path": str(folder),
            }
        settings = {"generator": "seismag.synth.windows", "preset": preset, "seed": int(seed), "effect": effect,
                    "windows": list(windows), "steps_per_day": int(steps_per_day), "n_stations": int(n_stations),
                    "stations_per_event": list(stations_per_event), "components": list(components),
                    **({"precursor_in": list(precursor_in)} if planted else {})}
        if described:
            write_json(dataset_info_path(out), _dataset_info(components, int(steps_per_day), stations,
                                                             settings).to_dict())
        elif dataset_info_path(out).exists():  # overwrite: an H-only folder has no description
            dataset_info_path(out).unlink()
    return summary


def _dataset_info(components: tuple[str, ...], steps_per_day: int, stations: StationTable,
                  settings: dict) -> DatasetInfo:
    """The ``dataset.json`` of synthetic windows: raw channels, no recipe, no activity columns."""
    return DatasetInfo(
        channels=components,
        units=tuple(COMPONENT_UNITS[c] for c in components),
        steps_per_day=steps_per_day,
        stations={code: {"latitude": round(float(lat), 6), "longitude": round(float(lon), 6)}
                  for code, lat, lon in zip(stations.code, stations.latitude_deg, stations.longitude_deg)},
        build=settings,
        recipe=(),
        activity_columns=(),
    )


# --- helpers -----------------------------------------------------------------------------


def _iter_chunks(seed: int, window_days: int, steps_per_day: int, plan: _Plan, stations: StationTable,
                 effect: float, components: tuple[str, ...], precursor_in: tuple[str, ...]) -> Iterator[np.ndarray]:
    n_rows = plan.station.size
    # Chunks follow one channel's row length, so H is the same whatever the channels.
    chunk_rows = max(1, min(_MAX_CHUNK_ROWS, _CHUNK_VALUES // (window_days * steps_per_day)))
    for chunk, begin in enumerate(range(0, n_rows, chunk_rows)):
        rows = slice(begin, min(begin + chunk_rows, n_rows))
        yield _rows(seed, window_days, steps_per_day, plan, stations, effect, chunk, rows, components, precursor_in)



def _check(window_days: int, steps_per_day: int, seed: int, effect: float | None, n_stations: int,
           stations_per_event: tuple[int, int]) -> float:
    """Validate the common arguments; return the effect as a float."""
    if not isinstance(window_days, (int, np.integer)) or window_days < 1:
        raise ConfigError(f"window_days must be a positive integer, got {window_days!r}")
    if not isinstance(steps_per_day, (int, np.integer)) or steps_per_day < 1:
        raise ConfigError(f"steps_per_day must be a positive integer, got {steps_per_day!r}")
    if window_days >= CALENDAR_DAYS:
        raise ConfigError(f"window_days must be below {CALENDAR_DAYS}, got {window_days}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    effect = check_effect(effect)
    if not isinstance(n_stations, (int, np.integer)) or n_stations < 1:
        raise ConfigError(f"n_stations must be a positive integer, got {n_stations!r}")
    try:
        low, high = (int(v) for v in stations_per_event)
    except (TypeError, ValueError):
        raise ConfigError(f"stations_per_event must be two integers (low, high), got {stations_per_event!r}") from None
    if not 1 <= low <= high <= n_stations:
        raise ConfigError(
            f"stations_per_event must satisfy 1 <= low <= high <= n_stations ({n_stations}), got {stations_per_event!r}"
        )
    return effect