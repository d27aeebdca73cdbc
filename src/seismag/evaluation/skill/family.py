"""p-values from shared resamples, and their family-wise adjustment (Westfall & Young 1993,
single-step max-T).

A run judges several models (and windows) on one catalog; with ten of them, one is "above
its surrogates at p < 0.05" by chance in about four runs of ten. Every forecast of a run is
resampled with the *same* circular shifts, so the joint null of all of them is at hand for
free. Each member's statistic is standardised by its own null (``T = (x - mean) / sd`` over
its draws; ``|T|`` for a two-sided test), and for each draw ``j`` the largest ``T`` over the
family is taken. The adjusted p of member ``m`` is ``(1 + #{max_i T_ij >= T_m}) / (1 + n)``:
the chance that the *best* of the family looks at least as extreme as ``m`` does under the
joint null. It keeps the family-wise error rate whatever the dependence between the members
(correlated models, windows of one model), is never below the raw p, and, unlike the min-p
form, does not lose a strong result to the coarseness of a few hundred shifts: a member far
beyond every draw of every member keeps ``1 / (1 + n)``.

Raw p-values count the observation in: ``(1 + #{draws at least as extreme}) / (1 + n)``.
Values within 1e-12 count as equal.

May import numpy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["two_sided_p_values", "upper_p_values", "westfall_young"]

_ROUNDING = 1e-12


def upper_p_values(observed, null) -> tuple[np.ndarray, np.ndarray]:
    """One-sided p-values (large statistics are extreme) of the observations and of every draw.

    Parameters
    ----------
    observed : array, shape (m,)
    null : array, shape (m, n)
        Row ``i``: member ``i``'s statistic under each of the ``n`` shared draws.

    Returns
    -------
    (raw, draws) : ndarrays of float64, shapes (m,) and (m, n)
    """
    observed, null = np.asarray(observed, dtype=np.float64), np.asarray(null, dtype=np.float64)
    n = null.shape[1]
    ordered = np.sort(null, axis=1)
    raw = np.empty(observed.shape)
    draws = np.empty(null.shape)
    for i in range(null.shape[0]):
        at_least = n - np.searchsorted(ordered[i], np.r_[observed[i], null[i]] - _ROUNDING, side="left")
        raw[i] = (1 + at_least[0]) / (1 + n)
        draws[i] = at_least[1:] / (1 + n)
    return raw, draws


def two_sided_p_values(observed, null) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided p-values, ``min(1, 2 min(upper, lower))``, of the observations and of every draw.

    The null need not be centred on 0: each side is counted in the draws themselves.
    """
    observed, null = np.asarray(observed, dtype=np.float64), np.asarray(null, dtype=np.float64)
    upper_raw, upper_draws = upper_p_values(observed, null)
    lower_raw, lower_draws = upper_p_values(-observed, -null)
    return (np.minimum(1.0, 2 * np.minimum(upper_raw, lower_raw)),
            np.minimum(1.0, 2 * np.minimum(upper_draws, lower_draws)))


def westfall_young(observed, null, raw, *, two_sided: bool = False) -> np.ndarray:
    """Family-wise adjusted p-values of ``m`` members that share ``n`` draws (single-step max-T).

    Parameters
    ----------
    observed : array, shape (m,)
        Each member's statistic.
    null : array, shape (m, n)
        Each member's statistic under each shared draw; column ``j`` is one joint draw.
    raw : array, shape (m,)
        Each member's raw p-value (:func:`upper_p_values` or :func:`two_sided_p_values`).
    two_sided : bool
        Large ``|T|`` is extreme (else large ``T``).

    Returns
    -------
    ndarray of float64, shape (m,)
        Each at least its raw p. A member whose null is one value (a constant forecast) has
        ``T`` 0 when it equals it: it never makes the family look extreme.
    """
    observed, null = np.asarray(observed, dtype=np.float64), np.asarray(null, dtype=np.float64)
    raw = np.asarray(raw, dtype=np.float64)
    if observed.size == 0 or null.shape[1] == 0:
        return raw.copy()
    centre = null.mean(axis=1, keepdims=True)
    scale = null.std(axis=1, keepdims=True)
    t_observed = _standardised(observed[:, None] - centre, scale)[:, 0]
    t_null = _standardised(null - centre, scale)
    if two_sided:
        t_observed, t_null = np.abs(t_observed), np.abs(t_null)
    largest = t_null.max(axis=0)
    adjusted = (1 + np.sum(largest[None, :] >= t_observed[:, None] - _ROUNDING, axis=1)) / (1 + null.shape[1])
    return np.maximum(adjusted, raw)


def _standardised(deviation: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``deviation / scale``; where the scale is 0, 0 for no deviation and +-inf otherwise."""
    flat = np.abs(deviation) <= _ROUNDING
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(scale > 0, deviation / np.where(scale > 0, scale, 1.0), np.sign(deviation) * np.inf)
    return np.where(flat & (scale <= 0), 0.0, out)
