"""Half-written and misleading inputs to evaluate / predict / plot / analyze: one line naming
the file and what is wrong (exit 2, no traceback), or a note; nothing written on a refusal."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from seismag.cli import main
from seismag.layout.results import ArtifactPaths
from seismag.training.pipeline import run_experiment

from helpers import SPD, tiny_config, write_synthetic


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error_line(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The MLP on one window, 2 folds, 2 epochs."""
    root = tmp_path_factory.mktemp("half")
    data_dir = write_synthetic(root / "data", days=(4,), n0=24, n1=16)
    out = root / "results"
    run_experiment(tiny_config(models=["mlp"]), data_dir, out, progress=False)
    return data_dir, out


def test_evaluate_notes_a_model_with_folds_but_no_ensemble(trained, tmp_path, capsys):
    data_dir, out = trained
    results = tmp_path / "results"
    shutil.copytree(out, results)
    # a second model whose run stopped after its folds: fold files, no ensemble
    half = results / "gru_models"
    half.mkdir()
    for fold in (1, 2):
        (half / f"GRUModel_4day_fold_{fold}_metrics.json").write_text("{}")
    assert main(["evaluate", "--results", str(results), "--test-data", str(data_dir), "--out",
                 str(tmp_path / "eval"), "--no-figures"]) == 0
    printed = capsys.readouterr().out
    notes = [line for line in printed.splitlines() if "no ensemble" in line]
    assert notes == [f"note: {half / 'GRUModel_4day'}_*: fold files of 2 fold(s) but no ensemble "
                     "(training did not finish); not evaluated"]
    # filtered out by --models: no note
    assert main(["evaluate", "--results", str(results), "--test-data", str(data_dir), "--out",
                 str(tmp_path / "eval2"), "--no-figures", "--models", "mlp"]) == 0
    assert "no ensemble" not in capsys.readouterr().out


def test_predict_and_evaluate_out_in_the_way(trained, tmp_path, capsys):
    data_dir, out = trained
    ensemble = ArtifactPaths(out, "mlp", "MLP", 4).ensemble
    source = data_dir / "window-4" / "data_1.npy"
    (tmp_path / "preds.csv").mkdir()
    before = snapshot(tmp_path)
    assert main(["predict", "--ensemble", str(ensemble), "--input", str(source),
                 "--out", str(tmp_path / "preds.csv")]) == 2
    one_error_line(capsys, f"{tmp_path / 'preds.csv'}: cannot write (is a directory)")
    (tmp_path / "eval").write_text("a file")
    before = snapshot(tmp_path)
    assert main(["evaluate", "--results", str(out), "--test-data", str(data_dir), "--out",
                 str(tmp_path / "eval"), "--no-figures"]) == 2
    one_error_line(capsys, f"{tmp_path / 'eval'}: cannot write (exists and is not a folder)")
    assert snapshot(tmp_path) == before


def test_plot_validates_every_summary_before_drawing(trained, tmp_path, capsys):
    _, out = trained
    results = tmp_path / "results"
    shutil.copytree(out, results)
    summary = ArtifactPaths(results, "mlp", "MLP", 4).summary
    summary.write_text(summary.read_text()[:40])  # torn mid-write by a copy
    before = snapshot(results)
    assert main(["plot", "--results", str(results), "--dpi", "30"]) == 2
    one_error_line(capsys, str(summary), "corrupt JSON")
    assert snapshot(results) == before
    assert not (results / "performance_visualization").exists()


def _truncate(path):
    path.write_bytes(path.read_bytes()[:-100])


def _pickle(path):
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)


@pytest.mark.parametrize("damage, words", [
    (_truncate, "truncated: the header promises 24 rows of 193 values, the file holds fewer bytes"),
    (lambda path: (path.unlink(), path.mkdir()), "is a directory, not a .npy file"),
    (lambda path: (path.unlink(), path.symlink_to(path)), "is a symbolic link loop"),
    (lambda path: path.write_text("1,2,3\n4,5,6\n"), "no NumPy header); it looks like a text or CSV file"),
    (_pickle, "not a numeric NumPy array (pickled Python objects, dtype object)"),
])
def test_a_damaged_class_file_says_what_it_is(tmp_path, capsys, damage, words):
    data_dir = write_synthetic(tmp_path / "data", days=(4,), n0=24, n1=16)
    damage(data_dir / "window-4" / "data_0.npy")
    out = tmp_path / "results"
    assert main(["train", "--data", str(data_dir), "--out", str(out), "--models", "mlp", "--windows", "4",
                 "--steps-per-day", str(SPD), "--epochs", "1", "--folds", "2", "--quiet"]) == 2
    line = one_error_line(capsys, str(data_dir / "window-4" / "data_0.npy"), words)
    assert "allow_pickle" not in line
    assert not out.exists() or not any(out.rglob("*.json"))
