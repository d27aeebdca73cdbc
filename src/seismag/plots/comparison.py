"""Model comparison per window: radar chart and scatter plots (SPEC Result_drawing, Module 2).

The numbers are each model's mean and standard deviation over folds, read from
``{Model}Model_{N}day_summary.json`` (falling back to the ensemble config's
``average_metrics``, then to the per-fold ``_metrics.json`` files; see
:meth:`ResultsFolder.metric_stats`). Models are drawn best F1 first.

Files written (under ``performance_visualization/Model_Comparison_Analysis/``)::

    Radar_Chart_{N}day.{fmt}          F1, precision, recall, specificity, norm. MCC
    F1_Stability_{N}day.{fmt}         F1 mean (x) vs F1 std across folds (y)
    NormMCC_vs_F1_{N}day.{fmt}        F1 mean (x) vs normalised MCC mean (y), +/- 1 std bars
    Precision_vs_Recall_{N}day.{fmt}  recall mean (x) vs precision mean (y), +/- 1 std bars
    Legend_Radar.{fmt}                the radar charts' legend
    Legend_Scatter.{fmt}              the scatter plots' legend

Four figures per window (12 for 7-, 14- and 30-day windows) plus the two legends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from seismag.plots.request import FigureRequest, ModelFilter, PathLike, WindowFilter
from seismag.plots.results import MetricStats, ModelEntry, NothingToPlot, PlotResult, ResultsFolder, note, window_name
from seismag.plots.style import model_colors, model_markers, new_figure, publication_style

SUBFOLDER = "Model_Comparison_Analysis"

#: Radar axes: (metric key, label).
RADAR_METRICS = (
    ("f1", "F1"),
    ("precision", "Precision"),
    ("recall", "Recall"),
    ("specificity", "Specificity"),
    ("norm_mcc", "Norm. MCC"),
)

#: Scatter plots: (file stem, x key, y key, x label, y label, title, y is the std of x).
SCATTERS = (
    ("F1_Stability", "f1", "f1", "Mean F1 score", "F1 standard deviation across folds",
     "Stability: F1 mean vs. spread", True),
    ("NormMCC_vs_F1", "f1", "norm_mcc", "Mean F1 score", "Mean normalised MCC",
     "Normalised MCC vs. F1", False),
    ("Precision_vs_Recall", "recall", "precision", "Mean recall", "Mean precision",
     "Precision vs. recall", False),
)


@dataclass
class ModelStats:
    """One model's metric statistics in one window."""

    model: str
    stats: MetricStats

    def mean(self, key: str) -> float:
        return self.stats.mean.get(key, float("nan"))

    def std(self, key: str) -> float:
        return self.stats.std.get(key, float("nan"))


def _sorted(items: Sequence[ModelStats]) -> list[ModelStats]:
    return sorted(items, key=lambda m: (-np.nan_to_num(m.mean("f1"), nan=-1.0), m.model))


def _padded(values: Sequence[float], *, lower: float | None = None, upper: float | None = None,
            min_span: float = 0.04) -> tuple[float, float]:
    data = np.array([v for v in values if np.isfinite(v)], dtype=float)
    if data.size == 0:
        return (0.0, 1.0)
    lo, hi = float(data.min()), float(data.max())
    span = max(hi - lo, min_span)
    centre = (lo + hi) / 2
    lo, hi = centre - span / 2 - span * 0.15, centre + span / 2 + span * 0.15
    if lower is not None:
        lo = max(lo, lower)
    if upper is not None:
        hi = min(hi, upper)
    return lo, hi


def build_radar_figure(items: Sequence[ModelStats], window_days: int, colors: dict[str, str]) -> Figure:
    """Radar chart of the five :data:`RADAR_METRICS` for one window."""
    labels = [label for _key, label in RADAR_METRICS]
    angles = np.linspace(0, 2 * np.pi, len(labels), endpoint=False)
    closed = np.concatenate([angles, angles[:1]])
    values_all = [items_mean for m in items for items_mean in (m.mean(k) for k, _ in RADAR_METRICS)]
    finite = [v for v in values_all if np.isfinite(v)]
    # Radius starts a little below the worst value (rounded down to 0.1) so the
    # differences between models are visible; the rings are labelled.
    r_min = max(0.0, np.floor((min(finite, default=0.0) - 0.05) * 10) / 10)
    r_max = 1.0
    fig = new_figure((6.4, 6.4))
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    for item in _sorted(items)[::-1]:  # best drawn last, on top
        values = np.array([item.mean(k) for k, _ in RADAR_METRICS])
        values = np.concatenate([values, values[:1]])
        color = colors[item.model]
        ax.plot(closed, values, color=color, linewidth=2.0, marker="o", markersize=4)
        ax.fill(closed, values, color=color, alpha=0.08)
    ax.set_ylim(r_min, r_max)
    # Rings at round values: every 0.1 (0.2 when the radius spans more than 0.5).
    step = 0.1 if r_max - r_min <= 0.5 + 1e-9 else 0.2
    ticks = np.round(np.arange(r_max, r_min + 1e-9, -step)[::-1], 2)
    ticks = ticks[ticks > r_min + 1e-9]
    ax.set_yticks(ticks)
    ax.set_yticklabels([f"{t:.1f}" for t in ticks], fontsize=9, color="0.3")
    for label in ax.get_yticklabels():
        # Keep ring labels readable where a grid line or a polygon crosses them.
        label.set_bbox(dict(facecolor="white", edgecolor="none", alpha=0.75, pad=1.0))
    ax.set_rlabel_position(180 / len(labels))
    ax.set_xticks(angles)
    ax.set_xticklabels(labels, fontsize=13)
    ax.tick_params(axis="x", pad=10)
    ax.grid(True, linestyle="--", alpha=0.45)
    ax.spines["polar"].set_alpha(0.4)
    ax.set_title(f"{window_days}-day window", pad=22)
    fig.tight_layout()
    return fig


def build_scatter_figure(
    items: Sequence[ModelStats], window_days: int, kind: str,
    colors: dict[str, str], markers: dict[str, str],
) -> Figure:
    """One scatter plot of :data:`SCATTERS` (``kind`` is its file stem) for one window."""
    spec = {s[0]: s for s in SCATTERS}[kind]
    _stem, x_key, y_key, x_label, y_label, title, y_is_std = spec
    fig = new_figure((5.6, 5.0))
    ax = fig.add_subplot()
    xs, ys = [], []
    for item in _sorted(items):
        x = item.mean(x_key)
        y = item.std(y_key) if y_is_std else item.mean(y_key)
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        xerr = None if y_is_std else item.std(x_key)
        yerr = None if y_is_std else item.std(y_key)
        color = colors[item.model]
        ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt=markers[item.model], color=color,
                    markersize=11, markeredgecolor="black", markeredgewidth=0.8,
                    ecolor=color, elinewidth=1.3, capsize=4, alpha=0.95, zorder=3)
        xs += [x - (xerr or 0), x + (xerr or 0)]
        ys += [y - (yerr or 0), y + (yerr or 0)]
    ax.set_xlim(*_padded(xs, upper=1.02))
    ax.set_ylim(*_padded(ys, lower=0.0 if y_is_std else None, upper=1.02))
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(f"{title} ({window_days}-day)")
    fig.tight_layout()
    return fig


def build_legend_figure(models: Sequence[str], colors: dict[str, str],
                        markers: dict[str, str] | None = None) -> Figure:
    """A figure holding only a legend: line + patch swatches (radar) or markers (scatter)."""
    if markers is None:
        handles = [Patch(facecolor=colors[m], edgecolor=colors[m], alpha=0.85, label=m) for m in models]
    else:
        handles = [Line2D([], [], linestyle="none", marker=markers[m], markersize=11,
                          markerfacecolor=colors[m], markeredgecolor="black", markeredgewidth=0.8,
                          label=m) for m in models]
    fig = new_figure((max(1.6 * len(models), 3.0), 0.7))
    fig.legend(handles=handles, loc="center", ncol=len(models), fontsize=13,
               handlelength=1.6, columnspacing=1.6, frameon=True)
    return fig


def model_stats(results: ResultsFolder, entry: ModelEntry, window_days: int,
                notes: list[str] | None = None) -> ModelStats | None:
    """A model's metric statistics for one window; ``None`` when it has none."""
    stats = results.metric_stats(entry, window_days)
    if stats is None:
        return None
    if stats.source != "summary":
        note(notes, f"{entry.display_name} {window_name(window_days)}: no summary JSON; "
                    f"metrics taken from {stats.origin()}")
    missing = [k for k, _ in RADAR_METRICS if k not in stats.mean]
    if missing:
        note(notes, f"{entry.display_name} {window_name(window_days)}: metrics missing "
                    f"({', '.join(missing)}); drawn where possible")
    return ModelStats(entry.display_name, stats)


def plot_model_comparison(results_dir: PathLike, dpi: float = 600, fmt: str = "png", windows: WindowFilter = None,
                          models: ModelFilter = None, *, out_dir: PathLike | None = None) -> PlotResult:
    """Draw the radar chart and the three scatter plots per window, plus the two legends.

    File names are listed in the module docstring. Arguments, return value and errors as
    in :func:`seismag.plots.plot_training_curves`; nothing to draw is no model with any
    metrics for any window.
    """
    request = FigureRequest.open(results_dir, SUBFOLDER, dpi=dpi, fmt=fmt, windows=windows, models=models,
                                 out_dir=out_dir)
    results, out = request.results, request.out
    all_names = [e.display_name for e in results.models]
    colors, markers = model_colors(all_names), model_markers(all_names)
    drawn: dict[str, list[float]] = {}
    for window in request.days:
        items = request.collect(window, model_stats, "left out of the model comparison",
                                "no summary, ensemble config or fold metrics")
        items = [i for i in items if any(k in i.stats.mean for k, _ in RADAR_METRICS)]
        if not items:
            note(out.notes, f"{window_name(window)}: no metrics for any model; comparison figures not drawn")
            continue
        for item in items:
            drawn.setdefault(item.model, []).append(item.mean("f1"))
        name = window_name(window)
        with publication_style():
            radar_items = [i for i in items if all(k in i.stats.mean for k, _ in RADAR_METRICS)]
            if radar_items:
                request.save(build_radar_figure(radar_items, window, colors), f"Radar_Chart_{name}")
            for stem, *_rest in SCATTERS:
                request.save(build_scatter_figure(items, window, stem, colors, markers), f"{stem}_{name}")
    if not out:
        raise NothingToPlot(f"{results.path}: no summary, ensemble config or fold metrics to compare models")
    # Legends list every model drawn, best mean F1 (over the windows drawn) first.
    def mean_f1(model: str) -> float:
        finite = [v for v in drawn[model] if np.isfinite(v)]
        return float(np.mean(finite)) if finite else -1.0

    order = sorted(drawn, key=lambda m: (-mean_f1(m), m))
    with publication_style():
        request.save(build_legend_figure(order, colors), "Legend_Radar")
        request.save(build_legend_figure(order, colors, markers), "Legend_Scatter")
    return out
