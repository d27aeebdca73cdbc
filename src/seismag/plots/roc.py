"""Fold-averaged ROC curves of every model, one panel per window (SPEC Result_drawing, Module 3).

For each model and window, every fold's ROC curve (from its
``_test_probs.npy`` / ``_test_labels.npy``) is interpolated with
:func:`numpy.interp` onto a common false-positive-rate grid and the true
positive rates are averaged. The AUC shown is the mean of the per-fold AUCs
(:func:`sklearn.metrics.roc_auc_score`) with its standard error,
``std(ddof=1) / sqrt(n_folds)``; the legend is sorted by that mean AUC.

Files written (under ``performance_visualization/``)::

    ROC_analysis/multi_model_roc_curves.{fmt}     one panel per window present
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score, roc_curve

from seismag.plots.request import FigureRequest, ModelFilter, PathLike, WindowFilter
from seismag.plots.results import ModelEntry, NothingToPlot, PlotResult, ResultsFolder, note, window_name
from seismag.plots.style import model_colors, new_figure, publication_style

SUBFOLDER = "ROC_analysis"
FILE_STEM = "multi_model_roc_curves"

#: The common false-positive-rate grid, shape (201,).
FPR_GRID = np.linspace(0.0, 1.0, 201)


@dataclass
class RocCurve:
    """A model's fold-averaged ROC curve in one window.

    ``fpr`` is the common grid, shape ``(n_points,)``; ``mean_tpr`` and
    ``std_tpr`` have the same shape; ``aucs`` holds one AUC per fold in
    ``folds`` (1-based fold numbers).
    """

    model: str
    window_days: int
    fpr: np.ndarray
    mean_tpr: np.ndarray
    std_tpr: np.ndarray
    aucs: np.ndarray
    folds: list[int] = field(default_factory=list)

    @property
    def mean_auc(self) -> float:
        return float(np.mean(self.aucs))

    @property
    def se_auc(self) -> float:
        """Standard error of the mean AUC (``nan`` with a single fold)."""
        n = self.aucs.size
        return float(np.std(self.aucs, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")

    @property
    def label(self) -> str:
        """Legend text, e.g. ``GRU (AUC = 0.812 ± 0.013)``."""
        if self.aucs.size > 1:
            return f"{self.model} (AUC = {self.mean_auc:.3f} ± {self.se_auc:.3f})"
        return f"{self.model} (AUC = {self.mean_auc:.3f}, 1 fold)"


def fold_roc(probs: np.ndarray, labels: np.ndarray, grid: np.ndarray = FPR_GRID) -> tuple[np.ndarray, float]:
    """One fold's TPR on ``grid`` (starting at 0) and its AUC."""
    fpr, tpr, _ = roc_curve(labels, probs)
    tpr_on_grid = np.interp(grid, fpr, tpr)
    tpr_on_grid[0] = 0.0
    return tpr_on_grid, float(roc_auc_score(labels, probs))


def compute_roc(
    results: ResultsFolder, model: ModelEntry | str, window_days: int,
    notes: list[str] | None = None, grid: np.ndarray = FPR_GRID,
) -> RocCurve | None:
    """Average the ROC curves of every fold with validation probabilities and labels.

    Folds whose labels hold a single class have no ROC curve; they are left
    out with a note. Returns ``None`` when no fold is usable.
    """
    entry = results.model(model)
    where = f"{entry.display_name} {window_name(window_days)}"
    tprs, aucs, used = [], [], []
    for fold in results.folds(entry, window_days, require=("test_probs", "test_labels")):
        probs, labels = results.predictions(entry, window_days, fold)
        if np.unique(labels).size < 2:
            note(notes, f"{where} fold {fold}: validation labels hold one class only; no ROC curve")
            continue
        tpr, auc = fold_roc(probs, labels, grid)
        tprs.append(tpr)
        aucs.append(auc)
        used.append(fold)
    if not tprs:
        return None
    results.note_missing_folds(entry, window_days, used, "ROC curve", notes)
    stacked = np.vstack(tprs)
    mean_tpr = stacked.mean(axis=0)
    mean_tpr[-1] = 1.0
    return RocCurve(model=entry.display_name, window_days=int(window_days), fpr=np.asarray(grid),
                    mean_tpr=mean_tpr, std_tpr=stacked.std(axis=0), aucs=np.array(aucs), folds=used)


def build_roc_figure(panels: Sequence[tuple[int, Sequence[RocCurve]]], colors: dict[str, str]) -> Figure:
    """One panel per ``(window_days, curves)``; each legend sorted by mean AUC, below its panel."""
    n = len(panels)
    fig = new_figure((5.6 * n, 7.0))
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, (window, curves) in zip(axes, panels):
        ax.plot([0, 1], [0, 1], linestyle="--", color="0.55", linewidth=1.2, label="_chance")
        for curve in sorted(curves, key=lambda c: (-c.mean_auc, c.model)):
            ax.plot(curve.fpr, curve.mean_tpr, color=colors[curve.model], linewidth=2.0, label=curve.label)
        ax.set_xlim(-0.01, 1.01)
        ax.set_ylim(-0.01, 1.01)
        ax.set_aspect("equal")
        ax.set_xlabel("False positive rate")
        ax.set_ylabel("True positive rate")
        ax.set_title(f"{window}-day window")
        # Below the axes, so the legend never hides a curve.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1, fontsize=11,
                  handlelength=2.2, borderaxespad=0.0)
    fig.tight_layout(w_pad=2.0)
    return fig


def plot_roc_curves(results_dir: PathLike, dpi: float = 600, fmt: str = "png", windows: WindowFilter = None,
                    models: ModelFilter = None, *, out_dir: PathLike | None = None) -> PlotResult:
    """Draw ``ROC_analysis/multi_model_roc_curves.{fmt}``.

    One panel per window that has validation probabilities for some model. Arguments,
    return value and errors as in :func:`seismag.plots.plot_training_curves`; nothing to
    draw is no fold of any model with validation probabilities and labels.
    """
    request = FigureRequest.open(results_dir, SUBFOLDER, dpi=dpi, fmt=fmt, windows=windows, models=models,
                                 out_dir=out_dir)
    results, out = request.results, request.out
    colors = model_colors([e.display_name for e in results.models])
    panels = request.panels(compute_roc, "left out of the ROC curves", "no usable validation probabilities",
                            empty="no validation probabilities for any model; no ROC panel")
    if not panels:
        raise NothingToPlot(f"{results.path}: no validation probabilities (*_test_probs.npy with "
                            "*_test_labels.npy) to draw ROC curves from")
    with publication_style():
        request.save(build_roc_figure(panels, colors), FILE_STEM)
    return out
