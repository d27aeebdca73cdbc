"""Every command: exit 0 with output on success, one line and non-zero on bad input, --help with an example."""
import argparse
import contextlib
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seismag.cli import COMMANDS, build_parser, config_from_args, main
from seismag.config import TRAIN_FLAGS
from seismag.models import list_models

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

# `seismag train`'s options that are not run settings (README "Flags:" lists those).
TRAIN_OWN_OPTIONS = {"-h", "--help", "--data", "--out", "--models", "--windows", "--preset", "--config",
                     "--resume", "--quiet", "--executor", "--address"}
# The flag set of `seismag train` recorded before its run-setting flags were generated
# from config.TRAIN_FLAGS: the generated parser must keep exactly these.
TRAIN_OPTIONS_BEFORE = set("""
--address --balanced-sampling --batch-size --class-weights --config --data --device --dropout --early-stopping
--embargo-days --epochs --executor --focal-gamma --fold-workers --folds --group-by --help --hidden-sizes
--inner-fraction --loss --lr --max-grad-norm --max-missing --models --nan-policy --no-balanced-sampling
--no-early-stopping --out --patience --permutation-control --precision --preset --quiet --resume --scaling
--scheduler --seed --selection --split --steps-per-day --threads --train-until --weight-decay --windows -h""".split())


def subcommand(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def readme_training_flags() -> set[str]:
    """The options of the README's "Flags:" line (Training options), `--[no-]x` as both."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    line = re.search(r"^Flags: `(.*?)`", text, flags=re.S | re.M).group(1)
    flags = set()
    for no, name in re.findall(r"--(\[no-\])?([a-z][a-z-]*)", line):
        flags.add(f"--{name}")
        if no:
            flags.add(f"--no-{name}")
    return flags


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


@pytest.mark.realdata
@pytest.mark.parametrize("flags, words", [
    (["--components", "H,Z/X"], "unknown component 'Z/X': each must be one IAGA component letter"),
    (["--components", "H,X"], "mmb_2011_march.txt: component 'X' is not reported (files report D, H, Z, F)"),
    (["--components", "H,D,H"], "components lists H more than once (H,D,H)"),
    (["--component", "D", "--components", "H,Z"], "argument --components: not allowed with argument --component"),
])
def test_build_refuses_bad_components_in_one_line(tmp_path, capsys, flags, words):
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    out = tmp_path / "mmb"
    args = ["build", "--observatory", str(SHARED / "observatory" / "mmb_2011_march.txt"),
            "--catalog", str(SHARED / "catalog" / "usgs_significant_1965_2016.csv"),
            "--out", str(out), "--windows", "7", *flags]
    with pytest.raises(SystemExit) if flags[0] == "--component" else contextlib.nullcontext() as stop:
        assert main(args) == 2
    if stop is not None:
        assert stop.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and words in err
    assert not out.exists()


@pytest.mark.realdata
def test_build_writes_several_components(tmp_path, capsys):
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    out = tmp_path / "mmb"
    assert main(["build", "--observatory", str(SHARED / "observatory" / "mmb_2011_march.txt"),
                 "--catalog", str(SHARED / "catalog" / "usgs_significant_1965_2016.csv"),
                 "--out", str(out), "--windows", "7", "--components", "h,z,f,z/h"]) == 0
    assert "components          H (nT), Z (nT), F (nT), Z/H (dimensionless)" in capsys.readouterr().out
    assert json.loads((out / "dataset.json").read_text())["channels"] == ["H", "Z", "F", "Z/H"]
    assert np.load(out / "window-7" / "data_1.npy", mmap_mode="r").shape == (16, 7 * 4 * 1440 + 1)


def test_train_has_exactly_the_documented_flags():
    options = {o for action in subcommand("train")._actions for o in action.option_strings}
    assert options == TRAIN_OPTIONS_BEFORE
    assert options == readme_training_flags() | TRAIN_OWN_OPTIONS


def test_train_help_documents_every_flag(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for action in subcommand("train")._actions:
        for option in action.option_strings:
            assert re.search(rf"(^|[ ,]){re.escape(option)}\b", text), option
    train = subcommand("train")
    train.format_help()
    assert all(action.help for action in train._actions), [a.dest for a in train._actions if not a.help]


@pytest.mark.parametrize("command", ["train", "demo"])
def test_models_help_comes_from_the_registry(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "comma list of " + ", ".join(list_models()) in text
    assert "(default: " + ",".join(list_models(default_run=True)) + ")" in text


def test_every_flag_sets_its_field():
    values = {"models": ("--models", "gru,MLP", ("gru", "mlp")), "windows": ("--windows", "7,14", (7, 14)),
              "steps_per_day": ("--steps-per-day", "48", 48), "epochs": ("--epochs", "4", 4),
              "num_folds": ("--folds", "3", 3), "batch_size": ("--batch-size", "8", 8),
              "learning_rate": ("--lr", "0.01", 0.01), "weight_decay": ("--weight-decay", "0", 0.0),
              "max_grad_norm": ("--max-grad-norm", "2", 2.0),
              "class_weight_method": ("--class-weights", "none", "none"), "loss": ("--loss", "focal", "focal"),
              "focal_gamma": ("--focal-gamma", "3", 3.0), "balanced_sampling": ("--balanced-sampling", None, True),
              "scheduler": ("--scheduler", "cosine", "cosine"), "early_stopping": ("--early-stopping", None, True),
              "early_stopping_patience": ("--patience", "2", 2), "split": ("--split", "group", "group"),
              "group_by": ("--group-by", "station", "station"), "embargo_days": ("--embargo-days", "2", 2.0),
              "scaling": ("--scaling", "sample", "sample"), "selection": ("--selection", "outer", "outer"),
              "inner_fraction": ("--inner-fraction", "0.3", 0.3),
              "permutation_control": ("--permutation-control", "19", 19),
              "nan_policy": ("--nan-policy", "refuse", "refuse"), "max_missing": ("--max-missing", "0.2", 0.2),
              "seed": ("--seed", "3", 3), "device": ("--device", "cpu", "cpu"),
              "precision": ("--precision", "bf16", "bf16"), "num_threads": ("--threads", "1", 1),
              "fold_workers": ("--fold-workers", "2", 2),
              "train_until": ("--train-until", "2011-03-10", "2011-03-10")}
    assert set(values) == set(TRAIN_FLAGS)
    argv = ["train", "--data", "d", "--hidden-sizes", "8,4", "--dropout", "0.1"]
    for option, text, _ in values.values():
        argv += [option] if text is None else [option, text]
    config = config_from_args(build_parser().parse_args(argv))
    for name, (_, _, expected) in values.items():
        assert getattr(config, name) == expected, name
    assert config.model_overrides == {"*": {"hidden_sizes": [8, 4], "dropout_prob": 0.1}}
    # unset flags leave the preset's values; --no-x turns a preset's x off
    config = config_from_args(build_parser().parse_args(["train", "--data", "d", "--preset", "quick", "--no-early-stopping"]))
    assert (config.epochs, config.num_folds, config.early_stopping) == (12, 3, False)
    assert config.model_overrides["*"] == {"hidden_sizes": [64, 32]}


def test_help_of_other_commands_does_not_import_torch():
    code = ("import sys\nfrom seismag.cli import main\ntry:\n    main(['report', '--help'])\n"
            "except SystemExit:\n    pass\nassert 'torch' not in sys.modules, 'torch imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _bad_flag_cases():
    from test_config import BAD_VALUES

    return [(TRAIN_FLAGS[name].option, text, name, message)
            for name, _, _, text, message in BAD_VALUES if text is not None]


@pytest.mark.parametrize("option, text, name, message", _bad_flag_cases())
def test_a_bad_train_flag_is_one_line_naming_the_key(tmp_path, capsys, option, text, name, message):
    # checked by the config before any data is read: --data need not exist
    assert main(["train", "--data", str(tmp_path / "none"), option, text]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"seismag train: error: {name}") and message in err[0], err


def test_a_bad_config_file_value_is_one_line_naming_the_file(tmp_path, capsys):
    path = tmp_path / "run.toml"
    path.write_text('models = "mlp"\n')
    assert main(["train", "--data", str(tmp_path), "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"seismag train: error: {path}: models must be a list of model names, "
                   + 'e.g. models = ["mlp"], got \'mlp\'']
    assert main(["demo", "--out", str(tmp_path / "demo"), "--windows", "7,x", "--tiny"]) == 2
    assert "windows must be a list of day counts" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()  # refused before anything is written
