"""A station's record on whole UTC days, and the window row cut from it: what build and scan share.

Lives here: finding the observatory files and grouping them by station
(:func:`find_station_files`), reading one station's files (only the components its
channels need, :mod:`seismag.dataset.channels`) onto a grid of whole UTC days
(:class:`StationMinutes`, all a build or a scan keeps of a record, with its data-quality
summary and incomplete days as ranges), the row of one window cut from that grid
(:func:`window_row`: gaps filled per channel from the window's own minutes, minutes
averaged to ``steps_per_day``, columns in ``day, channel, step`` order), and
:func:`iso_time`, the one format of every time the build writes.

``seismag build`` writes these rows and ``seismag scan`` scores them, so the two cannot
prepare a window differently.

May import numpy, the standard library, :mod:`seismag.errors`, the record readers of
:mod:`seismag.sources` (IAGA-2002 or ImagCDF files), :mod:`seismag.dataset.channels` and
the gap filler of :mod:`seismag.dataset.loading`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from seismag import defaults
from seismag.dataset.channels import (RATIO_CHANNELS, channel_minutes, files_label, not_derivable,
                                      source_components)
from seismag.dataset.loading import interpolate_gaps
from seismag.errors import ConfigError, DataError
from seismag.sources.station_record import StationRecord
from seismag.sources.records import read_record_header, read_station_record, station_files_in

__all__ = [
    "MINUTES_PER_DAY",
    "StationMinutes",
    "daily_missing",
    "day_ranges",
    "find_station_files",
    "iso_time",
    "read_station",
    "station_minutes",
    "window_missing_fraction",
    "window_row",
]

MINUTES_PER_DAY = defaults.MINUTES_PER_DAY  # the records' resolution: one value a minute


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
class StationMinutes:
    """One station's chosen channels on whole UTC days, a value a minute: all a build or a scan
    keeps of a record.

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


def read_station(files: Sequence[Path], channels: Sequence[str]) -> StationMinutes:
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
    return station_minutes(read_station_record(files, components=wanted), channels)


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


def station_minutes(record: StationRecord, channels: str | Sequence[str]) -> StationMinutes:
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
    missing_per_day = daily_missing(series)
    return StationMinutes(
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


def daily_missing(series: np.ndarray) -> np.ndarray:
    """Missing minutes of each day of ``series`` (``(n_channels, n_days * 1440)``, from 00:00
    of its first day): minutes with no value in at least one channel. Shape ``(n_days,)``."""
    return np.isnan(series).any(axis=0).reshape(-1, MINUTES_PER_DAY).sum(axis=1)


def window_missing_fraction(missing_per_day: np.ndarray, last_day: np.ndarray, window_days: int) -> np.ndarray:
    """Share of the minutes without a value in each window of ``window_days`` whole days
    ending on day ``last_day`` (indices into ``missing_per_day``, :func:`daily_missing`):
    the rule ``max_missing`` is judged by, in build and in scan alike. float64, shaped like
    ``last_day``."""
    cumulative = np.concatenate(([0], np.cumsum(missing_per_day, dtype=np.int64)))
    missing = cumulative[last_day + 1] - cumulative[last_day + 1 - window_days]
    return missing / float(window_days * MINUTES_PER_DAY)


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


def iso_time(moment) -> str:
    """A time as the build writes it everywhere: ISO 8601, UTC, whole seconds, no offset."""
    return str(np.datetime64(moment, "s"))


# --------------------------------------------------------------------------- the window row


def window_row(series: np.ndarray, start_minute: int, window_days: int, steps_per_day: int) -> np.ndarray:
    """One window of a station's minutes as the row a build writes: float64, shape
    ``(window_days * n_channels * steps_per_day,)``.

    ``series`` is ``(n_channels, n_minutes)`` (:attr:`StationMinutes.series`, or some of its
    channels); the window is its ``window_days * 1440`` minutes from ``start_minute``.
    Gaps are filled channel by channel from the window's own minutes only (nothing from
    the label horizon leaks in), then ``1440 / steps_per_day`` consecutive minutes are
    averaged into a step. Columns: day 1 of every channel, then day 2, ... (``day,
    channel, step``, :data:`seismag.layout.dataset_info.FEATURE_ORDER`). Every channel must hold a
    value in the window. The one recipe for a row: ``build`` writes it and ``seismag
    scan`` scores it.
    """
    per_step = MINUTES_PER_DAY // steps_per_day
    n_minutes = window_days * MINUTES_PER_DAY
    minutes = series[:, start_minute: start_minute + n_minutes].astype(np.float64)
    if start_minute < 0 or minutes.shape[1] != n_minutes:
        raise ValueError(f"a window of {window_days} days from minute {start_minute} does not fit in "
                         f"{series.shape[1]} minutes")
    for channel in minutes:
        interpolate_gaps(channel)  # in place, each channel from its own minutes
    if per_step > 1:
        minutes = minutes.reshape(minutes.shape[0], window_days * steps_per_day, per_step).mean(axis=2)
    # (channel, day, step) -> (day, channel, step), flattened
    return minutes.reshape(minutes.shape[0], window_days, steps_per_day).transpose(1, 0, 2).reshape(-1)
