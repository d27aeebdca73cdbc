"""Labelling with declustering and geomagnetic activity: known answers on hand-made windows;
the label settings dataset.json records; causal declustering in a whole build."""
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from seismag.dataset.build import build_dataset
from seismag.dataset.build.label import (DROP_AFTERSHOCK, DROP_STORM, KEPT, LabelContext, in_aftershock_period,
                                      label_windows, qualifying_events)
from seismag.dataset.build.plan import CandidateWindows, default_label_settings
from seismag.sources.catalog import Catalog
from seismag.sources.decluster import gardner_knopoff
from seismag.sources.iaga import write_iaga2002
from seismag.sources.indices.activity import daily_activity
from seismag.sources.indices.kp import read_kp, write_kp_csv
from seismag.sources.indices.storm import parse_storm_rule
from seismag.errors import ConfigError, DataError
from seismag.layout.dataset_info import (
    DATASET_FILE,
    LABEL_KEYS,
    DatasetInfo,
    label_settings,
    read_dataset_info,
    read_label_settings,
)
from seismag.layout.seed import CLASS_FILES

SETTINGS = {"min_magnitude": 5.0, "radius_mode": "fixed", "radius_km": 300.0, "max_missing": 0.1}
STATION = (40.0, 140.0)


def windows(first_end="2020-01-05", n=20, days=3, lead=2):
    """Windows of ``days`` days ending every day from ``first_end`` on, horizon ``lead`` days."""
    end = np.datetime64(first_end, "s") + np.arange(n) * np.timedelta64(1, "D")
    return CandidateWindows(station="AAA", window_days=days, window_start=end - np.timedelta64(days, "D"),
                            window_end=end, horizon_end=end + np.timedelta64(lead, "D"),
                            missing_fraction=np.zeros(n))


def catalog():
    # an M7 beside the station on Jan 10 12:00 and an M6 aftershock two days later, 20 km away
    return Catalog.from_events([("2020-01-10T12:00:00", 40.0, 140.1, 10.0, 7.0, "main"),
                                ("2020-01-12T12:00:00", 40.1, 140.1, 10.0, 6.0, "after")],
                               start="2019-12-01", end="2020-03-01")


def test_without_declustering_the_aftershock_labels_windows_too():
    cat = catalog()
    plan = label_windows(windows(), qualifying_events(*STATION, cat, SETTINGS), cat, 0.1)
    ends = plan.window_end.astype("datetime64[D]").astype(str)
    ones = set(ends[plan.label == 1])
    # horizon [end, end + 2 days) holds Jan 10 12:00 for ends Jan 9, 10; Jan 12 12:00 for ends Jan 11, 12
    assert ones == {"2020-01-09", "2020-01-10", "2020-01-11", "2020-01-12"}
    assert (plan.status == KEPT).all()


def test_declustering_labels_by_mainshocks_and_drops_the_aftershock_period():
    cat = catalog()
    declustered = gardner_knopoff(cat, causal=True)
    assert declustered.mainshock.tolist() == [True, False]
    periods = declustered.aftershock_periods()
    context = LabelContext(mainshock=declustered.mainshock, periods=periods)
    span = (periods.start, periods.end, periods.known_from)
    plan = label_windows(windows(), qualifying_events(*STATION, cat, SETTINGS, declustered.mainshock), cat, 0.1,
                         context=context, aftershock_periods=span)
    ends = plan.window_end.astype("datetime64[D]").astype(str)
    status = dict(zip(ends, plan.status))
    label = dict(zip(ends, plan.label))
    # the windows whose data end before the mainshock stay, and the two whose horizon holds it are class 1
    assert status["2020-01-09"] == KEPT and label["2020-01-09"] == 1
    assert status["2020-01-10"] == KEPT and label["2020-01-10"] == 1  # data end Jan 10 00:00, before 12:00
    # a window whose data reach past Jan 10 12:00 lies in the M7's aftershock period (T(7) ~ 1 year)
    assert status["2020-01-11"] == DROP_AFTERSHOCK and status["2020-01-24"] == DROP_AFTERSHOCK
    assert status["2020-01-08"] == KEPT and label["2020-01-08"] == 0

    # With a 1-day horizon, the window ending Jan 11 00:00 ends its horizon (Jan 12 00:00)
    # before the first aftershock (Jan 12 12:00): causally nothing says it is post-seismic yet.
    plan = label_windows(windows(lead=1), qualifying_events(*STATION, cat, SETTINGS, declustered.mainshock), cat,
                         0.1, context=context, aftershock_periods=span)
    status = dict(zip(plan.window_end.astype("datetime64[D]").astype(str), plan.status))
    assert status["2020-01-11"] == KEPT and status["2020-01-12"] == DROP_AFTERSHOCK


def test_the_aftershock_period_arithmetic():
    start = np.array([np.datetime64("2020-01-10T12:00:00", "s")])
    end = start + np.timedelta64(30, "D")
    w = windows()
    # ends Jan 11 .. Jan 24 (horizons end Jan 13 .. Jan 26)
    assert in_aftershock_period(w.window_start, w.window_end, w.horizon_end, (start, end, start)).sum() == 14
    known_later = start + np.timedelta64(5, "D")  # Jan 15 12:00: only horizons ending after it count
    assert in_aftershock_period(w.window_start, w.window_end, w.horizon_end, (start, end, known_later)).sum() == 11
    assert not in_aftershock_period(w.window_start, w.window_end, w.horizon_end, None).any()


def test_causal_declustering_keeps_the_earlier_m6_as_a_labelling_mainshock():
    # An M6 on Jan 10 beside the station, an M7 20 km from it on Apr 9 (day 100), an M5.6
    # near the M7 five days later. Plain Gardner-Knopoff makes the M6 a foreshock of the M7,
    # so the windows before it would turn class 0 once the M7 is in the catalog.
    cat = Catalog.from_events([("2020-01-10T12:00:00", 40.0, 140.1, 10.0, 6.0, "m6"),
                               ("2020-04-09T12:00:00", 40.18, 140.1, 10.0, 7.0, "m7"),
                               ("2020-04-14T12:00:00", 40.2, 140.15, 10.0, 5.6, "m5.6")],
                              start="2019-12-01", end="2020-06-01")
    plain = gardner_knopoff(cat)
    assert plain.foreshock.tolist() == [True, False, False]
    causal = gardner_knopoff(cat, causal=True)
    assert causal.mainshock.tolist() == [True, True, False] and causal.aftershock.tolist() == [False, False, True]
    ones = {}
    for name, result in (("plain", plain), ("causal", causal)):
        plan = label_windows(windows(), qualifying_events(*STATION, cat, SETTINGS, result.mainshock), cat, 0.1)
        ones[name] = set(plan.window_end[plan.label == 1].astype("datetime64[D]").astype(str))
    assert ones["causal"] == {"2020-01-09", "2020-01-10"} and ones["plain"] == set()


def test_a_depth_cut_leaves_deep_and_unknown_depths_out():
    cat = Catalog.from_events([("2020-01-10T12:00:00", 40.0, 140.1, 650.0, 7.0, "deep"),
                               ("2020-01-15T12:00:00", 40.0, 140.1, float("nan"), 7.0, "unknown"),
                               ("2020-01-20T12:00:00", 40.0, 140.1, 30.0, 7.0, "shallow")],
                              start="2019-12-01", end="2020-03-01")
    every = qualifying_events(*STATION, cat, SETTINGS)
    assert cat.event_id[every.index].tolist() == ["deep", "unknown", "shallow"]  # epicentral distance, any depth
    shallow = qualifying_events(*STATION, cat, {**SETTINGS, "max_depth_km": 70.0})
    assert cat.event_id[shallow.index].tolist() == ["shallow"]


def test_activity_columns_and_the_storm_rule(tmp_path):
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-02-01"))
    kp = np.full((len(days), 8), 1.0)
    kp[np.flatnonzero(days == np.datetime64("2020-01-15"))[0], 3] = 6.333  # one disturbed 3-hour slot
    path = write_kp_csv(tmp_path / "kp.csv", days, kp)
    activity = daily_activity(kp=read_kp(path))
    cat = catalog()
    context = LabelContext(activity=activity, rule=parse_storm_rule("kp>=5"))
    plan = label_windows(windows(), qualifying_events(*STATION, cat, SETTINGS), cat, 0.1, context=context)
    ends = plan.window_end.astype("datetime64[D]").astype(str)
    by_end = {e: i for i, e in enumerate(ends)}
    # 3-day windows ending (exclusive) Jan 16, 17, 18 hold Jan 15: dropped, with Kp 6.333 recorded
    for end in ("2020-01-16", "2020-01-17", "2020-01-18"):
        i = by_end[end]
        assert plan.status[i] == DROP_STORM and plan.activity["max_kp"][i] == 6.333
        assert plan.activity["disturbed_days"][i] == 1
    assert plan.status[by_end["2020-01-15"]] == KEPT and plan.activity["max_kp"][by_end["2020-01-15"]] == 1.0
    assert plan.status[by_end["2020-01-19"]] == KEPT
    assert np.isnan(plan.activity["min_dst"]).all()  # no Dst given: never covered, never 0


# --------------------------------------------------------------- builds: labels and causality

START = np.datetime64("2020-01-01T00:00", "m")
DAYS = 90


def day(offset: float) -> np.datetime64:
    return np.datetime64("2020-01-01T00:00:00", "s") + np.timedelta64(int(round(offset * 86400)), "s")


def north(km: float) -> float:
    return km / 111.195  # degrees along the meridian, as haversine_km measures them


@pytest.fixture(scope="module")
def station(tmp_path_factory) -> Path:
    """A 90-day H record at 0N 0E (station SYN), a slow sine so each window differs."""
    minutes = np.arange(DAYS * 1440)
    values = 20000.0 + 10.0 * np.sin(minutes / 5000.0)
    return write_iaga2002(tmp_path_factory.mktemp("obs") / "syn.min", {"H": values}, start=START,
                          iaga_code="SYN", latitude=0.0, longitude=0.0, station_name="Synthetic")


def events():
    """(day, km north of the station, magnitude, id, depth km). A: an M6 30 km away, whose
    aftershock C comes after day 45; B: an M7 20 km from A, after day 45 too (plain
    Gardner-Knopoff makes A its foreshock); D: B's aftershock; G: an M5.5 30 km south with
    its aftershock H half a day later, both before day 45."""
    return [(20.5, 30.0, 6.0, "A", 10.0), (36.5, -30.0, 5.5, "G", 10.0), (37.0, -32.0, 5.0, "H", 10.0),
            (50.5, 40.0, 5.6, "C", 10.0), (55.5, 50.0, 7.0, "B", 10.0), (57.5, 55.0, 5.7, "D", 10.0)]


def make_catalog(until: float | None = None) -> Catalog:
    rows = [(day(d), north(km), 0.0, depth, m, name) for d, km, m, name, depth in events()
            if until is None or d < until]
    return Catalog.from_events(rows, start=day(-30), end=day(DAYS + 30 if until is None else until))


def meta_rows(folder: Path) -> list[dict]:
    with open(folder / "window-7" / "meta.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def rows_by_end(folder: Path, horizon_by: np.datetime64) -> dict[str, tuple[dict, np.ndarray]]:
    """Meta row and data row of every window whose label horizon ends by ``horizon_by``."""
    data = np.concatenate([np.load(folder / "window-7" / name) for name in CLASS_FILES])
    return {row["window_end"]: (row, data[i]) for i, row in enumerate(meta_rows(folder))
            if np.datetime64(row["label_horizon_end"], "s") <= horizon_by}


def test_a_declustered_build_labels_windows_as_the_catalog_up_to_their_horizon_says(station, tmp_path):
    cut = 45.0
    build_dataset([station], make_catalog(), tmp_path / "full", windows=(7,), decluster=True)
    build_dataset([station], make_catalog(until=cut), tmp_path / "cut", windows=(7,), decluster=True)
    full, part = rows_by_end(tmp_path / "full", day(cut)), rows_by_end(tmp_path / "cut", day(cut))
    assert set(full) == set(part) and len(full) > 20
    for end, (row, data) in full.items():
        assert row == part[end][0], end
        np.testing.assert_array_equal(data, part[end][1])
    # A labels the windows whose horizon holds it (plain Gardner-Knopoff, with B in the catalog,
    # would make it a foreshock and those windows class 0); so does G.
    assert {row["event_id"] for row, _ in full.values() if row["label"] == "1"} == {"A", "G"}
    # The windows after A stay: its aftershock period is known only from C on, after their horizons.
    # G's is known from H on (day 37): the windows ending days 37 and 38 reach into it and are dropped.
    ends = sorted(np.datetime64(end, "s") for end in full)
    assert ends == [day(d) for d in range(7, 37)]


def test_build_records_its_label_settings_in_dataset_json(station, tmp_path):
    build_dataset([station], make_catalog(), tmp_path / "plain", windows=(7,))
    assert read_label_settings(tmp_path / "plain") == default_label_settings() == {
        "min_magnitude": 5.5, "radius": "dobrovolsky", "radius_km": None, "lead_days": 7, "max_depth_km": None,
        "decluster": False}
    build_dataset([station], make_catalog(), tmp_path / "set", windows=(7,), min_magnitude=5.8, radius_km=250.0,
                  lead_days=3, max_depth_km=70.0, decluster=True)
    record = json.loads((tmp_path / "set" / DATASET_FILE).read_text())
    assert record["labels"] == {"min_magnitude": 5.8, "radius": "fixed", "radius_km": 250.0, "lead_days": 3,
                                "max_depth_km": 70.0, "decluster": True}
    assert list(record["labels"]) == list(LABEL_KEYS)
    assert read_dataset_info(tmp_path / "set").labels == record["labels"]


def test_a_build_with_a_depth_cut_labels_by_shallow_events_only(station, tmp_path):
    deep = [(day(20.5), north(30.0), 0.0, 650.0, 6.5, "deep"), (day(60.5), north(30.0), 0.0, 15.0, 6.5, "shallow")]
    catalog = Catalog.from_events(deep, start=day(-30), end=day(DAYS + 30))
    build_dataset([station], catalog, tmp_path / "all", windows=(7,))
    build_dataset([station], catalog, tmp_path / "shallow", windows=(7,), max_depth_km=100.0)
    labelled = {folder: {r["event_id"] for r in meta_rows(tmp_path / folder) if r["label"] == "1"}
                for folder in ("all", "shallow")}
    assert labelled == {"all": {"deep", "shallow"}, "shallow": {"shallow"}}
    with pytest.raises(ConfigError, match="max_depth_km"):
        build_dataset([station], catalog, tmp_path / "bad", windows=(7,), max_depth_km="deep")


def test_a_dataset_json_without_labels_means_unknown(tmp_path):
    info = DatasetInfo(channels=("H",), units=("nT",))
    assert "labels" not in info.to_dict()  # synthetic windows, older builds
    (tmp_path / DATASET_FILE).write_text(json.dumps(info.to_dict()))
    assert read_label_settings(tmp_path) is None
    assert read_label_settings(tmp_path / "nowhere") is None  # no dataset.json at all


@pytest.mark.parametrize("change, problem", [
    ({"radius": "circle"}, "radius must be one of"),
    ({"radius_km": 100.0}, "radius_km must be null"),
    ({"radius": "fixed"}, "radius_km must be a number"),
    ({"lead_days": 2.5}, "lead_days"),
    ({"decluster": "yes"}, "decluster"),
    ({"min_magnitude": None}, "min_magnitude"),
    ({"extra": 1}, "unknown extra"),
])
def test_recorded_label_settings_are_checked(tmp_path, change, problem):
    record = {**DatasetInfo().to_dict(), "labels": {**default_label_settings(), **change}}
    (tmp_path / DATASET_FILE).write_text(json.dumps(record))
    with pytest.raises(DataError, match=problem):
        read_dataset_info(tmp_path)
    with pytest.raises(DataError, match="missing lead_days"):
        label_settings({k: v for k, v in default_label_settings().items() if k != "lead_days"}, "x")
