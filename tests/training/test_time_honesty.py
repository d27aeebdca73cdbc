"""--train-until on every path: local, fold workers, a Ray unit and tune train on the same windows.

One dated dataset (60 daily windows, horizons from 2020-01-07): the cutoff keeps the 36 whose
label horizon ends by 2020-02-10. Every path must cut the same folds from those 36 (the same
``_test_indices.npy``), and a config tuned past a run's cutoff is refused by ``seismag train``.
"""
import json

import numpy as np
import pytest

from seismag.cli import main
from seismag.config import make_config, read_config_file, tiny_models, write_config_toml
from seismag.training.pipeline import run_experiment
from seismag.training.unit import train_unit

from test_train_until import DAYS, write_dated
from helpers import SPD

UNTIL = "2020-02-10"
KEPT = 36  # window i's horizon ends Jan (i + 6): by Feb 10 for i <= 35
TINY = dict(steps_per_day=SPD, epochs=2, num_folds=2, batch_size=16, selection="outer")


def cut_config(**extra):
    """The run every path makes: the tiny MLP on the 2-day window, cut at UNTIL."""
    return make_config("paper", models=["mlp"], windows=[DAYS], train_until=UNTIL, model_overrides=tiny_models(),
                       **TINY, **extra)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_dated(tmp_path_factory.mktemp("dated") / "data", n=60)


@pytest.fixture(scope="module")
def local(data_dir, tmp_path_factory):
    """The reference: a local run in this process, cut at UNTIL."""
    out = tmp_path_factory.mktemp("local") / "results"
    run_experiment(cut_config(), data_dir, out, progress=False)
    return out


def fold_rows(results):
    """``{fold file name: its row indices}`` of every ``_test_indices.npy`` under ``results``."""
    rows = {path.name: np.load(path) for path in sorted(results.glob("*_models/*_test_indices.npy"))}
    assert len(rows) == TINY["num_folds"]
    return rows


def assert_same_windows(results, local):
    ours, theirs = fold_rows(results), fold_rows(local)
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)
    assert sum(len(rows) for rows in ours.values()) == KEPT  # every fold's validation rows: the kept windows
    summary = next(results.glob("*_models/*_summary.json"))
    assert json.loads(summary.read_text())["protocol"]["training_period"] == \
        json.loads((local / summary.relative_to(results)).read_text())["protocol"]["training_period"]


def test_the_local_reference_trains_on_the_windows_before_the_cutoff(local):
    rows = np.sort(np.concatenate(list(fold_rows(local).values())))
    np.testing.assert_array_equal(rows, np.arange(KEPT))
    summary = json.loads(next(local.glob("*_models/*_summary.json")).read_text())
    assert summary["protocol"]["training_period"]["last_horizon_end"] == f"{UNTIL}T00:00:00"


def test_fold_workers_train_on_the_same_windows(data_dir, local, tmp_path):
    config = cut_config(fold_workers=2)
    run_experiment(config, data_dir, tmp_path / "workers", progress=False)
    assert_same_windows(tmp_path / "workers", local)


def test_a_unit_on_its_own_cuts_like_the_pipeline(data_dir, local, tmp_path):
    # What a Ray task runs, called here: it prepares its own window and must not forget the cutoff.
    config = cut_config()
    summary = train_unit(config, data_dir, tmp_path / "unit", "mlp", DAYS)
    assert_same_windows(tmp_path / "unit", local)
    assert summary["protocol"]["training_period"]["train_until"] == UNTIL


def test_the_ray_executor_trains_on_the_same_windows(data_dir, local, tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'seismag[ray]')")
    config = cut_config()
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        run_experiment(config, data_dir, tmp_path / "ray", progress=False, executor="ray")
    finally:
        ray.shutdown()
    assert_same_windows(tmp_path / "ray", local)


def test_tune_searches_the_cut_window_and_train_refuses_a_later_tuned_cutoff(data_dir, local, tmp_path, capsys):
    pytest.importorskip("optuna", reason="Optuna is not installed (pip install 'seismag[tune]')")
    base = write_config_toml(tmp_path / "tiny.toml", {**TINY, "model_overrides": tiny_models()})
    tuning = tmp_path / "tuning"
    assert main(["tune", "--data", str(data_dir), "--model", "mlp", "--window", str(DAYS), "--trials", "1",
                 "--config", str(base), "--out", str(tuning), "--train-until", UNTIL]) == 0

    # the search saw outer fold 1's training rows of the cut window, never its validation rows
    rows = np.load(tuning / "tuning_rows.npz")
    held_out = fold_rows(local)[f"MLPModel_{DAYS}day_fold_1_test_indices.npy"]
    np.testing.assert_array_equal(np.sort(rows["held_out_rows"]), np.sort(held_out))
    searched = np.sort(np.concatenate([rows["fit_rows"], rows["val_rows"]]))
    np.testing.assert_array_equal(searched, np.setdiff1d(np.arange(KEPT), held_out))
    assert json.loads((tuning / "tune_summary.json").read_text())["protocol"]["train_until"] == UNTIL

    best = tuning / "best_config.toml"
    assert read_config_file(best)["tuned"] == {"train_until": UNTIL}
    assert make_config("paper", best).train_until == UNTIL  # trained as it is: the tuned cutoff
    assert make_config("paper", best, train_until="2020-03-01").train_until == "2020-03-01"  # later: fine

    capsys.readouterr()
    assert main(["train", "--data", str(data_dir), "--config", str(best), "--train-until", "2020-02-01",
                 "--out", str(tmp_path / "refused"), "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and str(best) in error
    assert f"tuned on windows up to {UNTIL}, past this run's train_until 2020-02-01" in error
    assert not (tmp_path / "refused").exists()
