"""Rows -> scored station-days and alarm levels; target events and (event, station) pairs;
the perfect forecaster; empty scores; the lead window across month and year ends."""

from __future__ import annotations

import numpy as np
import pytest

from seismag.sources.catalog import EARTH_RADIUS_KM, Catalog
from seismag.evaluation.skill.alarms import StationDays
from seismag.evaluation.skill.events import event_radius_km, pair_levels, select_target_events
from seismag.evaluation.skill.molchan import area_skill_score, event_alarm_fractions, molchan_trajectory

KM_PER_DEGREE = EARTH_RADIUS_KM * np.pi / 180.0


def daily(first: str, n: int) -> np.ndarray:
    return np.datetime64(first, "D") + np.arange(n).astype("timedelta64[D]")


def quakes(*events, start=None, end=None) -> Catalog:
    """``(time, km north of 40N 140E, magnitude, depth_km, id)``."""
    return Catalog.from_events([(t, 40.0 + km / KM_PER_DEGREE, 140.0, depth, m, name)
                                for t, km, m, depth, name in events], start=start, end=end)


def judge(days: StationDays, score, catalog: Catalog, lat, lon, **kw):
    events, _ = select_target_events(catalog, lat, lon, days, min_magnitude=kw.pop("min_magnitude", 5.0), **kw)
    levels = days.levels(score)
    at = pair_levels(levels, events)
    return events, levels, molchan_trajectory(levels[days.scored], at), at


@pytest.mark.parametrize("window_end, lead, covered", [
    ("2019-12-30", 5, ["2019-12-30", "2019-12-31", "2020-01-01", "2020-01-02", "2020-01-03"]),
    ("2020-02-27", 3, ["2020-02-27", "2020-02-28", "2020-02-29"]),   # leap year
    ("2021-02-27", 3, ["2021-02-27", "2021-02-28", "2021-03-01"]),
    ("2021-04-30", 2, ["2021-04-30", "2021-05-01"]),
])
def test_lead_window_across_month_and_year_ends(window_end, lead, covered):
    days = StationDays.from_rows(1, [0], [np.datetime64(window_end)], lead)
    start, end = days.period
    assert (str(start), str(end)) == (covered[0], str(np.datetime64(covered[-1]) + 1))
    assert days.n_station_days == lead
    assert days.levels([0.7]).tolist() == [[0.7] * lead]
    # an event on the last covered day is a target, one at the next midnight is not
    last = np.datetime64(covered[-1]).astype("datetime64[s]") + np.timedelta64(86399, "s")
    catalog = quakes((last, 0, 6.0, 10.0, "in"), (last + np.timedelta64(1, "s"), 0, 6.0, 10.0, "out"))
    events, _ = select_target_events(catalog, [40.0], [140.0], days, min_magnitude=5.0)
    assert events.event_id.tolist() == ["in"]


def test_perfect_forecaster_reaches_nu_zero_at_the_smallest_tau():
    # One station, rows ending 2020-01-01 .. 2020-01-20, lead 3: scored days 2020-01-01 .. 2020-01-22 (22).
    # Events on 01-10 and 01-16. Each needs one row whose horizon covers it (3 days), and no row covers
    # both, so no forecast catches both with fewer than 6 of the 22 days under alarm.
    ends = daily("2020-01-01", 20)
    days = StationDays.from_rows(1, np.zeros(20, int), ends, 3)
    assert days.n_station_days == 22
    catalog = quakes(("2020-01-10T06:00", 0, 6.0, 10.0, "a"), ("2020-01-16T18:00", 0, 6.0, 10.0, "b"))
    on = np.isin(ends, np.array(["2020-01-08", "2020-01-14"], dtype="datetime64[D]"))  # horizons 08-10, 14-16
    _, _, perfect, _ = judge(days, on.astype(float), catalog, [40.0], [140.0])
    first_zero = perfect.tau[np.argmax(perfect.nu == 0)]
    assert first_zero == pytest.approx(6 / 22)
    assert area_skill_score(perfect.tau, perfect.nu) == pytest.approx(1 - 3 / 22)
    # on for every row whose horizon covers an event: ends 08-10 and 14-16, alarm 08-12 and 14-18
    covering = np.isin(ends, np.array(["2020-01-08", "2020-01-09", "2020-01-10", "2020-01-14", "2020-01-15",
                                       "2020-01-16"], dtype="datetime64[D]"))
    _, _, wide, _ = judge(days, covering.astype(float), catalog, [40.0], [140.0])
    assert wide.tau[np.argmax(wide.nu == 0)] == pytest.approx(10 / 22)


def test_one_event_seen_by_three_stations_is_three_pairs_each_caught_by_its_own_station():
    # stations A, B, C within 100 km of the event, D 3000 km away; ten rows each, lead 1
    ends = np.tile(daily("2020-03-01", 10), 4)
    station = np.repeat(np.arange(4), 10)
    days = StationDays.from_rows(4, station, ends, 1)
    lat = np.array([40.0, 40.5, 39.6, 67.0])
    lon = np.array([140.0, 140.2, 139.8, 140.0])
    catalog = quakes(("2020-03-05T12:00", 0, 6.0, 10.0, "one"))
    score = np.full(40, 0.1)
    score[10 + 4] = 0.9  # B is under alarm on 03-05 at a high threshold, C at a middling one
    score[20 + 4] = 0.5
    score[30 + 4] = 1.0  # D's alarm is outside the radius (Dobrovolsky M6: 380 km)
    events, _, trajectory, at = judge(days, score, catalog, lat, lon)
    assert len(events) == 1 and events.reach[0].tolist() == [True, True, True, False] and events.n_pairs == 3
    assert at.tolist() == [0.1, 0.9, 0.5]  # A, B, C on the event's day
    assert trajectory.n_events == 3 and trajectory.n_cells == 40
    # thresholds 1.0 (D), 0.9 (B: one pair), 0.5 (C: two pairs), 0.1 (everything: three)
    assert trajectory.hits.tolist() == [0, 0, 1, 2, 3, 3] and trajectory.tau[2] == pytest.approx(2 / 40)


def test_empty_scores_are_no_alarm_but_count_in_tau():
    ends = daily("2020-05-01", 10)
    days = StationDays.from_rows(1, np.zeros(10, int), ends, 1)
    score = np.array([0.9, np.nan, 0.8, np.nan, 0.7, np.nan, 0.6, np.nan, 0.5, np.nan])
    catalog = quakes(("2020-05-02T00:00", 0, 6.0, 10.0, "empty-day"), ("2020-05-01T00:00", 0, 6.0, 10.0, "hit"))
    events, _, trajectory, at = judge(days, score, catalog, [40.0], [140.0])
    assert days.n_station_days == 10 and trajectory.n_cells == 10
    assert trajectory.tau[-2] == pytest.approx(5 / 10)  # the last threshold: 5 of 10 days, not 5 of 5
    assert np.isnan(at[events.event_id == "empty-day"]).all()
    # the event on an empty day is caught only by "always": mid-point of 0.5 .. 1
    fractions = event_alarm_fractions(days.levels(score)[days.scored], at)
    assert fractions[events.event_id == "empty-day"].tolist() == [0.75]
    assert fractions[events.event_id == "hit"].tolist() == [0.05]


def test_overlapping_horizons_take_the_highest_score():
    days = StationDays.from_rows(1, [0, 0, 0], np.array(["2020-01-01", "2020-01-02", "2020-01-05"],
                                                        dtype="datetime64[D]"), 3)
    # scored: 01-01 .. 01-04 (first two rows) and 01-05 .. 01-07; 01-04 by the second row only
    assert days.scored.tolist() == [[True] * 7]
    levels = days.levels([0.2, 0.6, np.nan])[0]
    assert levels[:4].tolist() == [0.2, 0.6, 0.6, 0.6] and np.isnan(levels[4:]).all()
    with pytest.raises(ValueError):
        StationDays.from_rows(1, [0, 0], np.array(["2020-01-02", "2020-01-01"], dtype="datetime64[D]"), 3)


def test_radius_depth_and_declustering():
    ends = daily("2020-01-01", 30)
    days = StationDays.from_rows(1, np.zeros(30, int), ends, 1)
    assert event_radius_km(6.0) == pytest.approx(10 ** 2.58)  # 380 km
    catalog = quakes(("2020-01-05T00:00", 300, 6.0, 10.0, "near"), ("2020-01-06T00:00", 450, 6.0, 10.0, "far"),
                     ("2020-01-07T00:00", 50, 5.4, 10.0, "small"), ("2020-01-08T00:00", 100, 6.0, 120.0, "deep"),
                     ("2020-01-09T00:00", 100, 6.0, np.nan, "unknown-depth"))
    events, _ = select_target_events(catalog, [40.0], [140.0], days, min_magnitude=5.5)
    assert events.event_id.tolist() == ["near", "deep", "unknown-depth"]
    events, _ = select_target_events(catalog, [40.0], [140.0], days, min_magnitude=5.5, radius="fixed",
                                     radius_km=200.0)
    assert events.event_id.tolist() == ["deep", "unknown-depth"]
    events, notes = select_target_events(catalog, [40.0], [140.0], days, min_magnitude=5.5, max_depth_km=70.0)
    assert events.event_id.tolist() == ["near"] and "unknown depth" in notes[0]
    # an M7 and, a day later and 20 km away, an M6 aftershock: declustered, one target
    sequence = quakes(("2020-01-10T00:00", 0, 7.0, 10.0, "main"), ("2020-01-11T00:00", 20, 6.0, 10.0, "after"))
    assert len(select_target_events(sequence, [40.0], [140.0], days, min_magnitude=5.5)[0]) == 2
    events, notes = select_target_events(sequence, [40.0], [140.0], days, min_magnitude=5.5, decluster=True)
    assert events.event_id.tolist() == ["main"] and "1 of the catalog's 2 events" in notes[0]


def test_no_event_above_the_magnitude_leaves_no_target():
    days = StationDays.from_rows(2, [0, 1], np.array(["2020-01-01", "2020-01-01"], dtype="datetime64[D]"), 3)
    events, _ = select_target_events(quakes(("2020-01-02T00:00", 0, 5.0, 10.0, "small")), [40.0, 41.0],
                                     [140.0, 141.0], days, min_magnitude=6.0)
    assert len(events) == 0 and events.reach.shape == (0, 2)
    assert pair_levels(days.levels([0.5, 0.5]), events).shape == (0,)
