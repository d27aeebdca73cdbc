"""The geomagnetic-activity reference: logistic regression on a window's activity statistics.

Storms dominate magnetometer records, and an earthquake that coincides with a storm is
"predicted" by any model that learned storms. The ``activity`` model sees no magnetometer
data at all: only the per-window statistics of the geomagnetic indices that
``seismag build --kp --dst --ssc`` writes into ``meta.csv`` (largest Kp, lowest Dst,
number of sudden commencements in the window; :data:`seismag.layout.seed.ACTIVITY_COLUMNS`).
It runs through the same protocol as every other model (folds, class weights, epoch
selection, ensemble), so every comparison shows what geomagnetic activity alone predicts.
A deep model that does not beat it has learned storms, not precursors.

Input ``(batch, columns)`` (the registry's ``'table'`` layout), standardised per column
with each fold's training statistics (under ``scaling = "sample"`` too: a row's columns
are not one series); output logits ``(batch, 2)``. It is a
:class:`~seismag.models.fixed_transform.FixedTransformClassifier` whose transform is the
identity: the same standardised linear head, gain and start as the ``features`` baseline.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch

from seismag.errors import ConfigError
from seismag.models.fixed_transform import FixedTransformClassifier
from seismag.models.config import ModelConfig, check_positive_float, check_positive_int, check_probability
from seismag.models.registry import register_model


@dataclasses.dataclass(frozen=True)
class ActivityConfig(ModelConfig):
    """Options of the activity reference.

    Attributes
    ----------
    input_size : int
        Number of activity columns (set from the data).
    output_size : int, default 2
    dropout_prob : float, default 0.0
        Dropout on the standardised columns (0: plain logistic regression).
    feature_gain : float, default 10.0
        Factor on the standardised columns before the head, as the ``features``
        baseline's (see :class:`~seismag.models.fixed_transform.FixedTransformClassifier`).
    """

    model_name: ClassVar[str] = "activity"

    input_size: int
    output_size: int = 2
    dropout_prob: float = 0.0
    feature_gain: float = 10.0

    def validate(self) -> None:
        check_positive_int(self, "input_size")
        check_positive_int(self, "output_size")
        check_probability(self, "dropout_prob")
        check_positive_float(self, "feature_gain")


# scaling="columns": a row's columns (Kp, Dst, ...) are not one series, so a run's
# "sample" scaling standardises them per column over the training rows instead.
@register_model(display_name="Activity", input_layout="table", config_cls=ActivityConfig,
                in_default_run=False, scaling="columns", fitted_transform=True, reference=True)
class ActivityClassifier(FixedTransformClassifier):
    """Logistic regression ``Linear(columns, 2)`` on the standardised activity columns."""

    config_cls: ClassVar[type[ModelConfig]] = ActivityConfig

    def __init__(self, config: ActivityConfig):
        super().__init__(config)
        self.init_head(config.input_size)

    def check_input(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[-1] != self.config.input_size:
            raise ConfigError(f"activity: expected input (batch, {self.config.input_size}), got {tuple(x.shape)}")
        return x

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def architecture(self) -> str:
        return f"{self.config.input_size} activity columns -> " + self.head_architecture()
