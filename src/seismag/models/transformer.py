"""Transformer encoder classifier over the days of a window.

Input ``(batch, days, steps_per_day)``: each day is projected to ``d_model``,
sinusoidal positional encoding marks its place in the window, a stack of
self-attention encoder layers mixes the days, and the mean over days feeds a
linear head that returns logits.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import torch
from torch import nn

from seismag.errors import ConfigError
from seismag.models.base import ModelMixin
from seismag.models.config import ModelConfig, check_positive_int, check_probability
from seismag.models.registry import register_model


def sinusoidal_encoding(
    length: int, d_model: int, device: torch.device | str | None = None, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """The sinusoidal positional encoding of "Attention is all you need".

    ``pe[pos, 2i] = sin(pos / 10000**(2i / d_model))`` and
    ``pe[pos, 2i+1] = cos(pos / 10000**(2i / d_model))``.

    Parameters
    ----------
    length : int
        Sequence length (days).
    d_model : int
        Encoding width; odd widths are allowed.

    Returns
    -------
    torch.Tensor
        ``(length, d_model)``.
    """
    # Computed in float64 and cast: positions up to thousands keep their
    # precision, and the result is the same on every device.
    position = torch.arange(length, dtype=torch.float64, device=device).unsqueeze(1)
    div_term = torch.exp(
        torch.arange(0, d_model, 2, dtype=torch.float64, device=device) * (-math.log(10000.0) / d_model)
    )
    encoding = torch.zeros(length, d_model, dtype=torch.float64, device=device)
    encoding[:, 0::2] = torch.sin(position * div_term)
    encoding[:, 1::2] = torch.cos(position * div_term[: d_model // 2])
    return encoding.to(dtype)


@dataclasses.dataclass(frozen=True)
class TransformerConfig(ModelConfig):
    """Options of the Transformer classifier; defaults are the paper preset.

    Attributes
    ----------
    input_size : int
        Features per time step (``steps_per_day``).
    d_model : int, default 512
        Width of the encoder; a multiple of ``nhead``.
    nhead : int, default 8
    num_encoder_layers : int, default 2
    dim_feedforward : int, default 2048
    dropout_prob : float, default 0.1
    output_size : int, default 2
    """

    model_name: ClassVar[str] = "transformer"

    input_size: int
    d_model: int = 512
    nhead: int = 8
    num_encoder_layers: int = 2
    dim_feedforward: int = 2048
    dropout_prob: float = 0.1
    output_size: int = 2

    def validate(self) -> None:
        for name in ("input_size", "d_model", "nhead", "num_encoder_layers", "dim_feedforward", "output_size"):
            check_positive_int(self, name)
        check_probability(self, "dropout_prob")
        if self.d_model % self.nhead:
            raise ConfigError(f"transformer: d_model ({self.d_model}) must be a multiple of nhead ({self.nhead})")


# Cosine annealing over the epochs: the SPEC's schedule for the Transformer (CosineAnnealingLR, T_max=epochs).
@register_model(display_name="Transformer", input_layout="sequence", config_cls=TransformerConfig,
                scheduler="cosine")
class TransformerNetwork(ModelMixin, nn.Module):
    """Input projection + positional encoding -> encoder layers -> mean over time -> head.

    Parameters
    ----------
    config : TransformerConfig

    Notes
    -----
    The positional encoding is computed for the input's length on every call,
    so the model takes windows of any number of days. The encoder layers are
    built one by one rather than with ``nn.TransformerEncoder``, which
    deep-copies one layer and so starts every layer from identical weights.
    """

    config_cls: ClassVar[type[ModelConfig]] = TransformerConfig

    def __init__(self, config: TransformerConfig):
        super().__init__(config)
        self.input_projection = nn.Linear(config.input_size, config.d_model)
        self.input_dropout = nn.Dropout(config.dropout_prob)
        self.encoder_layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d_model=config.d_model,
                nhead=config.nhead,
                dim_feedforward=config.dim_feedforward,
                dropout=config.dropout_prob,
                batch_first=True,
            )
            for _ in range(config.num_encoder_layers)
        )
        self.head = nn.Linear(config.d_model, config.output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, output_size)`` of windows ``(batch, days, input_size)``, any number of days."""
        self.check_sequence_input(x)
        h = self.input_projection(x)
        h = h + sinusoidal_encoding(h.shape[1], self.config.d_model, device=h.device, dtype=h.dtype)
        h = self.input_dropout(h)
        for layer in self.encoder_layers:
            h = layer(h)
        return self.head(h.mean(dim=1))

    def architecture(self) -> str:
        c = self.config
        return (
            f"Linear({c.d_model}) + sinusoidal PE -> {c.num_encoder_layers} x Encoder(heads {c.nhead}, "
            f"ff {c.dim_feedforward}, dropout {c.dropout_prob:g}) -> mean over days -> Linear({c.output_size})"
        )
