"""Read and write INTERMAGNET ImagCDF files: the same 1-minute record as IAGA-2002.

Why this module is long: the format's attribute and variable rules, their checks (each
with its own one-line error), the unit conversions and the writer that the tests
and the synthetic data use, kept together because the writer must obey the rules the
reader checks.

ImagCDF is NASA's Common Data Format (CDF) holding geomagnetic data by INTERMAGNET's
rules. What this reader relies on, from the ImagCDF 1.2 specification (INTERMAGNET
Technical Reference Manual, appendix "IMAGCDFV1.2 INTERMAGNET Exchange Format",
https://tech-man.intermagnet.org/stable/appendices/dataformats.html, source
``appendices/includes/dataformats/imagcdfformat.rst`` of the manual's repository):

- Global attributes, one entry each: ``FormatDescription`` ("INTERMAGNET CDF Format"),
  ``FormatVersion``, ``Title``, ``IagaCode``, ``ElementsRecorded`` (one letter per
  element: ``HDZ``, ``XYZG``, ``DIFS`` ...), ``PublicationLevel`` (1..4),
  ``PublicationDate``, ``ObservatoryName``, ``Latitude``, ``Longitude`` (degrees, WGS-84),
  ``Elevation`` (metres, 99999.0 when unknown), ``Institution``, ``StandardLevel``
  (None / Partial / Full), ``Source``. Read here: ``FormatDescription``, ``IagaCode``,
  ``Latitude`` and ``Longitude`` are required; the rest are kept in
  :attr:`ImagCdfHeader.fields`.
- One variable per element, ``GeomagneticField<E>``, CDF_DOUBLE, one sample a record,
  with the variable attributes ``FIELDNAM`` ("Geomagnetic Field Element <E>"), ``UNITS``
  ("nT", "Degrees of arc" or "Celsius"), ``FILLVAL`` (the missing value, 99999.0),
  ``VALIDMIN``, ``VALIDMAX``, ``DEPEND_0`` (the name of the time-stamp variable),
  ``DISPLAY_TYPE`` and ``LABLAXIS``.
- Time stamps in their own variables: ``GeomagneticVectorTimes`` and
  ``GeomagneticScalarTimes`` (vector and scalar instruments may sample at different
  rates), or ``DataTimes`` when one variable serves all; CDF_TIME_TT2000, stamping the
  start of each sample period (minute data at ``hh:mm:00``).
- **Angles are in degrees of arc**: D (positive east) and I, not the arc-minutes of
  IAGA-2002. The reader multiplies them by 60, so a record holds D in arc-minutes
  whichever format it came from; the writer divides by 60.

Practice of other readers, used where the specification is loose: MagPy's
``magpy/lib/format_imagcdf.py`` (geomagpy/magpy, cdflib-based) finds the time variable of
each element through ``DEPEND_0``, accepts "DataTimes"/"GeomagneticTimes" names and
writes NaN as the fill value; USGS geomag-algorithms' ``ImagCdfFactory`` (cdflib-based)
writes ``DataTimes``, NaN fill values and "Degrees of arc" for D. So here: the time
variable is the element's ``DEPEND_0`` (else ``DataTimes``, else the vector or scalar
name the specification recommends); a sample equal to ``FILLVAL`` *or NaN* is missing;
``FormatDescription`` is compared without case ("INTERMAGNET CDF format" also occurs);
CDF_EPOCH and CDF_EPOCH16 time stamps are read as well as TT2000. ``VALIDMIN`` and
``VALIDMAX`` are not used to blank samples (as in both readers above): the fill value is
the one mark of a missing sample.

Everything after the samples is :mod:`seismag.sources.station_record`'s, as for IAGA-2002:
the per-minute averaging of finer data, the ``min_second_coverage`` rule, H derived from X
and Y, repeated time stamps dropped, overlapping files (first wins) and gaps. A minute is
covered by a file when the time stamps of the elements read cover it. cdflib turns a leap
second (23:59:60) into 00:00:00 of the next minute; the real 00:00:00 sample is then a
repeated time stamp and is dropped (and counted).

The CDF container itself (opening through cdflib, one DataError per failure, time stamps)
is :mod:`seismag.sources.cdf`'s. cdflib (``pip install "seismag[cdf]"``) is imported only
when a file is read or written: this module imports without it, and :func:`is_imagcdf`
needs only the file's first 8 bytes. Memory: samples are read
:data:`~seismag.sources.station_record.CHUNK_ROWS` records at a time.

May import numpy, the standard library, :mod:`seismag.errors`, :mod:`seismag.io`,
:mod:`seismag.sources.cdf` and :mod:`seismag.sources.station_record`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from seismag.errors import ConfigError, DataError
from seismag.io import atomic_path
from seismag.sources import station_record
from seismag.sources.cdf import (
    CDF_DOUBLE, CDF_TIME_TT2000, INSTALL_HINT, NUMERIC_TYPES, TIME_TYPES, CdfFile, import_cdflib, is_cdf, tt2000,
)
from seismag.sources.station_record import (
    MinuteReducer, Segment, StationHeader, StationRecord, join_segments, read_record,
)

__all__ = [
    "FORMAT_DESCRIPTION",
    "FORMAT_VERSION",
    "ImagCdfHeader",
    "is_imagcdf",
    "read_imagcdf",
    "read_imagcdf_header",
    "write_imagcdf",
]

#: What the writer puts in ``FormatDescription`` and ``FormatVersion``.
FORMAT_DESCRIPTION = "INTERMAGNET CDF Format"
FORMAT_VERSION = "1.2"

_FIELD_PREFIX = "GeomagneticField"
_FILL_VALUE = 99999.0
_ANGLES = ("D", "I")  # degrees of arc in ImagCDF, arc-minutes in a StationRecord
_SCALAR = ("S", "G")  # independent scalar instrument: its own time stamps when it has them
_PUBLICATION_LEVELS = ("1", "2", "3", "4")
_STANDARD_LEVELS = ("None", "Partial", "Full")


@dataclass(frozen=True)
class _Element:
    """One ``GeomagneticField<E>`` variable: where its samples and time stamps are, how to read them."""

    variable: str
    time_variable: str
    records: int
    units: str
    scale: float  # samples times scale = record units (60 for degrees -> arc-minutes)
    fill_value: float


@dataclass(frozen=True)
class ImagCdfHeader(StationHeader):
    """Metadata of one ImagCDF file, from its global and variable attributes.

    ``columns`` are the element letters that have a ``GeomagneticField<E>`` variable, in
    ``ElementsRecorded`` order, then any other such variable in file order; ``interval_type``
    names the sampling of the first element's time stamps (``'1-minute'``, ``'1-second'``,
    ``'10-second'``, ...); ``fields`` holds the first entry of every global attribute.
    The station's fields are :class:`~seismag.sources.station_record.StationHeader`'s and
    the other names match :class:`~seismag.sources.iaga.IagaHeader` where they mean the
    same, so the shared record assembly (:func:`~seismag.sources.station_record.read_record`)
    reads both.
    """

    format_version: str
    publication_level: str
    elements_recorded: str
    columns: tuple[str, ...]
    interval_type: str
    elements: dict = field(default_factory=dict, compare=False, repr=False)
    fields: dict = field(default_factory=dict, compare=False, repr=False)


def is_imagcdf(path: str | os.PathLike) -> bool:
    """True when the file starts with the CDF magic numbers (no cdflib needed).

    Any CDF file passes; whether it holds ImagCDF is checked when its header is read
    (:func:`read_imagcdf_header`).
    """
    return is_cdf(path)


def read_imagcdf_header(path: str | os.PathLike) -> ImagCdfHeader:
    """Read the attributes of one ImagCDF file (and its first two time stamps, not its data).

    Raises DataError naming the file for: cdflib not installed, not a CDF file, a damaged
    or truncated CDF, no or a foreign ``FormatDescription``, a missing ``IagaCode``,
    ``Latitude`` or ``Longitude``, no ``GeomagneticField<E>`` variable, an element whose
    time stamps are missing, of a non-time type or of another length, or whose units are
    not nT (degrees or arc-minutes for D and I).
    """
    path = os.fspath(path)
    with CdfFile(path) as cdf:
        return _header(cdf, path)


def read_imagcdf(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    components: Sequence[str] | None = None,
    min_second_coverage: float = 0.5,
) -> StationRecord:
    """Read one station's ImagCDF files into a regular 1-minute record.

    The same record :func:`~seismag.sources.iaga.read_iaga2002` gives for the same samples:
    the parameters (``components`` names ImagCDF elements), the gridding, missing values,
    derived H, overlaps and gaps are :func:`~seismag.sources.station_record.read_record`'s.
    D and I are converted from degrees to arc-minutes; the record's ``reported`` lists the
    elements the files hold, ``interval_types`` their sampling.

    Raises
    ------
    DataError
        Naming the file: cdflib missing, not ImagCDF, damaged, a missing required
        attribute, files of different stations, sampling coarser than one minute, a
        requested component no file has, an infinite sample or a fill-value time stamp.
    """
    return read_record(
        paths,
        components=components,
        min_second_coverage=min_second_coverage,
        read_header=read_imagcdf_header,
        read_segment=_read_segment,
        reader="read_imagcdf",
    )


def write_imagcdf(
    record: StationRecord,
    path: str | os.PathLike,
    *,
    components: Sequence[str] | None = None,
    publication_level: str = "1",
    institution: str = "unknown",
    source: str = "institute",
    standard_level: str = "None",
    publication_date: np.datetime64 | None = None,
) -> Path:
    """Write a record as one ImagCDF 1.2 file (atomically; any file name works).

    All elements share one time-stamp variable, ``DataTimes`` (CDF_TIME_TT2000, minute
    starts), as the specification recommends when one serves all. NaN is written as the
    fill value 99999.0; D and I are written in degrees of arc (the record's arc-minutes
    divided by 60); variables are gzip-compressed inside an uncompressed file, so a
    reader decompresses only what it reads.

    Parameters
    ----------
    record
        The record to write.
    components
        Element letters to write, in order; None writes every component the record read
        (not those it derived, such as H from X and Y, which a reader derives again).
    publication_level
        ``PublicationLevel``: "1" raw, "2" edited, "3" quasi-definitive, "4" definitive.
    institution, source, standard_level
        ``Institution``, ``Source`` ("institute", "INTERMAGNET" or "WDC") and
        ``StandardLevel`` ("None", "Partial" or "Full"), which the record does not hold.
    publication_date
        ``PublicationDate``; None writes the current time.

    Returns
    -------
    Path
        ``path``, whatever its suffix (the file is written under the name given).

    Raises
    ------
    ConfigError
        cdflib is not installed, or a setting is not one the specification allows.
    DataError
        A component the record does not have.
    OutputError
        The file cannot be written.
    """
    target = Path(path)
    cdflib = import_cdflib()
    if cdflib is None:
        raise ConfigError(f"writing ImagCDF ({target}) needs cdflib: {INSTALL_HINT}")
    names = [c for c in record.components if c not in record.derived] if components is None else list(components)
    if not names:
        raise ConfigError(f"nothing to write to {target}: the record has no components")
    for name in names:
        if not (isinstance(name, str) and len(name) == 1 and name.isalpha() and name.isupper()):
            raise ConfigError(f"ImagCDF element codes are single capital letters, got {name!r}")
        record.component(name)  # DataError naming the record's files when absent
    if str(publication_level) not in _PUBLICATION_LEVELS:
        raise ConfigError(f"publication_level must be one of {', '.join(_PUBLICATION_LEVELS)}, got {publication_level!r}")
    if source not in ("institute", "INTERMAGNET", "WDC"):
        raise ConfigError(f"source must be 'institute', 'INTERMAGNET' or 'WDC', got {source!r}")
    if standard_level not in _STANDARD_LEVELS:
        raise ConfigError(f"standard_level must be one of {', '.join(_STANDARD_LEVELS)}, got {standard_level!r}")

    minute_ms = record.times().astype("datetime64[ms]").astype(np.int64)
    published = np.datetime64("now", "ms") if publication_date is None else np.datetime64(publication_date, "ms")
    attributes = {
        "FormatDescription": FORMAT_DESCRIPTION,
        "FormatVersion": FORMAT_VERSION,
        "Title": "Geomagnetic time series data",
        "IagaCode": record.iaga_code,
        "ElementsRecorded": "".join(names),
        "PublicationLevel": str(publication_level),
        "PublicationDate": [int(tt2000(cdflib, np.array([published.astype(np.int64)]))[0]), "CDF_TIME_TT2000"],
        "ObservatoryName": record.station_name or record.iaga_code,
        "Latitude": float(record.latitude),
        "Longitude": float(record.longitude),
        "Elevation": float(record.elevation) if record.elevation is not None else _FILL_VALUE,
        "Institution": institution,
        "StandardLevel": standard_level,
        "Source": source,
    }
    with atomic_path(target, suffix=".cdf") as tmp:
        # The temporary name ends in .cdf: cdflib would otherwise swap the suffix for it.
        writer = cdflib.cdfwrite.CDF(tmp, cdf_spec={"Compressed": 0}, delete=True)
        try:
            writer.write_globalattrs({key: {0: value} for key, value in attributes.items()})
            writer.write_var(
                {"Variable": "DataTimes", "Data_Type": CDF_TIME_TT2000, "Num_Elements": 1,
                 "Rec_Vary": True, "Dim_Sizes": []},
                var_attrs={},
                var_data=tt2000(cdflib, minute_ms),
            )
            for name in names:
                values = np.asarray(record.components[name], dtype=np.float64)
                angle = name in _ANGLES
                samples = values / 60.0 if angle else values.copy()
                samples[np.isnan(samples)] = _FILL_VALUE
                low, high = _valid_range(name)
                writer.write_var(
                    {"Variable": _FIELD_PREFIX + name, "Data_Type": CDF_DOUBLE, "Num_Elements": 1,
                     "Rec_Vary": True, "Dim_Sizes": [], "Compress": 6},
                    var_attrs={
                        "FIELDNAM": f"Geomagnetic Field Element {name}",
                        "UNITS": "Degrees of arc" if angle else "nT",
                        "FILLVAL": [_FILL_VALUE, "CDF_DOUBLE"],
                        "VALIDMIN": [low, "CDF_DOUBLE"],
                        "VALIDMAX": [high, "CDF_DOUBLE"],
                        "DEPEND_0": "DataTimes",
                        "DISPLAY_TYPE": "time_series",
                        "LABLAXIS": name,
                    },
                    var_data=samples,
                )
        finally:
            writer.close()
    return target


# --------------------------------------------------------------------------- internals


def _first(values: dict, key: str):
    entries = values.get(key)
    if entries is None:
        return None
    if isinstance(entries, (list, tuple)):
        return entries[0] if entries else None
    return entries


def _number(path: str, key: str, value) -> float:
    try:
        number = float(np.asarray(value).reshape(-1)[0]) if not isinstance(value, str) else float(value.split()[0])
    except (ValueError, IndexError, TypeError):
        raise DataError(path, f"ImagCDF global attribute {key!r} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise DataError(path, f"ImagCDF global attribute {key!r} is not a finite number: {value!r}")
    return number


def _plain(value):
    """An attribute entry as a plain Python value (str, float, int or list of those)."""
    if isinstance(value, np.ndarray):
        return value.item() if value.size == 1 else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _header(cdf: CdfFile, path: str) -> ImagCdfHeader:
    attributes = cdf.global_attributes()
    description = _first(attributes, "FormatDescription")
    if description is None:
        raise DataError(path, "a CDF file without the FormatDescription global attribute, so not ImagCDF")
    if not str(description).strip().upper().startswith("INTERMAGNET CDF"):
        raise DataError(path, f"FormatDescription is {str(description)!r}, not {FORMAT_DESCRIPTION!r}: not ImagCDF")
    for key in ("IagaCode", "Latitude", "Longitude"):
        value = _first(attributes, key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise DataError(path, f"ImagCDF global attribute {key!r} is missing (needed to place the station)")
    code = str(_first(attributes, "IagaCode")).strip().upper()
    latitude = _number(path, "Latitude", _first(attributes, "Latitude"))
    longitude = _number(path, "Longitude", _first(attributes, "Longitude"))
    if not -90.0 <= latitude <= 90.0:
        raise DataError(path, f"Latitude {latitude} outside -90..90")
    elevation = None
    if _first(attributes, "Elevation") is not None:
        elevation = _number(path, "Elevation", _first(attributes, "Elevation"))
        if abs(elevation - _FILL_VALUE) < 0.005:  # the specification's "not known"
            elevation = None
    recorded = str(_first(attributes, "ElementsRecorded") or "").strip().upper()

    variables = cdf.variables()
    fields = {name[len(_FIELD_PREFIX):].upper(): name for name in variables
              if name.startswith(_FIELD_PREFIX) and len(name) == len(_FIELD_PREFIX) + 1}
    if not fields:
        raise DataError(path, "no GeomagneticField<E> variable: no geomagnetic data in this ImagCDF file")
    columns = [c for c in dict.fromkeys(recorded) if c in fields]
    columns += [c for c in fields if c not in columns]
    elements = {c: _element(cdf, path, c, fields[c], variables) for c in columns}

    first = elements[columns[0]]
    if first.records == 0:
        raise DataError(path, f"{first.variable} has no records")
    interval_type = "1-minute"  # one sample: the reader's default, as for IAGA-2002
    if first.records > 1:
        stamps = cdf.milliseconds(first.time_variable, 0, 2)
        interval_type = _interval_name(float(stamps[1] - stamps[0]) / 1000.0)
    return ImagCdfHeader(
        path=path,
        iaga_code=code,
        station_name=str(_first(attributes, "ObservatoryName") or "").strip(),
        latitude=latitude,
        longitude=longitude,
        elevation=elevation,
        format_version=str(_first(attributes, "FormatVersion") or "").strip(),
        publication_level=str(_plain(_first(attributes, "PublicationLevel")) or "").strip(),
        elements_recorded=recorded,
        columns=tuple(columns),
        interval_type=interval_type,
        elements=elements,
        fields={key: _plain(_first(attributes, key)) for key in attributes},
    )


def _element(cdf: CdfFile, path: str, letter: str, variable: str, variables: list[str]) -> _Element:
    attributes = cdf.attributes(variable)
    info = cdf.inquire(variable)
    if info.Data_Type not in NUMERIC_TYPES:
        raise DataError(path, f"{variable} holds {info.Data_Type_Description}, not numbers")
    if info.Num_Dims != 0:
        raise DataError(path, f"{variable} has {info.Num_Dims} dimensions; ImagCDF holds one sample a record")

    time_variable = attributes.get("DEPEND_0")
    if time_variable is None:  # optional in the specification: fall back on its names
        for candidate in ("DataTimes",
                          "GeomagneticScalarTimes" if letter in _SCALAR else "GeomagneticVectorTimes",
                          "GeomagneticVectorTimes"):
            if candidate in variables:
                time_variable = candidate
                break
        else:
            raise DataError(path, f"{variable} has no DEPEND_0 and the file has no DataTimes or "
                                  "GeomagneticVectorTimes/GeomagneticScalarTimes variable")
    time_variable = str(time_variable).strip()
    if time_variable not in variables:
        raise DataError(path, f"{variable}: its time stamps {time_variable!r} (DEPEND_0) are not in the file")
    time_info = cdf.inquire(time_variable)
    if time_info.Data_Type not in TIME_TYPES:
        raise DataError(path, f"{time_variable} holds {time_info.Data_Type_Description}, not CDF time stamps "
                              f"({', '.join(TIME_TYPES.values())})")
    records, stamps = int(info.Last_Rec) + 1, int(time_info.Last_Rec) + 1
    if records != stamps:
        raise DataError(path, f"{variable} has {records} records but its time stamps {time_variable} have {stamps}")

    units = str(attributes.get("UNITS") or "").strip()
    lowered = units.lower()
    if letter in _ANGLES:
        if "min" in lowered:  # arc-minutes, as IAGA-2002 has them (not the specification's)
            scale = 1.0
        elif not lowered or "deg" in lowered:
            scale = 60.0
        else:
            raise DataError(path, f"{variable} is in {units!r}; degrees of arc expected")
    else:
        if lowered not in ("", "nt"):
            raise DataError(path, f"{variable} is in {units!r}; nT expected")
        scale = 1.0

    fill = attributes.get("FILLVAL")
    try:
        fill_value = float(np.asarray(fill).reshape(-1)[0]) if fill is not None else _FILL_VALUE
    except (ValueError, IndexError, TypeError):
        raise DataError(path, f"{variable}: FILLVAL {fill!r} is not a number") from None
    return _Element(variable=variable, time_variable=time_variable, records=records, units=units,
                    scale=scale, fill_value=fill_value)


def _interval_name(seconds: float) -> str:
    if seconds == 60.0:
        return "1-minute"
    if seconds == 1.0:
        return "1-second"
    return f"{seconds:g}-second"


def _read_segment(header: ImagCdfHeader, wanted: list[str], min_second_coverage: float) -> Segment:
    """The file reduced to minutes: each time-stamp variable through its own reducer, then joined."""
    needed = [c for c in header.columns if c in wanted]
    derive_h = "H" in wanted and "H" not in header.columns and "X" in header.columns and "Y" in header.columns
    if derive_h:
        x_time, y_time = header.elements["X"].time_variable, header.elements["Y"].time_variable
        if x_time != y_time:
            raise DataError(header.path, f"X and Y have different time stamps ({x_time}, {y_time}); "
                                         "H cannot be derived sample by sample")
        needed += [c for c in ("X", "Y") if c not in needed]
    if not needed:  # nothing asked for is here: the file still covers its minutes
        needed = [header.columns[0]]
    groups: dict[str, list[str]] = {}
    for letter in header.columns:  # file order inside each group
        if letter in needed:
            groups.setdefault(header.elements[letter].time_variable, []).append(letter)

    parts = []
    with CdfFile(header.path) as cdf:
        for time_variable, letters in groups.items():
            reducer = MinuteReducer(header.path, letters, wanted)
            records = header.elements[letters[0]].records
            chunk = station_record.CHUNK_ROWS
            for start in range(0, records, chunk):
                stop = min(records, start + chunk)
                raw = np.empty((stop - start, len(letters)))
                for k, letter in enumerate(letters):
                    raw[:, k] = _samples(cdf, header.elements[letter], start, stop)
                reducer.add(cdf.milliseconds(time_variable, start, stop), raw)
            parts.append(reducer.finish(min_second_coverage, empty=f"{time_variable} has no records"))
    return join_segments(parts)


def _samples(cdf: CdfFile, element: _Element, start: int, stop: int) -> np.ndarray:
    """One element's samples in record units; the fill value and NaN become NaN."""
    raw = cdf.records(element.variable, start, stop).astype(np.float64)
    infinite = np.flatnonzero(np.isinf(raw))
    if infinite.size:
        raise DataError(cdf.path, f"{element.variable} record {start + int(infinite[0])}: infinite value")
    if math.isfinite(element.fill_value):
        raw[np.abs(raw - element.fill_value) < 0.005] = np.nan
    if element.scale != 1.0:
        raw *= element.scale
    return raw


def _valid_range(name: str) -> tuple[float, float]:
    if name == "D":
        return -360.0, 360.0
    if name == "I":
        return -90.0, 90.0
    if name in ("F", "S"):
        return 0.0, 79999.0
    return -79999.0, 79999.0
