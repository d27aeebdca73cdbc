"""What the convolutional series classifiers (``inception``, ``resnet``) share: their
config base and the view of a window as channels x full-resolution series.

Both networks convolve along the whole window at full resolution: a window of
``days`` days of ``steps_per_day`` values per channel is one series of
``days * steps_per_day / channels`` values per channel (day boundaries play no part),
as the time-series classification papers they come from treat a UCR series.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.nn import functional as F

from seismag.errors import ConfigError
from seismag.models.config import ModelConfig, check_channels, check_positive_int


@dataclasses.dataclass(frozen=True)
class SeriesConvConfig(ModelConfig):
    """Options every convolutional series classifier has.

    Attributes
    ----------
    input_size : int
        Values per day (``steps_per_day``, every channel side by side).
    channels : int, default 1
        Channels per day ("day, channel, step" order); set by the registry from the data.
    num_filters : int
        Convolution filters of the first layers (the papers' width).
    output_size : int, default 2
    """

    input_size: int
    channels: int = 1
    num_filters: int = 32
    output_size: int = 2

    def validate(self) -> None:
        check_positive_int(self, "input_size")
        check_channels(self)
        check_positive_int(self, "num_filters")
        check_positive_int(self, "output_size")


def channel_series(x: torch.Tensor, config: SeriesConvConfig) -> torch.Tensor:
    """``(batch, days, steps_per_day)`` -> ``(batch, channels, days * steps_per_day / channels)``.

    Raises
    ------
    ConfigError
        ``x`` is not 3-D with ``config.input_size`` values per day.
    """
    if x.dim() != 3 or x.shape[-1] != config.input_size:
        raise ConfigError(f"{config.model_name}: expected input (batch, days, {config.input_size}), "
                          f"got {tuple(x.shape)}")
    batch, days, width = x.shape
    steps = width // config.channels
    return x.reshape(batch, days, config.channels, steps).transpose(1, 2).reshape(batch, config.channels, days * steps)


class SameConv1d(nn.Conv1d):
    """A stride-1 convolution whose output is as long as its input: zero padding of
    ``(k - 1) // 2`` values before and ``k // 2`` after (Keras' ``'same'``, which the
    papers' reference code uses, also for their even kernel lengths 40, 20, 10 and 8)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True):
        super().__init__(in_channels, out_channels, kernel_size, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = self.kernel_size[0]
        if size > 1:
            x = F.pad(x, ((size - 1) // 2, size // 2))
        return super().forward(x)
