"""The Ray executor: the same units, the same seeds, the same artifacts as a local run."""
import builtins
import json

import numpy as np
import pytest
import torch

from seismag.errors import ConfigError
from seismag.training.executors import run_units_ray
from seismag.training.pipeline import run_experiment

from helpers import tiny_config, write_synthetic

MODELS = ["gru", "mlp"]
PREFIXES = {"gru": "GRUModel", "mlp": "MLPModel"}


def test_missing_ray_says_how_to_install(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(ConfigError, match=r"pip install 'seismag\[ray\]'"):
        run_units_ray(tiny_config(), tmp_path, tmp_path, [("gru", 4)])


def test_ray_run_equals_local_run(tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'seismag[ray]')")
    data_dir = write_synthetic(tmp_path / "data", days=(3, 4), n0=24, n1=16)
    config = tiny_config(models=MODELS, windows=[3, 4])
    local = run_experiment(config, data_dir, tmp_path / "local", progress=False)

    # A 2-CPU local instance started by the caller: the executor must use it and leave it running.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = run_experiment(config, data_dir, tmp_path / "ray", progress=False, executor="ray")
        assert ray.is_initialized()
    finally:
        ray.shutdown()

    assert sorted(remote) == sorted(local)
    for model in MODELS:
        for days in (3, 4):
            assert remote[model][days] == local[model][days]

    local_files = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*")
                         if p.is_file())
    ray_files = sorted(p.relative_to(tmp_path / "ray") for p in (tmp_path / "ray").rglob("*") if p.is_file())
    assert ray_files == local_files
    npy = [p for p in local_files if p.suffix == ".npy"]
    assert any(p.name.endswith("_test_probs.npy") for p in npy)
    for path in npy:
        assert np.array_equal(np.load(tmp_path / "ray" / path), np.load(tmp_path / "local" / path)), path
    for path in local_files:
        if path.suffix == ".json" and path.parent.name.endswith("_models"):  # summaries, metrics, ensembles
            ours = json.loads((tmp_path / "ray" / path).read_text())
            assert ours == json.loads((tmp_path / "local" / path).read_text()), path
        if path.suffix == ".pth":  # fold models and ensembles: identical weights
            # when each was saved (created_at, and the metadata digests that cover it) differs
            when = {"created_at", "metadata_sha256"}
            ours = {k: v for k, v in torch.load(tmp_path / "ray" / path, weights_only=True).items() if k not in when}
            theirs = {k: v for k, v in torch.load(tmp_path / "local" / path, weights_only=True).items()
                      if k not in when}
            _assert_same(ours, theirs, str(path))


def _assert_same(ours, theirs, where):
    if isinstance(theirs, torch.Tensor):
        assert torch.equal(ours, theirs), where
    elif isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs), where
        for key in theirs:
            _assert_same(ours[key], theirs[key], f"{where}[{key}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), where
        for index, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same(a, b, f"{where}[{index}]")
    else:
        assert ours == theirs, where


def test_unit_errors_come_back_as_themselves():
    from seismag.errors import DataError
    from seismag.training.executors import UnitFailure

    error = UnitFailure.from_exception(DataError("/data/window-7", "window directory not found")).rebuild()
    assert isinstance(error, DataError) and str(error) == "/data/window-7: window directory not found"
    error = UnitFailure.from_exception(ConfigError("bad batch size")).rebuild()
    assert type(error) is ConfigError and str(error) == "bad batch size"
