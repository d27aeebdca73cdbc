"""Hyperparameter search: pruning, the written config, shared studies, and which rows it sees."""
import builtins
import csv
import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

from seismag.config import make_config, read_config_file, tiny_models
from seismag.dataset.loading import load_window
from seismag.errors import ConfigError
from seismag.training.prepared import PreparedWindow
from seismag.training.splits import make_splits, split_groups
from seismag.training.pipeline import run_experiment

from helpers import write_synthetic

SPD = 48  # steps per day: small, so the networks train in a fraction of a second
DAYS = 4
TINY = dict(steps_per_day=SPD, epochs=4, num_folds=3, batch_size=16,
            model_overrides=tiny_models())
# The tiny networks of TINY; the search varies the optimisation, not the width.
NO_WIDTH = {"hidden_sizes": None, "batch_size": None}
GOOD = {"learning_rate": 3e-3, "weight_decay": 1e-3, "class_weight_method": "sqrt",
        "balanced_sampling": False, "dropout_prob": 0.2}


def write_data(root, n0=120, n1=80, seed=0):
    """A seed-layout 4-day window with meta.csv from the synthetic generator."""
    return write_synthetic(root, days=(DAYS,), n0=n0, n1=n1, seed=seed, spd=SPD)


@pytest.fixture(autouse=True)
def one_thread(tmp_path, monkeypatch):
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logs"))
    previous = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models are slower with threads fighting over two cores
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return write_data(tmp_path_factory.mktemp("tune") / "data")


def read_trials(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


# --------------------------------------------------------------------------- without optuna
def test_missing_optuna_says_how_to_install(monkeypatch, data_dir, tmp_path):
    from seismag import tune

    real_import = builtins.__import__

    def no_optuna(name, *args, **kwargs):
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError("No module named 'optuna'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_optuna)
    with pytest.raises(ConfigError, match=r"pip install 'seismag\[tune\]'"):
        tune.run_study(data_dir, "gru", DAYS, trials=1, out_dir=tmp_path, **TINY)


# --------------------------------------------------------------------------- search space and helpers
def test_search_space_follows_each_models_config():
    from seismag.tune import choice, search_space

    gru = search_space("gru")
    assert {"learning_rate", "weight_decay", "batch_size", "class_weight_method", "balanced_sampling",
            "hidden_sizes", "dropout_prob"} == set(gru)
    transformer = search_space("transformer")
    assert {"d_model", "nhead", "num_encoder_layers", "dropout_prob"} <= set(transformer)
    assert "hidden_sizes" not in transformer
    assert "d_model" not in search_space("mlp")
    with pytest.raises(ConfigError, match="cannot be tuned"):
        search_space("gru", {"d_model": choice(64)})
    with pytest.raises(ConfigError, match="'train_until' cannot be tuned"):  # the cutoff is data, not a knob
        search_space("gru", {"train_until": choice("2020-01-01", "2021-01-01")})
    with pytest.raises(ConfigError, match="divisible"):
        search_space("transformer", {"d_model": choice(36, 64), "nhead": choice(2, 4, 8)})


def test_durations_and_urls():
    from seismag.tune import parse_duration, redact_url

    assert parse_duration("2h") == 7200 and parse_duration("30m") == 1800 and parse_duration("90") == 90
    assert parse_duration(None) is None
    with pytest.raises(ConfigError):
        parse_duration("two hours")
    assert redact_url("postgresql://ann:secret@db:5432/optuna") == "postgresql://ann:***@db:5432/optuna"
    assert redact_url("sqlite:////tmp/tune.db") == "sqlite:////tmp/tune.db"


def test_import_needs_no_optuna():
    code = ("import sys; sys.modules['optuna'] = None; import seismag.tune; "
            "from seismag.tune import StudySpec, run_study, tuned_config, format_tune_result, parse_duration")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}  # this checkout's seismag
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_study_spec_resolves_and_checks_the_options_once(monkeypatch, data_dir, tmp_path):
    from seismag.tune import StudySpec, run_study

    real_import = builtins.__import__

    def no_optuna(name, *args, **kwargs):  # a spec is made without Optuna
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError("No module named 'optuna'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_optuna)
    spec = StudySpec.build(data_dir, "mlp", DAYS, trials=3, out_dir=tmp_path / "t", space=NO_WIDTH, **TINY)
    assert spec.storage == f"sqlite:///{(tmp_path / 't' / 'tune.db').resolve()}"
    assert spec.study_name == f"seismag-mlp-{DAYS}d" and spec.preset == "paper" and spec.inner_fraction == 0.2
    assert spec.config.models == ("mlp",) and spec.config.epochs == 4 and spec.trials == 3
    assert list(spec.space) == ["learning_rate", "weight_decay", "class_weight_method", "balanced_sampling",
                                "dropout_prob"]
    with pytest.raises(TypeError):
        spec.space["epochs"] = None  # read-only, like the rest of the spec
    for bad, message in [({"protocol": "loo"}, "unknown tuning protocol"), ({"trials": 0}, "at least 1"),
                         ({"timeout": 0}, "positive seconds"), ({"inner_fraction": 0.9}, "inner_fraction"),
                         ({"learning_rate_typo": 1}, "unknown configuration key")]:
        with pytest.raises(ConfigError, match=message):
            StudySpec.build(data_dir, "mlp", DAYS, out_dir=tmp_path / "t", **{**TINY, **bad})
    with pytest.raises(TypeError, match="no other arguments"):
        run_study(spec, trials=5)


def test_study_cuts_the_window_at_train_until(data_dir, tmp_path):
    pytest.importorskip("optuna", reason="Optuna is not installed (pip install 'seismag[tune]')")
    from seismag.errors import DataError
    from seismag.tune import StudySpec, run_study

    spec = StudySpec.build(data_dir, "mlp", DAYS, trials=1, out_dir=tmp_path / "t", train_until="2020-01-01", **TINY)
    assert spec.config.train_until == "2020-01-01"
    # these windows carry no label horizons: a cutoff that cannot be applied is an error, never ignored
    with pytest.raises(DataError, match="no column 'label_horizon_end'"):
        run_study(spec)
    assert not (tmp_path / "t" / "best_config.toml").exists()


# --------------------------------------------------------------------------- a tiny study
def test_study_prunes_planted_bad_region_and_writes_a_config_that_trains(data_dir, tmp_path):
    pytest.importorskip("optuna", reason="Optuna is not installed (pip install 'seismag[tune]')")
    from seismag.tune import log_uniform, run_study, tuned_config

    out = tmp_path / "tuning"
    # The space reaches down to lr = 1e-9, where the MLP cannot learn (it stays at chance).
    # Trials 0 and 1 (the untuned baseline and a good set) complete; trial 2 sits in
    # the bad region and must be pruned on its per-epoch inner F1.
    result = run_study(data_dir, "mlp", DAYS, trials=4, out_dir=out, seed=3,
                       space={**NO_WIDTH, "learning_rate": log_uniform(1e-9, 3e-3)},
                       enqueue=[GOOD, {**GOOD, "learning_rate": 1e-9}],
                       n_startup_trials=2, prune_startup_trials=2, prune_warmup_epochs=3, **TINY)

    rows = read_trials(out / "trials.csv")
    assert [int(r["number"]) for r in rows] == [0, 1, 2, 3]
    assert [r["state"] for r in rows[:2]] == ["COMPLETE", "COMPLETE"]
    assert float(rows[2]["param_learning_rate"]) == pytest.approx(1e-9)
    assert rows[2]["state"] == "PRUNED" and rows[2]["attr_pruned_at_epoch"] == "3"
    assert sum(r["state"] in ("COMPLETE", "PRUNED") for r in rows) == 4
    study = result.studies[0]
    assert study.n_pruned >= 1 and study.n_complete + study.n_pruned == 4
    assert study.best_value == max(float(r["value"]) for r in rows if r["state"] == "COMPLETE")
    assert result.best_params["learning_rate"] > 1e-5

    # The config is the base configuration plus the best parameters, and `train --config` accepts it.
    config = make_config("paper", result.config_path)
    assert config.learning_rate == pytest.approx(result.best_params["learning_rate"])
    assert config.class_weight_method == result.best_params["class_weight_method"]
    assert config.models == ("mlp",) and config.windows == (DAYS,) and config.seed == 3
    assert config.num_folds == 3 and config.epochs == 4 and config.steps_per_day == SPD
    assert config.overrides_for("mlp")["hidden_sizes"] == [16, 8]
    assert config.overrides_for("mlp")["dropout_prob"] == pytest.approx(result.best_params["dropout_prob"])
    # Tuned on every window: the file says so, and a run with a cutoff is refused, naming the file.
    assert read_config_file(result.config_path)["tuned"] == {"train_until": ""}
    with pytest.raises(ConfigError, match=r"best_config.toml: tuned on every window \(no train_until\), "
                                          r"past this run's train_until 2020-06-01"):
        make_config("paper", result.config_path, train_until="2020-06-01")

    summary = json.loads((out / "tune_summary.json").read_text())
    assert summary["protocol"]["protocol"] == "fold" and summary["protocol"]["clean_folds"] == [1]
    assert "never seen" in summary["protocol"]["note"]
    assert summary["best_params"]["learning_rate"] == pytest.approx(result.best_params["learning_rate"])
    assert summary["studies"][0]["n_pruned"] == study.n_pruned

    trained = run_experiment(config, data_dir, tmp_path / "results", progress=False)
    assert trained["mlp"][DAYS]["num_folds"] == 3
    assert (tmp_path / "results" / "mlp_models" / f"MLPModel_{DAYS}day_summary.json").exists()

    # Calling again with the same storage continues the study: it has its 4 trials, none run.
    # tuned_config (for main_gru(optimize=True)) returns the configuration to train with.
    again = tuned_config(data_dir, "mlp", DAYS, trials=4, out_dir=out, seed=3,
                         space={**NO_WIDTH, "learning_rate": log_uniform(1e-9, 3e-3)},
                         enqueue=[GOOD, {**GOOD, "learning_rate": 1e-9}],
                         n_startup_trials=2, prune_startup_trials=2, prune_warmup_epochs=3, **TINY)
    assert len(read_trials(out / "trials.csv")) == 4 and again == config
    # ... and the same study with another setup is refused.
    with pytest.raises(ConfigError, match="another setup"):
        run_study(data_dir, "mlp", DAYS, trials=4, out_dir=out, seed=4, **TINY)


# --------------------------------------------------------------------------- honest rows
def test_inner_split_lies_inside_outer_training_rows(data_dir):
    from seismag.tune import tuning_split

    for split in ("stratified", "group"):
        config = make_config("paper", **TINY, split=split)
        data = load_window(data_dir, DAYS, SPD)
        outer = make_splits(config, data)
        groups = split_groups(config, data)
        for fold, (train_rows, val_rows) in enumerate(outer, start=1):
            rows = tuning_split(PreparedWindow.from_data(config, data), fold)
            assert np.array_equal(rows.held_out_rows, val_rows)
            seen = np.concatenate([rows.fit_rows, rows.val_rows])
            assert len(np.intersect1d(rows.fit_rows, rows.val_rows)) == 0
            assert len(np.intersect1d(seen, val_rows)) == 0  # the scored fold stays unseen
            assert np.array_equal(np.sort(seen), train_rows)  # the inner split is a partition of them
            assert set(data.labels[rows.val_rows]) == {0, 1}
            if groups is not None:
                assert not set(groups[rows.fit_rows]) & set(groups[rows.val_rows])
                assert not set(groups[seen]) & set(groups[val_rows])


def test_no_trial_reads_the_scored_fold(data_dir, tmp_path, monkeypatch):
    """Instrument the trainer: every row any trial trains or scores on lies outside the held-out fold."""
    pytest.importorskip("optuna", reason="Optuna is not installed (pip install 'seismag[tune]')")
    from seismag.tune import study as tune  # the module that calls train_fold

    calls = []
    real_train_fold = tune.train_fold

    def recording_train_fold(model, model_config, data, rows, config, **kwargs):
        calls.append((np.array(rows.train), np.array(rows.val)))
        return real_train_fold(model, model_config, data, rows, config, **kwargs)

    monkeypatch.setattr(tune, "train_fold", recording_train_fold)
    config = make_config("paper", **{**TINY, "epochs": 2}, split="group")
    data = load_window(data_dir, DAYS, SPD)
    outer = make_splits(config, data)

    result = tune.run_study(data_dir, "mlp", DAYS, trials=2, out_dir=tmp_path / "fold2", outer_fold=2,
                            split="group", space=NO_WIDTH, **{**TINY, "epochs": 2})
    assert result.clean_folds == [2] and len(calls) == 2
    held_out = outer[1][1]
    for train_rows, val_rows in calls:
        assert len(np.intersect1d(np.concatenate([train_rows, val_rows]), held_out)) == 0
    saved = np.load(tmp_path / "fold2" / "tuning_rows.npz")
    assert np.array_equal(saved["held_out_rows"], held_out)
    assert np.array_equal(saved["fit_rows"], calls[0][0]) and np.array_equal(saved["val_rows"], calls[0][1])

    # Nested: fold k's search never reads fold k's validation rows; then fold k is trained on
    # all its training rows with its own best parameters and scored on its validation rows.
    calls.clear()
    nested = tune.run_study(data_dir, "mlp", DAYS, trials=2, out_dir=tmp_path / "nested", protocol="nested",
                            split="group", space=NO_WIDTH, **{**TINY, "epochs": 2})
    assert nested.protocol == "nested" and nested.clean_folds == [1, 2, 3] and nested.config_path is None
    assert len(calls) == 3 * (2 + 1)
    for fold, (train_rows, val_rows) in enumerate(outer, start=1):
        searched = calls[(fold - 1) * 3:(fold - 1) * 3 + 2]
        for fit, scored in searched:
            assert len(np.intersect1d(np.concatenate([fit, scored]), val_rows)) == 0
        assert np.array_equal(calls[fold * 3 - 1][0], train_rows)
        assert np.array_equal(calls[fold * 3 - 1][1], val_rows)
        assert (tmp_path / "nested" / f"fold_{fold}" / "best_config.toml").exists()
    summary = json.loads((tmp_path / "nested" / "tune_summary.json").read_text())
    assert [f["fold"] for f in summary["nested"]["folds"]] == [1, 2, 3]
    assert 0 <= summary["nested"]["mean"]["f1"] <= 1
    assert "nested" in summary["protocol"]["note"]


# --------------------------------------------------------------------------- two workers, one study
WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import torch
    torch.set_num_threads(1)
    from seismag.tune import run_study
    data_dir, out_dir, storage, name, go = sys.argv[1:6]
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "ready").touch()
    while not Path(go).exists():  # start together, so the two really compete for trials
        time.sleep(0.05)
    run_study(data_dir, "mlp", 4, trials=8, storage=storage, study_name="shared", out_dir=out_dir,
              baseline=False, space={"hidden_sizes": None, "batch_size": None}, steps_per_day=48, epochs=2,
              num_folds=3, batch_size=16, model_overrides={"*": {"hidden_sizes": [16, 8]}})
""")


def test_two_workers_share_one_sqlite_study(data_dir, tmp_path):
    optuna = pytest.importorskip("optuna", reason="Optuna is not installed (pip install 'seismag[tune]')")
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    go = tmp_path / "go"
    env = {**os.environ, "LOG_DIR": str(tmp_path / "logs"), "OMP_NUM_THREADS": "1"}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(data_dir), str(tmp_path / f"w{i}"), storage,
                                 "shared", str(go)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
               for i in (1, 2)]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"w{i}" / "ready").exists() for i in (1, 2)):
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers), \
            [w.communicate()[0].decode() for w in workers if w.poll() is not None]
        time.sleep(0.05)
    go.touch()
    for worker in workers:
        output, _ = worker.communicate(timeout=240)
        assert worker.returncode == 0, output.decode()

    study = optuna.load_study(study_name="shared", storage=storage)
    states = optuna.trial.TrialState
    done = [t for t in study.trials if t.state in (states.COMPLETE, states.PRUNED)]
    assert len(done) == 8  # exactly the requested number between them
    assert len({t.number for t in done}) == 8
    assert all(t.state in (states.COMPLETE, states.PRUNED, states.FAIL) for t in study.trials)
    assert all("skipped" in t.user_attrs for t in study.trials if t.state == states.FAIL)
    assert len({t.user_attrs["worker"] for t in done}) == 2  # both processes ran trials
    # No two trials tried the same parameters (the sampler is seeded per trial number, not per process).
    assert len({tuple(sorted(t.params.items())) for t in done}) == 8
    # Each worker wrote the study's table; the one that finished last saw all 8.
    tables = [read_trials(tmp_path / f"w{i}" / "trials.csv") for i in (1, 2)]
    assert max(sum(r["state"] in ("COMPLETE", "PRUNED") for r in table) for table in tables) == 8


def test_study_applies_the_process_settings_before_training(data_dir, tmp_path, monkeypatch):
    pytest.importorskip("optuna", reason="Optuna is not installed (pip install 'seismag[tune]')")
    from seismag.tune import study as tune  # the module that calls train_fold

    class Applied(Exception):
        pass

    def configure(config, device):
        assert config.num_threads == 1 and not config.keep_freed_memory and device.type == "cpu"
        raise Applied

    from seismag import runtime

    monkeypatch.setattr(runtime, "configure_process", configure)
    monkeypatch.setattr(tune, "train_fold", lambda *a, **k: pytest.fail("trained before the settings"))
    with pytest.raises(Applied):
        tune.run_study(data_dir, "mlp", DAYS, trials=1, out_dir=tmp_path / "t", space=NO_WIDTH, device="cpu",
                       num_threads=1, keep_freed_memory=False, **TINY)
