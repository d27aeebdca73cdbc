"""A results folder is written by one run: locked while written, validated before any
metadata is replaced, and resumed only by the run that made it."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import SPD, tiny_config, write_synthetic

from seismag.cli import main
from seismag.errors import ConfigError, DataError, SeismagError
from seismag.lock import LOCK_FILE
from seismag.training.pipeline import run_experiment


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A finished 2-fold MLP run on a 4-day window."""
    root = tmp_path_factory.mktemp("guard")
    data_dir = write_synthetic(root / "data", days=(4,), n0=24, n1=16)
    out = root / "results"
    run_experiment(tiny_config(models=("mlp",)), data_dir, out, progress=False)
    return data_dir, out


@pytest.fixture
def copy(made, tmp_path):
    data_dir, out = made
    shutil.copytree(out, tmp_path / "results")
    return data_dir, tmp_path / "results"


def snapshot(out):
    return {path.relative_to(out): path.read_bytes() for path in sorted(out.rglob("*")) if path.is_file()}


def test_a_refused_run_leaves_the_metadata_untouched(copy):
    data_dir, out = copy
    before = snapshot(out)
    # the refusal names the class file it counted (issue 27)
    with pytest.raises(DataError, match=r"window-4/data_0\.npy: 24 class-0 rows to train on; 100 folds need at least 100 of each class"):
        run_experiment(tiny_config(models=("mlp",), num_folds=100), data_dir, out, progress=False)
    assert snapshot(out) == before
    assert not (out / LOCK_FILE).exists()


def test_a_refused_group_split_leaves_the_metadata_untouched(copy):
    data_dir, out = copy
    before = snapshot(out)
    with pytest.raises(SeismagError, match="no_such_column"):
        run_experiment(tiny_config(models=("mlp",), split="group", group_by="no_such_column"), data_dir, out,
                       progress=False)
    assert snapshot(out) == before


def test_a_second_writer_exits_2_naming_the_holder(copy, capsys):
    data_dir, out = copy
    before = snapshot(out)
    hold = ("import sys, time\nfrom seismag.lock import folder_lock\n"
            "with folder_lock(sys.argv[1], command='train'):\n    print('held', flush=True)\n    time.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    holder = subprocess.Popen([sys.executable, "-c", hold, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "held"
        code = main(["train", "--data", str(data_dir), "--out", str(out), "--windows", "4", "--steps-per-day",
                     str(SPD), "--models", "mlp", "--epochs", "1", "--folds", "2", "--seed", "7", "--quiet"])
        assert code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("seismag train: error:") and f"pid {holder.pid}" in err[-1]
        assert "started 20" in err[-1]
    finally:
        holder.kill()
        holder.wait()
    after = snapshot(out)
    assert after.pop(Path(LOCK_FILE))  # the killed holder's lock: stale now, taken over by the next run
    assert after == before


def resume(data_dir, out, **settings):
    return run_experiment(tiny_config(models=("mlp",), **settings), data_dir, out, resume=True, progress=False)


@pytest.mark.parametrize("settings, words", [
    ({"num_folds": 3}, "num_folds is 3 here, 2 in"),
    ({"epochs": 3}, "epochs is 3 here, 2 in"),
    ({"seed": 7}, "seed is 7 here, 42 in"),
    ({"split": "group"}, 'split is "group" here, "stratified" in'),
    ({"model_overrides": {"mlp": {"hidden_sizes": [8]}}}, "mlp's hidden_sizes on the 4-day window is"),
])
def test_resume_refuses_a_different_run_naming_the_setting(copy, settings, words):
    data_dir, out = copy
    before = snapshot(out)
    with pytest.raises(ConfigError, match="--resume with a different run: " + words.replace("(", r"\(")) as caught:
        resume(data_dir, out, **settings)
    assert str(out / "run_config.json") in str(caught.value)
    assert snapshot(out) == before


def test_resume_refuses_changed_data(copy, tmp_path):
    data_dir, out = copy
    changed = shutil.copytree(data_dir, tmp_path / "changed")
    rows = np.load(changed / "window-4" / "data_0.npy")
    rows[0, 0] += 1.0
    np.save(changed / "window-4" / "data_0.npy", rows)
    before = snapshot(out)
    with pytest.raises(ConfigError, match=r"the 4-day window's data \(sha256\)"):
        resume(changed, out)
    assert snapshot(out) == before


def test_resume_with_the_same_run_reuses_every_fold(copy):
    data_dir, out = copy
    before = snapshot(out)
    results = resume(data_dir, out, num_threads=1)  # a speed setting may change
    after = snapshot(out)
    assert set(after) == set(before)
    changed = {str(path) for path in after if after[path] != before[path]}
    # the folds are reused byte for byte (the record and the ensemble are written again)
    assert not any("_fold_" in path for path in changed)
    assert results["mlp"][4]["num_folds"] == 2
    assert not (out / LOCK_FILE).exists()


def test_resume_may_add_a_model(copy):
    data_dir, out = copy
    before = snapshot(out)
    run_experiment(tiny_config(models=("mlp", "gru")), data_dir, out, resume=True, progress=False)
    after = snapshot(out)
    assert all(after[path] == before[path] for path in before if "_fold_" in str(path))
    record = json.loads((out / "run_config.json").read_text())
    assert set(record["resolved_models"]) == {"mlp", "gru"}


def test_an_inner_split_short_of_a_class_names_the_class_file_and_writes_nothing(tmp_path):
    data_dir = write_synthetic(tmp_path / "data", n0=30, n1=4)  # 2 class-1 rows per fold's training part
    out = tmp_path / "results"
    with pytest.raises(DataError, match=r"window-4/data_1\.npy: fold 1 of 2: too few training samples of one "
                                        r"class for an inner selection split"):
        run_experiment(tiny_config(models=("mlp",), selection="inner"), data_dir, out, progress=False)
    assert not out.exists()
