"""Honest numbers: confidence intervals, trivial baselines, and the permutation control.

Precursor signals are weak; a score means little without its uncertainty, the
score of a classifier that learned nothing, and the scores the same protocol
reaches when the labels carry no information at all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from seismag.scores import LOWER_IS_BETTER, PROPER_SCORE_KEYS, proper_scores
from seismag.training.calibration import calibrator_record, cross_fitted
from seismag.training.metrics import calculate_binary_metrics, fast_binary_metrics
from seismag.training.splits import own_group_if_empty


CI_METRICS = ("f1", "precision", "recall", "specificity", "mcc", "accuracy", "balanced_accuracy", "roc_auc")

# Two-sided 97.5 % quantiles of Student's t for 1..30 degrees of freedom (no SciPy needed).
_T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
         2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
         2.052, 2.048, 2.045, 2.042]


def fold_interval(values, bounds: tuple[float, float] = (0.0, 1.0)) -> list[float] | None:
    """95 % t-interval of the mean over folds (folds are the unit: k values),
    clipped to the metric's range ``bounds``."""
    values = np.asarray([v for v in values if v is not None], dtype=float)
    if len(values) < 2:
        return None
    t = _T975[len(values) - 2] if len(values) - 1 <= len(_T975) else 1.96
    half = t * values.std(ddof=1) / np.sqrt(len(values))
    return [float(max(bounds[0], values.mean() - half)), float(min(bounds[1], values.mean() + half))]


def bootstrap_intervals(labels: np.ndarray, probs: np.ndarray, n_boot: int = 1000, seed: int = 0,
                        metrics: tuple[str, ...] = CI_METRICS, threshold: float = 0.5) -> dict[str, list[float] | None]:
    """95 % percentile-bootstrap intervals over samples of pooled predictions.

    Parameters
    ----------
    labels : (n,) int, probs : (n,) float
        True labels and P(class 1), e.g. the out-of-fold predictions of all folds.
    """
    labels = np.asarray(labels).astype(np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    preds = (probs >= threshold).astype(np.int64)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {m: [] for m in metrics}
    for _ in range(n_boot):
        index = rng.integers(0, len(labels), len(labels))
        values = fast_binary_metrics(labels[index], preds[index], probs[index])
        for m in metrics:
            if values.get(m) is not None:
                draws[m].append(values[m])
    return {m: ([float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] if len(v) >= n_boot // 2 else None)
            for m, v in draws.items()}


def majority_baseline(labels: np.ndarray) -> dict[str, Any]:
    """What predicting the majority class for every window scores (no learning at all)."""
    labels = np.asarray(labels).astype(np.int64)
    majority = int(np.bincount(labels, minlength=2).argmax())
    metrics = calculate_binary_metrics(labels, np.full_like(labels, majority))
    return {"predicts": majority, "f1": metrics["f1"], "accuracy": metrics["accuracy"],
            "precision": metrics["precision"], "recall": metrics["recall"], "mcc": 0.0, "roc_auc": 0.5}


def interval_record(fold_metrics: list[dict[str, Any]], labels: np.ndarray, probs: np.ndarray,
                    seed: int = 0) -> dict[str, Any]:
    """Intervals for a cross-validated model: over folds (t) and over pooled samples (bootstrap)."""
    pooled = fast_binary_metrics(np.asarray(labels).astype(np.int64), (np.asarray(probs) >= 0.5).astype(np.int64),
                           np.asarray(probs, dtype=np.float64))
    return {
        "level": 0.95,
        "over_folds": {m: fold_interval([f.get(m) for f in fold_metrics], (-1.0, 1.0) if m == "mcc" else (0.0, 1.0))
                       for m in CI_METRICS},
        "pooled": {m: pooled.get(m) for m in CI_METRICS},
        "bootstrap": bootstrap_intervals(labels, probs, seed=seed),
        "note": ("over_folds: t-interval of the mean over folds (folds as the unit); bootstrap: 1000 "
                 "resamples of the pooled out-of-fold predictions, an interval for the 'pooled' scores. "
                 "Neither accounts for windows that share an event."),
    }


def permuted_labels(labels: np.ndarray, train_rows: np.ndarray, rng: np.random.Generator,
                    groups: np.ndarray | None = None) -> np.ndarray:
    """Labels with the training rows' labels shuffled; validation rows keep their real labels.

    With ``groups``, whole groups swap labels (a group's rows keep one label), so
    the permutation respects the same dependence the grouped split does.
    """
    out = np.array(labels, copy=True)
    train_rows = np.asarray(train_rows)
    if groups is None:
        out[train_rows] = rng.permutation(out[train_rows])
        return out
    row_groups = own_group_if_empty(np.asarray(groups).astype(str)[train_rows], train_rows)
    names, inverse = np.unique(row_groups, return_inverse=True)
    group_label = np.zeros(len(names), dtype=out.dtype)
    group_label[inverse] = out[train_rows]  # a group's label (groups are label-pure in practice)
    out[train_rows] = rng.permutation(group_label)[inverse]
    return out


def permutation_summary(real: dict[str, float], null: list[dict[str, float]]) -> dict[str, Any]:
    """Real CV scores beside their permutation distribution, with p-values and a verdict."""
    record: dict[str, Any] = {"n_permutations": len(null), "metrics": {}}
    for metric, value in real.items():
        values = [n[metric] for n in null if n.get(metric) is not None]
        if value is None or not values:
            continue
        # p: the share of permutations at least as good as the real run (lower is better for
        # the Brier score, log loss and ECE)
        lower = metric in LOWER_IS_BETTER
        p = (1 + sum((v <= value) if lower else (v >= value) for v in values)) / (len(values) + 1)
        record["metrics"][metric] = {"real": float(value), "null": [float(v) for v in values],
                                     "null_mean": float(np.mean(values)), "p_value": float(p),
                                     "better": "lower" if lower else "higher"}
    p_f1 = record["metrics"].get("f1", {}).get("p_value")
    p_auc = record["metrics"].get("roc_auc", {}).get("p_value")
    p_values = [p for p in (p_f1, p_auc) if p is not None]
    record["min_p_value"] = 1.0 / (len(null) + 1)
    if p_values and min(p_values) <= 0.05:
        record["verdict"] = f"distinguishable from chance (p = {min(p_values):.3g})"
    elif record["min_p_value"] > 0.05:
        record["verdict"] = (f"undecided: {len(null)} permutations cannot give p <= 0.05 "
                             "(use at least 19)")
    else:
        record["verdict"] = "indistinguishable from chance"
    return record


def permutation_rngs(n_permutations: int, seed: int) -> list[np.random.Generator]:
    """One seeded generator per permutation (the same for the same run seed)."""
    return [np.random.default_rng(np.random.SeedSequence([int(seed), 7919, index]))
            for index in range(1, n_permutations + 1)]


CALIBRATION_NOTE = ("uncalibrated: the pooled out-of-fold P(class 1) as the fold models gave it; calibrated: "
                    "each fold's rows through a Platt calibrator fitted on the other folds' out-of-fold rows only "
                    "(cross-fitted, so no row is scored by a calibrator that saw it). The ensemble's own calibrator "
                    "is fitted on all out-of-fold rows. Brier skill is against the constant class prior of the "
                    "scored rows; ECE over 10 equal-width bins.")


def fold_proper_scores(labels: np.ndarray, probs: np.ndarray) -> dict[str, float | None]:
    """The proper scores (:data:`~seismag.scores.PROPER_SCORE_KEYS`) of one fold's validation rows."""
    scores = proper_scores(labels, probs)
    return {key: scores[key] for key in PROPER_SCORE_KEYS}


def calibration_summary(fold_probs: list[np.ndarray], fold_labels: list[np.ndarray]) -> dict[str, Any]:
    """The summary's ``calibration`` record from the folds' out-of-fold predictions.

    ``calibrator``: Platt scaling fitted on every fold's out-of-fold rows (what the ensemble
    carries); ``uncalibrated`` / ``calibrated``: :func:`~seismag.scores.proper_scores` (with the
    reliability table) of the pooled rows before calibration and after cross-fitted calibration
    (:func:`~seismag.training.calibration.cross_fitted`); ``cross_fitted_on``: per fold, the folds
    its calibrator was fitted on.
    """
    labels = np.concatenate([np.asarray(y).ravel() for y in fold_labels])
    probs = np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in fold_probs])
    calibrated, fitted_on = cross_fitted(fold_probs, fold_labels)
    return {"calibrator": calibrator_record(probs, labels),
            "uncalibrated": proper_scores(labels, probs),
            "calibrated": proper_scores(labels, np.concatenate(calibrated)),
            "cross_fitted_on": fitted_on, "note": CALIBRATION_NOTE}
