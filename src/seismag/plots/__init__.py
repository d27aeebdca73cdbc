"""Result figures (SPEC "Visualization Code Documentation").

Everything here reads the results folder written by training (layout in
``docs/artifacts.md``) and the skill folder written by ``seismag skill``, and nothing
else. May import: errors, io, layout, sources (the Kp / Dst index readers), NumPy,
scikit-learn and matplotlib; never training, models, inference, evaluation or torch, so
figures can be redrawn from results made on another machine. The HTML page that
embeds these figures is :mod:`seismag.report`.

Public API
----------
plot_all(results_dir, dpi=600, fmt="png", windows=None, models=None)
    every figure below, into ``results_dir/performance_visualization/``
plot_training_curves(...)     Performance_Analysis/          (Module 1)
plot_model_comparison(...)    Model_Comparison_Analysis/     (Module 2)
plot_roc_curves(...)          ROC_analysis/                  (Module 3)
plot_confusion_matrices(...)  Individual_Confusion_Matrices/ (Module 4)
plot_reliability(...)         Reliability_analysis/          (calibration: before and after)
draw_modules(...)
    the five modules above in order, a module with nothing to draw being a note
plot_skill(skill_dir, scores=None, kp=None, dst=None, dpi=600, fmt="png")
    the forecast-skill figures of a ``seismag skill`` folder into ``skill_dir/figures/``:
    plot_molchan, plot_probability_gain, plot_station_scores (module ``skill``; it reads
    skill.json and scores.csv, and the Kp / Dst files through ``seismag.sources.indices``)

Each ``plot_*`` function returns a :class:`PlotResult`: the list of paths
written, with ``.notes`` saying what was skipped (missing models, windows or
folds). Skips are also logged on the ``seismag.plots`` logger.

Modules
-------
``results``         the results folder as the figures read it (the only module that opens its files)
``style``           colours, markers, fonts, the publication rcParams, ``save_figure``
``request``         one call of a figure module: its checked arguments, selection, folder and saving
``curves``          Module 1, training and validation curves
``comparison``      Module 2, radar chart and scatter plots
``roc``             Module 3, fold-averaged ROC curves
``confusion``       Module 4, fold-averaged confusion matrices
``reliability``     reliability diagrams: the summaries' calibration records, and a skill run's daily probabilities
``skill_files``     reading ``skill.json`` and ``scores.csv`` for the skill figures
``skill``           the Molchan diagram, the probability gain and ``plot_skill``
``skill_stations``  the per-station score series with target events and Kp / Dst
``explain``         the attribution maps of a ``seismag explain`` folder, Kp / Dst beneath
"""

from __future__ import annotations

from pathlib import Path

from seismag.errors import SeismagError
from seismag.layout.forecast import SKILL_FOLDER
from seismag.plots.comparison import plot_model_comparison
from seismag.plots.confusion import plot_confusion_matrices
from seismag.plots.curves import plot_training_curves
from seismag.plots.request import ModelFilter, PathLike, WindowFilter
from seismag.plots.results import NothingToPlot, PlotResult, ResultsFolder
from seismag.plots.reliability import plot_reliability
from seismag.plots.roc import plot_roc_curves
from seismag.plots.skill import plot_molchan, plot_probability_gain, plot_skill, plot_station_scores
from seismag.plots.style import COLORS

__all__ = [
    "COLORS", "PlotResult", "ResultsFolder", "draw_modules", "plot_all", "plot_confusion_matrices",
    "plot_model_comparison", "plot_molchan", "plot_probability_gain", "plot_reliability", "plot_roc_curves",
    "plot_skill",
    "plot_station_scores", "plot_training_curves",
]

#: The four figure modules in SPEC order (Result_drawing Modules 1-4), then the reliability diagrams.
PLOTTERS = (plot_training_curves, plot_model_comparison, plot_roc_curves, plot_confusion_matrices, plot_reliability)


def draw_modules(results_dir: PathLike, dpi: float = 600, fmt: str = "png", windows: WindowFilter = None,
                 models: ModelFilter = None, *, out_dir: PathLike | None = None) -> PlotResult:
    """Run the figure modules of :data:`PLOTTERS` in order.

    A module with nothing to draw is a note (``"plot_roc_curves: ..."``), not an error;
    every module's own notes follow in order. Arguments as in :func:`plot_all`.
    """
    out = PlotResult()
    for plotter in PLOTTERS:
        try:
            written = plotter(results_dir, dpi=dpi, fmt=fmt, windows=windows, models=models, out_dir=out_dir)
        except NothingToPlot as exc:
            out.notes.append(f"{plotter.__name__}: {exc}")
            continue
        out.extend(written)
        out.notes.extend(written.notes)
    return out


def plot_all(results_dir: PathLike, dpi: float = 600, fmt: str = "png", windows: WindowFilter = None,
             models: ModelFilter = None, *, out_dir: PathLike | None = None) -> PlotResult:
    """Draw every figure of the SPEC into ``results_dir/performance_visualization/``.

    Files (``{N}`` = window days, ``{Model}`` = display name such as ``GRU``)::

        Performance_Analysis/Model_Performance_{N}day.{fmt}
        Model_Comparison_Analysis/Radar_Chart_{N}day.{fmt}
        Model_Comparison_Analysis/F1_Stability_{N}day.{fmt}
        Model_Comparison_Analysis/NormMCC_vs_F1_{N}day.{fmt}
        Model_Comparison_Analysis/Precision_vs_Recall_{N}day.{fmt}
        Model_Comparison_Analysis/Legend_Radar.{fmt}
        Model_Comparison_Analysis/Legend_Scatter.{fmt}
        ROC_analysis/multi_model_roc_curves.{fmt}
        Individual_Confusion_Matrices/Confusion_Matrix_{Model}_{N}day.{fmt}
        Individual_Confusion_Matrices/horizontal_colorbar.{fmt}
        Reliability_analysis/reliability_diagrams.{fmt}

    Parameters
    ----------
    results_dir : path-like
        The results folder (docs/artifacts.md).
    dpi : float
        Resolution for PNG output (600 as in the SPEC).
    fmt : {"png", "pdf", "svg"}
    windows : iterable of int or str, optional
        Only these windows (``7``, ``"14day"``); all found when ``None``.
    models : iterable of str, optional
        Only these models (registry or display names); all found when ``None``.
    out_dir : path-like, optional
        Write the four sub-folders here instead.

    Returns
    -------
    PlotResult
        Paths written, in module order; ``.notes`` lists everything skipped.

    Raises
    ------
    SeismagError
        The folder is missing, a JSON/NPY/log file is corrupt (the message names
        it), or no module found anything to draw.
    """
    results = ResultsFolder(results_dir)
    # Materialise once: every module reads the filters again.
    if windows is not None and not isinstance(windows, (str, int)):
        windows = list(windows)
    if models is not None and not isinstance(models, str):
        models = list(models)
    # Fails early, naming the folder, when there is no model folder at all; then a torn
    # or invalid file fails before the first figure is written.
    results.check_readable(*results.select(windows, models))
    out = draw_modules(results.path, dpi=dpi, fmt=fmt, windows=windows, models=models, out_dir=out_dir)
    skill_dir = Path(results.path) / SKILL_FOLDER
    if (skill_dir / "skill.json").is_file():  # seismag skill --out RESULTS/skill: its figures too
        written = plot_skill(skill_dir, dpi=dpi, fmt=fmt)
        out.extend(written)
        out.notes.extend(written.notes)
    out.notes = list(dict.fromkeys(out.notes))
    if not out:
        raise SeismagError(f"{results.path}: nothing usable to plot ({'; '.join(out.notes)})")
    return out
