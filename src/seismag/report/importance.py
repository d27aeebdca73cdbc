"""The report's "What the trees used" section: the fold models' feature importances.

Read from each fold's ``_feature_importance.csv`` (:func:`seismag.layout.results.read_feature_importance`;
written for a boosted head, ``features_gbm``): per feature, over the folds, how much the fold's
validation log loss rises when that feature is shuffled (mean and spread), in how many folds
it rises at all, and its mean share of the kept trees' split gain. An unreadable table gives
a line that says so instead of failing the whole report.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from seismag.errors import DataError
from seismag.layout.results import read_feature_importance
from seismag.plots.results import ModelEntry, ResultsFolder, window_name
from seismag.report.markup import escape, number

#: Features shown per model and window, the largest mean rise first.
TOP = 10

EXPLANATION = (
    "A boosted head's trees split on the per-day features of the <code>features</code> baseline "
    "(band powers, range, spread, first differences, spikes and level of each day, summarised "
    "over the window: <code>last:band_3</code> is the last day's power in the third octave band, "
    "<code>change:log_range</code> the last day's range against the earlier days'). Per feature: "
    "<b>shuffled</b>, how much each fold's validation log loss rises when that feature's values "
    "are shuffled among its validation rows (rows that neither fitted the trees nor chose how many "
    "to keep), mean ± spread over the folds; <b>folds</b>, in how many folds it rose at all; "
    "<b>gain</b>, the feature's mean share of the trees' split gain, measured on the rows the "
    "trees were fitted on (it favours features with many distinct values, so read it second). "
    "Correlated features share their importance (shuffling one leaves its twin), and storm days "
    "raise range, spread and the high bands: before reading a precursor into these, compare the "
    "model with the activity reference."
)


def importance_summary(tables: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per feature over the folds' tables: ``mean_rise``, ``std_rise`` (ddof 0), ``folds_rising``,
    ``mean_gain`` and ``folds``; the largest mean rise first (ties by name).

    Raises
    ------
    ValueError
        The tables name different features.
    """
    names = [row["feature"] for row in tables[0]]
    if any([row["feature"] for row in table] != names for table in tables[1:]):
        raise ValueError("the folds' tables name different features")
    rise = np.array([[row["permutation_log_loss"] for row in table] for table in tables], dtype=float)
    gain = np.array([[row["gain_share"] for row in table] for table in tables], dtype=float)
    rows = [{"feature": name, "mean_rise": float(rise[:, i].mean()), "std_rise": float(rise[:, i].std()),
             "folds_rising": int((rise[:, i] > 0).sum()), "mean_gain": float(gain[:, i].mean()),
             "folds": len(tables)} for i, name in enumerate(names)]
    return sorted(rows, key=lambda row: (-row["mean_rise"], row["feature"]))


def _tables(results: ResultsFolder, entry: ModelEntry, window: int) -> tuple[list, str | None]:
    tables = []
    for fold in results.folds(entry, window, require=("feature_importance",)):
        try:
            tables.append(read_feature_importance(results.file(entry, window, "feature_importance", fold)))
        except DataError as exc:
            return [], str(exc)
    return tables, None


def importance_section(results: ResultsFolder, entries: Sequence[ModelEntry], windows: Sequence[int]) -> str:
    """HTML of the section ('' when no fold wrote a feature-importance table)."""
    blocks = []
    for entry in entries:
        for window in windows:
            tables, problem = _tables(results, entry, window)
            title = f"<h3>{escape(entry.display_name)} {escape(window_name(window))}</h3>"
            if problem is not None:
                blocks.append(title + f"<p class='notes'>Not shown: {escape(problem)}</p>")
                continue
            if not tables:
                continue
            try:
                summary = importance_summary(tables)
            except ValueError as exc:
                blocks.append(title + f"<p class='notes'>Not shown: {escape(exc)}</p>")
                continue
            body = "".join(
                f"<tr><td><code>{escape(row['feature'])}</code></td>"
                f"<td data-rise='{row['mean_rise']!r}'>{number(row['mean_rise'], 4)} ± {number(row['std_rise'], 4)}</td>"
                f"<td>{row['folds_rising']} of {row['folds']}</td><td>{number(row['mean_gain'], 3)}</td></tr>"
                for row in summary[:TOP])
            blocks.append(title + "<table class='importance'><tr><th>feature</th><th>shuffled: validation log "
                          "loss rise</th><th>folds</th><th>gain</th></tr>" + body + "</table>"
                          + f"<p class='meta'>The {min(TOP, len(summary))} of {len(summary)} features whose "
                          f"shuffling costs most, over {len(tables)} folds.</p>")
    if not blocks:
        return ""
    return "<h2 id='importance'>What the trees used</h2>" + f"<p>{EXPLANATION}</p>" + "".join(blocks)
