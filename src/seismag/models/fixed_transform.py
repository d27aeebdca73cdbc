"""The fixed-transform classifier behind the strong simple baselines: a fixed transform,
a per-feature standardisation and a linear head.

Its models (``features`` and ``minirocket`` in :mod:`seismag.models.features` and
:mod:`seismag.models.minirocket`, the ``activity`` reference in
:mod:`seismag.models.activity`) are ordinary seismag networks (registered, trained by
the same k-fold loop, saved as weights-only checkpoints, combined into ensembles), so
every comparison the tool draws can include them at almost no cost. What makes them
baselines is that only the last layer learns.

The transform is fixed: it has no parameters, only buffers. Those set from
data (MiniRocket's biases; the mean and standard deviation of every feature
over the training rows) are set by :meth:`FixedTransformClassifier.fit_unsupervised`,
which the training engine calls with the fold's scaled training rows before
the first step (their registry entries say ``fitted_transform=True``); they live
in the ``state_dict``, so checkpoints and ensembles carry them. The head is
dropout followed by one linear layer on the standardised features: logistic
regression, with shrinkage from AdamW's weight decay and class balance from the
class-weighted loss. A fixed gain on the standardised features (``feature_gain``)
lets the SPEC's learning rate of 1e-3 fit the head within a few epochs.

The transform is fixed once fitted, so the training engine computes each
fold's features once (:meth:`FixedTransformClassifier.feature_head`, RunConfig
``cache_features``) and trains the head on them; called directly, the model
transforms its input like any layer.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from seismag.errors import ConfigError
from seismag.models.base import ModelMixin

# Input values transformed at once (fitting, caching): bounds the memory of the
# 84 x length convolution outputs whatever the number of rows. 2**19 values is 2 MiB
# of input (12 rows of 30-day, 52 rows of 7-day 1-minute windows); MiniRocket's
# intermediates are about a hundred times that. Measured on 1500 30-day windows:
# 2.3 GiB above the data with 256-row chunks, 0.26 GiB with these, at the same speed.
FIT_CHUNK_VALUES = 2**19
# Feature standard deviations below this are treated as constant features and
# left unscaled (the feature is then centred to ~0 and the head ignores it).
_MIN_FEATURE_STD = 1e-6


class FixedTransformClassifier(ModelMixin, nn.Module):
    """A fixed feature transform, per-feature standardisation and a linear head.

    Subclasses set ``config`` (with ``output_size``, ``dropout_prob`` and
    ``feature_gain``), call :meth:`init_head`, implement :meth:`transform` (``input -> (batch, num_features)``,
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

    def init_head(self, num_features: int) -> None:
        """Create the standardisation buffers, dropout and head for ``num_features``
        features, from the config's ``output_size``, ``dropout_prob`` and ``feature_gain``."""
        self.init_feature_statistics(num_features)
        self.feature_gain = float(self.config.feature_gain)
        self.dropout = nn.Dropout(self.config.dropout_prob)
        self.head = nn.Linear(num_features, self.config.output_size)
        # Small random weights (initial logits ~0.1): a near-zero start on standardised
        # features, as a logistic regression; random, not zero, so dropout and the seed matter.
        nn.init.normal_(self.head.weight, std=0.1 / (self.feature_gain * math.sqrt(num_features)))
        nn.init.zeros_(self.head.bias)

    def init_feature_statistics(self, num_features: int) -> None:
        """The buffers :meth:`fit_unsupervised` sets: each feature's mean and standard
        deviation over the training rows, and whether it has run."""
        self.num_features = int(num_features)
        self.register_buffer("feature_mean", torch.zeros(num_features))
        self.register_buffer("feature_std", torch.ones(num_features))
        self.register_buffer("fitted", torch.tensor(False))

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
    def head_architecture(self) -> str:
        """The end of :meth:`architecture`: what follows the features."""
        return f"standardise -> Dropout({self.config.dropout_prob:g}) -> Linear({self.config.output_size})"

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
