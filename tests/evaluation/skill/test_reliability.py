"""The reliability of the daily probabilities in ``seismag skill``: outcomes, proper scores, and the
Brier skill against the per-station event rate."""
from __future__ import annotations

import numpy as np
import pytest

from seismag.evaluation.skill import evaluate_skill
from seismag.layout.forecast import read_scores, write_forecast_scores
from seismag.sources.catalog import Catalog, write_comcat_csv

LABELS = {"min_magnitude": 5.5, "radius": "dobrovolsky", "radius_km": None, "lead_days": 5, "max_depth_km": None,
          "decluster": False}
PERIOD = {"train_until": "2019-12-01", "first_window_start": "2019-06-01", "last_horizon_end": "2019-12-01"}


def _judge(tmp_path, hit: float, miss: float, calibration: str | None = "calibrated (platt ...)"):
    days = np.datetime64("2020-01-01") + np.arange(60)
    # one event on 2020-01-20: the rows ending 01-16 .. 01-20 see it within their 5 days
    outcome = (days >= np.datetime64("2020-01-16")) & (days <= np.datetime64("2020-01-20"))
    rows = [["AAA", "40.000", "140.000", str(day), "gru_7day", f"{hit if o else miss:.3f}", "0.1", "0.0", "false",
             "0.5"] for day, o in zip(days, outcome)]
    scores = write_forecast_scores(tmp_path / "scores.csv", rows, {"gru_7day": {
        "ensemble": "gru.pth", "training_period": PERIOD, "labels": LABELS, "calibration": calibration}})
    # the training period (June to November 2019) saw two events: a rate of 2 / 183 a day
    catalog = write_comcat_csv(tmp_path / "catalog.csv", Catalog.from_events(
        [("2019-07-10T03:00:00", 40.1, 140.1, 10.0, 6.0, "t1"), ("2019-09-10T03:00:00", 40.1, 140.1, 10.0, 6.0, "t2"),
         ("2020-01-20T03:00:00", 40.1, 140.1, 10.0, 6.2, "a")], start="2019-01-01", end="2020-06-01"))
    return evaluate_skill(scores, catalog, surrogates=0)["models"]["gru_7day"]["reliability"], outcome


def test_outcomes_proper_scores_and_skill_against_the_station_rate(tmp_path):
    record, outcome = _judge(tmp_path, 0.9, 0.01)
    assert record["n"] == 60 and record["base_rate"] == pytest.approx(5 / 60)
    assert record["brier"] == pytest.approx((5 * 0.01 + 55 * 0.0001) / 60)
    rate = 2 / 183  # events a day at the station over the training period (June 1 .. December 1)
    reference = 1 - np.exp(-rate * 5)
    expected_reference = np.mean((reference - outcome) ** 2)
    assert record["brier_rate_reference"] == pytest.approx(expected_reference, rel=1e-6)
    assert record["brier_skill_rate"] == pytest.approx(1 - record["brier"] / expected_reference, rel=1e-6)
    assert record["brier_skill_rate"] > 0.8 and record["calibration"].startswith("calibrated")
    assert sum(record["reliability"]["count"]) == 60 and record["reliability"]["observed"][9] == 1.0


def test_a_confident_wrong_forecast_has_negative_skill_and_old_tables_still_read(tmp_path):
    record, _ = _judge(tmp_path, 0.01, 0.9, calibration=None)
    assert record["brier_skill_rate"] < 0 and record["calibration"] is None
    # a scores.csv written before prob_class1_uncalibrated existed (nine columns) still reads
    text = (tmp_path / "scores.csv").read_text().splitlines()
    assert text[0].endswith(",in_sample,prob_class1_uncalibrated")
    old = tmp_path / "old.csv"
    old.write_text("\n".join(line.rsplit(",", 1)[0] for line in text) + "\n")
    assert len(read_scores(old).models["gru_7day"]) == 60
