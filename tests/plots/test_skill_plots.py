"""Forecast-skill figures and the report's "Forecast skill" section, from a hand-made skill.json.

The skill.json below follows the contract of ``seismag skill`` exactly; its numbers were
worked out by hand (see the comments), so the figures' data can be checked against them.
"""

from __future__ import annotations

import copy
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from matplotlib import dates as mdates
from PIL import Image

from seismag.cli import main
from seismag.sources.indices.dst import read_dst, write_dst_wdc
from seismag.sources.indices.kp import read_kp, write_kp_csv
from seismag.errors import DataError, SeismagError
from seismag.plots import write_report
from seismag.plots.skill import (
    build_gain_figure, build_molchan_figure, build_station_figure, gain_curve, plot_skill, plot_station_scores,
    read_scores, read_skill, trajectory_drawstyle,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def point(threshold, tau, nu, alpha):
    return {"threshold": threshold, "tau": tau, "nu": nu, "alpha": alpha}


def skill_dict(in_sample: bool = False) -> dict:
    """Two stations, three target events and four (event, station) pairs, lead 3 days,
    scores 2020-01-01..10 at each (skill.json version 2).

    Pairs: E1 is within reach of AAA and BBB, E2 of BBB, E3 of AAA: N = 4 pairs, so nu
    (the fraction of pairs missed) steps by 0.25. Station-days: each station's horizons
    [d, d + 3) for d = Jan 1..10 cover Jan 1..12: 12 days, 24 in all. Trajectories, ASS:
      gru_7day   (0,1) (0.1,0.5) (0.25,0) (1,0): flat-then-down area 0.1*1 + 0.15*0.5 = 0.175,
                 ASS 0.825; G at the first tau >= 0.05, 0.1: (1-0.5)/0.1 = 5, at >= 0.2: 1/0.25 = 4
      lstm_7day  (0,1) (0.5,0.5) (1,0): trapezoid area 0.5, ASS 0.5; G = 0.5/0.5 = 1
      reference:rate and reference:random: the diagonal (0,1) (1,0), ASS 0.5, G 1
      reference:kp  (0,1) (0.2,0.5) (1,0): trapezoid 0.2*0.75 + 0.8*0.25 = 0.35, ASS 0.65; G 2.5
      reference:dst (0,1) (0.3,0.5) (1,0): trapezoid 0.3*0.75 + 0.7*0.25 = 0.4, ASS 0.6; G 5/3
    alpha = P(X >= hits), X ~ Bin(4, tau): gru at (0.1, 0.5) 1 - 0.9^4 - 4*0.1*0.9^3 = 0.0523,
    at (0.25, 0) 0.25^4 = 0.0039. The pointwise contour: h hits are significant while
    P(X >= h) <= 0.05: tau <= 0.01274 (h = 1), 0.09761 (2), 0.24860 (3), 0.47287 (4).
    """
    period = {"train_until": "2019-12-01", "first_window_start": "2019-01-01",
              "last_horizon_end": "2020-01-05" if in_sample else "2019-12-01"}

    def entry(kind, ass, p, gains, molchan, verdict, model_in_sample=False, adjusted=None, versus=None):
        record = {"kind": kind, "in_sample": model_in_sample, "training_period": period if kind == "model" else None,
                  "window_days": 7, "n_events": 3, "n_pairs": 4, "n_station_days": 24, "ass": ass,
                  "ass_p_value": p, "ass_p_adjusted": adjusted,
                  "significant": None if adjusted is None else adjusted <= 0.05,
                  "ass_surrogate_mean": None if p is None else 0.5, "ass_surrogate_sd": None if p is None else 0.09,
                  "probability_gain": dict(zip(("0.05", "0.1", "0.2"), gains)), "molchan": molchan,
                  "verdict": verdict}
        if versus is not None:
            record["versus"] = {name: {"ass_difference": ass - other, "p_value": p_value, "p_adjusted": p_adjusted,
                                       "outcome": outcome}
                                for name, (other, p_value, p_adjusted, outcome) in versus.items()}
        return record

    diagonal = [point(None, 0, 1, 1.0), point(None, 1.0, 0.0, None)]
    return {
        "format": "seismag-skill", "version": 2,
        "settings": {"scores": "scores.csv", "catalog": "catalog.csv", "min_magnitude": 6.0,
                     "radius": "dobrovolsky", "radius_km": None, "lead_days": 3, "max_depth_km": 70.0,
                     "decluster": False, "surrogates": 200, "surrogates_used": 200, "seed": 1, "kp": "kp.csv",
                     "dst": "dst.dat"},
        "scored_period": {"start": "2020-01-01", "end": "2020-01-13"},
        "in_sample": in_sample,
        "stations": {"AAA": {"latitude": 35.0, "longitude": 140.0, "n_station_days": 12},
                     "BBB": {"latitude": 36.0, "longitude": 141.0, "n_station_days": 12}},
        "events": [
            {"id": "E1", "time": "2020-01-05T12:00:00Z", "magnitude": 6.5, "latitude": 35.5,
             "longitude": 140.5, "depth_km": 10.0, "stations": ["AAA", "BBB"]},
            {"id": "E2", "time": "2020-01-08T03:30:00Z", "magnitude": 6.1, "latitude": 36.2,
             "longitude": 141.3, "depth_km": 30.0, "stations": ["BBB"]},
            {"id": "E3", "time": "2020-01-10T06:00:00Z", "magnitude": 6.2, "latitude": 35.1,
             "longitude": 140.1, "depth_km": 20.0, "stations": ["AAA"]},
        ],
        "n_pairs": 4,
        "contour_95": [{"tau": 0.0, "nu": 0.75}, {"tau": 0.0127, "nu": 0.75}, {"tau": 0.0128, "nu": 0.5},
                       {"tau": 0.0976, "nu": 0.5}, {"tau": 0.0977, "nu": 0.25}, {"tau": 0.2486, "nu": 0.25},
                       {"tau": 0.2487, "nu": 0.0}, {"tau": 0.4728, "nu": 0.0}],
        "contour": "pointwise: binomial over independent (event, station) pairs; not a test of the curve",
        "family": {"members": ["gru_7day", "lstm_7day"],
                   "adjustment": "Westfall-Young single-step min-p over shared resamples"},
        "models": {
            "gru_7day": entry("model", 0.825, 0.031, (5.0, 5.0, 4.0),
                              [point(None, 0, 1, 1.0), point(0.9, 0.1, 0.5, 0.0523),
                               point(0.7, 0.25, 0.0, 0.0039), point(0.0, 1.0, 0.0, 1.0)],
                              "ASS 0.82 above its circular-shift surrogates (p = 0.031, adjusted p = 0.045); "
                              "ahead of alarms raised by geomagnetic storms (timing only: reference:kp ASS 0.65, "
                              "difference +0.17, p = 0.01, adjusted p = 0.02, reference:dst ASS 0.60, difference "
                              "+0.23, p = 0.005, adjusted p = 0.01)",
                              adjusted=0.045,
                              versus={"reference:rate": (0.5, 0.002, 0.004, "ahead"),
                                      "reference:kp": (0.65, 0.01, 0.02, "ahead"),
                                      "reference:dst": (0.6, 0.005, 0.01, "ahead")}),
            "lstm_7day": entry("model", 0.5, 0.62, (1.0, 1.0, 1.0),
                               [point(None, 0, 1, 1.0), point(0.5, 0.5, 0.5, 0.6875), point(0.0, 1.0, 0.0, 1.0)],
                               "ASS 0.50 indistinguishable from its circular-shift surrogates (p = 0.62, "
                               "adjusted p = 0.8); indistinguishable from alarms raised by geomagnetic storms",
                               model_in_sample=in_sample, adjusted=0.8,
                               versus={"reference:rate": (0.5, 1.0, 1.0, "indistinguishable"),
                                       "reference:kp": (0.65, 0.3, 0.5, "indistinguishable"),
                                       "reference:dst": (0.6, 0.4, 0.6, "indistinguishable")}),
            "reference:random": entry("reference", 0.5, None, (1.0, 1.0, 1.0), diagonal,
                                      "random alarms: the diagonal nu = 1 - tau, ASS 0.5"),
            "reference:rate": entry("reference", 0.5, 1.0, (1.0, 1.0, 1.0),
                                    [point(None, 0, 1, 1.0), point(0.0, 1.0, 0.0, 1.0)],
                                    "knows where events happen and nothing of when: on timing it is the diagonal"),
            "reference:kp": entry("reference", 0.65, 0.2, (2.5, 2.5, 2.5),
                                  [point(None, 0, 1, 1.0), point(6.0, 0.2, 0.5, 0.1808), point(0.0, 1.0, 0.0, 1.0)],
                                  "alarms raised by geomagnetic storms alone (daily max Kp, 7-day window)"),
            "reference:dst": entry("reference", 0.6, 0.3, (5 / 3, 5 / 3, 5 / 3),
                                   [point(None, 0, 1, 1.0), point(80.0, 0.3, 0.5, 0.3483), point(0.0, 1.0, 0.0, 1.0)],
                                   "alarms raised by geomagnetic storms alone (-min Dst, 7-day window)"),
        },
        "notes": [],
    }


DAYS = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-11"))  # Jan 1..10


def write_scores(path: Path) -> Path:
    """AAA: both models every day, gru's score empty on Jan 4. BBB: gru only, no row on Jan 6."""
    lines = ["station,latitude,longitude,window_end,model,prob_class1,member_std,missing_fraction,in_sample"]
    for model, stations in (("gru_7day", ("AAA", "BBB")), ("lstm_7day", ("AAA",))):
        for station in stations:
            for index, day in enumerate(DAYS):
                if station == "BBB" and index == 5:
                    continue
                empty = station == "AAA" and model == "gru_7day" and index == 3
                score = "" if empty else f"{(index + 1) / 20 + (0.3 if model == 'lstm_7day' else 0):.2f}"
                std = "" if empty else "0.01"
                lines.append(f"{station},35.0,140.0,{day},{model},{score},{std},{0.9 if empty else 0.0},false")
    path.write_text("\n".join(lines) + "\n")
    return path


def kp_values() -> np.ndarray:
    """Jan 1..12: the same eight 3-hourly values every day (largest 2.0, slot 2), except slot 3."""
    values = np.tile(np.array([1.0, 1.333, 2.0, 0.0, 0.667, 1.0, 0.333, 0.0]), (12, 1))
    values[:, 3] = [1.0, 2.0, 3.0, 4.0, 5.333, 6.0, 2.667, 1.0, 1.0, 2.0, 3.0, 4.0]
    return values


def dst_values() -> np.ndarray:
    values = np.full((12, 24), -5.0)
    values[:, 7] = [-10, -20, -30, -40, -55, -80, -35, -20, -15, -10, -12, -9]
    return values


@pytest.fixture
def skill_dir(tmp_path) -> Path:
    folder = tmp_path / "skill"
    folder.mkdir()
    (folder / "skill.json").write_text(json.dumps(skill_dict(), indent=2))
    write_scores(folder / "scores.csv")
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-13"))
    write_kp_csv(folder / "kp.csv", days, kp_values())
    write_dst_wdc(folder / "dst.dat", days, dst_values())
    return folder


def lines_by_gid(fig) -> dict:
    return {line.get_gid(): line for ax in fig.axes for line in ax.get_lines() if line.get_gid()}


# -- Molchan diagram -----------------------------------------------------------------


def test_trajectory_drawstyle_makes_the_drawn_area_the_ass():
    tau, nu = np.array([0, 0.1, 0.25, 1.0]), np.array([1, 0.5, 0.0, 0.0])
    assert trajectory_drawstyle(tau, nu, 0.825) == "steps-post"  # 1 - (0.1*1 + 0.15*0.5)
    assert trajectory_drawstyle(tau, nu, 0.8875) == "default"  # 1 - (0.075 + 0.0375)
    assert trajectory_drawstyle(tau, nu, 0.95) == "steps-pre"  # 1 - (0.1*0.5 + 0)
    assert trajectory_drawstyle(tau, nu, 0.7) is None


def test_molchan_figure_data():
    fig = build_molchan_figure(skill_dict())
    lines = lines_by_gid(fig)
    diagonal = lines["diagonal"]
    assert list(diagonal.get_xdata()) == [0.0, 1.0] and list(diagonal.get_ydata()) == [1.0, 0.0]
    gru = lines["curve:gru_7day"]
    np.testing.assert_allclose(gru.get_xdata(), [0, 0.1, 0.25, 1.0])
    np.testing.assert_allclose(gru.get_ydata(), [1, 0.5, 0.0, 0.0])
    assert gru.get_drawstyle() == "steps-post" and gru.get_linestyle() == "-"
    assert lines["curve:lstm_7day"].get_drawstyle() == "default"
    np.testing.assert_allclose(lines["contour_95"].get_xydata(),
                               [[0, 0.75], [0.0127, 0.75], [0.0128, 0.5], [0.0976, 0.5], [0.0977, 0.25],
                                [0.2486, 0.25], [0.2487, 0], [0.4728, 0]])
    # References: grey, dashed, distinct from each other; the random reference is the diagonal.
    kp, dst, rate = lines["curve:reference:kp"], lines["curve:reference:dst"], lines["curve:reference:rate"]
    assert kp.get_color() == "0.2" and dst.get_color() == "0.5" and rate.get_color() == "0.55"
    assert kp.get_linestyle() == dst.get_linestyle() == "--"  # dashed (custom dash patterns)
    np.testing.assert_allclose(rate.get_xydata(), [[0, 1], [1, 0]])  # on timing, the rate is the diagonal
    assert "curve:reference:random" not in lines
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "gru_7day: ASS = 0.825, p = 0.031, adjusted p = 0.045" in legend
    assert "lstm_7day: ASS = 0.500, p = 0.620, adjusted p = 0.800" in legend
    assert "reference:kp: ASS = 0.650, p = 0.200" in legend  # references are not in the adjusted family
    assert legend[0] == diagonal.get_label() and diagonal.get_label().startswith("random alarms: ν = 1 − τ, ASS 0.5")
    contour = lines["contour_95"].get_label()
    assert contour.startswith("pointwise 95 % (binomial, independent pairs), 4 pairs") and contour in legend
    assert not any("random alarms: ASS" in text for text in legend)  # no random curve of its own
    assert fig.axes[0].get_title() == "Molchan diagram (N = 3 events, 4 pairs)"
    assert fig.axes[0].get_ylabel() == "ν, fraction of (event, station) pairs missed"


def test_molchan_title_and_legend_say_in_sample():
    fig = build_molchan_figure(skill_dict(in_sample=True))
    assert fig.axes[0].get_title() == "Molchan diagram (N = 3 events, 4 pairs) (in-sample)"
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "lstm_7day: ASS = 0.500, p = 0.620, adjusted p = 0.800 (in-sample)" in legend


def test_a_trajectory_whose_ass_fits_no_joining_rule_is_noted():
    data = skill_dict()
    data["models"]["gru_7day"]["ass"] = 0.7
    notes = []
    lines = lines_by_gid(build_molchan_figure(data, notes))
    assert lines["curve:gru_7day"].get_drawstyle() == "default"
    assert notes and "gru_7day" in notes[0] and "0.7000" in notes[0]


# -- probability gain ----------------------------------------------------------------


def test_gain_curve_known_answers():
    tau, gain = gain_curve(np.array([0, 0.1, 0.25, 1.0]), np.array([1, 0.5, 0.0, 0.0]))
    np.testing.assert_allclose(tau, [0.1, 0.25, 1.0])
    np.testing.assert_allclose(gain, [5.0, 4.0, 1.0])


def test_gain_figure_data():
    fig = build_gain_figure(skill_dict())
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lines = lines_by_gid(fig)
    np.testing.assert_allclose(lines["gain:gru_7day"].get_xydata(), [[0.1, 5.0], [0.25, 4.0], [1.0, 1.0]])
    np.testing.assert_allclose(lines["gain:reference:dst"].get_xydata(), [[0.3, 5 / 3], [1.0, 1.0]])
    np.testing.assert_allclose(lines["gain_at:gru_7day"].get_xydata(), [[0.05, 5.0], [0.1, 5.0], [0.2, 4.0]])
    assert list(lines["gain_one"].get_ydata()) == [1.0, 1.0]
    assert lines["gain_one"].get_label() == "random alarms at the same τ (G = 1)"
    np.testing.assert_allclose(lines["gain:reference:rate"].get_xydata(), [[1.0, 1.0]])
    assert "gain:reference:random" not in lines


# -- station score series --------------------------------------------------------------


def test_read_scores_keeps_empty_scores_as_nan(skill_dir):
    table = read_scores(skill_dir / "scores.csv")
    assert len(table) == 10 + 9 + 10 and table.models == ("gru_7day", "lstm_7day")
    aaa_gru = (table.station == "AAA") & (table.model == "gru_7day")
    assert np.isnan(table.prob_class1[aaa_gru][3]) and np.isfinite(table.prob_class1[aaa_gru]).sum() == 9


def test_station_figure_data(skill_dir):
    skill = read_skill(skill_dir)
    scores = read_scores(skill_dir / "scores.csv")
    kp, dst = read_kp(skill_dir / "kp.csv"), read_dst(skill_dir / "dst.dat")
    fig = build_station_figure("AAA", scores, skill, kp=kp, dst=dst)
    lines = lines_by_gid(fig)
    gru = lines["score:gru_7day"]
    assert gru.get_drawstyle() == "steps-post"
    # Jan 1 .. Jan 11: Jan 11 holds NaN so that Jan 10's step is drawn.
    np.testing.assert_array_equal(gru.get_xdata(), np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-12")))
    values = np.asarray(gru.get_ydata(), dtype=float)
    assert values.size == 11 and np.isnan(values[3]) and np.isnan(values[10])  # Jan 4: empty score -> gap
    np.testing.assert_allclose(np.delete(values, [3, 10]), np.delete(np.arange(1, 11) / 20, 3))
    np.testing.assert_allclose(lines["score:lstm_7day"].get_ydata()[:10], np.arange(1, 11) / 20 + 0.3)
    # E1 and E3 count for AAA (E2 only for BBB); each line stands at the origin time.
    events = [gid for gid in lines if gid.startswith("event:")]
    assert sorted(events) == ["event:E1", "event:E3"]
    assert list(lines["event:E1"].get_xdata()) == [np.datetime64("2020-01-05T12:00:00")] * 2
    # Index panels over Jan 1 .. Jan 12 (the last window's horizon): daily max Kp, daily min Dst.
    score_ax, kp_ax, dst_ax = fig.axes[:3]
    heights = [patch.get_height() for patch in kp_ax.patches]
    np.testing.assert_allclose(heights, [2, 2, 3, 4, 5.333, 6, 2.667, 2, 2, 2, 3, 4])  # max(slot 2 = 2, slot 3)
    np.testing.assert_allclose(lines["dst"].get_ydata(),
                               [-10, -20, -30, -40, -55, -80, -35, -20, -15, -10, -12, -9, np.nan])
    assert score_ax.get_xlim() == pytest.approx((mdates.date2num(np.datetime64("2020-01-01")),
                                                 mdates.date2num(np.datetime64("2020-01-13"))))
    assert "in-sample" not in score_ax.get_title()


def test_station_figure_gaps_and_events_of_bbb(skill_dir):
    fig = build_station_figure("BBB", read_scores(skill_dir / "scores.csv"), read_skill(skill_dir))
    lines = lines_by_gid(fig)
    values = np.asarray(lines["score:gru_7day"].get_ydata(), dtype=float)
    assert values.size == 11 and np.isnan(values[5]) and np.isfinite(values).sum() == 9  # no row on Jan 6
    assert "score:lstm_7day" not in lines
    assert sorted(gid for gid in lines if gid.startswith("event:")) == ["event:E1", "event:E2"]
    assert len(fig.axes) == 1  # no index files given: no index panels
    assert [t.get_text() for t in fig.axes[0].texts] == ["M6.5", "M6.1"]


def test_close_events_get_one_magnitude_label(skill_dir):
    data = skill_dict()
    data["events"][1]["time"] = "2020-01-05T13:00:00Z"  # an hour after E1; the axis spans 12 days
    fig = build_station_figure("BBB", read_scores(skill_dir / "scores.csv"), read_skill(data))
    assert [t.get_text() for t in fig.axes[0].texts] == ["M6.5"]
    assert sorted(gid for gid in lines_by_gid(fig) if gid.startswith("event:")) == ["event:E1", "event:E2"]


def test_a_station_without_rows_is_noted(skill_dir, tmp_path):
    data = skill_dict()
    data["stations"]["CCC"] = {"latitude": 0.0, "longitude": 0.0, "n_station_days": 0}
    written = plot_station_scores(skill_dir / "scores.csv", data, tmp_path, dpi=30)
    assert [p.name for p in written] == ["scores_AAA.png", "scores_BBB.png"]
    assert written.notes == [f"{skill_dir / 'scores.csv'}: no rows for station CCC; no score figure"]


def test_station_title_says_in_sample(skill_dir):
    path = skill_dir / "scores.csv"
    path.write_text(path.read_text().replace("2020-01-02,gru_7day,0.10,0.01,0.0,false",
                                             "2020-01-02,gru_7day,0.10,0.01,0.0,true"))
    fig = build_station_figure("AAA", read_scores(path), read_skill(skill_dir))
    assert fig.axes[0].get_title() == "AAA: daily scores and target events (in-sample)"


# -- plot_skill: files -----------------------------------------------------------------


def test_plot_skill_writes_every_figure(skill_dir):
    written = plot_skill(skill_dir, dpi=50)
    names = [p.name for p in written]
    assert names == ["molchan.png", "probability_gain.png", "scores_AAA.png", "scores_BBB.png"]
    assert written.notes == []
    for path in written:
        assert path.parent == skill_dir / "figures" and path.stat().st_size > 5_000
        with Image.open(path) as image:
            width, height = image.size
        # 7-11 inch figures at 50 dpi, cropped to what is drawn (the square Molchan axes to ~5 in).
        assert 220 <= width <= 800 and 200 <= height <= 600, (path.name, image.size)


def test_plot_skill_notes_a_missing_scores_file_and_refuses_a_missing_given_one(skill_dir, tmp_path):
    (skill_dir / "scores.csv").unlink()
    written = plot_skill(skill_dir, dpi=40)
    assert [p.name for p in written] == ["molchan.png", "probability_gain.png"]
    assert any("scores.csv" in n and "no station score figures" in n for n in written.notes)
    with pytest.raises(DataError, match=re.escape(str(tmp_path / "nope.csv"))):
        plot_skill(skill_dir, scores=tmp_path / "nope.csv", dpi=40)


@pytest.mark.parametrize("content, problem", [
    ("{not json", "not valid JSON"),
    (json.dumps({**skill_dict(), "format": "other"}), "format 'other', expected 'seismag-skill'"),
    (json.dumps({**skill_dict(), "version": 1}), "version 1 is not supported (this seismag reads version 2)"),
    (json.dumps([1, 2]), "a JSON list, expected an object"),
])
def test_broken_skill_json_is_one_line_naming_the_file(tmp_path, content, problem):
    (tmp_path / "skill.json").write_text(content)
    with pytest.raises(DataError) as info:
        plot_skill(tmp_path, dpi=40)
    message = str(info.value)
    assert message.startswith(str(tmp_path / "skill.json")) and problem in message and "\n" not in message


def test_a_bad_model_entry_names_the_model(tmp_path):
    data = skill_dict()
    data["models"]["gru_7day"]["molchan"][1]["tau"] = 0.5  # after 0.25: tau decreases later
    data["models"]["gru_7day"]["molchan"][2]["tau"] = 0.25
    with pytest.raises(DataError, match=r"models\['gru_7day'\].molchan: tau must not decrease"):
        read_skill(data)


# -- the report section ----------------------------------------------------------------


class SkillTable(HTMLParser):
    """Rows of the skill table: model -> list of cell texts."""

    def __init__(self):
        super().__init__()
        self.rows, self._row, self._in_table, self._cell = {}, None, False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "skill-table":
            self._in_table = True
        elif self._in_table and tag == "tr" and "data-model" in attrs:
            self._row = self.rows.setdefault(attrs["data-model"], [])
        elif self._row is not None and tag == "td":
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._in_table = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _copy_results(small_results: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "results"
    shutil.copytree(small_results, target)
    return target


def test_report_has_the_skill_section(small_results, skill_dir, tmp_path):
    results = _copy_results(small_results, tmp_path)
    skill_dir.rename(results / "skill")
    page = write_report(results, tmp_path / "report.html", figure_dpi=30).read_text(encoding="utf-8")
    assert "<h2 id='skill'>Forecast skill</h2>" in page and "href='#skill'" in page
    table = SkillTable()
    table.feed(page)
    assert list(table.rows) == ["gru_7day", "lstm_7day", "reference:random", "reference:rate", "reference:kp",
                                "reference:dst"]
    # Model, kind, ASS, p, adjusted p, G(0.05), G(0.1), G(0.2), N events, N pairs, N station-days, verdict
    verdict = skill_dict()["models"]["gru_7day"]["verdict"]
    assert table.rows["gru_7day"] == ["gru_7day", "model", "0.825", "0.031", "0.045", "5.00", "5.00", "4.00", "3",
                                      "4", "24", verdict]
    assert "<th>Surrogate p</th><th>Adjusted p</th>" in page
    assert table.rows["reference:random"][3:5] == ["—", "—"]  # no surrogates for the analytic reference
    assert table.rows["reference:kp"][3:5] == ["0.200", "—"]  # a reference is not in the adjusted family
    assert table.rows["reference:dst"][5:8] == ["1.67", "1.67", "1.67"]
    assert "indistinguishable from alarms raised by geomagnetic storms" in page
    # Weak: a model whose adjusted p is not significant; gru's is.
    assert "<tr class='model weak' data-model='lstm_7day'>" in page
    assert "<tr class='model' data-model='gru_7day'>" in page
    assert "In-sample" not in page and "(in-sample)" not in page
    # τ, ν, ASS and G explained; four skill figures embedded (molchan, gain, two stations).
    assert "<b>τ</b>" in page and "<b>area skill score</b>" in page and "<b>probability gain</b>" in page
    start = page.index("<h2 id='skill'>")
    section = page[start:page.index("<h2 ", start + 1)]  # up to the next section, wherever that stands
    assert section.count("<img src='data:image/png;base64,") == 4
    text = html.unescape(section)
    assert "alarms last 3 days" in text and "M ≥ 6" in text and "3 target events (4 event-station pairs)" in text
    # The explanation of version 2: pairs, timing within each station, the diagonal, surrogate and
    # adjusted p, timing-only comparisons, a pointwise contour; no analytic sd of the ASS.
    for words in ("<b>(event, station) pairs</b>", "ranked within its station", "any forecast without timing "
                  "skill, lie on the diagonal", "circular-shift surrogates", "<b>adjusted p</b>",
                  "family-wise", "of timing only", "is pointwise", "pointwise 95 %"):
        assert words in text, words
    assert "√(1/12N)" not in text and "standard deviation" not in text


def test_report_says_in_sample_in_bold(small_results, tmp_path):
    results = _copy_results(small_results, tmp_path)
    (results / "skill").mkdir()
    (results / "skill" / "skill.json").write_text(json.dumps(skill_dict(in_sample=True)))
    page = write_report(results, tmp_path / "report.html", figure_dpi=30).read_text(encoding="utf-8")
    assert "<p class='caveat' id='skill-in-sample'><strong>In-sample: some scored days lie inside the " \
           "training period of lstm_7day" in page
    assert "lstm_7day <b>(in-sample)</b>" in page
    # The scores file it names is not there: the section still stands, with a note.
    assert "no station score figures" in page


def test_no_skill_json_no_section(small_results, tmp_path):
    page = write_report(small_results, tmp_path / "report.html", figure_dpi=30).read_text(encoding="utf-8")
    assert "id='skill'" not in page and "Forecast skill" not in page


def test_unreadable_skill_json_is_reported_not_raised(small_results, tmp_path):
    results = _copy_results(small_results, tmp_path)
    (results / "skill").mkdir()
    broken = results / "skill" / "skill.json"
    broken.write_text(json.dumps({**skill_dict(), "format": "seismag-scores"}))
    page = write_report(results, tmp_path / "report.html", figure_dpi=30).read_text(encoding="utf-8")
    assert "<strong>The skill results are unreadable:</strong>" in page
    assert html.escape(f"{broken}: not a seismag skill file (format 'seismag-scores'", quote=True) in page


def test_cli_report_skill_flag(small_results, skill_dir, tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["report", "--results", str(small_results), "--out", str(out), "--skill", str(skill_dir)]) == 0
    assert "<h2 id='skill'>Forecast skill</h2>" in out.read_text(encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", "--results", str(small_results), "--out", str(out), "--skill", str(empty)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(empty / "skill.json") in err[0]
    with pytest.raises(SeismagError):
        write_report(small_results, out, skill_dir=empty)


# -- real index files --------------------------------------------------------------------


def test_station_panels_from_the_shared_index_files(tmp_path):
    kp_file, dst_file = SHARED / "indices" / "kp_gfz_2006_2022.csv", SHARED / "indices" / "dst_kyoto_2006_2022.dat"
    if not (kp_file.is_file() and dst_file.is_file()):
        pytest.skip("../shared/data is absent")
    data = copy.deepcopy(skill_dict())
    data["stations"] = {"MMB": {"latitude": 43.91, "longitude": 144.19, "n_station_days": 24}}
    data["events"] = [{"id": "tohoku", "time": "2011-03-11T05:46:24Z", "magnitude": 9.1, "latitude": 38.3,
                       "longitude": 142.4, "depth_km": 29.0, "stations": ["MMB"]}]
    days = np.arange(np.datetime64("2011-03-01"), np.datetime64("2011-03-22"))
    scores = tmp_path / "scores.csv"
    scores.write_text("station,latitude,longitude,window_end,model,prob_class1,member_std,missing_fraction,in_sample\n"
                      + "".join(f"MMB,43.91,144.19,{d},gru_7day,0.5,0.0,0.0,true\n" for d in days))
    kp, dst = read_kp(kp_file), read_dst(dst_file)
    fig = build_station_figure("MMB", read_scores(scores), read_skill(data), kp=kp, dst=dst)
    # Panels span Mar 1 .. Mar 23 (last window Mar 21 + 3 lead days, exclusive).
    shown = np.arange(np.datetime64("2011-03-01"), np.datetime64("2011-03-24"))
    at = np.searchsorted(kp.days, shown)
    np.testing.assert_allclose([p.get_height() for p in fig.axes[1].patches], kp.daily_max()[at])
    np.testing.assert_allclose(lines_by_gid(fig)["dst"].get_ydata()[:-1],
                               dst.daily_min()[np.searchsorted(dst.days, shown)])
    assert fig.axes[0].get_title().endswith("(in-sample)")


def test_the_random_reference_is_the_diagonal_whatever_its_entry_says():
    # Version 2 judges timing within each station: random alarms are the diagonal for every
    # forecast, so reference:random gets no curve of its own, even from a trajectory off it.
    data = skill_dict()
    tau = np.linspace(0.0, 1.0, 11)
    data["models"]["reference:random"]["molchan"] = [point(None, float(t), float(0.5 * (1 - t) ** 2 + 0.5 * (1 - t)),
                                                           None) for t in tau]
    fig = build_molchan_figure(data)
    lines = lines_by_gid(fig)
    assert "curve:reference:random" not in lines
    assert lines["diagonal"].get_label() == "random alarms: ν = 1 − τ, ASS 0.5 (no timing skill)"
    assert "gain:reference:random" not in lines_by_gid(build_gain_figure(data))


def _broken(change) -> dict:
    data = copy.deepcopy(skill_dict())
    change(data)
    return data


@pytest.mark.parametrize("change, problem", [
    (lambda d: d.pop("n_pairs"), "'n_pairs' missing or not a whole number"),
    (lambda d: d.update(contour=["pointwise"]), "'contour' (what the contour is) is not text"),
    (lambda d: d.update(family=["gru_7day"]), "'family' is not a JSON object"),
    (lambda d: d["models"]["gru_7day"].pop("n_pairs"), "models['gru_7day']: 'n_pairs' missing or not a whole"),
    (lambda d: d["models"]["gru_7day"].update(n_pairs=2.5), "models['gru_7day']: 'n_pairs' missing or not a whole"),
    (lambda d: d["models"]["gru_7day"].update(ass_p_adjusted=1.5),
     "models['gru_7day']: 'ass_p_adjusted' 1.5 is not a probability in [0, 1] or null"),
    (lambda d: d["models"]["gru_7day"].update(ass_p_value="0.03"),
     "models['gru_7day']: 'ass_p_value' '0.03' is not a probability"),
    (lambda d: d["models"]["gru_7day"].update(significant="yes"),
     "models['gru_7day']: 'significant' is not true, false or null"),
    (lambda d: d["models"]["gru_7day"].update(ass_surrogate_sd="wide"),
     "models['gru_7day']: 'ass_surrogate_sd' is not a number or null"),
    (lambda d: d["models"]["gru_7day"].update(versus=[]), "models['gru_7day']: 'versus' is not a JSON object"),
    (lambda d: d["models"]["gru_7day"]["versus"]["reference:kp"].update(outcome="better"),
     "models['gru_7day'].versus['reference:kp']: outcome 'better' is not 'ahead', 'indistinguishable', 'behind'"),
    (lambda d: d["models"]["gru_7day"]["versus"]["reference:kp"].update(p_adjusted=-0.1),
     "models['gru_7day'].versus['reference:kp']: 'p_adjusted' -0.1 is not a probability"),
    (lambda d: d["models"]["gru_7day"]["versus"]["reference:kp"].pop("ass_difference"),
     "models['gru_7day'].versus['reference:kp'] needs a number 'ass_difference'"),
    (lambda d: d["models"]["gru_7day"]["versus"].update({"reference:ae": d["models"]["gru_7day"]["versus"]
                                                         ["reference:kp"]}),
     "models['gru_7day'].versus['reference:ae']: no forecast of that name in 'models'"),
])
def test_a_bad_version_2_entry_is_one_line(change, problem):
    with pytest.raises(DataError) as info:
        read_skill(_broken(change))
    message = str(info.value)
    assert problem in message and "\n" not in message


def test_version_2_without_surrogates_reads():
    # --surrogates 0: no p, no adjusted p, no significance, outcomes null; the figures still draw.
    def untested(data):
        for entry in data["models"].values():
            entry.update(ass_p_value=None, ass_p_adjusted=None, significant=None, ass_surrogate_mean=None,
                         ass_surrogate_sd=None)
            for comparison in entry.get("versus", {}).values():
                comparison.update(p_value=None, p_adjusted=None, outcome=None)
    data = _broken(untested)
    legend = [t.get_text() for t in build_molchan_figure(data).axes[0].get_legend().get_texts()]
    assert "gru_7day: ASS = 0.825" in legend
