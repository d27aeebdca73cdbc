"""The ``resnet`` network: the fully convolutional residual network of Wang, Yan & Oates
("Time series classification from scratch with deep neural networks: a strong
baseline", IJCNN 2017), as benchmarked by Ismail Fawaz et al. ("Deep learning for time
series classification: a review", Data Mining and Knowledge Discovery 33, 2019).

Three residual blocks, each three convolutions of lengths 8, 5 and 3 (batch norm and
ReLU after each, the last ReLU after the sum) and a shortcut (1x1 convolution + batch
norm where the width changes, batch norm alone otherwise); the widths are
``num_filters``, ``2 * num_filters``, ``2 * num_filters`` (paper: 64, 128, 128); global
average pooling over time and a linear layer give the logits.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from torch import nn

from seismag.models.base import ModelMixin
from seismag.models.config import ModelConfig
from seismag.models.registry import register_model
from seismag.models.series_conv import SameConv1d, SeriesConvConfig, channel_series

KERNEL_SIZES = (8, 5, 3)


@dataclasses.dataclass(frozen=True)
class ResNetConfig(SeriesConvConfig):
    """Options of the ResNet; the defaults are the paper's (64 filters: blocks of 64, 128, 128)."""

    model_name: ClassVar[str] = "resnet"

    num_filters: int = 64


class ResidualBlock(nn.Module):
    """``(batch, in_channels, length)`` -> ``(batch, out_channels, length)``."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_channels
        for index, size in enumerate(KERNEL_SIZES):
            layers += [SameConv1d(width, out_channels, size), nn.BatchNorm1d(out_channels)]
            if index < len(KERNEL_SIZES) - 1:
                layers.append(nn.ReLU())
            width = out_channels
        self.body = nn.Sequential(*layers)
        self.shortcut = (nn.BatchNorm1d(out_channels) if in_channels == out_channels else
                         nn.Sequential(nn.Conv1d(in_channels, out_channels, 1), nn.BatchNorm1d(out_channels)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


@register_model(display_name="ResNet", input_layout="sequence", config_cls=ResNetConfig, in_default_run=False)
class ResNetNetwork(ModelMixin, nn.Module):
    """The FCN ResNet on the full-resolution window.

    Input ``(batch, days, steps_per_day)``, output logits ``(batch, output_size)``.
    """

    config_cls: ClassVar[type[ModelConfig]] = ResNetConfig

    def __init__(self, config: ResNetConfig):
        super().__init__(config)
        widths = [config.num_filters, 2 * config.num_filters, 2 * config.num_filters]
        blocks, in_channels = [], config.channels
        for width in widths:
            blocks.append(ResidualBlock(in_channels, width))
            in_channels = width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(in_channels, config.output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(channel_series(x, self.config)).mean(-1))

    def architecture(self) -> str:
        n = self.config.num_filters
        return (f"3 residual blocks (conv 8/5/3, {n}/{2 * n}/{2 * n} filters) -> global average pool -> "
                f"Linear({self.config.output_size})")
