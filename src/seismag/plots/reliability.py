"""Reliability diagrams: observed class-1 share against the predicted probability, per bin.

Two figures, drawn only from files on disk:

- ``Reliability_analysis/reliability_diagrams.{fmt}`` (a results folder, :func:`plot_reliability`):
  one panel per window; per model the pooled out-of-fold predictions before calibration (dashed)
  and after the cross-fitted calibration (solid), from the ``calibration`` record of each
  ``_summary.json`` (for ``seismag evaluate``: the test rows);
- ``reliability.{fmt}`` in a skill folder's figures (:func:`plot_skill_reliability`): the daily
  probabilities of each model of a scan against what happened, from ``skill.json``.

A point on the diagonal means a forecast of p came true a share p of the time. Bins with fewer
rows scatter more; the marker area grows with the bin's count.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from seismag.plots.request import FigureRequest, ModelFilter, PathLike, WindowFilter
from seismag.plots.results import ModelEntry, NothingToPlot, PlotResult, ResultsFolder, note, window_name
from seismag.plots.style import curve_colors, model_colors, new_figure, publication_style, save_figure

SUBFOLDER = "Reliability_analysis"
FILE_STEM = "reliability_diagrams"
SKILL_FILE_STEM = "reliability"


@dataclass(frozen=True)
class ReliabilityCurve:
    """One model's reliability tables for one window (``calibrated`` None: none applied)."""

    model: str
    window_days: int
    uncalibrated: dict[str, Any]
    calibrated: dict[str, Any] | None


def points(scores: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mean_predicted, observed, count)`` of the non-empty bins of a proper-scores record's
    reliability table (:func:`seismag.scores.proper_scores`)."""
    table = scores["reliability"]
    rows = [(m, o, c) for m, o, c in zip(table["mean_predicted"], table["observed"], table["count"]) if c]
    if not rows:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    predicted, observed, count = (np.asarray(column, dtype=float) for column in zip(*rows))
    return predicted, observed, count


def compute_reliability(results: ResultsFolder, entry: ModelEntry, window_days: int,
                        notes: list[str]) -> ReliabilityCurve | None:
    """The ``calibration`` record of a model's summary; None (with a note) without one."""
    summary = results.summary(entry, window_days)
    if summary is None:
        note(notes, f"{entry.display_name} {window_name(window_days)}: no summary JSON; left out of the "
                    "reliability diagrams")
        return None
    record = summary.get("calibration")
    if not isinstance(record, dict) or not _usable(record.get("uncalibrated")):
        note(notes, f"{entry.display_name} {window_name(window_days)}: no calibration record in the summary "
                    "(written before summaries carried proper scores); left out of the reliability diagrams")
        return None
    calibrated = record.get("calibrated") if _usable(record.get("calibrated")) else None
    return ReliabilityCurve(entry.display_name, int(window_days), record["uncalibrated"], calibrated)


def _usable(scores: Any) -> bool:
    """A proper-scores record with its scores and a reliability table of equal-length lists."""
    if not isinstance(scores, dict) or not all(isinstance(scores.get(k), (int, float)) for k in ("brier", "ece")):
        return False
    table = scores.get("reliability")
    columns = [table.get(k) for k in ("mean_predicted", "observed", "count")] if isinstance(table, dict) else []
    return len(columns) == 3 and all(isinstance(c, list) for c in columns) and len({len(c) for c in columns}) == 1


def _draw(ax: Axes, label: str, table: dict[str, Any], color: str, dashed: bool) -> None:
    predicted, observed, count = points(table)
    if predicted.size == 0:
        return
    size = 12 + 120 * count / max(count.sum(), 1)
    ax.plot(predicted, observed, linestyle="--" if dashed else "-", color=color, linewidth=1.2 if dashed else 2.0,
            alpha=0.6 if dashed else 1.0, label=label)
    ax.scatter(predicted, observed, s=size, color=color, alpha=0.6 if dashed else 1.0, zorder=3,
               edgecolors="none")


def _frame(ax: Axes, title: str, observed: str = "Observed share of class 1") -> None:
    ax.plot([0, 1], [0, 1], linestyle=":", color="0.5", linewidth=1.2, label="_perfect")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("Predicted P(class 1)")
    ax.set_ylabel(observed)
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1, fontsize=10, handlelength=2.2,
              borderaxespad=0.0)


def _scores_words(table: dict[str, Any]) -> str:
    return f"Brier {table['brier']:.3f}, ECE {table['ece']:.3f}"


def build_reliability_figure(panels: Sequence[tuple[int, Sequence[ReliabilityCurve]]],
                             colors: dict[str, str]) -> Figure:
    """One panel per ``(window_days, curves)``: dashed before calibration, solid after."""
    n = len(panels)
    fig = new_figure((5.6 * n, 7.6))
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, (window, curves) in zip(axes, panels):
        for curve in curves:
            color = colors[curve.model]
            _draw(ax, f"{curve.model} uncalibrated ({_scores_words(curve.uncalibrated)})", curve.uncalibrated,
                  color, dashed=True)
            if curve.calibrated is not None:
                _draw(ax, f"{curve.model} calibrated ({_scores_words(curve.calibrated)})", curve.calibrated,
                      color, dashed=False)
        _frame(ax, f"{window}-day window")
    fig.tight_layout(w_pad=2.0)
    return fig


def plot_reliability(results_dir: PathLike, dpi: float = 600, fmt: str = "png", windows: WindowFilter = None,
                     models: ModelFilter = None, *, out_dir: PathLike | None = None) -> PlotResult:
    """Draw ``Reliability_analysis/reliability_diagrams.{fmt}`` from the summaries' calibration records.

    Arguments, return value and errors as in :func:`seismag.plots.plot_training_curves`;
    nothing to draw is no summary with a calibration record.
    """
    request = FigureRequest.open(results_dir, SUBFOLDER, dpi=dpi, fmt=fmt, windows=windows, models=models,
                                 out_dir=out_dir)
    results, out = request.results, request.out
    colors = model_colors([e.display_name for e in results.models])
    panels = request.panels(compute_reliability, "left out of the reliability diagrams")
    if not panels:
        raise NothingToPlot(f"{results.path}: no summary with a calibration record to draw reliability "
                            "diagrams from")
    with publication_style():
        request.save(build_reliability_figure(panels, colors), FILE_STEM)
    return out


def plot_skill_reliability(models: dict[str, dict], path: str | os.PathLike, dpi: float,
                           notes: list[str] | None = None) -> Path | None:
    """The reliability diagram of a skill run's daily probabilities (each entry's ``reliability``
    record in ``skill.json``); None (with a note) when no model has one."""
    tables = {name: record["reliability"] for name, record in models.items() if _usable(record.get("reliability"))}
    if not tables:
        note(notes, f"{path}: no model has a reliability record in skill.json (written before skill judged "
                    "the daily probabilities); no reliability diagram")
        return None
    colors = curve_colors(list(tables))
    with publication_style():
        fig = new_figure((6.4, 7.6))
        ax = fig.subplots()
        for name, table in tables.items():
            skill = table.get("brier_skill_rate")
            words = _scores_words(table) + ("" if skill is None else f", skill vs rate {skill:+.2f}")
            _draw(ax, f"{name} ({words})", table, colors[name], dashed=False)
        _frame(ax, "Daily probabilities against target events", "Observed share of rows with a target event")
        ax.set_xlabel("Predicted P(target event in the next lead days)")
        fig.tight_layout()
        return save_figure(fig, Path(path), dpi=dpi, fmt=Path(path).suffix.lstrip("."))
