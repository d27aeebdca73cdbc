"""The ``minirocket`` baseline: the MiniRocket transform, then logistic regression.

The MiniRocket transform (Dempster, Schmidt & Webb, KDD 2021): 84 fixed convolution
kernels at exponentially spaced dilations, biases taken from quantiles of the
convolution outputs of training windows, and the proportion of positive values (PPV)
of each biased output; the kernels and dilations match the reference implementation.
The features are standardised and fed to a linear head
(:class:`~seismag.models.fixed_transform.FixedTransformClassifier`). The transform
costs about 10 ms per 7-day window of 1-minute data on a 2-core CPU with one thread.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import ClassVar

import numpy as np
import torch
from torch.nn import functional as F

from seismag.errors import ConfigError
from seismag.models.config import (ModelConfig, check_flat_channels, check_positive_float, check_positive_int,
                                   check_probability)
from seismag.models.fixed_transform import FixedTransformClassifier
from seismag.models.registry import register_model

KERNEL_LENGTH = 9
# The 84 MiniRocket kernels: weight -1 everywhere and 2 at three of the nine
# positions (sum 0), one kernel per choice of the three positions.
KERNEL_INDICES = np.array(list(itertools.combinations(range(KERNEL_LENGTH), 3)), dtype=np.int64)
NUM_KERNELS = len(KERNEL_INDICES)  # 84
# Pooling keeps at least this many points, so that MiniRocket's dilations (up to
# (length - 1) / 8) still span from a few steps to the whole series, as on the UCR series
# it was designed on; a 7-day window of minutes keeps its factor of 10 (1008 points).
MIN_POOLED_LENGTH = 512


@dataclasses.dataclass(frozen=True)
class MiniRocketConfig(ModelConfig):
    """Options of the MiniRocket baseline.

    Attributes
    ----------
    input_size : int
        Values per window (``days * steps_per_day``, every channel); the model takes
        the flat window.
    channels : int, default 1
        Channels per day ("day, channel, step" order). Each channel's series is
        transformed on its own (the same kernels and biases) and the features are
        concatenated, channel-major: ``channels * num_features`` features.
    n_days : int, default 0
        Days per window, needed (and set by the registry) to find the channels of a
        flat row when ``channels > 1``; 0 when there is one channel.
    num_features : int, default 2000
        Requested transform size, rounded down to a multiple of 84 (2000 gives
        1932 features). The paper uses 10,000; fewer keep the per-epoch cost
        low on long series, and the linear head then has fewer weights to fit
        from a few thousand windows.
    max_dilations_per_kernel : int, default 32
        As in the paper.
    downsample : int, default 10
        The window is average-pooled by this factor first (1-minute data:
        10-minute means, 1008 points for 7 days, 4320 for 30), which divides
        the cost by about the factor and keeps structure slower than the
        factor's period (Pc5 pulsations and spikes then reach the model only
        through these means; the ``features`` baseline keeps the fast bands).
        Where the remainder of ``input_size / downsample`` is not 0 the
        earliest values are dropped, never the most recent. Pooling saves cost on
        long series only: the factor is reduced so that at least
        ``MIN_POOLED_LENGTH`` (512) pooled points remain, so a series shorter
        than 1024 values is never pooled (pooling GunPoint's 150 points to 15
        cost it 13 points of test accuracy); windows shorter than 9 values are
        zero-padded to 9.
    output_size : int, default 2
    dropout_prob : float, default 0.1
        Dropout on the standardised features (0: plain logistic regression).
    feature_gain : float, default 3.0
        Factor on the standardised features before the head; see
        :class:`FixedTransformClassifier`. Smaller than the ``features``
        model's: 1932 strongly correlated features move the logits faster
        at the same gain.
    """

    model_name: ClassVar[str] = "minirocket"

    input_size: int
    channels: int = 1
    n_days: int = 0
    num_features: int = 2000
    max_dilations_per_kernel: int = 32
    downsample: int = 10
    output_size: int = 2
    dropout_prob: float = 0.1
    feature_gain: float = 3.0

    def validate(self) -> None:
        check_positive_float(self, "feature_gain")
        check_positive_int(self, "input_size")
        check_flat_channels(self)
        check_positive_int(self, "num_features")
        if self.num_features < NUM_KERNELS:
            raise ConfigError(f"minirocket: num_features must be at least {NUM_KERNELS}, got {self.num_features}")
        check_positive_int(self, "max_dilations_per_kernel")
        check_positive_int(self, "downsample")
        check_positive_int(self, "output_size")
        check_probability(self, "dropout_prob")


def fit_dilations(length: int, num_features: int, max_dilations_per_kernel: int = 32) -> tuple[list[int], list[int]]:
    """MiniRocket's dilations and the number of features (biases) at each.

    Exactly the reference rule (Dempster et al. 2021; aeon's ``_fit_dilations``):
    up to ``max_dilations_per_kernel`` dilations spaced exponentially from 1 to
    ``(length - 1) / 8`` (so the dilated kernel spans the series), duplicates
    merged and counted, and the ``num_features // 84`` features of each kernel
    spread over them.

    Returns
    -------
    dilations, features_per_dilation : list of int
    """
    per_kernel = num_features // NUM_KERNELS
    true_max = min(per_kernel, max_dilations_per_kernel)
    multiplier = per_kernel / true_max
    max_exponent = np.log2((length - 1) / (KERNEL_LENGTH - 1))
    dilations, counts = np.unique(
        np.logspace(0, max_exponent, true_max, base=2).astype(np.int32), return_counts=True
    )
    counts = (counts * multiplier).astype(np.int32)
    remainder = per_kernel - int(counts.sum())
    index = 0
    while remainder > 0:
        counts[index] += 1
        remainder -= 1
        index = (index + 1) % len(counts)
    return [int(d) for d in dilations], [int(c) for c in counts]


def bias_quantiles(count: int) -> np.ndarray:
    """The low-discrepancy quantiles ``(k * golden ratio) mod 1``, ``k = 1..count``."""
    golden = (math.sqrt(5.0) + 1.0) / 2.0
    return np.array([(k * golden) % 1 for k in range(1, count + 1)], dtype=np.float32)


def _linear_quantiles(values: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Row-wise quantiles with NumPy's default ('linear') rule.

    ``values`` ``(rows, n)``, ``quantiles`` ``(rows, k)`` in [0, 1] -> ``(rows, k)``;
    each row has its own quantile levels, which ``torch.quantile`` cannot do.
    """
    ordered = values.sort(dim=1).values
    position = quantiles.double() * (values.shape[1] - 1)
    below = position.floor().long().clamp(0, values.shape[1] - 1)
    above = (below + 1).clamp(max=values.shape[1] - 1)
    weight = (position - below.double()).to(values.dtype)
    low, high = ordered.gather(1, below), ordered.gather(1, above)
    return low + (high - low) * weight


# Opt-in (--models ...,minirocket): with features cached per fold it costs a minute or two
# per fold at paper size on a CPU (its transform twice per row), kept out of the default run
# so the demo and quick runs stay short.
@register_model(display_name="MiniRocket", input_layout="flat", config_cls=MiniRocketConfig,
                in_default_run=False, fitted_transform=True)
class MiniRocketClassifier(FixedTransformClassifier):
    """The MiniRocket transform, then logistic regression.

    Input ``(batch, input_size)`` (``(batch, days, steps_per_day)`` is
    flattened first), output logits ``(batch, output_size)``.

    The series is average-pooled by ``pool_factor`` (see ``downsample``) and
    convolved (zero padding, output as long as the input) with the 84 kernels at
    each dilation of :func:`fit_dilations`. Feature ``j`` of kernel ``k`` at
    dilation ``d`` is the proportion of outputs above its bias; as in the
    reference implementation, half the (kernel, dilation) pairs (alternating)
    count only the outputs not touched by the padding. The biases are
    quantiles (:func:`bias_quantiles`) of the convolution output of one
    training window drawn at random (torch's global generator) per kernel and
    dilation; they are set by :meth:`fit_unsupervised` and saved with the
    model. Given the biases the transform equals aeon's ``MiniRocket`` for a
    univariate series (up to the rounding of ties).

    Buffers: ``biases`` (``num_features``,); ``kernels`` (84, 1, 9) and
    ``quantiles`` are derived from the config and not saved.
    """

    config_cls: ClassVar[type[ModelConfig]] = MiniRocketConfig

    def __init__(self, config: MiniRocketConfig):
        super().__init__(config)
        series_length = config.input_size // config.channels
        self.pool_factor = min(config.downsample, max(1, series_length // MIN_POOLED_LENGTH))
        self.pooled_length = series_length // self.pool_factor
        self.length = max(self.pooled_length, KERNEL_LENGTH)  # after zero padding of very short windows
        self.dilations, self.features_per_dilation = fit_dilations(
            self.length, config.num_features, config.max_dilations_per_kernel
        )
        num_features = NUM_KERNELS * sum(self.features_per_dilation)
        weights = -np.ones((NUM_KERNELS, 1, KERNEL_LENGTH), dtype=np.float32)
        for kernel, positions in enumerate(KERNEL_INDICES):
            weights[kernel, 0, positions] = 2.0
        self.register_buffer("kernels", torch.tensor(weights), persistent=False)
        self.register_buffer("quantiles", torch.tensor(bias_quantiles(num_features)), persistent=False)
        self.register_buffer("biases", torch.zeros(num_features))
        self.init_head(config.channels * num_features)

    def check_input(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() > 2:
            x = x.flatten(1)
        if x.dim() != 2 or x.shape[-1] != self.config.input_size:
            raise ConfigError(f"minirocket: expected input (batch, {self.config.input_size}), got {tuple(x.shape)}")
        return x

    def channel_series(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, input_size)`` -> ``(batch * channels, input_size / channels)``: each channel's series."""
        channels, days = self.config.channels, self.config.n_days
        if channels == 1:
            return x
        batch = x.shape[0]
        steps = self.config.input_size // (channels * days)
        return x.reshape(batch, days, channels, steps).transpose(1, 2).reshape(batch * channels, days * steps)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, input_size)`` -> ``(batch, length)``: average-pooled, zero-padded to >= 9."""
        used = self.pooled_length * self.pool_factor
        x = x[:, x.shape[1] - used:]  # drop the oldest remainder, keep the most recent values
        if self.pool_factor > 1:
            x = x.reshape(x.shape[0], self.pooled_length, self.pool_factor).mean(-1)
        if self.length > self.pooled_length:
            x = F.pad(x, (0, self.length - self.pooled_length))
        return x

    def _convolve(self, series: torch.Tensor, dilation: int, groups: int = 1) -> torch.Tensor:
        """``(rows, channels, length)`` -> ``(rows, 84, length)`` at one dilation, zero padding."""
        return F.conv1d(series, self.kernels, padding=(KERNEL_LENGTH // 2) * dilation, dilation=dilation,
                        groups=groups)

    def fit_transform_buffers(self, x: torch.Tensor) -> None:
        """Biases from quantiles of the convolution outputs of randomly drawn training windows
        (with several channels, drawn from every channel's series alike)."""
        series = self.pool(self.channel_series(x))
        draws = torch.randint(len(series), (len(self.dilations), NUM_KERNELS))
        start = 0
        for index, (dilation, count) in enumerate(zip(self.dilations, self.features_per_dilation)):
            chosen = series[draws[index].to(series.device)]  # (84, length): one window per kernel
            # Grouped convolution: kernel k sees only its own window.
            outputs = self._convolve(chosen.unsqueeze(0), dilation, groups=NUM_KERNELS)[0]
            end = start + NUM_KERNELS * count
            levels = self.quantiles[start:end].view(NUM_KERNELS, count)
            self.biases[start:end] = _linear_quantiles(outputs, levels).reshape(-1)
            start = end

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.shape[0]
        series = self.pool(self.channel_series(x)).unsqueeze(1)  # (batch * channels, 1, length)
        batch = series.shape[0]
        parts = []
        start = 0
        for index, (dilation, count) in enumerate(zip(self.dilations, self.features_per_dilation)):
            outputs = self._convolve(series, dilation)  # (batch, 84, length)
            end = start + NUM_KERNELS * count
            biases = self.biases[start:end].view(NUM_KERNELS, count)
            padding = (KERNEL_LENGTH // 2) * dilation
            # Kernels k with (index + k) even use every output, the others only
            # those the zero padding did not reach (the reference's alternation).
            full = slice(index % 2, None, 2)
            valid = slice(1 - index % 2, None, 2)
            ppv = outputs.new_empty(batch, NUM_KERNELS, count)
            for j in range(count):
                ppv[:, full, j] = (outputs[:, full] > biases[full, j, None]).float().mean(-1)
                trimmed = outputs[:, valid, padding:outputs.shape[-1] - padding]
                ppv[:, valid, j] = (trimmed > biases[valid, j, None]).float().mean(-1)
            parts.append(ppv.reshape(batch, -1))  # kernel-major: (kernel, feature), as the reference
            start = end
        return torch.cat(parts, dim=1).reshape(rows, -1)

    def architecture(self) -> str:
        return (
            f"avg-pool x{self.pool_factor} -> MiniRocket (84 kernels x {len(self.dilations)} dilations "
            f"1..{self.dilations[-1]}, {self.num_features} PPV features) -> " + self.head_architecture()
        )
