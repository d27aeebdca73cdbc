"""The report's "Against chance" section: intervals, the all-majority baseline and the
permutation control, as a table and a figure.

Reads only the ``intervals``, ``baselines`` and ``permutation`` entries of the
summary JSON files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from seismag.plots.results import ResultsFolder, window_name
from seismag.plots.style import model_colors, new_figure, publication_style, save_figure
from seismag.report.markup import escape, number


def _interval(pair) -> str:
    return "—" if not pair else f"[{pair[0]:.3f}, {pair[1]:.3f}]"


def chance_rows(results: ResultsFolder, entries, windows) -> list[dict[str, Any]]:
    """One row per model and window with what a reader needs to judge the score."""
    rows = []
    for window in windows:
        for entry in entries:
            if window not in results.windows(entry):
                continue
            summary = results.summary(entry, window)
            if not summary:
                continue
            intervals = summary.get("intervals") or {}
            baselines = (summary.get("baselines") or {}).get("majority") or {}
            permutation = summary.get("permutation") or {}
            rows.append({
                "model": entry.display_name, "window": window,
                "f1": (summary.get("mean") or {}).get("f1"),
                "f1_ci": (intervals.get("over_folds") or {}).get("f1") or (intervals.get("bootstrap") or {}).get("f1"),
                "auc": (summary.get("mean") or {}).get("roc_auc"),
                "auc_ci": (intervals.get("over_folds") or {}).get("roc_auc") or (intervals.get("bootstrap") or {}).get("roc_auc"),
                "majority_f1": baselines.get("f1"),
                "p_value": min((m["p_value"] for m in permutation.get("metrics", {}).values()), default=None),
                "verdict": permutation.get("verdict"),
                "permutation": permutation,
            })
    return rows


def chance_section(rows: Sequence[dict[str, Any]], figure_html: str = "") -> str:
    parts = ["<h2 id='chance'>Against chance</h2>",
             "<p>A classifier that learned nothing reaches the <b>majority F1</b> (predicting "
             "“no earthquake” for every window) and an ROC AUC of 0.5. A score whose interval "
             "reaches those values is not evidence of a precursor. Intervals are 95 % "
             "t-intervals over folds (bootstrap over samples for a single test set). The "
             "permutation p-value compares the real score with the same protocol trained on "
             "permuted labels.</p>"]
    if not rows:
        return "\n".join(parts + ["<p>No summaries with intervals found.</p>"])
    parts.append("<div class='table-wrap'><table id='chance-table' class='chance'><thead><tr>"
                 "<th class='name'>Model</th><th>Window</th><th>F1</th><th>F1 95% CI</th>"
                 "<th>Majority F1</th><th>ROC AUC</th><th>AUC 95% CI</th><th>Permutation p</th>"
                 "<th>Verdict</th></tr></thead><tbody>")
    for row in rows:
        weak = (row["f1_ci"] and row["majority_f1"] is not None and row["f1_ci"][0] <= row["majority_f1"]) or \
               (row["auc_ci"] and row["auc_ci"][0] <= 0.5)
        verdict = row["verdict"] or ("interval reaches chance" if weak else "above chance (no permutation run)")
        cls = " class='weak'" if weak or (row["verdict"] or "").startswith("indistinguishable") else ""
        parts.append(f"<tr{cls}><td class='name'>{escape(row['model'])}</td><td>{escape(window_name(row['window']))}</td>"
                     f"<td>{number(row['f1'])}</td><td>{_interval(row['f1_ci'])}</td>"
                     f"<td>{number(row['majority_f1'])}</td><td>{number(row['auc'])}</td>"
                     f"<td>{_interval(row['auc_ci'])}</td><td>{number(row['p_value'])}</td>"
                     f"<td>{escape(verdict)}</td></tr>")
    parts.append("</tbody></table></div>")
    for row in rows:
        if (row["verdict"] or "").startswith("indistinguishable"):
            parts.append(f"<p class='caveat'><b>{escape(row['model'])} {escape(window_name(row['window']))}:</b> "
                         "the real score is indistinguishable from chance: the same protocol on "
                         "permuted labels scores as well.</p>")
    parts.append(figure_html)
    return "\n".join(parts)


def build_permutation_figure(rows: Sequence[dict[str, Any]]):
    """Per model x window with a permutation control: null F1 distribution and the real F1."""
    rows = [r for r in rows if r["permutation"].get("metrics", {}).get("f1")]
    if not rows:
        return None
    colors = model_colors([r["model"] for r in rows])
    n = len(rows)
    cols = min(n, 3)
    fig = new_figure((4.6 * cols, 3.4 * int(np.ceil(n / cols))))
    axes = np.atleast_1d(fig.subplots(int(np.ceil(n / cols)), cols, squeeze=False)).ravel()
    for ax, row in zip(axes, rows):
        f1 = row["permutation"]["metrics"]["f1"]
        ax.hist(f1["null"], bins=min(20, max(5, len(f1["null"]) // 2)), color="0.75", edgecolor="0.4",
                label="permuted labels")
        ax.axvline(f1["real"], color=colors.get(row["model"], "C0"), linewidth=2.5, label="real labels")
        ax.set_title(f"{row['model']} {window_name(row['window'])}: p = {f1['p_value']:.3f}", fontsize=12)
        ax.set_xlabel("CV mean F1")
        ax.set_ylabel("permutations")
        ax.legend(fontsize=9, loc="upper left")
    for ax in axes[n:]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def render_permutation_figure(rows, path: Path, dpi: float) -> Path | None:
    with publication_style():
        fig = build_permutation_figure(rows)
        if fig is None:
            return None
        return save_figure(fig, path, dpi=dpi, fmt="png")
