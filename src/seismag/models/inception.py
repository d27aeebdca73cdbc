"""The ``inception`` network: InceptionTime (Ismail Fawaz et al., "InceptionTime: Finding
AlexNet for time series classification", Data Mining and Knowledge Discovery 34, 2020).

Each Inception module: a 1x1 bottleneck convolution (when its input has more than one
channel), three convolutions of lengths ``kernel_size``, ``/2`` and ``/4`` on the
bottleneck, and a branch of a length-3 max pool followed by a 1x1 convolution; the four
outputs (``num_filters`` each) are concatenated, batch-normalised and passed through a
ReLU. A residual connection (1x1 convolution + batch norm) adds the input of every third
module to its output; global average pooling over time and a linear layer give the
logits. The paper preset: depth 6, 32 filters, bottleneck 32, kernel sizes 40/20/10
(the reference code's 41 - 1 = 40, halved twice); for long series (a 7-day window
of minutes is 10,080 steps) ``kernel_size`` is the option that scales the receptive field.

InceptionTime is an ensemble of five such networks trained from different
initialisations; in seismag the F1-weighted ensemble of the fold models plays that
role (five folds, five networks, each trained on a different 80% of the rows).
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from torch import nn

from seismag.models.base import ModelMixin
from seismag.models.config import ModelConfig, check_positive_int
from seismag.models.registry import register_model
from seismag.models.series_conv import SameConv1d, SeriesConvConfig, channel_series


@dataclasses.dataclass(frozen=True)
class InceptionConfig(SeriesConvConfig):
    """Options of InceptionTime; the defaults are the paper's.

    The fields of :class:`~seismag.models.series_conv.SeriesConvConfig`, then:

    Attributes
    ----------
    depth : int, default 6
        Inception modules; a residual connection spans every 3.
    bottleneck_size : int, default 32
    kernel_size : int, default 40
        Longest kernel; the other two are ``kernel_size // 2`` and ``// 4``.
    """

    model_name: ClassVar[str] = "inception"

    depth: int = 6
    bottleneck_size: int = 32
    kernel_size: int = 40

    def validate(self) -> None:
        super().validate()
        for name in ("depth", "bottleneck_size", "kernel_size"):
            check_positive_int(self, name)


def same_conv(in_channels: int, out_channels: int, kernel_size: int) -> nn.Conv1d:
    """A bias-free convolution whose output is as long as its input (batch norm follows)."""
    return SameConv1d(in_channels, out_channels, kernel_size, bias=False)


class InceptionModule(nn.Module):
    """``(batch, in_channels, length)`` -> ``(batch, 4 * filters, length)``."""

    def __init__(self, in_channels: int, filters: int, bottleneck_size: int, kernel_sizes: list[int]):
        super().__init__()
        self.bottleneck = same_conv(in_channels, bottleneck_size, 1) if in_channels > 1 else nn.Identity()
        width = bottleneck_size if in_channels > 1 else in_channels
        self.convolutions = nn.ModuleList(same_conv(width, filters, size) for size in kernel_sizes)
        self.pool = nn.MaxPool1d(3, stride=1, padding=1)
        self.pool_conv = same_conv(in_channels, filters, 1)
        self.norm = nn.BatchNorm1d(filters * (len(kernel_sizes) + 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reduced = self.bottleneck(x)
        branches = [conv(reduced) for conv in self.convolutions] + [self.pool_conv(self.pool(x))]
        return torch.relu(self.norm(torch.cat(branches, dim=1)))


@register_model(display_name="Inception", input_layout="sequence", config_cls=InceptionConfig,
                in_default_run=False)
class InceptionNetwork(ModelMixin, nn.Module):
    """InceptionTime on the full-resolution window.

    Input ``(batch, days, steps_per_day)``, output logits ``(batch, output_size)``.
    """

    config_cls: ClassVar[type[ModelConfig]] = InceptionConfig

    def __init__(self, config: InceptionConfig):
        super().__init__(config)
        self.kernel_sizes = [max(1, config.kernel_size // 2**i) for i in range(3)]
        width = 4 * config.num_filters
        self.blocks = nn.ModuleList()
        self.shortcuts = nn.ModuleList()
        in_channels = residual_channels = config.channels
        for index in range(config.depth):
            self.blocks.append(InceptionModule(in_channels, config.num_filters, config.bottleneck_size,
                                                 self.kernel_sizes))
            in_channels = width
            if index % 3 == 2:
                self.shortcuts.append(nn.Sequential(same_conv(residual_channels, width, 1), nn.BatchNorm1d(width)))
                residual_channels = width
        self.head = nn.Linear(width, config.output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = channel_series(x, self.config)
        residual = x
        for index, module in enumerate(self.blocks):
            x = module(x)
            if index % 3 == 2:
                x = torch.relu(x + self.shortcuts[index // 3](residual))
                residual = x
        return self.head(x.mean(-1))

    def architecture(self) -> str:
        return (f"{self.config.depth} x Inception(bottleneck {self.config.bottleneck_size}, kernels "
                f"{'/'.join(map(str, self.kernel_sizes))} + max-pool, {self.config.num_filters} filters each), "
                f"residual every 3 -> global average pool -> Linear({self.config.output_size})")
