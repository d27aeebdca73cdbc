import json

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from seismag.cli import main
from seismag.dataset.loading import fill_gaps, load_window
from seismag.models import get_model_entry, list_models, load_model_checkpoint, to_model_input
from seismag.training.artifacts import ArtifactPaths, parse_epoch_log
from seismag.training.tensors import Scaler
from seismag.inference import load_trained_ensemble, predict_array
from seismag.training.pipeline import run_experiment

from helpers import SPD, tiny_config, write_synthetic

DISPLAY = {name: get_model_entry(name).display_name for name in list_models()}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """All registered models, two windows, 2 folds, 2 epochs."""
    root = tmp_path_factory.mktemp("e2e")
    data_dir = write_synthetic(root / "data", days=(3, 4), n0=24, n1=16)
    out = root / "results"
    torch.set_num_threads(1)
    results = run_experiment(tiny_config(windows=[3, 4]), data_dir, out, progress=False)
    return data_dir, out, results


def test_every_model_and_window_writes_consistent_artifacts(trained):
    data_dir, out, results = trained
    assert sorted(results) == sorted(list_models(default_run=True))
    assert json.loads((out / "run_config.json").read_text())["num_folds"] == 2
    balance = json.loads((out / "dataset_summary.json").read_text())["windows"]
    assert balance["3"]["class_counts"] == [24, 16]
    for model in list_models(default_run=True):
        for days in (3, 4):
            data = load_window(data_dir, days, SPD)
            paths = ArtifactPaths(out, model, DISPLAY[model], days)
            assert paths.prefix == f"{DISPLAY[model]}Model_{days}day"
            validated = []
            fold_f1s = []
            for fold in (1, 2):
                assert paths.fold_complete(fold)
                probs = np.load(paths.fold_file(fold, "test_probs"))
                labels = np.load(paths.fold_file(fold, "test_labels"))
                rows = np.load(paths.fold_file(fold, "test_indices"))
                train_probs = np.load(paths.fold_file(fold, "train_probs"))
                train_labels = np.load(paths.fold_file(fold, "train_labels"))
                assert probs.dtype == np.float32 and ((probs >= 0) & (probs <= 1)).all()
                assert (labels == data.labels[rows]).all()  # labels match the split
                assert len(train_probs) + len(probs) == data.n_samples
                assert sorted(train_labels.tolist()) == sorted(np.delete(data.labels, rows).tolist())
                log = parse_epoch_log(paths.fold_file(fold, "logs"))
                assert [r["epoch"] for r in log] == [1, 2]
                metrics = json.loads(paths.fold_file(fold, "metrics").read_text())
                assert metrics["fold"] == fold and 1 <= metrics["best_epoch"] <= 2
                assert metrics["roc_auc"] == pytest.approx(roc_auc_score(labels, probs), abs=1e-6)
                fold_f1s.append(metrics["f1"])
                validated.extend(rows.tolist())
            assert sorted(validated) == list(range(data.n_samples))  # folds cover all, disjoint
            summary = json.loads(paths.summary.read_text())
            assert summary["val_f1s"] == pytest.approx(fold_f1s)
            assert summary["mean"]["f1"] == pytest.approx(np.mean(fold_f1s))
            assert summary["std"]["f1"] == pytest.approx(np.std(fold_f1s))
            assert summary["best_fold"] == int(np.argmax(fold_f1s)) + 1
            assert summary["protocol"]["split"] == "stratified"
            config = json.loads(paths.ensemble_config.read_text())
            assert sum(config["ensemble_weights"]) == pytest.approx(1.0)
            expected = np.array(fold_f1s) / np.sum(fold_f1s) if sum(fold_f1s) else np.full(2, 0.5)
            assert config["ensemble_weights"] == pytest.approx(expected.tolist())
            assert set(config["fold_metrics"]) == {"fold_1", "fold_2"}
            assert config["average_metrics"]["f1"]["mean"] == pytest.approx(np.mean(fold_f1s))


def test_fold_checkpoints_reproduce_their_validation_probabilities(trained):
    data_dir, out, _ = trained
    data = load_window(data_dir, 4, SPD)
    paths = ArtifactPaths(out, "gru", "GRU", 4)
    for fold in (1, 2):
        model, checkpoint = load_model_checkpoint(paths.fold_file(fold, ""))
        rows = np.load(paths.fold_file(fold, "test_indices"))
        scaler = Scaler.from_dict(checkpoint["extra"]["scaler"])
        x = scaler.apply(torch.from_numpy(data.features[rows]))
        with torch.no_grad():
            probs = torch.softmax(model(to_model_input(model, x, 4, SPD)), 1)[:, 1].numpy()
        np.testing.assert_allclose(probs, np.load(paths.fold_file(fold, "test_probs")), atol=1e-5)
        # the scaler holds statistics of the fold's training rows only
        train_rows = np.setdiff1d(np.arange(data.n_samples), rows)
        np.testing.assert_allclose(scaler.mean.numpy(), data.features[train_rows].mean(0), rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(scaler.std.numpy(), data.features[train_rows].std(0), rtol=1e-3, atol=1e-3)
        assert not np.allclose(scaler.mean.numpy(), data.features.mean(0), rtol=1e-6, atol=1e-6)


def platt(calibrator: dict, probs) -> np.ndarray:
    """Platt scaling written out apart from the package: sigmoid(slope * logit(p) + intercept)."""
    p = np.clip(np.asarray(probs, dtype=np.float64), calibrator["clip"], 1 - calibrator["clip"])
    return 1 / (1 + np.exp(-(calibrator["slope"] * np.log(p / (1 - p)) + calibrator["intercept"])))


def test_predict_round_trip_equals_the_ensemble(trained, tmp_path, capsys):
    data_dir, out, _ = trained
    ensemble_path = ArtifactPaths(out, "mlp", "MLP", 3).ensemble
    source = data_dir / "window-3" / "data_1.npy"
    csv_path = tmp_path / "preds.csv"
    assert main(["predict", "--ensemble", str(ensemble_path), "--input", str(source), "--out", str(csv_path)]) == 0
    table = np.genfromtxt(csv_path, delimiter=",", names=True)
    raw = np.load(source)
    features = raw[:, :-1].astype(np.float32)
    fill_gaps(features, 0.1)  # the synthetic rows hold short NaN gaps; predict fills them the same way
    ensemble = load_trained_ensemble(ensemble_path)
    expected = predict_array(ensemble, features)
    np.testing.assert_allclose(table["prob_class1"], expected["prob_class1"], atol=1e-6)
    assert (table["label"] == 1).all()
    # the ensemble equals the F1-weighted mean of its fold models, each behind its own scaler
    members = []
    for fold in (1, 2):
        model, checkpoint = load_model_checkpoint(ArtifactPaths(out, "mlp", "MLP", 3).fold_file(fold, ""))
        x = Scaler.from_dict(checkpoint["extra"]["scaler"]).apply(torch.from_numpy(features))
        with torch.no_grad():
            members.append(torch.softmax(model(x), 1)[:, 1].numpy())
    weights = np.asarray(ensemble.weights)
    np.testing.assert_allclose(expected["prob_class1_uncalibrated"], weights @ np.array(members), atol=1e-5)
    # prob_class1 is that mean through the ensemble's Platt calibrator (written beside it in the CSV)
    np.testing.assert_allclose(table["prob_class1_uncalibrated"], weights @ np.array(members), atol=1e-5)
    np.testing.assert_allclose(expected["prob_class1"], platt(ensemble.extra["calibration"], weights @ members),
                               atol=1e-5)
    # a file with the wrong width is refused with one line naming it
    bad = tmp_path / "bad.npy"
    np.save(bad, raw[:, :10])
    assert main(["predict", "--ensemble", str(ensemble_path), "--input", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err


def test_same_seed_gives_identical_results(tmp_path):
    data_dir = write_synthetic(tmp_path / "data", n0=20, n1=14)
    config = tiny_config(models=["gru", "mlp"])
    first = run_experiment(config, data_dir, tmp_path / "a", progress=False)
    second = run_experiment(config, data_dir, tmp_path / "b", progress=False)
    for model in ("gru", "mlp"):
        assert first[model][4]["val_f1s"] == second[model][4]["val_f1s"]
        paths_a = ArtifactPaths(tmp_path / "a", model, DISPLAY[model], 4)
        paths_b = ArtifactPaths(tmp_path / "b", model, DISPLAY[model], 4)
        for fold in (1, 2):
            assert np.array_equal(np.load(paths_a.fold_file(fold, "test_probs")),
                                  np.load(paths_b.fold_file(fold, "test_probs")))


def test_resume_after_an_interrupted_fold_equals_an_uninterrupted_run(tmp_path):
    data_dir = write_synthetic(tmp_path / "data", n0=20, n1=14)
    config = tiny_config(models=["gru"], num_folds=3)
    full = run_experiment(config, data_dir, tmp_path / "full", progress=False)["gru"][4]
    # an interrupted run: fold 1 finished, fold 2 killed half-way (some files only), no summary
    run_experiment(config, data_dir, tmp_path / "cut", progress=False)
    paths = ArtifactPaths(tmp_path / "cut", "gru", "GRU", 4)
    for path in [paths.fold_file(2, ""), paths.fold_file(2, "logs"), *paths.fold_files(3),
                 paths.summary, paths.ensemble, paths.ensemble_config]:
        path.unlink()
    fold1_time = paths.fold_file(1, "").stat().st_mtime_ns
    resumed = run_experiment(config, data_dir, tmp_path / "cut", resume=True, progress=False)["gru"][4]
    assert paths.fold_file(1, "").stat().st_mtime_ns == fold1_time  # fold 1 was not retrained
    assert resumed["val_f1s"] == full["val_f1s"]
    assert resumed["mean"] == full["mean"]
    assert paths.ensemble.is_file()


@pytest.mark.slow
@pytest.mark.parametrize("model", ["gru", "mlp"])
def test_models_learn_a_real_signal(tmp_path, model):
    data_dir = write_synthetic(tmp_path / "data", n0=60, n1=40)
    config = tiny_config(models=[model], epochs=8, num_folds=3, model_overrides={"*": {"hidden_sizes": [32, 16]}})
    summary = run_experiment(config, data_dir, tmp_path / "out", progress=False)[model][4]
    assert summary["mean"]["f1"] > 0.9


@pytest.mark.slow
def test_no_signal_gives_chance_auc(tmp_path):
    data_dir = write_synthetic(tmp_path / "data", n0=150, n1=100, effect=0.0, seed=3)
    # grouped by event, so windows sharing an event's dates cannot leak across folds
    config = tiny_config(models=["mlp"], epochs=3, num_folds=5, split="group",
                         model_overrides={"*": {"hidden_sizes": [32, 16]}})
    run_experiment(config, data_dir, tmp_path / "out", progress=False)
    paths = ArtifactPaths(tmp_path / "out", "mlp", "MLP", 4)
    labels = np.concatenate([np.load(paths.fold_file(k, "test_labels")) for k in range(1, 6)])
    probs = np.concatenate([np.load(paths.fold_file(k, "test_probs")) for k in range(1, 6)])
    assert abs(roc_auc_score(labels, probs) - 0.5) < 0.1


def test_group_split_keeps_each_event_on_one_side(tmp_path):
    data_dir = write_synthetic(tmp_path / "data", n0=30, n1=30)
    config = tiny_config(models=["mlp"], split="group", num_folds=3)
    summary = run_experiment(config, data_dir, tmp_path / "out", progress=False)["mlp"][4]
    assert summary["protocol"]["split"] == "group" and "one side" in summary["protocol"]["leakage_note"]
    events = load_window(data_dir, 4, SPD).meta_column("event_id")
    paths = ArtifactPaths(tmp_path / "out", "mlp", "MLP", 4)
    for fold in (1, 2, 3):
        val = np.load(paths.fold_file(fold, "test_indices"))
        train = np.setdiff1d(np.arange(len(events)), val)
        assert not (set(events[val]) - {""}) & (set(events[train]) - {""})


def test_cli_train_prints_the_table_and_bad_data_writes_nothing(tmp_path, capsys):
    data_dir = write_synthetic(tmp_path / "data", n0=12, n1=10)
    out = tmp_path / "out"
    args = ["train", "--data", str(data_dir), "--models", "mlp", "--windows", "4", "--epochs", "1",
            "--folds", "2", "--steps-per-day", str(SPD), "--hidden-sizes", "8,4", "--quiet"]
    assert main(args + ["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "mlp" in printed and "stratified" in printed and "±" in printed
    # a corrupt class file: one line naming it, non-zero exit, nothing written
    (data_dir / "window-4" / "data_1.npy").write_bytes(b"garbage")
    bad_out = tmp_path / "bad_out"
    assert main(args + ["--out", str(bad_out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "data_1.npy" in err[0]
    assert not any(bad_out.rglob("*.json"))
    # an unknown option value is a clear error too
    assert main(args + ["--out", str(bad_out), "--split", "random"]) == 2


def test_evaluate_scores_saved_ensembles_on_a_test_set(trained, tmp_path, capsys):
    data_dir, out, _ = trained
    eval_dir = tmp_path / "evaluation"
    assert main(["evaluate", "--results", str(out), "--test-data", str(data_dir), "--out", str(eval_dir),
                 "--models", "gru,mlp", "--windows", "4", "--no-figures"]) == 0
    data = load_window(data_dir, 4, SPD)
    for model, display in (("gru", "GRU"), ("mlp", "MLP")):
        paths = ArtifactPaths(eval_dir, model, display, 4)
        probs = np.load(paths.fold_file(1, "test_probs"))
        # Expected, computed apart from the ensemble code: each fold checkpoint behind its own
        # standardisation (numpy), softmax, then the F1 weights of the ensemble config.
        trained_paths = ArtifactPaths(out, model, display, 4)
        config = json.loads(trained_paths.ensemble_config.read_text())
        assert config["strategy"] == "weighted_mean"
        f1s = np.array([config["fold_metrics"][f"fold_{fold}"]["f1"] for fold in (1, 2)])
        weights = np.asarray(config["ensemble_weights"])
        np.testing.assert_allclose(weights, f1s / f1s.sum(), rtol=1e-6)
        members = []
        for fold in (1, 2):
            net, checkpoint = load_model_checkpoint(trained_paths.fold_file(fold, ""))
            scaler = checkpoint["extra"]["scaler"]
            assert scaler["kind"] == "standard"
            x = (data.features - scaler["mean"].numpy()) / scaler["std"].numpy()
            # the GRU takes (n, days, steps_per_day), the MLP the flat window
            x = x.reshape(len(x), 4, SPD) if model == "gru" else x
            with torch.no_grad():
                logits = net(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).numpy()
            exp = np.exp(logits - logits.max(1, keepdims=True))
            members.append(exp[:, 1] / exp.sum(1))
        summary = json.loads(paths.summary.read_text())
        # evaluate writes the calibrated probabilities: the weighted mean through the training run's
        # calibrator (the one in the training summary), and the uncalibrated scores beside them
        calibrator = json.loads(trained_paths.summary.read_text())["calibration"]["calibrator"]
        assert summary["calibration"]["calibrator"] == pytest.approx(calibrator)
        np.testing.assert_allclose(probs, platt(calibrator, weights @ np.array(members)), atol=1e-5)
        assert summary["calibration"]["uncalibrated"]["brier"] == pytest.approx(
            np.mean((weights @ np.array(members) - data.labels) ** 2), abs=1e-5)
        assert summary["val_aucs"][0] == pytest.approx(roc_auc_score(data.labels, probs))
        lo, hi = summary["intervals"]["bootstrap"]["roc_auc"]
        assert lo <= summary["val_aucs"][0] <= hi
        assert summary["baselines"]["majority"]["accuracy"] == pytest.approx(max(data.class_counts) / data.n_samples)
    assert not (eval_dir / "lstm_models").exists()
    # a results folder without ensembles is refused with one line
    assert main(["evaluate", "--results", str(tmp_path), "--test-data", str(data_dir)]) == 2
    assert "ensemble" in capsys.readouterr().err


def test_the_summary_table_shows_proper_scores_before_and_after_calibration():
    from seismag.training.pipeline import format_summary_table

    def scores(brier, skill, loss, ece):
        return {"brier": brier, "brier_skill": skill, "log_loss": loss, "ece": ece}

    summary = {"mean": {}, "std": {}, "calibration": {"uncalibrated": scores(0.25, -0.12, 0.69, 0.31),
                                                     "calibrated": scores(0.125, 0.44, None, 0.05)}}
    table = format_summary_table({"mlp": {7: summary}, "gru": {7: {"mean": {}, "std": {}}}})
    lines = [line for line in table.splitlines() if line.startswith("mlp")]
    assert len(lines) == 2  # the metrics row and the proper-scores row
    cells = lines[1].split()
    assert cells[:2] == ["mlp", "7d"]
    assert " ".join(cells[2:]) == "0.2500 -> 0.1250 -0.1200 -> 0.4400 0.6900 -> n/a 0.3100 -> 0.0500"
    assert not [line for line in table.splitlines() if line.startswith("gru") and "->" in line]
    assert "Brier skill (BSS) is against the class prior" in table
    # without any calibration record (summaries written before), no proper-scores block
    assert "->" not in format_summary_table({"gru": {7: {"mean": {}, "std": {}}}})
