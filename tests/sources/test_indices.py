"""Geomagnetic indices: Kp (CSV, GFZ text), Dst (WDC), SSC lists; writers; daily activity; storm rule.

Known answers are read off the shared files by hand (the lines are quoted next to them).
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pytest

from seismag.sources.indices.activity import DailyActivity, daily_activity, window_activity
from seismag.sources.indices.dst import read_dst, write_dst_wdc
from seismag.sources.indices.kp import read_kp, write_kp_csv
from seismag.sources.indices.ssc import read_ssc, write_ssc_list
from seismag.sources.indices.storm import (
    DST_STORM, KP_STORM, STORM_RULE, StormClause, parse_storm_rule, windows_with_disturbed_days,
)
from seismag.errors import ConfigError, DataError

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "indices"
KP_CSV = SHARED / "kp_gfz_2006_2022.csv"
DST_WDC = SHARED / "dst_kyoto_2006_2022.dat"
SSC_DIR = SHARED / "ssc"
GFZ_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "indices" / "Kp_ap_Ap_SN_F107_sample.txt"

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="shared index files not present")

KP_HEADER = "Date,K_00,K_03,K_06,K_09,K_12,K_15,K_18,K_21,Kp_Sum\n"
# 2011-03-11 of the shared Dst file, verbatim.
DST_20110311 = ("DST1103*11  X220   0 -50 -59 -63 -69 -77 -83 -80 -78 -74 -72 -67 -62 -58 -52 -48 -42 -44 -50"
                " -53 -47 -52 -64 -59 -60 -61")
SSC_2011_HEAD = """<pre>
SC 2011
CONTRIBUTING OBSERVATORIES
SOD NUR LER ESK NGK VAL HAD DOU BDV HRB NAG GCK MMB EBR SPT KAK KNY GUI GNA CNB LIV
YYYY MM dd hh  min  Rise-time       Amplitude (nT)     Qualification   Observatories    Type
2011 02 14 15 55.4  6 4 5 5 8  24.6 16.1 24.0 24.2 19.4  2 2 2 2 2  ABG HON KNY MBO SJG  SSC
"""


def day(text: str) -> np.datetime64:
    return np.datetime64(text, "D")


def row_of(series, when: str) -> int:
    index = int(np.searchsorted(series.days, day(when)))
    assert series.days[index] == day(when)
    return index


# --------------------------------------------------------------------------- Kp


@needs_shared
def test_kp_csv_known_days():
    kp = read_kp(KP_CSV)
    assert kp.layout == "csv"
    assert len(kp) == 6209 and kp.days[0] == day("2006-01-01") and kp.days[-1] == day("2022-12-31")
    assert (np.diff(kp.days).astype(int) == 1).all()
    # 2011-03-11,5,5.333,4.333,2,1.667,4.333,5,5.667,33.333  (Tohoku day)
    tohoku = row_of(kp, "2011-03-11")
    np.testing.assert_array_equal(kp.kp[tohoku], [5, 5.333, 4.333, 2, 1.667, 4.333, 5, 5.667])
    assert kp.daily_max()[tohoku] == pytest.approx(5.667)
    # 2006-01-10,0,0,0,0,0.667,1,0.333,0.333,2.333  (a quiet day)
    assert kp.daily_max()[row_of(kp, "2006-01-10")] == 1.0
    # 2015-03-17,2,4.667,5.667,5.333,7.667,7.667,7.333,7.667  (St Patrick's Day storm)
    assert kp.daily_max()[row_of(kp, "2015-03-17")] == pytest.approx(7.667)
    # 2017-09-08,8,4.667,4.333,5,8.333,...: the largest Kp of the file
    assert kp.daily_max()[row_of(kp, "2017-09-08")] == pytest.approx(8.333)
    assert np.nanmax(kp.kp) == pytest.approx(8.333)
    assert kp.complete().all()


@needs_shared
def test_kp_gfz_text_fixture_agrees_with_the_csv():
    gfz = read_kp(GFZ_FIXTURE)
    assert gfz.layout == "gfz-text"
    np.testing.assert_array_equal(gfz.days, np.arange(day("2011-03-09"), day("2011-03-15")))
    csv = read_kp(KP_CSV)
    first = row_of(csv, "2011-03-09")
    np.testing.assert_array_equal(gfz.kp[:5], csv.kp[first:first + 5])
    assert gfz.daily_max()[2] == pytest.approx(5.667)


def test_kp_gfz_text_missing_values():
    gfz = read_kp(GFZ_FIXTURE)
    # 2011 03 14 ... 1.667 1.667 1.000 0.667 0.000 0.000 -1.000 -1.000
    np.testing.assert_array_equal(gfz.kp[5, :6], [1.667, 1.667, 1.0, 0.667, 0.0, 0.0])
    assert np.isnan(gfz.kp[5, 6:]).all()
    assert gfz.daily_max()[5] == pytest.approx(1.667)
    np.testing.assert_array_equal(gfz.complete(), [True] * 5 + [False])


def test_kp_csv_missing_values_and_day_order(tmp_path):
    path = tmp_path / "kp.csv"
    path.write_text(KP_HEADER + "2011-03-02,1,,NaN,-1,2,3,4,5,\n2011-03-01,,,,,,,,,\n")
    kp = read_kp(path)
    np.testing.assert_array_equal(kp.days, [day("2011-03-01"), day("2011-03-02")])
    assert np.isnan(kp.kp[0]).all() and np.isnan(kp.daily_max()[0])
    np.testing.assert_array_equal(np.isnan(kp.kp[1]), [False, True, True, True, False, False, False, False])
    assert kp.daily_max()[1] == 5.0


@pytest.mark.parametrize(
    "body, problem",
    [
        ("2011-03-01,1,2,3\n", "line 2: 4 fields, the header has 10"),
        ("2011-03-01,1,2,3,4,5,6,7,8,36\n2011-03-02,1,2,x,4,5,6,7,8,36\n", "line 3: K_06 is not a number: 'x'"),
        ("2011-03-01,1,2,3,4,5,6,7,9.5,36\n", "line 2: K_21 = 9.5 is outside 0..9"),
        ("2011-13-01,1,2,3,4,5,6,7,8,36\n", "line 2: Date is not YYYY-MM-DD"),
        ("2011-03-01,1,2,3,4,5,6,7,8,36\n2011-03-01,1,2,3,4,5,6,7,8,36\n", "day 2011-03-01 is listed more than once"),
        ("", "no data rows"),
    ],
)
def test_kp_csv_bad_rows(tmp_path, body, problem):
    path = tmp_path / "kp.csv"
    path.write_text(KP_HEADER + body)
    with pytest.raises(DataError) as caught:
        read_kp(path)
    assert str(caught.value).startswith(str(path)) and problem in str(caught.value)


def test_kp_gfz_text_truncated_row(tmp_path):
    lines = GFZ_FIXTURE.read_text().splitlines()
    data = [n for n, text in enumerate(lines) if not text.startswith("#")]
    lines[data[2]] = lines[data[2]][:70]  # 32 characters of date and Bartels fields, then 7 per Kp: 6 Kp begun
    path = tmp_path / "Kp_ap_Ap_SN_F107_since_1932.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"line {data[2] + 1}: 13 fields, GFZ Kp rows have 28"):
        read_kp(path)


def test_kp_unknown_layout_and_missing_file(tmp_path):
    path = tmp_path / "kp.txt"
    path.write_text("hello,world\n1,2\n")
    with pytest.raises(DataError, match="unknown Kp layout"):
        read_kp(path)
    with pytest.raises(DataError, match="no such file"):
        read_kp(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_text("\n\n")
    with pytest.raises(DataError, match="empty file"):
        read_kp(tmp_path / "empty.csv")


# --------------------------------------------------------------------------- Dst


@needs_shared
def test_dst_known_days():
    dst = read_dst(DST_WDC)
    assert len(dst) == 6209 and dst.days[0] == day("2006-01-01") and dst.days[-1] == day("2022-12-31")
    tohoku = row_of(dst, "2011-03-11")
    assert dst.daily_min()[tohoku] == -83.0  # hour 05
    assert dst.dst[tohoku, 0] == -50.0 and dst.dst[tohoku, 5] == -83.0 and dst.daily_mean[tohoku] == -61.0
    assert dst.status[tohoku] == "final"
    # DST0601*10 ... 1 3 5 6 5 4 5 6 8 9 11 12 7 4 5 0 -1 0 0 -2 -5 -5 -5 -6 | 3  (quiet)
    quiet = row_of(dst, "2006-01-10")
    assert dst.daily_min()[quiet] == -6.0 and np.nanmax(dst.dst[quiet]) == 12.0 and dst.daily_mean[quiet] == 3.0
    # DST1503*17 ... -198 -234 -225 | -84: the storm's minimum, hour 22
    storm = row_of(dst, "2015-03-17")
    assert dst.daily_min()[storm] == -234.0 and dst.dst[storm, 22] == -234.0
    assert np.nanmin(dst.dst) == -234.0
    # DST2112*31PPX120 ...: the last two years are provisional
    assert dst.status[row_of(dst, "2020-12-31")] == "final"
    assert dst.status[row_of(dst, "2021-01-01")] == "provisional"
    assert (dst.status == "provisional").sum() == 730
    assert dst.complete().all()


def test_dst_base_century_and_missing(tmp_path):
    # Century blank (19xx), base -1 (x 100 nT), one missing hour, missing daily mean.
    hours = "".join(f"{v:4d}" for v in [-50] + [0] * 22 + [9999])
    path = tmp_path / "dst.dat"
    path.write_text(f"DST8903*14  X2    -1{hours}9999\n")
    dst = read_dst(path)
    assert dst.days[0] == day("1989-03-14")
    assert dst.dst[0, 0] == -150.0 and dst.dst[0, 1] == -100.0 and np.isnan(dst.dst[0, 23])
    assert np.isnan(dst.daily_mean[0]) and not dst.complete()[0]
    assert dst.daily_min()[0] == -150.0


@pytest.mark.parametrize(
    "second_line, problem",
    [
        (DST_20110311[:87], "line 2: 87 characters, a WDC Dst record has 120 (truncated?)"),
        (DST_20110311[:24] + " x59" + DST_20110311[28:], "line 2: columns 25-28 (hour 01) not a number: ' x59'"),
        ("KPX" + DST_20110311[3:], "line 2: not a WDC Dst record"),
        (DST_20110311[:8] + "32" + DST_20110311[10:], "line 2: bad date 2011-03-32"),
        (DST_20110311.replace("*11", "*10"), "day 2011-03-10 is listed more than once"),
    ],
)
def test_dst_bad_records(tmp_path, second_line, problem):
    path = tmp_path / "dst.dat"
    path.write_text(DST_20110311.replace("*11", "*10") + "\n" + second_line + "\n")
    with pytest.raises(DataError) as caught:
        read_dst(path)
    assert str(caught.value).startswith(str(path)) and problem in str(caught.value)


# --------------------------------------------------------------------------- SSC


@needs_shared
def test_ssc_lists_known_events():
    ssc = read_ssc(SSC_DIR)
    assert len(ssc) == 212 and len(ssc.paths) == 17
    np.testing.assert_array_equal(ssc.years, np.arange(2006, 2023))
    assert (np.diff(ssc.times).astype(int) > 0).all()

    def event(stamp: str) -> int:
        where = np.flatnonzero(ssc.times == np.datetime64(stamp, "m"))
        assert where.size == 1, stamp
        return int(where[0])

    # 2011 02 14 15 55.4 ... 24.6 16.1 24.0 24.2 19.4 ... SSC
    first = event("2011-02-14T15:55")
    assert ssc.kind[first] == "SSC" and ssc.amplitude_nt[first] == pytest.approx(21.66)
    # 2011 03 29 16 02.0 ... SI
    assert ssc.kind[event("2011-03-29T16:02")] == "SI"
    # 2015 03 17 04 45.0 ... 33.7 33.1 36.2 47.1 49.3 ... SSC: St Patrick's Day storm onset
    patrick = event("2015-03-17T04:45")
    assert ssc.kind[patrick] == "SSC" and ssc.amplitude_nt[patrick] == pytest.approx(39.88)
    # 2014 09 06 15 23.0 ... -45.9 -15.4 -28.7 -26.2 -23.6 ... SI-
    negative = event("2014-09-06T15:23")
    assert ssc.kind[negative] == "SI" and ssc.amplitude_nt[negative] == pytest.approx(-27.96)
    # 2018 05 31 14  46 ... HON SJG MBO-ABG KNY  SSC  (two codes run together in the list)
    assert ssc.kind[event("2018-05-31T14:46")] == "SSC"
    # 2022 01 08 18 01 (integer minutes in later lists)
    assert ssc.kind[event("2022-01-08T18:01")] == "SSC"
    # No event around Tohoku: 2011-03-11 is covered and had none.
    assert ssc.counts_on([day("2011-03-11"), day("2011-02-14"), day("2005-12-31")]).tolist()[:2] == [0.0, 1.0]
    assert np.isnan(ssc.counts_on([day("2005-12-31")])[0])


@needs_shared
def test_ssc_one_file_or_several():
    one = read_ssc(SSC_DIR / "ssc_2011_d.txt")
    assert len(one) == 17 and one.years.tolist() == [2011]
    two = read_ssc([SSC_DIR / "ssc_2011_d.txt", SSC_DIR / "ssc_2011_d.txt", SSC_DIR / "ssc_2012_d.txt"])
    assert two.years.tolist() == [2011, 2012] and len(two) == 17 + len(read_ssc(SSC_DIR / "ssc_2012_d.txt"))


def test_ssc_minute_rounding_rolls_over(tmp_path):
    path = tmp_path / "ssc_2011_d.txt"
    row = "2011 12 31 23 59.6  6 4 5 5 8  24.6 16.1 24.0 24.2 19.4  2 2 2 2 2  ABG HON KNY MBO SJG  SI\n"
    path.write_text(SSC_2011_HEAD + row)
    ssc = read_ssc(path)
    assert ssc.times[1] == np.datetime64("2012-01-01T00:00", "m")


@pytest.mark.parametrize(
    "row, problem",
    [
        ("2011 03 01 10 12.0  6 4 5 5 8  24.6 16.1\n", "line 7: 12 fields, a sudden-commencement row has at least 22"),
        ("2011 03 01 10 12.0  6 4 5 5 8  24.6 16.1 2x.0 24.2 19.4  2 2 2 2 2  ABG HON KNY MBO SJG  SSC\n",
         "line 7: not a sudden-commencement row"),
        ("2011 03 01 10 12.0  6 4 5 5 8  24.6 16.1 24.0 24.2 19.4  2 2 2 2 2  ABG HON KNY MBO SJG  XYZ\n",
         "line 7: type 'XYZ' is not SSC, SI or SI-"),
        ("2011 03 01 25 12.0  6 4 5 5 8  24.6 16.1 24.0 24.2 19.4  2 2 2 2 2  ABG HON KNY MBO SJG  SSC\n",
         "line 7: time 25 12.0 is not hh"),
        ("2012 03 01 10 12.0  6 4 5 5 8  24.6 16.1 24.0 24.2 19.4  2 2 2 2 2  ABG HON KNY MBO SJG  SSC\n",
         "line 7: event of 2012 in the list titled 'SC 2011'"),
    ],
)
def test_ssc_bad_rows(tmp_path, row, problem):
    path = tmp_path / "ssc_2011_d.txt"
    path.write_text(SSC_2011_HEAD + row)
    with pytest.raises(DataError) as caught:
        read_ssc(path)
    assert str(caught.value).startswith(str(path)) and problem in str(caught.value)


def test_ssc_unreadable_inputs(tmp_path):
    with pytest.raises(DataError, match="no \\*.txt"):
        read_ssc(tmp_path)
    with pytest.raises(DataError, match="no such file or folder"):
        read_ssc(tmp_path / "absent.txt")
    (tmp_path / "notes.txt").write_text("nothing here\n")
    with pytest.raises(DataError, match="which year does this list cover"):
        read_ssc(tmp_path / "notes.txt")


# --------------------------------------------------------------------------- writers


@needs_shared
def test_writers_reproduce_the_shared_files(tmp_path):
    kp = read_kp(KP_CSV)
    write_kp_csv(tmp_path / "kp.csv", kp.days, kp.kp)
    assert filecmp.cmp(tmp_path / "kp.csv", KP_CSV, shallow=False)
    dst = read_dst(DST_WDC)
    write_dst_wdc(tmp_path / "dst.dat", dst.days, dst.dst, status=dst.status)
    assert filecmp.cmp(tmp_path / "dst.dat", DST_WDC, shallow=False)


def test_write_kp_csv_text_and_round_trip(tmp_path):
    days = [day("2011-03-11"), day("2011-03-12")]
    kp = np.array([[1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2, 17 / 3, 9], [0, 1, np.nan, 2, 3, 4, 5, 6]])
    path = write_kp_csv(tmp_path / "kp.csv", days, kp)
    assert path.read_text() == (
        KP_HEADER + "2011-03-11,0.333,0.667,1,1.333,1.667,2,5.667,9,21.667\n2011-03-12,0,1,,2,3,4,5,6,\n"
    )
    back = read_kp(path)
    np.testing.assert_array_equal(back.days, days)
    np.testing.assert_allclose(back.kp, kp, atol=5e-4)
    assert np.isnan(back.kp[1, 2])


def test_write_kp_csv_refuses_bad_values(tmp_path):
    with pytest.raises(ValueError, match="not a third of a unit"):
        write_kp_csv(tmp_path / "kp.csv", [day("2011-03-11")], [[0.5] + [0] * 7])
    with pytest.raises(ValueError, match="not a third of a unit"):
        write_kp_csv(tmp_path / "kp.csv", [day("2011-03-11")], [[9.333] + [0] * 7])
    with pytest.raises(ValueError, match="shape"):
        write_kp_csv(tmp_path / "kp.csv", [day("2011-03-11")], [[0] * 7])
    with pytest.raises(ValueError, match="more than once"):
        write_kp_csv(tmp_path / "kp.csv", [day("2011-03-11")] * 2, np.zeros((2, 8)))
    assert not (tmp_path / "kp.csv").exists()


def test_write_dst_wdc_records(tmp_path):
    values = [-50, -59, -63, -69, -77, -83, -80, -78, -74, -72, -67, -62, -58, -52, -48, -42, -44, -50,
              -53, -47, -52, -64, -59, -60]
    path = write_dst_wdc(tmp_path / "dst.dat", [day("2011-03-11")], [values])
    assert path.read_text() == DST_20110311 + "\n"
    # Provisional status, a missing hour (9999 and no mean), 19xx, half-away rounding of -2.5.
    rows = np.array([[1.0] * 23 + [np.nan], [-2.5] + [-2.0] * 23])
    path = write_dst_wdc(tmp_path / "dst2.dat", [day("1999-12-31"), day("2000-01-01")], rows,
                         status=["provisional", "quicklook"])
    first, second = path.read_text().splitlines()
    assert first == "DST9912*31PPX119   0" + "   1" * 23 + "9999" + "9999"
    assert second == "DST0001*01RRX020   0" + "  -3" + "  -2" * 23 + "  -2"
    back = read_dst(path)
    assert back.status.tolist() == ["provisional", "quicklook"]
    assert np.isnan(back.dst[0, 23]) and back.dst[1, 0] == -3.0 and back.daily_mean[1] == -2.0


def test_write_dst_wdc_base_value_for_extreme_storms(tmp_path):
    values = np.array([[-1050.0] + [-400.0] * 23])
    path = write_dst_wdc(tmp_path / "dst.dat", [day("2003-11-20")], values)
    line = path.read_text().rstrip("\n")
    assert line[16:20] == " -11" and line[20:24] == "  50" and line[24:28] == " 700"
    back = read_dst(path)
    np.testing.assert_array_equal(back.dst, values)
    assert back.daily_mean[0] == -427.0  # (-1050 - 23 * 400) / 24 = -427.08


def test_write_dst_wdc_refuses_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown Dst status 'definitive'"):
        write_dst_wdc(tmp_path / "d.dat", [day("2011-03-11")], np.zeros((1, 24)), status="definitive")
    with pytest.raises(ValueError, match="shape"):
        write_dst_wdc(tmp_path / "d.dat", [day("2011-03-11")], np.zeros((1, 23)))
    with pytest.raises(ValueError, match="1900-2099"):
        write_dst_wdc(tmp_path / "d.dat", [day("1899-12-31")], np.zeros((1, 24)))


def test_write_ssc_list_round_trip(tmp_path):
    times = np.array(["2011-06-04T20:44", "2011-02-14T15:55", "2011-09-06T15:23"], dtype="datetime64[m]")
    path = write_ssc_list(tmp_path / "ssc_2011_d.txt", times, ["SSC", "SSC", "SI"], [46.7, 21.66, -27.96])
    text = path.read_text().splitlines()
    assert text[:2] == ["<pre>", "SC 2011"] and text[-1] == "</pre>"
    assert text[5] == "2011 02 14 15 55.0  5 5 5 5 5  21.7 21.7 21.7 21.7 21.7  2 2 2 2 2  ABG HON KNY MBO SJG  SSC"
    assert text[7].endswith("  SI-")
    back = read_ssc(path)
    np.testing.assert_array_equal(back.times, np.sort(times))
    assert back.kind.tolist() == ["SSC", "SSC", "SI"]
    np.testing.assert_allclose(back.amplitude_nt, [21.7, 46.7, -28.0])
    assert back.years.tolist() == [2011]


def test_write_ssc_list_per_station_values_and_empty_year(tmp_path):
    amplitudes = [[24.6, 16.1, 24.0, 24.2, 19.4]]
    path = write_ssc_list(tmp_path / "one.txt", ["2011-02-14T15:55:24"], "SSC", amplitudes,
                          rise_time_min=[[6, 4, 5, 5, 8]])
    assert "2011 02 14 15 55.4  6 4 5 5 8  24.6 16.1 24.0 24.2 19.4  2 2 2 2 2" in path.read_text()
    assert read_ssc(path).amplitude_nt[0] == pytest.approx(21.66)
    empty = read_ssc(write_ssc_list(tmp_path / "none.txt", np.array([], dtype="datetime64[m]"), [], [], year=2013))
    assert len(empty) == 0 and empty.years.tolist() == [2013]
    assert empty.counts_on([day("2013-07-01")]).tolist() == [0.0]


def test_write_ssc_list_refuses_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="several years"):
        write_ssc_list(tmp_path / "s.txt", ["2011-12-31T10:00", "2012-01-01T10:00"], "SSC", 10.0)
    with pytest.raises(ValueError, match="give year="):
        write_ssc_list(tmp_path / "s.txt", np.array([], dtype="datetime64[m]"), [], [])
    with pytest.raises(ValueError, match="unknown kind 'SI-'"):
        write_ssc_list(tmp_path / "s.txt", ["2011-03-01T10:00"], "SI-", -10.0)
    with pytest.raises(ValueError, match="in the list of year 2012"):
        write_ssc_list(tmp_path / "s.txt", ["2011-03-01T10:00"], "SSC", 10.0, year=2012)
    with pytest.raises(ValueError, match="no missing-value mark"):
        write_ssc_list(tmp_path / "s.txt", ["2011-03-01T10:00"], "SSC", np.nan)


# --------------------------------------------------------------------------- daily activity


def small_kp(days: list[str], rows: list[list[float]]):
    from seismag.sources.indices.kp import KpSeries

    return KpSeries(days=np.array(days, dtype="datetime64[D]"), kp=np.array(rows, dtype=float))


def small_dst(days: list[str], rows: list[list[float]]):
    from seismag.sources.indices.dst import DstSeries

    values = np.array(rows, dtype=float)
    return DstSeries(days=np.array(days, dtype="datetime64[D]"), dst=values,
                     daily_mean=np.nanmean(values, axis=1), status=np.array(["final"] * len(days)))


def test_daily_activity_union_of_days_and_coverage(tmp_path):
    kp = small_kp(["2010-12-30", "2010-12-31", "2011-01-01"], [[1] * 8, [2] * 7 + [np.nan], [6] + [1] * 7])
    dst = small_dst(["2011-01-01", "2011-01-03"], [[-10] * 24, [-70] + [0] * 23])
    ssc = read_ssc(write_ssc_list(tmp_path / "s.txt", ["2011-01-03T04:00", "2011-01-03T20:00"], ["SSC", "SI"],
                                  [20.0, 10.0]))
    activity = daily_activity(kp, dst, ssc)
    # Kp starts 2010-12-30; the 2011 list covers the whole year.
    assert activity.days[0] == day("2010-12-30") and activity.days[-1] == day("2011-12-31")
    assert len(activity) == 367
    np.testing.assert_array_equal(activity.max_kp[:4], [1, 2, 6, np.nan])
    np.testing.assert_array_equal(activity.kp_complete[:4], [True, False, True, False])
    np.testing.assert_array_equal(activity.min_dst[:5], [np.nan, np.nan, -10, np.nan, -70])
    np.testing.assert_array_equal(activity.dst_complete[:5], [False, False, True, False, True])
    np.testing.assert_array_equal(activity.n_ssc[:5], [np.nan, np.nan, 0, 0, 2])
    assert np.nansum(activity.n_ssc) == 2
    storm_onsets_only = daily_activity(ssc=ssc, ssc_kinds=("SSC",))
    assert storm_onsets_only.days[0] == day("2011-01-01") and storm_onsets_only.n_ssc[2] == 1
    assert np.isnan(storm_onsets_only.max_kp).all()


def test_daily_activity_refuses_nothing_and_bad_kinds():
    with pytest.raises(ConfigError, match="at least one index"):
        daily_activity()
    with pytest.raises(ConfigError, match="ssc_kinds"):
        daily_activity(kp=small_kp(["2011-01-01"], [[1] * 8]), ssc_kinds=("SC",))


# --------------------------------------------------------------------------- storm rule


def test_parse_storm_rule():
    rule = parse_storm_rule(" KP >= 5 , dst<=-50,ssc>0 ")
    assert rule.clauses == (StormClause("kp", ">=", 5.0), StormClause("dst", "<=", -50.0), StormClause("ssc", ">", 0.0))
    assert str(rule) == "kp>=5,dst<=-50,ssc>0"
    assert rule.keys == {"kp", "dst", "ssc"}


def test_the_storm_of_summaries_and_figures_is_one_rule():
    rule = parse_storm_rule(STORM_RULE)
    assert STORM_RULE == "kp>=5,dst<=-50"
    assert rule.clauses == (StormClause("kp", ">=", KP_STORM), StormClause("dst", "<=", DST_STORM))


def test_a_rule_naming_an_index_not_loaded_leaves_quiet_days_undecided():
    activity = daily_activity(kp=small_kp(["2011-03-01", "2011-03-02"], [[6] * 8, [1] * 8]))
    disturbed, undecided = parse_storm_rule("kp>=5,dst<=-50").evaluate(activity)
    assert disturbed.tolist() == [True, False] and undecided.tolist() == [False, True]
    assert not parse_storm_rule("kp>=5").undecided(activity).any()


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "empty"),
        ("kp=>5", "clause 'kp=>5' is not KEY OP NUMBER"),
        ("kp==5", "is not KEY OP NUMBER"),
        ("ap>=5", "unknown key 'ap'"),
        ("kp>=", "is not KEY OP NUMBER"),
        ("kp>=5,,dst<0", "an empty clause"),
        ("kp>=5,", "an empty clause"),
        ("kp>=nan", "is not KEY OP NUMBER"),
        ("kp>=1e999", "not a finite number"),
        ("kp>=5-3", "threshold '5-3' is not a number"),
    ],
)
def test_parse_storm_rule_errors(text, problem):
    with pytest.raises(ConfigError) as caught:
        parse_storm_rule(text)
    assert f"storm rule {text!r}" in str(caught.value) and problem in str(caught.value)


def activity_of(max_kp, kp_complete, min_dst, dst_complete, n_ssc) -> DailyActivity:
    n = len(max_kp)
    return DailyActivity(
        days=np.arange(day("2011-03-01"), day("2011-03-01") + n),
        max_kp=np.array(max_kp, dtype=float), kp_complete=np.array(kp_complete, dtype=bool),
        min_dst=np.array(min_dst, dtype=float), dst_complete=np.array(dst_complete, dtype=bool),
        n_ssc=np.array(n_ssc, dtype=float),
    )


def test_storm_rule_three_valued_days():
    nan = np.nan
    # days: 0 full storm, 1 full quiet, 2 no data, 3 partial Kp high, 4 partial Kp low,
    #       5 partial Dst low, 6 partial Dst mild
    activity = activity_of(
        max_kp=[5.333, 3.0, nan, 6.0, 2.0, 1.0, 1.0],
        kp_complete=[True, True, False, False, False, True, True],
        min_dst=[-20, -20, nan, -20, -20, -60, -20],
        dst_complete=[True, True, False, True, True, False, False],
        n_ssc=[0, 0, nan, 0, 0, 0, 0],
    )
    disturbed, undecided = parse_storm_rule("kp>=5,dst<=-50").evaluate(activity)
    assert disturbed.tolist() == [True, False, False, True, False, True, False]
    assert undecided.tolist() == [False, False, True, False, True, False, True]
    # Tests the other way round: a partial day settles them only when they fail.
    disturbed, undecided = parse_storm_rule("kp<3").evaluate(activity)
    assert disturbed.tolist() == [False, False, False, False, False, True, True]
    assert undecided.tolist() == [False, False, True, False, True, False, False]
    disturbed, undecided = parse_storm_rule("dst>-30").evaluate(activity)
    assert disturbed.tolist() == [True, True, False, True, True, False, False]
    assert undecided.tolist() == [False, False, True, False, False, False, True]
    disturbed, undecided = parse_storm_rule("ssc>=1").evaluate(activity)
    assert not disturbed.any() and undecided.tolist() == [False, False, True, False, False, False, False]


def test_window_activity_known_answers():
    nan = np.nan
    activity = activity_of(
        max_kp=[1, 2, 6, 3, nan, 1], kp_complete=[True, True, True, False, False, True],
        min_dst=[-5, -60, -20, -10, -10, -10], dst_complete=[True] * 6,
        n_ssc=[0, 1, 0, 0, 0, 2],
    )
    starts = np.array(["2011-03-01", "2011-03-02", "2011-03-04", "2011-02-27", "2011-03-20"], dtype="datetime64[D]")
    columns = window_activity(activity, starts, 3, parse_storm_rule("kp>=5,dst<=-50"))
    # Kp of 03-04 is partial and 03-05 has none: every window touching them has no max_kp.
    np.testing.assert_array_equal(columns["max_kp"], [6, nan, nan, nan, nan])
    np.testing.assert_array_equal(columns["min_dst"], [-60, -60, -10, nan, nan])
    np.testing.assert_array_equal(columns["n_ssc"], [1, 1, 2, nan, nan])
    # 03-02 (Dst -60) and 03-03 (Kp 6) are disturbed; 03-04 (Kp 3 on a partial day) and 03-05
    # (no Kp, Dst -10) are undecided; days before 03-01 or after 03-06 are outside the table:
    # undecided too.
    np.testing.assert_array_equal(columns["disturbed_days"], [2, 2, 0, 0, 0])
    np.testing.assert_array_equal(columns["undecided_days"], [0, 1, 2, 2, 3])
    rule = parse_storm_rule("kp>=5")
    np.testing.assert_array_equal(windows_with_disturbed_days(activity, starts, 3, rule),
                                  [True, True, False, False, False])
    np.testing.assert_array_equal(windows_with_disturbed_days(activity, starts, 3, rule, undecided="drop"),
                                  [True, True, True, True, True])
    assert set(window_activity(activity, starts, 3)) == {"max_kp", "min_dst", "n_ssc"}


def test_window_activity_refusals_and_empty_inputs():
    activity = activity_of([1], [True], [0], [True], [0])
    with pytest.raises(ConfigError, match="window_days"):
        window_activity(activity, [day("2011-03-01")], 0)
    with pytest.raises(ConfigError, match="undecided must be"):
        windows_with_disturbed_days(activity, [day("2011-03-01")], 1, parse_storm_rule("kp>=5"), undecided="quiet")
    none = window_activity(activity, np.array([], dtype="datetime64[D]"), 7, parse_storm_rule("kp>=5"))
    assert all(values.shape == (0,) for values in none.values())
    empty = daily_activity(kp=small_kp([], np.zeros((0, 8)).tolist()))
    columns = window_activity(empty, [day("2011-03-01")], 7, parse_storm_rule("kp>=5"))
    assert np.isnan(columns["max_kp"][0]) and columns["undecided_days"].tolist() == [7]


@needs_shared
def test_activity_around_tohoku_from_the_shared_files():
    activity = daily_activity(read_kp(KP_CSV), read_dst(DST_WDC), read_ssc(SSC_DIR))
    assert activity.days[0] == day("2006-01-01") and len(activity) == 6209
    rule = parse_storm_rule("kp>=5,dst<=-50")
    disturbed = rule.disturbed(activity)
    at = lambda when: int((day(when) - activity.days[0]).astype(int))  # noqa: E731
    assert disturbed[at("2011-03-11")] and not disturbed[at("2006-01-10")]
    assert not rule.undecided(activity).any()
    # 2011-03-09 .. 03-15: Kp maxima 2, 4.667, 5.667, 4.667, 3.333, 1.667, 0.333; Dst minima
    # -17, -62, -83, -58, -24, -17, -10; no sudden commencement (the next is 03-29).
    columns = window_activity(activity, [day("2011-03-09")], 7, rule)
    assert columns["max_kp"][0] == pytest.approx(5.667) and columns["min_dst"][0] == -83.0
    assert columns["n_ssc"][0] == 0.0
    assert columns["disturbed_days"][0] == 3 and columns["undecided_days"][0] == 0
    # A window reaching past the end of the files: NaN, and its days beyond are undecided.
    tail = window_activity(activity, [day("2022-12-30")], 7, rule)
    assert np.isnan(tail["max_kp"][0]) and tail["undecided_days"][0] == 5
