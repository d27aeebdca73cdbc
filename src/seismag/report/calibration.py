"""The report's "Calibration and proper scores" section: what a probability of the ensembles means.

Read from each ``_summary.json``'s ``calibration`` record (training: the pooled out-of-fold
predictions before and after cross-fitted calibration; ``seismag evaluate``: the test rows) and
its ``permutation`` record (the same scores with permuted training labels); the reliability
diagrams are the ``Reliability_analysis`` figure of :mod:`seismag.plots.reliability`.
"""

from __future__ import annotations

from typing import Any, Sequence

from seismag.plots.reliability import SUBFOLDER
from seismag.plots.results import ModelEntry, ResultsFolder, window_name
from seismag.report.markup import EmbeddedFigure, embed_figure, escape, number

#: Columns: (key of the proper-scores record, header, digits).
SCORE_COLUMNS = (("brier", "Brier", 4), ("brier_skill", "Brier skill vs prior", 3), ("log_loss", "Log loss", 3),
                 ("ece", "ECE", 3))

EXPLANATION = (
    "Class weights and balanced sampling move a model's P(class 1) away from how often class 1 "
    "happens, so F1 and AUC say nothing about what a probability of 0.8 means. These are "
    "<b>proper scores</b> of the probabilities, lower is better except skill: the <b>Brier score</b> "
    "(mean squared difference between P(class 1) and the 0/1 label), the <b>Brier skill</b> against "
    "the class prior (1 − Brier / Brier of always forecasting the rows' class-1 share: 0 no better than "
    "that constant, negative worse), the <b>log loss</b>, and the <b>expected calibration error</b> (ECE: "
    "the row-weighted mean gap between predicted and observed class-1 share over ten equal bins). "
    "Each cell reads <i>uncalibrated → calibrated</i>. Each ensemble carries a <b>Platt calibrator</b> "
    "(P ↦ sigmoid(a·logit P + b)) fitted on the out-of-fold predictions of its training rows; the "
    "calibrated scores here are <b>cross-fitted</b>: each fold's rows go through a calibrator fitted "
    "on the other folds' rows only, so no row is scored by a calibrator that saw it (for "
    "<code>seismag evaluate</code>: the test rows through the ensemble's calibrator, which never saw "
    "them). The map is increasing, so AUC and rankings do not change; F1 and accuracy at the 0.5 "
    "threshold do.")


CAPTION = ("Reliability diagrams: per bin of predicted P(class 1), the observed share of class 1; dashed: "
           "uncalibrated, solid: calibrated (cross-fitted); on the diagonal a probability means what it says. "
           "Marker area: the bin's number of rows.")


def _cell(scores: dict[str, Any], key: str, digits: int) -> str:
    before = (scores.get("uncalibrated") or {}).get(key)
    after = (scores.get("calibrated") or {}).get(key) if isinstance(scores.get("calibrated"), dict) else None
    text = number(before, digits) + ("" if after is None else f" → {number(after, digits)}")
    return f"<td data-score='{key}' data-uncalibrated='{before!r}' data-calibrated='{after!r}'>{text}</td>"


def _permutation_cell(summary: dict[str, Any]) -> str:
    record = ((summary.get("permutation") or {}).get("metrics") or {}).get("brier")
    if not isinstance(record, dict):
        return "<td>—</td>"
    return (f"<td title='share of permutations with a Brier score at most the real one'>"
            f"{number(record.get('p_value'), 3)}</td>")


def calibration_section(results: ResultsFolder, entries: Sequence[ModelEntry], windows: Sequence[int],
                        figures: Sequence[EmbeddedFigure]) -> str:
    """HTML of the section ('' when no summary carries a calibration record)."""
    parts = []
    for window in windows:
        rows = []
        for entry in entries:
            summary = results.summary(entry, window) if window in results.windows(entry) else None
            record = (summary or {}).get("calibration")
            if not isinstance(record, dict) or not isinstance(record.get("uncalibrated"), dict):
                continue
            calibrator = record.get("calibrator")
            words = ("none" if not isinstance(calibrator, dict) else
                     f"Platt a = {number(calibrator.get('slope'), 3)}, b = {number(calibrator.get('intercept'), 3)} "
                     f"({int(calibrator.get('n_rows') or 0)} rows)")
            n = record["uncalibrated"].get("n")
            rows.append(f"<tr data-model='{escape(entry.key)}' data-window='{window}'>"
                        f"<td class='name'>{escape(entry.display_name)}</td><td>{escape(n)}</td>"
                        f"<td>{number(record['uncalibrated'].get('base_rate'), 3)}</td>"
                        + "".join(_cell(record, key, digits) for key, _h, digits in SCORE_COLUMNS)
                        + _permutation_cell(summary) + f"<td class='name'>{escape(words)}</td></tr>")
        if rows:
            parts.append(f"<h3>{escape(window)}-day window</h3><div class='table-wrap'>"
                         f"<table id='calibration-{escape(window_name(window))}' class='calibration'><thead><tr>"
                         "<th class='name'>Model</th><th>N rows</th><th>Class-1 share</th>"
                         + "".join(f"<th>{escape(h)}</th>" for _k, h, _d in SCORE_COLUMNS)
                         + "<th>Permutation p (Brier)</th><th class='name'>Calibrator</th></tr></thead><tbody>"
                         + "".join(rows) + "</tbody></table></div>")
    if not parts:
        return ""
    diagrams = [embed_figure(EmbeddedFigure(fig.section, fig.path, CAPTION), "wide")
                for fig in figures if fig.section == SUBFOLDER]
    return "\n".join(["<h2 id='calibration'>Calibration and proper scores</h2>", f"<p>{EXPLANATION}</p>",
                      *parts, *diagrams])
