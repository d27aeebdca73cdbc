"""Selection-bias-free scores, permutation control, intervals, trivial baselines."""
import json
import math

import numpy as np
import pytest

from seismag import runtime
from seismag.training import fold
from seismag.training.artifacts import ArtifactPaths
from seismag.training.evaluation import (
    bootstrap_intervals, fold_interval, majority_baseline, permutation_summary, permuted_labels,
)
from seismag.training.tensors import WindowTensors
from seismag.training.fold import train_fold
from seismag.training.metrics import calculate_binary_metrics
from seismag.training.splits import fold_rows, stratified_kfold
from seismag.training.pipeline import run_experiment
from seismag.dataset.loading import load_window
from seismag.models import model_config
from sklearn.metrics import roc_auc_score

from helpers import SPD, tiny_config, write_synthetic


@pytest.mark.parametrize("selection", ["inner", "outer"])
def test_only_the_chosen_rows_ever_select_an_epoch(tmp_path, monkeypatch, selection):
    data = load_window(write_synthetic(tmp_path, n0=30, n1=20), 4, SPD)
    tensors = WindowTensors.from_window(data, runtime.resolve_device("cpu"))
    train_rows, val_rows = stratified_kfold(data.labels, 3, seed=1)[0]
    seen = []
    original = fold.selection_score
    monkeypatch.setattr(fold, "selection_score", lambda result: seen.append(set(result.rows.tolist())) or original(result))
    config = tiny_config(selection=selection, epochs=3)
    result = train_fold("mlp", model_config("mlp", 4, SPD, hidden_sizes=[8, 4]), tensors,
                        fold_rows(train_rows, val_rows, data.labels, config, seed=0), config, fold=1, seed=0,
                        device=runtime.resolve_device("cpu"))
    assert len(seen) == 3  # one selection per epoch
    for rows in seen:
        if selection == "inner":
            assert not rows & set(val_rows.tolist())  # no outer-fold row chose anything
            assert rows <= set(train_rows.tolist())
            assert len(rows) == result.metrics["n_selection"]
        else:
            assert rows == set(val_rows.tolist())  # the SPEC's protocol: chosen on the scored rows
    assert result.metrics["selection"] == selection


def test_permuted_labels_keep_validation_rows_and_groups():
    labels = np.array([0] * 6 + [1] * 6)
    groups = np.array(["", "", "", "", "", "", "E1", "E1", "E1", "E2", "E2", "E2"])
    train = np.array([0, 1, 2, 6, 7, 8, 9, 10, 11])
    rng = np.random.default_rng(0)
    out = permuted_labels(labels, train, rng, groups)
    assert (out[[3, 4, 5]] == labels[[3, 4, 5]]).all()  # validation rows keep real labels
    assert len(set(out[[6, 7, 8]])) == 1 and len(set(out[[9, 10, 11]])) == 1  # groups move together
    # the labels of the five training groups (three single rows, E1, E2) are shuffled among them
    group_labels = [out[0], out[1], out[2], out[6], out[9]]
    assert sorted(group_labels) == [0, 0, 0, 1, 1]
    plain = permuted_labels(labels, train, np.random.default_rng(1))
    assert sorted(plain[train].tolist()) == sorted(labels[train].tolist())


@pytest.mark.slow  # (19 permutations + the real CV) x 3 folds x 2 datasets = 120 fold fits
def test_permutation_verdicts(tmp_path):
    def control(effect, seed):
        data_dir = write_synthetic(tmp_path / f"d{effect}", n0=60, n1=40, effect=effect, seed=seed)
        # Grouped by event: windows of one event share their dates (storms, Sq), and a
        # stratified split lets a model recognise those dates, which the permutation
        # control rightly reports as above chance even with effect 0.
        config = tiny_config(models=["mlp"], epochs=4, num_folds=3, permutation_control=19, split="group",
                             model_overrides={"*": {"hidden_sizes": [16, 8]}})
        run_experiment(config, data_dir, tmp_path / f"out{effect}", progress=False)
        paths = ArtifactPaths(tmp_path / f"out{effect}", "mlp", "MLP", 4)
        summary = json.loads(paths.summary.read_text())
        assert summary["permutation"] == json.loads(paths.permutation.read_text())
        return summary["permutation"]

    strong = control(None, 1)
    assert strong["metrics"]["roc_auc"]["p_value"] == pytest.approx(0.05)  # the minimum for 19 permutations
    assert strong["verdict"].startswith("distinguishable")
    null = control(0.0, 2)
    assert null["metrics"]["roc_auc"]["p_value"] > 0.05 and null["metrics"]["f1"]["p_value"] > 0.05
    assert null["verdict"] == "indistinguishable from chance"
    # the report says it in words and shows the permutation distribution
    from seismag.report import write_report
    page = write_report(tmp_path / "out0.0", figure_dpi=40).read_text()
    assert "id='chance-table'" in page and "indistinguishable from chance" in page
    assert "Permutation control" in page


def test_too_few_permutations_are_undecided():
    summary = permutation_summary({"f1": 0.9}, [{"f1": 0.5}] * 5)
    assert summary["verdict"].startswith("undecided")


def test_permutation_summary_p_values():
    summary = permutation_summary({"f1": 0.8, "roc_auc": 0.7},
                                  [{"f1": v, "roc_auc": 0.5} for v in (0.5, 0.85, 0.6, 0.9)])
    assert summary["metrics"]["f1"]["p_value"] == pytest.approx((1 + 2) / 5)
    assert summary["metrics"]["roc_auc"]["p_value"] == pytest.approx(1 / 5)


def test_bootstrap_intervals_cover_a_known_accuracy_at_the_nominal_rate():
    true_accuracy, covered = 0.7, 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, 2, 200)
        correct = rng.random(200) < true_accuracy
        probs = np.where(correct, labels, 1 - labels).astype(float) * 0.8 + 0.1
        lo, hi = bootstrap_intervals(labels, probs, n_boot=300, seed=seed, metrics=("accuracy",))["accuracy"]
        covered += lo <= true_accuracy <= hi
    assert 88 <= covered <= 99


def test_bootstrap_intervals_cover_a_known_roc_auc_at_the_nominal_rate():
    # Latent scores N(-0.5, 1) for class 0 and N(0.5, 1) for class 1: AUC = P(s1 > s0) = Phi(1 / sqrt 2).
    true_auc, covered = 0.5 * (1 + math.erf(0.5)), 0
    assert true_auc == pytest.approx(0.760250, abs=1e-6)
    for seed in range(100):
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, 2, 200)
        probs = 1 / (1 + np.exp(-(rng.normal(size=200) + labels - 0.5)))  # monotone: same AUC
        lo, hi = bootstrap_intervals(labels, probs, n_boot=300, seed=seed, metrics=("roc_auc",))["roc_auc"]
        covered += lo <= true_auc <= hi
    assert 88 <= covered <= 99


def test_fold_interval_covers_the_mean_at_the_nominal_rate():
    rng = np.random.default_rng(0)
    covered = sum(lo <= 0.6 <= hi for lo, hi in (fold_interval(rng.normal(0.6, 0.05, 5)) for _ in range(400)))
    assert 0.91 * 400 <= covered <= 0.99 * 400


def test_fast_bootstrap_metrics_equal_sklearn():
    rng = np.random.default_rng(3)
    labels, probs = rng.integers(0, 2, 80), rng.random(80)
    from seismag.training.metrics import fast_binary_metrics
    from seismag.training.metrics import calculate_binary_metrics
    fast = fast_binary_metrics(labels, (probs >= 0.5).astype(int), probs)
    slow = calculate_binary_metrics(labels, (probs >= 0.5).astype(int), probs)
    for key in ("f1", "precision", "recall", "specificity", "mcc", "accuracy", "balanced_accuracy", "roc_auc"):
        assert fast[key] == pytest.approx(slow[key]), key
    assert fast["roc_auc"] == pytest.approx(roc_auc_score(labels, probs))


def test_majority_baseline_and_summary_fields(tmp_path):
    base = majority_baseline(np.array([0] * 1661 + [1] * 999))
    assert base["predicts"] == 0 and base["accuracy"] == pytest.approx(1661 / 2660)
    assert base["f1"] == pytest.approx((1661 / 2660) * 2 * (1661 / 2660) / (1 + 1661 / 2660))
    data_dir = write_synthetic(tmp_path / "d", n0=20, n1=14)
    summary = run_experiment(tiny_config(models=["mlp"]), data_dir, tmp_path / "o", progress=False)["mlp"][4]
    assert summary["baselines"]["majority"]["predicts"] == 0
    assert summary["baselines"]["chance_auc"] == 0.5
    # The pooled out-of-fold F1, recomputed from the fold files on disk, lies inside its
    # bootstrap interval, which is a real interval within [0, 1].
    paths = ArtifactPaths(tmp_path / "o", "mlp", "MLP", 4)
    labels = np.concatenate([np.load(paths.fold_file(k, "test_labels")) for k in (1, 2)])
    probs = np.concatenate([np.load(paths.fold_file(k, "test_probs")) for k in (1, 2)])
    assert len(labels) == 34
    pooled_f1 = calculate_binary_metrics(labels, (probs >= 0.5).astype(int), probs)["f1"]
    assert summary["intervals"]["pooled"]["f1"] == pytest.approx(pooled_f1)
    lo, hi = summary["intervals"]["bootstrap"]["f1"]
    assert 0.0 <= lo < pooled_f1 < hi <= 1.0
    assert summary["protocol"]["selection"] == "inner"
