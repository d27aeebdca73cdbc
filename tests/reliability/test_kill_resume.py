"""A run killed (SIGKILL) at several points and resumed gives the numbers of a run never killed."""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import SPD, write_synthetic

DAYS = 4
SRC = str(Path(__file__).resolve().parents[2] / "src")
COMPARED = ("*_models/*_fold_*_metrics.json", "*_models/*_fold_*_test_probs.npy",
            "*_models/*_fold_*_train_probs.npy", "*_models/*_fold_*_test_indices.npy",
            "*_models/*_fold_*_logs.txt")


def command(data: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "seismag.cli", "train", "--data", str(data), "--out", str(out),
            "--models", "gru,mlp", "--windows", str(DAYS), "--steps-per-day", str(SPD), "--epochs", "4",
            "--folds", "3", "--batch-size", "8", "--hidden-sizes", "8,4", "--threads", "1", "--quiet", *extra]


def environment(tmp: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC, "LOG_DIR": str(tmp / "logs"), "OMP_NUM_THREADS": "1"}


def fingerprint(out: Path) -> dict[str, str]:
    files = sorted({p for pattern in COMPARED for p in out.glob(pattern)})
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def kill_when(trigger: Path, args: list[str], env: dict[str, str], timeout: float = 120.0) -> bool:
    """Start ``args``; SIGKILL it as soon as ``trigger`` exists. True when it was killed mid-run."""
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if trigger.exists():
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            if process.poll() is not None:
                return False
            time.sleep(0.005)
        raise AssertionError(f"{trigger.name} never appeared")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_killed_runs_resume_to_the_numbers_of_an_uninterrupted_one(tmp_path):
    data = write_synthetic(tmp_path / "data", days=(DAYS,), n0=30, n1=20)
    env = environment(tmp_path)
    subprocess.run(command(data, tmp_path / "reference"), env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    reference = fingerprint(tmp_path / "reference")
    assert len(reference) == 2 * 3 * len(COMPARED)
    gru, mlp = f"gru_models/GRUModel_{DAYS}day", f"mlp_models/MLPModel_{DAYS}day"
    # Killed: as a fold's arrays are written (its checkpoint not yet), after a fold, after a
    # whole model, and inside the second model.
    points = {"fold arrays": f"{gru}_fold_1_test_probs.npy", "first fold": f"{gru}_fold_1.pth",
              "first model": f"{gru}_summary.json", "second model": f"{mlp}_fold_2_metrics.json"}
    killed = 0
    for name, trigger in points.items():
        out = tmp_path / name.replace(" ", "_")
        killed += kill_when(out / trigger, command(data, out), env)
        # The dead run's lock is stale: resume takes it over and finishes the run.
        done = subprocess.run(command(data, out, "--resume"), env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
        assert fingerprint(out) == reference, name
        assert not (out / ".seismag.lock").exists()
    assert killed >= 3  # most points were really reached mid-run
