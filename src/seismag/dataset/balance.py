"""Class balance: how imbalanced class counts are, and the class weights training uses.

:func:`compute_class_weights` is the one place class weights are computed (the training
engine's weighted loss, the SPEC report of :mod:`seismag.spec.analysis`);
:func:`imbalance_ratio` and :func:`imbalance_severity` are what a run's summary records of
its window; :func:`analyze_imbalance` gathers ratio, severity, the SPEC table's strategy,
recommendations and the weights of every method. The formulas and the severity table are
the SPEC's (Modules 2 and 3).

May import numpy, the standard library and :mod:`seismag.errors`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from seismag.errors import ConfigError

__all__ = [
    "DEFAULT_BETA",
    "SEVERITY_LEVELS",
    "WEIGHT_METHODS",
    "ImbalanceAnalysis",
    "analyze_imbalance",
    "compute_class_weights",
    "imbalance_ratio",
    "imbalance_severity",
    "severity_recommendations",
    "severity_strategy",
]

DEFAULT_BETA = 0.999
WEIGHT_METHODS = ("inverse", "sqrt", "effective", "balanced")
SEVERITY_LEVELS = ("balanced", "mild", "moderate", "severe")

# Ratio boundaries (majority count / minority count) of the SPEC's table. A ratio on a
# boundary belongs to the band above it, except 10:1 which is still moderate, because
# the table calls severe "> 10:1":
#   balanced: ratio < 1.5;  mild: 1.5 <= ratio < 3;  moderate: 3 <= ratio <= 10;
#   severe: ratio > 10.
MILD_FROM = 1.5
MODERATE_FROM = 3.0
SEVERE_ABOVE = 10.0

_STRATEGIES = {
    "balanced": "Standard training (no special handling needed)",
    "mild": "Apply class weight adjustment",
    "moderate": "Apply class weights and balanced batch sampling",
    "severe": "Combine class weights, balanced sampling and a specialised loss (e.g. focal loss)",
}

_RECOMMENDATIONS = {
    "balanced": [
        "Loss: plain nn.CrossEntropyLoss(); class weights are optional",
        "Sampling: ordinary shuffled batches; stratified k-fold keeps the class ratio in every fold",
        "Metrics: accuracy is meaningful here; report F1 and ROC AUC as well",
    ],
    "mild": [
        "Loss: nn.CrossEntropyLoss(weight=weights) with the suggested (inverse-frequency) "
        "weights; the sqrt weights are a gentler alternative",
        "Sampling: ordinary shuffled batches; stratified k-fold keeps the class ratio in every fold",
        "Metrics: watch F1, minority-class recall and ROC AUC, not accuracy alone",
    ],
    "moderate": [
        "Loss: nn.CrossEntropyLoss(weight=weights) with the suggested weights",
        "Sampling: balanced batches (torch.utils.data.WeightedRandomSampler), or oversample "
        "the minority class inside each training fold only",
        "Metrics: watch F1, balanced accuracy, minority-class precision/recall and PR AUC; "
        "accuracy is misleading at this ratio",
    ],
    "severe": [
        "Loss: focal loss (alpha = the class weights, gamma = 2.0) or weighted cross-entropy",
        "Sampling: balanced batches plus minority oversampling or augmentation inside each "
        "training fold; consider an ensemble of the fold models",
        "Metrics: PR AUC, F1, minority-class recall and the confusion matrix; tune the "
        "decision threshold on validation data",
    ],
}


# --------------------------------------------------------------------------- weights


def compute_class_weights(
    class_counts: Sequence[float] | np.ndarray,
    method: str = "sqrt",
    beta: float = DEFAULT_BETA,
    normalize: bool = False,
) -> np.ndarray:
    """Per-class loss weights from class counts.

    With ``n`` samples in ``k`` classes and ``c`` samples in a class:

    - ``'inverse'``: ``n / (k * c)`` - each class contributes equally to the loss.
    - ``'balanced'``: the same formula, under scikit-learn's name
      (``compute_class_weight('balanced')``).
    - ``'sqrt'``: ``sqrt(n / (k * c))`` - a gentler correction.
    - ``'effective'``: ``(1 - beta) / (1 - beta**c)``, the inverse "effective number of
      samples" of Cui et al., "Class-Balanced Loss Based on Effective Number of
      Samples", CVPR 2019 (the paper rescales them to sum to ``k``: ``normalize=True``).

    These are the SPEC's formulas as written (SPEC Module 3 table). A weighted-mean
    loss (``nn.CrossEntropyLoss(weight=...)``, :class:`~seismag.training.losses.FocalLoss`)
    does not change when the weights are scaled, so ``normalize`` changes the
    numbers shown, not what training does.

    Parameters
    ----------
    class_counts : sequence of numbers, shape (k,)
        Samples per class, in class order; ``k >= 2``, every count > 0.
    method : str
        One of :data:`WEIGHT_METHODS`.
    beta : float
        In ``[0, 1)``; only for ``'effective'`` (0 gives weight 1 per class, values near 1
        approach ``1 / c``, proportional to ``'inverse'``).
    normalize : bool
        False: the formulas above, unscaled. True: the same weights rescaled by one
        factor so they sum to ``k`` (the number of classes); their ratios are kept,
        and equal counts give weight 1 per class.

    Returns
    -------
    numpy.ndarray, shape (k,), float64
        Use ``torch.tensor(weights, dtype=torch.float32)`` for a loss on float32 logits.

    Raises
    ------
    ConfigError
        For an unknown method, a ``beta`` outside ``[0, 1)``, fewer than two classes, or
        a count that is not a positive finite number (a class without samples has no
        defined weight).
    """
    counts = _validate_counts(class_counts)
    if method not in WEIGHT_METHODS:
        raise ConfigError(f"unknown class-weight method {method!r}; choose one of {', '.join(WEIGHT_METHODS)}")
    n_classes = counts.size
    total = counts.sum()
    if method in ("inverse", "balanced"):
        weights = total / (n_classes * counts)
    elif method == "sqrt":
        weights = np.sqrt(total / (n_classes * counts))
    else:
        if not (isinstance(beta, (int, float, np.floating)) and 0.0 <= float(beta) < 1.0):
            raise ConfigError(f"beta must be in [0, 1) for the 'effective' method, got {beta!r}")
        # -expm1(c * log(beta)) == 1 - beta**c, without cancellation when beta**c ~ 1.
        effective_number = -np.expm1(counts * np.log(beta)) if beta > 0 else np.ones_like(counts)
        weights = (1.0 - beta) / effective_number
    if normalize:
        weights = weights * n_classes / weights.sum()
    return weights.astype(np.float64)


def imbalance_ratio(class_counts: Sequence[float] | np.ndarray) -> float:
    """Majority count over minority count (1.0 = perfectly balanced)."""
    counts = _validate_counts(class_counts)
    return float(counts.max() / counts.min())


def _validate_counts(class_counts: Sequence[float] | np.ndarray) -> np.ndarray:
    try:
        counts = np.asarray(class_counts, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"class counts must be numbers, got {class_counts!r}") from None
    if counts.ndim != 1 or counts.size < 2:
        raise ConfigError(f"class counts need one number per class and at least two classes, got {class_counts!r}")
    if not np.all(np.isfinite(counts)):
        raise ConfigError(f"class counts must be finite, got {class_counts!r}")
    empty = np.flatnonzero(counts <= 0)
    if empty.size:
        raise ConfigError(
            f"class {int(empty[0])} has {counts[empty[0]]:g} samples (counts {class_counts!r}); "
            "class weights and the imbalance ratio need samples of every class"
        )
    return counts


# --------------------------------------------------------------------------- severity


def imbalance_severity(ratio: float) -> str:
    """``'balanced'``, ``'mild'``, ``'moderate'`` or ``'severe'`` for a majority:minority ratio.

    balanced: ratio < 1.5; mild: 1.5 <= ratio < 3; moderate: 3 <= ratio <= 10;
    severe: ratio > 10 (the SPEC's table; a boundary belongs to the band above it,
    except 10, since severe is "> 10:1").
    """
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float, np.integer, np.floating)):
        raise ConfigError(f"imbalance ratio must be a number, got {ratio!r}")
    if not math.isfinite(ratio) or ratio < 1.0:
        raise ConfigError(f"imbalance ratio must be a finite number >= 1 (majority / minority), got {ratio!r}")
    if ratio < MILD_FROM:
        return "balanced"
    if ratio < MODERATE_FROM:
        return "mild"
    if ratio <= SEVERE_ABOVE:
        return "moderate"
    return "severe"


def severity_strategy(severity: str) -> str:
    """The SPEC table's strategy for a severity level, as one line."""
    _check_severity(severity)
    return _STRATEGIES[severity]


def severity_recommendations(severity: str) -> list[str]:
    """Loss function, sampling and metrics to watch for a severity level."""
    _check_severity(severity)
    return list(_RECOMMENDATIONS[severity])


def _check_severity(severity: str) -> None:
    if severity not in SEVERITY_LEVELS:
        raise ConfigError(f"unknown severity {severity!r}; one of {', '.join(SEVERITY_LEVELS)}")


# --------------------------------------------------------------------------- results


@dataclass
class ImbalanceAnalysis:
    """How imbalanced a set of class counts is, and what to do about it.

    ``suggested_weights`` are the inverse-frequency weights ``n / (k * c)`` (the SPEC's
    sample output: ``[0.801, 1.331]`` for counts ``[1661, 999]``), as plain floats so
    ``torch.tensor(weights)`` is float32. ``weights_by_method`` holds
    :func:`compute_class_weights` of every method, unscaled (``normalize=False``).
    ``severity`` is lower-case.
    """

    class_counts: list[int]
    imbalance_ratio: float
    severity: str
    strategy: str
    majority_class: int
    minority_class: int
    suggested_weights: list[float]
    weights_by_method: dict[str, list[float]]
    beta: float
    recommendations: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def analyze_imbalance(class_counts: Sequence[int] | np.ndarray, beta: float = DEFAULT_BETA) -> ImbalanceAnalysis:
    """Ratio, severity, strategy, recommendations and the weights of every method."""
    counts = _validate_counts(class_counts)
    ratio = float(counts.max() / counts.min())
    severity = imbalance_severity(ratio)
    weights_by_method = {
        method: [float(value) for value in compute_class_weights(counts, method, beta=beta)]
        for method in WEIGHT_METHODS
    }
    return ImbalanceAnalysis(
        class_counts=[int(count) if float(count).is_integer() else float(count) for count in counts],
        imbalance_ratio=ratio,
        severity=severity,
        strategy=severity_strategy(severity),
        majority_class=int(np.argmax(counts)),
        minority_class=int(np.argmin(counts)),
        suggested_weights=list(weights_by_method["inverse"]),
        weights_by_method=weights_by_method,
        beta=float(beta),
        recommendations=severity_recommendations(severity),
    )
