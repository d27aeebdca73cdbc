"""Earthquake catalogs: reading USGS CSV exports, great-circle distances, preparation zones.

Two CSV layouts are recognised from their header line:

``comcat``
    The USGS ComCat search export
    (``time,latitude,longitude,depth,mag,magType,...,id,...,type,...``), ISO-8601 times
    such as ``2011-03-11T05:46:24.120Z``. ``id`` and ``type`` are used when present.
``usgs-significant``
    The "significant earthquakes 1965-2016" table
    (``Date,Time,Latitude,Longitude,Type,Depth,...,Magnitude,...,ID,...``). ``Date`` is
    ``MM/DD/YYYY`` with ``Time`` ``HH:MM:SS``; a few rows of the published table carry a full
    ISO-8601 timestamp in ``Date`` (``1975-02-23T02:58:41.000Z``), which is then used as is.

:func:`write_comcat_csv` writes the first layout (every column of a ComCat export, in its
order), which :func:`read_catalog` reads back.

Rows whose type is not an earthquake (nuclear explosions, explosions, rock bursts, quarry
blasts, ...) are excluded and counted in :attr:`Catalog.excluded`. All times are UTC.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from seismag.errors import DataError
from seismag.io import write_text

__all__ = [
    "EARTH_RADIUS_KM",
    "Catalog",
    "read_catalog",
    "write_comcat_csv",
    "haversine_km",
    "dobrovolsky_radius_km",
]

#: Mean Earth radius (IUGG), km. Used by :func:`haversine_km`.
EARTH_RADIUS_KM = 6371.0088

# Column names (compared case-insensitively) each layout needs. The error for an unknown
# layout lists these, so keep them in the spelling the user's file should have.
_COMCAT_REQUIRED = ("time", "latitude", "longitude", "depth", "mag")
_SIGNIFICANT_REQUIRED = ("Date", "Time", "Latitude", "Longitude", "Type", "Depth", "Magnitude", "ID")
#: The columns of a ComCat CSV export, in its order (what :func:`write_comcat_csv` writes).
COMCAT_COLUMNS = ("time", "latitude", "longitude", "depth", "mag", "magType", "nst", "gap", "dmin", "rms",
                  "net", "id", "updated", "place", "type", "horizontalError", "depthError", "magError",
                  "magNst", "status", "locationSource", "magSource")


@dataclass(frozen=True)
class Catalog:
    """Earthquakes as parallel NumPy arrays, sorted by time.

    Attributes
    ----------
    time : ndarray of datetime64[s], shape (n,)
        Origin time, UTC (fractions of a second truncated).
    latitude, longitude : ndarray of float64, shape (n,)
        Epicentre, degrees (longitude east, -180..180).
    depth_km : ndarray of float64, shape (n,)
        Hypocentre depth, km; NaN where the catalog gives none.
    magnitude : ndarray of float64, shape (n,)
    event_id : ndarray of str, shape (n,)
    start, end : datetime64[s]
        The time span the catalog is taken to be complete for. Labelling uses it: a window
        whose label horizon is not inside ``[start, end]`` cannot be labelled class 0 honestly
        and is dropped. By default the first and last origin time of *all* rows of the file
        (before excluding non-earthquakes or small magnitudes).
    path : str
        The file read ('' for a catalog built in memory).
    layout : str
        ``'comcat'``, ``'usgs-significant'`` or ``''``.
    excluded : dict
        Rows left out, by reason (``'type=Nuclear Explosion'``, ``'magnitude<5.5'``, ...).
    """

    time: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    depth_km: np.ndarray
    magnitude: np.ndarray
    event_id: np.ndarray
    start: np.datetime64
    end: np.datetime64
    path: str = ""
    layout: str = ""
    excluded: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.time.shape[0])

    def select(self, mask: np.ndarray) -> "Catalog":
        """The events where ``mask`` is true; span, path, layout and exclusions kept."""
        mask = np.asarray(mask)
        return dataclasses.replace(
            self,
            time=self.time[mask],
            latitude=self.latitude[mask],
            longitude=self.longitude[mask],
            depth_km=self.depth_km[mask],
            magnitude=self.magnitude[mask],
            event_id=self.event_id[mask],
        )

    @classmethod
    def from_events(
        cls,
        events: Iterable[tuple],
        *,
        start=None,
        end=None,
    ) -> "Catalog":
        """Build a catalog in memory from ``(time, lat, lon, depth_km, magnitude, event_id)`` tuples.

        ``time`` is anything ``numpy.datetime64`` accepts (ISO string, datetime). ``start`` and
        ``end`` default to the first and last event time. Handy for tests and notebooks.
        """
        rows = list(events)
        times = np.array([np.datetime64(r[0], "s") for r in rows], dtype="datetime64[s]")
        order = np.argsort(times, kind="stable")
        column = lambda k, dtype: np.array([r[k] for r in rows], dtype=dtype)[order]  # noqa: E731
        times = times[order]
        if start is None or end is None:
            if not rows:
                raise ValueError("an empty catalog needs an explicit start and end")
        return cls(
            time=times,
            latitude=column(1, np.float64),
            longitude=_wrap_longitude(column(2, np.float64)),
            depth_km=column(3, np.float64),
            magnitude=column(4, np.float64),
            event_id=column(5, str) if rows else np.array([], dtype=str),
            start=np.datetime64(start, "s") if start is not None else times[0],
            end=np.datetime64(end, "s") if end is not None else times[-1],
        )


def read_catalog(
    path: str | os.PathLike,
    min_magnitude: float | None = None,
    *,
    span: tuple | None = None,
    include_types: Iterable[str] = ("earthquake",),
) -> Catalog:
    """Read an earthquake catalog CSV (USGS ComCat export or USGS significant-earthquakes table).

    Parameters
    ----------
    path
        The CSV file.
    min_magnitude
        Keep only events of at least this magnitude (None keeps all). Rows below it are
        counted in ``excluded``; they still count for the catalog's time span.
    span
        ``(start, end)`` the catalog is complete for (anything ``numpy.datetime64`` accepts),
        e.g. the start and end of the ComCat query. Default: first and last origin time of
        all rows in the file.
    include_types
        Event types kept (case-insensitive); every other type is excluded. Rows of a ComCat
        export without a ``type`` column are all kept.

    Returns
    -------
    Catalog
        Sorted by time.

    Raises
    ------
    DataError
        Missing or empty file, a header of another layout (the message lists the columns
        each supported layout needs), or a row that cannot be read (the message gives the
        line number and column).
    """
    path = os.fspath(path)
    keep_types = {t.strip().lower() for t in include_types}
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(path, f"cannot open the catalog: {exc.strerror or exc}") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise DataError(path, "the catalog is empty (no header line)")
        names = [name.strip() for name in header]
        lower = {name.lower(): index for index, name in enumerate(names)}
        if all(name in lower for name in _COMCAT_REQUIRED):
            layout = "comcat"
            row_parser = _comcat_row_parser(lower)
        elif all(name.lower() in lower for name in _SIGNIFICANT_REQUIRED):
            layout = "usgs-significant"
            row_parser = _significant_row_parser(lower)
        else:
            raise DataError(
                path,
                "unknown catalog layout; expected the USGS ComCat CSV export (columns "
                + ", ".join(_COMCAT_REQUIRED)
                + ") or the USGS significant-earthquakes table (columns "
                + ", ".join(_SIGNIFICANT_REQUIRED)
                + f"); found columns: {', '.join(names) or '(none)'}",
            )

        times: list[_dt.datetime] = []
        lats: list[float] = []
        lons: list[float] = []
        depths: list[float] = []
        mags: list[float] = []
        ids: list[str] = []
        excluded: dict[str, int] = {}
        first_time: _dt.datetime | None = None
        last_time: _dt.datetime | None = None
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) < len(names):
                raise DataError(path, f"line {line}: {len(row)} fields, the header has {len(names)}")
            try:
                time, lat, lon, depth, mag, event_type, event_id = row_parser(row)
            except _BadField as bad:
                raise DataError(path, f"line {line}: column {bad.column!r}: {bad.problem}") from None
            # The span covers every row the catalog lists, whatever its type or magnitude:
            # a quiet stretch of an M>=5.5 catalog is still a stretch it covers.
            first_time = time if first_time is None or time < first_time else first_time
            last_time = time if last_time is None or time > last_time else last_time
            if event_type is not None and event_type.lower() not in keep_types:
                reason = f"type={event_type}"
                excluded[reason] = excluded.get(reason, 0) + 1
                continue
            if mag is None or np.isnan(mag):
                excluded["no magnitude"] = excluded.get("no magnitude", 0) + 1
                continue
            if min_magnitude is not None and mag < min_magnitude:
                reason = f"magnitude<{min_magnitude:g}"
                excluded[reason] = excluded.get(reason, 0) + 1
                continue
            times.append(time)
            lats.append(lat)
            lons.append(lon)
            depths.append(depth)
            mags.append(mag)
            ids.append(event_id if event_id else f"{path}:{line}")

    if first_time is None:
        raise DataError(path, "the catalog has a header but no events")
    time_array = np.array([np.datetime64(t, "s") for t in times], dtype="datetime64[s]")
    order = np.argsort(time_array, kind="stable")
    if span is not None:
        start, end = (np.datetime64(value, "s") for value in span)
        if end < start:
            raise DataError(path, f"span end {end} is before span start {start}")
    else:
        start, end = np.datetime64(first_time, "s"), np.datetime64(last_time, "s")
    return Catalog(
        time=time_array[order],
        latitude=np.array(lats, dtype=np.float64)[order],
        longitude=_wrap_longitude(np.array(lons, dtype=np.float64))[order],
        depth_km=np.array(depths, dtype=np.float64)[order],
        magnitude=np.array(mags, dtype=np.float64)[order],
        event_id=np.array(ids, dtype=str)[order] if ids else np.array([], dtype=str),
        start=start,
        end=end,
        path=path,
        layout=layout,
        excluded=excluded,
    )


def write_comcat_csv(
    path: str | os.PathLike,
    catalog: Catalog,
    *,
    mag_types: Sequence[str] | str = "mw",
    places: Sequence[str] | None = None,
    types: Sequence[str] | str = "earthquake",
    net: str = "",
) -> Path:
    """Write ``catalog`` as a USGS ComCat CSV export (:data:`COMCAT_COLUMNS`), atomically.

    Times are written ``YYYY-MM-DDTHH:MM:SS.000Z``, positions with 4 decimals, depth with
    2 (empty when NaN), magnitudes with 2; ``updated`` repeats the origin time, ``status``
    is ``reviewed`` and the columns a catalog does not hold (nst, gap, errors, ...) are
    empty. ``mag_types``, ``places`` and ``types`` are one value for every row or one
    per row, in the catalog's (time) order.
    """
    n_rows = len(catalog)

    def per_row(value, name: str) -> list[str]:
        if isinstance(value, str):
            return [value] * n_rows
        value = [str(v) for v in value]
        if len(value) != n_rows:
            raise ValueError(f"{name} has {len(value)} entries for {n_rows} events")
        return value

    mag_type_of, place_of = per_row(mag_types, "mag_types"), per_row(places if places is not None else "", "places")
    type_of = per_row(types, "types")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COMCAT_COLUMNS)
    for i in range(n_rows):
        stamp = f"{np.datetime_as_string(catalog.time[i].astype('datetime64[s]'), unit='s')}.000Z"
        depth = "" if np.isnan(catalog.depth_km[i]) else f"{catalog.depth_km[i]:.2f}"
        row = {"time": stamp, "latitude": f"{catalog.latitude[i]:.4f}", "longitude": f"{catalog.longitude[i]:.4f}",
               "depth": depth, "mag": f"{catalog.magnitude[i]:.2f}", "magType": mag_type_of[i], "net": net,
               "id": str(catalog.event_id[i]), "updated": stamp, "place": place_of[i], "type": type_of[i],
               "status": "reviewed"}
        writer.writerow([row.get(column, "") for column in COMCAT_COLUMNS])
    return write_text(path, text.getvalue())


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray | float:
    """Great-circle distance in km between points given in degrees (broadcasts like NumPy).

    Uses the haversine formula on a sphere of radius :data:`EARTH_RADIUS_KM`; the error
    against the ellipsoid is below 0.5 %, far below the uncertainty of a preparation zone.
    """
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb / 2.0) ** 2
    distance = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return float(distance) if np.ndim(distance) == 0 else distance


def dobrovolsky_radius_km(magnitude) -> np.ndarray | float:
    """Radius of the earthquake preparation zone, km: ``R = 10 ** (0.43 * M)``.

    Dobrovolsky, Zubkov & Miachkin (1979), Pure Appl. Geophys. 117, 1025-1044.
    M5.5 gives 232 km, M7 1023 km, M9 7413 km.
    """
    radius = np.power(10.0, 0.43 * np.asarray(magnitude, dtype=np.float64))
    return float(radius) if np.ndim(radius) == 0 else radius


# --------------------------------------------------------------------------- internals


class _BadField(Exception):
    def __init__(self, column: str, problem: str):
        super().__init__(problem)
        self.column = column
        self.problem = problem


def _wrap_longitude(lon: np.ndarray) -> np.ndarray:
    """Longitudes to [-180, 180): catalogs and observatories mix 0..360 and -180..180."""
    return (lon + 180.0) % 360.0 - 180.0


def _number(row: list[str], index: int, column: str, *, required: bool) -> float:
    text = row[index].strip()
    if not text:
        if required:
            raise _BadField(column, "empty")
        return float("nan")
    try:
        value = float(text)
    except ValueError:
        raise _BadField(column, f"not a number: {text!r}") from None
    if not np.isfinite(value):
        raise _BadField(column, f"not a finite number: {text!r}")
    return value


def _latlon(row, lat_index, lon_index, lat_name, lon_name) -> tuple[float, float]:
    lat = _number(row, lat_index, lat_name, required=True)
    lon = _number(row, lon_index, lon_name, required=True)
    if not -90.0 <= lat <= 90.0:
        raise _BadField(lat_name, f"latitude {lat} outside -90..90")
    if not -180.0 <= lon <= 360.0:
        raise _BadField(lon_name, f"longitude {lon} outside -180..360")
    return lat, lon


def _parse_iso(text: str, column: str) -> _dt.datetime:
    """ISO-8601 date-time; a trailing ``Z`` or offset is converted to naive UTC."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        moment = _dt.datetime.fromisoformat(value)
    except ValueError:
        # Python 3.10's fromisoformat wants exactly 3 or 6 fraction digits.
        head, dot, rest = value.partition(".")
        if not dot:
            raise _BadField(column, f"not an ISO-8601 time: {text!r}") from None
        digits = "".join(ch for ch in rest if ch.isdigit())
        zone = rest[len(digits):]
        try:
            moment = _dt.datetime.fromisoformat(f"{head}.{(digits + '000000')[:6]}{zone}")
        except ValueError:
            raise _BadField(column, f"not an ISO-8601 time: {text!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0)


def _comcat_row_parser(columns: dict[str, int]):
    t, la, lo, de, ma = (columns[name] for name in _COMCAT_REQUIRED)
    ty = columns.get("type")
    ident = columns.get("id")

    def parse(row):
        time = _parse_iso(row[t], "time")
        lat, lon = _latlon(row, la, lo, "latitude", "longitude")
        depth = _number(row, de, "depth", required=False)
        mag = _number(row, ma, "mag", required=False)
        event_type = row[ty].strip() if ty is not None else None
        event_id = row[ident].strip() if ident is not None else ""
        return time, lat, lon, depth, mag, event_type, event_id

    return parse


def _significant_row_parser(columns: dict[str, int]):
    d, t, la, lo, ty, de, ma, ident = (columns[name.lower()] for name in _SIGNIFICANT_REQUIRED)

    def parse(row):
        date_text = row[d].strip()
        if "T" in date_text:
            # The published table has a few rows whose Date (and Time) hold a full ISO
            # timestamp instead of MM/DD/YYYY + HH:MM:SS.
            time = _parse_iso(date_text, "Date")
        else:
            time = _parse_date_and_time(date_text, row[t].strip())
        lat, lon = _latlon(row, la, lo, "Latitude", "Longitude")
        depth = _number(row, de, "Depth", required=False)
        mag = _number(row, ma, "Magnitude", required=False)
        return time, lat, lon, depth, mag, row[ty].strip(), row[ident].strip()

    return parse


def _parse_date_and_time(date_text: str, time_text: str) -> _dt.datetime:
    try:
        if "/" in date_text:
            month, day, year = (int(part) for part in date_text.split("/"))
        else:
            year, month, day = (int(part) for part in date_text.split("-"))
        date = _dt.date(year, month, day)
    except ValueError:
        raise _BadField("Date", f"not MM/DD/YYYY or YYYY-MM-DD: {date_text!r}") from None
    try:
        clock = _dt.time.fromisoformat(time_text)
    except ValueError:
        if "T" in time_text:  # an ISO timestamp in Time as well: take its clock part
            return _dt.datetime.combine(date, _parse_iso(time_text, "Time").time())
        raise _BadField("Time", f"not HH:MM:SS: {time_text!r}") from None
    return _dt.datetime.combine(date, clock.replace(microsecond=0, tzinfo=None))
