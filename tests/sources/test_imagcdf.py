"""ImagCDF reader and writer: the same record as IAGA-2002, from real and hand-made files.

Hand-made files are written with cdflib directly (not with write_imagcdf), in the layout of
the ImagCDF 1.2 specification, and most are compared with an IAGA-2002 twin holding the
same samples: both readers must give the same record.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import seismag.sources.station_record as station_record
from seismag.dataset.stations import find_station_files, read_station
from seismag.sources.cdf import INSTALL_HINT
from seismag.sources.iaga import read_iaga2002
from seismag.sources.imagcdf import is_imagcdf, read_imagcdf, read_imagcdf_header, write_imagcdf
from seismag.sources.records import read_record_header, read_station_record, record_format, station_files_in
from seismag.sources.station_record import Gap
from seismag.errors import ConfigError, DataError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MMB = SHARED / "observatory" / "mmb_2011_march.txt"
FIXTURES = Path(__file__).parent / "fixtures" / "iaga"
REPO = Path(__file__).resolve().parents[2]

CDF_EPOCH, CDF_TT2000, CDF_DOUBLE = 31, 33, 45


def _needs(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"real data not present: {path}")


# --------------------------------------------------------------------------- hand-made files


def _tt2000(cdflib, times: np.ndarray) -> np.ndarray:
    """TT2000 of datetime64 times, one cdflib call per time (independent of the module's own)."""
    parts = []
    for stamp in np.asarray(times, dtype="datetime64[ms]").astype(object):
        parts.append([stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second,
                      stamp.microsecond // 1000])
    return np.asarray(cdflib.cdfepoch.compute_tt2000(parts), dtype=np.int64)


def make_cdf(path: Path, groups: list[tuple[str, np.ndarray, dict]], *, code: str = "TST",
             recorded: str | None = None, drop: tuple = (), extra: dict | None = None,
             time_type: int = CDF_TT2000, units: dict | None = None, no_depend: bool = False) -> Path:
    """An ImagCDF file by hand: ``groups`` are (time variable, times, {letter: samples}).

    Angles are given in degrees (as the file holds them); NaN samples are written as
    99999.0. ``drop`` leaves global attributes out; ``units`` overrides UNITS per letter.
    """
    cdflib = pytest.importorskip("cdflib")
    letters = [c for _, _, values in groups for c in values]
    attributes = {
        "FormatDescription": "INTERMAGNET CDF Format", "FormatVersion": "1.2",
        "Title": "Geomagnetic time series data", "IagaCode": code,
        "ElementsRecorded": recorded if recorded is not None else "".join(letters),
        "PublicationLevel": "1", "ObservatoryName": "Hand-made", "Latitude": 50.0,
        "Longitude": 5.0, "Elevation": 99999.0, "Institution": "tests", "StandardLevel": "None",
        "Source": "institute",
    }
    attributes.update(extra or {})
    writer = cdflib.cdfwrite.CDF(str(path), delete=True)
    writer.write_globalattrs({k: {0: v} for k, v in attributes.items() if k not in drop})
    for time_name, times, values in groups:
        if time_type == CDF_EPOCH:
            stamps = np.asarray(cdflib.cdfepoch.compute_epoch(
                [[t.year, t.month, t.day, t.hour, t.minute, t.second, t.microsecond // 1000]
                 for t in np.asarray(times, dtype="datetime64[ms]").astype(object)]), dtype=np.float64)
        else:
            stamps = _tt2000(cdflib, times)
        writer.write_var({"Variable": time_name, "Data_Type": time_type, "Num_Elements": 1,
                          "Rec_Vary": True, "Dim_Sizes": []}, var_attrs={}, var_data=stamps)
        for letter, samples in values.items():
            samples = np.where(np.isnan(samples), 99999.0, samples).astype(np.float64)
            var_attrs = {"FIELDNAM": f"Geomagnetic Field Element {letter}",
                         "UNITS": (units or {}).get(letter, "Degrees of arc" if letter in "DI" else "nT"),
                         "FILLVAL": [99999.0, "CDF_DOUBLE"], "VALIDMIN": [-79999.0, "CDF_DOUBLE"],
                         "VALIDMAX": [79999.0, "CDF_DOUBLE"], "DEPEND_0": time_name,
                         "DISPLAY_TYPE": "time_series", "LABLAXIS": letter}
            if no_depend:
                del var_attrs["DEPEND_0"]
            writer.write_var({"Variable": "GeomagneticField" + letter, "Data_Type": CDF_DOUBLE,
                              "Num_Elements": 1, "Rec_Vary": True, "Dim_Sizes": []},
                             var_attrs=var_attrs, var_data=samples)
    writer.close()
    return path


def make_iaga(path: Path, times: np.ndarray, values: dict, *, code: str = "TST",
              interval: str = "1-minute") -> Path:
    """The IAGA-2002 twin of a one-group file: same samples, D in arc-minutes."""
    pairs = [("Format", "IAGA-2002"), ("Station Name", "Hand-made"), ("IAGA CODE", code),
             ("Geodetic Latitude", "50.000"), ("Geodetic Longitude", "5.000"),
             ("Reported", "".join(values)), ("Data Interval Type", interval)]
    lines = [" " + k.ljust(23) + v.ljust(45) + "|" for k, v in pairs]
    lines.append("DATE       TIME         DOY     " + "".join((code + c).ljust(10) for c in values) + "|")
    for i, stamp in enumerate(np.asarray(times, dtype="datetime64[ms]").astype(str)):
        day, clock = stamp.split("T")
        row = []
        for letter, samples in values.items():
            value = samples[i] * (60.0 if letter in "DI" else 1.0)
            row.append(f"{99999.0 if math.isnan(value) else value:10.3f}")
        lines.append(f"{day} {clock} 001 " + " ".join(row))
    path.write_text("\n".join(lines) + "\n")
    return path


def minutes(start: str, count: int) -> np.ndarray:
    return np.datetime64(start, "m") + np.arange(count).astype("timedelta64[m]")


def assert_same_record(cdf, text) -> None:
    """Every part of two records that does not name the files."""
    assert cdf.iaga_code == text.iaga_code and cdf.station_name == text.station_name
    assert (cdf.latitude, cdf.longitude) == (text.latitude, text.longitude)
    assert cdf.start == text.start and cdf.n_minutes == text.n_minutes
    assert list(cdf.components) == list(text.components)
    for name in text.components:
        np.testing.assert_array_equal(cdf.components[name], text.components[name], err_msg=name)
    assert cdf.reported == text.reported and cdf.derived == text.derived
    assert cdf.gaps == text.gaps
    assert cdf.sampling_seconds == text.sampling_seconds
    assert (cdf.duplicate_rows, cdf.overlap_minutes) == (text.duplicate_rows, text.overlap_minutes)


# --------------------------------------------------------------------------- real file round trip


def test_memambetsu_written_as_imagcdf_reads_back_as_its_iaga_twin(tmp_path):
    _needs(MMB)
    cdflib = pytest.importorskip("cdflib")
    text = read_iaga2002(MMB)
    path = write_imagcdf(text, tmp_path / "mmb_20110301_0000_4.cdf", publication_level="4",
                         publication_date=np.datetime64("2012-01-01T00:00"))
    assert is_imagcdf(path) and record_format(path) == "ImagCDF"

    cdf = read_imagcdf(path)
    assert_same_record(cdf, text)
    assert cdf.elevation == 42.0 and cdf.gaps == () and cdf.n_minutes == 44_640
    np.testing.assert_array_equal(cdf.times(), text.times())
    assert cdf.interval_types == ("1-minute",) and cdf.files == (str(path),)
    # The minute of the Tohoku origin (05:46 UTC), as test_iaga reads it from the text.
    i = int((np.datetime64("2011-03-11T05:46") - cdf.start).astype(int))
    assert [cdf.components[c][i] for c in "DHZF"] == [-531.92, 26099.90, 42220.80, 49636.00]

    # The file itself follows the specification: D in degrees, TT2000 minute stamps.
    raw = cdflib.cdfread.CDF(str(path))
    attributes = raw.globalattsget()
    assert attributes["FormatDescription"] == ["INTERMAGNET CDF Format"]
    assert attributes["IagaCode"] == ["MMB"] and attributes["ElementsRecorded"] == ["DHZF"]
    assert attributes["PublicationLevel"] == ["4"] and attributes["Latitude"] == [43.91]
    d = raw.varattsget("GeomagneticFieldD")
    assert d["UNITS"] == "Degrees of arc" and d["DEPEND_0"] == "DataTimes" and d["FILLVAL"] == 99999.0
    assert raw.varget("GeomagneticFieldD", startrec=0, endrec=0)[0] == pytest.approx(-522.41 / 60.0)
    stamps = raw.varget("DataTimes", startrec=0, endrec=1)
    assert list(stamps) == list(_tt2000(cdflib, minutes("2011-03-01T00:00", 2)))
    assert stamps[1] - stamps[0] == 60 * 10**9

    header = read_imagcdf_header(path)
    assert header.columns == ("D", "H", "Z", "F") and header.format_version == "1.2"
    assert header.publication_level == "4" and header.station_name == "Memambetsu"
    assert read_record_header(path).iaga_code == "MMB"

    # build reads the CDF through the dispatcher onto the same day grid.
    from_text, from_cdf = read_station([MMB], "H"), read_station([path], "H")
    np.testing.assert_array_equal(from_cdf.series, from_text.series)
    assert from_cdf.quality["missing_minutes"] == from_text.quality["missing_minutes"] == 0


def test_nan_is_written_as_the_fill_value_and_read_back_as_nan(tmp_path):
    pytest.importorskip("cdflib")
    text = read_iaga2002(FIXTURES / "tst_xy_gap.min")  # a gap at 00:04-00:05, sentinels at 00:02, 00:07
    path = write_imagcdf(text, tmp_path / "tst.cdf")
    cdf = read_imagcdf(path)
    # H was derived from X and Y: not written, derived again on reading.
    assert read_imagcdf_header(path).columns == ("X", "Y", "Z", "F")
    assert cdf.derived == ("H",)
    # The gap minutes are written as fill values, so the file covers them: no gap, all NaN.
    assert cdf.gaps == () and text.gaps == (Gap(np.datetime64("2020-01-01T00:04"), 2),)
    for name in text.components:
        np.testing.assert_array_equal(cdf.components[name], text.components[name], err_msg=name)
    assert np.isnan(cdf.components["X"][[4, 5, 7]]).all() and cdf.components["Y"][7] == 4006.0


def test_leap_second_day_end(tmp_path):
    cdflib = pytest.importorskip("cdflib")
    times = minutes("2016-12-31T23:58", 4)  # a leap second was inserted after 23:59:59
    record = read_iaga2002(make_iaga(tmp_path / "lps.min", times, {"H": np.arange(4.0) + 20000.0}, code="LPS"))
    path = write_imagcdf(record, tmp_path / "lps.cdf")
    stamps = cdflib.cdfread.CDF(str(path)).varget("DataTimes")
    assert np.diff(stamps).tolist() == [60 * 10**9, 61 * 10**9, 60 * 10**9]  # TT2000 counts it
    np.testing.assert_array_equal(read_imagcdf(path).times(), times)


# --------------------------------------------------------------------------- hand-made files


def test_fill_values_and_nan_become_missing_at_their_minutes(tmp_path):
    times = minutes("2021-05-01T00:00", 6)
    h = np.array([21000.0, 99999.0, 21002.0, np.nan, 21004.0, 21005.0])
    d = np.array([1.5, 1.5, 99999.0, 1.5, 1.5, -0.25])  # degrees
    path = make_cdf(tmp_path / "fill.cdf", [("GeomagneticVectorTimes", times, {"H": h, "D": d})])
    record = read_imagcdf(path)
    assert record.reported == "HD" and record.n_minutes == 6 and record.gaps == ()
    assert np.isnan(record.components["H"][[1, 3]]).all()
    assert record.components["H"][[0, 2, 4, 5]].tolist() == [21000.0, 21002.0, 21004.0, 21005.0]
    assert np.isnan(record.components["D"][2])
    assert record.components["D"][[0, 5]].tolist() == [90.0, -15.0]  # arc-minutes
    assert record.missing_minutes("H") == 2 and record.missing_minutes("D") == 1
    text = read_iaga2002(make_iaga(tmp_path / "fill.min", times, {"H": np.where(h == 99999.0, np.nan, h),
                                                                  "D": np.where(d == 99999.0, np.nan, d)}))
    assert_same_record(record, text)


def _second_samples():
    """Three minutes of 1-second XYZ, as test_iaga's generated file.

    Minute 0: all 60 seconds, X = 100 + s. Minute 1: 20 valid seconds (the other 40 are
    fill values). Minute 2: seconds 0..49 present, X = 300 + s. Y = 0, Z = 40000 + minute.
    """
    times, x, z = [], [], []
    for minute in range(3):
        for second in range(60):
            if minute == 2 and second >= 50:
                continue
            times.append(np.datetime64("2020-06-01T00:00:00") + np.timedelta64(60 * minute + second, "s"))
            x.append(np.nan if minute == 1 and second >= 20 else 100.0 * (minute + 1) + second)
            z.append(40000.0 + minute)
    return np.array(times), {"X": np.array(x), "Y": np.zeros(len(x)), "Z": np.array(z)}


def test_one_second_file_averaged_to_minutes_as_the_iaga_reader_does(tmp_path, monkeypatch):
    times, values = _second_samples()
    path = make_cdf(tmp_path / "sec_20200601_000000_1.cdf", [("GeomagneticVectorTimes", times, values)])
    record = read_imagcdf(path)
    assert record.sampling_seconds == (1.0,) and record.interval_types == ("1-second",)
    x = record.components["X"]
    assert x[0] == pytest.approx(129.5) and np.isnan(x[1]) and x[2] == pytest.approx(324.5)
    assert record.components["Z"].tolist() == [40000.0, 40001.0, 40002.0]
    assert record.components["H"][0] == pytest.approx(129.5)  # derived per second, Y = 0
    assert read_imagcdf(path, min_second_coverage=0.3).components["X"][1] == pytest.approx(209.5)

    text = read_iaga2002(make_iaga(tmp_path / "sec.sec", times, values, interval="1-second"))
    assert_same_record(record, text)
    monkeypatch.setattr(station_record, "CHUNK_ROWS", 7)  # minutes split across many chunks
    assert_same_record(read_imagcdf(path), text)


def test_scalar_at_its_own_rate_has_its_own_time_stamps(tmp_path):
    vector_times, values = _second_samples()
    scalar_times = np.datetime64("2020-06-01T00:00:00") + np.arange(0, 240, 10).astype("timedelta64[s]")
    s = 50000.0 + np.arange(scalar_times.size)  # one value every 10 s for 4 minutes
    path = make_cdf(tmp_path / "vs.cdf", [("GeomagneticVectorTimes", vector_times, values),
                                          ("GeomagneticScalarTimes", scalar_times, {"S": s})])
    record = read_imagcdf(path)
    assert record.reported == "XYZS" and record.n_minutes == 4  # the scalar covers minute 3 too
    assert record.components["S"].tolist() == [50002.5, 50008.5, 50014.5, 50020.5]  # means of 6
    assert np.isnan(record.components["X"][3]) and record.gaps == ()
    assert record.sampling_seconds == (1.0,)
    only_h = read_imagcdf(path, components=["H"])  # the scalar is not read: 3 minutes covered
    assert list(only_h.components) == ["H"] and only_h.n_minutes == 3


def test_xy_only_file_gets_h_derived(tmp_path):
    times = minutes("2020-01-01T00:00", 3)
    values = {"X": np.array([30000.0, 30001.0, np.nan]), "Y": np.array([4000.0, -4000.0, 4002.0]),
              "Z": np.array([40000.0, 40001.0, 40002.0])}
    path = make_cdf(tmp_path / "xyz.cdf", [("GeomagneticVectorTimes", times, values)])
    record = read_imagcdf(path, components=["H"])
    assert list(record.components) == ["H"] and record.derived == ("H",)
    assert record.components["H"][0] == pytest.approx(math.hypot(30000.0, 4000.0))
    assert record.components["H"][1] == pytest.approx(math.hypot(30001.0, 4000.0))
    assert np.isnan(record.components["H"][2])
    with pytest.raises(DataError, match="xyz.cdf: component 'D' is not reported"):
        read_imagcdf(path, components=["D"])


def test_overlap_repeats_gaps_and_a_file_without_h_as_for_iaga(tmp_path):
    day1 = np.concatenate([minutes("2020-01-01T23:56", 7), [np.datetime64("2020-01-02T00:02")]])
    xyz1 = {"X": np.r_[np.arange(21000.0, 21007.0), 29999.0], "Y": np.full(8, 300.0), "Z": np.full(8, 45000.0)}
    day2 = np.concatenate([minutes("2020-01-02T00:00", 3), minutes("2020-01-02T00:06", 2)])
    dif = {"D": np.full(5, 1.0), "I": np.full(5, 60.0), "F": np.arange(50000.0, 50005.0)}
    cdf = [make_cdf(tmp_path / "a.cdf", [("DataTimes", day1, xyz1)]),
           make_cdf(tmp_path / "b.cdf", [("DataTimes", day2, dif)])]
    text = [make_iaga(tmp_path / "a.min", day1, xyz1), make_iaga(tmp_path / "b.min", day2, dif)]
    record = read_imagcdf(cdf[::-1], components=["H", "F"])
    assert record.files == tuple(str(p) for p in cdf)  # time order
    assert record.duplicate_rows == 1 and record.overlap_minutes == 3
    assert record.gaps == (Gap(np.datetime64("2020-01-02T00:03"), 3),)
    # H from X and Y in the first file; the DIF file has none, F only there.
    h = record.components["H"]
    assert h[6] == pytest.approx(math.hypot(21006.0, 300.0)) and np.isnan(h[7:]).all()
    assert np.isnan(record.components["F"][:7]).all() and record.components["F"][-1] == 50004.0
    assert_same_record(record, read_iaga2002(text, components=["H", "F"]))


def test_cdf_epoch_stamps_and_missing_depend_0(tmp_path):
    times = minutes("1999-12-31T23:59", 3)
    values = {"H": np.array([1.0, 2.0, 3.0])}
    epoch = read_imagcdf(make_cdf(tmp_path / "epoch.cdf", [("GeomagneticVectorTimes", times, values)],
                                  time_type=CDF_EPOCH))
    fallback = read_imagcdf(make_cdf(tmp_path / "nodep.cdf", [("GeomagneticVectorTimes", times, values)],
                                     no_depend=True))
    for record in (epoch, fallback):
        np.testing.assert_array_equal(record.times(), times)
        assert record.components["H"].tolist() == [1.0, 2.0, 3.0]


def test_d_in_arc_minutes_kept_and_foreign_units_refused(tmp_path):
    times = minutes("2020-01-01T00:00", 2)
    minutes_file = make_cdf(tmp_path / "dmin.cdf", [("DataTimes", times, {"D": np.array([-522.41, 1.0])})],
                            units={"D": "minutes of arc"})
    assert read_imagcdf(minutes_file).components["D"].tolist() == [-522.41, 1.0]
    pico = make_cdf(tmp_path / "pt.cdf", [("DataTimes", times, {"H": np.array([1.0, 2.0])})], units={"H": "pT"})
    with pytest.raises(DataError, match=r"pt\.cdf: GeomagneticFieldH is in 'pT'; nT expected"):
        read_imagcdf(pico)


# --------------------------------------------------------------------------- bad files


def test_not_a_cdf_truncated_and_missing_attributes_name_the_file(tmp_path):
    text = tmp_path / "notes.cdf"
    text.write_text("not a CDF at all\n")
    assert not is_imagcdf(text) and not is_imagcdf(tmp_path / "absent.cdf")
    with pytest.raises(DataError, match=r"notes\.cdf: not a CDF file"):
        read_imagcdf(text)

    times = minutes("2020-01-01T00:00", 1440)
    good = make_cdf(tmp_path / "good.cdf", [("DataTimes", times, {"H": np.arange(1440.0)})])
    data = good.read_bytes()
    for size in (8, 200, len(data) // 2, len(data) - 100):
        cut = tmp_path / f"cut{size}.cdf"
        cut.write_bytes(data[:size])
        with pytest.raises(DataError, match=rf"cut{size}\.cdf: damaged or truncated CDF file"):
            read_imagcdf(cut)

    no_code = make_cdf(tmp_path / "nocode.cdf", [("DataTimes", times[:2], {"H": np.ones(2)})], drop=("IagaCode",))
    with pytest.raises(DataError, match=r"nocode\.cdf: ImagCDF global attribute 'IagaCode' is missing"):
        read_imagcdf(no_code)
    foreign = make_cdf(tmp_path / "foreign.cdf", [("DataTimes", times[:2], {"H": np.ones(2)})],
                       drop=("FormatDescription",))
    with pytest.raises(DataError, match=r"foreign\.cdf: .*without the FormatDescription.*not ImagCDF"):
        read_imagcdf_header(foreign)
    nothing = make_cdf(tmp_path / "nothing.cdf", [("DataTimes", times[:2], {})])
    with pytest.raises(DataError, match=r"nothing\.cdf: no GeomagneticField<E> variable"):
        read_imagcdf(nothing)


def test_samples_and_time_stamps_of_different_lengths(tmp_path):
    cdflib = pytest.importorskip("cdflib")
    path = make_cdf(tmp_path / "short.cdf", [("DataTimes", minutes("2020-01-01T00:00", 3), {})])
    # Append a variable with 2 records against 3 time stamps.
    writer_path = tmp_path / "short2.cdf"
    writer = cdflib.cdfwrite.CDF(str(writer_path), delete=True)
    reader = cdflib.cdfread.CDF(str(path))
    writer.write_globalattrs({k: {0: v[0]} for k, v in reader.globalattsget().items()})
    writer.write_var({"Variable": "DataTimes", "Data_Type": CDF_TT2000, "Num_Elements": 1, "Rec_Vary": True,
                      "Dim_Sizes": []}, var_attrs={}, var_data=reader.varget("DataTimes"))
    writer.write_var({"Variable": "GeomagneticFieldH", "Data_Type": CDF_DOUBLE, "Num_Elements": 1, "Rec_Vary": True,
                      "Dim_Sizes": []}, var_attrs={"DEPEND_0": "DataTimes", "UNITS": "nT"},
                     var_data=np.array([1.0, 2.0]))
    writer.close()
    with pytest.raises(DataError, match="GeomagneticFieldH has 2 records but its time stamps DataTimes have 3"):
        read_imagcdf(writer_path)


# --------------------------------------------------------------------------- formats together


def test_one_station_in_two_formats_is_refused(tmp_path):
    _needs(MMB)
    pytest.importorskip("cdflib")
    cdf = write_imagcdf(read_iaga2002(MMB), tmp_path / "mmb.cdf")
    with pytest.raises(DataError, match=r"mix IAGA-2002 \(1: .*mmb_2011_march\.txt, \.\.\.\) and ImagCDF "
                                        r"\(1: .*mmb\.cdf, \.\.\.\); give one format per station"):
        read_station_record([MMB, cdf], components=["H"])
    assert read_station_record([cdf], components=["H"]).n_minutes == 44_640


def test_folders_of_both_formats_are_grouped_by_station(tmp_path):
    times = minutes("2020-01-01T00:00", 3)
    (tmp_path / "cdf").mkdir()
    make_cdf(tmp_path / "cdf" / "aaa_20200101_0000_1.cdf", [("DataTimes", times, {"H": np.ones(3)})], code="AAA")
    make_iaga(tmp_path / "bbb.min", times, {"H": np.ones(3)}, code="BBB")
    (tmp_path / "README.md").write_text("notes\n")
    found, other = station_files_in(tmp_path)
    assert found == [tmp_path / "bbb.min", tmp_path / "cdf" / "aaa_20200101_0000_1.cdf"]
    assert other == [tmp_path / "README.md"]
    groups, ignored = find_station_files(tmp_path)
    assert list(groups) == ["AAA", "BBB"] and ignored == [tmp_path / "README.md"]
    assert read_station(groups["AAA"], "H").missing_per_day.tolist() == [1437]


# --------------------------------------------------------------------------- without cdflib


def test_without_cdflib_the_module_imports_and_says_how_to_install(tmp_path, monkeypatch):
    _needs(MMB)
    pytest.importorskip("cdflib")
    record = read_iaga2002(MMB)
    path = write_imagcdf(record, tmp_path / "mmb.cdf")
    monkeypatch.setitem(sys.modules, "cdflib", None)  # "import cdflib" now raises ImportError
    assert is_imagcdf(path)  # the magic-number check needs no cdflib
    with pytest.raises(DataError) as caught:
        read_imagcdf(path)
    assert str(caught.value) == f"{path}: reading ImagCDF needs cdflib: {INSTALL_HINT}"
    assert INSTALL_HINT == 'pip install "seismag[cdf]"'
    with pytest.raises(ConfigError, match=r"writing ImagCDF .*out\.cdf.* needs cdflib: pip install"):
        write_imagcdf(record, tmp_path / "out.cdf")
    assert not (tmp_path / "out.cdf").exists()
    # IAGA-2002 stations still read through the dispatcher.
    assert read_station_record([MMB], components=["H"]).n_minutes == 44_640


def test_the_module_imports_where_cdflib_is_absent():
    code = ("import sys; sys.modules['cdflib'] = None; "
            "import seismag.sources.imagcdf, seismag.sources.records, seismag.dataset.build; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(REPO / "src"), "PATH": ""})
    assert out.stdout.strip() == "ok"


def test_writer_settings_are_checked(tmp_path):
    pytest.importorskip("cdflib")
    record = read_iaga2002(FIXTURES / "tst_xy_gap.min")
    with pytest.raises(ConfigError, match="publication_level must be one of 1, 2, 3, 4"):
        write_imagcdf(record, tmp_path / "x.cdf", publication_level="5")
    with pytest.raises(DataError, match="component 'D' not available"):
        write_imagcdf(record, tmp_path / "x.cdf", components=["D"])
    written = write_imagcdf(record, tmp_path / "any-name.dat", components=["Z", "X"])
    assert written == tmp_path / "any-name.dat" and read_imagcdf_header(written).columns == ("Z", "X")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["any-name.dat"]  # no temporary left behind
