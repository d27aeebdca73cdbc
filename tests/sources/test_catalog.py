"""Earthquake catalogs: both USGS layouts, exclusions, distances, preparation-zone radius."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from seismag.sources.catalog import (
    EARTH_RADIUS_KM,
    Catalog,
    dobrovolsky_radius_km,
    haversine_km,
    read_catalog,
)
from seismag.errors import DataError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SIGNIFICANT = SHARED / "catalog" / "usgs_significant_1965_2016.csv"

COMCAT_HEADER = (
    "time,latitude,longitude,depth,mag,magType,nst,gap,dmin,rms,net,id,updated,place,type,"
    "horizontalError,depthError,magError,magNst,status,locationSource,magSource"
)
SIGNIFICANT_HEADER = (
    "Date,Time,Latitude,Longitude,Type,Depth,Depth Error,Depth Seismic Stations,Magnitude,"
    "Magnitude Type,Magnitude Error,Magnitude Seismic Stations,Azimuthal Gap,Horizontal Distance,"
    "Horizontal Error,Root Mean Square,ID,Source,Location Source,Magnitude Source,Status"
)


def _comcat(tmp_path: Path) -> Path:
    rows = [
        '2011-03-11T05:46:24.120Z,38.297,142.373,29,9.1,mww,541,9.5,,1.16,official,'
        'official20110311054624120_30,2023-01-01T00:00:00.000Z,"2011 Great Tohoku Earthquake, Japan",'
        'earthquake,,,,,reviewed,official,official',
        '2011-03-09T02:45:20.330Z,38.435,142.842,32,7.3,mww,,,,,us,usp000hvhj,,"off the east coast, Japan",'
        'earthquake,,,,,reviewed,us,us',
        '2011-03-10T12:00:00Z,40.0,250.5,0,5.0,ml,,,,,us,qb1,,"a quarry",quarry blast,,,,,reviewed,us,us',
        '2011-03-12T00:00:00.5+09:00,35.0,139.0,,,mb,,,,,us,nomag,,"no magnitude",earthquake,,,,,reviewed,us,us',
        '2011-03-01T10:00:00.000Z,35.0,-120.0,8.5,5.6,mw,,,,,ci,ci1,,"California",earthquake,,,,,reviewed,ci,ci',
    ]
    path = tmp_path / "comcat.csv"
    path.write_text(COMCAT_HEADER + "\n" + "\n".join(rows) + "\n")
    return path


def _significant(tmp_path: Path) -> Path:
    rows = [
        "01/02/1965,13:44:18,19.246,145.616,Earthquake,131.6,,,6,MW,,,,,,,ISCGEM860706,ISCGEM,ISCGEM,ISCGEM,Automatic",
        # The published table has a few rows with ISO timestamps in Date and Time.
        "1975-02-23T02:58:41.000Z,1975-02-23T02:58:41.000Z,8.017,124.075,Earthquake,623,,,5.6,MB,,,,,,,"
        "USP0000A09,US,US,US,Reviewed",
        "10/28/1965,13:00:00,37.1,-116.05,Nuclear Explosion,0,,,5.7,MB,,,,,,,USP00001TA,US,US,US,Reviewed",
        "02/05/2010,06:59:05,-47.911,99.593,Rock Burst,1,,203,6.2,MWC,,,43.9,,,1.14,USP000H6Z1,US,US,US,Reviewed",
        "12/30/2016,20:08:28,37.3973,141.4103,Earthquake,11.94,2.2,,5.5,MB,0.029,428,97,0.681,4.5,0.91,"
        "US10007NTD,US,US,US,Reviewed",
    ]
    path = tmp_path / "significant.csv"
    path.write_text(SIGNIFICANT_HEADER + "\n" + "\n".join(rows) + "\n")
    return path


def test_real_significant_catalog():
    if not SIGNIFICANT.exists():
        pytest.skip(f"real data not present: {SIGNIFICANT}")
    catalog = read_catalog(SIGNIFICANT)
    assert catalog.layout == "usgs-significant"
    assert len(catalog) == 23_232  # 23,412 rows less 180 that are not earthquakes
    assert catalog.excluded == {"type=Nuclear Explosion": 175, "type=Explosion": 4, "type=Rock Burst": 1}
    assert catalog.time.dtype == np.dtype("datetime64[s]")
    assert np.all(np.diff(catalog.time.astype(np.int64)) >= 0)
    assert catalog.start == np.datetime64("1965-01-02T13:44:18")
    assert catalog.end == np.datetime64("2016-12-30T20:08:28")
    tohoku = np.flatnonzero(catalog.event_id == "OFFICIAL20110311054624120_30")
    assert tohoku.size == 1
    i = int(tohoku[0])
    assert catalog.time[i] == np.datetime64("2011-03-11T05:46:24")
    assert (catalog.latitude[i], catalog.longitude[i], catalog.depth_km[i], catalog.magnitude[i]) == (
        38.297, 142.373, 29.0, 9.1)
    strong = read_catalog(SIGNIFICANT, min_magnitude=8.0)
    assert 0 < len(strong) < 100 and strong.magnitude.min() >= 8.0
    assert strong.start == catalog.start and strong.end == catalog.end  # span from all rows


def test_comcat_layout(tmp_path):
    catalog = read_catalog(_comcat(tmp_path))
    assert catalog.layout == "comcat"
    assert catalog.event_id.tolist() == ["ci1", "usp000hvhj", "official20110311054624120_30"]
    assert catalog.time.tolist() == [
        np.datetime64("2011-03-01T10:00:00").item(),
        np.datetime64("2011-03-09T02:45:20").item(),
        np.datetime64("2011-03-11T05:46:24").item(),
    ]
    assert catalog.magnitude.tolist() == [5.6, 7.3, 9.1]
    assert catalog.excluded == {"type=quarry blast": 1, "no magnitude": 1}
    # The span covers every row, the +09:00 row converted to UTC (2011-03-11T15:00:00).
    assert catalog.start == np.datetime64("2011-03-01T10:00:00")
    assert catalog.end == np.datetime64("2011-03-11T15:00:00")


def test_significant_layout_mixed_dates_and_non_earthquakes(tmp_path):
    catalog = read_catalog(_significant(tmp_path))
    assert catalog.layout == "usgs-significant"
    assert catalog.event_id.tolist() == ["ISCGEM860706", "USP0000A09", "US10007NTD"]
    assert catalog.time[0] == np.datetime64("1965-01-02T13:44:18")
    assert catalog.time[1] == np.datetime64("1975-02-23T02:58:41")
    assert catalog.excluded == {"type=Nuclear Explosion": 1, "type=Rock Burst": 1}
    assert catalog.depth_km.tolist() == [131.6, 623.0, 11.94]


def test_min_magnitude_and_span(tmp_path):
    catalog = read_catalog(_significant(tmp_path), min_magnitude=5.6,
                           span=("1960-01-01", "2017-01-01T00:00:00"))
    assert catalog.magnitude.tolist() == [6.0, 5.6]
    assert catalog.excluded["magnitude<5.6"] == 1
    assert (catalog.start, catalog.end) == (np.datetime64("1960-01-01T00:00:00"), np.datetime64("2017-01-01T00:00:00"))


def test_unknown_layout_lists_needed_columns(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("when,lat,lon,size\n2011-03-11,38,142,9\n")
    with pytest.raises(DataError) as caught:
        read_catalog(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert "time, latitude, longitude, depth, mag" in message
    assert "Date, Time, Latitude, Longitude, Type, Depth, Magnitude, ID" in message
    assert "found columns: when, lat, lon, size" in message


def test_bad_rows_name_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(COMCAT_HEADER + "\n" + "2011-03-11T05:46:24Z,north,142,29,9.1" + ",x" * 17 + "\n")
    with pytest.raises(DataError, match=r"bad.csv: line 2: column 'latitude': not a number: 'north'"):
        read_catalog(path)
    path.write_text(SIGNIFICANT_HEADER + "\n" + "13/45/2011,05:46:24,38,142,Earthquake,29,,,9.1" + ",x" * 12 + "\n")
    with pytest.raises(DataError, match=r"line 2: column 'Date'"):
        read_catalog(path)
    path.write_text("")
    with pytest.raises(DataError, match="empty"):
        read_catalog(path)
    with pytest.raises(DataError, match="cannot open"):
        read_catalog(tmp_path / "absent.csv")


def test_catalog_from_events_and_select():
    catalog = Catalog.from_events([
        ("2020-01-02T00:00:00", 1.0, 359.0, 10.0, 6.0, "b"),
        ("2020-01-01T00:00:00", 2.0, 3.0, 5.0, 5.0, "a"),
    ], end="2020-12-31")
    assert catalog.event_id.tolist() == ["a", "b"]
    assert catalog.longitude.tolist() == [3.0, -1.0]  # wrapped to -180..180
    assert catalog.start == np.datetime64("2020-01-01T00:00:00")
    assert catalog.end == np.datetime64("2020-12-31T00:00:00")
    assert catalog.select(catalog.magnitude > 5.5).event_id.tolist() == ["b"]


def test_dobrovolsky_radius():
    assert dobrovolsky_radius_km(5.5) == pytest.approx(10 ** 2.365)
    assert dobrovolsky_radius_km(5.5) == pytest.approx(231.7, abs=0.1)
    assert dobrovolsky_radius_km(9.1) == pytest.approx(8185, rel=1e-3)
    np.testing.assert_allclose(dobrovolsky_radius_km(np.array([6.0, 7.0])), [380.19, 1023.29], rtol=1e-4)


def test_haversine_known_distances():
    quarter = math.pi / 2 * EARTH_RADIUS_KM
    assert haversine_km(0.0, 0.0, 0.0, 90.0) == pytest.approx(quarter)
    assert haversine_km(0.0, 0.0, 90.0, 0.0) == pytest.approx(quarter)
    assert haversine_km(10.0, 20.0, -10.0, -160.0) == pytest.approx(2 * quarter)  # antipodes
    # Paris (48.8566 N, 2.3522 E) - London (51.5074 N, 0.1278 W): 343.5 km great circle.
    assert haversine_km(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(343.5, abs=0.5)
    # One degree of a meridian: 111.2 km; longitudes east 0..360 and -180..180 agree.
    assert haversine_km(40.0, 254.764, 41.0, -105.236) == pytest.approx(111.19, abs=0.01)
    distances = haversine_km(0.0, 0.0, np.array([0.0, 0.0]), np.array([1.0, -1.0]))
    np.testing.assert_allclose(distances, [111.195, 111.195], atol=1e-3)


def test_write_comcat_csv_reads_back(tmp_path):
    from seismag.sources.catalog import COMCAT_COLUMNS, write_comcat_csv

    catalog = Catalog.from_events([("2020-01-08T12:00:00", 0.9, -170.25, 10.0, 6.0, "A"),
                                   ("2020-01-02T01:02:03", 35.0, 139.0, float("nan"), 5.55, "B")])
    path = write_comcat_csv(tmp_path / "cat.csv", catalog, places=["12 km N of X, Y", "Z"], mag_types=["ml", "mw"],
                            types=["earthquake", "quarry blast"])
    lines = path.read_text().splitlines()
    assert lines[0] == ",".join(COMCAT_COLUMNS)
    assert lines[1].startswith('2020-01-02T01:02:03.000Z,35.0000,139.0000,,5.55,ml,')
    assert '"12 km N of X, Y"' in lines[1]
    again = read_catalog(path)
    assert again.layout == "comcat" and again.event_id.tolist() == ["B"]  # the quarry blast is excluded
    assert again.excluded == {"type=quarry blast": 1}
    assert str(again.start) == "2020-01-02T01:02:03" and str(again.end) == "2020-01-08T12:00:00"
    assert np.isnan(again.depth_km[0]) and again.magnitude.tolist() == [5.55]
    with pytest.raises(ValueError, match="places"):
        write_comcat_csv(tmp_path / "x.csv", catalog, places=["one"])
