"""Continuous synthetic records: the files parse, and what records.json says was planted is there."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from seismag.sources.catalog import dobrovolsky_radius_km, haversine_km, read_catalog
from seismag.sources.iaga import read_iaga2002, read_iaga2002_header
from seismag.sources.indices.dst import read_dst
from seismag.sources.indices.kp import read_kp
from seismag.sources.indices.ssc import read_ssc
from seismag.synth.records import generate_records
from seismag.errors import ConfigError, DataError

DAYS = 40
SETTINGS = {"days": DAYS, "n_stations": 3, "seed": 4, "storm_coincidence": 0.5}
START = np.datetime64("2020-01-01T00:00", "m")


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> dict:
    """The same world twice: with a precursor (effect 1) and without (effect 0)."""
    made = {}
    for effect in (1.0, 0.0):
        out = tmp_path_factory.mktemp(f"records_{effect:g}")
        made[effect] = (out, generate_records(out, effect=effect, **SETTINGS))
    return made


def _station(out: Path, code: str):
    return read_iaga2002(sorted((out / "observatory").glob(f"{code}*.min")))


def _minute(stamp: str) -> int:
    return int((np.datetime64(stamp, "m") - START).astype(np.int64))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- the files ------------------------------------------------------------------------------


def test_one_iaga_file_per_station_month_with_h_d_z_f(records):
    out, record = records[1.0]
    names = sorted(p.name for p in (out / "observatory").iterdir())
    assert names == [f"S0{s}2020{m}vmin.min" for s in (1, 2, 3) for m in ("01", "02")]
    assert record["files"]["observatory"] == [f"observatory/{n}" for n in
                                             sorted(names, key=lambda n: (n[3:9], n[:3]))]
    for station in record["stations"]:
        header = read_iaga2002_header(out / "observatory" / f"{station['code']}202002vmin.min")
        assert header.columns == ("H", "D", "Z", "F") and header.interval_type == "1-minute"
        assert (header.latitude, header.longitude) == (round(station["latitude"], 3), round(station["longitude"], 3))
        assert header.elevation == station["elevation_m"]
        rec = _station(out, station["code"])
        assert rec.start == START and rec.n_minutes == DAYS * 1440 and rec.gaps == ()
        h, d, z, f = (rec.component(c) for c in "HDZF")
        # Short 99999.00 gaps, in every channel at once.
        gaps = np.isnan(h)
        assert 0 < gaps.sum() < 0.002 * h.size
        assert all(np.array_equal(np.isnan(c), gaps) for c in (d, z, f))
        # Units and sizes of a mid-latitude station: D in arc-minutes, H, Z, F in nT.
        assert 28_500 < np.nanpercentile(h, 1) and np.nanpercentile(h, 99) < 31_500
        assert -500 < np.nanpercentile(d, 1) and np.nanpercentile(d, 99) < -380
        assert 33_500 < np.nanpercentile(z, 1) and np.nanpercentile(z, 99) < 36_500
        close = np.abs(f - np.hypot(h, z)) < 0.02  # F is sqrt(H^2 + Z^2) but for the spikes of H, Z
        assert close[~gaps].mean() > 0.999
        # Continuous across the month boundary (2020-02-01 00:00): no step beyond minute-to-minute noise.
        boundary = 31 * 1440
        steps = np.abs(np.diff(h[boundary - 600: boundary + 600]))
        assert abs(h[boundary] - h[boundary - 1]) < 5 * np.nanmedian(steps) + 1.0


def test_catalog_holds_the_planted_events_near_the_stations(records):
    out, record = records[1.0]
    catalog = read_catalog(out / "catalog.csv", min_magnitude=5.5)
    assert catalog.layout == "comcat"
    events = record["events"]
    assert len(events) == round(DAYS / 10) == len(catalog)
    assert catalog.event_id.tolist() == [e["id"] for e in events]
    assert [str(t) for t in catalog.time] == [e["time"] for e in events]
    np.testing.assert_allclose(catalog.magnitude, [e["magnitude"] for e in events])
    # The span: from the record's first hour to past the last window's label horizon.
    assert str(catalog.start) == record["catalog_span"]["start"] < "2020-01-01T01:00:00"
    assert "2020-02-17T00:00:00" <= str(catalog.end) == record["catalog_span"]["end"] < "2020-02-17T01:00:00"
    assert catalog.excluded["magnitude<5.5"] > 10  # the small background earthquakes
    with open(out / "catalog.csv", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    assert rows[events[0]["id"]]["magType"] == "mw" and "synthetic station" in rows[events[0]["id"]]["place"]
    # Stations within the Dobrovolsky radius 10^(0.43 M) km, as records.json lists them.
    pairs_in, pairs_out = 0, 0
    for event, lat, lon, mag in zip(events, catalog.latitude, catalog.longitude, catalog.magnitude):
        assert event["radius_km"] == pytest.approx(dobrovolsky_radius_km(mag), abs=0.01)
        listed = {s["code"] for s in event["stations"]}
        for station in record["stations"]:
            distance = haversine_km(station["latitude"], station["longitude"], lat, lon)
            inside = distance <= event["radius_km"]
            assert (station["code"] in listed) == inside
            pairs_in, pairs_out = pairs_in + inside, pairs_out + (not inside)
    assert pairs_in >= 3 and pairs_out >= 1


def test_storms_are_in_every_station_on_the_listed_dates(records):
    out, record = records[0.0]  # no precursor: a drop in H is a storm
    stations = [_station(out, s["code"]) for s in record["stations"]]
    onsets = sorted(_minute(s["onset"]) for s in record["storms"])
    checked = 0
    for storm in record["storms"]:
        end = _minute(storm["main_phase_end"])
        onset = _minute(storm["onset"])
        quiet_before = all(not (onset - 2 * 1440 < other < onset) for other in onsets)
        if end < 2 * 1440 or end + 60 > DAYS * 1440 or not quiet_before:
            continue
        for rec in stations:
            h, z = rec.component("H"), rec.component("Z")
            # Against the same hours of the day before, so the daily variation cancels.
            drop = np.nanmean(h[end - 60: end + 60]) - np.nanmean(h[end - 1500: end - 1380])
            rise = np.nanmean(z[end - 60: end + 60]) - np.nanmean(z[end - 1500: end - 1380])
            assert drop < -0.5 * storm["depth_nt"]  # H sees ~0.9 of the disturbance
            assert rise > 0.1 * storm["depth_nt"] - 5.0  # Z a quarter of it, the other way
        checked += 1
    assert checked >= 2


def test_storms_are_in_dst_kp_and_the_ssc_list(records):
    out, record = records[1.0]
    assert record["files"]["kp"] == "indices/kp.csv" and record["files"]["dst"] == "indices/dst.dat"
    assert record["files"]["ssc"] == ["indices/ssc/ssc_2020_d.txt"]
    kp, dst, ssc = read_kp(out / "indices/kp.csv"), read_dst(out / "indices/dst.dat"), read_ssc(out / "indices/ssc")
    days = np.datetime64("2020-01-01", "D") + np.arange(DAYS)
    assert np.array_equal(kp.days, days) and np.array_equal(dst.days, days)
    assert kp.kp.shape == (DAYS, 8) and dst.dst.shape == (DAYS, 24)
    assert np.all(np.isfinite(kp.kp)) and np.all(np.isfinite(dst.dst))
    hourly = dst.dst.ravel()
    daily_kp = kp.kp.max(axis=1)
    checked = 0
    for storm in record["storms"]:
        end = _minute(storm["main_phase_end"])
        if not 3 * 60 <= end < DAYS * 1440 - 3 * 60:
            continue
        # Dst is the disturbance: at the end of the main phase it has fallen by about the depth.
        hour = end // 60
        assert hourly[hour - 3: hour + 4].min() < -0.7 * storm["depth_nt"]
        # Kp from the same disturbance: disturbed on that day, more than on a typical day.
        assert daily_kp[end // 1440] >= 11 / 3 and daily_kp[end // 1440] >= np.median(daily_kp) + 1
        checked += 1
    assert checked >= 2
    # Days far from any storm are quiet in both.
    touched = np.zeros(DAYS, dtype=bool)
    for storm in record["storms"]:
        first = max(0, _minute(storm["onset"]) // 1440)
        touched[first: first + 4] = True
    assert (~touched).sum() >= 10
    assert np.abs(dst.dst[~touched]).max() < 30 and daily_kp[~touched].max() <= 4
    # The SSC list: every storm that began in the record with a sudden commencement.
    sudden = [s for s in record["storms"] if s["ssc_nt"] > 0 and s["onset"] >= "2020-01-01"]
    assert [str(t) for t in ssc.times] == [s["onset"][:16] for s in sorted(sudden, key=lambda s: s["onset"])]
    np.testing.assert_allclose(ssc.amplitude_nt, [s["ssc_nt"] for s in sorted(sudden, key=lambda s: s["onset"])],
                               atol=0.051)
    assert set(ssc.kind) <= {"SSC"} and ssc.years.tolist() == [2020]


def test_coinciding_storms_start_in_the_lead_window(records):
    _, record = records[1.0]
    events = {e["id"]: e for e in record["events"]}
    storms = {s["index"]: s for s in record["storms"]}
    coinciding = [s for s in record["storms"] if s["coincides_with"] is not None]
    assert len(coinciding) == round(0.5 * len(events)) == 2
    for storm in coinciding:
        event = events[storm["coincides_with"]]
        assert event["coinciding_storm"] == storm["index"]
        lead = _minute(event["time"]) - _minute(storm["onset"])
        assert 720 <= lead <= record["settings"]["lead_days"] * 1440
    assert all(e["coinciding_storm"] is None or storms[e["coinciding_storm"]]["coincides_with"] == e["id"]
               for e in events.values())


def test_coinciding_storms_are_the_only_difference_they_make(tmp_path):
    """effect 0: the same world with and without the storms coinciding with events (the
    confound test bed), so the records differ exactly by those storms, where records.json says."""
    common = {"days": 30, "n_stations": 2, "seed": 2, "effect": 0.0}
    plain = generate_records(tmp_path / "plain", storm_coincidence=0.0, **common)
    stormy = generate_records(tmp_path / "stormy", storm_coincidence=1.0, **common)
    assert len(stormy["events"]) == 3 and all(e["coinciding_storm"] is not None for e in stormy["events"])
    assert all(e["coinciding_storm"] is None for e in plain["events"])
    extra = [s for s in stormy["storms"] if s["coincides_with"] is not None]
    assert [s for s in stormy["storms"] if s["coincides_with"] is None] == plain["storms"]
    first = min(_minute(s["onset"]) for s in extra)
    for station in stormy["stations"]:
        a, b = _station(tmp_path / "stormy", station["code"]), _station(tmp_path / "plain", station["code"])
        h = a.component("H") - b.component("H")
        assert np.all(h[:first][~np.isnan(h[:first])] == 0.0) and np.nanmax(np.abs(h[first:])) > 40
        for storm in extra:  # at the end of its main phase H is down by ~0.9 x depth (+ its other storms)
            end = _minute(storm["main_phase_end"])
            assert np.nanmean(h[end - 30: end + 30]) < -0.7 * storm["depth_nt"]
    hourly = (read_dst(tmp_path / "stormy/indices/dst.dat").dst - read_dst(tmp_path / "plain/indices/dst.dat").dst)
    assert np.all(hourly.ravel()[: first // 60] == 0) and hourly.min() < -50


def test_effect_changes_h_and_z_only_near_events_at_stations_in_reach(records):
    (with_out, record), (without_out, _) = records[1.0], records[0.0]
    assert [e["id"] for e in record["events"]] == [e["id"] for e in records[0.0][1]["events"]]
    changed_somewhere = 0
    for station in record["stations"]:
        code = station["code"]
        near = np.zeros(DAYS * 1440, dtype=bool)
        for event in record["events"]:
            if any(s["code"] == code for s in event["stations"]):
                near[max(0, _minute(event["precursor_onset"]) - 360): _minute(event["precursor_end"])] = True
        a, b = _station(with_out, code), _station(without_out, code)
        assert np.array_equal(a.component("D"), b.component("D"), equal_nan=True)  # D carries no precursor
        for component in "HZF":
            assert np.array_equal(a.component(component)[~near], b.component(component)[~near], equal_nan=True)
        if near.any():
            dh = np.nanmean(a.component("H")[near] - b.component("H")[near])
            dz = np.nanmean(a.component("Z")[near] - b.component("Z")[near])
            assert dh < -25 and dz > 12  # H sinks, Z rises (half as much)
            changed_somewhere += 1
    assert changed_somewhere >= 1
    assert _sha256(with_out / "catalog.csv") == _sha256(without_out / "catalog.csv")


def test_records_json_lists_what_was_generated(records):
    out, record = records[1.0]
    assert json.loads((out / "records.json").read_text()) == record
    assert record["settings"] == {"generator": "seismag.synth.records", "days": DAYS, "n_stations": 3,
                                  "start": "2020-01-01", "effect": 1.0, "seed": 4, "storm_coincidence": 0.5,
                                  "lead_days": 7}
    assert record["span"] == {"start": "2020-01-01T00:00:00", "end": "2020-02-10T00:00:00"}
    for event in record["events"]:
        lead = _minute(event["time"]) - _minute(event["precursor_onset"])
        assert 3 * 0.85 * 1440 - 1 <= lead <= 3 * 1.15 * 1440 + 1  # PRECURSOR_DAYS +- 15 %
        assert _minute(event["time"]) >= 7 * 1440  # room for the lead window before it
        for station in event["stations"]:  # effect x size x (1 - 0.3 distance / radius)
            assert 0 < station["strength"] and station["distance_km"] <= event["radius_km"]


def test_same_seed_same_bytes(records, tmp_path):
    out, _ = records[1.0]
    generate_records(tmp_path / "again", effect=1.0, **SETTINGS)
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file())
    for name in files:
        assert _sha256(out / name) == _sha256(tmp_path / "again" / name), name
    generate_records(tmp_path / "other", effect=1.0, **{**SETTINGS, "seed": 5})
    assert _sha256(out / "catalog.csv") != _sha256(tmp_path / "other" / "catalog.csv")
    name = "observatory/S01202001vmin.min"
    assert _sha256(out / name) != _sha256(tmp_path / "other" / name)


def test_build_labels_the_windows_before_the_planted_events(records, tmp_path):
    from seismag.dataset.build import build_dataset

    out, record = records[1.0]
    build_dataset(out / "observatory", out / "catalog.csv", tmp_path / "windows", windows=(7,))
    with open(tmp_path / "windows" / "window-7" / "meta.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    labelled = {(row["station"], row["event_id"]) for row in rows if row["label"] == "1"}
    planted = {(s["code"], e["id"]) for e in record["events"] for s in e["stations"]}
    assert labelled == planted
    assert {row["event_id"] for row in rows if row["label"] == "0"} == {""}


# --- settings and the output folder ---------------------------------------------------------------


def test_an_earlier_run_is_kept_unless_overwrite(tmp_path):
    generate_records(tmp_path, days=40, n_stations=1, seed=1)
    with pytest.raises(DataError, match="records.json"):
        generate_records(tmp_path, days=20, n_stations=1, seed=1)
    (tmp_path / "observatory" / "notes.txt").write_text("mine")
    record = generate_records(tmp_path, days=20, n_stations=1, seed=1, overwrite=True)
    assert sorted(p.name for p in (tmp_path / "observatory").iterdir()) == ["S01202001vmin.min", "notes.txt"]
    assert record["files"]["observatory"] == ["observatory/S01202001vmin.min"]


@pytest.mark.parametrize("kwargs, word", [
    ({"days": 8}, "days must be at least 9"),
    ({"days": 20.5}, "days"),
    ({"n_stations": 0}, "n_stations"),
    ({"start": "2020-01-01T06:00"}, "start"),
    ({"start": "someday"}, "start"),
    ({"effect": -1}, "effect"),
    ({"storm_coincidence": 1.5}, "storm_coincidence"),
    ({"lead_days": 0}, "lead_days"),
    ({"seed": -3}, "seed"),
])
def test_bad_settings_are_refused_before_writing(tmp_path, kwargs, word):
    with pytest.raises(ConfigError, match=word):
        generate_records(tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()


def test_cli_synth_records(tmp_path, capsys):
    from seismag.cli import main

    out = tmp_path / "raw"
    assert main(["synth", "--records", "--out", str(out), "--days", "20", "--stations", "2", "--start", "2021-03-20",
                 "--effect", "0", "--storm-coincidence", "1", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert "2 stations x 20 days from 2021-03-20" in text and "2 events (2 with a coinciding storm)" in text
    record = json.loads((out / "records.json").read_text())
    assert record["settings"]["effect"] == 0.0 and record["settings"]["start"] == "2021-03-20"
    assert sorted(p.name for p in (out / "observatory").iterdir()) == [
        "S01202103vmin.min", "S01202104vmin.min", "S02202103vmin.min", "S02202104vmin.min"]
    assert main(["synth", "--records", "--out", str(tmp_path / "x"), "--preset", "paper"]) == 2
    assert "--preset does not apply to --records" in capsys.readouterr().err
    assert main(["synth", "--out", str(tmp_path / "y"), "--days", "20"]) == 2
    assert "--days does not apply to windows" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_written_one_station_month_at_a_time(tmp_path, monkeypatch):
    import seismag.synth.records as synthetic_records

    calls = []
    original = synthetic_records.write_iaga2002

    def spy(path, values, **kwargs):
        calls.append((Path(path).name, {name: len(v) for name, v in values.items()}))
        return original(path, values, **kwargs)

    monkeypatch.setattr(synthetic_records, "write_iaga2002", spy)
    generate_records(tmp_path, days=45, n_stations=2, start="2020-01-20", seed=1)
    # Month by month, every station of a month before the next: 12 + 29 + 4 days (2020 is a leap year).
    assert [name for name, _ in calls] == ["S01202001vmin.min", "S02202001vmin.min", "S01202002vmin.min",
                                           "S02202002vmin.min", "S01202003vmin.min", "S02202003vmin.min"]
    assert [sizes["H"] // 1440 for _, sizes in calls] == [12, 12, 29, 29, 4, 4]
    assert all(set(sizes) == {"H", "D", "Z", "F"} for _, sizes in calls)
