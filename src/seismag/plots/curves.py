"""Training and validation curves (SPEC Result_drawing, Module 1).

Per window, one 2x2 figure: training accuracy, validation accuracy, training
loss and validation loss over epochs. Each model's curve is the F1-weighted
average of its folds (weights = ``ensemble_weights`` of the ensemble config,
equal weights when it is absent) with a band of +/- one weighted standard
deviation across folds.

Files written (under ``performance_visualization/``)::

    Performance_Analysis/Model_Performance_{N}day.{fmt}     one per window
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from seismag.plots.request import FigureRequest, ModelFilter, PathLike, WindowFilter
from seismag.layout.results import EpochLog
from seismag.plots.results import ModelEntry, NothingToPlot, PlotResult, ResultsFolder, note, window_name
from seismag.plots.style import model_colors, new_figure, publication_style

SUBFOLDER = "Performance_Analysis"

#: (log key, panel title, y label) in panel order: row 1 accuracy, row 2 loss.
PANELS = (
    ("train_acc", "Training accuracy", "Accuracy"),
    ("val_acc", "Validation accuracy", "Accuracy"),
    ("train_loss", "Training loss", "Loss"),
    ("val_loss", "Validation loss", "Loss"),
)


@dataclass
class FoldAveragedCurves:
    """Weighted mean and spread over folds, per epoch.

    ``epochs`` has shape ``(n_epochs,)`` (1-based, every epoch any fold reached);
    ``mean[key]`` and ``std[key]`` have the same shape; ``n_folds[i]`` is how
    many folds reached epoch ``epochs[i]`` (folds that stopped early drop out,
    and the remaining folds' weights are renormalised at each epoch).
    """

    model: str
    epochs: np.ndarray
    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]
    n_folds: np.ndarray
    folds: list[int]
    weights: np.ndarray
    best_val_acc: float = float("nan")
    """Weighted mean over folds of each fold's best validation accuracy (the legend's
    sort key); taken per fold so a lone long-running fold cannot decide it."""


def average_logs(
    logs: Sequence[EpochLog],
    weights: Sequence[float],
    keys: Iterable[str] = ("train_acc", "val_acc", "train_loss", "val_loss"),
    model: str = "",
    folds: Sequence[int] = (),
) -> FoldAveragedCurves:
    """Weighted mean and weighted std over folds of each ``key``, epoch by epoch.

    Folds may have different lengths (early stopping): at each epoch only the
    folds that reached it count, with their weights renormalised to sum to 1.
    """
    if not logs:
        raise ValueError("average_logs needs at least one log")
    weights = np.asarray(weights, dtype=np.float64)
    epochs = np.unique(np.concatenate([log.epochs for log in logs]))
    index = {int(e): i for i, e in enumerate(epochs)}
    mean: dict[str, np.ndarray] = {}
    std: dict[str, np.ndarray] = {}
    present = np.zeros((len(logs), epochs.size), dtype=bool)
    for f, log in enumerate(logs):
        present[f, [index[int(e)] for e in log.epochs]] = True
    for key in keys:
        table = np.full((len(logs), epochs.size), np.nan)
        for f, log in enumerate(logs):
            if key in log.values:
                table[f, [index[int(e)] for e in log.epochs]] = log.values[key]
        valid = np.isfinite(table)
        w = np.where(valid, weights[:, None], 0.0)
        total = w.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = w / total
            m = np.nansum(w * np.nan_to_num(table), axis=0)
            var = np.nansum(w * (np.nan_to_num(table) - m) ** 2, axis=0)
        m[total == 0] = np.nan
        var[total == 0] = np.nan
        mean[key], std[key] = m, np.sqrt(var)
    best = np.array([np.nanmax(log.values["val_acc"]) if "val_acc" in log.values
                     and np.isfinite(log.values["val_acc"]).any() else np.nan for log in logs])
    usable = np.isfinite(best)
    best_val_acc = (float(np.sum(weights[usable] * best[usable]) / np.sum(weights[usable]))
                    if usable.any() and np.sum(weights[usable]) > 0 else float("nan"))
    return FoldAveragedCurves(model=model, epochs=epochs, mean=mean, std=std,
                              n_folds=present.sum(axis=0), folds=list(folds), weights=weights,
                              best_val_acc=best_val_acc)


def model_curves(
    results: ResultsFolder, model: ModelEntry, window_days: int, notes: list[str] | None = None
) -> FoldAveragedCurves | None:
    """Fold-averaged curves of one model and window, or ``None`` (with a note) when no fold has a log."""
    folds = results.folds(model, window_days, require=("logs",))
    where = f"{model.display_name} {window_name(window_days)}"
    logs, kept = [], []
    for fold in folds:
        log = results.epoch_log(model, window_days, fold)
        if log is None or len(log) == 0:
            note(notes, f"{where} fold {fold}: epoch log has no epoch lines; fold left out of the curves")
            continue
        logs.append(log)
        kept.append(fold)
    if not logs:
        note(notes, f"{where}: no epoch logs; left out of the training curves")
        return None
    results.note_missing_folds(model, window_days, kept, "training curves", notes)
    weights, weight_note = results.fold_weights(model, window_days, kept)
    if weight_note:
        note(notes, weight_note)
    return average_logs(logs, weights, model=model.display_name, folds=kept)


def _fit_range(values: list[np.ndarray], lower: float | None, upper: float | None) -> tuple[float, float]:
    data = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([])
    if data.size == 0:
        return (0.0, 1.0)
    lo, hi = float(data.min()), float(data.max())
    pad = max((hi - lo) * 0.06, 0.01)
    lo, hi = lo - pad, hi + pad
    if lower is not None:
        lo = max(lo, lower)
    if upper is not None:
        hi = min(hi, upper)
    return lo, hi


def build_training_curves_figure(
    curves: Sequence[FoldAveragedCurves], window_days: int, colors: dict[str, str] | None = None
) -> Figure:
    """The 2x2 figure for one window (call inside :func:`publication_style` for the house style)."""
    colors = colors or model_colors([c.model for c in curves])
    # Legend (and drawing) order: best validation accuracy first.
    ordered = sorted(curves, key=lambda c: (-np.nan_to_num(c.best_val_acc, nan=-1.0), c.model))
    fig = new_figure((13, 9.6))
    axes = fig.subplots(2, 2)
    for ax, (key, title, ylabel) in zip(axes.flat, PANELS):
        band_values = []
        for curve in ordered:
            m, s = curve.mean[key], curve.std[key]
            color = colors[curve.model]
            ax.fill_between(curve.epochs, m - s, m + s, color=color, alpha=0.15, linewidth=0)
            ax.plot(curve.epochs, m, color=color, linewidth=2.0)
            band_values += [m - s, m + s]
        is_acc = key.endswith("acc")
        ax.set_ylim(*_fit_range(band_values, 0.0, 1.0 if is_acc else None))
        last_epoch = max(int(c.epochs.max()) for c in ordered)
        ax.set_xlim(1, max(last_epoch, 2))
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(title)
        ax.set_xlabel("Epoch")
        ax.set_ylabel(ylabel)
    handles = [Line2D([], [], color=colors[c.model], linewidth=2.5, label=f"{c.model} ({c.best_val_acc:.3f})")
               for c in ordered]
    fig.suptitle(f"{window_days}-day window: fold-averaged training curves (F1-weighted, band = ±1 SD)",
                 fontsize=15, fontweight="bold")
    # One legend for all four panels, below them, so it never covers a curve;
    # one row (read left to right, best first) unless there are many models.
    ncol = len(handles) if len(handles) <= 6 else int(np.ceil(len(handles) / 2))
    rows = int(np.ceil(len(handles) / ncol))
    fig.legend(handles=handles, loc="lower center", ncol=ncol, bbox_to_anchor=(0.5, 0.0),
               fontsize=12, handlelength=2.5, columnspacing=1.8,
               title="Model (best validation accuracy, F1-weighted mean over folds)", title_fontsize=12)
    fig.tight_layout(rect=(0, 0.035 * rows + 0.05, 1, 0.965), h_pad=1.6, w_pad=1.6)
    return fig


def plot_training_curves(results_dir: PathLike, dpi: float = 600, fmt: str = "png", windows: WindowFilter = None,
                         models: ModelFilter = None, *, out_dir: PathLike | None = None) -> PlotResult:
    """Draw ``Performance_Analysis/Model_Performance_{N}day.{fmt}`` for every window.

    Parameters
    ----------
    results_dir : path-like
        The results folder (docs/artifacts.md).
    dpi : float
        Resolution of raster output (PNG); 600 as in the SPEC.
    fmt : {"png", "pdf", "svg"}
    windows, models : optional filters (``[7, "14day"]``, ``["gru", "LSTM"]``);
        all found when ``None``.
    out_dir : path-like, optional
        Folder to write the sub-folder into instead of
        ``results_dir/performance_visualization`` (the report renders into a
        temporary folder this way).

    Returns
    -------
    PlotResult
        The paths written; ``.notes`` lists what was skipped (models without logs,
        folds that fell back to equal weights, ...).

    Raises
    ------
    ConfigError
        An unsupported ``fmt`` or a ``dpi`` that is not a positive number.
    SeismagError
        The folder is missing or holds no model folder, a file is corrupt, or there is
        nothing to draw (:class:`~seismag.plots.results.NothingToPlot`): here, no fold of
        any model has an epoch log.
    """
    request = FigureRequest.open(results_dir, SUBFOLDER, dpi=dpi, fmt=fmt, windows=windows, models=models,
                                 out_dir=out_dir)
    results = request.results
    colors = model_colors([e.display_name for e in results.models])
    for window in request.days:
        curves = request.collect(window, model_curves, "left out of the training curves")
        if not curves:
            note(request.notes, f"{window_name(window)}: no epoch logs for any model; "
                                f"Model_Performance_{window_name(window)} not drawn")
            continue
        with publication_style():
            request.save(build_training_curves_figure(curves, window, colors),
                         f"Model_Performance_{window_name(window)}")
    if not request.out:
        raise NothingToPlot(f"{results.path}: no epoch logs (*_fold_k_logs.txt) to draw training curves from")
    return request.out
