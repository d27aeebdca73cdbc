"""Kp / Dst reference scores, the circular-shift surrogates (uniform p under the null), and a
storm-following score that beats random alarms but not the Kp reference."""

from __future__ import annotations

import numpy as np
import pytest

from seismag.sources.catalog import Catalog
from seismag.sources.indices.dst import DstSeries
from seismag.sources.indices.kp import KpSeries
from seismag.errors import ConfigError
from seismag.evaluation.skill import evaluate_skill
from seismag.evaluation.skill.alarms import StationDays
from seismag.evaluation.skill.events import select_target_events
from seismag.evaluation.skill.references import activity_scores, dst_scores, kp_scores, reference_name, window_days_of
from seismag.layout.forecast import ModelRows, Scores
from seismag.evaluation.skill.surrogates import draw_shifts, shifted_scores, surrogate_ass, surrogate_p_value, timing_ass


def daily(first: str, n: int) -> np.ndarray:
    return np.datetime64(first, "D") + np.arange(n).astype("timedelta64[D]")


def test_window_days_and_names():
    assert window_days_of("gru_7day") == 7 and window_days_of("features_30day") == 30
    assert window_days_of("activity") is None
    assert reference_name("kp", 7, False) == "reference:kp"
    assert reference_name("dst", 14, True) == "reference:dst_14day"


def test_activity_score_is_the_window_maximum():
    days = daily("2020-01-01", 10)
    values = np.array([1.0, 5.0, 2.0, np.nan, 3.0, 0.0, np.nan, np.nan, np.nan, 4.0])
    ends = np.array(["2020-01-04", "2020-01-05", "2020-01-10", "2020-01-02", "2020-01-20"], dtype="datetime64[D]")
    # windows of 3 days before each end: 01-01..03 -> 5; 01-02..04 -> 5; 01-07..09 -> none; 12-30..01-01 -> 1;
    # 01-17..19: after the series -> none
    got = activity_scores(days, values, ends, 3)
    assert got[[0, 1, 3]].tolist() == [5.0, 5.0, 1.0] and np.isnan(got[[2, 4]]).all()


def test_kp_and_dst_references():
    days = daily("2020-01-01", 3)
    kp = np.zeros((3, 8))
    kp[1, 5] = 6.333
    kp[2, :] = np.nan
    kp[2, 0] = 2.0
    series = KpSeries(days=days, kp=kp)
    assert kp_scores(series, np.array(["2020-01-02", "2020-01-03", "2020-01-04"], dtype="datetime64[D]"),
                     1).tolist() == [0.0, 6.333, 2.0]
    dst = np.full((3, 24), -10.0)
    dst[1, 7] = -120.0
    dst_series = DstSeries(days=days, dst=dst, daily_mean=np.zeros(3), status=np.array(["final"] * 3))
    assert dst_scores(dst_series, np.array(["2020-01-04"], dtype="datetime64[D]"), 3).tolist() == [120.0]


def one_station(n_days: int, lead: int) -> StationDays:
    return StationDays.from_rows(1, np.zeros(n_days, int), daily("2020-01-01", n_days), lead)


def test_shifts_rotate_each_station_and_keep_the_rows():
    days = StationDays.from_rows(2, [0, 0, 0, 0, 1, 1, 1], np.array(
        ["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04", "2020-01-01", "2020-01-02", "2020-01-03"],
        dtype="datetime64[D]"), 1)
    score = np.array([1, 2, 3, 4, 10, 20, 30], dtype=float)
    assert shifted_scores(score, days, 1).tolist() == [4, 1, 2, 3, 30, 10, 20]
    assert shifted_scores(score, days, 3).tolist() == [2, 3, 4, 1, 10, 20, 30]  # 3 mod 3 rows = 0 at B
    shifts = draw_shifts(500, one_station(30, 5), seed=1)
    assert shifts.min() >= 5 and shifts.max() <= 25
    with pytest.raises(ConfigError, match="too few scored days"):
        draw_shifts(10, one_station(9, 5), seed=1)
    assert surrogate_p_value(0.7, np.array([0.5, 0.7, 0.8, 0.6])) == pytest.approx(3 / 5)
    assert surrogate_p_value(0.7, np.zeros(0)) is None


def test_surrogate_p_values_are_roughly_uniform_under_the_null():
    rng = np.random.default_rng(11)
    days = one_station(150, 3)
    p_values = []
    for _ in range(200):
        event_days = daily("2020-01-01", 152)[rng.choice(152, 8, replace=False)]
        catalog = Catalog.from_events([(d, 40.0, 140.0, 10.0, 6.0, f"e{i}") for i, d in enumerate(event_days)])
        events, _ = select_target_events(catalog, [40.0], [140.0], days, min_magnitude=5.0)
        score = rng.random(150)
        ass = timing_ass(score, days, events)
        shifts = draw_shifts(49, days, int(rng.integers(1 << 30)))
        p_values.append(surrogate_p_value(ass, surrogate_ass(score, days, events, shifts)))
    p_values = np.array(p_values)
    counts = np.histogram(p_values, bins=5, range=(0, 1))[0]
    assert counts.min() >= 20 and counts.max() <= 60, counts  # 40 expected in each fifth
    assert 0.01 <= np.mean(p_values <= 0.05) <= 0.11


def test_a_perfect_forecaster_beats_every_surrogate():
    days = one_station(120, 3)
    ends = daily("2020-01-01", 120)
    event_days = ends[[20, 50, 90]]
    catalog = Catalog.from_events([(d, 40.0, 140.0, 10.0, 6.0, f"e{i}") for i, d in enumerate(event_days)])
    events, _ = select_target_events(catalog, [40.0], [140.0], days, min_magnitude=5.0)
    score = np.isin(ends, event_days - 1).astype(float)
    surrogates = surrogate_ass(score, days, events, draw_shifts(99, days, seed=3))
    assert timing_ass(score, days, events) > surrogates.max()
    assert surrogate_p_value(timing_ass(score, days, events), surrogates) == pytest.approx(1 / 100)


def storm_record(seed: int = 4):
    """400 days at one station: Kp quiet (0-3) with 25 storm days (Kp 7); 16 events the day after
    a storm and 4 on quiet days. The model's score is the Kp reference's (max Kp of its 3-day
    window) plus noise, scaled into [0, 1]."""
    rng = np.random.default_rng(seed)
    n = 400
    days = daily("2021-01-01", n + 10)
    kp = rng.uniform(0, 3, size=(n + 10, 8))
    storms = np.sort(rng.choice(np.arange(10, n), 25, replace=False))
    kp[storms, 3] = 7.0
    after = storms[:16] + 1
    quiet = rng.choice(np.setdiff1d(np.arange(15, n), np.concatenate([storms, storms + 1, storms + 2, storms + 3])),
                       4, replace=False)
    event_days = days[np.concatenate([after, quiet])]
    catalog = Catalog.from_events([(d.astype("datetime64[s]") + np.timedelta64(3600 * 5, "s"), 40.2, 140.1, 10.0,
                                    6.5, f"q{i}") for i, d in enumerate(event_days)], start=str(days[0]),
                                  end=str(days[-1] + 5))
    series = KpSeries(days=days, kp=kp)
    ends = days[3:n]
    score = np.clip((kp_scores(series, ends, 3) + rng.normal(0, 0.5, ends.size)) / 10.0, 0, 1)
    rows = ModelRows("follower_3day", np.zeros(ends.size, np.int64), ends, score, np.zeros(ends.size, bool),
                     np.arange(ends.size) + 2)
    return Scores("storms.csv", ("AAA",), np.array([40.0]), np.array([140.0]), {"follower_3day": rows}), catalog, series


def test_a_storm_following_score_is_above_its_surrogates_but_not_ahead_of_the_kp_reference():
    scores, catalog, kp = storm_record()
    result = evaluate_skill(scores, catalog, min_magnitude=6.0, lead_days=3, kp=kp, surrogates=199, seed=2)
    model, reference = result["models"]["follower_3day"], result["models"]["reference:kp"]
    assert model["n_events"] == 20 and reference["n_station_days"] == model["n_station_days"]
    assert model["ass_p_value"] <= 0.05 and reference["ass_p_value"] <= 0.05 and model["significant"]
    comparison = model["versus"]["reference:kp"]
    assert comparison["outcome"] in ("indistinguishable", "behind") and comparison["ass_difference"] < 0.05
    verdict = model["verdict"]
    assert verdict.startswith("ASS ") and "above its circular-shift surrogates (p = " in verdict
    assert "adjusted p = " in verdict and "alarms raised by geomagnetic storms (timing only: reference:kp ASS" in verdict
    assert not verdict.split("; ")[1].startswith("ahead")
    assert result["models"]["reference:random"]["ass"] == 0.5 and result["models"]["reference:rate"]["ass"] == 0.5
    assert reference["verdict"].startswith("alarms raised by geomagnetic storms alone (daily max Kp")


def test_models_share_rows_and_each_meets_the_reference_of_its_own_window():
    scores, catalog, kp = storm_record()
    rows = scores.models["follower_3day"]
    later = ModelRows("slow_5day", rows.station[2:], rows.window_end[2:], rows.score[2:][::-1].copy(),
                      rows.in_sample[2:], rows.line[2:])
    both = Scores(scores.path, scores.stations, scores.latitude, scores.longitude,
                  {"follower_3day": rows, "slow_5day": later})
    result = evaluate_skill(both, catalog, min_magnitude=6.0, lead_days=3, kp=kp, surrogates=0)
    assert list(result["models"]) == ["follower_3day", "slow_5day", "reference:random", "reference:rate",
                                      "reference:kp_3day", "reference:kp_5day"]
    assert len({record["n_station_days"] for record in result["models"].values()}) == 1
    assert result["models"]["follower_3day"]["n_station_days"] == len(rows) - 2 + 2  # rows from the 3rd, lead 3
    assert any("follower_3day: 2 row(s) that not every model has" in note for note in result["notes"])
    assert set(result["models"]["follower_3day"]["versus"]) == {"reference:kp_3day", "reference:rate"}
    assert set(result["models"]["slow_5day"]["versus"]) == {"reference:kp_5day", "reference:rate"}
    # without surrogates: numbers, and no statement of significance
    slow = result["models"]["slow_5day"]
    assert slow["ass_p_value"] is None and slow["significant"] is None
    assert "no significance statement: --surrogates 0" in slow["verdict"] and "not tested" in slow["verdict"]
    assert all(c["outcome"] is None for c in slow["versus"].values())
