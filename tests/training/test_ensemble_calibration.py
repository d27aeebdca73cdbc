"""The ensembles' Platt calibrator: known answers, held-out and imbalanced data, a model without
skill, and the rule that no row is scored by a calibrator that saw it."""
import csv
import json

import numpy as np
import pytest

from helpers import tiny_config, write_synthetic
from seismag.cli import main
from seismag.errors import CheckpointError
from seismag.inference import evaluate_results, load_trained_ensemble, predict_array
from seismag.layout.results import ArtifactPaths
from seismag.scores import brier_score, expected_calibration_error
from seismag.training import calibration
from seismag.training.calibration import (MIN_SLOPE, apply_calibrator, calibrator_record, checked_record,
                                          cross_fitted, fit_platt)
from seismag.training.pipeline import run_experiment


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _miscalibrated(n, rate, seed):
    """Labels drawn from a true probability and the scores of a model trained with class weights:
    the right ranking, but shifted towards 0.5 and too flat (what weighting does to a prior)."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    truth = _sigmoid(2.0 * signal + np.log(rate / (1 - rate)))
    labels = (rng.uniform(size=n) < truth).astype(int)
    return labels, _sigmoid(0.8 * signal + 0.3)


def test_platt_recovers_a_known_map():
    rng = np.random.default_rng(1)
    probs = rng.uniform(0.02, 0.98, 20000)
    truth = _sigmoid(1.7 * np.log(probs / (1 - probs)) - 0.6)
    labels = (rng.uniform(size=probs.size) < truth).astype(int)
    slope, intercept = fit_platt(probs, labels)
    assert slope == pytest.approx(1.7, abs=0.08) and intercept == pytest.approx(-0.6, abs=0.08)


@pytest.mark.parametrize("rate", [0.5, 0.1])  # balanced and imbalanced
def test_calibrated_scores_are_no_worse_on_held_out_rows(rate):
    train_labels, train_probs = _miscalibrated(3000, rate, seed=2)
    test_labels, test_probs = _miscalibrated(3000, rate, seed=3)  # never seen by the calibrator
    calibrated = apply_calibrator(calibrator_record(train_probs, train_labels), test_probs)
    assert brier_score(test_labels, calibrated) <= brier_score(test_labels, test_probs)
    assert expected_calibration_error(test_labels, calibrated) <= expected_calibration_error(test_labels, test_probs)
    # a monotone map: the ranking (AUC, alarm order) is the model's
    assert np.array_equal(np.argsort(calibrated, kind="stable"), np.argsort(test_probs, kind="stable"))


def test_no_skill_gives_the_prior_and_never_a_falling_map():
    rng = np.random.default_rng(4)
    labels = (rng.uniform(size=400) < 0.25).astype(int)
    noise = rng.uniform(0.3, 0.7, 400)
    anti = np.where(labels == 1, 0.3, 0.7) + rng.normal(0, 0.01, 400)  # perfectly reversed ranking
    for probs in (noise, anti, np.full(400, 0.6)):
        record = calibrator_record(probs, labels)
        assert record["slope"] >= MIN_SLOPE
        out = apply_calibrator(record, probs)
        assert np.all(out < 0.5)  # the majority class at the 0.5 threshold
    assert apply_calibrator(calibrator_record(anti, labels), anti).mean() == pytest.approx(labels.mean(), abs=0.03)


def test_cross_fitting_never_fits_on_the_fold_it_scores(monkeypatch):
    rng = np.random.default_rng(5)
    folds = [rng.uniform(size=30) for _ in range(4)]  # distinct values: a row is recognised by its value
    labels = [rng.integers(0, 2, 30) for _ in range(4)]
    seen = []
    original = calibration.calibrator_record
    monkeypatch.setattr(calibration, "calibrator_record",
                        lambda probs, y: seen.append(set(np.round(probs, 12))) or original(probs, y))
    calibrated, fitted_on = cross_fitted(folds, labels)
    assert fitted_on == [[2, 3, 4], [1, 3, 4], [1, 2, 4], [1, 2, 3]]
    for k, values in enumerate(seen):
        assert not values & set(np.round(folds[k], 12))
        assert len(values) == 90
    assert [c.shape for c in calibrated] == [(30,)] * 4


def test_a_damaged_calibrator_is_one_line():
    assert checked_record(None) is None
    for bad in ({"method": "isotonic"}, {"method": "platt", "slope": float("nan"), "intercept": 0, "clip": 1e-6}, 3):
        with pytest.raises(CheckpointError, match="damaged calibrator"):
            checked_record(bad, "x.pth")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Tiny MLP runs on imbalanced windows (90 vs 30): a planted effect, and none (--effect 0)."""
    root = tmp_path_factory.mktemp("calibration")
    out = {}
    for name, effect in (("skill", 1.0), ("none", 0.0)):
        data = write_synthetic(root / name / "data", n0=90, n1=30, effect=effect, seed=1)
        test = write_synthetic(root / name / "test", n0=90, n1=30, effect=effect, seed=2)
        run_experiment(tiny_config(models=["mlp"], epochs=3, num_folds=3), data, root / name / "results",
                       progress=False)
        out[name] = (data, test, root / name / "results")
    return out


def test_the_ensemble_carries_a_calibrator_fitted_on_out_of_fold_rows_only(runs):
    data, _, results = runs["skill"]
    paths = ArtifactPaths(results, "mlp", "MLP", 4)
    summary = json.loads(paths.summary.read_text())
    record = summary["calibration"]
    ensemble = load_trained_ensemble(paths.ensemble)
    assert ensemble.extra["calibration"] == pytest.approx(record["calibrator"])
    # The summary's calibrated scores: each fold's rows through a calibrator fitted on the other
    # folds' rows; recomputed here from the fold files, with the row indices to show they are apart.
    indices = [np.load(paths.fold_file(k, "test_indices")) for k in (1, 2, 3)]
    probs = [np.load(paths.fold_file(k, "test_probs")) for k in (1, 2, 3)]
    labels = [np.load(paths.fold_file(k, "test_labels")) for k in (1, 2, 3)]
    recomputed = []
    for k, others in enumerate(record["cross_fitted_on"]):
        assert k + 1 not in others
        fit_rows = np.concatenate([indices[j - 1] for j in others])
        assert not set(fit_rows) & set(indices[k])  # the calibrator never saw the rows it scores
        fitted = calibrator_record(np.concatenate([probs[j - 1] for j in others]),
                                   np.concatenate([labels[j - 1] for j in others]))
        recomputed.append(apply_calibrator(fitted, probs[k]))
    assert record["calibrated"]["brier"] == pytest.approx(brier_score(np.concatenate(labels),
                                                                      np.concatenate(recomputed)))
    # the ensemble's own calibrator: every out-of-fold row, and no others
    assert record["calibrator"]["n_rows"] == sum(len(i) for i in indices) == 120
    # pooled out-of-fold and cross-fitted: calibration helps an imbalanced, class-weighted model
    for key in ("brier", "ece"):
        assert record["calibrated"][key] <= record["uncalibrated"][key]


def test_held_out_test_set_scores_no_worse_after_calibration(runs, tmp_path):
    _, test, results = runs["skill"]
    summary = evaluate_results(results, test, tmp_path / "evaluation")["mlp"][4]["calibration"]
    assert summary["applied"]
    for key in ("brier", "ece"):
        assert summary["calibrated"][key] <= summary["uncalibrated"][key]
    # --no-calibration: the members' weighted mean, scored as such
    off = evaluate_results(results, test, tmp_path / "off", calibrated=False)["mlp"][4]["calibration"]
    assert not off["applied"] and off["calibrated"] is None and off["calibrator"] is None
    assert off["uncalibrated"] == summary["uncalibrated"]
    probs = np.load(ArtifactPaths(tmp_path / "off", "mlp", "MLP", 4).fold_file(1, "test_probs"))
    assert brier_score(np.load(ArtifactPaths(tmp_path / "off", "mlp", "MLP", 4).fold_file(1, "test_labels")),
                       probs) == pytest.approx(off["uncalibrated"]["brier"], abs=1e-6)


def test_no_skill_predicts_the_majority_class(runs, tmp_path):
    _, test, results = runs["none"]
    ensemble = load_trained_ensemble(ArtifactPaths(results, "mlp", "MLP", 4).ensemble)
    features = np.load(test / "window-4" / "data_1.npy")[:, :-1].astype(np.float32)
    features = np.nan_to_num(features)
    scores = predict_array(ensemble, features)
    assert np.all(scores["predicted_class"] == 0) and np.all(scores["prob_class1"] < 0.5)
    assert np.all(scores["confidence"] >= 0.5)


def test_no_calibration_flag_and_old_ensembles(runs, tmp_path, caplog):
    _, test, results = runs["skill"]
    path = ArtifactPaths(results, "mlp", "MLP", 4).ensemble
    source = test / "window-4" / "data_0.npy"
    tables = {}
    for name, flags in (("on", []), ("off", ["--no-calibration"])):
        assert main(["predict", "--ensemble", str(path), "--input", str(source), "--out",
                     str(tmp_path / f"{name}.csv"), *flags]) == 0
        with open(tmp_path / f"{name}.csv", newline="") as handle:
            tables[name] = list(csv.DictReader(handle))
    on, off = tables["on"], tables["off"]
    assert [r["prob_class1_uncalibrated"] for r in on] == [r["prob_class1"] for r in off]
    assert [r["prob_class1"] for r in on] != [r["prob_class1"] for r in off]
    # an ensemble saved before ensembles carried a calibrator predicts as before
    from seismag.models import F1WeightedEnsemble

    old = F1WeightedEnsemble.load(path)
    old_path = old.save(tmp_path / "MLPModel_4day_ensemble.pth",
                        extra={k: v for k, v in old.extra.items() if k != "calibration"})
    assert main(["predict", "--ensemble", str(old_path), "--input", str(source), "--out",
                 str(tmp_path / "old.csv")]) == 0
    assert "uncalibrated: this ensemble was saved before ensembles carried a calibrator" in caplog.text
    with open(tmp_path / "old.csv", newline="") as handle:
        assert [r["prob_class1"] for r in csv.DictReader(handle)] == [r["prob_class1"] for r in off]
