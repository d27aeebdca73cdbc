"""A catalogue of bad inputs across every command, as a careless user gives them.

Each case builds what it needs in a fresh folder, runs ``seismag ...`` in this process
and asserts: exit status 2, exactly one line on stderr, naming the file (or option) and
the problem, no traceback, and every file in the folder byte-identical before and after
(nothing written, nothing changed).
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch

from seismag.cli import main

from helpers import SPD, write_synthetic

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DAYS = 4


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A valid tiny dataset and a trained results folder, copied into every case."""
    root = tmp_path_factory.mktemp("template")
    write_synthetic(root / "data", days=(DAYS,), n0=16, n1=12)
    args = ["train", "--data", str(root / "data"), "--out", str(root / "results"), "--models", "gru,mlp",
            "--windows", str(DAYS), "--steps-per-day", str(SPD), "--epochs", "2", "--folds", "2",
            "--batch-size", "8", "--hidden-sizes", "8,4", "--quiet"]
    import os

    os.environ.setdefault("LOG_DIR", str(root / "logs"))
    assert main(args) == 0
    shutil.rmtree(root / "logs", ignore_errors=True)
    return root


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(root.rglob("*"))}


@dataclass
class Case:
    name: str
    argv: Callable[[Path], list[str]]
    expect: tuple[str, ...]              # substrings of the one error line (paths relative to the case folder ok)
    setup: Callable[[Path], None] | None = None
    needs_shared: bool = False


def train(*extra):
    return lambda w: ["train", "--data", str(w / "data"), "--out", str(w / "out"), "--models", "mlp",
                      "--windows", str(DAYS), "--steps-per-day", str(SPD), "--epochs", "1", "--folds", "2",
                      "--quiet", *extra]


def class_file(label: int = 1):
    return lambda w: w / "data" / f"window-{DAYS}" / f"data_{label}.npy"


def rewrite(label: int, change):
    """Replace ``data_{label}.npy`` with ``change(array)``."""
    def setup(w: Path):
        path = class_file(label)(w)
        array = np.load(path)
        result = change(array)
        path.unlink()
        if isinstance(result, bytes):
            path.write_bytes(result)
        elif result is not None:
            np.save(path, result)
    return setup


def write_text(relative: str, text: str):
    def setup(w: Path):
        path = w / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return setup


def remove(relative: str):
    def setup(w: Path):
        target = w / relative
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    return setup


def both(*setups):
    def setup(w: Path):
        for s in setups:
            s(w)
    return setup


ENSEMBLE = lambda w: str(w / "results" / "mlp_models" / f"MLPModel_{DAYS}day_ensemble.pth")  # noqa: E731
FOLD = lambda w: str(w / "results" / "mlp_models" / f"MLPModel_{DAYS}day_fold_1.pth")  # noqa: E731


def predict(input_name="new.npy", ensemble=ENSEMBLE, *extra):
    return lambda w: ["predict", "--ensemble", ensemble(w), "--input", str(w / input_name), *extra]


def npy(name: str, array):
    def setup(w: Path):
        np.save(w / name, array)
    return setup


FEATURES = DAYS * SPD


def MMB_BUILD(w: Path) -> list[str]:  # noqa: N802 (a case's argv prefix)
    return ["build", "--observatory", str(SHARED / "observatory" / "mmb_2011_march.txt"), "--catalog",
            str(SHARED / "catalog" / "usgs_significant_1965_2016.csv"), "--out", str(w / "b"), "--windows", "7"]
CASES = [
    # ----------------------------------------------------------------- train: data
    Case("train: no data folder", lambda w: train()(w)[:2] + [str(w / "nothing")] + train()(w)[3:], ("nothing",)),
    Case("train: window folder missing", train(), (f"window-{DAYS}",), remove(f"data/window-{DAYS}")),
    Case("train: class file missing", train(), ("data_1.npy",), remove(f"data/window-{DAYS}/data_1.npy")),
    Case("train: class file is garbage", train(), ("data_0.npy",), rewrite(0, lambda a: b"garbage")),
    Case("train: wrong feature count", train(), ("data_1.npy", "feature"), rewrite(1, lambda a: a[:, 5:])),
    Case("train: label column not 0/1", train(), ("data_1.npy", "label"),
         rewrite(1, lambda a: np.hstack([a[:, :-1], np.full((len(a), 1), 3.0)]))),
    Case("train: labels in the wrong file", train(), ("data_1.npy",),
         rewrite(1, lambda a: np.hstack([a[:, :-1], np.zeros((len(a), 1))]))),
    Case("train: infinite values", train(), ("data_0.npy", "infinite"),
         rewrite(0, lambda a: np.where(np.arange(a.size).reshape(a.shape) == 3, np.inf, a))),
    Case("train: NaN refused", train("--nan-policy", "refuse"), ("NaN",),
         rewrite(0, lambda a: np.where(np.arange(a.size).reshape(a.shape) == 3, np.nan, a))),
    Case("train: 1-D class file", train(), ("data_1.npy",), rewrite(1, lambda a: a[0])),
    Case("train: empty class file", train(), ("data_1.npy",), rewrite(1, lambda a: a[:0])),
    Case("train: text array", train(), ("data_1.npy",), rewrite(1, lambda a: a.astype(str))),
    # ----------------------------------------------------------------- train: options
    Case("train: unknown split", train("--split", "random"), ("split", "random")),
    Case("train: group split without the column", train("--split", "group", "--group-by", "nope"), ("nope",)),
    Case("train: group split without meta.csv", train("--split", "group"), ("meta.csv",),
         remove(f"data/window-{DAYS}/meta.csv")),
    Case("train: time split with bad times", train("--split", "time"), ("meta.csv", "window_start"),
         lambda w: (w / "data" / f"window-{DAYS}" / "meta.csv").write_text(
             "station,event_id,window_start\n" + "".join(f"S,,not-a-time-{i}\n" for i in range(28)))),
    Case("train: one fold", train("--folds", "1"), ("num_folds",)),
    Case("train: zero epochs", train("--epochs", "0"), ("epochs",)),
    Case("train: batch of one", train("--batch-size", "1"), ("batch_size",)),
    Case("train: unknown model", train("--models", "nope"), ("nope",)),
    Case("train: config file missing", train("--config", "missing.toml"), ("missing.toml",)),
    Case("train: config file not TOML", lambda w: train("--config", str(w / "bad.toml"))(w), ("bad.toml", "TOML"),
         write_text("bad.toml", "epochs = = 3\n")),
    Case("train: config file unknown key", lambda w: train("--config", str(w / "bad.toml"))(w),
         ("bad.toml", "epoks"), write_text("bad.toml", "epoks = 3\n")),
    Case("train: CUDA without CUDA", train("--device", "cuda"), ("CUDA",)),
    Case("train: unknown precision", train("--precision", "fp8"), ("precision", "fp8")),
    Case("train: unknown scaling", train("--scaling", "minmax"), ("scaling", "minmax")),
    Case("train: unknown selection", train("--selection", "best"), ("selection", "best")),
    Case("train: inner fraction too large", train("--inner-fraction", "0.9"), ("inner_fraction",)),
    Case("train: max missing above 1", train("--max-missing", "2"), ("max_missing",)),
    Case("train: unknown class weights", train("--class-weights", "cubic"), ("class_weight_method", "cubic")),
    Case("train: unknown loss", train("--loss", "hinge"), ("loss", "hinge")),
    Case("train: negative focal gamma", train("--loss", "focal", "--focal-gamma", "-1"), ("focal_gamma",)),
    Case("train: zero hidden size", train("--hidden-sizes", "0"), ("hidden_sizes",)),
    Case("train: dropout above 1", train("--dropout", "1.5"), ("dropout",)),
    Case("train: zero-day window", train("--windows", "0"), ("windows",)),
    Case("train: no fold workers", train("--fold-workers", "0"), ("fold_workers",)),
    Case("train: more folds than samples", train("--folds", "100"), ("100",)),
    Case("train: unknown executor", train("--executor", "slurm"), ("slurm",)),
    # ----------------------------------------------------------------- predict
    Case("predict: ensemble missing", predict(ensemble=lambda w: str(w / "none.pth")), ("none.pth",),
         npy("new.npy", np.zeros((2, FEATURES)))),
    Case("predict: ensemble is garbage", predict(ensemble=lambda w: str(w / "bad.pth")), ("bad.pth",),
         both(npy("new.npy", np.zeros((2, FEATURES))), write_text("bad.pth", "not a checkpoint"))),
    Case("predict: a fold checkpoint, not an ensemble", predict(ensemble=FOLD), ("fold_1.pth",),
         npy("new.npy", np.zeros((2, FEATURES)))),
    Case("predict: input missing", predict(), ("new.npy",)),
    Case("predict: input with wrong columns", predict(), ("new.npy", "columns"), npy("new.npy", np.zeros((2, 7)))),
    Case("predict: input with infinite values", predict(), ("new.npy", "infinite"),
         npy("new.npy", np.full((2, FEATURES), np.inf))),
    Case("predict: 3-D input", predict(), ("new.npy",), npy("new.npy", np.zeros((2, DAYS, SPD)))),
    Case("predict: text input", predict("new.txt"), ("new.txt",), write_text("new.txt", "1,2,3\n")),
    # ----------------------------------------------------------------- evaluate / plot / report
    Case("evaluate: no ensembles", lambda w: ["evaluate", "--results", str(w / "data"), "--test-data",
                                             str(w / "data")], ("ensemble",)),
    Case("evaluate: test window missing", lambda w: ["evaluate", "--results", str(w / "results"), "--test-data",
                                                    str(w / "empty"), "--no-figures"], ("window-",),
         lambda w: (w / "empty").mkdir()),
    Case("plot: results folder missing", lambda w: ["plot", "--results", str(w / "none")], ("none",)),
    Case("plot: nothing to draw", lambda w: ["plot", "--results", str(w / "empty")], ("empty",),
         lambda w: (w / "empty").mkdir()),
    Case("report: results folder missing", lambda w: ["report", "--results", str(w / "none")], ("none",)),
    # ----------------------------------------------------------------- analyze / synth / models / env
    Case("analyze: data folder missing", lambda w: ["analyze", "--data", str(w / "none")], ("none",)),
    Case("analyze: window missing", lambda w: ["analyze", "--data", str(w / "data"), "--windows", "9",
                                              "--steps-per-day", str(SPD)], ("window-9",)),
    Case("analyze: garbage class file", lambda w: ["analyze", "--data", str(w / "data"), "--windows", str(DAYS),
                                                  "--steps-per-day", str(SPD)], ("data_0.npy",),
         rewrite(0, lambda a: b"garbage")),
    Case("synth: unknown preset", lambda w: ["synth", "--out", str(w / "s"), "--preset", "huge"], ("huge",)),
    Case("synth: zero-day window", lambda w: ["synth", "--out", str(w / "s"), "--windows", "0"], ("0",)),
    Case("models: zero-day window", lambda w: ["models", "--window", "0"], ("window_days",)),
    Case("env: unknown device", lambda w: ["env", "--device", "tpu"], ("tpu",)),
    # ----------------------------------------------------------------- build
    Case("build: observatory file missing", lambda w: ["build", "--observatory", str(w / "none.min"), "--catalog",
                                                      str(w / "cat.csv"), "--out", str(w / "b")], ("none.min",),
         write_text("cat.csv", "time,latitude,longitude,depth,mag,type\n")),
    Case("build: catalog missing", lambda w: ["build", "--observatory", str(SHARED / "observatory" /
                                                                          "mmb_2011_march.txt"),
                                             "--catalog", str(w / "none.csv"), "--out", str(w / "b")],
         ("none.csv",), needs_shared=True),
    Case("build: catalog of garbage", lambda w: ["build", "--observatory", str(SHARED / "observatory" /
                                                                             "mmb_2011_march.txt"),
                                                "--catalog", str(w / "cat.csv"), "--out", str(w / "b")],
         ("cat.csv",), write_text("cat.csv", "\x00\x01 no columns here\n"), needs_shared=True),
    Case("build: observatory file of garbage", lambda w: ["build", "--observatory", str(w / "bad.min"),
                                                         "--catalog", str(SHARED / "catalog" /
                                                                          "usgs_significant_1965_2016.csv"),
                                                         "--out", str(w / "b")],
         ("bad.min",), write_text("bad.min", "this is not IAGA-2002\n"), needs_shared=True),
    Case("build: zero-day window", lambda w: ["build", "--observatory", str(SHARED / "observatory" /
                                                                          "mmb_2011_march.txt"),
                                             "--catalog", str(SHARED / "catalog" / "usgs_significant_1965_2016.csv"),
                                             "--out", str(w / "b"), "--windows", "0"], ("window",),
         needs_shared=True),
    Case("build: negative radius", lambda w: ["build", "--observatory", str(SHARED / "observatory" /
                                                                          "mmb_2011_march.txt"),
                                             "--catalog", str(SHARED / "catalog" / "usgs_significant_1965_2016.csv"),
                                             "--out", str(w / "b"), "--radius-km", "-5"], ("radius",),
         needs_shared=True),
    Case("build: Kp file of garbage", lambda w: MMB_BUILD(w) + ["--kp", str(w / "kp.csv")], ("kp.csv", "Kp"),
         write_text("kp.csv", "garbage\n"), needs_shared=True),
    Case("build: Dst file missing", lambda w: MMB_BUILD(w) + ["--dst", str(w / "none.dat")], ("none.dat",),
         needs_shared=True),
    Case("build: storm rule without its index", lambda w: MMB_BUILD(w) + ["--exclude-storms", "kp>=5"],
         ("kp>=5", "--kp"), needs_shared=True),
    Case("build: unreadable storm rule", lambda w: MMB_BUILD(w) + ["--kp", str(SHARED / "indices" /
                                                                            "kp_gfz_2006_2022.csv"),
                                                                     "--exclude-storms", "kp=>5"],
         ("kp=>5",), needs_shared=True),
    Case("build: local time out of range", lambda w: MMB_BUILD(w) + ["--local-time", "25-3"], ("25",),
         needs_shared=True),
    Case("build: unknown component", lambda w: MMB_BUILD(w) + ["--components", "H,Q"], ("Q",), needs_shared=True),
    Case("build: a recipe longer than the window", lambda w: MMB_BUILD(w) + ["--sq-quiet-days", "9"], ("quiet",),
         needs_shared=True),
    # ----------------------------------------------------------------- scan / skill
    Case("scan: ensemble file of garbage", lambda w: ["scan", "--ensemble", str(w / "bad.pth"), "--observatory",
                                                      str(SHARED / "observatory" / "mmb_2011_march.txt"),
                                                      "--out", str(w / "s.csv")],
         ("bad.pth",), write_text("bad.pth", "garbage"), needs_shared=True),
    Case("scan: observatory file missing", lambda w: ["scan", "--ensemble", ENSEMBLE(w), "--observatory",
                                                      str(w / "none.min"), "--out", str(w / "s.csv")],
         ("none.min",)),
    Case("skill: scores of garbage", lambda w: ["skill", "--scores", str(w / "s.csv"), "--catalog",
                                                str(w / "cat.csv"), "--out", str(w / "sk")],
         ("s.csv", "missing columns"), both(write_text("s.csv", "garbage\n"), write_text("cat.csv", "x\n"))),
    Case("skill: a probability of 1.5", lambda w: ["skill", "--scores", str(w / "s.csv"), "--catalog",
                                                   str(w / "cat.csv"), "--out", str(w / "sk")],
         ("s.csv", "1.5"), both(write_text("s.csv", "station,latitude,longitude,window_end,model,prob_class1,"
                                                    "member_std,missing_fraction,in_sample\n"
                                                    "AAA,40,140,2020-01-01,mlp_4day,1.5,0,0,false\n"),
                                write_text("cat.csv", "x\n"))),
    # ----------------------------------------------------------------- tune
    Case("tune: unknown model", lambda w: ["tune", "--data", str(w / "data"), "--model", "nope", "--window",
                                          str(DAYS), "--steps-per-day", str(SPD), "--out", str(w / "t")], ("nope",)),
    Case("tune: zero trials", lambda w: ["tune", "--data", str(w / "data"), "--model", "mlp", "--window", str(DAYS),
                                        "--steps-per-day", str(SPD), "--trials", "0", "--out", str(w / "t")],
         ("trials",)),
    Case("tune: unreadable timeout", lambda w: ["tune", "--data", str(w / "data"), "--model", "mlp", "--window",
                                               str(DAYS), "--steps-per-day", str(SPD), "--timeout", "soon",
                                               "--out", str(w / "t")], ("soon",)),
]


def retrain(*extra):
    """A second ``train`` into the template's results folder (gru and mlp, 2 folds, 2 epochs)."""
    return lambda w: ["train", "--data", str(w / "data"), "--out", str(w / "results"), "--models", "gru,mlp",
                      "--windows", str(DAYS), "--steps-per-day", str(SPD), "--epochs", "2", "--folds", "2",
                      "--batch-size", "8", "--hidden-sizes", "8,4", "--quiet", *extra]


def lock_held_by_a_live_process(w: Path, folder: str = "results"):
    import socket

    (w / folder).mkdir(parents=True, exist_ok=True)
    (w / folder / ".seismag.lock").write_text(json.dumps(
        {"pid": 1, "started_at": "2026-12-01T09:00:00+00:00", "command": "train", "host": socket.gethostname()}))


def damaged_ensemble(w: Path):
    """One weight changed after saving, the stored checksum left as it was."""
    path = Path(ENSEMBLE(w))
    payload = torch.load(path, weights_only=True)
    state = payload["members"][0]["state_dict"]
    name = next(k for k, v in state.items() if v.is_floating_point() and v.numel() > 4)
    state[name].view(-1)[:4] += 1.0
    torch.save(payload, path)


def toml(text: str):
    return write_text("run.toml", text)


CASES += [
    # ----------------------------------------------------------------- typed configuration
    Case("config: a string for a true/false key", lambda w: train("--config", str(w / "run.toml"))(w),
         ("run.toml", "balanced_sampling"), toml('balanced_sampling = "no"\n')),
    Case("config: a fraction for a whole number", lambda w: train("--config", str(w / "run.toml"))(w),
         ("run.toml", "epochs"), toml("epochs = 2.7\n")),
    Case("config: a word for a number", lambda w: train("--config", str(w / "run.toml"))(w),
         ("run.toml", "epochs"), toml('epochs = "ten"\n')),
    Case("config: one model as a string", lambda w: train("--config", str(w / "run.toml"))(w),
         ("run.toml", "models"), toml('models = "mlp"\n')),
    Case("config: windows as a string", lambda w: train("--config", str(w / "run.toml"))(w),
         ("run.toml", "windows"), toml('windows = "7"\n')),
    Case("train: negative seed", train("--seed", "-1"), ("seed",)),
    Case("train: negative embargo", train("--split", "time", "--embargo-days", "-5"), ("embargo_days",)),
    # ----------------------------------------------------------------- results folders that protect themselves
    Case("train: resume with other epochs", retrain("--resume", "--epochs", "3"), ("epochs",)),
    Case("train: resume with other folds", retrain("--resume", "--folds", "3"), ("num_folds",)),
    Case("train: resume with another seed", retrain("--resume", "--seed", "7"), ("seed",)),
    Case("train: resume on changed data", retrain("--resume"), ("data",),
         rewrite(1, lambda a: np.vstack([a, a[:1]]))),
    Case("train: the folder is in use", retrain(), ("pid 1",), lock_held_by_a_live_process),
    Case("evaluate: its folder is in use", lambda w: ["evaluate", "--results", str(w / "results"), "--test-data",
                                                     str(w / "data"), "--no-figures", "--windows", str(DAYS)],
         ("evaluation", "pid 1"), lambda w: lock_held_by_a_live_process(w, "results/evaluation")),
    Case("train: refused run leaves the folder's record alone", retrain("--folds", "100"), ("100",)),
    # ----------------------------------------------------------------- damaged files and odd predict input
    Case("predict: damaged ensemble", predict(), ("damaged",),
         both(npy("new.npy", np.zeros((2, FEATURES))), damaged_ensemble)),
    Case("predict: ensemble with NaN weights", predict(), ("non-finite",),
         both(npy("new.npy", np.zeros((2, FEATURES))), lambda w: _nan_ensemble(w))),
    Case("predict: zero rows", predict(), ("new.npy", "no rows"), npy("new.npy", np.zeros((0, FEATURES)))),
    Case("predict: every row missing", predict(), ("new.npy", "no row has enough data"),
         npy("new.npy", np.full((3, FEATURES), np.nan))),
    Case("predict: a label of 0.7", predict(), ("new.npy", "0.7"),
         npy("new.npy", np.hstack([np.zeros((2, FEATURES)), [[0.0], [0.7]]]))),
    Case("predict: a NaN label", predict(), ("new.npy", "label"),
         npy("new.npy", np.hstack([np.zeros((2, FEATURES)), [[np.nan], [1.0]]]))),
]


def relabelled(path_of, days: int = 2 * DAYS):
    """An ensemble or checkpoint whose recorded window length was edited and saved back
    (its checksums left as they were)."""
    def setup(w: Path):
        path = Path(path_of(w))
        payload = torch.load(path, weights_only=True)
        payload["extra"]["window_days"] = days
        torch.save(payload, path)
    return setup


GRU_ENSEMBLE = lambda w: str(w / "results" / "gru_models" / f"GRUModel_{DAYS}day_ensemble.pth")  # noqa: E731
LONG = 2 * DAYS * SPD

CASES += [
    # ----------------------------------------------------------------- decided before the first byte (issue 27)
    Case("train: a file where the model folder goes", train(), ("out/mlp_models", "not a folder"),
         write_text("out/mlp_models", "a file")),
    Case("train: a folder where a fold file goes", train(), (f"out/mlp_models/MLPModel_{DAYS}day_fold_1_logs.txt",),
         lambda w: (w / "out" / "mlp_models" / f"MLPModel_{DAYS}day_fold_1_logs.txt").mkdir(parents=True)),
    Case("train: one class-1 row", train(), (f"window-{DAYS}/data_1.npy", "1 class-1 row", "2 folds"),
         both(rewrite(1, lambda a: a[:1]), remove(f"data/window-{DAYS}/meta.csv"))),
    Case("train: resume with run_config.json cut short", retrain("--resume"), ("run_config.json", "cannot read"),
         lambda w: (w / "results" / "run_config.json").write_text('{"epochs": 2, "fol')),
    Case("predict: ensemble relabelled 8-day after saving", predict("long.npy"),
         ("MLPModel_4day_ensemble.pth", "extra.window_days (8)", "checksum"),
         both(npy("long.npy", np.zeros((2, LONG))), relabelled(ENSEMBLE))),
    Case("scan: ensemble relabelled 8-day after saving",
         lambda w: ["scan", "--ensemble", GRU_ENSEMBLE(w), "--data", str(w / "data"), "--out", str(w / "s.csv")],
         ("GRUModel_4day_ensemble.pth", "extra.window_days (8)"), relabelled(GRU_ENSEMBLE)),
    Case("evaluate: every ensemble damaged", lambda w: ["evaluate", "--results", str(w / "results"), "--test-data",
                                                       str(w / "data"), "--no-figures"],
         ("no complete model", "MLPModel_4day_ensemble.pth", "GRUModel_4day_ensemble.pth"),
         both(relabelled(ENSEMBLE), relabelled(GRU_ENSEMBLE))),
]


def _nan_ensemble(w: Path):
    """NaN weights saved through the normal writer (so the checksum matches them)."""
    from seismag.models import F1WeightedEnsemble

    path = Path(ENSEMBLE(w))
    ensemble = F1WeightedEnsemble.load(path)
    with torch.no_grad():
        next(p for p in ensemble.models[0].parameters() if p.numel() > 4).view(-1)[0] = float("nan")
    ensemble.save(path, extra=ensemble.extra)


def test_the_catalogue_is_large_and_named_uniquely():
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_one_clear_line_and_changes_nothing(case, template, tmp_path, capsys, monkeypatch):
    if case.needs_shared and not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    if case.name.startswith("tune") and pytest.importorskip("optuna") is None:  # pragma: no cover
        return
    work = tmp_path / "work"
    shutil.copytree(template, work)
    if case.setup:
        case.setup(work)
    monkeypatch.chdir(work)
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logs"))  # the log is not the output folder
    before = snapshot(work)
    capsys.readouterr()
    try:
        status = main(case.argv(work))
    except SystemExit as exc:  # argparse's own refusals exit from inside main, as the CLI does
        status = exc.code
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2, (status, err[-2000:])
    assert len(lines) == 1, err[-2000:]
    assert "Traceback" not in err + out
    for part in case.expect:
        assert part in lines[0], (part, lines[0])
    assert snapshot(work) == before, "the folder changed"
    torch.set_num_threads(1)
