"""Proper scores against hand-worked values and scikit-learn."""
import numpy as np
import pytest
from sklearn.metrics import brier_score_loss
from sklearn.metrics import log_loss as sk_log_loss

from seismag.scores import (brier_score, brier_skill_score, expected_calibration_error, log_loss, proper_scores,
                            reliability_table)

LABELS = np.array([0, 0, 1, 1])
PROBS = np.array([0.1, 0.4, 0.35, 0.8])


def test_hand_worked_values():
    # (0.01 + 0.16 + 0.4225 + 0.04) / 4
    assert brier_score(LABELS, PROBS) == pytest.approx(0.1581250)
    # prior 0.5 scores 0.25: 1 - 0.158125 / 0.25
    assert brier_skill_score(LABELS, PROBS) == pytest.approx(0.3675)
    # against a given constant reference of 0.25: BS_ref = (2 * 0.0625 + 2 * 0.5625) / 4 = 0.3125
    assert brier_skill_score(LABELS, PROBS, 0.25) == pytest.approx(1 - 0.158125 / 0.3125)
    expected = -(np.log(0.9) + np.log(0.6) + np.log(0.35) + np.log(0.8)) / 4
    assert log_loss(LABELS, PROBS) == pytest.approx(expected)
    # bins of width 0.1: 0.1 -> bin 1 (obs 0), 0.35 and 0.4 -> bins 3 and 4, 0.8 -> bin 8
    table = reliability_table(LABELS, PROBS)
    assert table["count"] == [0, 1, 0, 1, 1, 0, 0, 0, 1, 0]
    assert table["observed"][3] == 1.0 and table["mean_predicted"][4] == pytest.approx(0.4)
    assert table["observed"][0] is None
    # ECE = (|0 - 0.1| + |1 - 0.35| + |0 - 0.4| + |1 - 0.8|) / 4
    assert expected_calibration_error(LABELS, PROBS) == pytest.approx((0.1 + 0.65 + 0.4 + 0.2) / 4)
    # two bins: [0, 0.5) holds 0.1, 0.35, 0.4 (mean 0.2833, observed 1/3), [0.5, 1] holds 0.8
    assert expected_calibration_error(LABELS, PROBS, n_bins=2) == pytest.approx(
        (3 * abs(1 / 3 - 0.85 / 3) + 0.2) / 4)


def test_agrees_with_scikit_learn_on_random_forecasts():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 500)
    probs = rng.uniform(0, 1, 500)
    probs[:3] = (0.0, 1.0, 1.0)  # the clipping of exact 0 and 1
    assert brier_score(labels, probs) == pytest.approx(brier_score_loss(labels, probs))
    assert log_loss(labels, probs) == pytest.approx(sk_log_loss(labels, probs, labels=[0, 1]), rel=1e-9)


def test_degenerate_inputs():
    # the class prior of one-class labels is a perfect reference: no skill can be measured
    assert brier_skill_score([1, 1, 1], [0.9, 0.8, 0.7]) is None
    assert proper_scores([0, 0], [0.2, 0.1])["brier_skill"] is None
    # the prior itself has skill 0; a probability of exactly 1 falls in the last bin
    assert brier_skill_score([0, 0, 0, 1], [0.25] * 4) == pytest.approx(0.0)
    assert reliability_table([1], [1.0])["count"][-1] == 1
    for labels, probs in (([0, 1], [0.5]), ([], []), ([0, 2], [0.1, 0.2]), ([0, 1], [0.1, 1.2]),
                          ([0, 1], [0.1, np.nan])):
        with pytest.raises(ValueError):
            brier_score(labels, probs)


def test_proper_scores_bundle():
    scores = proper_scores(LABELS, PROBS)
    assert scores["n"] == 4 and scores["base_rate"] == 0.5
    assert scores["brier"] == pytest.approx(brier_score(LABELS, PROBS))
    assert sum(scores["reliability"]["count"]) == 4
