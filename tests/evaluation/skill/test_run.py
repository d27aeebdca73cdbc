"""scores.csv checks, in-sample refusal and marking, and ``seismag skill`` end to end on a
hand-made scores.csv, catalog and Kp file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from seismag.cli import main
from seismag.sources.catalog import Catalog, write_comcat_csv
from seismag.sources.indices.kp import write_kp_csv
from seismag.errors import DataError
from seismag.evaluation.skill import SCORE_COLUMNS, evaluate_skill, read_scores
from seismag.evaluation.skill.run import SKILL_CSV_COLUMNS

HEADER = ",".join(SCORE_COLUMNS)
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def row(station="AAA", day="2020-01-01", model="gru_7day", p="0.5", in_sample="false", lat="40.0", lon="140.0"):
    return f"{station},{lat},{lon},{day},{model},{p},{'' if p == '' else '0.01'},0.0,{in_sample}"


def write(path, *rows, header=HEADER):
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_reads_rows_sorted_with_empty_scores_kept(tmp_path):
    path = write(tmp_path / "scores.csv", row(day="2020-01-02", p=""), row(day="2020-01-01", p="0.25"),
                 row(station="BBB", lat="41", lon="141", day="2020-01-01", p="1"))
    scores = read_scores(path)
    assert scores.stations == ("AAA", "BBB") and scores.latitude.tolist() == [40.0, 41.0]
    rows = scores.models["gru_7day"]
    assert rows.window_end.astype(str).tolist() == ["2020-01-01", "2020-01-02", "2020-01-01"]
    assert rows.score[0] == 0.25 and np.isnan(rows.score[1]) and rows.score[2] == 1.0
    assert rows.line.tolist() == [3, 2, 4]


@pytest.mark.parametrize("lines, header, words", [
    ([row()], HEADER.replace(",in_sample", ""), "line 1: missing column in_sample"),
    ([row(), row(day="2020-02-30")], HEADER, "line 3: window_end '2020-02-30' is not a date YYYY-MM-DD"),
    ([row(day="01/02/2020")], HEADER, "line 2: window_end '01/02/2020' is not a date"),
    ([row(p="1.5")], HEADER, "line 2: prob_class1 1.5 is outside [0, 1]"),
    ([row(p="-0.1")], HEADER, "line 2: prob_class1 -0.1 is outside [0, 1]"),
    ([row(p="high")], HEADER, "line 2: prob_class1 'high' is not a number"),
    ([row(in_sample="yes")], HEADER, "line 2: in_sample 'yes' is not true or false"),
    ([row(), row()], HEADER, "line 3: a second row for model gru_7day, station AAA, window_end 2020-01-01"),
    ([row(), row(day="2020-01-02", lat="41")], HEADER, "line 3: station AAA at 41, 140, but at 40, 140 on line 2"),
    ([row() + ",extra"], HEADER, "line 2: 10 fields, the header has 9"),
    ([], HEADER, "no score rows"),
])
def test_a_bad_scores_file_is_one_line_naming_file_and_line(tmp_path, lines, header, words):
    path = write(tmp_path / "scores.csv", *lines, header=header)
    with pytest.raises(DataError) as info:
        read_scores(path)
    message = str(info.value)
    assert message.startswith(str(path)) and words in message and "\n" not in message


def hand_case(tmp_path, in_sample_from: str | None = None):
    """Two stations 120 days each (2020-01-01 ..), two models; three events near AAA and BBB.
    gru_7day is 0.9 on the one row per station whose horizon ends on each event's day."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    ends = np.datetime64("2020-01-01") + np.arange(120)
    event_days = ["2020-01-12", "2020-02-20", "2020-04-03"]
    lines, rng = [], np.random.default_rng(8)
    for model in ("gru_7day", "mlp_7day"):
        for station, lat in (("AAA", "40.0"), ("BBB", "40.5")):
            for day in ends:
                hot = any((np.datetime64(e) - day).astype(int) == 6 for e in event_days)
                p = "" if (station == "BBB" and str(day) == "2020-01-05") else (
                    "0.9" if hot and model == "gru_7day" else f"{rng.random() * 0.8:.3f}")
                flag = "true" if in_sample_from is not None and str(day) >= in_sample_from else "false"
                lines.append(row(station=station, lat=lat, day=str(day), model=model, p=p, in_sample=flag))
    scores = write(tmp_path / "scores.csv", *lines)
    catalog = Catalog.from_events([(f"{d}T03:00:00", 40.2, 140.1, 15.0, 6.1, f"ev{i}")
                                   for i, d in enumerate(event_days)]
                                  + [("2020-01-20T00:00:00", 10.0, 10.0, 10.0, 7.0, "elsewhere"),
                                     # small events far away: a file's span runs from its first to its last row
                                     ("2019-12-01T00:00:00", 10.0, 10.0, 10.0, 2.5, "first"),
                                     ("2020-06-01T00:00:00", 10.0, 10.0, 10.0, 2.5, "last")],
                                  start="2019-12-01", end="2020-06-01")
    catalog_path = write_comcat_csv(tmp_path / "catalog.csv", catalog)
    kp_days = np.datetime64("2019-12-01") + np.arange(160)
    kp = np.zeros((160, 8))
    kp[[40, 60, 70, 120], 2] = 5.0  # 2020-01-10, 01-30, 02-09, 03-30
    kp_path = write_kp_csv(tmp_path / "kp.csv", kp_days, kp)
    return scores, catalog_path, kp_path


def test_in_sample_scores_are_refused_in_one_line_unless_allowed(tmp_path):
    scores, catalog, kp = hand_case(tmp_path, in_sample_from="2020-01-21")
    with pytest.raises(DataError) as info:
        evaluate_skill(scores, catalog, surrogates=0)
    message = str(info.value)
    assert message.startswith(str(scores)) and "model gru_7day" in message and "2020-01-21" in message
    assert "--allow-in-sample" in message and "\n" not in message
    result = evaluate_skill(scores, catalog, kp=kp, surrogates=0, allow_in_sample=True)
    assert result["in_sample"] is True and result["models"]["gru_7day"]["in_sample"] is True
    assert all(record["verdict"].startswith("in-sample: ") for record in result["models"].values())
    clean = evaluate_skill(hand_case(tmp_path / "clean")[0], catalog, surrogates=0)
    assert clean["in_sample"] is False and not clean["models"]["gru_7day"]["verdict"].startswith("in-sample")


def test_cli_end_to_end(tmp_path, capsys):
    scores, catalog, kp = hand_case(tmp_path)
    out = tmp_path / "skill"
    assert main(["skill", "--scores", str(scores), "--catalog", str(catalog), "--out", str(out), "--kp", str(kp),
                 "--lead-days", "7", "--min-magnitude", "6", "--surrogates", "99", "--seed", "1"]) == 0
    printed = capsys.readouterr().out
    assert "3 target events" in printed and f"skill written to {out}" in printed
    result = json.loads((out / "skill.json").read_text())
    assert set(result) >= {"format", "version", "settings", "scored_period", "in_sample", "stations", "events",
                           "contour_95", "models"}
    assert (result["format"], result["version"]) == ("seismag-skill", 2)
    assert set(result["settings"]) >= {"scores", "catalog", "min_magnitude", "radius", "radius_km", "lead_days",
                                       "max_depth_km", "decluster", "surrogates", "seed", "kp", "dst"}
    assert result["settings"]["radius"] == "dobrovolsky" and result["settings"]["dst"] is None
    # rows end 2020-01-01 .. 04-29, lead 7: scored 01-01 .. 05-05, 126 days x 2 stations
    assert result["scored_period"] == {"start": "2020-01-01", "end": "2020-05-06"}
    assert result["stations"] == {"AAA": {"latitude": 40.0, "longitude": 140.0, "n_station_days": 126},
                                  "BBB": {"latitude": 40.5, "longitude": 140.0, "n_station_days": 126}}
    assert [e["id"] for e in result["events"]] == ["ev0", "ev1", "ev2"]
    assert result["events"][0]["stations"] == ["AAA", "BBB"] and result["events"][0]["time"] == "2020-01-12T03:00:00"
    assert list(result["models"]) == ["gru_7day", "mlp_7day", "reference:random", "reference:rate", "reference:kp"]
    assert result["n_pairs"] == 6 and "pointwise" in result["contour"]
    assert result["family"]["members"] == ["gru_7day", "mlp_7day"]
    for name, record in result["models"].items():
        assert set(record) >= {"kind", "in_sample", "training_period", "n_events", "n_pairs", "n_station_days", "ass",
                               "ass_p_value", "ass_p_adjusted", "significant", "probability_gain", "molchan",
                               "verdict"}
        assert record["n_events"] == 3 and record["n_pairs"] == 6 and record["n_station_days"] == 252
        first, last = record["molchan"][0], record["molchan"][-1]
        assert (first["tau"], first["nu"], last["tau"], last["nu"]) == (0.0, 1.0, 1.0, 0.0)
        assert set(record["probability_gain"]) == {"0.05", "0.1", "0.2"}
    gru = result["models"]["gru_7day"]
    # gru is 0.9 on one row a station per event, above every other score of its station: at the
    # top of both stations' timing ranks, 3 events x 7 days x 2 stations, catching all 6 pairs.
    # ASS = 1 - (42 / 252) / 2; independent random alarms over tau = 1/6 catch all 6 pairs with
    # probability (1/6)^6 (the pointwise alpha).
    top = gru["molchan"][1]
    assert top["tau"] == pytest.approx(42 / 252) and top["nu"] == 0.0 and top["alpha"] == pytest.approx(6 ** -6)
    assert gru["ass"] == pytest.approx(1 - 42 / 252 / 2)
    assert gru["probability_gain"]["0.1"] == pytest.approx(0.6 / 0.1)  # nu(0.1) = 1 - 0.1 * 252 / 42
    assert gru["ass_p_value"] <= 0.05 and gru["ass_p_adjusted"] <= 0.05 and gru["significant"]
    assert "above its circular-shift surrogates" in gru["verdict"]
    assert set(gru["versus"]) == {"reference:kp", "reference:rate"}
    assert gru["versus"]["reference:rate"]["ass_difference"] == pytest.approx(gru["ass"] - 0.5)
    assert not result["models"]["mlp_7day"]["significant"]
    with open(out / "skill.csv", newline="") as handle:
        table = list(csv.reader(handle))
    assert tuple(table[0]) == SKILL_CSV_COLUMNS and [r[0] for r in table[1:]] == list(result["models"])
    assert table[3][6] == "" and table[3][5] == "0.5"  # reference:random: the diagonal, no p-value
    random = result["models"]["reference:random"]
    assert random["probability_gain"]["0.1"] == 1.0 and random["ass"] == 0.5
    assert random["molchan"][1]["alpha"] is None and "however its stations' alarms correlate" in random["verdict"]
    rate = result["models"]["reference:rate"]
    assert rate["ass"] == pytest.approx(0.5) and rate["ass_p_value"] == 1.0 and "nothing of when" in rate["verdict"]


def test_cli_refuses_in_sample_scores_in_one_line(tmp_path, capsys):
    scores, catalog, _ = hand_case(tmp_path, in_sample_from="2020-01-01")
    assert main(["skill", "--scores", str(scores), "--catalog", str(catalog), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "in-sample from window_end 2020-01-01" in err and str(scores) in err
    assert not (tmp_path / "o" / "skill.json").exists()


def test_no_target_event_is_refused(tmp_path):
    scores, _, _ = hand_case(tmp_path)
    far = Catalog.from_events([("2020-01-20T00:00:00", -40.0, -70.0, 10.0, 6.5, "far")])
    with pytest.raises(DataError, match="no target event"):
        evaluate_skill(scores, far, surrogates=0)


@pytest.mark.realdata
@pytest.mark.skipif(not SHARED.is_dir(), reason="shared data not present")
def test_memambetsu_march_2011_in_sample_with_kp_and_dst(tmp_path):
    # A 7-day model's window ends at MMB (43.91 N, 144.19 E, the IAGA header) over March 2011,
    # marked in-sample; the USGS significant-earthquakes table and the shared Kp and Dst files.
    ends = np.datetime64("2011-03-08") + np.arange(24)
    scores = write(tmp_path / "scores.csv", *[row(station="MMB", lat="43.91", lon="144.189", day=str(day),
                                                 p=f"{(i * 7 % 24) / 24:.3f}", in_sample="true")
                                             for i, day in enumerate(ends)])
    result = evaluate_skill(scores, SHARED / "catalog" / "usgs_significant_1965_2016.csv", tmp_path / "out",
                            kp=SHARED / "indices" / "kp_gfz_2006_2022.csv",
                            dst=SHARED / "indices" / "dst_kyoto_2006_2022.dat", allow_in_sample=True, surrogates=99)
    assert result["in_sample"] is True and result["scored_period"] == {"start": "2011-03-08", "end": "2011-04-07"}
    assert list(result["models"]) == ["gru_7day", "reference:random", "reference:rate", "reference:kp",
                                      "reference:dst"]
    assert all(record["verdict"].startswith("in-sample: ") for record in result["models"].values())
    # the M 7.3 foreshock of 03-09 and the M 9.1 of 03-11 05:46:24 are targets (M 7.3: 1380 km of MMB's reach)
    assert {"2011-03-09T02:45:20", "2011-03-11T05:46:24"} <= {e["time"] for e in result["events"]}
    assert all(e["stations"] == ["MMB"] for e in result["events"])
    assert result["models"]["gru_7day"]["n_station_days"] == 30
    assert (tmp_path / "out" / "skill.json").exists()
