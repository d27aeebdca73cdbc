"""The ensembles' probability calibrator: Platt scaling fitted on rows that never scored it.

Class weights and balanced sampling move a model's P(class 1) away from the frequency of
class 1 among windows that receive it. Platt scaling maps the ensemble's probability ``p`` to

    sigmoid(slope * logit(p) + intercept)

with the two numbers fitted by maximum likelihood (Newton's method) on the pooled
out-of-fold predictions of the training rows: every row scored by the fold model that never
trained on it. Platt's smoothed targets ((n1 + 1) / (n1 + 2) and 1 / (n0 + 2)) keep the fit
finite when the classes separate. The map is monotone, so rankings (AUC, Molchan, alarm
order) are unchanged; the intercept undoes a prior shift (what class weighting causes), which
temperature scaling (slope only) cannot; two parameters stay stable on the tens to hundreds of
windows a fold has, where isotonic regression overfits and ties scores. The slope is kept at
least :data:`MIN_SLOPE`: a falling map would reverse the model's ranking on the evidence of
out-of-fold noise.

The calibrator is a plain dict (:func:`calibrator_record`), stored in the ensemble's metadata,
so the ensemble file still loads with ``torch.load(weights_only=True)``.
:func:`cross_fitted` is how its benefit is measured honestly: each fold's rows calibrated by a
calibrator fitted on the other folds' out-of-fold rows only.

May import: numpy, :mod:`seismag.errors`, :mod:`seismag.scores`.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from seismag.errors import CheckpointError

METHOD = "platt"
#: Probabilities are clipped to [CLIP, 1 - CLIP] before the logit (vote shares of 0 and 1).
CLIP = 1e-6
#: The smallest slope fitted: the map stays strictly rising, so it never reorders windows. A model
#: whose out-of-fold rows show no skill (or anti-skill) gets this slope and predicts the class prior.
MIN_SLOPE = 1e-3
FITTED_ON = ("the pooled out-of-fold predictions of the training rows (each row scored by the fold "
             "model that never trained on it)")


def _logit(probs, clip: float = CLIP) -> np.ndarray:
    p = np.clip(np.asarray(probs, dtype=np.float64).ravel(), clip, 1.0 - clip)
    return np.log(p) - np.log1p(-p)


def fit_platt(probs, labels, iterations: int = 100) -> tuple[float, float]:
    """Slope and intercept of Platt scaling on ``logit(probs)`` (Newton's method with line search).

    ``probs``, ``labels``: ``(n,)`` P(class 1) and 0/1 labels of rows the model never trained on.
    """
    x = _logit(probs)
    y = np.asarray(labels, dtype=np.float64).ravel()
    if x.shape != y.shape or y.size == 0:
        raise ValueError("the calibrator needs one label per probability and at least one row")
    n1 = float(y.sum())
    n0 = float(y.size - n1)
    target = np.where(y == 1, (n1 + 1.0) / (n1 + 2.0), 1.0 / (n0 + 2.0))
    prior = (n1 + 1.0) / (y.size + 2.0)
    varied = bool(np.ptp(x) > 0)  # constant inputs carry no slope: the intercept alone
    params = np.array([1.0, 0.0]) if varied else np.array([MIN_SLOPE, math.log(prior / (1 - prior))])
    params = _newton(x, target, params, free_slope=varied, iterations=iterations)
    if params[0] < MIN_SLOPE:
        # A falling map would invert the model's ranking on the strength of out-of-fold noise:
        # keep it rising (rankings, AUC and the Molchan diagram unchanged), fit the intercept alone.
        params = _newton(x, target, np.array([MIN_SLOPE, params[1]]), free_slope=False, iterations=iterations)
    return float(params[0]), float(params[1])


def _newton(x: np.ndarray, target: np.ndarray, params: np.ndarray, free_slope: bool, iterations: int) -> np.ndarray:
    """Minimise the mean log loss of ``sigmoid(slope * x + intercept)`` against ``target``
    (the intercept alone when not ``free_slope``)."""

    def loss(theta: np.ndarray) -> float:
        z = theta[0] * x + theta[1]
        # -[t log s(z) + (1 - t) log(1 - s(z))] = log(1 + e^z) - t z, computed stably
        return float(np.mean(np.logaddexp(0.0, z) - target * z))

    current = loss(params)
    for _ in range(iterations):
        z = params[0] * x + params[1]
        s = 1.0 / (1.0 + np.exp(-z))
        gradient = np.array([np.mean((s - target) * x), np.mean(s - target)])
        w = s * (1.0 - s)
        hessian = np.array([[np.mean(w * x * x), np.mean(w * x)], [np.mean(w * x), np.mean(w)]])
        hessian += 1e-10 * np.eye(2)  # constant inputs: the slope's curvature is 0
        if free_slope:
            step = np.linalg.solve(hessian, gradient)
        else:
            step = np.array([0.0, gradient[1] / hessian[1, 1]])
        scale = 1.0
        while scale > 1e-8:
            candidate = params - scale * step
            value = loss(candidate)
            if value <= current:
                break
            scale /= 2.0
        else:
            break
        improvement = current - value
        params, current = candidate, value
        if improvement < 1e-12:
            break
    return params


def calibrator_record(probs, labels) -> dict[str, Any]:
    """Fit Platt scaling on ``probs`` / ``labels`` and return it as plain data (see the module doc)."""
    slope, intercept = fit_platt(probs, labels)
    labels = np.asarray(labels).ravel()
    return {"method": METHOD, "slope": slope, "intercept": intercept, "clip": CLIP, "fitted_on": FITTED_ON,
            "n_rows": int(labels.size), "n_class1": int(labels.sum())}


def checked_record(record: Any, where: str = "the ensemble") -> dict[str, Any] | None:
    """A stored calibrator, checked; None for an ensemble saved without one (uncalibrated).

    Raises
    ------
    CheckpointError
        One line naming ``where``: not a Platt calibrator of finite numbers.
    """
    if record is None:
        return None
    ok = isinstance(record, Mapping) and record.get("method") == METHOD
    numbers = [record.get(key) for key in ("slope", "intercept", "clip")] if ok else []
    if not ok or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in numbers):
        raise CheckpointError(f"{where}: damaged calibrator {record!r} (expected a '{METHOD}' calibrator "
                              "with finite slope, intercept and clip)")
    return dict(record)


def apply_calibrator(record: Mapping[str, Any] | None, probs) -> np.ndarray:
    """Calibrated P(class 1) for ``probs`` ``(n,)``; ``probs`` as float64 when ``record`` is None."""
    probs = np.asarray(probs, dtype=np.float64)
    if record is None:
        return probs
    z = float(record["slope"]) * _logit(probs, float(record["clip"])).reshape(probs.shape) + float(record["intercept"])
    return 1.0 / (1.0 + np.exp(-z))


def cross_fitted(fold_probs: Sequence[np.ndarray], fold_labels: Sequence[np.ndarray]
                 ) -> tuple[list[np.ndarray], list[list[int]]]:
    """Each fold's out-of-fold probabilities calibrated by a calibrator fitted on the other folds only.

    Returns the calibrated probabilities per fold (same order and shapes) and, per fold, the
    1-based folds whose rows its calibrator was fitted on (never the fold itself). With one
    fold there is nothing else to fit on: it stays uncalibrated (its list is empty).
    """
    calibrated, fitted_on = [], []
    for k in range(len(fold_probs)):
        others = [j for j in range(len(fold_probs)) if j != k]
        if not others:
            calibrated.append(np.asarray(fold_probs[k], dtype=np.float64))
            fitted_on.append([])
            continue
        record = calibrator_record(np.concatenate([np.asarray(fold_probs[j]).ravel() for j in others]),
                                   np.concatenate([np.asarray(fold_labels[j]).ravel() for j in others]))
        calibrated.append(apply_calibrator(record, fold_probs[k]))
        fitted_on.append([j + 1 for j in others])
    return calibrated, fitted_on
