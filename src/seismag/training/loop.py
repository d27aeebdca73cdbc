"""The one epoch loop: a pass over a fold's rows, training or evaluating, on any model."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from seismag import models as model_registry
from seismag.errors import ConfigError
from seismag.runtime import autocast_context
from seismag.training.metrics import fast_binary_metrics
from seismag.training.tensors import Scaler, WindowTensors

EVAL_BATCH_SIZE = 256
# Evaluation batches are also bounded by the bytes of their input: a 256-row batch
# of 30-day windows is 44 MB before scaling, and every pass would keep it alive.
EVAL_BATCH_BYTES = 16 << 20


@dataclass
class EpochResult:
    loss: float
    probs: torch.Tensor  # (n,) P(class 1), float32, in the order of the rows scored
    labels: torch.Tensor
    rows: torch.Tensor


def run_epoch(model: nn.Module, data: WindowTensors, rows: np.ndarray | torch.Tensor, *,
              scaler: Scaler, loss_fn: nn.Module, optimizer: torch.optim.Optimizer | None = None,
              batch_size: int = 32, generator: torch.Generator | None = None,
              sample_weights: torch.Tensor | None = None, max_grad_norm: float = 1.0,
              precision: str = "fp32") -> EpochResult:
    """One pass over ``rows``: training when ``optimizer`` is given, else evaluation.

    Training shuffles the rows with ``generator`` (or draws them with replacement
    in proportion to ``sample_weights`` for balanced sampling), skips a final
    batch of one sample (BatchNorm cannot normalise it), clips gradients at
    ``max_grad_norm``. Probabilities and losses are accumulated as tensors and
    returned once, so callers compute metrics once per epoch.
    """
    device = data.features.device
    training = optimizer is not None
    rows = torch.as_tensor(rows, dtype=torch.long, device=device)
    if training:
        if sample_weights is not None:
            draw = torch.multinomial(sample_weights.cpu(), len(rows), replacement=True, generator=generator)
            rows = rows[draw.to(device)]
        else:
            rows = rows[torch.randperm(len(rows), generator=generator).to(device)]
    model.train(training)
    step = batch_size if training else eval_batch_size(batch_size, data.features)
    total_loss = torch.zeros((), dtype=torch.float64, device=device)
    probs, used_rows = [], []
    grad_context = contextlib.nullcontext() if training else torch.no_grad()
    with grad_context:
        for start in range(0, len(rows), step):
            batch_rows = rows[start:start + step]
            if training and len(batch_rows) < 2:
                continue
            # Indexing gathers a copy, so scaling may overwrite it.
            x = scaler.apply(data.features[batch_rows], inplace=True)
            if not data.model_input:
                x = model_registry.to_model_input(getattr(model, "module", model), x, data.window_days,
                                                  data.steps_per_day)
            loss, logits = batch_step(model, x, data.labels[batch_rows], loss_fn, optimizer,
                                      max_grad_norm, device, precision)
            total_loss += loss.detach().double() * len(batch_rows)
            probs.append(torch.softmax(logits.detach(), dim=1)[:, 1])
            used_rows.append(batch_rows)
    if not probs:
        raise ConfigError("no batch of at least two samples to train on; use a smaller batch_size")
    all_rows = torch.cat(used_rows)
    return EpochResult(
        loss=float(total_loss.item() / len(all_rows)),
        probs=torch.cat(probs).float().cpu(),
        labels=data.labels[all_rows].cpu(),
        rows=all_rows.cpu(),
    )


def eval_batch_size(batch_size: int, features: torch.Tensor) -> int:
    """Rows per evaluation batch: up to EVAL_BATCH_SIZE and EVAL_BATCH_BYTES of input,
    never fewer than the training batch."""
    row_bytes = max(1, features.shape[1] * features.element_size())
    return max(batch_size, min(EVAL_BATCH_SIZE, EVAL_BATCH_BYTES // row_bytes))


def batch_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module,
               optimizer: torch.optim.Optimizer | None, max_grad_norm: float, device: torch.device,
               precision: str = "fp32") -> tuple[torch.Tensor, torch.Tensor]:
    """Forward (and, with an optimizer, backward + clipped step) on one batch.

    Returns the loss and float32 logits ``(batch, 2)``.
    """
    with autocast_context(device, precision):
        logits = model(x)
    logits = logits.float()
    loss = loss_fn(logits, y)
    if optimizer is not None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if max_grad_norm and max_grad_norm > 0:
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
    return loss, logits



def quick_scores(labels: torch.Tensor, probs: torch.Tensor) -> tuple[float, float]:
    """Accuracy and weighted F1 from accumulated tensors (no per-batch sklearn calls)."""
    y = labels.numpy().astype(np.int64)
    scores = fast_binary_metrics(y, (probs.numpy() >= 0.5).astype(np.int64))
    return float(scores["accuracy"]), float(scores["f1"])
