"""Fold-averaged confusion matrices (SPEC Result_drawing, Module 4).

For each model and window, each fold's confusion matrix is computed from its
validation probabilities (class 1 when ``p >= 0.5``, the rule training uses for
its fold metrics) and labels; the matrices are averaged over folds, so a
cell holds the mean count per fold. All matrices share one colour scale
(0 to the largest cell of any matrix drawn), shown once in a separate
horizontal colour bar. Every matrix figure has the same fixed size.

Files written (under ``performance_visualization/Individual_Confusion_Matrices/``)::

    Confusion_Matrix_{Model}_{N}day.{fmt}    one per model and window (15 for 5 x 3)
    horizontal_colorbar.{fmt}                the shared colour scale
"""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from sklearn.metrics import confusion_matrix

from seismag.plots.request import FigureRequest, ModelFilter, PathLike, WindowFilter
from seismag.plots.results import ModelEntry, NothingToPlot, PlotResult, ResultsFolder, window_name
from seismag.plots.style import new_figure, publication_style

SUBFOLDER = "Individual_Confusion_Matrices"
COLORBAR_STEM = "horizontal_colorbar"
CMAP = "Blues"
THRESHOLD = 0.5
CLASS_LABELS = ("Normal (0)", "Precursor (1)")


@dataclass
class AveragedConfusion:
    """Mean confusion matrix over ``folds``: shape ``(2, 2)``, rows true class, columns predicted."""

    model: str
    window_days: int
    matrix: np.ndarray
    folds: list[int] = field(default_factory=list)


def fold_confusion(probs: np.ndarray, labels: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """Counts ``[[TN, FP], [FN, TP]]`` of one fold, shape ``(2, 2)``."""
    predicted = (np.asarray(probs) >= threshold).astype(np.int64)
    return confusion_matrix(np.asarray(labels), predicted, labels=[0, 1])


def averaged_confusion(
    results: ResultsFolder, model: ModelEntry | str, window_days: int,
    notes: list[str] | None = None,
) -> AveragedConfusion | None:
    """Mean of the per-fold confusion matrices, or ``None`` when no fold has predictions."""
    entry = results.model(model)
    folds = results.folds(entry, window_days, require=("test_probs", "test_labels"))
    if not folds:
        return None
    results.note_missing_folds(entry, window_days, folds, "confusion matrix", notes)
    matrices = [fold_confusion(*results.predictions(entry, window_days, fold)) for fold in folds]
    return AveragedConfusion(entry.display_name, int(window_days),
                             np.mean(np.stack(matrices).astype(np.float64), axis=0), folds)


def build_confusion_figure(item: AveragedConfusion, vmax: float, cmap: str = CMAP) -> Figure:
    """One matrix on a fixed-size figure (no colour bar; see :func:`build_colorbar_figure`).

    Each cell shows the mean count per fold and, below it, the share of its
    true-class row.
    """
    fig = new_figure((4.4, 4.5))
    # Fixed axes box: every matrix lines up when placed side by side.
    ax = fig.add_axes((0.19, 0.15, 0.74, 0.68))
    norm = Normalize(vmin=0.0, vmax=vmax)
    colormap = matplotlib.colormaps[cmap]
    ax.imshow(item.matrix, cmap=colormap, norm=norm, aspect="equal")
    row_totals = item.matrix.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(row_totals > 0, item.matrix / row_totals, 0.0)
    for i in range(2):
        for j in range(2):
            value = item.matrix[i, j]
            r, g, b, _ = colormap(norm(value))
            text_color = "white" if (0.299 * r + 0.587 * g + 0.114 * b) < 0.5 else "black"
            ax.text(j, i, f"{value:.1f}\n({shares[i, j]:.1%})", ha="center", va="center",
                    fontsize=13, color=text_color, fontweight="bold")
    ax.set_xticks([0, 1], labels=CLASS_LABELS)
    ax.set_yticks([0, 1], labels=CLASS_LABELS, rotation=90, va="center")
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(True)
    ax.tick_params(length=0)
    n = len(item.folds)
    ax.set_title(f"{item.model}, {item.window_days}-day\n(mean of {n} fold{'s' if n != 1 else ''})",
                 fontsize=13)
    return fig


def build_colorbar_figure(vmax: float, cmap: str = CMAP) -> Figure:
    """The shared colour scale as a horizontal bar on its own figure."""
    fig = new_figure((6.0, 1.2))
    cax = fig.add_axes((0.05, 0.55, 0.90, 0.25))
    fig.colorbar(ScalarMappable(norm=Normalize(vmin=0.0, vmax=vmax), cmap=matplotlib.colormaps[cmap]),
                 cax=cax, orientation="horizontal")
    cax.grid(False)
    cax.set_xlabel("Mean count per fold", fontsize=12)
    cax.tick_params(labelsize=11)
    return fig


def plot_confusion_matrices(results_dir: PathLike, dpi: float = 600, fmt: str = "png", windows: WindowFilter = None,
                            models: ModelFilter = None, *, out_dir: PathLike | None = None) -> PlotResult:
    """Draw one fold-averaged confusion matrix per model and window, and the shared colour bar.

    File names are listed in the module docstring. Arguments, return value and errors as
    in :func:`seismag.plots.plot_training_curves`; nothing to draw is no fold of any model
    with validation probabilities and labels.
    """
    request = FigureRequest.open(results_dir, SUBFOLDER, dpi=dpi, fmt=fmt, windows=windows, models=models,
                                 out_dir=out_dir)
    results, out = request.results, request.out
    items = []
    for window in request.days:
        items += request.collect(window, averaged_confusion, "no confusion matrix", "no validation probabilities")
    if not items:
        raise NothingToPlot(f"{results.path}: no validation probabilities (*_test_probs.npy with "
                            "*_test_labels.npy) to draw confusion matrices from")
    vmax = max(float(item.matrix.max()) for item in items) or 1.0
    with publication_style():
        for item in items:
            request.save(build_confusion_figure(item, vmax),
                         f"Confusion_Matrix_{item.model}_{window_name(item.window_days)}", tight=False)
        request.save(build_colorbar_figure(vmax), COLORBAR_STEM, tight=True)
    return out
