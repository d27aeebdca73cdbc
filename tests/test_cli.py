"""Every command: exit 0 with output on success, one line and non-zero on bad input, --help with an example."""
import json
from pathlib import Path

import numpy as np
import pytest

from seismag.cli import COMMANDS, main

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "example:" in capsys.readouterr().out


def test_env_text_and_json(capsys):
    assert main(["env"]) == 0
    assert "PyTorch" in capsys.readouterr().out
    assert main(["env", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["cpu_count"] >= 1 and "pytorch_version" in info and info["device"]


def test_synth_then_analyze(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["synth", "--out", str(out), "--preset", "quick", "--windows", "7", "--seed", "3"]) == 0
    assert "window-7: 120 class-0 and 72 class-1" in capsys.readouterr().out
    assert np.load(out / "window-7" / "data_0.npy", mmap_mode="r").shape == (120, 7 * 1440 + 1)
    assert main(["analyze", "--data", str(out), "--windows", "7"]) == 0
    text = capsys.readouterr().out
    assert "Ratio: 1.67:1" in text and "MILD" in text and "nn.CrossEntropyLoss(weight=weights)" in text
    assert main(["analyze", "--data", str(out), "--windows", "7", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)


def test_bad_input_is_one_line_and_non_zero(tmp_path, capsys):
    assert main(["analyze", "--data", str(tmp_path), "--windows", "7"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "window-7" in err[0]
    assert main(["synth", "--out", str(tmp_path / "x"), "--effect", "-1"]) != 0
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
    import torch
    if not torch.cuda.is_available():
        assert main(["env", "--device", "cuda"]) != 0
        assert "CUDA" in capsys.readouterr().err


def test_models_table(capsys):
    assert main(["models", "--window", "30"]) == 0
    out = capsys.readouterr().out
    assert "22,251,522" in out  # the paper MLP for 30 days (43,200 inputs)


@pytest.mark.realdata
def test_build_from_the_real_records(tmp_path, capsys):
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    args = ["build", "--observatory", str(SHARED / "observatory" / "mmb_2011_march.txt"),
            "--catalog", str(SHARED / "catalog" / "usgs_significant_1965_2016.csv"),
            "--out", str(tmp_path / "mmb"), "--windows", "7"]
    assert main(args) == 0
    assert "written to window-7" in capsys.readouterr().out
    assert main(args) != 0  # a second build into the same folder would overwrite: refused
    assert "overwrite" in capsys.readouterr().err
    # the built folder trains end to end with the quick preset
    assert main(["train", "--data", str(tmp_path / "mmb"), "--preset", "quick", "--windows", "7",
                 "--models", "gru,mlp", "--epochs", "2", "--out", str(tmp_path / "res"), "--quiet"]) == 0
    summary = json.loads((tmp_path / "res" / "gru_models" / "GRUModel_7day_summary.json").read_text())
    assert summary["num_folds"] == 3 and len(summary["val_f1s"]) == 3
