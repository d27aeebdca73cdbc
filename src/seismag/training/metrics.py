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

METRIC_KEYS = ("f1", "precision", "recall", "specificity", "mcc", "norm_mcc", "accuracy",
               "balanced_accuracy", "roc_auc", "pr_auc")


def calculate_binary_metrics(y_true, y_pred, y_prob=None) -> dict[str, Any]:
    """All metrics the SPEC reports, robust to degenerate inputs.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (n,)
        True and predicted labels (0/1). Class 1 ("precedes an earthquake") is positive.
    y_prob : array-like of float, shape (n,), optional
        Predicted probability of class 1; adds ``roc_auc`` and ``pr_auc``.

    Returns
    -------
    dict
        ``f1``, ``precision``, ``recall`` (weighted over both classes),
        ``specificity`` (TN / (TN + FP)), ``mcc``, ``norm_mcc`` = (MCC + 1) / 2,
        ``accuracy``, ``balanced_accuracy``, ``class_acc`` [class 0, class 1],
        ``roc_auc`` and ``pr_auc`` (None without probabilities or when only one
        class is present). A class absent from ``y_true`` has accuracy None.
    """
    y_true = np.asarray(y_true).astype(np.int64).ravel()
    y_pred = np.asarray(y_pred).astype(np.int64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.shape[0]} vs {y_pred.shape[0]}")
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
    metrics["specificity"] = _ratio(tn, tn + fp)
    metrics["norm_mcc"] = (metrics["mcc"] + 1.0) / 2.0
    metrics["accuracy"] = float((tp + tn) / y_true.size)
    class_acc = [_ratio(tn, tn + fp, none=True), _ratio(tp, tp + fn, none=True)]
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


def _ratio(numerator, denominator, none: bool = False):
    if denominator == 0:
        return None if none else 0.0
    return float(numerator / denominator)
