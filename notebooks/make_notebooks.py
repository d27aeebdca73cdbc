"""Generate the notebooks in this folder from one template.

    python notebooks/make_notebooks.py          # rewrite all six notebooks
    python notebooks/make_notebooks.py --check  # exit 1 if a stored notebook differs

The five model notebooks (GRU, LSTM, RNN, MLP, Transformer) differ only in the
model name; Result_drawing draws the figures. Notebooks are written without
outputs and with fixed cell ids, so regenerating them gives identical files.
Edit this script, not the .ipynb files.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

# file stem -> registry name
MODELS = {"GRU": "gru", "LSTM": "lstm", "RNN": "rnn", "MLP": "mlp", "Transformer": "transformer"}

SETTINGS = '''\
# Settings: every value can be set from the environment, nothing needs editing.
# The defaults are what `bash scripts/demo.sh` writes (paths relative to this notebook).
import json
import os
from pathlib import Path

E = os.environ.get
DATA_DIR = Path(E("SEISMAG_DATA_DIR", "../demo/data"))
RESULTS_DIR = Path(E("SEISMAG_RESULTS_DIR", "../demo/results"))
LOG_DIR = Path(E("SEISMAG_LOG_DIR", "../demo/logs"))
STEPS_PER_DAY = int(E("SEISMAG_STEPS_PER_DAY", "1440"))   # 1440: one sample a minute
PRESET = E("SEISMAG_PRESET", "quick")                      # "paper": the SPEC's full protocol
WINDOWS = [int(w) for w in E("SEISMAG_WINDOWS", "7,14,30").split(",")]
EPOCHS = int(E("SEISMAG_EPOCHS")) if E("SEISMAG_EPOCHS") else None              # None: the preset's
FOLDS = int(E("SEISMAG_FOLDS")) if E("SEISMAG_FOLDS") else None                 # None: the preset's
BATCH_SIZE = int(E("SEISMAG_BATCH_SIZE")) if E("SEISMAG_BATCH_SIZE") else None  # None: the preset's
MODEL_OVERRIDES = json.loads(E("SEISMAG_MODEL_OVERRIDES", "{}"))  # e.g. {"*": {"hidden_sizes": [64, 32]}}
'''

PLOT_SETTINGS = '''\
# Settings: every value can be set from the environment, nothing needs editing.
# The default is what `bash scripts/demo.sh` writes (path relative to this notebook).
import os
from pathlib import Path

E = os.environ.get
BASE_DIR = Path(E("SEISMAG_RESULTS_DIR", "../demo/results"))   # the SPEC's name for the results folder
DPI = float(E("SEISMAG_DPI", "300"))    # the SPEC uses 600
FORMAT = E("SEISMAG_FORMAT", "png")     # png | pdf | svg
'''

ENSURE_DATA = '''\
# No data yet? Write the synthetic 'quick' dataset there (as `seismag synth` does).
from seismag.synth.windows import generate_dataset

if not DATA_DIR.exists():
    print(f"{DATA_DIR} does not exist: writing synthetic data there")
    generate_dataset(DATA_DIR, preset="quick", windows=tuple(WINDOWS), steps_per_day=STEPS_PER_DAY)
print("data:", DATA_DIR.resolve())
print("results:", RESULTS_DIR.resolve())
'''

PROTOCOL = """\
**Evaluation protocol: read this before quoting a score** (README, "Evaluation protocol").
The default split (the SPEC's) is stratified k-fold over windows. Windows that precede one
earthquake recorded by several stations, or overlapping windows of one station, are not
independent and can sit on both sides of a fold, which makes scores optimistic; with a
`meta.csv`, a group split (`split="group"`) or a time split (`split="time"`) avoids that.
Choosing each fold's epoch by the same validation rows it is scored on (`selection: outer`,
the SPEC's way) flatters weak signals. Weighted F1 on imbalanced data is high even for a
majority-class guess: compare against that, and look at MCC and ROC AUC (0 and 0.5 at
chance). The summary table below states the split, scaling and epoch selection that
produced its numbers."""


def model_cells(title: str, model: str) -> list:
    md, code = new_markdown_cell, new_code_cell
    return [
        md(f"# {title}: geomagnetic earthquake-precursor classification\n\n"
           f"Trains the {title} classifier with k-fold cross-validation and an F1-weighted ensemble, "
           "in the SPEC's six modules. Every step calls the `seismag` package; the same run from "
           f"the command line is `seismag train --data DATA_DIR --models {model} --out RESULTS_DIR`.\n\n"
           "Paths and sizes come from the first cell (environment variables `SEISMAG_DATA_DIR`, "
           "`SEISMAG_RESULTS_DIR`, `SEISMAG_STEPS_PER_DAY`, `SEISMAG_PRESET`, `SEISMAG_WINDOWS`, "
           "`SEISMAG_EPOCHS`, `SEISMAG_FOLDS`, `SEISMAG_BATCH_SIZE`, `SEISMAG_MODEL_OVERRIDES` as JSON). "
           "By default they point at the output of `bash scripts/demo.sh`; when the data folder "
           "does not exist, synthetic data is written there. Note: training writes into "
           "`RESULTS_DIR`, replacing this model's earlier results there."),
        code(SETTINGS + f'MODEL = "{model}"\n'),
        code(ENSURE_DATA),
        md("## 1 Environment\n\nVersions, CPUs, GPUs and memory; fixed random seeds; the device "
           "training will use."),
        code("from seismag.spec.compat import *\n\n"
             "env_info = check_environment()\n"
             "print_environment_info(env_info)\n"
             "set_random_seeds(42)\n"
             "device = get_device()\n"
             "get_memory_usage(device)"),
        md("## 2 Data analysis\n\nClass counts, imbalance ratio and severity, the suggested strategy "
           "and class weights for every window (`seismag analyze`)."),
        code("analyzer = DatasetAnalyzer(DATA_DIR, window_periods=WINDOWS, steps_per_day=STEPS_PER_DAY)\n"
             "analysis = analyzer.analyze_all_windows()\n"
             "print(analyzer.format_report())"),
        md("## 3 Utilities\n\nLogging to `LOG_DIR` and the class weights of the first window. Training "
           "computes the weights again on each fold's training rows only (method `sqrt` by default)."),
        code("import seismag\n"
             "from seismag.dataset.loading import load_window\n\n"
             "logger = setup_logging(log_dir=LOG_DIR)\n"
             "data = load_window(DATA_DIR, WINDOWS[0], STEPS_PER_DAY)\n"
             'print(f"{WINDOWS[0]}-day window: {data.n_samples} samples, class counts {data.class_counts}")\n'
             'for method in ("sqrt", "inverse", "balanced", "effective"):\n'
             '    print(f"{method:>10}:", calculate_class_weights(data.labels, method=method).tolist())'),
        md("## 4 Model\n\nThe run's configuration (`PRESET` plus the overrides above) and "
           f"the {title} it builds for the first window; then the sizes of every model's paper preset "
           "for a 7-day window (`seismag models`)."),
        code("import seismag.config\n"
             "import seismag.models\n\n"
             "config = seismag.config.make_config(\n"
             "    PRESET, models=[MODEL], windows=WINDOWS, steps_per_day=STEPS_PER_DAY, epochs=EPOCHS,\n"
             "    num_folds=FOLDS, batch_size=BATCH_SIZE, model_overrides=MODEL_OVERRIDES)\n"
             "from seismag.training.prepared import resolved_model_config\n\n"
             "entry = seismag.models.get_model_entry(MODEL)\n"
             "model = seismag.models.build_model(\n"
             "    MODEL, resolved_model_config(config, MODEL, WINDOWS[0], STEPS_PER_DAY))\n"
             "info = model.get_model_info()\n"
             'print(info["architecture"])\n'
             'print(f"{info[\'total_params\']:,} parameters ({info[\'size_mb\']:.2f} MiB)")\n'
             "print()\n"
             "print(seismag.models.format_model_table(7))"),
        md("## 5 Training with k-fold cross-validation\n\n" + PROTOCOL),
        code("from seismag.training.pipeline import run_experiment\n\n"
             "print(json.dumps(config.to_dict(), indent=1))\n"
             "results = run_experiment(config, DATA_DIR, RESULTS_DIR, progress=False)"),
        md("## 6 Orchestration: summary and ensemble\n\nMean ± std over the folds for every window, "
           "then the F1-weighted ensemble of the fold models, loaded from disk, scoring a few rows of "
           "the data (each fold model applies its own fold's scaling). These rows were seen in "
           "training by most fold models: this only shows how to use the ensemble "
           "(`seismag predict`), it is not an evaluation."),
        code("print(format_summary_table(results))"),
        code("from seismag.training.artifacts import ArtifactPaths\n"
             "from seismag.inference import load_trained_ensemble, predict_array\n\n"
             "for days in WINDOWS:\n"
             "    path = ArtifactPaths(RESULTS_DIR, MODEL, entry.display_name, days).ensemble\n"
             "    ensemble = load_trained_ensemble(path)\n"
             "    window = load_window(DATA_DIR, days, STEPS_PER_DAY)\n"
             "    rows = list(range(3)) + list(range(window.n_samples - 3, window.n_samples))\n"
             "    scores = predict_array(ensemble, window.features[rows])\n"
             '    print(f"{path.name}: {len(ensemble.models)} fold models")\n'
             '    print("  label  p(class 1)  predicted  confidence")\n'
             "    for label, p, c, conf in zip(window.labels[rows], scores['prob_class1'],\n"
             "                                 scores['predicted_class'], scores['confidence']):\n"
             '        print(f"  {label:>5}  {p:>10.3f}  {c:>9}  {conf:>10.3f}")'),
    ]


def drawing_cells() -> list:
    md, code = new_markdown_cell, new_code_cell
    plot = ("written = seismag.plots.{fn}(BASE_DIR, dpi=DPI, fmt=FORMAT)\n"
            "show(written)")
    return [
        md("# Result drawing\n\nThe SPEC's four figure modules and the HTML report, drawn from the "
           "results folder that training wrote (`seismag plot` and `seismag report`). Figures go to "
           "`BASE_DIR/performance_visualization/`. Settings come from the first cell "
           "(`BASE_DIR`, the SPEC's name, from `SEISMAG_RESULTS_DIR`; `SEISMAG_DPI`, `SEISMAG_FORMAT`); by default it is the output of "
           "`bash scripts/demo.sh`. Whatever models and windows the folder holds are drawn; what is "
           "missing is listed, not an error.\n\n" + PROTOCOL.replace(
               "The summary table below states", "The report states")),
        code(PLOT_SETTINGS),
        code("import seismag.plots\n"
             "from IPython.display import Image, display\n\n"
             "def show(written):\n"
             '    """List the files a plot function wrote, show the PNGs, and say what it skipped."""\n'
             "    for path in written:\n"
             "        print(path)\n"
             '        if path.suffix == ".png":\n'
             "            display(Image(filename=str(path), width=700))\n"
             "    for note in written.notes:\n"
             '        print("skipped:", note)'),
        md("## 1 Training curves\n\nLoss and F1 per epoch, mean over the folds, one figure per window."),
        code(plot.format(fn="plot_training_curves")),
        md("## 2 Model comparison\n\nRadar chart and scatter plots (F1 stability, normalised MCC vs F1, "
           "precision vs recall) per window."),
        code(plot.format(fn="plot_model_comparison")),
        md("## 3 ROC curves\n\nFrom the validation probabilities of every fold, one panel per window."),
        code(plot.format(fn="plot_roc_curves")),
        md("## 4 Confusion matrices\n\nFold-averaged, one per model and window."),
        code(plot.format(fn="plot_confusion_matrices")),
        md("## Report\n\nOne self-contained HTML page: tables, the protocol, figures, the configuration."),
        code("import seismag.report\n\n"
             "report = seismag.report.write_report(BASE_DIR)\n"
             'print("report:", report.resolve())'),
    ]


def build(cells: list, stem: str) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):
        cell.id = f"{stem.lower()}-{i:02d}"  # fixed ids: regenerating gives identical files
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nbformat.validate(nb)
    return nb


def notebooks() -> dict[str, nbformat.NotebookNode]:
    out = {f"{stem}.ipynb": build(model_cells(stem, model), stem) for stem, model in MODELS.items()}
    out["Result_drawing.ipynb"] = build(drawing_cells(), "Result_drawing")
    return out


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, nb in notebooks().items():
        text = nbformat.writes(nb) + "\n"
        path = HERE / name
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print("wrote", path)
    if stale:
        print("out of date (run python notebooks/make_notebooks.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
