"""The figures: every file, formats and DPI, and the numbers they show."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import roc_auc_score

from seismag.errors import ConfigError, SeismagError
from seismag.plots import (
    COLORS, plot_all, plot_confusion_matrices, plot_model_comparison, plot_roc_curves,
    plot_training_curves,
)
from seismag.plots.confusion import averaged_confusion
from seismag.plots.curves import average_logs
from seismag.layout.results import EpochLog
from seismag.plots.results import ResultsFolder
from seismag.plots.roc import compute_roc
from seismag.plots.style import model_colors

MODELS = ("GRU", "LSTM", "RNN", "MLP", "Transformer")
WINDOWS = ("7day", "14day", "30day")


def expected_files(models=MODELS, windows=WINDOWS, fmt="png") -> set[str]:
    files = {f"Performance_Analysis/Model_Performance_{w}.{fmt}" for w in windows}
    for w in windows:
        for stem in ("Radar_Chart", "F1_Stability", "NormMCC_vs_F1", "Precision_vs_Recall"):
            files.add(f"Model_Comparison_Analysis/{stem}_{w}.{fmt}")
    files |= {f"Model_Comparison_Analysis/Legend_Radar.{fmt}", f"Model_Comparison_Analysis/Legend_Scatter.{fmt}"}
    files.add(f"ROC_analysis/multi_model_roc_curves.{fmt}")
    files |= {f"Individual_Confusion_Matrices/Confusion_Matrix_{m}_{w}.{fmt}" for m in models for w in windows}
    files.add(f"Individual_Confusion_Matrices/horizontal_colorbar.{fmt}")
    files.add(f"Reliability_analysis/reliability_diagrams.{fmt}")
    return files


def relative(paths, root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in paths}


def svg_texts(path: Path) -> list[str]:
    """Text drawn in a matplotlib SVG (it writes each line of text as a comment before its glyphs)."""
    return [t.strip() for t in re.findall(r"<!-- (.*?) -->", path.read_text(encoding="utf-8"), re.S)]


def test_plot_all_writes_every_figure_at_the_requested_dpi(plotted_full):
    root, written = plotted_full
    figures = root / "performance_visualization"
    assert relative(written, figures) == expected_files()
    # 3 curves + 12 comparison + 2 legends + 1 ROC + 15 matrices + 1 colour bar + 1 reliability
    assert len(written) == 35
    on_disk = {p.relative_to(figures).as_posix() for p in figures.rglob("*") if p.is_file()}
    assert on_disk == expected_files(), "stray files (e.g. atomic-write temporaries) left behind"
    assert written.notes == []
    for path in written:
        assert path.stat().st_size > 1000, path
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert tuple(round(d) for d in image.info["dpi"]) == (60, 60), path


def test_confusion_matrices_share_one_fixed_size(plotted_full):
    root, written = plotted_full
    sizes = set()
    for path in written:
        if path.name.startswith("Confusion_Matrix_"):
            with Image.open(path) as image:
                sizes.add(image.size)
    assert len(sizes) == 1


def test_default_dpi_is_600(fresh_results):
    (path,) = plot_roc_curves(fresh_results, windows=[7], models=["gru"])
    with Image.open(path) as image:
        assert tuple(round(d) for d in image.info["dpi"]) == (600, 600)


@pytest.mark.parametrize("fmt, magic", [("pdf", b"%PDF-"), ("svg", b"<svg")])
def test_vector_formats(fresh_results, fmt, magic):
    written = plot_all(fresh_results, dpi=60, fmt=fmt)
    figures = fresh_results / "performance_visualization"
    assert relative(written, figures) == expected_files(("GRU", "LSTM"), ("7day", "14day"), fmt)
    for path in written:
        head = path.read_bytes()[:4096]
        assert magic in head, path


def test_bad_format_and_dpi_are_config_errors(fresh_results):
    with pytest.raises(ConfigError, match="jpeg"):
        plot_all(fresh_results, fmt="jpeg")
    with pytest.raises(ConfigError, match="dpi"):
        plot_roc_curves(fresh_results, dpi=0)


def test_roc_legend_auc_is_mean_of_per_fold_aucs(full_results, tmp_path):
    (svg,) = plot_roc_curves(full_results, fmt="svg", out_dir=tmp_path)
    legend = [re.fullmatch(r"(\w+) \(AUC = ([0-9.]+) ± ([0-9.]+)\)", t) for t in svg_texts(svg)]
    legend = [m.groups() for m in legend if m]
    assert len(legend) == 15  # 5 models x 3 panels
    shown = {}
    for panel in range(3):  # panels are drawn 7, 14, 30; each legend sorted by AUC
        entries = legend[panel * 5:(panel + 1) * 5]
        aucs_shown = [float(a) for _m, a, _s in entries]
        assert aucs_shown == sorted(aucs_shown, reverse=True)
        shown.update({(model, (7, 14, 30)[panel]): (a, s) for model, a, s in entries})
    for model in MODELS:
        for window in (7, 14, 30):
            folder = full_results / f"{model.lower()}_models"
            aucs = []
            for fold in (1, 2, 3):
                base = folder / f"{model}Model_{window}day_fold_{fold}"
                labels = np.load(f"{base}_test_labels.npy")
                probs = np.load(f"{base}_test_probs.npy")
                aucs.append(roc_auc_score(labels, probs))
            mean, se = np.mean(aucs), np.std(aucs, ddof=1) / np.sqrt(len(aucs))
            assert shown[(model, window)] == (f"{mean:.3f}", f"{se:.3f}")
            curve = compute_roc(ResultsFolder(full_results), model, window)
            assert curve.mean_auc == pytest.approx(mean, abs=1e-12)
            assert curve.fpr[0] == 0 and curve.mean_tpr[0] == 0 and curve.mean_tpr[-1] == 1
            assert np.all(np.diff(curve.mean_tpr) >= -1e-12)


def test_confusion_matrix_is_fold_average_by_hand(full_results, tmp_path):
    folder = full_results / "gru_models"
    cells = np.zeros((2, 2))
    for fold in (1, 2, 3):
        base = folder / f"GRUModel_7day_fold_{fold}"
        labels = np.load(f"{base}_test_labels.npy")
        predicted = np.load(f"{base}_test_probs.npy") >= 0.5
        fold_cells = np.zeros((2, 2))
        for true in (0, 1):
            for pred in (0, 1):
                fold_cells[true, pred] = np.sum((labels == true) & (predicted == pred))
        # Same decision rule as the fold's metrics: its accuracy follows from the matrix.
        metrics = json.loads(Path(f"{base}_metrics.json").read_text())
        assert np.trace(fold_cells) / fold_cells.sum() == pytest.approx(metrics["accuracy"])
        cells += fold_cells
    expected = cells / 3
    item = averaged_confusion(ResultsFolder(full_results), "gru", 7)
    np.testing.assert_allclose(item.matrix, expected)
    # The drawn numbers are those counts.
    written = plot_confusion_matrices(full_results, fmt="svg", windows=[7], models=["gru"], out_dir=tmp_path)
    texts = svg_texts(next(p for p in written if "GRU_7day" in p.name))
    for value in expected.ravel():
        assert f"{value:.1f}" in texts, (value, texts)
    assert "(mean of 3 folds)" in texts


def _log(epochs, val_acc, val_loss):
    n = len(epochs)
    values = {"train_acc": np.array(val_acc) + 0.05, "val_acc": np.array(val_acc, float),
              "train_loss": np.array(val_loss) - 0.05, "val_loss": np.array(val_loss, float),
              "lr": np.full(n, 1e-3)}
    return EpochLog(path=Path("x"), epochs=np.array(epochs), values=values)


def test_weighted_average_of_folds_with_early_stopping():
    long = _log([1, 2, 3, 4], [0.5, 0.6, 0.7, 0.8], [0.7, 0.6, 0.5, 0.4])
    short = _log([1, 2], [0.6, 0.9], [0.6, 0.3])
    curves = average_logs([long, short], [0.25, 0.75])
    assert curves.epochs.tolist() == [1, 2, 3, 4]
    assert curves.n_folds.tolist() == [2, 2, 1, 1]
    np.testing.assert_allclose(curves.mean["val_acc"], [0.575, 0.825, 0.7, 0.8])
    # weighted std at epoch 1: sqrt(0.25*(0.5-0.575)^2 + 0.75*(0.6-0.575)^2)
    assert curves.std["val_acc"][0] == pytest.approx(np.sqrt(0.25 * 0.075**2 + 0.75 * 0.025**2))
    assert curves.std["val_acc"][3] == 0
    # Legend key: weighted mean of each fold's own best validation accuracy.
    assert curves.best_val_acc == pytest.approx(0.25 * 0.8 + 0.75 * 0.9)


def test_training_curve_legend_sorted_by_validation_accuracy(full_results, tmp_path):
    (svg,) = plot_training_curves(full_results, fmt="svg", windows=["14day"], out_dir=tmp_path)
    entries = [re.fullmatch(r"(\w+) \((0\.\d{3})\)", t) for t in svg_texts(svg)]
    values = [float(m.group(2)) for m in entries if m]
    assert len(values) == 5 and values == sorted(values, reverse=True)


def test_partial_results_are_drawn_with_notes(partial_results, tmp_path):
    written = plot_all(partial_results, dpi=40, out_dir=tmp_path)
    names = relative(written, tmp_path)
    assert not any("MLP" in n for n in names)
    assert "Individual_Confusion_Matrices/Confusion_Matrix_Transformer_14day.png" in names
    assert "Individual_Confusion_Matrices/Confusion_Matrix_Transformer_30day.png" not in names
    assert "Individual_Confusion_Matrices/Confusion_Matrix_TCN_30day.png" in names
    assert "Model_Comparison_Analysis/Radar_Chart_30day.png" in names
    assert len(names) == 34  # 35 for five models, minus Transformer's 30-day matrix
    notes = "\n".join(written.notes)
    for expected in (
        "Transformer: no results for 30day; left out of the ROC curves",
        "GRU 7day: fold(s) 3 missing; ROC curve drawn from 2 of 3 folds",
        "GRU 7day: fold(s) 3 missing; confusion matrix drawn from 2 of 3 folds",
        "GRU 30day: fold(s) 2 missing; training curves drawn from 2 of 3 folds",
        "LSTM 14day: no ensemble config; folds averaged with equal weights",
        "RNN 14day: no summary JSON; metrics taken from RNNModel_14day_ensemble_config.json",
        "RNN 30day: no summary JSON; metrics taken from 3 per-fold _metrics.json file(s)",
        "RNN 14day: no summary JSON; left out of the reliability diagrams",
    ):
        assert expected in notes
    assert len(written.notes) == len(set(written.notes))


def test_partial_confusion_uses_existing_folds(partial_results):
    item = averaged_confusion(ResultsFolder(partial_results), "gru", 7)
    assert item.folds == [1, 2]


def test_filters_skip_unknown_models_and_windows_with_notes(fresh_results, tmp_path):
    written = plot_all(fresh_results, dpi=40, windows=[7, "60day"], models=["gru", "nosuch"], out_dir=tmp_path)
    names = relative(written, tmp_path)
    assert "Individual_Confusion_Matrices/Confusion_Matrix_GRU_7day.png" in names
    assert not any("LSTM" in n or "14day" in n for n in names)
    assert any("'nosuch'" in n for n in written.notes)
    assert any("60day" in n for n in written.notes)


def test_each_module_runs_alone(fresh_results, tmp_path):
    for plotter, count in ((plot_training_curves, 2), (plot_model_comparison, 10),
                           (plot_roc_curves, 1), (plot_confusion_matrices, 5)):
        assert len(plotter(fresh_results, dpi=40, out_dir=tmp_path)) == count


def test_nothing_usable_is_one_clear_error(tmp_path):
    with pytest.raises(SeismagError, match=re.escape(str(tmp_path))):
        plot_all(tmp_path)
    folder = tmp_path / "gru_models"
    folder.mkdir()
    (folder / "GRUModel_7day_fold_1.pth").write_bytes(b"x")
    with pytest.raises(SeismagError, match=re.escape(str(tmp_path)) + ": nothing usable"):
        plot_all(tmp_path)
    with pytest.raises(SeismagError, match="not found"):
        plot_all(tmp_path / "missing")


def test_colours_follow_the_spec_and_extend_to_new_models():
    colours = model_colors(["Transformer", "TCN", "gru", "LSTM", "MLP", "RNN", "Foo"])
    assert colours["gru"] == COLORS["GRU"] == "#E41A1C"
    assert colours["Transformer"] == "#FF7F00" and colours["MLP"] == "#4DAF4A"
    assert colours["RNN"] == "#984EA3" and colours["LSTM"] == "#377EB8"
    extra = {colours["TCN"], colours["Foo"]}
    assert len(extra) == 2 and not extra & {c.lower() for c in COLORS.values()}


@pytest.mark.parametrize("preference, expected", [
    (("No Such Font", "Another Missing Font", "DejaVu Sans"), "DejaVu Sans"),
    (("No Such Font",), "DejaVu Sans"),
])
def test_font_falls_back_without_warnings(fresh_results, tmp_path, caplog, monkeypatch, preference, expected):
    from seismag.plots import style

    monkeypatch.setattr(style, "FONT_PREFERENCE", preference)
    style.font_family.cache_clear()
    try:
        assert style.font_family() == expected
        with caplog.at_level(logging.WARNING):
            plot_roc_curves(fresh_results, dpi=30, out_dir=tmp_path)
    finally:
        style.font_family.cache_clear()
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]
