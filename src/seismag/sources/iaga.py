"""Read and write IAGA-2002 geomagnetic observatory files (1-minute grid).

The format's header, column and missing-value rules are here, with the writer
(:func:`write_iaga2002`), so the header widths and the missing-value text have one owner.
The record a file becomes, its gridding, the overlap and gap rules and the derived H are
format-free and shared with :mod:`seismag.sources.imagcdf`: they are
:mod:`seismag.sources.station_record`'s, so both formats give a record by one set of rules.

IAGA-2002 (https://www.ngdc.noaa.gov/IAGA/vdat/IAGA2002/iaga2002format.html) is a text
format: a header of fixed-width ``key value |`` lines (comments start with ``#``), a column
line ``DATE TIME DOY <code><c1> <code><c2> ...``, then one row per sample::

    2011-03-01 00:00:00.000 060      -522.41  26179.70  42208.80  49668.70

Conventions kept here:

- ``99999.00`` (missing) and ``88888.00`` (not recorded) become NaN.
- Units are the file's: nT for X, Y, Z, H, E, F, G; arc-minutes for D.
- Data finer than a minute, H derived from X and Y, several files, repeated rows,
  overlaps and gaps: the rules of :mod:`seismag.sources.station_record` (a repeated or
  out-of-order row is dropped and counted in ``duplicate_rows``).

Writing (:func:`write_iaga2002`) follows the same rules the other way round: the
fixed-width header, the column line, one row per minute, NaN written as ``99999.00``; what
it writes, :func:`read_iaga2002` reads back to the same values (two decimals).

Memory: a file is read line by line in chunks of
:data:`~seismag.sources.station_record.CHUNK_ROWS` rows, each chunk reduced to per-minute
sums at once, so a file of 1-second data never exists as text or as a per-second array in
memory.

May import numpy, the standard library, :mod:`seismag.errors`, :mod:`seismag.io` and
:mod:`seismag.sources.station_record`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from seismag.errors import DataError
from seismag.io import atomic_path
from seismag.sources import station_record
from seismag.sources.station_record import MinuteReducer, Segment, StationHeader, StationRecord, read_record

__all__ = [
    "IagaHeader",
    "iaga_files_in",
    "is_iaga2002",
    "read_iaga2002",
    "read_iaga2002_header",
    "write_iaga2002",
]

_SENTINELS = (99999.0, 88888.0)
_REQUIRED_KEYS = ("IAGA CODE", "Geodetic Latitude", "Geodetic Longitude")


@dataclass(frozen=True)
class IagaHeader(StationHeader):
    """Metadata of one IAGA-2002 file, from its header and column line.

    The station's fields are :class:`~seismag.sources.station_record.StationHeader`'s;
    ``columns`` are the component letters in column order (``('D', 'H', 'Z', 'F')``);
    ``data_line`` is the 1-based line number of the column line (data start after it);
    ``fields`` holds every ``key value`` pair of the header as written.
    """

    reported: str
    interval_type: str
    data_type: str
    columns: tuple[str, ...]
    data_line: int
    fields: dict = field(default_factory=dict, compare=False)


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

    ``paths`` (one file or several of one station, in any order), ``components`` (the
    letters to keep; None keeps all, H may be asked for from X and Y) and
    ``min_second_coverage`` (for data finer than a minute), and the record returned, are
    those of :func:`~seismag.sources.station_record.read_record`, which gives the rules.

    Raises
    ------
    DataError
        Naming the file and line: malformed header or data line, files of different
        stations, sampling coarser than one minute, a requested component no file has.
    """
    return read_record(
        paths,
        components=components,
        min_second_coverage=min_second_coverage,
        read_header=read_iaga2002_header,
        read_segment=_read_segment,
        reader="read_iaga2002",
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


def _read_segment(header: IagaHeader, wanted: list[str], min_second_coverage: float) -> Segment:
    reducer = MinuteReducer(header.path, header.columns, wanted)
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
            if len(stamps) >= station_record.CHUNK_ROWS:
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
            chunk = station_record.CHUNK_ROWS
            for begin in range(0, n_rows, chunk):
                block = slice(begin, begin + chunk)
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
