"""The forecast path from the README, end to end through the command line:
synth --records -> build -> train --train-until -> scan -> skill -> plot/report.

Known answers: with no precursor (--effect 0) the models' ASS is not significant against the
circular-shift surrogates and the report says so in words; with a strong precursor the best
model's ASS is above 0.65, its probability gain at tau = 0.1 above 1.5, it is significant after
the family-wise adjustment, and its ASS above the Kp reference's.
(Fixed seeds: under the null a p-value below 0.05 happens in 5 % of records; seed 5 of the
generator is such a record for the GRU, p = 0.009, which is what a fair null must allow.)
"""
import json
from pathlib import Path

import pytest

from seismag.cli import main

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def run(*argv):
    assert main([str(a) for a in argv]) == 0


def forecast(root: Path, effect: float, seed: int = 6) -> dict:
    rec, data, results = root / "rec", root / "data", root / "results"
    run("synth", "--records", "--out", rec, "--days", 240, "--stations", 4, "--effect", effect, "--seed", seed)
    run("build", "--observatory", rec / "observatory", "--catalog", rec / "catalog.csv", "--out", data,
        "--windows", 7, "--kp", rec / "indices" / "kp.csv", "--dst", rec / "indices" / "dst.dat")
    run("train", "--data", data, "--out", results, "--models", "features,gru", "--windows", 7, "--preset", "quick",
        "--train-until", "2020-05-01", "--quiet")
    ensembles = sorted(results.glob("*_models/*_ensemble.pth"))
    # scoring the training period is refused; after it, every day is out of sample
    assert main(["scan", "--ensemble", *map(str, ensembles), "--observatory", str(rec / "observatory"),
                 "--out", str(root / "refused.csv")]) == 2
    assert not (root / "refused.csv").exists()
    run("scan", "--ensemble", *ensembles, "--observatory", rec / "observatory", "--out", root / "scores.csv",
        "--start", "2020-05-01")
    run("skill", "--scores", root / "scores.csv", "--catalog", rec / "catalog.csv", "--out", results / "skill",
        "--kp", rec / "indices" / "kp.csv", "--dst", rec / "indices" / "dst.dat", "--dpi", 60)
    run("report", "--results", results)
    skill = json.loads((results / "skill" / "skill.json").read_text())
    assert not skill["in_sample"] and {"reference:random", "reference:rate", "reference:kp",
                                       "reference:dst"} <= set(skill["models"])
    assert (results / "skill" / "figures" / "molchan.png").stat().st_size > 1000
    return skill, (results / "report.html").read_text()


def test_no_precursor_no_skill_and_the_report_says_so(tmp_path):
    skill, report = forecast(tmp_path, effect=0.0)
    for name in ("features_7day", "gru_7day"):
        model = skill["models"][name]
        assert model["ass_p_value"] > 0.05 and not model["significant"], (name, model["ass"], model["ass_p_value"])
        assert "indistinguishable from its circular-shift surrogates" in model["verdict"]
        assert not model["verdict"].split("; ")[1].startswith("ahead")  # not ahead of the storm references
    assert "Forecast skill" in report and "indistinguishable from its circular-shift surrogates" in report


def test_a_strong_precursor_is_skill(tmp_path):
    skill, report = forecast(tmp_path, effect=2.0)
    best = max((m for name, m in skill["models"].items() if m["kind"] == "model"), key=lambda m: m["ass"])
    assert best["ass"] > 0.65 and best["probability_gain"]["0.1"] > 1.5 and best["significant"]
    assert best["ass"] > skill["models"]["reference:random"]["ass"]
    # about 110 scored days at 4 stations: above its surrogates, ahead of Kp in ASS, though too few
    # events for the two-sided, family-wise adjusted comparison to call it ahead
    kp = best["versus"]["reference:kp"]
    assert kp["ass_difference"] > 0 and kp["outcome"] != "behind" and "above its circular-shift surrogates" in report


@pytest.mark.skipif(not (SHARED / "observatory" / "mmb_2011_march.txt").is_file(), reason="no ../shared/data")
def test_memambetsu_in_sample_with_the_kp_and_dst_references(tmp_path):
    data, results = tmp_path / "data", tmp_path / "results"
    kp, dst = SHARED / "indices" / "kp_gfz_2006_2022.csv", SHARED / "indices" / "dst_kyoto_2006_2022.dat"
    catalog, mmb = SHARED / "catalog" / "usgs_significant_1965_2016.csv", SHARED / "observatory" / "mmb_2011_march.txt"
    run("build", "--observatory", mmb, "--catalog", catalog, "--out", data, "--windows", 7, "--components", "H,D,Z",
        "--kp", kp, "--dst", dst)
    run("train", "--data", data, "--out", results, "--models", "features", "--windows", 7, "--preset", "quick",
        "--folds", 2, "--selection", "outer", "--quiet")
    ensemble = results / "features_models" / "FeaturesModel_7day_ensemble.pth"
    run("scan", "--ensemble", ensemble, "--observatory", mmb, "--out", tmp_path / "scores.csv", "--allow-in-sample")
    # in-sample scores are judged only when asked for
    assert main(["skill", "--scores", str(tmp_path / "scores.csv"), "--catalog", str(catalog), "--out",
                 str(tmp_path / "refused")]) == 2
    run("skill", "--scores", tmp_path / "scores.csv", "--catalog", catalog, "--out", results / "skill",
        "--kp", kp, "--dst", dst, "--allow-in-sample", "--dpi", 60)
    run("report", "--results", results)
    skill = json.loads((results / "skill" / "skill.json").read_text())
    assert skill["in_sample"] is True and skill["events"]
    assert {"reference:kp", "reference:dst"} <= set(skill["models"])
    assert all(m["verdict"].startswith("in-sample") for m in skill["models"].values())
    assert "in-sample" in (results / "report.html").read_text()
