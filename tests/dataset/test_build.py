"""Building labelled windows: synthetic record + hand-made catalog, then the real files."""

from __future__ import annotations

import csv
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

import seismag.dataset.build.write as build_write
from seismag.dataset.build import (
    DROP_HORIZON,
    DROP_MISSING,
    META_COLUMNS,
    build_dataset,
    find_station_files,
    format_build_report,
    plan_windows,
)
from seismag.sources.catalog import Catalog, dobrovolsky_radius_km, haversine_km, read_catalog
from seismag.sources.iaga import read_iaga2002, write_iaga2002
from seismag.dataset.loading import load_window
from seismag.errors import ConfigError, DataError
from seismag.layout.dataset_info import read_dataset_info

FIXTURES = Path(__file__).parents[1] / "sources" / "fixtures" / "iaga"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MMB = SHARED / "observatory" / "mmb_2011_march.txt"
BOU = SHARED / "observatory" / "BOU201601vmin.min"
SIGNIFICANT = SHARED / "catalog" / "usgs_significant_1965_2016.csv"

START = np.datetime64("2020-01-01T00:00", "m")
DAYS = 20
GAP = (np.datetime64("2020-01-05T10:00", "m"), 180)  # three hours without rows on day 5


def ramp(minute: int | np.ndarray) -> np.ndarray:
    """H of the synthetic station: a straight line, so linear interpolation recovers it exactly."""
    return 20000.0 + 0.01 * np.asarray(minute, dtype=np.float64)


def write_station(path: Path, code: str = "SYN", lat: float = 0.0, lon: float = 0.0, days: int = DAYS,
                  gap=GAP) -> Path:
    minutes = np.arange(days * 1440)
    if gap:  # minutes without rows, as a file with an outage has them
        gap_start = int((gap[0] - START).astype(int))
        minutes = minutes[(minutes < gap_start) | (minutes >= gap_start + gap[1])]
    constant = np.ones(minutes.size)
    return write_iaga2002(path, {"H": ramp(minutes), "D": 10.0 * constant, "Z": 40000.0 * constant,
                                 "F": 50000.0 * constant},
                          times=START + minutes.astype("timedelta64[m]"), iaga_code=code, latitude=lat,
                          longitude=lon, station_name="Synthetic")


@pytest.fixture(scope="module")
def station(tmp_path_factory) -> Path:
    return write_station(tmp_path_factory.mktemp("obs") / "syn202001.min")


def hand_catalog(end="2021-01-01") -> Catalog:
    # Station SYN is at 0N 0E. Event A (M6.0, ~100 km away, Dobrovolsky radius 380 km)
    # qualifies; B (M6.0, ~2,224 km away) only under a fixed 3,000 km radius; C is too small.
    return Catalog.from_events([
        ("2020-01-08T12:00:00", 0.9, 0.0, 10.0, 6.0, "A"),
        ("2020-01-15T06:00:00", 20.0, 0.0, 10.0, 6.0, "B"),
        ("2020-01-12T00:00:00", 0.1, 0.1, 10.0, 5.0, "C"),
    ], start="2019-01-01", end=end)


def ends(plan, mask) -> list[str]:
    """Last day of each window (window_end is the next midnight)."""
    return [str((t - np.timedelta64(1, "D")).astype("datetime64[D]")) for t in plan.window_end[mask]]


def read_meta(folder: Path) -> list[dict]:
    with open(folder / "meta.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def write_iaga(path: Path, columns: str, values: np.ndarray, keep: np.ndarray | None = None,
               code: str = "SYN") -> Path:
    """An IAGA-2002 file at 0N 0E from ``START``: ``values`` (n_minutes, len(columns)), NaN
    written as 99999.00; the minutes where ``keep`` is False have no row at all (a gap)."""
    header = [("Format", "IAGA-2002"), ("Station Name", "Synthetic"), ("IAGA CODE", code),
              ("Geodetic Latitude", "0.000"), ("Geodetic Longitude", "0.000"), ("Reported", columns),
              ("Data Interval Type", "1-minute")]
    lines = [" " + k.ljust(23) + v.ljust(45) + "|" for k, v in header]
    lines.append("DATE       TIME         DOY     " + "".join((code + c).ljust(10) for c in columns) + "|")
    stamps = np.datetime_as_string(START + np.arange(values.shape[0]).astype("timedelta64[m]"), unit="m")
    written = np.where(np.isnan(values), 99999.0, values)
    for i in np.flatnonzero(np.ones(values.shape[0], bool) if keep is None else keep):
        cells = "".join(f"{v:10.2f}" for v in written[i])
        lines.append(f"{stamps[i][:10]} {stamps[i][11:]}:00.000 {i // 1440 + 1:03d}   {cells}")
    path.write_text("\n".join(lines) + "\n")
    return path


def constant(days: int, *columns: float) -> np.ndarray:
    return np.tile(np.asarray(columns, dtype=np.float64), (days * 1440, 1))


# --------------------------------------------------------------------------- labelling


def test_labels_under_dobrovolsky_radius(station):
    record = read_iaga2002(station)
    plan = plan_windows(record, hand_catalog(end="2020-01-18"), 3, lead_days=2)
    assert len(plan.status) == DAYS - 3 + 1  # windows ending Jan 3 .. Jan 20
    assert ends(plan, plan.label == 1) == ["2020-01-06", "2020-01-07"]  # A falls in [D+1, D+3)
    assert set(plan.event_index[plan.label == 1]) == {0}
    assert plan.event_distance_km[plan.label == 1] == pytest.approx([100.08] * 2, abs=0.01)
    # Horizon [D+1, D+3) must end by the catalog's end (Jan 18): windows ending Jan 16+ dropped.
    assert ends(plan, plan.status == DROP_HORIZON) == [f"2020-01-{d}" for d in range(16, 21)]
    assert (plan.label[plan.status == DROP_HORIZON] == -1).all()
    assert plan.count(1) == 2 and plan.count(0) == 11
    assert plan.window_start[0] == np.datetime64("2020-01-01T00:00:00")
    assert plan.window_end[0] == np.datetime64("2020-01-04T00:00:00")
    assert plan.horizon_end[0] == np.datetime64("2020-01-06T00:00:00")


def test_labels_under_fixed_radius_and_magnitude(station):
    record = read_iaga2002(station)
    fixed = plan_windows(record, hand_catalog(), 3, lead_days=2, radius_km=3000)
    assert ends(fixed, fixed.label == 1) == ["2020-01-06", "2020-01-07", "2020-01-13", "2020-01-14"]
    near = plan_windows(record, hand_catalog(), 3, lead_days=2, radius_km=50)
    assert near.count(1) == 0  # A is 100 km away
    small = plan_windows(record, hand_catalog(), 3, lead_days=2, radius_km=50, min_magnitude=4.5)
    assert ends(small, small.label == 1) == ["2020-01-10", "2020-01-11"]  # C at 16 km, M5.0
    strict = plan_windows(record, hand_catalog(), 3, lead_days=2, min_magnitude=6.5)
    assert strict.count(1) == 0


def test_lead_and_stride(station):
    record = read_iaga2002(station)
    plan = plan_windows(record, hand_catalog(), 2, lead_days=1, stride_days=3)
    assert ends(plan, slice(None)) == [f"2020-01-{d:02d}" for d in range(2, 21, 3)]
    # A (Jan 8 12:00) follows only the window ending Jan 7, which a 3-day stride skips.
    assert plan.count(1) == 0
    plan = plan_windows(record, hand_catalog(), 2, lead_days=1, stride_days=1)
    assert ends(plan, plan.label == 1) == ["2020-01-07"]


def test_plan_windows_takes_the_window_settings_with_builds_defaults(station):
    record = read_iaga2002(station)
    with pytest.raises(TypeError, match="overwrite"):
        plan_windows(record, hand_catalog(), 3, overwrite=True)  # a build setting, not a window's
    default = plan_windows(record, hand_catalog(), 3)
    spelled = plan_windows(record, hand_catalog(), 3, component="H", min_magnitude=5.5, radius="dobrovolsky",
                           lead_days=7, stride_days=1, max_missing=0.1)
    assert ends(default, slice(None)) == ends(spelled, slice(None))
    assert default.status.tolist() == spelled.status.tolist()
    assert default.label.tolist() == spelled.label.tolist()


def test_missing_share_decides_drops(station):
    record = read_iaga2002(station)
    assert record.gaps[0].minutes == 180
    plan = plan_windows(record, hand_catalog(), 3, lead_days=2)
    gap_share = 180 / (3 * 1440)
    with_gap = np.isclose(plan.missing_fraction, gap_share)
    assert ends(plan, with_gap) == ["2020-01-05", "2020-01-06", "2020-01-07"]
    assert (plan.status[with_gap] == "kept").all()  # 4.2 % <= 10 %
    strict = plan_windows(record, hand_catalog(), 3, lead_days=2, max_missing=0.04)
    assert ends(strict, strict.status == DROP_MISSING) == ["2020-01-05", "2020-01-06", "2020-01-07"]
    assert strict.label[strict.status == DROP_MISSING].tolist() == [0, 1, 1]  # still computed
    one_day = plan_windows(record, hand_catalog(), 1, lead_days=2)
    assert ends(one_day, one_day.status == DROP_MISSING) == ["2020-01-05"]  # 12.5 % of a day


# --------------------------------------------------------------------------- writing


def test_build_writes_consistent_windows(station, tmp_path):
    out = tmp_path / "built"
    report = build_dataset([station], hand_catalog(), out, windows=(3,), lead_days=2, radius_km=3000)
    assert report.written_windows == [3]
    folder = out / "window-3"
    data0, data1 = np.load(folder / "data_0.npy"), np.load(folder / "data_1.npy")
    assert data0.dtype == np.float32 and data1.dtype == np.float32
    assert data0.shape == (14, 3 * 1440 + 1) and data1.shape == (4, 3 * 1440 + 1)
    assert (data0[:, -1] == 0.0).all() and (data1[:, -1] == 1.0).all()
    assert np.isfinite(data0).all() and np.isfinite(data1).all()

    meta = read_meta(folder)
    assert tuple(meta[0]) == META_COLUMNS
    assert [int(row["label"]) for row in meta] == [0] * 14 + [1] * 4
    rows = np.concatenate([data0, data1])
    for row, values in zip(meta, rows):
        # Each row is the ramp from window_start to window_end: the 3-hour gap of Jan 5 is
        # interpolated back onto the straight line.
        first = int((np.datetime64(row["window_start"], "m") - START).astype(int))
        expected = ramp(np.arange(first, first + 3 * 1440)).astype(np.float32)
        np.testing.assert_allclose(values[:-1], expected, rtol=0, atol=0.01)
        assert np.datetime64(row["window_end"]) - np.datetime64(row["window_start"]) == np.timedelta64(3, "D")
        assert row["station"] == "SYN" and row["window_days"] == "3" and row["component"] == "H"
    class1 = meta[14:]
    assert [r["event_id"] for r in class1] == ["A", "A", "B", "B"]
    assert class1[0]["event_time"] == "2020-01-08T12:00:00"
    assert class1[0]["event_magnitude"] == "6"
    assert float(class1[0]["event_distance_km"]) == pytest.approx(100.1, abs=0.05)
    assert float(class1[0]["event_lead_days"]) == pytest.approx(1.5)  # window ends Jan 7 00:00
    assert all(r["event_id"] == r["event_time"] == r["event_distance_km"] == "" for r in meta[:14])
    gap_rows = [r for r in meta if float(r["missing_fraction"]) > 0]
    assert [r["window_start"][:10] for r in gap_rows] == ["2020-01-03", "2020-01-04", "2020-01-05"]

    saved = json.loads((out / "build_report.json").read_text())
    assert saved["windows"][0]["class_0"] == 14 and saved["windows"][0]["class_1"] == 4
    assert saved["settings"]["radius_mode"] == "fixed" and saved["settings"]["lead_days"] == 2
    assert saved["stations"][0]["gaps"] == 1 and saved["stations"][0]["gap_minutes"] == 180
    text = (out / "build_report.txt").read_text()
    assert text == format_build_report(report)
    assert "3000 km" in text and "written to window-3/" in text
    assert sorted(p.name for p in out.iterdir()) == ["build_report.json", "build_report.txt", "dataset.json",
                                                     "window-3"]
    info = read_dataset_info(out)
    assert (info.channels, info.units, info.steps_per_day) == (("H",), ("nT",), 1440)
    assert info.stations == {"SYN": {"latitude": 0.0, "longitude": 0.0, "name": "Synthetic"}}
    assert info.build == saved["settings"] and info.recipe == () and info.activity_columns == ()


def test_steps_per_day_averages_minutes(station, tmp_path):
    out = tmp_path / "hourly"
    build_dataset(station, hand_catalog(), out, windows=(3,), lead_days=2, steps_per_day=24)
    data0 = np.load(out / "window-3" / "data_0.npy")
    assert data0.shape[1] == 3 * 24 + 1
    first = int((np.datetime64(read_meta(out / "window-3")[0]["window_start"], "m") - START).astype(int))
    hourly = ramp(np.arange(first, first + 3 * 1440)).reshape(72, 60).mean(axis=1)
    np.testing.assert_allclose(data0[0, :-1], hourly, atol=0.01)


def test_window_lengths_of_one_class_are_written_with_a_warning(station, tmp_path):
    out = tmp_path / "partial"
    report = build_dataset(station, hand_catalog(), out, windows=(3, 19, 25), lead_days=2)
    assert report.written_windows == [3, 19]
    nineteen, twentyfive = report.window(19), report.window(25)
    # Windows ending Jan 19 and 20; event A (Jan 8) precedes neither: class 0 only.
    assert (nineteen.class_0, nineteen.class_1, nineteen.written, nineteen.note) == (2, 0, True, "")
    assert twentyfive.candidates == 0 and "no station record spans 25 whole days" in twentyfive.note
    assert "window-19: only class 0: serves to measure false alarms, written (2 windows; training needs both " \
           "classes)" in report.warnings
    assert not (out / "window-25").exists()
    data0, data1 = np.load(out / "window-19" / "data_0.npy"), np.load(out / "window-19" / "data_1.npy")
    assert data0.shape == (2, 19 * 1440 + 1) and data1.shape == (0, 19 * 1440 + 1)
    assert (data0[:, -1] == 0).all() and len(read_meta(out / "window-19")) == 2
    text = (out / "build_report.txt").read_text()
    assert "written to window-19/ (only class 0: serves to measure false alarms)" in text
    saved = json.loads((out / "build_report.json").read_text())
    assert [w["written"] for w in saved["windows"]] == [True, True, False]
    # Training refuses it in one line; the class-0 file is an ordinary array to score.
    with pytest.raises(DataError) as info:
        load_window(out, 19)
    assert str(info.value) == (
        f"{out / 'window-19' / 'data_1.npy'}: is empty (0 samples): this folder holds class 0 windows only, and "
        "training needs both classes; a one-class folder (a quiet station's build, say) serves to score a trained "
        f"ensemble's false alarms: seismag predict --input {out / 'window-19' / 'data_0.npy'}")


def test_existing_build_is_kept_unless_overwrite(station, tmp_path):
    out = tmp_path / "again"
    build_dataset(station, hand_catalog(), out, windows=(3, 4), lead_days=2)
    before = (out / "window-3" / "data_0.npy").read_bytes()
    with pytest.raises(DataError, match="already holds window-3, window-4, build_report.json, "
                                        "build_report.txt, dataset.json from a previous build"):
        build_dataset(station, hand_catalog(), out, windows=(3, 4), lead_days=2, radius_km=3000)
    assert (out / "window-3" / "data_0.npy").read_bytes() == before

    report = build_dataset(station, hand_catalog(), out, windows=(3, 25), lead_days=2, radius_km=3000,
                           overwrite=True)
    assert np.load(out / "window-3" / "data_1.npy").shape[0] == 4
    assert (out / "window-4").exists()  # not asked for this time: left alone
    assert report.written_windows == [3]
    assert not any(p.name.startswith(".") for p in out.iterdir())  # no staging left behind


def test_failed_write_leaves_previous_build_untouched(station, tmp_path, monkeypatch):
    out = tmp_path / "atomic"
    build_dataset(station, hand_catalog(), out, windows=(3, 4), lead_days=2)
    snapshot = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real_write = build_write.write_window_folder

    def fail_on_second(folder, window_days, *args):
        if window_days == 4:
            raise OSError("disk full")
        return real_write(folder, window_days, *args)

    monkeypatch.setattr(build_write, "write_window_folder", fail_on_second)
    with pytest.raises(OSError, match="disk full"):
        build_dataset(station, hand_catalog(), out, windows=(3, 4), lead_days=2, radius_km=3000, overwrite=True)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == snapshot
    assert sorted(os.listdir(out)) == ["build_report.json", "build_report.txt", "dataset.json", "window-3",
                                       "window-4"]

    fresh = tmp_path / "never"
    with pytest.raises(OSError):
        build_dataset(station, hand_catalog(), fresh, windows=(4,), lead_days=2)
    assert not fresh.exists()


def test_inputs_are_checked_before_writing(station, tmp_path):
    folder = tmp_path / "obs"
    folder.mkdir()
    (folder / "good.min").write_text(station.read_text())
    (folder / "bad.min").write_text((FIXTURES / "bad_data.min").read_text())
    out = tmp_path / "out"
    with pytest.raises(DataError, match=r"bad\.min: line 15"):
        build_dataset(folder, hand_catalog(), out, windows=(3,), lead_days=2)
    assert not out.exists()
    with pytest.raises(DataError, match="component 'X' is not reported"):
        build_dataset(station, hand_catalog(), out, windows=(3,), component="X")
    with pytest.raises(DataError, match="no such file or folder"):
        build_dataset(tmp_path / "absent", hand_catalog(), out)
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="unknown catalog layout"):
        build_dataset(station, unknown, out)
    assert not out.exists()


@pytest.mark.parametrize("settings, message", [
    ({"windows": (0,)}, "windows must be positive"),
    ({"windows": (7.5,)}, "windows must be positive"),
    ({"component": "HZ"}, "one IAGA component letter"),
    ({"radius": "circle"}, "radius must be"),
    ({"radius": "fixed"}, "needs radius_km"),
    ({"radius_km": -5}, "radius_km must be a positive"),
    ({"lead_days": 0}, "lead_days"),
    ({"stride_days": 1.5}, "stride_days"),
    ({"max_missing": 1.0}, "max_missing"),
    ({"steps_per_day": 7}, "steps_per_day must divide 1440"),
    ({"components": "H,D,H"}, r"components lists H more than once \(H,D,H\)"),
    ({"components": "H,Z/X"}, "unknown component 'Z/X': each must be one IAGA component letter"),
    ({"components": "H,,Z"}, "unknown component ''"),
    ({"components": []}, "components must be component names"),
    ({"component": "H", "components": "H,Z"}, "not both"),
    ({"recipe": [{"method": "median"}]}, "recipe step 1: unknown step None"),
    ({"recipe": {"step": "baseline"}}, "recipe must be a list of steps"),
    ({"recipe": [{"step": "baseline", "window": object()}]}, r"recipe step 1 \('baseline'\): unknown key 'window'"),
    ({"recipe": [{"step": "sq", "quiet_days": 3}], "windows": (2, 7)}, "quiet"),
])
def test_bad_settings(station, tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message):
        build_dataset(station, hand_catalog(), tmp_path / "x", **settings)
    assert not (tmp_path / "x").exists()


def test_folders_are_grouped_by_station(tmp_path):
    folder = tmp_path / "obs"
    (folder / "a").mkdir(parents=True)
    write_station(folder / "a" / "syn.min", code="SYN", days=6, gap=None)
    write_station(folder / "two.min", code="TWO", lat=0.5, lon=0.5, days=6, gap=None)
    (folder / "notes.txt").write_text("station log\n")
    groups, ignored = find_station_files([folder])
    assert list(groups) == ["SYN", "TWO"]
    assert ignored == [folder / "notes.txt"]
    out = tmp_path / "out"
    report = build_dataset(folder, hand_catalog(), out, windows=(2,), lead_days=3)
    meta = read_meta(out / "window-2")
    # Both stations see A (Jan 8 12:00) from windows ending Jan 5 .. Jan 6 (only 6 days recorded).
    assert [(r["station"], r["window_start"][:10], r["label"]) for r in meta if r["label"] == "1"] == [
        ("SYN", "2020-01-04", "1"), ("SYN", "2020-01-05", "1"),
        ("TWO", "2020-01-04", "1"), ("TWO", "2020-01-05", "1")]
    assert [s["code"] for s in report.stations] == ["SYN", "TWO"]
    assert report.ignored_files == [str(folder / "notes.txt")]


# --------------------------------------------------------------------------- channels


def test_derived_f_and_the_z_h_ratio(tmp_path):
    # H 40000, Z 30000 nT and no F column: F = sqrt(H^2 + Z^2) = 50000, Z/H = 0.75.
    hdz = write_iaga(tmp_path / "hdz.min", "HDZ", constant(6, 40000.0, -500.0, 30000.0))
    out = tmp_path / "derived"
    report = build_dataset(hdz, hand_catalog(), out, windows=(2,), lead_days=3, components="F,Z/H,D")
    rows = np.concatenate([np.load(out / "window-2" / f"data_{c}.npy") for c in (0, 1)])
    assert rows.shape == (5, 2 * 3 * 1440 + 1)  # windows ending Jan 2 .. Jan 6
    blocks = rows[:, :-1].reshape(5, 2, 3, 1440)  # sample, day, channel, minute
    assert (blocks[:, :, 0] == 50000.0).all()
    assert (blocks[:, :, 1] == np.float32(0.75)).all()
    assert (blocks[:, :, 2] == -500.0).all()
    assert "SYN: F derived as sqrt(H^2 + Z^2) sample by sample (no F column)" in report.warnings
    assert not any("Z/H" in w for w in report.warnings)  # a ratio is derived by definition
    assert report.stations[0]["derived"] == ["F", "Z/H"] and report.stations[0]["component"] == "F,Z/H,D"
    info = read_dataset_info(out)
    assert info.channels == ("F", "Z/H", "D") and info.units == ("nT", "1", "arcmin")
    assert "Z/H is Z / H sample by sample" in info.build["rules"]["derived"]
    assert info.build["component_unit"] == "nT, dimensionless, arc-minutes"

    # X 12000, Y 16000, Z 21000: H = 20000 (derived), F = sqrt(X^2 + Y^2 + Z^2) = 29000, Z/H = 1.05.
    xyz = write_iaga(tmp_path / "xyz.min", "XYZ", constant(6, 12000.0, 16000.0, 21000.0))
    report = build_dataset(xyz, hand_catalog(), tmp_path / "xyz", windows=(2,), lead_days=3, components="F,Z/H")
    row = np.load(tmp_path / "xyz" / "window-2" / "data_0.npy")[0, :-1].reshape(2, 2, 1440)
    assert (row[:, 0] == 29000.0).all() and (row[:, 1] == np.float32(21000.0 / 20000.0)).all()
    assert report.warnings[:2] == ["SYN: F derived as sqrt(X^2 + Y^2 + Z^2) sample by sample (no F column)",
                                   "SYN: Z/H uses H derived from X and Y"]


def test_f_is_the_files_column_when_present(station, tmp_path):
    # The fixture's F column holds 50000; sqrt(H^2 + Z^2) would be about 44,700 there.
    report = build_dataset(station, hand_catalog(), tmp_path / "f", windows=(3,), lead_days=2, components="F")
    assert (np.load(tmp_path / "f" / "window-3" / "data_0.npy")[:, :-1] == 50000.0).all()
    assert report.stations[0]["derived"] == [] and not any("F derived" in w for w in report.warnings)


def test_a_minute_missing_in_any_channel_counts_as_missing(tmp_path):
    values = constant(4, 20000.0, 40000.0)
    values[1440 + 100: 1440 + 400, 1] = np.nan  # Z missing 300 minutes of day 2
    values[2 * 1440: 2 * 1440 + 60, 0] = 0.0  # H = 0 for an hour of day 3: Z/H has no value
    record = read_iaga2002(write_iaga(tmp_path / "hz.min", "HZ", values))
    one = plan_windows(record, hand_catalog(), 1, component="H")
    assert one.missing_fraction.tolist() == [0.0] * 4
    both = plan_windows(record, hand_catalog(), 1, components="H,Z")
    assert both.missing_fraction.tolist() == [0.0, 300 / 1440, 0.0, 0.0]
    ratio = plan_windows(record, hand_catalog(), 1, components=["H", "Z/H"])
    assert ratio.missing_fraction.tolist() == [0.0, 300 / 1440, 60 / 1440, 0.0]
    strict = plan_windows(record, hand_catalog(), 1, components="H,Z", max_missing=0.1)
    assert strict.status.tolist() == ["kept", DROP_MISSING, "kept", "kept"]  # 20.8 % > 10 %

    # Kept windows are filled channel by channel from their own minutes.
    out = tmp_path / "filled"
    build_dataset(tmp_path / "hz.min", hand_catalog(), out, windows=(2,), lead_days=3, components="H,Z",
                  max_missing=0.2)
    first = np.load(out / "window-2" / "data_0.npy")[0, :-1].reshape(2, 2, 1440)
    assert (first[:, 0] == 20000.0).all() and (first[:, 1] == 40000.0).all()


@pytest.mark.parametrize("columns, components, message", [
    ("HDZF", "H,X", "component 'X' is not reported"),
    ("HD", "F", "component 'F' is not reported and cannot be derived (needs H and Z, or X, Y and Z; "
                "files report H, D)"),
    ("HD", "H,Z/H", "component 'Z/H' needs Z and H; Z is not reported (files report H, D)"),
])
def test_channels_the_files_cannot_give(tmp_path, columns, components, message):
    path = write_iaga(tmp_path / "obs.min", columns, constant(2, *range(1, len(columns) + 1)))
    with pytest.raises(DataError, match=re.escape(message)) as info:
        build_dataset(path, hand_catalog(), tmp_path / "out", windows=(1,), components=components)
    assert str(info.value).startswith(str(path))
    assert not (tmp_path / "out").exists()


def test_incomplete_days_are_listed_as_ranges(tmp_path):
    days = 40  # Jan 1 .. Feb 9, 2020
    values = constant(days, 20000.0)
    keep = np.ones(days * 1440, bool)
    keep[4 * 1440: 24 * 1440] = False  # no rows Jan 5 .. Jan 24: a 20-day gap
    values[29 * 1440 + 500: 29 * 1440 + 600] = np.nan  # 100 minutes of Jan 30 are 99999
    keep[34 * 1440: 35 * 1440] = False  # Feb 4: a whole day without rows
    keep[37 * 1440 + 22 * 60: 38 * 1440 + 2 * 60] = False  # Feb 7 22:00 .. Feb 8 02:00
    path = write_iaga(tmp_path / "gappy.min", "H", values, keep)
    report = build_dataset(path, hand_catalog(), tmp_path / "out", windows=(3,), lead_days=2)
    assert report.stations[0]["incomplete_days"] == [
        {"first": "2020-01-05", "last": "2020-01-24", "days": 20, "missing_minutes": 20 * 1440},
        {"first": "2020-01-30", "last": "2020-01-30", "days": 1, "missing_minutes": 100},
        {"first": "2020-02-04", "last": "2020-02-04", "days": 1, "missing_minutes": 1440},
        {"first": "2020-02-07", "last": "2020-02-08", "days": 2, "missing_minutes": 240},
    ]
    saved = json.loads((tmp_path / "out" / "build_report.json").read_text())
    assert saved["stations"][0]["incomplete_days"] == report.stations[0]["incomplete_days"]
    text = (tmp_path / "out" / "build_report.txt").read_text()
    assert ("40 day(s) from 2020-01-01; incomplete: 2020-01-05 .. 2020-01-24 (20 days), "
            "2020-01-30 (100 min missing), 2020-02-04 (whole day), "
            "2020-02-07 .. 2020-02-08 (2 days, 240 min missing)\n") in text


def test_dataset_json_counts_in_the_overwrite_rule(station, tmp_path):
    out = tmp_path / "described"
    out.mkdir()
    (out / "dataset.json").write_text("{}")
    with pytest.raises(DataError, match="already holds dataset.json from a previous build"):
        build_dataset(station, hand_catalog(), out, windows=(3,), lead_days=2)
    build_dataset(station, hand_catalog(), out, windows=(3, 4), lead_days=2, overwrite=True)
    assert read_dataset_info(out).channels == ("H",)
    # dataset.json describes every window folder beside it: an overwrite that changes the
    # channels but keeps window-4 of the one-channel build is refused, nothing written.
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(DataError, match=r"keeps window-4 of a previous build \(channels H, 1440 steps per day\)"):
        build_dataset(station, hand_catalog(), out, windows=(3,), lead_days=2, components="H,Z", overwrite=True)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    build_dataset(station, hand_catalog(), out, windows=(3, 4), lead_days=2, components="H,Z", overwrite=True)
    assert read_dataset_info(out).channels == ("H", "Z")
    assert np.load(out / "window-4" / "data_0.npy").shape[1] == 4 * 2 * 1440 + 1


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def usgs() -> Catalog:
    if not SIGNIFICANT.exists():
        pytest.skip(f"real data not present: {SIGNIFICANT}")
    return read_catalog(SIGNIFICANT)


def _qualifying_in(catalog: Catalog, lat: float, lon: float, start, stop, min_magnitude=5.5) -> list[str]:
    """Independent check: event ids within the Dobrovolsky radius in [start, stop)."""
    inside = (catalog.time >= np.datetime64(start)) & (catalog.time < np.datetime64(stop))
    inside &= catalog.magnitude >= min_magnitude
    distance = haversine_km(lat, lon, catalog.latitude, catalog.longitude)
    inside &= distance <= dobrovolsky_radius_km(catalog.magnitude)
    return catalog.event_id[inside].tolist()


def test_memambetsu_march_2011(usgs, tmp_path):
    if not MMB.exists():
        pytest.skip(f"real data not present: {MMB}")
    out = tmp_path / "mmb"
    report = build_dataset([MMB], usgs, out)  # defaults: 7/14/30 days, H, M5.5, Dobrovolsky, 7-day lead
    counts = {w.window_days: (w.class_0, w.class_1) for w in report.windows}
    assert counts == {7: (9, 16), 14: (9, 9), 30: (1, 1)}
    assert report.written_windows == [7, 14, 30]

    meta = read_meta(out / "window-7")
    by_event = {}
    for row in meta:
        by_event.setdefault(row["event_id"], []).append(row["window_end"][:10])
    # The M7.3 foreshock of 2011-03-09 02:45 and the M9.1 mainshock of 2011-03-11 05:46:
    # the windows ending the two days before each one are class 1 and name it.
    assert by_event["USP000HVHJ"] == ["2011-03-08", "2011-03-09"]
    assert by_event["OFFICIAL20110311054624120_30"] == ["2011-03-10", "2011-03-11"]
    m91 = next(r for r in meta if r["event_id"] == "OFFICIAL20110311054624120_30")
    assert (m91["event_magnitude"], m91["event_time"]) == ("9.1", "2011-03-11T05:46:24")
    assert float(m91["event_distance_km"]) == pytest.approx(642.4, abs=0.1)
    assert float(m91["event_distance_km"]) < dobrovolsky_radius_km(9.1)

    # Class 0: windows ending Mar 22 .. Mar 30, whose next 7 days hold no qualifying event.
    class0 = [r for r in meta if r["label"] == "0"]
    assert [r["window_end"][:10] for r in class0] == [f"2011-03-{d}" for d in range(23, 32)]
    for row in class0:
        assert _qualifying_in(usgs, 43.910, 144.189, row["window_end"], row["label_horizon_end"]) == []
    for row in meta:
        if row["label"] == "1":
            assert row["event_id"] in _qualifying_in(usgs, 43.910, 144.189, row["window_end"], row["label_horizon_end"])

    # The arrays hold the file's values: first window (Mar 1 .. Mar 7) starts with the
    # file's first H, and 2011-03-03 01:45 (line 3001) is minute 2 * 1440 + 105.
    data1 = np.load(out / "window-7" / "data_1.npy")
    first_class1 = next(i for i, r in enumerate(r for r in meta if r["label"] == "1"))
    assert meta[len(class0) + first_class1]["window_start"] == "2011-03-01T00:00:00"
    assert data1[0, 0] == np.float32(26179.70)
    assert data1[0, 2 * 1440 + 105] == np.float32(26148.20)
    assert data1.shape == (16, 7 * 1440 + 1) and np.isfinite(data1).all()
    assert np.load(out / "window-30" / "data_0.npy").shape == (1, 30 * 1440 + 1)


def test_memambetsu_three_channels(usgs, tmp_path):
    if not MMB.exists():
        pytest.skip(f"real data not present: {MMB}")
    one = build_dataset([MMB], usgs, tmp_path / "h", windows=(7,))
    recipe = [{"step": "baseline", "reference": "window"}]
    three = build_dataset([MMB], usgs, tmp_path / "hdz", windows=(7,), components="H,D,Z", recipe=recipe)
    assert (three.window(7).class_0, three.window(7).class_1) == (one.window(7).class_0, one.window(7).class_1) \
        == (9, 16)
    record = read_iaga2002(MMB)  # D H Z F, March 2011, no gaps
    meta = read_meta(tmp_path / "hdz" / "window-7")
    # Same windows in the same order; only the component column differs.
    assert [{**row, "component": "H"} for row in meta] == read_meta(tmp_path / "h" / "window-7")
    for label in (0, 1):
        h = np.load(tmp_path / "h" / "window-7" / f"data_{label}.npy")
        hdz = np.load(tmp_path / "hdz" / "window-7" / f"data_{label}.npy")
        assert hdz.shape == (h.shape[0], 7 * 3 * 1440 + 1) and (hdz[:, -1] == label).all()
        blocks = hdz[:, :-1].reshape(-1, 7, 3, 1440)  # sample, day, channel, minute
        # The H channel of each row is the one-channel build's row, exactly.
        np.testing.assert_array_equal(blocks[:, :, 0, :].reshape(h.shape[0], -1), h[:, :-1])
    # The first class-0 window starts 2011-03-16: its day 2 (Mar 17) of Z, and all of D,
    # are the file's values at those minutes.
    rows0 = np.load(tmp_path / "hdz" / "window-7" / "data_0.npy")[:, :-1].reshape(-1, 7, 3, 1440)
    assert meta[0]["window_start"] == "2011-03-16T00:00:00" and meta[0]["label"] == "0"
    start = int((np.datetime64(meta[0]["window_start"], "m") - record.start).astype(int))
    np.testing.assert_array_equal(rows0[0, 1, 2], record.component("Z")[start + 1440: start + 2880].astype(np.float32))
    np.testing.assert_array_equal(rows0[0, :, 1].ravel(), record.component("D")[start: start + 7 * 1440].astype(np.float32))
    assert rows0[0, 1, 2, 0] == np.float32(record.component("Z")[15 * 1440 + 1440])
    assert {row["component"] for row in meta} == {"H,D,Z"}

    info = read_dataset_info(tmp_path / "hdz")
    assert (info.channels, info.units, info.steps_per_day) == (("H", "D", "Z"), ("nT", "arcmin", "nT"), 1440)
    assert info.stations == {"MMB": {"latitude": 43.91, "longitude": 144.189, "name": "Memambetsu"}}
    assert info.recipe == tuple(recipe) and info.activity_columns == ()
    saved = json.loads((tmp_path / "hdz" / "build_report.json").read_text())
    assert info.build == saved["settings"] and info.build["component"] == "H,D,Z"
    assert "a minute without a value in any one channel counts as missing" in info.build["rules"][DROP_MISSING]
    assert "components          H (nT), D (arc-minutes), Z (nT); columns day, channel, step" in \
        format_build_report(three)


def test_boulder_january_2016_is_class_0_only(usgs, tmp_path):
    if not BOU.exists():
        pytest.skip(f"real data not present: {BOU}")
    out = tmp_path / "bou"
    report = build_dataset(BOU, usgs, out)
    # A quiet month: every window class 0. Written (they measure false alarms), flagged.
    assert report.written_windows == [7, 14]
    assert {w.window_days: (w.candidates, w.class_0, w.class_1) for w in report.windows} == {
        7: (23, 23, 0), 14: (16, 16, 0), 30: (0, 0, 0)}
    assert [w for w in report.warnings if "only class 0" in w] == [
        "window-7: only class 0: serves to measure false alarms, written (23 windows; training needs both classes)",
        "window-14: only class 0: serves to measure false alarms, written (16 windows; training needs both classes)"]
    assert sorted(p.name for p in out.iterdir()) == ["build_report.json", "build_report.txt", "dataset.json",
                                                     "window-14", "window-7"]
    assert np.load(out / "window-7" / "data_0.npy").shape == (23, 7 * 1440 + 1)
    assert np.load(out / "window-7" / "data_1.npy").shape == (0, 7 * 1440 + 1)
    station = report.stations[0]
    assert station["incomplete_days"] == [{"first": "2016-01-29", "last": "2016-01-29", "days": 1,
                                           "missing_minutes": 168}]
    assert "incomplete: 2016-01-29 (168 min missing)" in format_build_report(report)

    record = read_iaga2002(BOU, components=["H"])
    plan = plan_windows(record, usgs, 7)
    assert (plan.label == 0).all() and plan.kept.all()
    assert ends(plan, slice(None)) == [f"2016-01-{d:02d}" for d in range(7, 30)]
    for start, stop in zip(plan.window_end, plan.horizon_end):
        assert _qualifying_in(usgs, 40.137, 254.764, start, stop) == []


def test_boulder_partial_last_day_follows_max_missing(usgs, tmp_path):
    if not BOU.exists():
        pytest.skip(f"real data not present: {BOU}")
    record = read_iaga2002(BOU, components=["H"])
    # Jan 29 ends at 21:11: 168 of its 1,440 minutes are missing (11.7 %).
    day = plan_windows(record, usgs, 1)
    assert day.missing_fraction[-1] == pytest.approx(168 / 1440)
    assert day.status[-1] == DROP_MISSING and (day.status[:-1] == "kept").all()
    week = plan_windows(record, usgs, 7)
    assert week.missing_fraction[-1] == pytest.approx(168 / (7 * 1440))
    assert week.status[-1] == "kept"  # 1.7 % <= 10 %
    strict = plan_windows(record, usgs, 7, max_missing=0.01)
    assert strict.status[-1] == DROP_MISSING and strict.count(0) == 22

    # A made-up event near Boulder gives both classes, so the week ending Jan 29 is
    # written: its last 168 minutes take the record's last value (edge of the window).
    near = Catalog.from_events([("2016-02-02T12:00:00", 40.5, -105.0, 5.0, 6.0, "NEAR")],
                               start="2015-01-01", end="2016-12-31")
    out = tmp_path / "bou-near"
    report = build_dataset(BOU, near, out, windows=(7,))
    assert (report.window(7).class_0, report.window(7).class_1) == (19, 4)  # ends Jan 26 .. 29
    data1 = np.load(out / "window-7" / "data_1.npy")
    last = data1[-1, :-1]
    assert (last[-168:] == np.float32(20821.17)).all()
    assert last[-169] == np.float32(20821.17) and last[-170] == np.float32(20820.97)
    meta = read_meta(out / "window-7")
    assert meta[-1]["window_end"] == "2016-01-30T00:00:00"
    assert float(meta[-1]["missing_fraction"]) == pytest.approx(168 / 10080, abs=1e-6)
    assert math.isclose(float(meta[-1]["event_lead_days"]), 3.5)
