"""Read and write IAGA-2002 geomagnetic observatory files (1-minute grid).

Why this module is long: the format's header, column and missing-value rules, the component
derivations (H from X and Y) and the gridding of 1-second and 1-minute files, kept together
because each rule refers to the others. The gridding, the overlap and gap rules and the
assembling of a :class:`StationRecord` from per-file segments are format-free and shared
with :mod:`seismag.sources.imagcdf` (section "shared with imagcdf" below), so both formats
give a record by one set of rules. The writer (:func:`write_iaga2002`) is here too, so the
header widths and the missing-value text have one owner.

IAGA-2002 (https://www.ngdc.noaa.gov/IAGA/vdat/IAGA2002/iaga2002format.html) is a text
format: a header of fixed-width ``key value |`` lines (comments start with ``#``), a column
line ``DATE TIME DOY <code><c1> <code><c2> ...``, then one row per sample::

    2011-03-01 00:00:00.000 060      -522.41  26179.70  42208.80  49668.70

Conventions kept here:

- ``99999.00`` (missing) and ``88888.00`` (not recorded) become NaN.
- Units are the file's: nT for X, Y, Z, H, E, F, G; arc-minutes for D.
- Samples finer than a minute (1-second data) are averaged into the minute that contains
  them (``hh:mm:00`` to ``hh:mm:59`` gives minute ``hh:mm``); a minute with fewer than
  ``min_second_coverage`` of its expected samples valid is NaN.
- H is derived as ``sqrt(X**2 + Y**2)`` sample by sample when a file reports X and Y but
  not H; the record lists it in :attr:`StationRecord.derived`.
- Several files of one station (daily, monthly, ...) are put in time order by their first
  sample. A row whose time is not after the previous row of its file (a repeated or
  out-of-order timestamp) is dropped and counted in ``duplicate_rows``; a minute covered
  by more than one file keeps the value of the file that starts first and is counted in
  ``overlap_minutes``. Minutes that no file covers are gaps (NaN), listed in ``gaps``.

Writing (:func:`write_iaga2002`) follows the same rules the other way round: the
fixed-width header, the column line, one row per minute, NaN written as ``99999.00``; what
it writes, :func:`read_iaga2002` reads back to the same values (two decimals).

Memory: a file is read line by line in chunks of :data:`CHUNK_ROWS` rows, each chunk is
reduced to per-minute sums at once, and only the selected components are kept, so a file
of 1-second data never exists as text or as a per-second array in memory. The record
itself holds one float64 per minute per kept component (about 4 MB per component-year).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np

from seismag.errors import DataError
from seismag.io import atomic_path

__all__ = [
    "CHUNK_ROWS",
    "Gap",
    "IagaHeader",
    "StationRecord",
    "iaga_files_in",
    "is_iaga2002",
    "read_iaga2002",
    "read_iaga2002_header",
    "write_iaga2002",
]

#: Data rows parsed per chunk; bounds the parser's memory whatever the file size.
CHUNK_ROWS = 65_536

_MINUTE_MS = 60_000
_SENTINELS = (99999.0, 88888.0)
_REQUIRED_KEYS = ("IAGA CODE", "Geodetic Latitude", "Geodetic Longitude")


@dataclass(frozen=True)
class IagaHeader:
    """Metadata of one IAGA-2002 file, from its header and column line.

    ``columns`` are the component letters in column order (``('D', 'H', 'Z', 'F')``);
    ``data_line`` is the 1-based line number of the column line (data start after it);
    ``fields`` holds every ``key value`` pair of the header as written.
    """

    path: str
    iaga_code: str
    station_name: str
    latitude: float
    longitude: float
    elevation: float | None
    reported: str
    interval_type: str
    data_type: str
    columns: tuple[str, ...]
    data_line: int
    fields: dict = field(default_factory=dict, compare=False)


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


def is_iaga2002(path: str | os.PathLike) -> bool:
    """True when the file's first non-blank line is the IAGA-2002 ``Format`` header line."""
    try:
        with open(path, "r", encoding="latin-1") as handle:
            for _, line in zip(range(20), handle):
                if line.strip():
                    text = line.strip().rstrip("|").split()
                    return len(text) >= 2 and text[0].lower() == "format" and "iaga-2002" in line.lower()
    except OSError:
        return False
    return False


def read_iaga2002_header(path: str | os.PathLike) -> IagaHeader:
    """Read the header and column line of one IAGA-2002 file (not its data).

    Raises DataError naming the file and line for: an unreadable or empty file, a header
    line without the closing ``|``, a missing IAGA code / latitude / longitude, a value that
    is not a number, no ``DATE TIME DOY ...`` column line, or columns not named after the
    station code.
    """
    path = os.fspath(path)
    try:
        handle = open(path, "r", encoding="latin-1")
    except OSError as exc:
        raise DataError(path, f"cannot open: {exc.strerror or exc}") from None
    with handle:
        fields: dict[str, str] = {}
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            if line.split()[0].upper() == "DATE":
                return _finish_header(path, fields, line, number)
            stripped = line.rstrip()
            if not stripped.endswith("|"):
                raise DataError(
                    path,
                    f"line {number}: malformed IAGA-2002 header line (no closing '|' and not the "
                    f"'DATE TIME DOY ...' column line): {stripped[:70]!r}",
                )
            body = stripped[:-1].strip()
            if not body or body.startswith("#"):
                continue
            # Keys are in columns 2-24 of the fixed-width header; split there, and fall back
            # to the first run of 2+ spaces for files that do not keep the widths.
            key, value = stripped[:24].strip(), stripped[24:-1].strip()
            if not key or "  " in key:
                key, _, value = body.partition("  ")
                key, value = key.strip(), value.strip()
            fields[key.upper()] = value
    if not fields:
        raise DataError(path, "empty file (no IAGA-2002 header)")
    raise DataError(path, "no 'DATE TIME DOY ...' column line: not an IAGA-2002 file or truncated header")


def read_iaga2002(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    components: Sequence[str] | None = None,
    min_second_coverage: float = 0.5,
) -> StationRecord:
    """Read one station's IAGA-2002 files into a regular 1-minute record.

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

    Returns
    -------
    StationRecord
        Values on a 1-minute grid from the first to the last minute any file covers.

    Raises
    ------
    DataError
        Naming the file and line: malformed header or data line, files of different
        stations, sampling coarser than one minute, a requested component no file has.
    """
    return _read_record(
        paths,
        components=components,
        min_second_coverage=min_second_coverage,
        read_header=read_iaga2002_header,
        read_segment=_read_segment,
        reader="read_iaga2002",
    )


# --------------------------------------------------------------------------- shared with imagcdf
#
# Everything below up to the IAGA-2002 internals is format-free: a reader supplies one
# header per file (any object with ``path``, ``iaga_code``, ``station_name``, ``latitude``,
# ``longitude``, ``elevation``, ``columns`` and ``interval_type``, as IagaHeader has) and a
# function that reduces one file to a :class:`_Segment`, usually by feeding a
# :class:`_MinuteReducer`. :mod:`seismag.sources.imagcdf` reads ImagCDF through the same code,
# so both formats grid, count and gap a record in exactly one way.


def _read_record(
    paths,
    *,
    components: Sequence[str] | None,
    min_second_coverage: float,
    read_header: Callable,
    read_segment: Callable,
    reader: str,
) -> StationRecord:
    """Headers, station check, wanted components, segments, record: the reading of any format.

    ``read_header(path)`` returns a header; ``read_segment(header, wanted, min_second_coverage)``
    returns the file's :class:`_Segment`; ``reader`` names the public function in messages.
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


def _assemble_record(headers: list, segments: list[_Segment], wanted: list[str]) -> StationRecord:
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
class _Segment:
    """One file reduced to minutes: ``present`` marks minutes with at least one sample."""

    first_minute: int
    present: np.ndarray
    values: dict
    derived: tuple
    sampling_seconds: float
    duplicate_rows: int


class _MinuteReducer:
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

    def finish(self, min_second_coverage: float, *, empty: str = "no data rows after the header") -> _Segment:
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
        return _Segment(
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


# --------------------------------------------------------------------------- IAGA-2002 internals


def _finish_header(path: str, fields: dict[str, str], column_line: str, number: int) -> IagaHeader:
    for key in _REQUIRED_KEYS:
        if not fields.get(key.upper()):
            raise DataError(path, f"IAGA-2002 header has no {key!r} (needed to place the station)")
    code = fields["IAGA CODE"].split()[0].upper()
    latitude = _header_number(path, fields, "Geodetic Latitude")
    longitude = _header_number(path, fields, "Geodetic Longitude")
    if not -90.0 <= latitude <= 90.0:
        raise DataError(path, f"Geodetic Latitude {latitude} outside -90..90")
    elevation = _header_number(path, fields, "Elevation") if fields.get("ELEVATION") else None

    names = column_line.rstrip().rstrip("|").split()
    if len(names) < 4 or [n.upper() for n in names[:3]] != ["DATE", "TIME", "DOY"]:
        raise DataError(path, f"line {number}: column line should read 'DATE TIME DOY {code}X ...', got {column_line.strip()!r}")
    columns = []
    for name in names[3:]:
        if not name.upper().startswith(code) or len(name) != len(code) + 1:
            raise DataError(path, f"line {number}: column {name!r} is not '{code}' + one component letter")
        columns.append(name[-1].upper())
    if len(set(columns)) != len(columns):
        raise DataError(path, f"line {number}: repeated component column in {names[3:]}")
    return IagaHeader(
        path=path,
        iaga_code=code,
        station_name=fields.get("STATION NAME", ""),
        latitude=latitude,
        longitude=longitude,
        elevation=elevation,
        reported=fields.get("REPORTED", "".join(columns)),
        interval_type=fields.get("DATA INTERVAL TYPE", ""),
        data_type=fields.get("DATA TYPE", ""),
        columns=tuple(columns),
        data_line=number,
        fields=dict(fields),
    )


def _header_number(path: str, fields: dict[str, str], key: str) -> float:
    text = fields.get(key.upper(), "")
    try:
        value = float(text.split()[0])
    except (ValueError, IndexError):
        raise DataError(path, f"IAGA-2002 header {key!r} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise DataError(path, f"IAGA-2002 header {key!r} is not a finite number: {text!r}")
    return value


def _parse_rows(path: str, stamps: list[str], rows: list[list[str]], lines: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """One chunk of IAGA-2002 data rows as (int64 ms since 1970, float64 values, NaN missing).

    The values have one column per component column of the file; the sentinels become NaN.
    """
    try:
        ms = np.array(stamps, dtype="datetime64[ms]").astype(np.int64)
        bad_time = np.flatnonzero(ms == np.iinfo(np.int64).min)  # NaT
    except ValueError:
        bad_time = None
    if bad_time is None or bad_time.size:
        for stamp, line in zip(stamps, lines):
            try:
                ok = not np.isnat(np.datetime64(stamp, "ms"))
            except ValueError:
                ok = False
            if not ok:
                raise DataError(path, f"line {line}: bad DATE/TIME {stamp.replace('T', ' ')!r}")
    try:
        raw = np.array(rows, dtype=np.float64)
    except ValueError:
        for row, line in zip(rows, lines):
            for text in row:
                try:
                    float(text)
                except ValueError:
                    raise DataError(path, f"line {line}: value {text!r} is not a number") from None
        raise  # pragma: no cover - numpy rejected what float() accepts
    not_finite = np.isinf(raw).any(axis=1)
    if not_finite.any():
        raise DataError(path, f"line {lines[int(np.argmax(not_finite))]}: infinite value")
    sentinel = np.zeros(raw.shape, dtype=bool)
    for value in _SENTINELS:
        sentinel |= np.abs(raw - value) < 0.005
    raw[sentinel] = np.nan
    return ms, raw


def _read_segment(header: IagaHeader, wanted: list[str], min_second_coverage: float) -> _Segment:
    reducer = _MinuteReducer(header.path, header.columns, wanted)
    n_fields = 3 + len(header.columns)
    layout = "DATE TIME DOY " + " ".join(header.iaga_code + c for c in header.columns)
    stamps: list[str] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    with open(header.path, "r", encoding="latin-1") as handle:
        for number, line in enumerate(handle, start=1):
            if number <= header.data_line:
                continue
            parts = line.split()
            if not parts:
                continue
            if len(parts) != n_fields:
                raise DataError(
                    header.path,
                    f"line {number}: {len(parts)} fields, expected {n_fields} ({layout}): {line.strip()[:80]!r}",
                )
            stamps.append(parts[0] + "T" + parts[1])
            rows.append(parts[3:])
            lines.append(number)
            if len(stamps) >= CHUNK_ROWS:
                reducer.add(*_parse_rows(header.path, stamps, rows, lines))
                stamps, rows, lines = [], [], []
    if stamps:
        reducer.add(*_parse_rows(header.path, stamps, rows, lines))
    return reducer.finish(min_second_coverage)


def iaga_files_in(directory: str | os.PathLike) -> tuple[list[Path], list[Path]]:
    """IAGA-2002 files under ``directory`` (recursively, hidden entries skipped), sorted.

    Returns ``(iaga_files, other_files)``; a file is IAGA-2002 when :func:`is_iaga2002`
    says so, whatever its extension (``.min``, ``.sec``, ``.txt``, ...).
    """
    found, other = [], []
    root = Path(directory)
    for path in sorted(root.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(root).parts) or not path.is_file():
            continue
        (found if is_iaga2002(path) else other).append(path)
    return found, other


# ----------------------------------------------------------------------------- writing

#: The header keys of an IAGA-2002 file, in the order the format lists them.
HEADER_KEYS = ("Format", "Source of Data", "Station Name", "IAGA CODE", "Geodetic Latitude",
               "Geodetic Longitude", "Elevation", "Reported", "Sensor Orientation", "Digital Sampling",
               "Data Interval Type", "Data Type")
_MISSING_TEXT = 99999.0
_HEADER_VALUE_WIDTH = 45  # columns 25-69 of a 70-column header line


def write_iaga2002(
    path: str | os.PathLike,
    data: StationRecord | Mapping[str, np.ndarray],
    *,
    start: np.datetime64 | str | None = None,
    times: np.ndarray | None = None,
    iaga_code: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    elevation: float | None = None,
    station_name: str | None = None,
    header: Mapping[str, str] | None = None,
    comments: Sequence[str] = (),
) -> Path:
    """Write 1-minute values as one IAGA-2002 file, atomically.

    Parameters
    ----------
    path
        The file to write (its folder must exist).
    data
        A :class:`StationRecord` (its components, grid and station; the keywords below
        override), or a mapping component letter -> values (float, NaN for missing), the
        columns in the mapping's order: nT, arc-minutes for D.
    start
        With a mapping: the minute of the first value; the values are consecutive minutes.
    times
        With a mapping, instead of ``start``: the minute of each value (datetime64,
        strictly increasing, whole minutes). Minutes left out become rows the file does
        not have, which the reader reports as gaps.
    iaga_code, latitude, longitude
        Needed with a mapping: the station code (the column names are the code plus a
        component letter) and its geodetic position in degrees (longitude east).
    elevation, station_name
        Optional header values (metres; text).
    header
        Further header values by key (``"Data Type": "definitive"``, ``"Source of Data"``,
        ...); a key of :data:`HEADER_KEYS` replaces the value written otherwise.
        Defaults: ``Data Interval Type`` 1-minute, ``Data Type`` variation.
    comments
        Lines written as ``# ...`` header comments after the keys.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        No components or times, arrays of different lengths, a component that is not one
        letter, a value that does not fit the 10-column field (``|v| >= 1e6``), times not
        strictly increasing whole minutes, a header value longer than 45 characters or a
        comment longer than 66.
    """
    if isinstance(data, StationRecord):
        components = dict(data.components)
        if times is None and start is None:
            start = data.start
        iaga_code = data.iaga_code if iaga_code is None else iaga_code
        latitude = data.latitude if latitude is None else latitude
        longitude = data.longitude if longitude is None else longitude
        elevation = data.elevation if elevation is None else elevation
        station_name = data.station_name if station_name is None else station_name
    else:
        components = dict(data)
    if not components:
        raise ValueError("write_iaga2002 needs at least one component")
    if iaga_code is None or latitude is None or longitude is None:
        raise ValueError("write_iaga2002 needs iaga_code, latitude and longitude")
    code = str(iaga_code).strip().upper()
    if not code or " " in code:
        raise ValueError(f"IAGA code must be one word, got {iaga_code!r}")
    letters = [str(name).upper() for name in components]
    if any(len(letter) != 1 for letter in letters) or len(set(letters)) != len(letters):
        raise ValueError(f"components must be distinct single letters, got {list(components)}")
    columns = [np.asarray(values, dtype=np.float64).ravel() for values in components.values()]
    n_rows = columns[0].size
    if any(column.size != n_rows for column in columns):
        raise ValueError(f"components of different lengths: {[column.size for column in columns]}")
    minutes = _row_minutes(start, times, n_rows)
    values = np.column_stack(columns) if n_rows else np.zeros((0, len(columns)))
    values = np.where(np.isnan(values), _MISSING_TEXT, values)
    if np.isinf(values).any() or (np.abs(values) >= 1e6).any():
        raise ValueError("values must be finite and below 1e6 in magnitude to fit the IAGA-2002 columns")

    fields = {
        "Format": "IAGA-2002",
        "Source of Data": "",
        "Station Name": station_name or "",
        "IAGA CODE": code,
        "Geodetic Latitude": f"{float(latitude):.3f}",
        "Geodetic Longitude": f"{float(longitude):.3f}",
        "Elevation": "" if elevation is None else f"{float(elevation):g}",
        "Reported": "".join(letters),
        "Sensor Orientation": "",
        "Digital Sampling": "",
        "Data Interval Type": "1-minute",
        "Data Type": "variation",
    }
    canonical = {key.upper(): key for key in HEADER_KEYS}
    for key, value in (header or {}).items():
        fields[canonical.get(str(key).upper(), str(key))] = str(value)
    lines = []
    for key, value in fields.items():
        if len(value) > _HEADER_VALUE_WIDTH:
            raise ValueError(f"header value of {key!r} is longer than {_HEADER_VALUE_WIDTH} characters: {value!r}")
        lines.append(" " + key.ljust(23) + value.ljust(_HEADER_VALUE_WIDTH) + "|")
    for comment in comments:
        if len(str(comment)) > 66:
            raise ValueError(f"comment longer than 66 characters: {comment!r}")
        lines.append((" # " + str(comment)).ljust(69) + "|")
    names = [code + letter for letter in letters]
    lines.append("DATE       TIME         DOY     " + "".join(name.ljust(10) for name in names[:-1])
                 + names[-1].ljust(7) + "|")

    row_format = "%s %s:00.000 %03d   " + "%10.2f" * len(letters)
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="ascii", newline="\n") as handle:
            handle.write("\n".join(lines) + "\n")
            for begin in range(0, n_rows, CHUNK_ROWS):
                block = slice(begin, begin + CHUNK_ROWS)
                stamps = np.datetime_as_string(minutes[block], unit="m")
                days = minutes[block].astype("datetime64[D]")
                day_of_year = (days - days.astype("datetime64[Y]")).astype(np.int64) + 1
                handle.write("".join(
                    row_format % (stamp[:10], stamp[11:], doy, *row) + "\n"
                    for stamp, doy, row in zip(stamps, day_of_year.tolist(), values[block].tolist())))
    return Path(path)


def _row_minutes(start, times, n_rows: int) -> np.ndarray:
    """datetime64[m] of every row, from ``start`` (consecutive) or ``times`` (explicit)."""
    if (start is None) == (times is None):
        raise ValueError("give either start (consecutive minutes) or times (one per value)")
    if times is None:
        first = np.datetime64(start, "m")
        if np.datetime64(start, "ms") != first:
            raise ValueError(f"start must be a whole minute, got {start}")
        return first + np.arange(n_rows).astype("timedelta64[m]")
    stamps = np.asarray(times)
    if stamps.shape != (n_rows,):
        raise ValueError(f"times holds {stamps.size} stamps for {n_rows} values")
    minutes = stamps.astype("datetime64[m]")
    if (minutes.astype("datetime64[ms]") != stamps.astype("datetime64[ms]")).any():
        raise ValueError("times must be whole minutes")
    if n_rows > 1 and not (np.diff(minutes.astype(np.int64)) > 0).all():
        raise ValueError("times must be strictly increasing")
    return minutes
