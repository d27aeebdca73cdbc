"""The report's "Figures" section: the four SPEC figure modules drawn afresh and embedded.

The figures are rendered from the results at the page's modest DPI into a temporary
folder (the ``performance_visualization/`` folder is neither read nor touched), so the
page always matches the results it describes and stays a few MB.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

from seismag.plots import comparison, confusion, curves, draw_modules, roc
from seismag.plots.results import ResultsFolder
from seismag.report.markup import EmbeddedFigure, embed_figure, escape

#: One section per figure module: (its sub-folder, title, blurb, figures in rows by window).
SECTIONS = (
    (curves.SUBFOLDER, "Training and validation curves",
     "Fold-averaged (F1-weighted) accuracy and loss per epoch; band = ±1 weighted SD across folds.", False),
    (comparison.SUBFOLDER, "Model comparison",
     "Radar chart and scatter plots of mean metrics over folds (error bars ±1 SD).", True),
    (roc.SUBFOLDER, "ROC curves",
     "ROC curves averaged over folds on a common FPR grid; AUC = mean of per-fold AUCs ± standard error.", False),
    (confusion.SUBFOLDER, "Confusion matrices",
     "Mean count per fold (share of the true class in brackets); one colour scale for all.", True),
)


def _is_lead(path: Path) -> bool:
    """Legends and the colour bar: shown before the figures they explain."""
    return path.stem.startswith("Legend_") or path.stem == confusion.COLORBAR_STEM


def _figure_key(path: Path) -> tuple[bool, int, int, str]:
    """Sort key: legends and the colour bar first, then by window, then by kind."""
    stem = path.stem
    lead = _is_lead(path)
    match = re.search(r"_(\d+)day$", stem)
    window = int(match.group(1)) if match else 0
    kinds = ("Radar_Chart",) + tuple(stem for stem, *_rest in comparison.SCATTERS)
    kind = next((i for i, k in enumerate(kinds) if stem.startswith(k)), len(kinds))
    return (not lead, window, kind, stem)


def render_figures(results: ResultsFolder, root: Path, dpi: float, notes: list[str]) -> list[EmbeddedFigure]:
    """Draw the four figure modules as PNG into ``root``; what is skipped goes to ``notes``."""
    written = draw_modules(results.path, dpi=dpi, fmt="png", out_dir=root)
    notes.extend(written.notes)
    return [EmbeddedFigure(path.parent.name, path, path.name) for path in written]


def figures_section(figures: Sequence[EmbeddedFigure], model_order: Sequence[str]) -> str:
    parts = ["<h2 id='figures'>Figures</h2>"]
    if not figures:
        parts.append("<p>No figures could be drawn from this results folder.</p>")
    rank = {name: i for i, name in enumerate(model_order)}

    def model_rank(fig: EmbeddedFigure) -> int:
        # Confusion_Matrix_{Model}_{N}day: keep the models in the results' order.
        match = re.fullmatch(r"Confusion_Matrix_(.+)_\d+day", fig.path.stem)
        return rank.get(match.group(1), len(rank)) if match else 0

    for folder, title, blurb, in_rows in SECTIONS:
        chosen = sorted((f for f in figures if f.section == folder),
                        key=lambda f: (_figure_key(f.path)[:3], model_rank(f), f.path.stem))
        if not chosen:
            continue
        parts.append(f"<section class='figures' data-folder='{escape(folder)}'>"
                     f"<h3>{escape(title)}</h3><p class='meta'>{escape(blurb)}</p>")
        if not in_rows:
            parts += [embed_figure(fig, "wide") for fig in chosen]
        else:
            # Legends / colour bar on their own line, then one row per window.
            leads = [f for f in chosen if _is_lead(f.path)]
            others = [f for f in chosen if not _is_lead(f.path)]
            parts += [embed_figure(fig, "lead") for fig in leads]
            for window in sorted({_figure_key(f.path)[1] for f in others}):
                row = [f for f in others if _figure_key(f.path)[1] == window]
                parts.append(f"<h4>{window}-day window</h4><div class='row'>"
                             + "".join(embed_figure(fig) for fig in row) + "</div>")
        parts.append("</section>")
    return "\n".join(parts)
