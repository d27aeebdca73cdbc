"""Tests for seismag.environment (SPEC Module 1)."""

from __future__ import annotations

import json
import os
import random

import numpy as np
import pytest
import torch

from seismag import environment, runtime
from seismag.environment import (
    check_environment,
    check_version_compatibility,
    environment_json,
    environment_report,
    format_environment_info,
    print_environment_info,
)
from seismag.runtime import clear_gpu_memory, get_device, get_memory_usage, set_random_seeds, suggest_batch_size
from seismag.errors import ConfigError

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the behaviour without CUDA")


@pytest.fixture
def restore_global_state():
    """set_random_seeds changes process-wide state; put it back for the other tests."""
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    deterministic = torch.are_deterministic_algorithms_enabled()
    cudnn = (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    saved_env = {key: os.environ.get(key) for key in ("PYTHONHASHSEED", "CUBLAS_WORKSPACE_CONFIG")}
    yield
    random.setstate(python_state)
    np.random.set_state(numpy_state)
    torch.set_rng_state(torch_state)
    if torch.are_deterministic_algorithms_enabled() != deterministic:
        torch.use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn
    for key, value in saved_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


# --------------------------------------------------------------------------- report


def test_check_environment_keys_and_types():
    env = check_environment()
    assert env["python_version"].count(".") == 2
    assert env["pytorch_version"] == torch.__version__
    assert env["numpy_version"] == np.__version__
    assert env["numpy_mode"] == ("numpy_2" if int(np.__version__.split(".")[0]) >= 2 else "numpy_1")
    assert isinstance(env["sklearn_version"], str)
    assert isinstance(env["cpu_count"], int) and env["cpu_count"] >= 1
    assert 1 <= env["cpu_count_usable"] <= env["cpu_count"]
    assert env["cuda_available"] is torch.cuda.is_available()
    assert env["gpu_count"] == len(env["gpus"])
    for gpu in env["gpus"]:
        assert set(gpu) == {"index", "name", "total_memory_gb", "compute_capability"}
        assert gpu["total_memory_gb"] > 0
    assert isinstance(env["cudnn_available"], bool)
    assert isinstance(env["mps_available"], bool)
    assert env["device"] == str(get_device("auto"))
    assert env["memory"]["total_gb"] > 0
    assert 0 <= env["memory"]["free_gb"] <= env["memory"]["total_gb"]
    assert set(env["bf16"]) == {"cuda", "mkldnn", "cpu_flags"}
    assert isinstance(env["bf16"]["cpu_flags"], list)


@no_cuda
def test_check_environment_without_cuda():
    env = check_environment()
    assert env["device"] == "cpu"
    assert env["gpu_count"] == 0
    assert env["cudnn_version"] is None
    with pytest.raises(ConfigError, match="CUDA is not available"):
        check_environment(device_preference="cuda")


def test_check_environment_device_preference():
    assert check_environment(device_preference="cpu")["device"] == "cpu"


def test_format_environment_info_block():
    env = check_environment()
    text = format_environment_info(env)
    lines = text.splitlines()
    assert lines[0] == "PyTorch Environment Information"
    assert lines[1] == lines[-1] == "=" * 40
    assert f"PyTorch:      {torch.__version__}" in text
    assert f"NumPy:        {np.__version__} (Mode: {env['numpy_mode']})" in text
    assert "scikit-learn:" in text
    assert f"CPUs:         {env['cpu_count']}" in text
    assert f"GPUs:         {env['gpu_count']}" in text
    assert lines[-2] == f"Using device: {env['device_description']}"


def test_format_environment_info_with_a_gpu():
    # A made-up report, so the GPU lines are tested on any machine.
    env = check_environment()
    env.update(
        cuda_available=True,
        cuda_version="12.1",
        gpu_count=1,
        gpus=[{"index": 0, "name": "NVIDIA GeForce RTX 4090", "total_memory_gb": 24.0, "compute_capability": "8.9"}],
        cudnn_available=True,
        cudnn_version=8902,
        device="cuda:0",
        device_description="cuda:0 (NVIDIA GeForce RTX 4090, 24.00 GB)",
    )
    text = format_environment_info(env)
    assert "CUDA:         12.1" in text
    assert "GPUs:         1" in text
    assert "[0] NVIDIA GeForce RTX 4090, 24.00 GB" in text
    assert "cuDNN:        8902" in text
    assert "Using device: cuda:0 (NVIDIA GeForce RTX 4090, 24.00 GB)" in text


def test_print_environment_info_prints_the_block(capsys):
    env = check_environment()
    print_environment_info(env)
    assert capsys.readouterr().out == format_environment_info(env) + "\n"


def test_environment_report_is_json_serialisable():
    report = environment_report()
    assert json.loads(json.dumps(report)) == report
    parsed = json.loads(environment_json())
    assert parsed["pytorch_version"] == torch.__version__
    assert parsed["version_compatibility"]["ok"] in (True, False)


# --------------------------------------------------------------------------- versions


def test_version_compatibility_reports_each_package():
    report = check_version_compatibility()
    packages = report["packages"]
    assert {"python", "torch", "numpy", "scikit-learn"} <= set(packages)
    for entry in packages.values():
        assert {"installed", "tested_range", "minimum", "status", "ok"} <= set(entry)
    assert packages["torch"]["installed"] == torch.__version__
    assert packages["torch"]["tested_range"] == "2.0.0 - 2.3.1"
    assert report["ok"] == all(entry["ok"] for entry in packages.values())
    assert set(report["optional"]) == {"psutil", "packaging"}


def test_newer_than_tested_is_ok_and_too_old_is_not():
    judge = environment._judge_version
    newer = judge("2.13.0+cpu", (2, 1), (2, 0, 0), (2, 3, 1))
    assert (newer["status"], newer["ok"]) == ("newer-than-tested", True)
    inside = judge("2.3.1", (2, 1), (2, 0, 0), (2, 3, 1))
    assert (inside["status"], inside["ok"]) == ("ok", True)
    old = judge("2.0.1", (2, 1), (2, 0, 0), (2, 3, 1))
    assert (old["status"], old["ok"]) == ("too-old", False)
    # A major.minor bound covers every patch release: 1.5.2 is within "1.0 - 1.5.x".
    assert judge("1.5.2", (1, 0), (1, 0), (1, 5))["status"] == "ok"
    assert judge("3.11.7", (3, 10), (3, 9), (3, 11))["status"] == "ok"
    missing = judge(None, (1, 0), (1, 0), (1, 5))
    assert (missing["status"], missing["ok"]) == ("missing", False)


def test_release_parsing():
    assert environment._release("2.13.0+cpu") == (2, 13, 0)
    assert environment._release("1.6rc1") == (1, 6)
    assert environment._release("2.4.6") == (2, 4, 6)
    assert environment._numpy_mode("1.26.4") == "numpy_1"
    assert environment._numpy_mode("2.0.0") == "numpy_2"


# --------------------------------------------------------------------------- seeds


def _draws() -> tuple:
    return random.random(), float(np.random.rand()), torch.rand(3).tolist(), torch.randn(2, 2).tolist()


def test_set_random_seeds_makes_draws_repeatable(restore_global_state):
    set_random_seeds(123)
    first = _draws()
    set_random_seeds(123)
    assert _draws() == first
    set_random_seeds(124)
    assert _draws() != first
    assert os.environ["PYTHONHASHSEED"] == "124"


def test_seeded_model_initialisation_is_repeatable(restore_global_state):
    set_random_seeds(7)
    first = torch.nn.GRU(4, 8).state_dict()
    set_random_seeds(7)
    second = torch.nn.GRU(4, 8).state_dict()
    assert all(torch.equal(first[name], second[name]) for name in first)


def test_strict_determinism_toggles_deterministic_algorithms(restore_global_state):
    os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
    set_random_seeds(42, strict_determinism=True)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.backends.cudnn.deterministic is True
    assert torch.backends.cudnn.benchmark is False
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    set_random_seeds(42)
    assert not torch.are_deterministic_algorithms_enabled()


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, "42", True])
def test_set_random_seeds_rejects_bad_seeds(seed, restore_global_state):
    with pytest.raises(ConfigError, match="seed"):
        set_random_seeds(seed)


# --------------------------------------------------------------------------- device


def test_get_device_cpu():
    assert get_device("cpu") == torch.device("cpu")
    assert get_device(torch.device("cpu")) == torch.device("cpu")
    assert get_device(" CPU ") == torch.device("cpu")


def test_get_device_auto_prefers_cuda_when_present():
    expected = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    assert get_device() == expected
    assert get_device("auto") == expected


@no_cuda
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:1"])
def test_get_device_cuda_without_cuda_is_a_config_error(name):
    with pytest.raises(ConfigError, match="CUDA is not available"):
        get_device(name)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_get_device_cuda_index_out_of_range():  # pragma: no cover - GPU machines only
    assert get_device("cuda") == torch.device("cuda", 0)
    with pytest.raises(ConfigError, match="CUDA device"):
        get_device(f"cuda:{torch.cuda.device_count()}")


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "meta", "banana"])
def test_get_device_unknown_names(name):
    with pytest.raises(ConfigError, match="device"):
        get_device(name)


def test_get_device_rejects_bad_memory_fraction():
    with pytest.raises(ConfigError, match="gpu_memory_fraction"):
        get_device("cpu", gpu_memory_fraction=1.5)
    with pytest.warns(UserWarning, match="no effect on the cpu"):
        assert get_device("cpu", gpu_memory_fraction=0.5) == torch.device("cpu")


# --------------------------------------------------------------------------- memory


def test_get_memory_usage_cpu_is_positive():
    stats = get_memory_usage("cpu")
    assert stats["device"] == "cpu"
    assert stats["total_gb"] > 0
    assert 0 < stats["free_gb"] <= stats["total_gb"]
    assert stats["used_gb"] == pytest.approx(stats["total_gb"] - stats["free_gb"])
    assert json.loads(json.dumps(stats)) == stats


def test_get_memory_usage_default_device_and_torch_device():
    stats = get_memory_usage()
    assert stats["device"] == str(get_device("auto"))
    assert get_memory_usage(torch.device("cpu"))["total_gb"] > 0


def test_memory_fallbacks_agree_roughly_with_meminfo():
    meminfo = runtime._meminfo()
    sysconf = runtime._sysconf_memory()
    if meminfo is None or sysconf is None:
        pytest.skip("needs /proc/meminfo and os.sysconf")
    assert sysconf[0] == pytest.approx(meminfo[0], rel=0.05)


def test_suggest_batch_size_is_a_power_of_two_within_bounds():
    batch = suggest_batch_size(4 * 10_080 * 8, "cpu", maximum=512)
    assert 1 <= batch <= 512 and batch & (batch - 1) == 0
    # A sample larger than all memory still gets the minimum.
    assert suggest_batch_size(2**60, "cpu", minimum=2) == 2
    with pytest.raises(ConfigError):
        suggest_batch_size(0, "cpu")


def test_clear_gpu_memory_collects_garbage_and_empties_the_cuda_cache(monkeypatch):
    import gc
    import weakref

    import torch

    class Node:
        pass

    node = Node()
    node.self = node  # a reference cycle: only the cyclic collector frees it
    alive = weakref.ref(node)
    del node
    gc.disable()  # no automatic collection may do the function's work
    try:
        emptied = []
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
        clear_gpu_memory()
    finally:
        gc.enable()
    assert alive() is None
    assert emptied == [True]
