"""Observatory records in either supported format: IAGA-2002 text or INTERMAGNET ImagCDF.

One place decides which reader a file goes to, so build (and anything else that takes
"observatory files") accepts both formats by calling :func:`read_station_record`,
:func:`read_record_header` and :func:`station_files_in` instead of a format's own
functions. A file is ImagCDF when it starts with the CDF magic numbers
(:func:`~seismag.sources.imagcdf.is_imagcdf`), else it goes to the IAGA-2002 reader, whose
messages say what is wrong with a file that is neither.

One station's files must all be in one format: the record of a station keeps the first
file's value where files overlap, and two formats are usually two publications of the
data (a text variation file, a definitive ImagCDF) that should not be spliced minute by
minute without the user choosing to.

The record itself (:class:`~seismag.sources.station_record.StationRecord`) and the rules
both readers share are :mod:`seismag.sources.station_record`'s.

May import :mod:`seismag.errors`, :mod:`seismag.sources.station_record`,
:mod:`seismag.sources.iaga` and :mod:`seismag.sources.imagcdf`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from seismag.errors import DataError
from seismag.sources.iaga import IagaHeader, iaga_files_in, read_iaga2002, read_iaga2002_header
from seismag.sources.imagcdf import ImagCdfHeader, is_imagcdf, read_imagcdf, read_imagcdf_header
from seismag.sources.station_record import StationRecord

__all__ = [
    "IAGA2002",
    "IMAGCDF",
    "read_record_header",
    "read_station_record",
    "record_format",
    "station_files_in",
]

#: Format names, as messages and :func:`record_format` give them.
IAGA2002 = "IAGA-2002"
IMAGCDF = "ImagCDF"


def record_format(path: str | os.PathLike) -> str:
    """:data:`IMAGCDF` for a CDF file, else :data:`IAGA2002` (whose reader checks the rest)."""
    return IMAGCDF if is_imagcdf(path) else IAGA2002


def read_record_header(path: str | os.PathLike) -> IagaHeader | ImagCdfHeader:
    """The header of one observatory file of either format (``iaga_code``, ``latitude``, ...)."""
    return read_imagcdf_header(path) if record_format(path) == IMAGCDF else read_iaga2002_header(path)


def station_files_in(directory: str | os.PathLike) -> tuple[list[Path], list[Path]]:
    """IAGA-2002 and CDF files under ``directory`` (recursively, hidden entries skipped), sorted.

    Returns ``(record_files, other_files)``. A file is taken by its content, whatever its
    extension; a CDF file that turns out not to be ImagCDF is refused when read.
    """
    found, other = iaga_files_in(directory)
    cdf = {path for path in other if is_imagcdf(path)}
    return sorted(found + list(cdf)), [path for path in other if path not in cdf]


def read_station_record(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    components: Sequence[str] | None = None,
    min_second_coverage: float = 0.5,
) -> StationRecord:
    """Read one station's files, all IAGA-2002 or all ImagCDF, into a 1-minute record.

    The arguments and the record are those of
    :func:`~seismag.sources.station_record.read_record` (the same rules for both formats).

    Raises
    ------
    DataError
        The files mix the two formats (one line naming a file of each), or what the
        format's reader raises.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [os.fspath(p) for p in paths]
    if not paths:
        raise ValueError("read_station_record needs at least one file")
    formats = {path: record_format(path) for path in paths}
    cdf = [path for path in paths if formats[path] == IMAGCDF]
    text = [path for path in paths if formats[path] == IAGA2002]
    if cdf and text:
        raise DataError(
            text[0],
            f"one station's files mix {IAGA2002} ({len(text)}: {text[0]}, ...) and {IMAGCDF} "
            f"({len(cdf)}: {cdf[0]}, ...); give one format per station",
        )
    reader = read_imagcdf if cdf else read_iaga2002
    return reader(paths, components=components, min_second_coverage=min_second_coverage)
