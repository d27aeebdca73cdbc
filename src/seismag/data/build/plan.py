"""Plan: which windows exist, before any label is known.

Lives here: the build's settings (checked once, read by every step), finding and reading
the station records, the whole-UTC-day grid of one component (all the build keeps of a
record), the data-quality summary of each station, and the candidate windows of one
length: their days (``window_start`` .. ``window_end``), the stride between them, their
missing minutes and their label horizons (``window_end`` .. ``horizon_end``); and
:func:`iso_time`, the one format of every time the build writes.

May import numpy, the standard library, :mod:`seismag.errors`,
:mod:`seismag.data.iaga` and :mod:`seismag.data.records` (IAGA-2002 or ImagCDF files);
nothing of the catalog (that is :mod:`.label`) and nothing that writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from seismag.data.iaga import StationRecord
from seismag.data.records import read_record_header, read_station_record, station_files_in
from seismag.errors import ConfigError, DataError

__all__ = [
    "DEFAULT_LEAD_DAYS",
    "MINUTES_PER_DAY",
    "CandidateWindows",
    "StationDays",
    "candidate_windows",
    "check_settings",
    "find_station_files",
    "iso_time",
    "plan_station",
    "read_station",
    "station_days",
]

#: Default label horizon, days after the window's last day. A week is the horizon most
#: geomagnetic-precursor studies look at (ULF anomalies reported days to ~2 weeks ahead),
#: and it gives each event several class-1 windows per station at a 1-day stride.
DEFAULT_LEAD_DAYS = 7

MINUTES_PER_DAY = 1440


# --------------------------------------------------------------------------- settings


def check_settings(*, windows, component, min_magnitude, radius_km, radius, lead_days,
                   stride_days, max_missing, steps_per_day) -> dict:
    """Check the build's settings; return them as the plain dict every step reads.

    Window lengths come back sorted and without repeats; ``radius_mode`` is ``'fixed'``
    (``radius_km`` given) or ``'dobrovolsky'``. Raises ConfigError naming the setting.
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
    if not isinstance(component, str) or len(component.strip()) != 1 or not component.strip().isalpha():
        raise ConfigError(f"component must be one IAGA component letter (H, D, Z, F, X, Y, E, ...), got {component!r}")
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
    if not _is_number(max_missing) or not 0.0 <= max_missing < 1.0:
        raise ConfigError(f"max_missing must be in [0, 1), got {max_missing!r}")
    if (not _is_number(steps_per_day) or int(steps_per_day) != steps_per_day or steps_per_day < 1
            or MINUTES_PER_DAY % int(steps_per_day)):
        raise ConfigError(
            f"steps_per_day must divide 1440 (the records are 1-minute), got {steps_per_day!r}"
        )
    return {
        "windows": window_list,
        "component": component.strip().upper(),
        "min_magnitude": float(min_magnitude),
        "radius_mode": mode,
        "radius_km": float(radius_km) if radius_km is not None else None,
        "lead_days": int(lead_days),
        "stride_days": int(stride_days),
        "max_missing": float(max_missing),
        "steps_per_day": int(steps_per_day),
    }


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
    """One station's chosen component on whole UTC days: all the build keeps of a record.

    Attributes
    ----------
    code : str
        IAGA code.
    latitude, longitude : float
        Geodetic, degrees (longitude east, as the file gives it).
    first_day : datetime64[D]
        The UTC day of the record's first minute.
    series : ndarray of float32, shape (n_days * 1440,)
        The component, one value a minute from ``first_day`` 00:00 (nT, or arc-minutes
        for D); NaN where the record has no value, including the minutes of its first and
        last day outside the record.
    missing_per_day : ndarray of int, shape (n_days,)
        Missing minutes of each day.
    derived : tuple of str
        Components the reader derived (H from X and Y), for the report's warnings.
    quality : dict
        The data-quality summary the report lists for the station.
    """

    code: str
    latitude: float
    longitude: float
    first_day: np.datetime64
    series: np.ndarray
    missing_per_day: np.ndarray
    derived: tuple
    quality: dict


def read_station(files: Sequence[Path], component: str) -> StationDays:
    """Read one station's files (only ``component``) onto its day grid (DataError if bad)."""
    return station_days(read_station_record(files, components=[component]), component)


def station_days(record: StationRecord, component: str) -> StationDays:
    """The day grid of ``component`` and the record's quality summary; the record may go."""
    values = record.component(component)
    first_day = record.start.astype("datetime64[D]")
    last_day = record.end.astype("datetime64[D]")
    n_days = int((last_day - first_day).astype(int)) + 1
    series = np.full(n_days * MINUTES_PER_DAY, np.nan, dtype=np.float32)
    offset = int((record.start - first_day.astype("datetime64[m]")).astype(int))
    series[offset: offset + values.shape[0]] = values
    missing_per_day = np.isnan(series).reshape(-1, MINUTES_PER_DAY).sum(axis=1)
    return StationDays(
        code=record.iaga_code,
        latitude=record.latitude,
        longitude=record.longitude,
        first_day=first_day,
        series=series,
        missing_per_day=missing_per_day,
        derived=tuple(record.derived),
        quality=_station_quality(record, component, first_day, missing_per_day),
    )


def _station_quality(record: StationRecord, component: str, first_day: np.datetime64,
                     missing_per_day: np.ndarray) -> dict:
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
        "component": component,
        "derived": list(record.derived),
        "duplicate_rows": record.duplicate_rows,
        "overlap_minutes": record.overlap_minutes,
        "gaps": len(record.gaps),
        "gap_minutes": record.gap_minutes,
        "gap_list": gaps[:100],
        "gap_list_truncated": len(gaps) > 100,
        "missing_minutes": record.missing_minutes(component),
        "days": int(missing_per_day.shape[0]),
        "first_day": str(first_day),
        "incomplete_days": [
            {"day": str(first_day + np.timedelta64(int(i), "D")), "missing_minutes": int(missing_per_day[i])}
            for i in np.flatnonzero(missing_per_day)
        ][:100],
    }


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
