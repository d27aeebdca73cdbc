"""The ``features`` baseline: per-day statistics summarised over the window, then logistic regression.

Cheap, physically motivated statistics of each day (band powers, range, spread, first
differences, spikes, level), summarised over the days of the window (mean, spread,
extremes, last day, last-day change, trend), standardised and fed to a linear head
(:class:`~seismag.models.fixed_transform.FixedTransformClassifier`). The transform
costs about 0.7 ms per 7-day window of 1-minute data on a 2-core CPU with one thread.
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np
import torch

from seismag.models.config import (ModelConfig, check_channels, check_positive_float, check_positive_int,
                                   check_probability)
from seismag.models.fixed_transform import FixedTransformClassifier
from seismag.models.registry import register_model

_LOG_EPS = 1e-6
# Differences used to estimate the robust scale spikes are measured against.
_SPIKE_SCALE_SAMPLES = 2048


@dataclasses.dataclass(frozen=True)
class DayFeaturesConfig(ModelConfig):
    """Options of the per-day feature transform, shared by every head on it.

    Attributes
    ----------
    input_size : int
        Width of one day (the model takes ``(batch, days, input_size)``): the day's
        steps of every channel side by side.
    channels : int, default 1
        Channels in a day; the per-day statistics are computed channel by channel
        (``input_size / channels`` steps each) and concatenated, channel-major.
    n_bands : int, default 8
        Frequency bands of the per-day power spectrum, one octave each, the
        highest ending at the Nyquist frequency: for 1-minute data (Nyquist
        720 cycles a day) 8 bands with edges at periods of 4, 8, ..., 256
        minutes (the top band 2-4 minutes, the lowest everything slower than
        256 minutes, including the daily variation).
    spike_threshold : float, default 6.0
        A first difference is a spike when its size exceeds this many robust
        standard deviations of the window's first differences (1.4826 x their
        median absolute value).
    output_size : int, default 2
    """

    input_size: int
    channels: int = 1
    n_bands: int = 8
    spike_threshold: float = 6.0
    output_size: int = 2

    def validate(self) -> None:
        check_positive_int(self, "input_size")
        check_channels(self)
        check_positive_int(self, "n_bands")
        check_positive_float(self, "spike_threshold")
        check_positive_int(self, "output_size")


@dataclasses.dataclass(frozen=True)
class FeaturesConfig(DayFeaturesConfig):
    """Options of the feature baseline: the per-day transform (:class:`DayFeaturesConfig`)
    and its linear head.

    Attributes
    ----------
    dropout_prob : float, default 0.1
        Dropout on the standardised features (0: plain logistic regression).
    feature_gain : float, default 10.0
        Factor on the standardised features before the head; see
        :class:`FixedTransformClassifier`. 10 lets the head learn within about
        5 epochs at the SPEC's learning rate (1e-3).
    """

    model_name: ClassVar[str] = "features"

    dropout_prob: float = 0.1
    feature_gain: float = 10.0

    def validate(self) -> None:
        check_positive_float(self, "feature_gain")
        super().validate()
        check_probability(self, "dropout_prob")


DAY_STATISTICS = ("log_range", "log_std", "log_diff_std", "spike_fraction", "mean")
WINDOW_SUMMARIES = ("mean", "std", "min", "max", "last", "change", "trend")


def band_matrix(steps_per_day: int, n_bands: int) -> np.ndarray:
    """Averaging weights ``(steps_per_day // 2, n_bands)`` from rfft bins 1..K to octave bands.

    Bin ``k`` (``k`` cycles a day) sits at the fraction ``2k / steps_per_day``
    of the Nyquist frequency; band ``i`` (0-based) covers fractions in
    ``(2**(i - n_bands), 2**(i + 1 - n_bands)]`` (the first band starts at 0).
    A band that holds no bin at this sampling rate takes the bin nearest its
    centre, so every band is defined for any ``steps_per_day`` (neighbouring
    bands then repeat each other, which the standardised linear head tolerates).
    Each column sums to one: band power is the mean power of its bins.
    """
    n_bins = steps_per_day // 2
    weights = np.zeros((n_bins, n_bands))
    if n_bins == 0:
        return weights  # one step a day has no spectrum; the band features are constant
    fractions = 2.0 * np.arange(1, n_bins + 1) / steps_per_day
    upper = 2.0 ** (np.arange(1, n_bands + 1) - n_bands)
    lower = np.concatenate([[0.0], upper[:-1]])
    for band in range(n_bands):
        members = (fractions > lower[band]) & (fractions <= upper[band] + 1e-12)
        if not members.any():
            centre = math.sqrt(max(lower[band], upper[band] / 2) * upper[band])
            members = np.arange(n_bins) == np.argmin(np.abs(np.log(fractions / centre)))
        weights[members, band] = 1.0 / members.sum()
    return weights


@register_model(display_name="Features", input_layout="sequence", config_cls=FeaturesConfig,
                fitted_transform=True)
class FeaturesClassifier(FixedTransformClassifier):
    """Per-day statistics summarised over the window, then logistic regression.

    Input ``(batch, days, steps_per_day)`` (any number of days), output logits
    ``(batch, output_size)``.

    Per day (from the day's ``steps_per_day`` values): log mean power in each
    of ``n_bands`` octave frequency bands (rfft of the day with its mean
    removed), log range (max - min), log standard deviation, log standard
    deviation of the first differences, the fraction of first differences that
    are spikes (see ``spike_threshold``) and the day's mean level. Each of these
    ``n_bands + 5`` series over the days is summarised by its mean, standard
    deviation, minimum, maximum, last day, change (last day minus the mean of
    the earlier days) and trend (least-squares slope against the day index
    scaled to 0..1): ``7 * (n_bands + 5)`` features (91 by default), the same
    number for any window length. With one day, spread, change and trend are 0.
    """

    config_cls: ClassVar[type[ModelConfig]] = FeaturesConfig

    def __init__(self, config: FeaturesConfig):
        super().__init__(config)
        # Derived from the config, so not saved (persistent=False) and always consistent.
        self.register_buffer(
            "band_weights", torch.tensor(band_matrix(config.input_size // config.channels, config.n_bands),
                                         dtype=torch.float32),
            persistent=False,
        )
        self.per_day = config.n_bands + len(DAY_STATISTICS)
        self.init_head(config.channels * len(WINDOW_SUMMARIES) * self.per_day)

    @property
    def feature_names(self) -> list[str]:
        """``'{summary}:{statistic}'`` for every feature, in order (e.g. ``'change:band_8'``);
        with several channels ``'c{k}:{summary}:{statistic}'``, channel by channel."""
        day = [f"band_{i + 1}" for i in range(self.config.n_bands)] + list(DAY_STATISTICS)
        names = [f"{summary}:{name}" for summary in WINDOW_SUMMARIES for name in day]
        if self.config.channels == 1:
            return names
        return [f"c{k + 1}:{name}" for k in range(self.config.channels) for name in names]

    def check_input(self, x: torch.Tensor) -> torch.Tensor:
        self.check_sequence_input(x)
        return x

    def day_statistics(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, days, n_bands + 5)`` statistics of each day of ``x`` ``(batch, days, steps)``."""
        batch, days, steps = x.shape
        level = x.mean(-1)
        centred = x - level.unsqueeze(-1)
        spread = centred.pow(2).mean(-1).sqrt()
        day_range = x.amax(-1) - x.amin(-1)
        if steps >= 2:
            diff = x.diff(dim=-1)
            diff_std = (diff - diff.mean(-1, keepdim=True)).pow(2).mean(-1).sqrt()
            # Robust scale of the whole window's differences (1.4826 x median |diff|,
            # the standard deviation of Gaussian differences), so one spiky day cannot
            # raise its own threshold. The median of an evenly strided subset of at
            # most ~2048 differences is as robust and several times cheaper.
            magnitude = diff.abs().reshape(batch, -1)
            stride = max(1, magnitude.shape[1] // _SPIKE_SCALE_SAMPLES)
            scale = 1.4826 * magnitude[:, ::stride].median(dim=1).values
            threshold = self.config.spike_threshold * scale.clamp_min(_LOG_EPS)
            spikes = (diff.abs() > threshold.view(batch, 1, 1)).float().mean(-1)
        else:
            diff_std = torch.zeros_like(level)
            spikes = torch.zeros_like(level)
        n_bins = self.band_weights.shape[0]
        if n_bins:
            spectrum = torch.fft.rfft(centred, dim=-1)[..., 1:n_bins + 1]
            power = (spectrum.real.pow(2) + spectrum.imag.pow(2)) / steps
            bands = torch.log(power @ self.band_weights + _LOG_EPS)
        else:
            bands = torch.full((batch, days, self.config.n_bands), math.log(_LOG_EPS), device=x.device)
        scalars = [
            torch.log(day_range + _LOG_EPS),
            torch.log(spread + _LOG_EPS),
            torch.log(diff_std + _LOG_EPS),
            spikes,
            level,
        ]
        return torch.cat([bands, torch.stack(scalars, dim=-1)], dim=-1)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        channels = self.config.channels
        if channels > 1:  # (batch, days, C*steps) -> (batch*C, days, steps), one channel per row
            batch, days, width = x.shape
            x = x.reshape(batch, days, channels, width // channels).transpose(1, 2).reshape(
                batch * channels, days, width // channels)
            return self._window_summaries(x).reshape(batch, -1)
        return self._window_summaries(x)

    def _window_summaries(self, x: torch.Tensor) -> torch.Tensor:
        per_day = self.day_statistics(x)  # (batch, days, per_day)
        days = per_day.shape[1]
        last = per_day[:, -1]
        if days > 1:
            change = last - per_day[:, :-1].mean(1)
            position = torch.linspace(0.0, 1.0, days, device=x.device)
            position = position - position.mean()
            trend = (per_day * position.view(1, -1, 1)).sum(1) / position.pow(2).sum()
        else:
            change = trend = torch.zeros_like(last)
        summaries = [
            per_day.mean(1),
            (per_day - per_day.mean(1, keepdim=True)).pow(2).mean(1).sqrt(),
            per_day.amin(1),
            per_day.amax(1),
            last,
            change,
            trend,
        ]
        return torch.cat(summaries, dim=-1)

    def architecture(self) -> str:
        c = self.config
        return (
            f"per-day {c.n_bands} octave band powers + range/std/diff std/spikes/mean, "
            f"{len(WINDOW_SUMMARIES)} summaries over days ({self.num_features} features) -> "
            + self.head_architecture()
        )
