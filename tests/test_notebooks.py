"""The notebooks in notebooks/ run, at toy size, against the installed package.

Every model notebook is executed with nbclient into one shared results folder
(1 window x 2 folds x 2 epochs, tiny networks, 48 samples a day), then
Result_drawing draws from it. The first notebook finds no data folder and
writes the synthetic data itself, which covers that branch too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from seismag.config import small_models  # noqa: E402
from seismag.models import get_model_entry  # noqa: E402

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
MODEL_NOTEBOOKS = {"GRU": "gru", "LSTM": "lstm", "RNN": "rnn", "MLP": "mlp", "Transformer": "transformer"}
ALL_NOTEBOOKS = [f"{stem}.ipynb" for stem in MODEL_NOTEBOOKS] + ["Result_drawing.ipynb"]
TINY_OVERRIDES = small_models([8, 4], d_model=8, nhead=2)


def execute(path: Path, env: dict[str, str], cwd: Path):
    """Run a notebook in a fresh kernel; returns (notebook, error or None)."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                     resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute(env=env)
    except Exception as exc:  # CellExecutionError carries the cell and traceback
        return nb, exc
    return nb, None


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Execute all six notebooks once, in order; {name: (executed notebook, error)}."""
    root = tmp_path_factory.mktemp("notebooks")
    env = {**os.environ,
           "SEISMAG_DATA_DIR": str(root / "data"),  # absent: the first notebook writes it
           "SEISMAG_RESULTS_DIR": str(root / "results"),
           "SEISMAG_LOG_DIR": str(root / "logs"),
           "SEISMAG_STEPS_PER_DAY": "48",
           "SEISMAG_PRESET": "quick",
           "SEISMAG_WINDOWS": "7",
           "SEISMAG_EPOCHS": "2",
           "SEISMAG_FOLDS": "2",
           "SEISMAG_BATCH_SIZE": "16",
           "SEISMAG_MODEL_OVERRIDES": json.dumps(TINY_OVERRIDES),
           "SEISMAG_DPI": "40",
           "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1",
           "MPLBACKEND": "Agg"}
    done = {}
    for name in ALL_NOTEBOOKS:
        done[name] = execute(NOTEBOOK_DIR / name, env, cwd=root)
    return root, done


def cell_error(nb, error) -> str:
    return f"{error}" if error else ""


@pytest.mark.parametrize("stem", [s
                                  for s in MODEL_NOTEBOOKS])
def test_model_notebook_runs_and_writes_artifacts(run, stem):
    root, done = run
    nb, error = done[f"{stem}.ipynb"]
    assert error is None, f"{stem}.ipynb failed:\n{cell_error(nb, error)}"
    model = MODEL_NOTEBOOKS[stem]
    folder = root / "results" / f"{model}_models"
    prefix = f"{get_model_entry(model).display_name}Model_7day"
    for suffix in ("ensemble.pth", "ensemble_config.json", "summary.json", "fold_1.pth", "fold_2.pth"):
        assert (folder / f"{prefix}_{suffix}").is_file(), f"{prefix}_{suffix} missing"
    summary = json.loads((folder / f"{prefix}_summary.json").read_text())
    assert len(summary["val_f1s"]) == 2
    text = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []))
    assert "split: stratified (2 folds)" in text  # the summary table states its protocol
    assert "p(class 1)" in text  # the ensemble scored rows


def test_first_notebook_wrote_the_missing_data(run):
    root, _ = run
    assert (root / "data" / "window-7" / "data_0.npy").is_file()
    assert (root / "data" / "window-7" / "data_1.npy").is_file()
    assert list((root / "logs").glob("training_*.log"))


def test_result_drawing_draws_every_module(run):
    root, done = run
    nb, error = done["Result_drawing.ipynb"]
    assert error is None, f"Result_drawing.ipynb failed:\n{cell_error(nb, error)}"
    figures = root / "results" / "performance_visualization"
    expected = ["Performance_Analysis/Model_Performance_7day.png",
                "Model_Comparison_Analysis/Radar_Chart_7day.png",
                "ROC_analysis/multi_model_roc_curves.png",
                "Individual_Confusion_Matrices/horizontal_colorbar.png"]
    trained = [m for stem, m in MODEL_NOTEBOOKS.items() if done[f"{stem}.ipynb"][1] is None]
    assert len(trained) >= 4
    expected += [f"Individual_Confusion_Matrices/Confusion_Matrix_{get_model_entry(m).display_name}_7day.png"
                 for m in trained]
    for name in expected:
        assert (figures / name).is_file(), f"{name} missing"
    assert (root / "results" / "report.html").is_file()
    images = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
              if "image/png" in out.get("data", {})]
    assert images, "the figures were not displayed"


@pytest.mark.parametrize("name", ALL_NOTEBOOKS)
def test_stored_notebooks_have_no_outputs(name):
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{name}: cell {cell.id} has outputs"


def test_stored_notebooks_match_the_generator():
    result = subprocess.run([sys.executable, str(NOTEBOOK_DIR / "make_notebooks.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_kernel_runs_this_python(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys; print(sys.executable)")])
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=60,
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    printed = nb.cells[0].outputs[0]["text"].strip()
    assert Path(printed).resolve() == Path(sys.executable).resolve()
