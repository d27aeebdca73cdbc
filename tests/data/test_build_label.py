"""Labelling with declustering and geomagnetic activity: known answers on hand-made windows."""
import numpy as np

from seismag.data.build.label import (DROP_AFTERSHOCK, DROP_STORM, KEPT, LabelContext, in_aftershock_period,
                                      label_windows, qualifying_events)
from seismag.data.build.plan import CandidateWindows
from seismag.data.catalog import Catalog
from seismag.data.decluster import gardner_knopoff
from seismag.data.indices import daily_activity, parse_storm_rule, read_kp, write_kp_csv

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
    declustered = gardner_knopoff(cat)
    assert declustered.mainshock.tolist() == [True, False]
    periods = declustered.aftershock_periods()
    context = LabelContext(mainshock=declustered.mainshock, periods=periods)
    span = (periods.start, periods.end)
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


def test_the_aftershock_period_arithmetic():
    start = np.array([np.datetime64("2020-01-10T12:00:00", "s")])
    end = start + np.timedelta64(30, "D")
    w = windows()
    assert in_aftershock_period(w.window_start, w.window_end, (start, end)).sum() == 14  # ends Jan 11 .. Jan 24
    assert not in_aftershock_period(w.window_start, w.window_end, None).any()


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
