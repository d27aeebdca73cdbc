"""Continuous synthetic observatory records: IAGA-2002 files, a catalog and what was planted.

Why this module is long: one plan (stations, storms, events, coinciding storms) drives four
outputs (the station-months, the catalog, the activity indices and ``records.json``), and
each must agree with it to the minute; split up, every piece would need the whole plan. The
events and the catalog's rows are drawn in :mod:`seismag.synth.earthquakes`.

What :func:`generate_records` writes into ``DIR``::

    DIR/observatory/{CODE}{YYYYMM}vmin.min   IAGA-2002, one file per station and calendar
                                            month: H, D, Z, F at 1-minute, 99999.00 in gaps
    DIR/catalog.csv                         the earthquakes, USGS ComCat columns
    DIR/indices/kp.csv                      3-hourly Kp (the shared GFZ CSV layout)
    DIR/indices/dst.dat                     hourly Dst (WDC exchange format, as Kyoto's)
    DIR/indices/ssc/ssc_YYYY_d.txt          sudden commencements (ISGI yearly lists)
    DIR/records.json                        what was planted: settings, stations, events,
                                            storms (the coinciding ones marked), files

The index files go through the writers of :mod:`seismag.sources.indices`. Dst is the hourly
mean of the global disturbance every station's H follows (scaled by ~0.9): the storms plus
a quiet-time wander of ~5 nT (hours to a day), so a storm of depth ``d`` nT reaches
Dst ~ -d; Kp comes from the same disturbance: an ap-like amplitude
(a quiet level of ~4, 0.6 per nT of the 3-hour mean depression, 3 per nT/h of its fastest
hourly change beyond 3 nT/h) turned into the Kp step whose ap equivalent it reaches, so a main phase
gives Kp 5-8 and quiet days 0-2. The SSC list holds the storms with a sudden commencement
(its amplitude the global step, for all five list stations). The indices cover the
record's days only; an SSC list's title names a whole year, as the real lists do.

``seismag build --observatory DIR/observatory --catalog DIR/catalog.csv`` turns them into
windows, so the whole path from raw records to a score can be checked against a known
answer.

One file per station-month, as observatories publish minute data (``BOU201601vmin.min``):
a year of eight stations is 96 files of ~3 MB, not 2,920 day files, and a month is the
unit the generator holds in memory (one station-month at a time, a few MB whatever the
length of the record or the number of stations).

The physics is the window generator's (:mod:`seismag.synth.windows`), drawn from the
same functions: the station table (:mod:`~seismag.synth.stations`), the storms (sudden
commencement, main phase, recovery; one global disturbance shared by all stations:
:mod:`~seismag.synth.storms`), Sq with its seasonal and day-to-day change, the H, D and Z
channels and their precursor (:mod:`~seismag.synth.field`), red ULF noise whose amplitude
follows the storms, spikes and short gaps (:mod:`~seismag.synth.noise`). What differs is
what a continuous record needs:

* the stations form a regional network (+-150 km around 35 N 139 E, so an event's
  Dobrovolsky radius ``10 ** (0.43 M)`` km reaches some of them and not others), with
  baselines that differ by hundreds of nT as real ones do;
* drift is one random walk (3-hourly nodes) and a slow linear trend over the whole record,
  and the ULF noise is a sum of overlapping segments (sine windows whose squares add to
  one), so nothing jumps at a month boundary and a minute's value does not depend on how
  the record is cut into files;
* spikes and gaps are drawn per station-day (5 % of days each), a gap stopping every
  channel.

Earthquakes and storms
----------------------
Events (M 5.5 ... 6.8, Gutenberg-Richter with b = 1, one per ~10 days) are placed one per
slot over the record, each at a random distance up to 1.2 radii from a station chosen at
random, so most have stations within their radius and a few have none. The catalog adds
small background earthquakes (M 2.5 ... 4.4, none of them carries a precursor), two of
them in the first and the last hour of the catalog's span, which runs ``lead_days`` past
the record's end: ``read_catalog`` takes a file's span from its first and last row, and
the last windows of the record need a label horizon inside it.

A fraction ``storm_coincidence`` of the events (chosen at random) gets an extra storm,
drawn like every other, whose onset lies in the ``lead_days`` before the event: with
``effect=0`` and ``storm_coincidence=1`` the windows before events differ from the others
only by those storms, the known answer of a confound check.

``effect`` (>= 0) sets the precursor at every station within an event's radius, from
``PRECURSOR_DAYS`` (+-15 %) before the event to its origin time (switched on over 12 h,
off over 12 h after it): strength ``effect`` x event size (log-normal, median 1) x
``1 - 0.3 * distance / radius``; what it does to H and Z (D is left alone) is described in
:mod:`seismag.synth.field`. It draws nothing at random, so records with ``effect=0``
and with ``effect>0`` differ only there.

Reproducibility: every random draw comes from a :class:`numpy.random.SeedSequence` keyed
by ``(seed, purpose, ...)``; the same settings give the same bytes.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seismag import defaults
from seismag.sources.iaga import write_iaga2002
from seismag.sources.indices.dst import write_dst_wdc
from seismag.sources.indices.kp import write_kp_csv
from seismag.sources.indices.ssc import write_ssc_list
from seismag.errors import ConfigError, DataError
from seismag.io import make_folder, write_json
from seismag.lock import folder_lock
from seismag.synth.earthquakes import PlantedEvent, draw_events, event_margin_days, write_catalog
from seismag.synth.field import (PRECURSOR_RAMP_HOURS, check_effect, d_channel, h_channel, sq_day_factor, station_field,
                                 station_level, z_channel)
from seismag.synth.noise import ULF_QUIET_RMS_NT, add_instrument_faults, interp_nodes, random_stream, red_noise
from seismag.synth.stations import (EPOCH, MINUTES_PER_DAY, ChannelBaselines, StationTable, draw_channel_baselines,
                                    draw_stations)
from seismag.synth.storms import STORM_PAD_DAYS, Storm, draw_storm, draw_storms, render_storms

__all__ = ["RECORDS_FILE", "generate_records"]

RECORDS_FILE = "records.json"
RECORDS_FORMAT = "seismag-synthetic-records"
OBSERVATORY_FOLDER = "observatory"
CATALOG_FILE = "catalog.csv"
INDICES_FOLDER = "indices"
KP_FILE, DST_FILE, SSC_FOLDER = "indices/kp.csv", "indices/dst.dat", "indices/ssc"

DEFAULT_DAYS = 90
DEFAULT_N_STATIONS = 6
DEFAULT_START = "2020-01-01"

NETWORK_HALF_WIDTH_KM = 150.0
_PRECURSOR_END_HOURS = 12.0  # switched off over this long after the origin time

QUIET_RING_CURRENT_NT = 5.0  # SD of the quiet-time disturbance (a slow wander of Dst about 0)
QUIET_RING_CURRENT_HOURS = 12.0  # its correlation time
DRIFT_NT_PER_DAY = 0.02  # linear instrument drift, SD (a continuous record is baseline-controlled)
SPIKE_DAY_SHARE = 0.05
GAP_DAY_SHARE = 0.05
_NOISE_SEGMENT_MIN = 1 << 14  # 11.4 days; segments of twice this overlap by half

# Kp from the disturbance: an ap-like amplitude from the 3-hour level and rate of change,
# then the Kp step whose ap equivalent it reaches (Kp in thirds: 0, 0.333, ..., 9).
AP_OF_KP_STEP = np.array([0, 2, 3, 4, 5, 6, 7, 9, 12, 15, 18, 22, 27, 32, 39, 48, 56, 67, 80, 94, 111, 132,
                          154, 179, 207, 236, 300, 400], dtype=np.float64)
AP_QUIET = 4.0
AP_PER_NT = 0.6  # per nT of (negative) 3-hour mean disturbance
AP_PER_NT_PER_HOUR = 3.0  # per nT/h of its fastest hourly change in the interval, beyond
AP_RATE_DEADBAND_NT_PER_HOUR = 3.0  # the quiet wander's few nT/h

# SeedSequence purposes (the window generator uses 1-9).
(_SEED_STATIONS, _SEED_CHANNEL_BASELINES, _SEED_STORMS, _SEED_COINCIDENT, _SEED_EVENTS, _SEED_SLOW_TERMS,
 _SEED_NOISE, _SEED_SPIKES, _SEED_KP, _SEED_BACKGROUND, _SEED_SHARED_DAYS, _SEED_PLACES,
 _SEED_QUIET) = range(20, 33)


# --- the plan: stations, storms, events --------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    start: np.datetime64  # first minute of the record (00:00 UT)
    days: int
    stations: StationTable
    elevation_m: np.ndarray
    storms: list[Storm]  # onsets in minutes of the storm grid (STORM_PAD_DAYS before the start)
    coinciding: dict  # storm index -> event index
    events: list[PlantedEvent]
    quiet_nodes: np.ndarray  # quiet-time disturbance (nT) at every hour of the record, and one more

    @property
    def start_day(self) -> int:
        return _days_since_epoch(self.start)

    @property
    def pad_minutes(self) -> int:
        return STORM_PAD_DAYS * MINUTES_PER_DAY

    def time(self, minute: float) -> np.datetime64:
        return self.start + np.timedelta64(int(round(minute)), "m")


def _plan(seed: int, days: int, n_stations: int, start: np.datetime64, storm_coincidence: float,
          lead_days: int) -> _Plan:
    codes = tuple(f"S{i + 1:02d}" for i in range(n_stations))
    stations = draw_stations(random_stream(seed, _SEED_STATIONS, n_stations), codes, NETWORK_HALF_WIDTH_KM)
    elevation_m = random_stream(seed, _SEED_PLACES, n_stations).uniform(5.0, 400.0, n_stations)
    pad = STORM_PAD_DAYS * MINUTES_PER_DAY
    storms = draw_storms(random_stream(seed, _SEED_STORMS), pad + (days + 2) * MINUTES_PER_DAY,
                         _days_since_epoch(start) - STORM_PAD_DAYS)
    events = draw_events(random_stream(seed, _SEED_EVENTS, n_stations), stations, days, lead_days)
    # Storms that coincide with events: onset within the lead window before the event.
    rng = random_stream(seed, _SEED_COINCIDENT)
    chosen = np.sort(rng.permutation(len(events))[: int(round(storm_coincidence * len(events)))])
    coinciding = {}
    for index in chosen.tolist():
        event = events[index]
        onset = rng.uniform(event.minute - lead_days * MINUTES_PER_DAY, event.minute - 720)
        coinciding[len(storms)] = index
        storms.append(draw_storm(rng, int(onset) + pad))
    return _Plan(start, days, stations, elevation_m, storms, coinciding, events, _quiet_nodes(seed, days))


def _days_since_epoch(start: np.datetime64) -> int:
    """Days from the synthetic world's EPOCH (its solar cycle and seasons) to ``start``."""
    return int((start.astype("datetime64[D]") - np.datetime64(EPOCH.date(), "D")).astype(np.int64))


def _quiet_nodes(seed: int, days: int) -> np.ndarray:
    """An Ornstein-Uhlenbeck wander (SD ``QUIET_RING_CURRENT_NT``) at hourly nodes: quiet Dst is not 0."""
    rng = random_stream(seed, _SEED_QUIET)
    keep = math.exp(-1.0 / QUIET_RING_CURRENT_HOURS)
    shocks = rng.normal(0.0, QUIET_RING_CURRENT_NT, days * 24 + 2)
    nodes = np.empty_like(shocks)
    nodes[0] = shocks[0]
    for k in range(1, nodes.size):
        nodes[k] = keep * nodes[k - 1] + math.sqrt(1.0 - keep * keep) * shocks[k]
    return nodes


def _disturbance(plan: _Plan, first: int, count: int) -> np.ndarray:
    """The global disturbance (nT) at record minutes ``first ...``: storms plus the quiet wander."""
    hours = np.arange(first, first + count, dtype=np.float64) / 60.0
    quiet = interp_nodes(plan.quiet_nodes[None, :], hours)[0]
    return render_storms(plan.storms, plan.pad_minutes + first, count) + quiet


# --- one station-month -------------------------------------------------------------------


@dataclass(frozen=True)
class _SlowStationTerms:
    """The slow terms one station draws once for the whole record (a few values a day): its
    instrument drift and baseline walk per component, its Sq day factor and its quiet ULF level."""

    walk: dict  # component -> (days * 8 + 2,) random walk at 3-hourly nodes (nT; arc-minutes for D)
    drift_per_day: dict  # component -> linear drift per day (nT; arc-minutes for D)
    day_factor_nodes: np.ndarray  # (days + 1,) Sq day factor (shared x own), one node a day
    ulf_rms: float  # quiet ULF level, nT RMS


def _draw_slow_terms(seed: int, station: int, days: int, shared_days: np.ndarray) -> _SlowStationTerms:
    """``station``'s slow terms; ``shared_days`` is the Sq day factor all stations share."""
    rng = random_stream(seed, _SEED_SLOW_TERMS, station)
    nodes = days * 8 + 2
    walk, drift = {}, {}
    for component, (drift_sd, walk_sd) in (("H", (DRIFT_NT_PER_DAY, 0.5)), ("D", (0.002, 0.03)),
                                           ("Z", (0.015, 0.4))):
        drift[component] = float(rng.normal(0.0, drift_sd))
        walk[component] = np.cumsum(rng.normal(0.0, walk_sd, nodes))
    own = np.exp(rng.normal(0.0, 0.1, days + 1))
    return _SlowStationTerms(walk, drift, shared_days * own, ULF_QUIET_RMS_NT * float(rng.lognormal(0.0, 0.2)))


def _shared_day_factor(seed: int, start_day: int, days: int) -> np.ndarray:
    """Day-to-day Sq change shared by the stations, (days + 1,), as the windows' calendar."""
    return sq_day_factor(random_stream(seed, _SEED_SHARED_DAYS), start_day + np.arange(days + 1))


def _continuous_noise(seed: int, station: int, component: int, first: int, count: int) -> np.ndarray:
    """Unit-RMS red noise at minutes ``first ... first + count - 1`` of one station's record.

    A sum of segments of ``2 S`` minutes starting every ``S``, each weighted by a sine window
    (``sin^2 + cos^2 = 1`` keeps the variance), so any slice of the record gets the same values.
    """
    span = _NOISE_SEGMENT_MIN
    out = np.zeros(count, dtype=np.float64)
    for k in range(first // span - 1, (first + count - 1) // span + 1):
        begin, end = max(k * span, first), min((k + 2) * span, first + count)
        if begin >= end:
            continue
        stream = random_stream(seed, _SEED_NOISE, station, component, k + 1)
        segment = red_noise(stream, 1, 2 * span, MINUTES_PER_DAY)[0]
        u = np.arange(begin - k * span, end - k * span)
        out[begin - first: end - first] += np.sin(np.pi * u / (2 * span)) * segment[u]
    return out


def _precursor_strength(plan: _Plan, station: int, minutes: np.ndarray, effect: float) -> np.ndarray | None:
    """(1, L) precursor strength at ``station``, or None when nothing reaches it in these minutes."""
    if effect <= 0.0:
        return None
    ramp = PRECURSOR_RAMP_HOURS * 60.0
    total = None
    for event in plan.events:
        strength = event.strength()[station]
        ends = event.minute + 60.0 * _PRECURSOR_END_HOURS
        if strength <= 0.0 or minutes[-1] < event.onset_minute - ramp or minutes[0] > ends:
            continue
        on = _smoothstep((minutes - (event.onset_minute - 0.5 * ramp)) / ramp)
        off = _smoothstep((minutes - event.minute) / (60.0 * _PRECURSOR_END_HOURS))
        part = effect * strength * on * (1.0 - off)
        total = part if total is None else total + part
    return None if total is None else total[None, :]


def _smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, a smooth S between: the precursor starts and ends exactly."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _station_month(seed: int, plan: _Plan, station: int, own: _SlowStationTerms, baselines: ChannelBaselines,
                   effect: float,
                   first: int, count: int, disturbance: np.ndarray, chunk: int) -> dict[str, np.ndarray]:
    """H, D, Z, F (each (count,)) of ``station`` at record minutes ``first ...``; NaN in gaps."""
    minutes = np.arange(first, first + count, dtype=np.float64)
    t_record = minutes / MINUTES_PER_DAY  # days since the record's start
    t_abs = (plan.start_day + t_record)[None, :]  # days since EPOCH, (1, L)
    index = np.array([station])
    stations = plan.stations
    field = station_field(stations, index, t_abs, interp_nodes(own.day_factor_nodes[None, :], t_record),
                          disturbance[None, :], np.array([[own.ulf_rms]]), MINUTES_PER_DAY)

    def level(component: str, baseline: float, secular: float) -> np.ndarray:
        return station_level(baseline, secular, t_abs, own.drift_per_day[component], t_record,
                             own.walk[component][None, :])

    strength = _precursor_strength(plan, station, minutes, effect)
    h = h_channel(level("H", stations.baseline_nt[station], stations.secular_nt_per_year[station]), field,
                  strength, _continuous_noise(seed, station, 0, first, count)[None, :])
    d = d_channel(level("D", baselines.d_baseline_arcmin[station],
                        baselines.d_secular_arcmin_per_year[station]),
                  field, _continuous_noise(seed, station, 1, first, count)[None, :])
    z = z_channel(level("Z", baselines.z_baseline_nt[station], baselines.z_secular_nt_per_year[station]),
                  field, strength, _continuous_noise(seed, station, 2, first, count)[None, :])
    f = np.hypot(h, z)  # before spikes: F is its own instrument
    rng = random_stream(seed, _SEED_SPIKES, station, chunk)
    by_day = count // MINUTES_PER_DAY
    add_instrument_faults({"H": h.reshape(by_day, MINUTES_PER_DAY), "D": d.reshape(by_day, MINUTES_PER_DAY),
                           "Z": z.reshape(by_day, MINUTES_PER_DAY), "F": f.reshape(by_day, MINUTES_PER_DAY)},
                          MINUTES_PER_DAY, rng, rng, spike_share=SPIKE_DAY_SHARE, gap_share=GAP_DAY_SHARE)
    return {"H": h[0], "D": d[0], "Z": z[0], "F": f[0]}


def _months(start: np.datetime64, days: int) -> list[tuple[int, int]]:
    """(first minute, minute count) of each calendar month the record touches."""
    first_day, end_day = start.astype("datetime64[D]"), start.astype("datetime64[D]") + days
    pieces, day = [], first_day
    while day < end_day:
        next_month = (day.astype("datetime64[M]") + 1).astype("datetime64[D]")
        stop = min(next_month, end_day)
        pieces.append((int((day - first_day).astype(np.int64)) * MINUTES_PER_DAY,
                       int((stop - day).astype(np.int64)) * MINUTES_PER_DAY))
        day = stop
    return pieces


# --- geomagnetic indices -------------------------------------------------------------------


def _hourly_dst(disturbance: np.ndarray) -> np.ndarray:
    """Hourly means of the global disturbance (nT, whole hours of ``disturbance``)."""
    return disturbance.reshape(-1, 60).mean(axis=1)


def _kp_from_dst(seed: int, dst_hourly: np.ndarray) -> np.ndarray:
    """(days, 8) Kp in thirds from hourly Dst: an ap-like amplitude, quiet level plus the
    3-hour mean depression and the fastest hourly change, turned into the Kp step whose
    ap equivalent it reaches."""
    quiet = AP_QUIET * random_stream(seed, _SEED_KP).lognormal(0.0, 0.4, dst_hourly.size // 3)
    change = np.abs(np.diff(dst_hourly, prepend=dst_hourly[:1])).reshape(-1, 3).max(axis=1)
    level = np.clip(-dst_hourly.reshape(-1, 3).mean(axis=1), 0.0, None)
    ap = quiet + AP_PER_NT * level + AP_PER_NT_PER_HOUR * np.clip(change - AP_RATE_DEADBAND_NT_PER_HOUR, 0.0, None)
    step = np.searchsorted(AP_OF_KP_STEP, ap, side="right") - 1
    return (step / 3.0).reshape(-1, 8)


# --- public API ------------------------------------------------------------------------------


def generate_records(
    out_dir: str | os.PathLike,
    *,
    days: int = DEFAULT_DAYS,
    n_stations: int = DEFAULT_N_STATIONS,
    start: str | _dt.date | np.datetime64 = DEFAULT_START,
    effect: float | None = None,
    seed: int = 42,
    storm_coincidence: float = 0.0,
    lead_days: int = defaults.LEAD_DAYS,
    overwrite: bool = False,
) -> dict:
    """Write continuous synthetic records, their catalog and ``records.json`` into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Created if needed. Holding ``records.json``, ``catalog.csv`` or ``observatory/``
        of an earlier run is an error (:class:`~seismag.errors.DataError`, before anything
        is written) unless ``overwrite``; then the files that run listed are replaced or
        removed, and other files are never touched.
    days : int
        Length of the record, whole days from ``start`` 00:00 UT; at least the event
        margin (``max(lead_days, 5)``) + 2.
    n_stations : int
        Stations of the network, 1 ... 99 (codes S01, S02, ...).
    start : date
        First day (anything :class:`numpy.datetime64` reads as a day).
    effect : float, optional
        Precursor strength, >= 0; None means :data:`~seismag.synth.field.DEFAULT_EFFECT`.
    seed : int
        Non-negative; the same settings give the same bytes.
    storm_coincidence : float
        Share of the events (0 ... 1) that get a storm starting in the ``lead_days`` before them.
    lead_days : int
        The lead window a coinciding storm starts in (``seismag build``'s ``--lead-days``).

    Returns
    -------
    dict
        What ``records.json`` holds: ``settings``, ``span``, ``catalog_span``,
        ``stations``, ``events``, ``storms`` and ``files`` (paths relative to ``out_dir``).
    """
    effect, start = _check(days, n_stations, start, effect, seed, storm_coincidence, lead_days)
    out = Path(out_dir)
    old_files = _check_out_dir(out, overwrite)
    plan = _plan(int(seed), int(days), int(n_stations), start, float(storm_coincidence), int(lead_days))
    settings = {"generator": "seismag.synth.records", "days": int(days), "n_stations": int(n_stations),
                "start": str(start.astype("datetime64[D]")), "effect": effect, "seed": int(seed),
                "storm_coincidence": float(storm_coincidence), "lead_days": int(lead_days)}
    with folder_lock(out, command="synth"):
        observatory = make_folder(out / OBSERVATORY_FOLDER)
        names, dst_hourly = _write_observatory(int(seed), plan, effect, observatory)
        catalog_span = write_catalog(out / CATALOG_FILE, random_stream(int(seed), _SEED_BACKGROUND), plan.time,
                                     plan.days + int(lead_days), plan.stations, plan.events)
        files = {"observatory": [f"{OBSERVATORY_FOLDER}/{name}" for name in names], "catalog": CATALOG_FILE,
                 **_write_indices(int(seed), plan, dst_hourly, out)}
        written = {name for value in files.values() for name in ([value] if isinstance(value, str) else value)}
        for stale in sorted(set(old_files) - written - {RECORDS_FILE}):
            (out / stale).unlink(missing_ok=True)
        record = _describe(plan, settings, catalog_span, files)
        write_json(out / RECORDS_FILE, record)
    return record


def _write_observatory(seed: int, plan: _Plan, effect: float, folder: Path) -> tuple[list[str], np.ndarray]:
    """One IAGA-2002 file per station-month, month by month; the hourly Dst along the way."""
    stations = plan.stations
    baselines = draw_channel_baselines(random_stream(seed, _SEED_CHANNEL_BASELINES, len(stations.code)), stations)
    shared = _shared_day_factor(seed, plan.start_day, plan.days)
    own = [_draw_slow_terms(seed, s, plan.days, shared) for s in range(len(stations.code))]
    names, dst = [], []
    for chunk, (first, count) in enumerate(_months(plan.start, plan.days)):
        disturbance = _disturbance(plan, first, count)
        dst.append(_hourly_dst(disturbance))
        month = str(plan.time(first).astype("datetime64[M]")).replace("-", "")
        for s, code in enumerate(stations.code):
            values = _station_month(seed, plan, s, own[s], baselines, effect, first, count, disturbance, chunk)
            name = f"{code}{month}vmin.min"
            write_iaga2002(folder / name, values, start=plan.time(first), iaga_code=code,
                           latitude=float(stations.latitude_deg[s]), longitude=float(stations.longitude_deg[s]),
                           elevation=round(float(plan.elevation_m[s])), station_name=f"Synthetic {code}",
                           header={"Source of Data": "seismag synthetic records", "Sensor Orientation": "HDZF"},
                           comments=[f"Synthetic, not a real record (seismag synth --records, seed {seed})",
                                     "D in arc-minutes east; H, Z, F in nT"])
            names.append(name)
    return names, np.concatenate(dst)


def _write_indices(seed: int, plan: _Plan, dst_hourly: np.ndarray, out: Path) -> dict:
    """Kp, Dst and the SSC lists of the record's days; their paths relative to ``out``."""
    make_folder(out / SSC_FOLDER)
    days = plan.start.astype("datetime64[D]") + np.arange(plan.days)
    write_dst_wdc(out / DST_FILE, days, dst_hourly.reshape(plan.days, 24))
    write_kp_csv(out / KP_FILE, days, _kp_from_dst(seed, dst_hourly))
    commencements = [(plan.time(storm.onset - plan.pad_minutes), round(storm.ssc_nt, 1)) for storm in plan.storms
                     if storm.ssc_nt > 0.0 and 0 <= storm.onset - plan.pad_minutes < plan.days * MINUTES_PER_DAY]
    commencements.sort(key=lambda item: item[0])
    ssc = []
    for year in range(int(str(days[0])[:4]), int(str(days[-1])[:4]) + 1):
        of_year = [(time, amplitude) for time, amplitude in commencements if str(time)[:4] == str(year)]
        name = f"{SSC_FOLDER}/ssc_{year}_d.txt"
        write_ssc_list(out / name, [time for time, _ in of_year], "SSC", [amplitude for _, amplitude in of_year],
                       year=year)
        ssc.append(name)
    return {"kp": KP_FILE, "dst": DST_FILE, "ssc": ssc}


def _describe(plan: _Plan, settings: dict, catalog_span, files: dict) -> dict:
    stations = plan.stations
    iso = lambda t: str(np.datetime64(t, "s"))  # noqa: E731
    storm_event = {index: plan.events[event].event_id for index, event in plan.coinciding.items()}
    event_storm = {event: index for index, event in plan.coinciding.items()}
    pad = plan.pad_minutes
    storms = []
    for index, storm in enumerate(plan.storms):
        onset = storm.onset - pad  # minutes of the record
        if onset + storm.span_min < 0 or onset >= plan.days * MINUTES_PER_DAY:
            continue
        storms.append({"index": index, "onset": iso(plan.time(onset)),
                       "main_phase_end": iso(plan.time(onset + storm.initial_min + storm.main_min)),
                       "ssc_nt": round(storm.ssc_nt, 2), "depth_nt": round(storm.depth_nt, 2),
                       "recovery_hours": round(storm.recovery_min / 60.0, 2),
                       "coincides_with": storm_event.get(index)})
    events = []
    for k, event in enumerate(plan.events):
        strength = event.strength()
        events.append({
            "id": event.event_id, "time": iso(plan.time(event.minute)), "latitude": event.latitude,
            "longitude": event.longitude, "depth_km": event.depth_km, "magnitude": event.magnitude,
            "radius_km": round(event.radius_km, 2),
            "precursor_onset": iso(plan.time(event.onset_minute)),
            "precursor_end": iso(plan.time(event.minute + 60 * _PRECURSOR_END_HOURS)),
            "stations": [{"code": stations.code[s], "distance_km": round(float(event.distance_km[s]), 2),
                          "strength": round(float(settings["effect"] * strength[s]), 4)}
                         for s in np.flatnonzero(event.within)],
            "coinciding_storm": event_storm.get(k),
        })
    return {
        "format": RECORDS_FORMAT, "version": 1, "settings": settings,
        "span": {"start": iso(plan.start), "end": iso(plan.time(plan.days * MINUTES_PER_DAY))},
        "catalog_span": {"start": iso(catalog_span[0]), "end": iso(catalog_span[1])},
        "stations": [{"code": code, "latitude": round(float(stations.latitude_deg[s]), 6),
                      "longitude": round(float(stations.longitude_deg[s]), 6),
                      "elevation_m": round(float(plan.elevation_m[s]))} for s, code in enumerate(stations.code)],
        "events": events, "storms": storms, "files": files,
    }


def _check_out_dir(out: Path, overwrite: bool) -> list[str]:
    """The files an earlier run listed (to replace); refuse them unless ``overwrite``."""
    if out.exists() and not out.is_dir():
        raise DataError(out, "the output path exists and is not a folder")
    present = [name for name in (RECORDS_FILE, CATALOG_FILE, OBSERVATORY_FOLDER, INDICES_FOLDER)
               if (out / name).exists()]
    if present and not overwrite:
        raise DataError(out, f"already holds {', '.join(present)} of synthetic records; "
                             "choose another folder or overwrite (overwrite=True / --overwrite)")
    if RECORDS_FILE not in present:
        return []
    try:
        listed = json.loads((out / RECORDS_FILE).read_text(encoding="utf-8"))["files"]
        return [name for value in listed.values() for name in ([value] if isinstance(value, str) else value)]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []  # an unreadable description: replace what this run writes, remove nothing


def _check(days, n_stations, start, effect, seed, storm_coincidence, lead_days) -> tuple[float, np.datetime64]:
    for name, value in (("days", days), ("n_stations", n_stations), ("lead_days", lead_days), ("seed", seed)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise ConfigError(f"{name} must be an integer, got {value!r}")
    if seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    if not 1 <= n_stations <= 99:
        raise ConfigError(f"n_stations must be 1 ... 99, got {n_stations}")
    if lead_days < 1:
        raise ConfigError(f"lead_days must be a positive integer, got {lead_days}")
    if days < event_margin_days(lead_days) + 2:
        raise ConfigError(f"days must be at least {event_margin_days(lead_days) + 2} (the events need "
                          f"{event_margin_days(lead_days)} days of record before them), got {days}")
    try:
        day = np.datetime64(start, "D")
        exact = np.datetime64(start, "m") == day.astype("datetime64[m]")
    except (TypeError, ValueError):
        raise ConfigError(f"start must be a date such as 2020-01-01, got {start!r}") from None
    if np.isnat(day) or not exact:
        raise ConfigError(f"start must be a date (records start at 00:00 UT), got {start!r}")
    effect = check_effect(effect)
    try:
        share = float(storm_coincidence)
    except (TypeError, ValueError):
        share = float("nan")
    if not 0.0 <= share <= 1.0:
        raise ConfigError(f"storm_coincidence must be a share between 0 and 1, got {storm_coincidence!r}")
    return effect, day.astype("datetime64[m]")
