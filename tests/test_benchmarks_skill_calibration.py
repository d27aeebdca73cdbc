"""benchmarks/skill_calibration.py: what it writes (not the rates, which only 40 seeds measure)."""
import csv
import json
import tempfile
from pathlib import Path

import pytest
from helpers import load_benchmark

import seismag


@pytest.fixture(scope="module")
def calibration():
    return load_benchmark("skill_calibration")


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def test_seed_rows_measure_only_the_models(calibration):
    def model(p, adjusted, significant, **outcomes):
        return {"kind": "model", "ass": 0.6, "ass_p_value": p, "ass_p_adjusted": adjusted,
                "significant": significant, "versus": {ref: {"outcome": o} for ref, o in outcomes.items()}}

    skill = {"events": [{}, {}, {}], "models": {
        "a_7day": model(0.04, 0.08, False, **{"reference:rate": "ahead", "reference:kp": "ahead",
                                              "reference:dst": "indistinguishable"}),
        "b_7day": model(0.30, 0.45, False, **{"reference:rate": "indistinguishable", "reference:kp": "behind",
                                              "reference:dst": "behind"}),
        # a reference significant against random timing is no model's false positive
        "reference:kp": {"kind": "reference", "ass": 0.9, "ass_p_value": 0.001, "significant": None},
    }}
    row, forecasts = calibration.seed_rows("storm", 3, skill)
    assert row["n_events"] == 3 and row["n_models"] == 2 and row["min_p_raw"] == 0.04
    assert row["raw_significant"] is True and row["significant"] is False
    # ahead of Kp but not of Dst: ahead of a storm reference, not of storm alarms (every one)
    assert row["ahead_storm"] is True and row["ahead_all_storms"] is False
    assert row["ahead_models"] == "a_7day>reference:kp"
    assert [f["forecast"] for f in forecasts] == ["a_7day", "b_7day", "reference:kp"]
    assert forecasts[0]["versus"] == "reference:rate=ahead;reference:kp=ahead;reference:dst=indistinguishable"

    skill["models"]["b_7day"]["versus"]["reference:kp"]["outcome"] = "ahead"
    skill["models"]["b_7day"]["versus"]["reference:dst"]["outcome"] = "ahead"
    skill["models"]["b_7day"]["significant"] = True
    row, _ = calibration.seed_rows("storm", 3, skill)
    assert row["ahead_all_storms"] is True and row["significant"] is True and row["significant_models"] == "b_7day"


def test_binomial_interval_is_exact(calibration):
    assert calibration.binomial_interval(0, 40) == [0.0, 0.0881]
    low, high = calibration.binomial_interval(2, 40)
    assert low < 0.05 < high and calibration.binomial_interval(0, 0) is None


@pytest.mark.slow
def test_quick_run_writes_the_rows_and_the_summary(calibration, tmp_path, capsys, monkeypatch):
    scratch, out = tmp_path / "scratch", tmp_path / "calibration"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where the seeds' folders go
    argv = ["--quick", "--settings", "null", "--seeds", "2", "--out", str(out)]
    assert calibration.main(argv) == 0

    columns, seeds = read_csv(out / "seeds.csv")
    assert tuple(columns) == calibration.SEED_COLUMNS
    assert [(r["setting"], r["seed"], r["status"]) for r in seeds] == [("null", "1", "ok"), ("null", "2", "ok")]
    for row in seeds:
        assert int(row["n_events"]) > 0 and int(row["n_models"]) == 2  # features and mlp
        assert all(row[m] in ("True", "False") for m in calibration.MEASURES)
        assert 0 <= float(row["min_p_raw"]) <= float(row["min_p_adjusted"]) <= 1
        assert float(row["seconds"]) >= sum(float(row[f"seconds_{s}"]) for s in calibration.STAGES)

    columns, forecasts = read_csv(out / "forecasts.csv")
    assert tuple(columns) == calibration.FORECAST_COLUMNS
    for seed in ("1", "2"):
        names = {r["forecast"]: r["kind"] for r in forecasts if r["seed"] == seed}
        assert names["features_7day"] == names["mlp_7day"] == "model"
        assert {"reference:random", "reference:kp", "reference:dst"} <= set(names)

    summary = json.loads((out / "summary.json").read_text())
    assert summary["seismag_version"] == seismag.__version__ and summary["seeds"] == [1, 2]
    assert summary["command"].endswith(" ".join(argv)) and summary["argv"] == argv
    assert summary["options"] == {"days": 120, "stations": 3, "models": "features,mlp", "surrogates": 200,
                                  "window_days": 7, "alpha": 0.05, "train_until": "2020-03-01", "quick": True}
    shares = summary["settings"]["null"]["shares"]
    assert set(shares) == set(calibration.MEASURES)
    for share in shares.values():
        assert share["n"] == 2 and share["share"] == share["k"] / 2 and len(share["ci95"]) == 2
    assert not list(scratch.iterdir())  # every seed's folder deleted
    assert "seconds per seed" in capsys.readouterr().out
