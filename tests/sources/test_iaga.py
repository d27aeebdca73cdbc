"""IAGA-2002 reader: real observatory files, hand-written fixtures, generated 1-second data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import seismag.sources.station_record as station_record
from seismag.sources.iaga import (
    iaga_files_in,
    is_iaga2002,
    read_iaga2002,
    read_iaga2002_header,
    write_iaga2002,
)
from seismag.errors import DataError
from seismag.sources.station_record import Gap

FIXTURES = Path(__file__).parent / "fixtures" / "iaga"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MMB = SHARED / "observatory" / "mmb_2011_march.txt"
BOU = SHARED / "observatory" / "BOU201601vmin.min"


def _needs(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"real data not present: {path}")


def _minute(record, text: str) -> int:
    return int((np.datetime64(text, "m") - record.start).astype(int))


def _file_rows(path: Path, line_numbers: list[int]) -> dict[int, list[str]]:
    """The text of some lines of a file, split into fields."""
    wanted, rows = set(line_numbers), {}
    with open(path) as handle:
        for number, line in enumerate(handle, start=1):
            if number in wanted:
                rows[number] = line.split()
    return rows


def _header_lines(code: str, columns: str, interval: str = "1-minute") -> list[str]:
    pairs = [
        ("Format", "IAGA-2002"), ("Station Name", "Generated"), ("IAGA CODE", code),
        ("Geodetic Latitude", "50.000"), ("Geodetic Longitude", "5.000"),
        ("Reported", columns), ("Data Interval Type", interval),
    ]
    lines = [" " + k.ljust(23) + v.ljust(45) + "|" for k, v in pairs]
    lines.append("DATE       TIME         DOY     " + "".join((code + c).ljust(10) for c in columns) + "|")
    return lines


# --------------------------------------------------------------------------- real files


def test_memambetsu_header_and_grid():
    _needs(MMB)
    record = read_iaga2002(MMB)
    assert record.iaga_code == "MMB"
    assert record.station_name == "Memambetsu"
    assert (record.latitude, record.longitude) == (43.910, 144.189)
    assert record.reported == "DHZF"
    assert list(record.components) == ["D", "H", "Z", "F"]
    assert record.start == np.datetime64("2011-03-01T00:00")
    assert record.end == np.datetime64("2011-03-31T23:59")
    assert record.n_minutes == 44_640
    assert record.gaps == () and record.duplicate_rows == 0 and record.overlap_minutes == 0
    assert record.sampling_seconds == (60.0,)
    assert record.derived == ()


def test_memambetsu_values_equal_the_file_text():
    _needs(MMB)
    record = read_iaga2002(MMB)
    # Hand-checked rows (opened the file): first row, the minute of the M9.1 Tohoku origin
    # (05:46:24 UTC), and the last row.
    assert record.components["D"][0] == -522.41
    assert record.components["H"][0] == 26179.70
    assert record.components["F"][0] == 49668.70
    i = _minute(record, "2011-03-11T05:46")
    assert [record.components[c][i] for c in "DHZF"] == [-531.92, 26099.90, 42220.80, 49636.00]
    # ... and a spread of other rows, compared with the file's own text.
    lines = [16, 3001, 14762, 30000, 44655]
    for number, fields in _file_rows(MMB, lines).items():
        i = _minute(record, fields[0] + "T" + fields[1][:5])
        assert [record.components[c][i] for c in "DHZF"] == [float(v) for v in fields[3:]], number


def test_boulder_partial_last_day_and_values():
    _needs(BOU)
    record = read_iaga2002(BOU, components=["H", "E"])
    assert record.iaga_code == "BOU"
    assert record.longitude == 254.764  # as in the file (east, 0..360)
    assert record.reported == "HEZF"
    assert list(record.components) == ["H", "E"]
    assert record.start == np.datetime64("2016-01-01T00:00")
    assert record.end == np.datetime64("2016-01-29T21:11")  # the file stops mid-day
    assert record.n_minutes == 41_592
    assert record.missing_minutes("H") == 0
    i = _minute(record, "2016-01-15T12:00")
    assert (record.components["H"][i], record.components["E"][i]) == (20843.16, -93.06)
    for number, fields in _file_rows(BOU, [23, 20904, 41614]).items():
        i = _minute(record, fields[0] + "T" + fields[1][:5])
        assert [record.components["H"][i], record.components["E"][i]] == [float(v) for v in fields[3:5]], number


# --------------------------------------------------------------------------- fixtures


def test_xy_only_file_gets_h_sentinels_and_gap():
    record = read_iaga2002(FIXTURES / "tst_xy_gap.min")
    assert record.reported == "XYZF"
    assert record.derived == ("H",)
    assert list(record.components) == ["X", "Y", "Z", "F", "H"]
    assert record.start == np.datetime64("2020-01-01T00:00")
    assert record.n_minutes == 10
    # Minutes 00:04 and 00:05 have no row: one gap of two minutes, NaN everywhere.
    assert record.gaps == (Gap(np.datetime64("2020-01-01T00:04"), 2),)
    assert record.gaps[0].end == np.datetime64("2020-01-01T00:05")
    for values in record.components.values():
        assert np.isnan(values[4:6]).all()
    h = record.components["H"]
    assert h[0] == pytest.approx(math.hypot(30000.0, 4000.0))
    assert h[9] == pytest.approx(math.hypot(30003.0, 4000.0))
    # 99999.00 in X at 00:07: X and the H derived from it are missing, Y is not.
    assert np.isnan(record.components["X"][7]) and np.isnan(h[7])
    assert record.components["Y"][7] == 4006.0
    # 88888.00 ("not recorded") in F at 00:02.
    assert np.isnan(record.components["F"][2])
    assert record.components["Z"][2] == 40000.20
    assert record.missing_minutes("H") == 3
    assert record.missing_minutes("F") == 3


def test_h_only_when_asked_and_missing_component_is_an_error():
    record = read_iaga2002(FIXTURES / "tst_xy_gap.min", components=["H"])
    assert list(record.components) == ["H"]
    with pytest.raises(DataError, match="tst_xy_gap.min.*component 'D' is not reported"):
        read_iaga2002(FIXTURES / "tst_xy_gap.min", components=["D"])
    with pytest.raises(DataError, match="component 'E' not available"):
        record.component("E")


@pytest.mark.parametrize("reverse", [False, True])
def test_overlapping_files_keep_the_first(reverse):
    files = [FIXTURES / "ovl_20200101.min", FIXTURES / "ovl_20200102.min"]
    record = read_iaga2002(files[::-1] if reverse else files)
    assert record.files == tuple(str(f) for f in files)  # time order, whatever the input order
    assert record.start == np.datetime64("2020-01-01T23:56")
    assert record.end == np.datetime64("2020-01-02T00:04")
    assert record.gaps == ()
    assert record.overlap_minutes == 3  # 00:00 .. 00:02 of Jan 2 are in both files
    assert record.duplicate_rows == 1  # the repeated 00:02 row inside the first file
    h = record.components["H"]
    assert h.tolist() == [21000, 21001, 21002, 21003, 21004, 21005, 21006, 22003, 22004]
    assert record.components["D"][6] == 306.0  # not the repeated row's 999.00


def test_malformed_header_names_file_and_line():
    with pytest.raises(DataError) as caught:
        read_iaga2002(FIXTURES / "bad_header.min")
    message = str(caught.value)
    assert message.startswith(str(FIXTURES / "bad_header.min"))
    assert "line 5" in message and "malformed IAGA-2002 header" in message


def test_malformed_data_line_names_file_and_line():
    with pytest.raises(DataError, match=r"bad_data\.min: line 15: value '3\.0x0' is not a number"):
        read_iaga2002(FIXTURES / "bad_data.min")


def test_other_header_problems(tmp_path):
    empty = tmp_path / "empty.min"
    empty.write_text("")
    with pytest.raises(DataError, match="empty.min: empty file"):
        read_iaga2002(empty)

    no_code = tmp_path / "nocode.min"
    lines = [line for line in _header_lines("NOC", "HDZF") if "IAGA CODE" not in line]
    no_code.write_text("\n".join(lines + ["2020-01-01 00:00:00.000 001  1 2 3 4"]) + "\n")
    with pytest.raises(DataError, match="nocode.min: IAGA-2002 header has no 'IAGA CODE'"):
        read_iaga2002(no_code)

    no_columns = tmp_path / "nocolumns.min"
    no_columns.write_text("\n".join(_header_lines("NCL", "HDZF")[:-1]) + "\n")
    with pytest.raises(DataError, match="no 'DATE TIME DOY"):
        read_iaga2002(no_columns)

    wrong_code = tmp_path / "wrongcode.min"
    lines = _header_lines("WRC", "HDZF")
    lines[-1] = lines[-1].replace("WRCD", "XXXD")
    wrong_code.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="column 'XXXD' is not 'WRC'"):
        read_iaga2002(wrong_code)

    short_row = tmp_path / "short.min"
    short_row.write_text("\n".join(_header_lines("SHR", "HDZF") + ["2020-01-01 00:00:00.000 001  1 2 3"]) + "\n")
    with pytest.raises(DataError, match="short.min: line 9: 6 fields, expected 7"):
        read_iaga2002(short_row)

    bad_time = tmp_path / "badtime.min"
    bad_time.write_text("\n".join(_header_lines("BTM", "HDZF") + [
        "2020-01-01 00:00:00.000 001  1 2 3 4", "2020-13-01 00:01:00.000 001  1 2 3 4"]) + "\n")
    with pytest.raises(DataError, match="badtime.min: line 10: bad DATE/TIME"):
        read_iaga2002(bad_time)

    header_only = tmp_path / "headeronly.min"
    header_only.write_text("\n".join(_header_lines("HDO", "HDZF")) + "\n")
    with pytest.raises(DataError, match="no data rows"):
        read_iaga2002(header_only)


def test_files_of_two_stations_are_refused():
    with pytest.raises(DataError, match="files of several stations"):
        read_iaga2002([FIXTURES / "tst_xy_gap.min", FIXTURES / "ovl_20200101.min"])


def test_hourly_data_is_refused(tmp_path):
    path = tmp_path / "hourly.hor"
    rows = [f"2020-01-01 {h:02d}:00:00.000 001  1 2 3 4" for h in range(3)]
    path.write_text("\n".join(_header_lines("HRY", "HDZF", "1-hour") + rows) + "\n")
    with pytest.raises(DataError, match="coarser than 1 minute"):
        read_iaga2002(path)


# --------------------------------------------------------------------------- 1-second data


def _write_second_file(path: Path) -> None:
    """Three minutes of 1-second XYZF data.

    Minute 0: all 60 seconds, X = 100 + s. Minute 1: only 20 valid seconds (the other 40
    are 99999.00). Minute 2: seconds 0..49 present (rows 50..59 absent), X = 300 + s.
    """
    rows = []
    for minute in range(3):
        for second in range(60):
            if minute == 2 and second >= 50:
                continue
            x = 100.0 * (minute + 1) + second
            if minute == 1 and second >= 20:
                x = 99999.0
            rows.append(f"2020-06-01 00:{minute:02d}:{second:02d}.000 153 {x:10.2f} {0.0:10.2f} "
                        f"{40000.0 + minute:10.2f} {88888.0:10.2f}")
    path.write_text("\n".join(_header_lines("SEC", "XYZF", "1-second") + rows) + "\n")


def test_one_second_data_reduced_to_minute_means(tmp_path):
    path = tmp_path / "sec20200601.sec"
    _write_second_file(path)
    record = read_iaga2002(path)
    assert record.sampling_seconds == (1.0,)
    assert record.start == np.datetime64("2020-06-01T00:00") and record.n_minutes == 3
    x = record.components["X"]
    assert x[0] == pytest.approx(100.0 + 29.5)
    assert np.isnan(x[1])  # 20 of 60 seconds valid < 50 %
    assert x[2] == pytest.approx(300.0 + 24.5)  # 50 of 60 seconds present: mean of those
    assert record.components["Z"].tolist() == [40000.0, 40001.0, 40002.0]
    assert np.isnan(record.components["F"]).all()  # every F was 88888.00
    # H derived per second from X and Y (Y = 0 here, so H = |X|).
    assert record.components["H"][0] == pytest.approx(129.5)

    lenient = read_iaga2002(path, min_second_coverage=0.3)
    assert lenient.components["X"][1] == pytest.approx(200.0 + 9.5)


def test_chunked_parsing_gives_the_same_record(tmp_path, monkeypatch):
    path = tmp_path / "sec20200601.sec"
    _write_second_file(path)
    whole = read_iaga2002(path)
    monkeypatch.setattr(station_record, "CHUNK_ROWS", 7)  # minutes split across many chunks
    chunked = read_iaga2002(path)
    for name in whole.components:
        np.testing.assert_allclose(chunked.components[name], whole.components[name], equal_nan=True)

    overlap = [FIXTURES / "ovl_20200101.min", FIXTURES / "ovl_20200102.min"]
    small = read_iaga2002(overlap)
    assert small.duplicate_rows == 1 and small.overlap_minutes == 3


def test_directory_scan_finds_iaga_files_by_content(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "day.txt").write_text((FIXTURES / "tst_xy_gap.min").read_text())
    (tmp_path / "README.md").write_text("not a magnetometer file\n")
    (tmp_path / ".hidden.min").write_text((FIXTURES / "tst_xy_gap.min").read_text())
    found, other = iaga_files_in(tmp_path)
    assert found == [tmp_path / "sub" / "day.txt"]
    assert other == [tmp_path / "README.md"]
    assert is_iaga2002(FIXTURES / "bad_header.min")
    assert not is_iaga2002(tmp_path / "README.md")
    header = read_iaga2002_header(FIXTURES / "tst_xy_gap.min")
    assert header.columns == ("X", "Y", "Z", "F") and header.iaga_code == "TST"
    assert header.fields["DATA TYPE"] == "variation"


# --------------------------------------------------------------------------- writing


def test_writing_memambetsu_again_gives_its_data_lines_byte_for_byte(tmp_path):
    _needs(MMB)
    record = read_iaga2002(MMB)
    out = write_iaga2002(tmp_path / "mmb.min", record, header={"Data Type": "Definitive"})
    original = MMB.read_text(encoding="latin-1").splitlines()
    written = out.read_text(encoding="ascii").splitlines()
    first_data = next(i for i, line in enumerate(original) if line.startswith("DATE")) + 1
    first_written = next(i for i, line in enumerate(written) if line.startswith("DATE")) + 1
    assert written[first_written - 1] == original[first_data - 1]  # the column line
    assert written[first_written:] == original[first_data:]
    assert all(len(line) == 70 for line in written[:first_written])
    again = read_iaga2002(out)
    assert (again.iaga_code, again.latitude, again.longitude, again.elevation) == ("MMB", 43.91, 144.189, 42.0)
    assert read_iaga2002_header(out).data_type == "Definitive"


def test_written_file_reads_back_with_gaps_and_missing_values(tmp_path):
    start = np.datetime64("2020-02-28T23:58", "m")
    minutes = np.array([0, 1, 2, 3, 7, 8])  # rows 4-6 are left out: a gap of three minutes
    h = 20000.0 + minutes
    d = np.array([-7.5, np.nan, -7.25, -7.0, -6.75, -6.5])  # NaN -> 99999.00
    path = write_iaga2002(tmp_path / "tst.min", {"H": h, "D": d}, times=start + minutes.astype("timedelta64[m]"),
                          iaga_code="tst", latitude=-12.5, longitude=300.25, elevation=12,
                          station_name="Test", comments=["generated for a test"])
    lines = path.read_text().splitlines()
    assert lines[-6] == "2020-02-28 23:58:00.000 059     20000.00     -7.50"
    assert lines[-5] == "2020-02-28 23:59:00.000 059     20001.00  99999.00"
    assert lines[-4] == "2020-02-29 00:00:00.000 060     20002.00     -7.25"  # a leap day
    assert " # generated for a test" in lines[-8]
    record = read_iaga2002(path)
    assert (record.iaga_code, record.station_name, record.latitude, record.longitude) == ("TST", "Test", -12.5, 300.25)
    assert record.reported == "HD" and record.n_minutes == 9
    assert record.gaps == (Gap(np.datetime64("2020-02-29T00:02", "m"), 3),)
    np.testing.assert_array_equal(record.component("H")[minutes], h)
    assert np.isnan(record.component("D")[1]) and record.component("D")[7] == -6.75


@pytest.mark.parametrize("kwargs, word", [
    ({"data": {}}, "at least one component"),
    ({"data": {"H": [1.0, 2.0], "Z": [1.0]}}, "different lengths"),
    ({"data": {"HX": [1.0]}}, "single letters"),
    ({"data": {"H": [1e6]}}, "below 1e6"),
    ({"iaga_code": None}, "iaga_code"),
    ({"start": None}, "either start"),
    ({"start": None, "times": np.array(["2020-01-01T00:01", "2020-01-01T00:00"], dtype="datetime64[m]")},
     "strictly increasing"),
    ({"start": "2020-01-01T00:00:30"}, "whole minute"),
    ({"header": {"Source of Data": "x" * 46}}, "longer than 45"),
])
def test_writer_refuses_what_the_format_cannot_hold(tmp_path, kwargs, word):
    arguments = {"data": {"H": [1.0, 2.0]}, "start": "2020-01-01", "iaga_code": "ABC", "latitude": 1.0,
                 "longitude": 2.0, **kwargs}
    with pytest.raises(ValueError, match=word):
        write_iaga2002(tmp_path / "x.min", arguments.pop("data"), **arguments)
    assert not (tmp_path / "x.min").exists()
