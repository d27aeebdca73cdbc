"""The one record model of observatory data, and the reading both file formats share.

:class:`StationRecord` is one station's record on a regular 1-minute grid, whether it came
from IAGA-2002 text (:mod:`seismag.sources.iaga`) or INTERMAGNET ImagCDF
(:mod:`seismag.sources.imagcdf`); :class:`Gap` is a run of minutes no file covers.

Everything after a format's own parsing is here, format-free, so both formats grid, count
and gap a record in exactly one way: a reader gives :func:`read_record` one header per file
(a :class:`StationHeader` with ``columns`` and ``interval_type``, as
:class:`~seismag.sources.iaga.IagaHeader` and :class:`~seismag.sources.imagcdf.ImagCdfHeader`
are) and a function that reduces one file to a :class:`Segment`, usually by feeding a
:class:`MinuteReducer` chunks of :data:`CHUNK_ROWS` samples.

The rules, for both formats:

- Samples finer than a minute (1-second data) are averaged into the minute that contains
  them (``hh:mm:00`` to ``hh:mm:59`` gives minute ``hh:mm``); a minute with fewer than
  ``min_second_coverage`` of its expected samples valid is NaN.
- H is derived as ``sqrt(X**2 + Y**2)`` sample by sample when a file reports X and Y but
  not H; the record lists it in :attr:`StationRecord.derived`.
- Several files of one station (daily, monthly, ...) are put in time order by their first
  sample. A sample whose time is not after the previous sample of its file (a repeated or
  out-of-order timestamp) is dropped and counted in ``duplicate_rows``; a minute covered
  by more than one file keeps the value of the file that starts first and is counted in
  ``overlap_minutes``. Minutes that no file covers are gaps (NaN), listed in ``gaps``.

Memory: each chunk of samples is reduced to per-minute sums at once and only the selected
components are kept, so a file of 1-second data never exists as a per-second array in
memory. The record holds one float64 per minute per kept component (about 4 MB per
component-year).

May import numpy, the standard library and :mod:`seismag.errors`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from seismag.errors import DataError

__all__ = ["CHUNK_ROWS", "Gap", "MinuteReducer", "Segment", "StationHeader", "StationRecord", "join_segments",
           "read_record"]

#: Samples parsed per chunk (rows of a text file, records of a CDF variable); bounds a
#: reader's memory whatever the file size.
CHUNK_ROWS = 65_536

_MINUTE_MS = 60_000


@dataclass(frozen=True)
class StationHeader:
    """Where one file's station is: the first fields of every format's header.

    :class:`~seismag.sources.iaga.IagaHeader` and
    :class:`~seismag.sources.imagcdf.ImagCdfHeader` start with these; :func:`read_record`
    reads them, and also each header's ``columns`` (the component letters in the file) and
    ``interval_type`` (its sampling, as the format names it), which each format places
    among its own fields.

    Attributes
    ----------
    path : str
    iaga_code : str
        Upper case.
    station_name : str
    latitude, longitude : float
        Geodetic, degrees; longitude east as in the file.
    elevation : float or None
        Metres; None when the file does not give it.
    """

    path: str
    iaga_code: str
    station_name: str
    latitude: float
    longitude: float
    elevation: float | None


@dataclass(frozen=True)
class Gap:
    """A run of minutes that no file covers: ``minutes`` minutes from ``start`` (datetime64[m])."""

    start: np.datetime64
    minutes: int

    @property
    def end(self) -> np.datetime64:
        """The last missing minute."""
        return self.start + np.timedelta64(self.minutes - 1, "m")


@dataclass(frozen=True)
class StationRecord:
    """One station's record on a regular 1-minute grid.

    Attributes
    ----------
    iaga_code, station_name : str
    latitude, longitude : float
        Geodetic, degrees; longitude east as in the file (0..360 or -180..180).
    elevation : float or None
        Metres.
    start : datetime64[m]
        Time of the first minute of the grid (UTC); minute ``i`` is ``start + i`` minutes.
    components : dict[str, ndarray of float64, shape (n_minutes,)]
        Minute values per component letter; NaN where missing. nT, or arc-minutes for D.
    reported : str
        Component letters reported by the files (their union, column order of the first).
    derived : tuple of str
        Components computed rather than read (``('H',)`` when H came from X and Y).
    files : tuple of str
        The files read, in time order.
    sampling_seconds : tuple of float
        Sampling interval of each file (60.0 for minute data, 1.0 for second data).
    interval_types : tuple of str
        The ``Data Interval Type`` header of each file, as written.
    duplicate_rows : int
        Rows dropped because their time was not after the previous row of their file.
    overlap_minutes : int
        Minutes covered by more than one file (the first file's value kept).
    gaps : tuple of Gap
        Runs of minutes inside the grid that no file covers.
    """

    iaga_code: str
    station_name: str
    latitude: float
    longitude: float
    elevation: float | None
    start: np.datetime64
    components: dict
    reported: str
    derived: tuple
    files: tuple
    sampling_seconds: tuple
    interval_types: tuple
    duplicate_rows: int = 0
    overlap_minutes: int = 0
    gaps: tuple = ()

    @property
    def n_minutes(self) -> int:
        return int(next(iter(self.components.values())).shape[0]) if self.components else 0

    @property
    def end(self) -> np.datetime64:
        """Time of the last minute of the grid."""
        return self.start + np.timedelta64(self.n_minutes - 1, "m")

    @property
    def gap_minutes(self) -> int:
        return int(sum(gap.minutes for gap in self.gaps))

    def times(self) -> np.ndarray:
        """datetime64[m] of every minute, shape (n_minutes,)."""
        return self.start + np.arange(self.n_minutes).astype("timedelta64[m]")

    def component(self, name: str) -> np.ndarray:
        """The minute values of one component; DataError naming the files when absent."""
        try:
            return self.components[name]
        except KeyError:
            raise DataError(
                self.files[0] if len(self.files) == 1 else f"{self.iaga_code} ({len(self.files)} files)",
                f"component {name!r} not available (has {', '.join(self.components)})",
            ) from None

    def missing_minutes(self, name: str) -> int:
        """Minutes of the grid where component ``name`` is NaN (sentinels and gaps)."""
        return int(np.isnan(self.component(name)).sum())


def read_record(
    paths,
    *,
    components: Sequence[str] | None,
    min_second_coverage: float,
    read_header: Callable,
    read_segment: Callable,
    reader: str,
) -> StationRecord:
    """Headers, station check, wanted components, segments, record: the reading of any format.

    Parameters
    ----------
    paths
        One file or several files of the same station, in any order (they are put in time
        order by their first sample).
    components
        Component letters to keep (``['H']``); None keeps every reported component. H may
        be asked for when the files report X and Y only (it is derived).
    min_second_coverage
        For data finer than a minute: the share of a minute's expected samples that must
        be valid for the minute to get a value (otherwise NaN).
    read_header, read_segment, reader
        The format's part: ``read_header(path)`` returns a header, ``read_segment(header,
        wanted, min_second_coverage)`` the file's :class:`Segment`; ``reader`` names the
        public function in messages.

    Returns
    -------
    StationRecord
        Values on a 1-minute grid from the first to the last minute any file covers.

    Raises
    ------
    DataError
        Files of different stations, sampling coarser than one minute, a requested
        component no file has, or what the format's functions raise.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError(f"{reader} needs at least one file")
    if not 0.0 < min_second_coverage <= 1.0:
        raise ValueError(f"min_second_coverage must be in (0, 1], got {min_second_coverage}")

    headers = [read_header(p) for p in paths]
    codes = sorted({h.iaga_code for h in headers})
    if len(codes) > 1:
        listing = "; ".join(f"{h.path}: {h.iaga_code}" for h in headers)
        raise DataError(headers[0].path, f"files of several stations given as one record ({listing})")

    wanted = _wanted_components(headers, components)
    segments = [read_segment(h, wanted, min_second_coverage) for h in headers]
    return _assemble_record(headers, segments, wanted)


def _assemble_record(headers: list, segments: list[Segment], wanted: list[str]) -> StationRecord:
    """Put per-file segments on one minute grid: time order, first file wins, gaps listed."""
    # Time order by first sample; ties keep the order given.
    order = sorted(range(len(segments)), key=lambda i: segments[i].first_minute)
    segments = [segments[i] for i in order]
    headers = [headers[i] for i in order]

    first = min(s.first_minute for s in segments)
    last = max(s.first_minute + s.present.shape[0] - 1 for s in segments)
    n_minutes = int(last - first + 1)
    grid = {name: np.full(n_minutes, np.nan) for name in wanted}
    covered = np.zeros(n_minutes, dtype=bool)
    overlap = 0
    for segment in segments:
        offset = int(segment.first_minute - first)
        window = slice(offset, offset + segment.present.shape[0])
        fresh = segment.present & ~covered[window]
        overlap += int(np.count_nonzero(segment.present & covered[window]))
        for name, values in segment.values.items():
            target = grid[name][window]
            target[fresh] = values[fresh]
        covered[window] |= segment.present

    start = np.datetime64(int(first), "m")
    reported: list[str] = []
    for h in headers:
        reported.extend(c for c in h.columns if c not in reported)
    derived = tuple(sorted({name for s in segments for name in s.derived}))
    head = headers[0]
    return StationRecord(
        iaga_code=head.iaga_code,
        station_name=head.station_name,
        latitude=head.latitude,
        longitude=head.longitude,
        elevation=head.elevation,
        start=start,
        components=grid,
        reported="".join(reported),
        derived=derived,
        files=tuple(h.path for h in headers),
        sampling_seconds=tuple(s.sampling_seconds for s in segments),
        interval_types=tuple(h.interval_type for h in headers),
        duplicate_rows=sum(s.duplicate_rows for s in segments),
        overlap_minutes=overlap,
        gaps=_find_gaps(covered, start),
    )


def _wanted_components(headers: list, components: Sequence[str] | None) -> list[str]:
    available: list[str] = []
    for h in headers:
        available.extend(c for c in h.columns if c not in available)
        if "H" not in h.columns and "X" in h.columns and "Y" in h.columns and "H" not in available:
            available.append("H")
    if components is None:
        return available
    wanted = [c.upper() for c in components]
    for name in wanted:
        if name not in available:
            where = headers[0].path if len(headers) == 1 else f"{headers[0].iaga_code} files ({headers[0].path}, ...)"
            raise DataError(
                where,
                f"component {name!r} is not reported (files report {', '.join(available)}"
                + ("; H can be derived only from X and Y" if name == "H" else "")
                + ")",
            )
    return wanted


@dataclass
class Segment:
    """One file reduced to minutes: ``present`` marks minutes with at least one sample."""

    first_minute: int
    present: np.ndarray
    values: dict
    derived: tuple
    sampling_seconds: float
    duplicate_rows: int


class MinuteReducer:
    """Turns chunks of samples into per-minute sums and counts, file order checked.

    ``columns`` are the component letters of the values given to :meth:`add`, in order;
    only those in ``wanted`` are kept, and H is derived sample by sample from X and Y when
    it is wanted and not a column.
    """

    def __init__(self, path: str, columns: Sequence[str], wanted: list[str]):
        self.path = path
        columns = list(columns)
        self.derive_h = "H" in wanted and "H" not in columns and "X" in columns and "Y" in columns
        self.take = [(name, columns.index(name)) for name in wanted if name in columns]
        self.names = [name for name, _ in self.take] + (["H"] if self.derive_h else [])
        self.x_y = (columns.index("X"), columns.index("Y")) if self.derive_h else None
        self.last_ms = np.iinfo(np.int64).min
        self.duplicates = 0
        self.sampling_ms: float | None = None
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, ms: np.ndarray, raw: np.ndarray) -> None:
        """One chunk: ``ms`` int64 milliseconds since 1970 (n,), ``raw`` float64 (n, columns), NaN missing."""
        columns = [raw[:, index] for _, index in self.take]
        if self.derive_h:
            columns.append(np.hypot(raw[:, self.x_y[0]], raw[:, self.x_y[1]]))
        values = np.stack(columns, axis=1) if columns else np.empty((raw.shape[0], 0))

        # Keep a sample only when its time is after every earlier sample of the file: the
        # first occurrence of a repeated timestamp wins, as it does across files.
        running = np.maximum.accumulate(np.concatenate(([self.last_ms], ms)))[:-1]
        keep = ms > running
        self.duplicates += int(keep.size - np.count_nonzero(keep))
        ms, values = ms[keep], values[keep]
        if ms.size == 0:
            return
        self.last_ms = int(ms[-1])
        if self.sampling_ms is None and ms.size > 1:
            self.sampling_ms = float(np.median(np.diff(ms)))
        minutes = ms // _MINUTE_MS
        starts = np.flatnonzero(np.concatenate(([True], minutes[1:] != minutes[:-1])))
        valid = ~np.isnan(values)
        sums = np.add.reduceat(np.where(valid, values, 0.0), starts, axis=0)
        counts = np.add.reduceat(valid.astype(np.int32), starts, axis=0)
        self.parts.append((minutes[starts], sums, counts))

    def finish(self, min_second_coverage: float, *, empty: str = "no data rows after the header") -> Segment:
        """The file's segment; DataError ``empty`` when no sample was added."""
        path = self.path
        if not self.parts:
            raise DataError(path, empty)
        minutes = np.concatenate([p[0] for p in self.parts])
        sums = np.concatenate([p[1] for p in self.parts])
        counts = np.concatenate([p[2] for p in self.parts])
        if len(self.parts) > 1:  # a minute split across two chunks
            starts = np.flatnonzero(np.concatenate(([True], minutes[1:] != minutes[:-1])))
            minutes = minutes[starts]
            sums = np.add.reduceat(sums, starts, axis=0)
            counts = np.add.reduceat(counts, starts, axis=0)
        sampling_ms = self.sampling_ms if self.sampling_ms is not None else float(_MINUTE_MS)
        if sampling_ms > _MINUTE_MS:
            raise DataError(
                path,
                f"sampling interval {sampling_ms / 1000:g} s is coarser than 1 minute; "
                "1-minute or finer data are needed",
            )
        expected = max(1.0, _MINUTE_MS / sampling_ms)
        required = 1 if expected <= 1.0 else max(1, math.ceil(min_second_coverage * expected - 1e-9))
        first = int(minutes[0])
        length = int(minutes[-1]) - first + 1
        present = np.zeros(length, dtype=bool)
        present[minutes - first] = True
        values = {}
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts >= required, sums / np.maximum(counts, 1), np.nan)
        for k, name in enumerate(self.names):
            dense = np.full(length, np.nan)
            dense[minutes - first] = means[:, k]
            values[name] = dense
        return Segment(
            first_minute=first,
            present=present,
            values=values,
            derived=("H",) if self.derive_h else (),
            sampling_seconds=sampling_ms / 1000.0,
            duplicate_rows=self.duplicates,
        )


def _find_gaps(covered: np.ndarray, start: np.datetime64) -> tuple[Gap, ...]:
    missing = ~covered
    if not missing.any():
        return ()
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    run_starts = np.flatnonzero(edges == 1)
    run_ends = np.flatnonzero(edges == -1)
    return tuple(
        Gap(start=start + np.timedelta64(int(a), "m"), minutes=int(b - a))
        for a, b in zip(run_starts, run_ends)
    )


def join_segments(parts: list[Segment]) -> Segment:
    """Segments of one file (one per time-stamp variable) as one: a minute any of them covers is covered."""
    if len(parts) == 1:
        return parts[0]
    first = min(p.first_minute for p in parts)
    last = max(p.first_minute + p.present.shape[0] - 1 for p in parts)
    length = int(last - first + 1)
    present = np.zeros(length, dtype=bool)
    values: dict[str, np.ndarray] = {}
    for part in parts:
        window = slice(part.first_minute - first, part.first_minute - first + part.present.shape[0])
        present[window] |= part.present
        for name, part_values in part.values.items():
            dense = np.full(length, np.nan)
            dense[window] = part_values
            values[name] = dense
    return Segment(
        first_minute=first,
        present=present,
        values=values,
        derived=tuple(sorted({name for p in parts for name in p.derived})),
        sampling_seconds=min(p.sampling_seconds for p in parts),
        duplicate_rows=sum(p.duplicate_rows for p in parts),
    )
