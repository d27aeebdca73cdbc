"""Binary classification metrics (SPEC Module 3 ``calculate_binary_metrics``)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
    roc_auc_score,
)

from seismag.layout.results import METRIC_KEYS  # noqa: F401  (the keys the summaries average; owned by the layout)


def calculate_binary_metrics(y_true, y_class=None, y_prob=None, *, y_pred=None) -> dict[str, Any]:
    """All metrics the SPEC reports, robust to degenerate inputs.

    Parameters
    ----------
    y_true, y_class : array-like of int, shape (n,)
        True and predicted labels (0/1). Class 1 ("precedes an earthquake") is positive.
    y_prob : array-like of float, shape (n,), optional
        Predicted probability of class 1; adds ``roc_auc`` and ``pr_auc``.
    y_pred : array-like of int, shape (n,), optional
        Keyword alias of ``y_class``; give exactly one of the two.

    Returns
    -------
    dict
        ``f1``, ``precision``, ``recall`` (weighted over both classes),
        ``specificity`` (TN / (TN + FP); None when ``y_true`` has no class 0),
        ``mcc``, ``norm_mcc`` = (MCC + 1) / 2, ``accuracy``, ``balanced_accuracy``
        (mean recall of the classes present in ``y_true``, as scikit-learn's
        ``balanced_accuracy_score``), ``class_acc`` [class 0, class 1],
        ``roc_auc`` and ``pr_auc`` (None without probabilities or when only one
        class is present). A class absent from ``y_true`` has accuracy None.
    """
    if (y_class is None) == (y_pred is None):
        raise ValueError("give the predicted labels exactly once: as y_class (or positionally), "
                         "or as the keyword alias y_pred")
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    y_pred = np.asarray(y_class if y_class is not None else y_pred).astype(np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_class differ in length: {y_true.shape[0]} vs {y_pred.shape[0]}")
    if y_true.size == 0:
        raise ValueError("no samples to score")
    tn, fp, fn, tp = confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    with warnings.catch_warnings():
        # Undefined precision for a class never predicted is 0 by convention here.
        warnings.simplefilter("ignore")
        metrics: dict[str, Any] = {
            "f1": float(f1_score(y_true, y_pred, average="weighted", labels=[0, 1], zero_division=0)),
            "precision": float(precision_score(y_true, y_pred, average="weighted", labels=[0, 1], zero_division=0)),
            "recall": float(recall_score(y_true, y_pred, average="weighted", labels=[0, 1], zero_division=0)),
            "mcc": float(matthews_corrcoef(y_true, y_pred)),
        }
    class_acc = [_ratio(tn, tn + fp), _ratio(tp, tp + fn)]
    # Specificity is the recall of class 0: undefined (None) without class-0 samples.
    metrics["specificity"] = class_acc[0]
    metrics["norm_mcc"] = (metrics["mcc"] + 1.0) / 2.0
    metrics["accuracy"] = float((tp + tn) / y_true.size)
    metrics["class_acc"] = class_acc
    present = [a for a in class_acc if a is not None]
    metrics["balanced_accuracy"] = float(np.mean(present))
    metrics["roc_auc"] = metrics["pr_auc"] = None
    if y_prob is not None:
        y_prob = np.asarray(y_prob, dtype=np.float64).ravel()
        if y_prob.shape != y_true.shape:
            raise ValueError("y_prob must have one probability per sample")
        if 0 < y_true.sum() < y_true.size:
            metrics["roc_auc"] = float(roc_auc_score(y_true, y_prob))
            metrics["pr_auc"] = float(average_precision_score(y_true, y_prob))
    metrics["confusion"] = [[int(tn), int(fp)], [int(fn), int(tp)]]
    return metrics


def _ratio(numerator, denominator) -> float | None:
    """``numerator / denominator``, or None (undefined) when the denominator is 0."""
    if denominator == 0:
        return None
    return float(numerator / denominator)


def fast_binary_metrics(y: np.ndarray, pred: np.ndarray, prob: np.ndarray | None = None) -> dict[str, float | None]:
    """Headline metrics from confusion counts, without scikit-learn's per-call overhead
    (every epoch, and 1000 bootstrap draws). Equal to :func:`calculate_binary_metrics`
    on every key both return, degenerate inputs included; ``roc_auc`` only when
    ``prob`` is given."""
    tp = float(np.sum((pred == 1) & (y == 1)))
    tn = float(np.sum((pred == 0) & (y == 0)))
    fp = float(np.sum((pred == 1) & (y == 0)))
    fn = float(np.sum((pred == 0) & (y == 1)))
    n = len(y)
    n1, n0 = tp + fn, tn + fp
    out: dict[str, float | None] = {"accuracy": (tp + tn) / n}
    prec1 = tp / (tp + fp) if tp + fp else 0.0
    prec0 = tn / (tn + fn) if tn + fn else 0.0
    rec1 = tp / n1 if n1 else 0.0
    rec0 = tn / n0 if n0 else 0.0
    f1_1 = 2 * prec1 * rec1 / (prec1 + rec1) if prec1 + rec1 else 0.0
    f1_0 = 2 * prec0 * rec0 / (prec0 + rec0) if prec0 + rec0 else 0.0
    out["f1"] = (f1_0 * n0 + f1_1 * n1) / n
    out["precision"] = (prec0 * n0 + prec1 * n1) / n
    out["recall"] = (rec0 * n0 + rec1 * n1) / n
    out["specificity"] = rec0 if n0 else None
    denominator = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    out["mcc"] = float((tp * tn - fp * fn) / denominator) if denominator else 0.0
    # Mean recall of the classes present in y (scikit-learn's balanced_accuracy_score).
    present = [rec for rec, count in ((rec0, n0), (rec1, n1)) if count]
    out["balanced_accuracy"] = sum(present) / len(present)
    out["roc_auc"] = _auc(y, prob) if prob is not None and n0 and n1 else None
    return out


def _auc(y: np.ndarray, prob: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted half (equals sklearn's roc_auc_score)."""
    order = np.argsort(prob, kind="mergesort")
    ranks = np.empty(len(prob))
    sorted_prob = prob[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_prob, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(avg, counts)
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n0 * n1))
