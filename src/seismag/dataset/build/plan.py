"""Plan: which windows exist, before any label is known.

Lives here: the build's settings (checked once, read by every step), finding and reading
the station records (only the components their channels need, :mod:`.channels`), the
whole-UTC-day grid of the chosen channels (all the build keeps of a record), the
data-quality summary of each station (its incomplete days as ranges), and the candidate
windows of one length: their days (``window_start`` .. ``window_end``), the stride between them, their
missing minutes and their label horizons (``window_end`` .. ``horizon_end``); and
:func:`iso_time`, the one format of every time the build writes.

May import numpy, the standard library, :mod:`seismag.errors`, :mod:`seismag.sources.iaga`,
:mod:`seismag.sources.records` (IAGA-2002 or ImagCDF files), :mod:`seismag.layout` (the label
settings' record) and :mod:`.channels`; nothing
of the catalog (that is :mod:`.label`) and nothing that writes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from seismag.sources.iaga import StationRecord
from seismag.sources.records import read_record_header, read_station_record, station_files_in
from seismag.errors import ConfigError, DataError
from seismag.layout import label_settings

from seismag.dataset.build.channels import (RATIO_CHANNELS, channel_minutes, files_label, not_derivable, parse_components,
                       source_components)

__all__ = [
    "DEFAULT_LEAD_DAYS",
    "DEFAULT_MIN_MAGNITUDE",
    "DEFAULT_RADIUS",
    "MINUTES_PER_DAY",
    "CandidateWindows",
    "StationDays",
    "candidate_windows",
    "check_recipe",
    "check_settings",
    "day_ranges",
    "default_label_settings",
    "find_station_files",
    "iso_time",
    "label_record",
    "plan_station",
    "read_station",
    "station_days",
]

#: Default label horizon, days after the window's last day. A week is the horizon most
#: geomagnetic-precursor studies look at (ULF anomalies reported days to ~2 weeks ahead),
#: and it gives each event several class-1 windows per station at a 1-day stride.
DEFAULT_LEAD_DAYS = 7
#: Default smallest magnitude of an event that makes a window class 1.
DEFAULT_MIN_MAGNITUDE = 5.5
#: Default radius rule: each event's Dobrovolsky preparation-zone radius ``10 ** (0.43 M)`` km.
DEFAULT_RADIUS = "dobrovolsky"

MINUTES_PER_DAY = 1440


# --------------------------------------------------------------------------- settings


def check_settings(*, windows, component, min_magnitude, radius_km, radius, lead_days,
                   stride_days, max_missing, steps_per_day, components=None, max_depth_km=None) -> dict:
    """Check the build's settings; return them as the plain dict every step reads.

    Window lengths come back sorted and without repeats; ``radius_mode`` is ``'fixed'``
    (``radius_km`` given) or ``'dobrovolsky'``; ``max_depth_km`` is there only when given
    (so a build without a depth cut reports its settings as before). ``component`` (one letter) and
    ``components`` (several channels, :func:`parse_components`) are two spellings of the
    channels; give at most one (neither: H). ``channels`` is the tuple of channels and
    ``component`` their names joined by commas, as the report and ``meta.csv`` write them.
    Raises ConfigError naming the setting.
    """
    if isinstance(windows, (int, np.integer)):
        windows = (windows,)
    try:
        windows = list(windows)
        window_list = [int(n) for n in windows]
    except (TypeError, ValueError):
        raise ConfigError(f"windows must be positive whole numbers of days, got {windows!r}") from None
    if not window_list or any(n < 1 for n in window_list) or any(n != w for n, w in zip(window_list, windows)):
        raise ConfigError(f"windows must be positive whole numbers of days, got {windows!r}")
    window_list = sorted(set(window_list))
    if component is not None and components is not None:
        raise ConfigError("give component (one channel) or components (several), not both")
    if components is not None:
        channels = parse_components(components)
    else:
        component = "H" if component is None else component
        if not isinstance(component, str) or len(component.strip()) != 1 or not component.strip().isalpha():
            raise ConfigError(f"component must be one IAGA component letter (H, D, Z, F, X, Y, E, ...), "
                              f"got {component!r}")
        channels = (component.strip().upper(),)
    if not _is_number(min_magnitude) or not np.isfinite(min_magnitude):
        raise ConfigError(f"min_magnitude must be a number, got {min_magnitude!r}")
    if radius_km is not None:
        if radius not in ("dobrovolsky", "fixed"):
            raise ConfigError(f"radius must be 'dobrovolsky' or 'fixed', got {radius!r}")
        if not (_is_number(radius_km) and np.isfinite(radius_km) and radius_km > 0):
            raise ConfigError(f"radius_km must be a positive number, got {radius_km!r}")
        mode = "fixed"
    elif radius == "dobrovolsky":
        mode = "dobrovolsky"
    elif radius == "fixed":
        raise ConfigError("radius='fixed' needs radius_km")
    else:
        raise ConfigError(f"radius must be 'dobrovolsky' or 'fixed', got {radius!r}")
    for name, value in (("lead_days", lead_days), ("stride_days", stride_days)):
        if not _is_number(value) or int(value) != value or value < 1:
            raise ConfigError(f"{name} must be a whole number of days >= 1, got {value!r}")
    if max_depth_km is not None and not (_is_number(max_depth_km) and np.isfinite(max_depth_km) and max_depth_km >= 0):
        raise ConfigError(f"max_depth_km must be a number of km, 0 or more, got {max_depth_km!r}")
    if not _is_number(max_missing) or not 0.0 <= max_missing < 1.0:
        raise ConfigError(f"max_missing must be in [0, 1), got {max_missing!r}")
    if (not _is_number(steps_per_day) or int(steps_per_day) != steps_per_day or steps_per_day < 1
            or MINUTES_PER_DAY % int(steps_per_day)):
        raise ConfigError(
            f"steps_per_day must divide 1440 (the records are 1-minute), got {steps_per_day!r}"
        )
    settings = {
        "windows": window_list,
        "component": ",".join(channels),
        "min_magnitude": float(min_magnitude),
        "radius_mode": mode,
        "radius_km": float(radius_km) if radius_km is not None else None,
        "lead_days": int(lead_days),
        "stride_days": int(stride_days),
        "max_missing": float(max_missing),
        "steps_per_day": int(steps_per_day),
        "channels": channels,
    }
    if max_depth_km is not None:
        settings["max_depth_km"] = float(max_depth_km)
    return settings


def label_record(settings: Mapping) -> dict:
    """What ``dataset.json`` records of checked settings' labels (:data:`seismag.layout.LABEL_KEYS`):
    the events that made a window class 1. ``decluster`` is the build's (set after the check)."""
    return label_settings({"min_magnitude": settings["min_magnitude"], "radius": settings["radius_mode"],
                         "radius_km": settings["radius_km"], "lead_days": settings["lead_days"],
                         "max_depth_km": settings.get("max_depth_km"),
                         "decluster": bool(settings.get("decluster", False))}, "the build's settings")


def default_label_settings() -> dict:
    """The label settings of a build with every default: M >= :data:`DEFAULT_MIN_MAGNITUDE`
    within :data:`DEFAULT_RADIUS`, :data:`DEFAULT_LEAD_DAYS` days ahead, no depth cut, no
    declustering. What ``seismag skill`` judges by when nothing is recorded."""
    return label_settings({"min_magnitude": DEFAULT_MIN_MAGNITUDE, "radius": DEFAULT_RADIUS, "radius_km": None,
                         "lead_days": DEFAULT_LEAD_DAYS, "max_depth_km": None, "decluster": False},
                        "the default label settings")


def check_recipe(recipe, settings: dict | None = None) -> list[dict]:
    """The preprocessing recipe ``dataset.json`` records, as a list of plain dicts.

    A :class:`~seismag.dataset.recipe.Recipe` or its dicts, checked by the recipe module
    (every step known, every value in range) and, with ``settings``, against the
    shortest window and the steps per day (e.g. ``sq`` needs as many days as its quiet
    days). The build records it; training, predict and evaluate apply it. Raises
    ConfigError (or DataError naming the recipe) otherwise.
    """
    from seismag.dataset.recipe import Recipe

    if isinstance(recipe, Recipe):
        prepared = recipe
    else:
        if isinstance(recipe, (str, bytes, Mapping)):
            raise ConfigError(f"recipe must be a list of steps (mappings with a 'step' name), got {recipe!r}")
        try:
            steps = [dict(step) for step in recipe]
        except (TypeError, ValueError):
            raise ConfigError(f"recipe must be a list of steps (mappings with a 'step' name), got {recipe!r}") from None
        try:
            prepared = Recipe.from_dicts(steps, "recipe")
        except DataError as error:  # a setting here, not a file
            raise ConfigError(str(error)) from None
    if settings is not None and prepared:
        prepared.check(window_days=min(settings["windows"]), steps_per_day=settings["steps_per_day"])
    return prepared.to_dicts()


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- stations


def find_station_files(
    observatory: str | os.PathLike | Iterable[str | os.PathLike],
) -> tuple[dict[str, list[Path]], list[Path]]:
    """Resolve files and folders to IAGA-2002 or ImagCDF files grouped by station IAGA code.

    Folders are searched recursively; files in them that are neither IAGA-2002 nor CDF are
    returned as the second item (ignored). A file named explicitly must be IAGA-2002 or
    ImagCDF (else DataError).
    Returns ``({code: [files...]}, ignored)`` with codes sorted.
    """
    if isinstance(observatory, (str, os.PathLike)):
        observatory = [observatory]
    groups: dict[str, list[Path]] = {}
    ignored: list[Path] = []
    seen: set[Path] = set()
    items = [Path(item) for item in observatory]
    if not items:
        raise ConfigError("no observatory files or folders given")
    for item in items:
        if item.is_dir():
            files, other = station_files_in(item)
            ignored.extend(other)
        elif item.is_file():
            files = [item]
        else:
            raise DataError(item, "no such file or folder")
        for path in files:
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            header = read_record_header(path)
            groups.setdefault(header.iaga_code, []).append(path)
    if not groups:
        raise DataError(", ".join(str(i) for i in items), "no IAGA-2002 or ImagCDF files found")
    return {code: groups[code] for code in sorted(groups)}, ignored


@dataclass(frozen=True)
class StationDays:
    """One station's chosen channels on whole UTC days: all the build keeps of a record.

    Attributes
    ----------
    code : str
        IAGA code.
    latitude, longitude : float
        Geodetic, degrees (longitude east, as the file gives it).
    first_day : datetime64[D]
        The UTC day of the record's first minute.
    series : ndarray of float32, shape (n_channels, n_days * 1440)
        Each channel, one value a minute from ``first_day`` 00:00 (nT, arc-minutes for D,
        dimensionless for Z/H); NaN where the record has no value, including the minutes
        of its first and last day outside the record.
    missing_per_day : ndarray of int, shape (n_days,)
        Missing minutes of each day: minutes with no value in at least one channel.
    derived : tuple of (str, str)
        ``(channel, how)`` of each channel computed rather than read (H from X and Y, F
        without an F column, Z/H), for the report's warnings.
    quality : dict
        The data-quality summary the report lists for the station.
    channels : tuple of str
        The channel of each row of ``series``.
    name : str
        Station name from the file header.
    """

    code: str
    latitude: float
    longitude: float
    first_day: np.datetime64
    series: np.ndarray
    missing_per_day: np.ndarray
    derived: tuple
    quality: dict
    channels: tuple = ("H",)
    name: str = ""


def read_station(files: Sequence[Path], channels: Sequence[str]) -> StationDays:
    """Read one station's files (only what ``channels`` need) onto its day grid.

    Raises DataError naming the files when a channel is neither reported nor derivable.
    """
    available = _reported(files)
    wanted: list[str] = []
    for channel in channels:
        if channel == "F" and "F" not in available and not {"H", "Z"} <= set(available):
            raise not_derivable([str(f) for f in files], channel, available)
        absent = [name for name in RATIO_CHANNELS.get(channel, ()) if name not in available]
        if absent:
            raise DataError(files_label([str(f) for f in files]),
                            f"component {channel!r} needs {' and '.join(RATIO_CHANNELS[channel])}; "
                            f"{', '.join(absent)} is not reported (files report {', '.join(available)})")
        wanted.extend(name for name in source_components(channel, available) if name not in wanted)
    return station_days(read_station_record(files, components=wanted), channels)


def _reported(files: Sequence[Path]) -> list[str]:
    """Components the files report, in first-seen order, with H when X and Y allow it
    (the rule the record readers derive H by)."""
    available: list[str] = []
    for path in files:
        columns = read_record_header(path).columns
        available.extend(c for c in columns if c not in available)
        if "H" not in columns and "X" in columns and "Y" in columns and "H" not in available:
            available.append("H")
    return available


def station_days(record: StationRecord, channels: str | Sequence[str]) -> StationDays:
    """The day grid of ``channels`` and the record's quality summary; the record may go.

    A minute with no value in any one channel counts as missing (``missing_per_day``).
    """
    channels = (channels,) if isinstance(channels, str) else tuple(channels)
    first_day = record.start.astype("datetime64[D]")
    last_day = record.end.astype("datetime64[D]")
    n_days = int((last_day - first_day).astype(int)) + 1
    series = np.full((len(channels), n_days * MINUTES_PER_DAY), np.nan, dtype=np.float32)
    offset = int((record.start - first_day.astype("datetime64[m]")).astype(int))
    missing_in_record = np.zeros(record.n_minutes, dtype=bool)
    derived = []
    for row, channel in enumerate(channels):
        values, how = channel_minutes(record, channel)
        series[row, offset: offset + values.shape[0]] = values
        missing_in_record |= np.isnan(values)
        if how is not None:
            derived.append((channel, how))
    missing_per_day = np.isnan(series).any(axis=0).reshape(-1, MINUTES_PER_DAY).sum(axis=1)
    return StationDays(
        code=record.iaga_code,
        latitude=record.latitude,
        longitude=record.longitude,
        first_day=first_day,
        series=series,
        missing_per_day=missing_per_day,
        derived=tuple(derived),
        quality=_station_quality(record, channels, [c for c, _ in derived], int(missing_in_record.sum()),
                                 first_day, missing_per_day),
        channels=channels,
        name=record.station_name,
    )


def _station_quality(record: StationRecord, channels: tuple, derived: list, missing_minutes: int,
                     first_day: np.datetime64, missing_per_day: np.ndarray) -> dict:
    gaps = [{"start": iso_time(g.start), "minutes": g.minutes} for g in record.gaps]
    return {
        "code": record.iaga_code,
        "name": record.station_name,
        "latitude": record.latitude,
        "longitude": record.longitude,
        "files": len(record.files),
        "file_list": list(record.files),
        "sampling_seconds": sorted(set(record.sampling_seconds)),
        "interval_types": sorted(set(record.interval_types)),
        "start": iso_time(record.start),
        "end": iso_time(record.end),
        "component": ",".join(channels),
        "derived": derived,
        "duplicate_rows": record.duplicate_rows,
        "overlap_minutes": record.overlap_minutes,
        "gaps": len(record.gaps),
        "gap_minutes": record.gap_minutes,
        "gap_list": gaps[:100],
        "gap_list_truncated": len(gaps) > 100,
        "missing_minutes": missing_minutes,
        "days": int(missing_per_day.shape[0]),
        "first_day": str(first_day),
        "incomplete_days": day_ranges(first_day, missing_per_day),
    }


def day_ranges(first_day: np.datetime64, missing_per_day: np.ndarray) -> list[dict]:
    """Runs of consecutive days with missing minutes, in time order.

    Each is ``{"first", "last", "days", "missing_minutes"}`` (ISO days, both ends
    inclusive; ``missing_minutes`` summed over the run), so a year-long gap is one entry,
    not 365.
    """
    incomplete = np.asarray(missing_per_day) > 0
    if not incomplete.any():
        return []
    edges = np.diff(np.concatenate(([0], incomplete.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # stop: first complete day
    cumulative = np.concatenate(([0], np.cumsum(missing_per_day, dtype=np.int64)))
    day = np.timedelta64(1, "D")
    return [
        {"first": str(first_day + int(a) * day), "last": str(first_day + int(b - 1) * day),
         "days": int(b - a), "missing_minutes": int(cumulative[b] - cumulative[a])}
        for a, b in zip(starts, stops)
    ]


# --------------------------------------------------------------------------- windows


@dataclass(frozen=True)
class CandidateWindows:
    """Every window of one length at one station that the days allow, in time order.

    All arrays have shape ``(n_candidates,)``.

    Attributes
    ----------
    station : str
    window_days : int
    window_start, window_end, horizon_end : ndarray of datetime64[s]
        The window is ``[window_start, window_end)``; its label horizon is
        ``[window_end, horizon_end)``, ``lead_days`` long.
    missing_fraction : ndarray of float64
        Share of the window's minutes with no value.
    """

    station: str
    window_days: int
    window_start: np.ndarray
    window_end: np.ndarray
    horizon_end: np.ndarray
    missing_fraction: np.ndarray


def plan_station(station: StationDays, settings: dict) -> dict[int, CandidateWindows]:
    """The candidate windows of every window length of ``settings``, by length."""
    return {n: candidate_windows(station, n, settings) for n in settings["windows"]}


def candidate_windows(station: StationDays, window_days: int, settings: dict) -> CandidateWindows:
    """Windows of ``window_days`` whole days ending every ``stride_days`` days.

    The first ends on the first day a full window fits; the window of ``N`` days ending on
    day ``D`` covers ``[D - N + 1 00:00, D + 1 00:00)``.
    """
    n_days = station.missing_per_day.shape[0]
    last_index = np.arange(window_days - 1, n_days, settings["stride_days"])  # window's last day
    day = np.timedelta64(1, "D")
    window_end = (station.first_day + (last_index + 1) * day).astype("datetime64[s]")
    window_start = (station.first_day + (last_index + 1 - window_days) * day).astype("datetime64[s]")
    horizon_end = window_end + np.timedelta64(settings["lead_days"], "D").astype("timedelta64[s]")

    cumulative = np.concatenate(([0], np.cumsum(station.missing_per_day)))
    missing = cumulative[last_index + 1] - cumulative[last_index + 1 - window_days]
    return CandidateWindows(
        station=station.code,
        window_days=window_days,
        window_start=window_start,
        window_end=window_end,
        horizon_end=horizon_end,
        missing_fraction=missing / float(window_days * MINUTES_PER_DAY),
    )


def iso_time(moment) -> str:
    """A time as the build writes it everywhere: ISO 8601, UTC, whole seconds, no offset."""
    return str(np.datetime64(moment, "s"))
