"""Proper scores of probability forecasts and their reliability: plain NumPy, torch-free.

One owner for the arithmetic that training's summaries, ``seismag evaluate``, the permutation
control and ``seismag skill`` (the daily forecasts) all report beside F1 / AUC:

- :func:`brier_score`        mean of ``(p - y)**2`` (0 perfect; a constant ``p = base rate`` scores
                             ``rate * (1 - rate)``)
- :func:`brier_skill_score`  ``1 - BS / BS_ref`` against a reference forecast (default: the
                             constant class prior, the labels' own class-1 share): 0 no better than
                             the prior, 1 perfect, negative worse than the prior
- :func:`log_loss`           mean of ``-log p(true class)``, probabilities clipped to [eps, 1 - eps] with
                             eps the float64 machine epsilon (as scikit-learn's ``log_loss``)
- :func:`reliability_table`  equal-width bins of the predicted probability: mean prediction,
                             observed class-1 share and count per bin (the reliability diagram)
- :func:`expected_calibration_error`  the count-weighted mean of ``|observed - predicted|`` over
                             those bins
- :func:`proper_scores`      all of them as one plain dict (the summaries' ``calibration`` records)

May import: numpy and the standard library only (training, inference and evaluation all use it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Bins of the reliability diagram and of the expected calibration error.
RELIABILITY_BINS = 10
#: Keys :func:`proper_scores` returns besides the reliability table, in table order.
PROPER_SCORE_KEYS = ("brier", "brier_skill", "log_loss", "ece")
#: Lower is better for these keys (the permutation control's p-values look the other way).
LOWER_IS_BETTER = ("brier", "log_loss", "ece")
_EPS = float(np.finfo(np.float64).eps)


def _checked(labels, probs) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=np.float64).ravel()
    p = np.asarray(probs, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"labels and probabilities differ in length: {y.size} vs {p.size}")
    if y.size == 0:
        raise ValueError("no samples to score")
    if not np.all(np.isin(y, (0.0, 1.0))):
        raise ValueError("labels must be 0 or 1")
    if not np.all(np.isfinite(p)) or p.min() < 0.0 or p.max() > 1.0:
        raise ValueError("probabilities must be finite and in [0, 1]")
    return y, p


def brier_score(labels, probs) -> float:
    """Mean squared difference between P(class 1) and the 0/1 label (scikit-learn's ``brier_score_loss``)."""
    y, p = _checked(labels, probs)
    return float(np.mean((p - y) ** 2))


def brier_skill_score(labels, probs, reference=None) -> float | None:
    """``1 - BS(probs) / BS(reference)``.

    ``reference``: a constant or one probability per sample; None: the constant class prior
    (the labels' class-1 share). None when the reference scores 0 (all labels one class and a
    reference that knows it): no skill can be measured against a perfect reference.
    """
    y, p = _checked(labels, probs)
    ref = np.full_like(y, y.mean()) if reference is None else np.broadcast_to(
        np.asarray(reference, dtype=np.float64), y.shape)
    reference_score = float(np.mean((ref - y) ** 2))
    if reference_score <= 0.0:
        return None
    return float(1.0 - np.mean((p - y) ** 2) / reference_score)


def log_loss(labels, probs) -> float:
    """Mean negative log-likelihood of the labels (natural log), probabilities clipped to [eps, 1 - eps]."""
    y, p = _checked(labels, probs)
    p = np.clip(p, _EPS, 1.0 - _EPS)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


def reliability_table(labels, probs, n_bins: int = RELIABILITY_BINS) -> dict[str, list]:
    """The reliability diagram's numbers over ``n_bins`` equal-width bins of [0, 1].

    Returns plain lists (JSON-able): ``edges`` (n_bins + 1), and per bin ``count``,
    ``mean_predicted`` and ``observed`` (class-1 share), None for an empty bin. A probability
    of exactly 1 falls in the last bin.
    """
    y, p = _checked(labels, probs)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1], right=False), 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    sum_p = np.bincount(index, weights=p, minlength=n_bins)
    sum_y = np.bincount(index, weights=y, minlength=n_bins)
    return {"edges": [float(e) for e in edges], "count": [int(c) for c in counts],
            "mean_predicted": [float(s / c) if c else None for s, c in zip(sum_p, counts)],
            "observed": [float(s / c) if c else None for s, c in zip(sum_y, counts)]}


def expected_calibration_error(labels, probs, n_bins: int = RELIABILITY_BINS) -> float:
    """``sum_b (n_b / n) * |observed_b - mean_predicted_b|`` over the bins of :func:`reliability_table`."""
    return _table_ece(reliability_table(labels, probs, n_bins))


def _table_ece(table: dict[str, list]) -> float:
    n = sum(table["count"])
    return float(sum(c * abs(o - m) for c, o, m in zip(table["count"], table["observed"], table["mean_predicted"])
                     if c) / n)


def proper_scores(labels, probs, reference=None, n_bins: int = RELIABILITY_BINS) -> dict[str, Any]:
    """:data:`PROPER_SCORE_KEYS`, the number of samples, the class-1 share and the reliability table."""
    y, p = _checked(labels, probs)
    table = reliability_table(y, p, n_bins)  # binned once, for the table and the ECE
    return {"brier": brier_score(y, p), "brier_skill": brier_skill_score(y, p, reference),
            "log_loss": log_loss(y, p), "ece": _table_ece(table),
            "n": int(y.size), "base_rate": float(y.mean()), "reliability": table}
