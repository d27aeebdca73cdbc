"""The attribution kernels of ``seismag explain``: occlusion of one day of one channel, and
integrated gradients, both of a trained ensemble's P(class 1) on prepared windows.

Both take windows as the ensemble's members take them: the ensemble's recipe already applied
(:func:`seismag.inference.ensemble.prepare_raw`), flat ``(n, days * channels * steps)`` in the
order "day, channel, step", in the data's unit; each member still scales them with its own
fold's statistics, exactly as ``predict`` scores them.

**The neutral window.** What "nothing unusual happened on that day in that channel" looks like
is, here, the channel's *median day* of the same window: for every step of the day, the median
over the window's days. It keeps the station's level and its daily variation (Sq) and drops
what is particular to one day (a storm, a precursor, a spike). It needs no scaler (members may
scale per feature, per window or not at all, and must all see one input) and no training data.
Occlusion puts it in place of one day of one channel; integrated gradients start from it.

A model that takes a window's activity columns (``activity``) has no days: each column is
occluded alone, replaced by the mean its members' scalers were fitted with (the training
rows' mean, which the scaler maps to zero), or by the explained rows' median when they do not
scale per column.

May import numpy, torch and :mod:`seismag.models` (the registry's policy).
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from seismag import models as model_registry

__all__ = ["ensemble_probability", "integrated_gradients", "member_class1", "neutral_table", "neutral_windows",
           "occlusion", "takes_gradients"]


def takes_gradients(model_name: str) -> bool:
    """Whether integrated gradients apply to a model: a network trained end to end on the
    series (the registry's ``fitted_transform`` and ``per_window_table`` entries say which are
    not: a fixed transform or a row of activity statistics has no per-minute gradient)."""
    entry = model_registry.get_model_entry(model_name)
    return not (entry.fitted_transform or entry.per_window_table)


def neutral_windows(x: np.ndarray, days: int, channels: int) -> np.ndarray:
    """Every day of every channel replaced by the channel's median day of its own window.

    ``x``: ``(n, days * channels * steps)``; returns the same shape, float32.
    """
    n = x.shape[0]
    by_day = x.reshape(n, days, channels, -1)
    median_day = np.median(by_day, axis=1, keepdims=True)
    return np.ascontiguousarray(np.broadcast_to(median_day, by_day.shape).reshape(n, -1), dtype=np.float32)


def neutral_table(ensemble, x: np.ndarray) -> np.ndarray:
    """One neutral value per activity column ``(columns,)``: the mean of the members' fitted
    column means, or the median of ``x`` when the members do not scale per column."""
    scalers = [member.scaler for member in ensemble.models]
    if all(s.kind == "standard" and s.mean is not None for s in scalers):
        return torch.stack([s.mean.float().cpu() for s in scalers]).mean(0).numpy()
    return np.median(x, axis=0).astype(np.float32)


def member_class1(ensemble, x: torch.Tensor) -> torch.Tensor:
    """Every member's P(class 1) ``(members, n)``, in the members' eval mode, with gradients
    when the caller enables them (``member_probabilities`` runs without)."""
    return torch.stack([torch.softmax(member(x).float(), dim=-1)[:, 1] for member in ensemble.models])


def ensemble_probability(ensemble, member_p1: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
    """The ensemble's P(class 1) ``(n,)`` from its members' ``(members, n)``: their weighted mean
    for the ``weighted_mean`` strategy (the default); other strategies are combined by the
    ensemble itself from ``x`` (one more pass over the members)."""
    if ensemble.strategy == "weighted_mean":
        weights = torch.as_tensor(ensemble.weights, dtype=member_p1.dtype, device=member_p1.device)
        return weights @ member_p1
    return ensemble.score(x).probabilities[:, 1]


def occlusion(ensemble, x: np.ndarray, cells: np.ndarray, neutral: np.ndarray,
              batch_rows: int = 256) -> dict[str, np.ndarray]:
    """P(class 1) of the window minus P(class 1) with one cell occluded, for every cell.

    Parameters
    ----------
    ensemble : TrainedEnsemble
    x : ndarray, float32, ``(n, width)``
        Prepared windows.
    cells : ndarray of int, ``(rows, columns, k)``
        For each cell of the map (a day and a channel, or one activity column) the ``k``
        columns of ``x`` it covers.
    neutral : ndarray, float32
        ``(n, width)`` (:func:`neutral_windows`) or ``(width,)`` (:func:`neutral_table`):
        what an occluded cell is set to.
    batch_rows : int
        Occluded copies scored at a time.

    Returns
    -------
    dict
        ``prob`` ``(n,)`` the ensemble's P(class 1) of ``x``; ``ensemble`` ``(n, rows, columns)``
        the change of the ensemble's P(class 1) when a cell is occluded (positive: the cell
        pushed the window towards class 1); ``members`` ``(members, n, rows, columns)`` the same
        for each fold model alone.
    """
    n, width = x.shape
    rows, columns, _ = cells.shape
    device = model_registry.module_device(ensemble)
    neutral = np.broadcast_to(neutral, x.shape)
    flat_cells = cells.reshape(rows * columns, -1)
    n_cells = flat_cells.shape[0]
    member_delta = np.zeros((len(ensemble.models), n, n_cells), dtype=np.float64)
    ensemble_delta = np.zeros((n, n_cells), dtype=np.float64)
    prob = np.empty(n)
    per_batch = max(1, batch_rows // (n_cells + 1))
    with torch.no_grad():
        for start in range(0, n, per_batch):
            stop = min(start + per_batch, n)
            block = np.repeat(x[start:stop, None, :], n_cells + 1, axis=1)  # (b, cells + 1, width)
            for cell, columns_of in enumerate(flat_cells):
                block[:, cell + 1, columns_of] = neutral[start:stop, columns_of]
            batch = torch.as_tensor(block.reshape(-1, width), device=device)
            members = member_class1(ensemble, batch).double()
            combined = ensemble_probability(ensemble, members, batch)
            members = members.reshape(len(ensemble.models), stop - start, n_cells + 1).cpu().numpy()
            combined = combined.reshape(stop - start, n_cells + 1).cpu().numpy()
            member_delta[:, start:stop] = members[:, :, :1] - members[:, :, 1:]
            ensemble_delta[start:stop] = combined[:, :1] - combined[:, 1:]
            prob[start:stop] = combined[:, 0]
    return {"prob": prob, "ensemble": ensemble_delta.reshape(n, rows, columns),
            "members": member_delta.reshape(len(ensemble.models), n, rows, columns)}


@contextlib.contextmanager
def _backward_in_eval_mode(device: torch.device):
    """cuDNN's recurrent kernels have no backward in eval mode ("cudnn RNN backward can only be
    called in training mode"); switching cuDNN off for the pass runs torch's own kernels, which
    have one, and keeps dropout off. Nothing to do on a CPU."""
    if device.type == "cuda":
        with torch.backends.cudnn.flags(enabled=False):
            yield
    else:
        yield


def integrated_gradients(ensemble, x: np.ndarray, baseline: np.ndarray, steps: int = 16,
                         batch_rows: int = 256) -> dict[str, np.ndarray]:
    """Integrated gradients of P(class 1) from ``baseline`` to ``x`` (a midpoint Riemann sum).

    For every input value, ``(x - baseline) * mean_k dP/dx`` at ``baseline + (k + 0.5) / steps *
    (x - baseline)``, ``k = 0 .. steps - 1``. Summed over a window they approach
    ``P(x) - P(baseline)`` (completeness; the gap shrinks as ``steps`` grows).

    Returns ``members`` ``(members, n, width)`` (each fold model's P(class 1)) and ``ensemble``
    ``(n, width)``: the members' weighted mean, the ``weighted_mean`` strategy's P(class 1)
    (for ``voting`` and ``max_confidence``, which have no gradient, the same weighted mean
    stands in). float64.
    """
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    n, width = x.shape
    device = model_registry.module_device(ensemble)
    alphas = torch.as_tensor((np.arange(steps) + 0.5) / steps, dtype=torch.float32, device=device)
    out = np.zeros((len(ensemble.models), n, width), dtype=np.float64)
    per_batch = max(1, batch_rows // steps)
    with _backward_in_eval_mode(device), torch.enable_grad():
        for start in range(0, n, per_batch):
            stop = min(start + per_batch, n)
            xs = torch.as_tensor(x[start:stop], device=device)
            base = torch.tensor(np.broadcast_to(baseline, x.shape)[start:stop], dtype=torch.float32, device=device)
            path = (base[None] + alphas[:, None, None] * (xs - base)[None]).reshape(-1, width)
            for index, member in enumerate(ensemble.models):
                points = path.detach().clone().requires_grad_(True)
                p1 = torch.softmax(member(points).float(), dim=-1)[:, 1]
                (grad,) = torch.autograd.grad(p1.sum(), points)
                mean_grad = grad.reshape(steps, stop - start, width).mean(0)
                out[index, start:stop] = ((xs - base) * mean_grad).double().cpu().numpy()
    weights = np.asarray(ensemble.weights, dtype=np.float64)
    return {"members": out, "ensemble": np.einsum("m,mnw->nw", weights, out)}
