"""Forecast-skill figures, from the hand-made skill folder of :mod:`plots.skill_folder`.

Its numbers were worked out by hand (see :func:`plots.skill_folder.skill_dict`), so the
figures' data can be checked against them. The report's "Forecast skill" section is
tested in ``tests/report/test_report_skill.py``.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib import dates as mdates
from PIL import Image

from plots.skill_folder import point, skill_dict, skill_dir  # noqa: F401  (skill_dir: a fixture)
from seismag.errors import DataError
from seismag.sources.indices.dst import read_dst
from seismag.sources.indices.kp import read_kp
from seismag.plots.skill import (
    build_gain_figure, build_molchan_figure, build_station_figure, gain_curve, plot_skill, plot_station_scores,
    read_scores, read_skill, trajectory_drawstyle,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


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
    assert names == ["molchan.png", "probability_gain.png", "reliability.png", "scores_AAA.png", "scores_BBB.png"]
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
    assert [p.name for p in written] == ["molchan.png", "probability_gain.png", "reliability.png"]
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
