"""``seismag predict``: bad input files and damaged ensembles are one line and exit 2."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from seismag.cli import main
from seismag.errors import ConfigError, DataError
from seismag.inference import predict_file
from seismag.models import F1WeightedEnsemble, create_model
from seismag.training.tensors import Scaler

WINDOW_DAYS, STEPS_PER_DAY = 3, 32
N_FEATURES = WINDOW_DAYS * STEPS_PER_DAY


@pytest.fixture
def ensemble_path(tmp_path):
    """A two-member MLP ensemble laid out as ``seismag train`` writes it (per-fold scalers in ``extra``)."""
    members = []
    for seed in range(2):
        torch.manual_seed(seed)
        members.append(create_model("mlp", WINDOW_DAYS, STEPS_PER_DAY, hidden_sizes=[16, 8]))
    scaler = Scaler("standard", torch.full((N_FEATURES,), 2.0), torch.full((N_FEATURES,), 3.0))
    return F1WeightedEnsemble(members, [0.8, 0.6]).save(tmp_path / "MLPModel_3day_ensemble.pth", extra={
        "scalers": [scaler.to_dict(), scaler.to_dict()], "window_days": WINDOW_DAYS,
        "steps_per_day": STEPS_PER_DAY, "model": "mlp"})


def _windows(n_rows: int, labels=None, seed: int = 0) -> np.ndarray:
    features = np.random.default_rng(seed).normal(2.0, 3.0, size=(n_rows, N_FEATURES))
    return features if labels is None else np.column_stack([features, np.asarray(labels, dtype=float)])


def _predict_fails(tmp_path, capsys, ensemble, array: np.ndarray, *expected: str) -> str:
    """Run the CLI on ``array`` saved as a .npy: exit 2 and one stderr line naming the file."""
    source = tmp_path / "windows.npy"
    np.save(source, array)
    capsys.readouterr()
    assert main(["predict", "--ensemble", str(ensemble), "--input", str(source)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert str(source) in lines[0] or str(ensemble) in lines[0], lines[0]
    for text in expected:
        assert text in lines[0], lines[0]
    assert captured.out == ""
    return lines[0]


def test_labels_and_partly_missing_rows_are_written(ensemble_path, tmp_path):
    array = _windows(4, labels=[0, 1, 1, 0])
    array[1, 5:8] = np.nan  # a short gap: interpolated and scored
    array[2, :50] = np.nan  # more than max_missing: an empty score, the label still copied
    np.save(tmp_path / "windows.npy", array)
    assert predict_file(ensemble_path, tmp_path / "windows.npy", out=tmp_path / "preds.csv") == 4
    with open(tmp_path / "preds.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["label"] for row in rows] == ["0", "1", "1", "0"]
    assert [row["prob_class1"] == "" for row in rows] == [False, False, True, False]


def test_zero_rows(ensemble_path, tmp_path, capsys):
    _predict_fails(tmp_path, capsys, ensemble_path, np.empty((0, N_FEATURES + 1)), "windows.npy: holds no rows")


def test_every_row_too_incomplete(ensemble_path, tmp_path, capsys):
    array = _windows(3, labels=[0, 1, 0])
    array[:, :N_FEATURES] = np.nan
    array[0, :20] = 1.0  # 79% missing: still more than max_missing
    _predict_fails(tmp_path, capsys, ensemble_path, array,
                   "no row has enough data to score (all 3 rows have more than 10% of their values missing)")


@pytest.mark.parametrize(("bad", "expected"), [
    (np.nan, "label column (last) holds NaN/inf at row 2"),
    (0.7, "label column (last) must be 0 or 1, found 0.7 at row 2"),
    (2, "label column (last) must be 0 or 1, found 2 at row 2"),
])
def test_a_label_that_is_not_0_or_1(bad, expected, ensemble_path, tmp_path, capsys):
    array = _windows(5, labels=[0, 1, bad, 0, bad])
    _predict_fails(tmp_path, capsys, ensemble_path, array, expected)


def test_a_label_column_of_nan(ensemble_path, tmp_path, capsys):
    _predict_fails(tmp_path, capsys, ensemble_path, _windows(3, labels=[np.nan] * 3), "NaN/inf at row 0")


def test_max_missing_out_of_range_is_refused(ensemble_path, tmp_path):
    np.save(tmp_path / "windows.npy", _windows(2))
    with pytest.raises(ConfigError, match="max_missing"):
        predict_file(ensemble_path, tmp_path / "windows.npy", max_missing=1.5)


def test_fully_missing_rows_are_never_scored_even_at_max_missing_1(ensemble_path, tmp_path):
    array = _windows(2)
    array[0] = np.nan
    np.save(tmp_path / "windows.npy", array)
    assert predict_file(ensemble_path, tmp_path / "windows.npy", out=tmp_path / "preds.csv", max_missing=1.0) == 2
    with open(tmp_path / "preds.csv", newline="") as handle:
        assert [row["prob_class1"] == "" for row in csv.DictReader(handle)] == [True, False]
    array[1] = np.nan
    np.save(tmp_path / "windows.npy", array)
    with pytest.raises(DataError, match="all 2 rows have all their values missing"):
        predict_file(ensemble_path, tmp_path / "windows.npy", max_missing=1.0)


def _flip_member_bytes(path) -> None:
    """Invert 64 bytes inside member 1's first weight tensor (found by its bytes in the file)."""
    raw = torch.load(path, map_location="cpu", weights_only=True)
    needle = next(iter(raw["members"][1]["state_dict"].values())).reshape(-1)[:16].numpy().tobytes()
    data = bytearray(path.read_bytes())
    start = data.find(needle)
    assert start >= 0
    for offset in range(64):
        data[start + offset] ^= 0xFF
    path.write_bytes(bytes(data))


def test_a_damaged_ensemble(ensemble_path, tmp_path, capsys):
    _flip_member_bytes(ensemble_path)
    _predict_fails(tmp_path, capsys, ensemble_path, _windows(3),
                   f"{ensemble_path}: damaged: the weights do not match their checksum")


def test_an_ensemble_with_nan_weights(ensemble_path, tmp_path, capsys):
    raw = torch.load(ensemble_path, map_location="cpu", weights_only=True)
    name = next(iter(raw["members"][0]["state_dict"]))
    raw["members"][0]["state_dict"][name].view(-1)[:4] = float("nan")
    torch.save(raw, ensemble_path)  # checksum stale too: the mismatch is reported first
    _predict_fails(tmp_path, capsys, ensemble_path, _windows(3), "damaged")
    del raw["tensor_sha256"]  # a file from before checksums: the NaN itself is the error
    torch.save(raw, ensemble_path)
    _predict_fails(tmp_path, capsys, ensemble_path, _windows(3),
                   f"members[0].state_dict.{name} holds 4 non-finite values")
