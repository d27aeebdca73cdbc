"""Results folders as a user's disk, an editor or a crash leaves them (see README.md here).

``--resume`` repairs a damaged fold: it names the file, keeps it aside as ``*.damaged`` and
trains that fold again, which gives back the very files it had (same seed, same device);
nothing else in the folder changes. ``evaluate`` skips incomplete models, naming each and
why, and refuses when nothing complete is left. A refusal changes nothing, not even a log.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seismag.cli import main
from seismag.models import F1WeightedEnsemble

from test_bad_inputs import DAYS, snapshot

from helpers import SPD, write_synthetic

MLP = Path("results") / "mlp_models"
GRU = Path("results") / "gru_models"


def fold_file(fold: int, end: str, folder: Path = MLP, display: str = "MLP") -> Path:
    return folder / f"{display}Model_{DAYS}day_fold_{fold}{end}"


def run(argv: list[str], capsys) -> tuple[int, list[str], str]:
    """``seismag argv``: exit status, the stderr lines, stdout."""
    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, [line for line in err.splitlines() if line.strip()], out


def retrain(*extra):
    """``train`` into the template's results folder: gru and mlp, 2 folds, 2 epochs, one thread
    (so a fold trained again computes exactly what it computed the first time)."""
    return lambda w: ["train", "--data", str(w / "data"), "--out", str(w / "results"), "--models", "gru,mlp",
                      "--windows", str(DAYS), "--steps-per-day", str(SPD), "--epochs", "2", "--folds", "2",
                      "--batch-size", "8", "--hidden-sizes", "8,4", "--threads", "1", "--quiet", *extra]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A valid tiny dataset and a trained results folder, copied into every case."""
    root = tmp_path_factory.mktemp("damaged")
    write_synthetic(root / "data", days=(DAYS,), n0=16, n1=12)
    previous = os.environ.get("LOG_DIR")
    os.environ["LOG_DIR"] = str(root.parent / f"{root.name}-logs")
    try:
        assert main(retrain()(root)) == 0
    finally:
        os.environ.pop("LOG_DIR") if previous is None else os.environ.__setitem__("LOG_DIR", previous)
    return root


@pytest.fixture
def work(template, tmp_path, monkeypatch):
    """A copy of the trained template, the current folder; the log outside it."""
    folder = tmp_path / "work"
    shutil.copytree(template, folder)
    for name in ("run_config.json", "dataset_summary.json"):  # as if trained here, from this data folder
        path = folder / "results" / name
        record = json.loads(path.read_text())
        record["data_dir"] = str((folder / "data").resolve())
        path.write_text(json.dumps(record, indent=2) + "\n")
    monkeypatch.chdir(folder)
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logs"))
    yield folder
    torch.set_num_threads(1)


# --------------------------------------------------------------------------- damage, as found on disks
def random_bytes(path: Path) -> None:
    path.write_bytes(np.random.default_rng(0).bytes(4096))


def cut_short(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def edited_checkpoint_metadata(path: Path) -> None:
    """A recorded value changed by hand and saved back (the checksums left as they were)."""
    payload = torch.load(path, weights_only=True)
    payload["extra"]["window_days"] = 2 * DAYS
    torch.save(payload, path)


def edited_metrics(path: Path) -> None:
    """Still valid JSON, one number changed."""
    metrics = json.loads(path.read_text())
    metrics["f1"] = 0.99
    path.write_text(json.dumps(metrics, indent=2) + "\n")


def flipped_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-8:] = bytes(b ^ 0xFF for b in data[-8:])
    path.write_bytes(bytes(data))


FOLD_DAMAGE = {
    "checkpoint of random bytes": (".pth", random_bytes),
    "checkpoint cut short": (".pth", cut_short),
    "checkpoint metadata edited": (".pth", edited_checkpoint_metadata),
    "metrics cut short": ("_metrics.json", cut_short),
    "metrics edited": ("_metrics.json", edited_metrics),
    "test labels cut short": ("_test_labels.npy", cut_short),
    "test probabilities flipped": ("_test_probs.npy", flipped_bytes),
    "epoch log cut short": ("_logs.txt", cut_short),
}


@pytest.mark.parametrize("name", list(FOLD_DAMAGE))
def test_resume_sets_a_damaged_fold_file_aside_and_retrains_only_that_fold(name, work, capsys):
    end, damage = FOLD_DAMAGE[name]
    original = snapshot(work)
    target = work / fold_file(1, end)
    damage(target)
    damaged_bytes = hashlib.sha256(target.read_bytes()).hexdigest()

    status, err, _ = run(retrain("--resume")(work), capsys)
    assert status == 0, err
    notes = [line for line in err if "kept aside" in line]
    assert len(notes) == 1 and str(target) in notes[0], err
    assert f"{target.name}.damaged" in notes[0] and "fold 1 trains again" in notes[0]
    after = snapshot(work)
    aside = str(target.relative_to(work)) + ".damaged"
    assert after.pop(aside) == damaged_bytes  # kept, as it was found
    # The fold trained again gives back the very files it had; only its checkpoint's
    # creation time (and so its bytes) is new. Nothing else in the folder changed.
    checkpoint = str(fold_file(1, ".pth"))
    assert {k: v for k, v in after.items() if k != checkpoint} == {k: v for k, v in original.items()
                                                                  if k != checkpoint}
    assert checkpoint in after


def written_before_digests(path: Path) -> None:
    """A fold checkpoint as seismag wrote it before it recorded its fold files' digests
    (and before metadata checksums)."""
    payload = torch.load(path, weights_only=True)
    del payload["extra"]["fold_files"], payload["metadata_sha256"]
    torch.save(payload, path)


@pytest.mark.parametrize("damaged", [None, "_test_labels.npy", "_metrics.json", "_test_indices.npy"])
def test_resume_checks_the_files_of_an_older_fold_by_their_shape(damaged, work, capsys):
    """Without recorded digests each kept file must still read and hold the fold's rows."""
    written_before_digests(work / fold_file(1, ".pth"))
    original = snapshot(work)
    if damaged == "_test_indices.npy":  # reads well, but not this fold's rows
        np.save(work / fold_file(1, damaged), np.load(work / fold_file(2, damaged)))
    elif damaged:
        cut_short(work / fold_file(1, damaged))
    status, err, _ = run(retrain("--resume")(work), capsys)
    assert status == 0, err
    notes = [line for line in err if "kept aside" in line]
    if damaged is None:
        assert notes == [] and snapshot(work) == original  # a sound older fold is kept as it is
    else:
        assert len(notes) == 1 and str(work / fold_file(1, damaged)) in notes[0], err
        after = snapshot(work)
        assert after.pop(str(fold_file(1, damaged)) + ".damaged")
        checkpoint = str(fold_file(1, ".pth"))
        assert {k: v for k, v in after.items() if k != checkpoint} == {k: v for k, v in original.items()
                                                                      if k != checkpoint}


def test_resume_rebuilds_a_damaged_summary_from_its_folds(work, capsys):
    original = snapshot(work)
    summary = work / MLP / f"MLPModel_{DAYS}day_summary.json"
    cut_short(summary)
    status, err, _ = run(retrain("--resume")(work), capsys)
    assert status == 0, err
    assert any(str(summary) in line and "rebuilt from its folds" in line for line in err), err
    after = snapshot(work)
    assert after.pop(str(summary.relative_to(work)) + ".damaged")
    assert after == original  # the summary written again, byte for byte; no fold retrained


def test_a_resume_with_nothing_to_do_touches_nothing(work, capsys):
    before = {p: p.stat().st_mtime_ns for p in work.rglob("*") if p.is_file()}
    status, err, _ = run(retrain("--resume")(work), capsys)
    assert status == 0, err
    assert {p: p.stat().st_mtime_ns for p in work.rglob("*") if p.is_file()} == before


def test_a_refused_run_writes_nothing_not_even_its_log(work, capsys, monkeypatch):
    monkeypatch.delenv("LOG_DIR")  # the log would go to ./logs, inside the folder watched
    data_1 = work / "data" / f"window-{DAYS}" / "data_1.npy"
    np.save(data_1, np.load(data_1)[:1])  # one class-1 row
    (work / "data" / f"window-{DAYS}" / "meta.csv").unlink()
    before = snapshot(work)
    status, err, _ = run(["train", "--data", "data", "--out", "fresh", "--models", "mlp", "--windows", str(DAYS),
                          "--steps-per-day", str(SPD), "--epochs", "1", "--folds", "2", "--quiet"], capsys)
    assert status == 2 and len(err) == 1, err
    assert f"window-{DAYS}{os.sep}data_1.npy: 1 class-1 row to train on; 2 folds need at least 2" in err[0]
    assert snapshot(work) == before


# --------------------------------------------------------------------------- evaluate on half-written folders
def evaluate(work: Path, out: str = "eval") -> list[str]:
    return ["evaluate", "--results", str(work / "results"), "--test-data", str(work / "data"), "--out",
            str(work / out), "--no-figures", "--windows", str(DAYS)]


def half_written(work: Path) -> None:
    """The GRU lost a fold file and its ensemble; the MLP's summary is cut short."""
    (work / fold_file(2, "_metrics.json", GRU, "GRU")).unlink()
    (work / GRU / f"GRUModel_{DAYS}day_ensemble.pth").unlink()
    cut_short(work / MLP / f"MLPModel_{DAYS}day_summary.json")


def test_evaluate_refuses_when_no_model_is_complete_naming_each(work, capsys):
    half_written(work)
    before = snapshot(work)
    status, err, _ = run(evaluate(work), capsys)
    assert status == 2 and len(err) == 1, err
    assert "holds no complete model to evaluate" in err[0]
    assert f"GRUModel_{DAYS}day_*: fold files of 2 fold(s) but no ensemble" in err[0]
    assert f"MLPModel_{DAYS}day_summary.json: cannot be read" in err[0]
    assert snapshot(work) == before


@pytest.mark.parametrize("damage", ["summary cut short", "a fold file lost", "ensemble relabelled"])
def test_evaluate_scores_the_complete_models_and_names_the_skipped_one(damage, work, capsys):
    if damage == "summary cut short":
        broken, words = work / MLP / f"MLPModel_{DAYS}day_summary.json", "cannot be read"
        cut_short(broken)
    elif damage == "a fold file lost":
        broken, words = work / fold_file(2, "_test_labels.npy"), "missing (fold 2 of the 2"
        broken.unlink()
    else:
        broken, words = work / MLP / f"MLPModel_{DAYS}day_ensemble.pth", "extra.window_days (8)"
        edited_checkpoint_metadata(broken)
    status, err, out = run(evaluate(work), capsys)
    assert status == 0, err
    notes = [line for line in out.splitlines() if line.startswith("note:") and "not evaluated" in line]
    assert len(notes) == 1 and str(broken) in notes[0] and words in notes[0], out
    record = json.loads((work / "eval" / "run_config.json").read_text())
    assert record["skipped"] == [notes[0].removeprefix("note: ")]  # the report shows run_config.json
    assert (work / "eval" / "gru_models").is_dir() and not (work / "eval" / "mlp_models").exists()


# --------------------------------------------------------------------------- an ensemble's recorded input
def test_an_ensemble_saved_with_another_window_length_names_both(work, capsys):
    """Relabelled through the normal writer (so its checksum holds): the record and the fold
    models disagree, and that is found before anything is computed."""
    path = work / MLP / f"MLPModel_{DAYS}day_ensemble.pth"
    ensemble = F1WeightedEnsemble.load(path)
    ensemble.save(path, extra={**ensemble.extra, "window_days": 2 * DAYS})
    np.save(work / "long.npy", np.zeros((2, 2 * DAYS * SPD)))
    before = snapshot(work)
    status, err, _ = run(["predict", "--ensemble", str(path), "--input", str(work / "long.npy")], capsys)
    assert status == 2 and len(err) == 1, err
    assert str(path) in err[0] and f"records {2 * DAYS}-day windows" in err[0] and f"{DAYS}-day windows" in err[0]
    assert snapshot(work) == before


def test_fold_checkpoints_record_their_creation_time_and_keep_their_names(work):
    names = sorted(p.name for p in (work / MLP).glob("*.pth"))
    assert names == [f"MLPModel_{DAYS}day_ensemble.pth", f"MLPModel_{DAYS}day_fold_1.pth",
                     f"MLPModel_{DAYS}day_fold_2.pth"]
    payload = torch.load(work / fold_file(1, ".pth"), weights_only=True)
    from datetime import datetime, timezone

    created = datetime.fromisoformat(payload["created_at"])
    assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0
    assert abs((datetime.now(timezone.utc) - created).total_seconds()) < 3600
    assert set(payload["extra"]["fold_files"]) == {"train_probs", "test_probs", "train_labels", "test_labels",
                                                   "test_indices", "metrics", "logs"}


def test_the_readme_lists_every_case_with_its_test():
    import test_bad_inputs
    import test_kill_resume

    text = (Path(__file__).parent / "README.md").read_text(encoding="utf-8")
    missing = [case.name for case in test_bad_inputs.CASES if f"[{case.name}]" not in text]
    missing += [f"[{name}]" for name in FOLD_DAMAGE if f"[{name}]" not in text]
    for module in (test_kill_resume, sys.modules[__name__]):
        assert any(name.startswith("test_") for name in dir(module)), module
        missing += [name for name in dir(module) if name.startswith("test_") and f"`{name}`" not in text
                    and f"`{name}[" not in text and name != "test_the_readme_lists_every_case_with_its_test"]
    assert not missing, f"tests/reliability/README.md does not list: {missing}"
