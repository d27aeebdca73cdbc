"""Strong simple baselines: a fixed transform, a standardisation and a linear head.

Why this module is long: the shared fixed-transform classifier and both of its baselines (the
per-day features and MiniRocket, whose kernels and dilations must match the reference
implementation) live together, since the two differ only in their transform.

Both models are ordinary seismag networks (registered, trained by the same
k-fold loop, saved as weights-only checkpoints, combined into ensembles), so
every comparison the tool draws can include them at almost no cost. What makes
them baselines is that only the last layer learns:

``features``
    Cheap, physically motivated statistics of each day (band powers, range,
    spread, first differences, spikes, level), summarised over the days of the
    window (mean, spread, extremes, last day, last-day change, trend).
``minirocket``
    The MiniRocket transform (Dempster, Schmidt & Webb, KDD 2021): 84 fixed
    convolution kernels at exponentially spaced dilations, biases taken from
    quantiles of the convolution outputs of training windows, and the
    proportion of positive values (PPV) of each biased output.

The transform is fixed: it has no parameters, only buffers. Those set from
data (MiniRocket's biases; the mean and standard deviation of every feature
over the training rows) are set by :meth:`FixedTransformClassifier.fit_unsupervised`,
which the training engine calls with the fold's scaled training rows before
the first step; they live in the ``state_dict``, so checkpoints and ensembles
carry them. The head is dropout followed by one linear layer on the
standardised features: logistic regression, with shrinkage from AdamW's weight
decay and class balance from the class-weighted loss. A fixed gain on the
standardised features (``feature_gain``) lets the SPEC's learning rate of 1e-3
fit the head within a few epochs.

The transform is fixed once fitted, so the training engine computes each
fold's features once (:meth:`FixedTransformClassifier.feature_head`, RunConfig
``cache_features``) and trains the head on them; called directly, the model
transforms its input like any layer. The transform costs, on a 2-core CPU with
one thread, ``features`` ~0.7 ms and ``minirocket`` ~10 ms per 7-day window of
1-minute data.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import ClassVar

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from seismag.errors import ConfigError
from seismag.models.base import ModelMixin
from seismag.models.config import (ModelConfig, check_channels, check_positive_float, check_positive_int,
                                   check_probability)
from seismag.models.registry import register_model

# Input values transformed at once (fitting, caching): bounds the memory of the
# 84 x length convolution outputs whatever the number of rows. 2**19 values is 2 MiB
# of input (12 rows of 30-day, 52 rows of 7-day 1-minute windows); MiniRocket's
# intermediates are about a hundred times that. Measured on 1500 30-day windows:
# 2.3 GiB above the data with 256-row chunks, 0.26 GiB with these, at the same speed.
FIT_CHUNK_VALUES = 2**19
# Feature standard deviations below this are treated as constant features and
# left unscaled (the feature is then centred to ~0 and the head ignores it).
_MIN_FEATURE_STD = 1e-6
_LOG_EPS = 1e-6
# Differences used to estimate the robust scale spikes are measured against.
_SPIKE_SCALE_SAMPLES = 2048


class FixedTransformClassifier(ModelMixin, nn.Module):
    """A fixed feature transform, per-feature standardisation and a linear head.

    Subclasses implement :meth:`transform` (``input -> (batch, num_features)``,
    no parameters) and may override :meth:`fit_transform_buffers` to set
    data-dependent parts of the transform before the feature statistics are
    taken.

    The head sees ``feature_gain * (features - feature_mean) / feature_std``.
    AdamW moves every weight by about the learning rate per step whatever the
    scale of its input, so the gain sets how fast the logits can move: at
    learning rate ``lr`` the head learns about as a logistic regression on the
    standardised features would at ``feature_gain * lr``. The learning rate is a
    run setting shared by every model; the gain is this model's own factor,
    so that at the SPEC's 1e-3 a linear head (a few thousand weights, few steps
    per epoch on small data sets) learns within a few epochs. Weight decay still
    shrinks the weights by the same fraction per step.

    Buffers
    -------
    feature_mean, feature_std : (num_features,)
        Standardisation of the features, fitted on the training rows (0 and 1
        until :meth:`fit_unsupervised` runs).
    fitted : bool scalar
        Whether :meth:`fit_unsupervised` has run.
    """

    def _init_head(self, num_features: int, output_size: int, dropout_prob: float, feature_gain: float) -> None:
        self.num_features = int(num_features)
        self.feature_gain = float(feature_gain)
        self.register_buffer("feature_mean", torch.zeros(num_features))
        self.register_buffer("feature_std", torch.ones(num_features))
        self.register_buffer("fitted", torch.tensor(False))
        self.dropout = nn.Dropout(dropout_prob)
        self.head = nn.Linear(num_features, output_size)
        # Small random weights (initial logits ~0.1): a near-zero start on standardised
        # features, as a logistic regression; random, not zero, so dropout and the seed matter.
        nn.init.normal_(self.head.weight, std=0.1 / (self.feature_gain * math.sqrt(num_features)))
        nn.init.zeros_(self.head.bias)

    # --- to be provided by subclasses -------------------------------------------------
    def check_input(self, x: torch.Tensor) -> torch.Tensor:
        """Validate (and reshape) the input; raise :class:`ConfigError` naming the model."""
        raise NotImplementedError

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """The fixed features ``(batch, num_features)`` float32 of checked input ``x``."""
        raise NotImplementedError

    def fit_transform_buffers(self, x: torch.Tensor) -> None:
        """Set data-dependent parts of the transform from training input (default: none)."""

    # --- shared ------------------------------------------------------------------------
    @torch.no_grad()
    def features(self, x: torch.Tensor, chunk_rows: int | None = None) -> torch.Tensor:
        """Raw (unstandardised) features of ``x``, computed in chunks of rows, float32.

        ``chunk_rows`` defaults to as many rows as hold FIT_CHUNK_VALUES input values.
        """
        x = self.check_input(x)
        if chunk_rows is None:
            chunk_rows = max(1, FIT_CHUNK_VALUES // max(1, x[0].numel() if len(x) else 1))
        with torch.autocast(device_type=x.device.type, enabled=False):
            parts = [self.transform(x[start:start + chunk_rows].float()) for start in range(0, len(x), chunk_rows)]
        return torch.cat(parts) if parts else x.new_zeros(0, self.num_features)

    @torch.no_grad()
    def fit_unsupervised(self, x: torch.Tensor):
        """Fit the fixed parts from training input, without labels.

        Parameters
        ----------
        x : torch.Tensor
            The (scaled) training rows in the model's input layout. Only these
            rows may be passed: what is fitted here is reused on validation rows.

        Returns
        -------
        self
        """
        x = self.check_input(x)
        if len(x) == 0:
            raise ConfigError(f"{self.model_name}: fit_unsupervised needs at least one training row")
        self.fit_transform_buffers(x.float())
        values = self.features(x).double()
        mean = values.mean(0)
        std = values.std(0, unbiased=False)
        std = torch.where(std < _MIN_FEATURE_STD, torch.ones_like(std), std)
        self.feature_mean.copy_(mean.float())
        self.feature_std.copy_(std.float())
        self.fitted.fill_(True)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, output_size)``; the transform runs in float32 without gradients."""
        x = self.check_input(x)
        with torch.no_grad(), torch.autocast(device_type=x.device.type, enabled=False):
            raw = self.transform(x.float())
        return self.classify_features(raw)

    def classify_features(self, raw: torch.Tensor) -> torch.Tensor:
        """Logits from raw features ``(batch, num_features)`` as :meth:`features` returns them."""
        with torch.no_grad(), torch.autocast(device_type=raw.device.type, enabled=False):
            z = (raw.float() - self.feature_mean) / self.feature_std * self.feature_gain
        return self.head(self.dropout(z))

    def feature_head(self) -> nn.Module:
        """This model from raw features on: what training runs once the features are cached.

        The transform is fixed once :meth:`fit_unsupervised` has run, so a trainer
        may compute :meth:`features` once per fold and train through this module,
        which shares the head, dropout and buffers with the model.
        """
        return _FeatureHead(self)


class _FeatureHead(nn.Module):
    def __init__(self, model: FixedTransformClassifier):
        super().__init__()
        self.model = model

    def forward(self, raw: torch.Tensor) -> torch.Tensor:
        return self.model.classify_features(raw)


# ============================================================================ features


@dataclasses.dataclass(frozen=True)
class FeaturesConfig(ModelConfig):
    """Options of the feature baseline.

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
    dropout_prob : float, default 0.1
        Dropout on the standardised features (0: plain logistic regression).
    feature_gain : float, default 10.0
        Factor on the standardised features before the head; see
        :class:`FixedTransformClassifier`. 10 lets the head learn within about
        5 epochs at the SPEC's learning rate (1e-3).
    """

    model_name: ClassVar[str] = "features"

    input_size: int
    channels: int = 1
    n_bands: int = 8
    spike_threshold: float = 6.0
    output_size: int = 2
    dropout_prob: float = 0.1
    feature_gain: float = 10.0

    def validate(self) -> None:
        check_positive_float(self, "feature_gain")
        check_positive_int(self, "input_size")
        check_channels(self)
        check_positive_int(self, "n_bands")
        check_positive_float(self, "spike_threshold")
        check_positive_int(self, "output_size")
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


@register_model("features", display_name="Features", input_layout="sequence", config_cls=FeaturesConfig)
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
        super().__init__()
        if not isinstance(config, FeaturesConfig):
            raise ConfigError(f"FeaturesClassifier needs a FeaturesConfig, got {type(config).__name__}")
        self.config = config
        # Derived from the config, so not saved (persistent=False) and always consistent.
        self.register_buffer(
            "band_weights", torch.tensor(band_matrix(config.input_size // config.channels, config.n_bands),
                                         dtype=torch.float32),
            persistent=False,
        )
        self.per_day = config.n_bands + len(DAY_STATISTICS)
        self._init_head(config.channels * len(WINDOW_SUMMARIES) * self.per_day, config.output_size,
                        config.dropout_prob, config.feature_gain)

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
            f"{len(WINDOW_SUMMARIES)} summaries over days ({self.num_features} features) -> standardise "
            f"-> Dropout({c.dropout_prob:g}) -> Linear({c.output_size})"
        )


# ============================================================================ minirocket

KERNEL_LENGTH = 9
# The 84 MiniRocket kernels: weight -1 everywhere and 2 at three of the nine
# positions (sum 0), one kernel per choice of the three positions.
KERNEL_INDICES = np.array(list(itertools.combinations(range(KERNEL_LENGTH), 3)), dtype=np.int64)
NUM_KERNELS = len(KERNEL_INDICES)  # 84


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
        earliest values are dropped, never the most recent. The factor is
        reduced for short windows so that at least 9 pooled points remain;
        windows shorter than 9 values are zero-padded to 9. Use 1 for
        low-rate data (e.g. hourly values).
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
        check_channels(self)
        if self.channels > 1 and (isinstance(self.n_days, bool) or not isinstance(self.n_days, int)
                                  or self.n_days < 1 or self.input_size % (self.n_days * self.channels)):
            raise ConfigError(f"minirocket: {self.channels} channels need n_days dividing input_size "
                              f"{self.input_size} into days x channels, got n_days={self.n_days!r}")
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
@register_model("minirocket", display_name="MiniRocket", input_layout="flat", config_cls=MiniRocketConfig,
                in_default_run=False)
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
        super().__init__()
        if not isinstance(config, MiniRocketConfig):
            raise ConfigError(f"MiniRocketClassifier needs a MiniRocketConfig, got {type(config).__name__}")
        self.config = config
        series_length = config.input_size // config.channels
        self.pool_factor = min(config.downsample, max(1, series_length // KERNEL_LENGTH))
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
        self._init_head(config.channels * num_features, config.output_size, config.dropout_prob,
                        config.feature_gain)

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
        c = self.config
        return (
            f"avg-pool x{self.pool_factor} -> MiniRocket (84 kernels x {len(self.dilations)} dilations "
            f"1..{self.dilations[-1]}, {self.num_features} PPV features) -> standardise "
            f"-> Dropout({c.dropout_prob:g}) -> Linear({c.output_size})"
        )
