"""Folds in worker processes (fold_workers > 1) give the numbers of folds run here."""
import dataclasses
import json

import numpy as np
import pytest
import torch

from seismag.errors import ConfigError, SeismagError
from seismag.training.artifacts import ArtifactPaths
from seismag.training.tensors import WindowTensors
from seismag.training.parallel import FoldRunner, worker_threads
from seismag.training.pipeline import run_experiment

from helpers import tiny_config, write_synthetic


def _fold_outputs(root, model, display, folds):
    paths = ArtifactPaths(root, model, display, 4)
    probs = [np.load(paths.fold_file(fold, "test_probs")) for fold in range(1, folds + 1)]
    return probs, json.loads(paths.summary.read_text())


def test_fold_workers_equal_folds_trained_here(tmp_path):
    data_dir = write_synthetic(tmp_path / "data", n0=24, n1=16)
    config = tiny_config(models=["gru"], num_folds=3, num_threads=1, permutation_control=2)
    here = run_experiment(config, data_dir, tmp_path / "here", progress=False)["gru"][4]
    workers = run_experiment(dataclasses.replace(config, fold_workers=2), data_dir, tmp_path / "workers",
                             progress=False)["gru"][4]
    probs_here, summary_here = _fold_outputs(tmp_path / "here", "gru", "GRU", 3)
    probs_workers, summary_workers = _fold_outputs(tmp_path / "workers", "gru", "GRU", 3)
    for a, b in zip(probs_here, probs_workers):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert workers["val_f1s"] == pytest.approx(here["val_f1s"], abs=1e-9)
    # the permutation control's folds ran in the workers too, with the same permuted labels
    for metric in ("f1", "roc_auc"):
        null_workers = summary_workers["permutation"]["metrics"][metric]["null"]
        assert null_workers == pytest.approx(summary_here["permutation"]["metrics"][metric]["null"], abs=1e-6)
    # every file a fold writes is there, and the ensemble loads
    paths = ArtifactPaths(tmp_path / "workers", "gru", "GRU", 4)
    assert all(paths.fold_complete(fold) for fold in (1, 2, 3))
    assert paths.ensemble.is_file()


def test_runner_yields_every_task_once_and_cleans_up(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    tensors = WindowTensors(torch.arange(24, dtype=torch.float32).reshape(6, 4), torch.zeros(6, dtype=torch.long),
                            2, 2)
    config = tiny_config(fold_workers=2, num_threads=1)
    with FoldRunner(tensors, config, torch.device("cpu")) as runner:
        results = dict(runner.run(row_sum, [{"row": r} for r in range(6)]))
        assert list(tmp_path.glob("seismag-folds-*/features.npy"))  # one shared copy of the data
    assert results == {r: float(tensors.features[r].sum()) for r in range(6)}
    assert not list(tmp_path.glob("seismag-folds-*"))  # removed when the runner closes


def test_worker_errors_reach_the_caller():
    tensors = WindowTensors(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), 1, 2)
    with FoldRunner(tensors, tiny_config(fold_workers=2, num_threads=1), torch.device("cpu")) as runner:
        with pytest.raises(ConfigError, match="row 3 refused"):
            list(runner.run(refuse_row, [{"row": r} for r in range(4)]))


def test_fold_workers_settings():
    with pytest.raises(ConfigError, match="fold_workers must be at least 1"):
        tiny_config(fold_workers=0)
    assert worker_threads(tiny_config(num_threads=3), 2) == 3
    assert worker_threads(tiny_config(num_threads=0), 64) == 1
    tensors = WindowTensors(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), 1, 2)
    with pytest.raises(ConfigError, match="CPU processes"):
        FoldRunner(tensors, tiny_config(fold_workers=2), torch.device("meta"))


def row_sum(tensors, row):
    return float(tensors.features[row].sum())


def refuse_row(tensors, row):
    if row == 3:
        raise ConfigError("row 3 refused")
    return row


def test_cli_fold_workers_and_threads(tmp_path, capsys):
    from seismag.cli import main
    from helpers import SPD

    data_dir = write_synthetic(tmp_path / "data", n0=12, n1=10)
    args = ["train", "--data", str(data_dir), "--models", "mlp", "--windows", "4", "--epochs", "1",
            "--folds", "2", "--steps-per-day", str(SPD), "--hidden-sizes", "8,4", "--quiet"]
    assert main(args + ["--out", str(tmp_path / "out"), "--fold-workers", "2", "--threads", "1"]) == 0
    saved = json.loads((tmp_path / "out" / "run_config.json").read_text())
    assert saved["fold_workers"] == 2 and saved["num_threads"] == 1
    assert ArtifactPaths(tmp_path / "out", "mlp", "MLP", 4).summary.is_file()
    capsys.readouterr()
    assert main(args + ["--out", str(tmp_path / "bad"), "--fold-workers", "0"]) == 2
    assert "fold_workers must be at least 1" in capsys.readouterr().err


def test_a_dead_worker_or_no_room_for_the_data_is_one_clear_error(monkeypatch):
    tensors = WindowTensors(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), 1, 2)
    config = tiny_config(fold_workers=2, num_threads=1)
    with FoldRunner(tensors, config, torch.device("cpu")) as runner:
        with pytest.raises(SeismagError, match="fold worker process died.*--resume"):
            list(runner.run(die, [{"row": r} for r in range(4)]))

    def no_room(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "save", no_room)
    with FoldRunner(tensors, config, torch.device("cpu")) as runner:
        with pytest.raises(SeismagError, match="No space left on device.*TMPDIR"):
            list(runner.run(row_sum, [{"row": r} for r in range(4)]))


def die(tensors, row):
    import os

    os._exit(3)


def test_resuming_one_fold_with_workers_equals_the_uninterrupted_run(tmp_path):
    data_dir = write_synthetic(tmp_path / "data", n0=20, n1=14)
    # num_threads 0: the workers' thread count is derived (CPUs / workers), unlike this process's
    config = tiny_config(models=["gru"], num_folds=3, fold_workers=2, num_threads=0)
    full = run_experiment(config, data_dir, tmp_path / "run", progress=False)["gru"][4]
    paths = ArtifactPaths(tmp_path / "run", "gru", "GRU", 4)
    kept = np.load(paths.fold_file(3, "test_probs"))
    for path in [*paths.fold_files(3), paths.summary, paths.ensemble]:
        path.unlink()
    resumed = run_experiment(config, data_dir, tmp_path / "run", resume=True, progress=False)["gru"][4]
    np.testing.assert_array_equal(np.load(paths.fold_file(3, "test_probs")), kept)
    assert resumed["val_f1s"] == full["val_f1s"]


def test_with_workers_even_a_single_task_runs_in_a_worker():
    import os

    tensors = WindowTensors(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), 1, 2)
    with FoldRunner(tensors, tiny_config(fold_workers=2, num_threads=1), torch.device("cpu")) as runner:
        [(index, pid)] = list(runner.run(process_id, [{}]))
    assert index == 0 and pid != os.getpid()


def process_id(tensors):
    import os

    return os.getpid()
