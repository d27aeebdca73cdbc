"""The report's "What drives the scores" section, from ``seismag explain`` folders (``explain.json``).

Reads only ``explain.json`` (:func:`seismag.layout.explain.read_explain`); the figures are drawn
afresh by :func:`seismag.plots.explain.plot_explain` into the report's temporary folder. A
results folder may hold one explain folder (``RESULTS/explain/``) or several
(``RESULTS/explain/*/``, one per ensemble); ``seismag report --explain DIR`` names another. An
unreadable ``explain.json`` gives a line that says so instead of failing the whole report.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from seismag.errors import DataError, SeismagError
from seismag.layout.explain import EXPLAIN_FILE, EXPLAIN_FOLDER, METHODS, find_explain, read_explain
from seismag.plots.explain import METHOD_TITLES, plot_explain
from seismag.report.markup import EmbeddedFigure, embed_figure, escape

EXPLANATION = (
    "Each explained window gets two maps of its days × channels. <b>Occlusion</b> (every model, "
    "the baselines included): how much the ensemble's P(class 1) falls when one day of one channel "
    "is replaced by that channel's median day of the same window (a day with the window's usual "
    "level and daily variation, without what was particular to it). <b>Integrated gradients</b> "
    "(networks trained on the series only): each minute's share of the difference between the "
    "window's P(class 1) and that of the window made of median days, summed per day and channel. "
    "Both are of the ensemble's P(class 1) before its calibrator (the members' weighted mean): a "
    "calibrator is monotone, so it keeps which days push the score up, not by how much. "
    "Red cells push the score towards class 1. Beneath each map, the mean daily maximum Kp and "
    "minimum Dst of the same days (dashed: the storm levels): a model whose red days are the storm "
    "days is a storm detector. A cell <b>stands out</b> (outlined) when its mean is at least one "
    "percentage point of probability and more than twice its spread over the fold models. "
    "<b>What these maps cannot show:</b> an attribution is what the score responds to, a "
    "correlation learned from the training labels, not a cause; a precursor, a storm season or a "
    "station can each make a day matter. A score saturated near 0 or 1 moves little when any "
    "one day is occluded (the evidence is spread over several days): such windows count as "
    "having no top cell."
)


def find_explain_sources(results_dir: str | os.PathLike, explain_dir: str | os.PathLike | None) -> list[Path]:
    """The ``explain.json`` files the section shows: ``explain_dir``'s (which must hold one,
    directly or in its sub-folders), else ``RESULTS/explain``'s when there are any."""
    folder = Path(explain_dir) if explain_dir is not None else Path(results_dir) / EXPLAIN_FOLDER
    direct = find_explain(folder)
    found = [direct] if direct.is_file() else sorted(folder.glob(f"*/{EXPLAIN_FILE}"))
    if explain_dir is not None and not found:
        raise SeismagError(f"{folder}: no {EXPLAIN_FILE} here or in its sub-folders (--explain names a folder "
                           "written by seismag explain --out)")
    return found


def _summary_table(data: dict) -> str:
    rows = []
    for method in METHODS:
        for group in data["groups"]:
            values = group["methods"].get(method)
            if values is None:
                continue
            mean = np.asarray(values["mean"], dtype=float)
            share = np.asarray(values["top_share"], dtype=float)
            r, c = np.unravel_index(int(np.argmax(mean)), mean.shape)
            cell = f"{data['channels'][c]}, {data['rows'][r]}"
            standing = ", ".join(f"{data['channels'][j]} {data['rows'][i]}" for i, j in values["stands_out"][:4])
            rows.append(f"<tr><td class='name'>{escape(method.replace('_', ' '))}</td>"
                        f"<td class='name'>{escape(group['name'])}</td><td>{group['n_windows']}</td>"
                        f"<td class='name'>{escape(cell)}</td><td>{mean[r, c]:+.3f}</td>"
                        f"<td>{share[r, c]:.0%}</td><td>{values.get('no_top_share', 0.0):.0%}</td>"
                        f"<td class='name'>{escape(standing or 'none')}</td></tr>")
    return ("<div class='table-wrap'><table><tr><th class='name'>method</th><th class='name'>windows</th>"
            "<th>n</th><th class='name'>largest mean cell</th><th>mean</th><th>windows topped there</th>"
            "<th>no top cell</th><th class='name'>cells that stand out</th></tr>" + "".join(rows) + "</table></div>")


def explain_section(sources: list[Path], tmp_dir: Path, figure_dpi: float) -> str:
    """The section's HTML ('' when there is no source)."""
    if not sources:
        return ""
    parts = ["<h2 id='explain'>What drives the scores</h2>", f"<p>{EXPLANATION}</p>"]
    for index, source in enumerate(sources):
        try:
            data = read_explain(source)
        except DataError as exc:
            parts.append(f"<p class='caveat'>{escape(exc)}</p>")
            continue
        parts.append(f"<h3>{escape(data['model'])}, {data['window_days']}-day windows "
                     f"({data['n_windows']} windows of <code>{escape(data['source'])}</code>)</h3>")
        if data.get("integrated_gradients_note"):
            parts.append(f"<p class='meta'>{escape(data['integrated_gradients_note'])}</p>")
        parts.append(_summary_table(data))
        # plot_explain's notes say which method has no figure: the line above already does
        figures = plot_explain(source.parent, tmp_dir / f"explain_{index}", dpi=figure_dpi)
        for path in figures:
            method = path.stem.replace("explain_", "")
            caption = METHOD_TITLES.get(method, "Integrated gradients per hour along the window, per channel")
            parts.append(embed_figure(EmbeddedFigure("explain", path, f"{data['model']}: {caption}"), "wide"))
    return "\n".join(parts)
