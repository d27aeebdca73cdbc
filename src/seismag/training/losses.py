"""Losses for imbalanced classes: the class-weighted cross-entropy every run uses
by default, and the focal loss SPEC Module 2 recommends for severe imbalance."""

from __future__ import annotations

import numbers

import torch
from torch import nn
from torch.nn import functional as F

from seismag.config import LOSSES
from seismag.errors import ConfigError


class FocalLoss(nn.Module):
    """Focal loss (Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017).

    Cross-entropy scaled by ``(1 - p_t) ** gamma``, where ``p_t`` is the
    probability the model gives the true class: well-classified windows count
    less, so the rare class is not drowned by easy majority-class windows.

    Parameters
    ----------
    alpha : sequence of float or torch.Tensor, shape (n_classes,), optional
        Per-class weights, as ``nn.CrossEntropyLoss``'s ``weight`` (e.g. the
        output of ``calculate_class_weights``).
    gamma : float, default 2.0
        Focusing parameter, >= 0. ``gamma = 0`` gives exactly
        ``nn.CrossEntropyLoss(weight=alpha)``.
    reduction : {'mean', 'sum', 'none'}
        'mean' is weighted like ``nn.CrossEntropyLoss``: the sum of
        ``alpha[y] * loss`` over the sum of ``alpha[y]``, so the weights' scale
        does not matter.
    """

    def __init__(self, alpha=None, gamma: float = 2.0, reduction: str = "mean"):
        super().__init__()
        if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not gamma >= 0:
            raise ConfigError(f"focal loss gamma must be a number >= 0, got {gamma!r}")
        if reduction not in ("mean", "sum", "none"):
            raise ConfigError(f"focal loss reduction must be mean, sum or none, got {reduction!r}")
        self.gamma = float(gamma)
        self.reduction = reduction
        alpha = None if alpha is None else torch.as_tensor(alpha, dtype=torch.float32).detach().clone()
        self.register_buffer("alpha", alpha)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``logits`` (batch, n_classes), ``target`` (batch,) class indices."""
        log_probs = F.log_softmax(logits.float(), dim=1)
        log_pt = log_probs.gather(1, target.long().unsqueeze(1)).squeeze(1)
        loss = -log_pt
        if self.gamma:
            # No factor at gamma 0: pow(0, 0)'s gradient is NaN where p_t reaches 1.
            loss = loss * (1.0 - log_pt.exp()).clamp_min(0.0).pow(self.gamma)
        weight = None if self.alpha is None else self.alpha.to(loss.device)[target.long()]
        if weight is not None:
            loss = loss * weight
        if self.reduction == "none":
            return loss
        if self.reduction == "sum":
            return loss.sum()
        return loss.sum() / (weight.sum() if weight is not None else loss.new_tensor(float(len(loss))))

    def extra_repr(self) -> str:
        alpha = None if self.alpha is None else [round(float(a), 6) for a in self.alpha]
        return f"alpha={alpha}, gamma={self.gamma:g}"


def make_loss(method: str, class_weights: torch.Tensor | None, focal_gamma: float = 2.0) -> nn.Module:
    """The run configuration's loss: ``'cross_entropy'`` or ``'focal'``, with ``class_weights``."""
    if method == "cross_entropy":
        return nn.CrossEntropyLoss(weight=class_weights)
    if method == "focal":
        return FocalLoss(alpha=class_weights, gamma=focal_gamma)
    raise ConfigError(f"loss: unknown value '{method}'; choose from {', '.join(LOSSES)}")
