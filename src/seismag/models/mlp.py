"""Multi-layer perceptron on the flattened window (no notion of time order).

Input ``(batch, days * steps_per_day)`` -- 10,080 / 20,160 / 43,200 features
for 7 / 14 / 30 days of 1-minute data. Each hidden layer is
Linear -> BatchNorm1d -> activation -> Dropout; a linear head returns logits.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch
from torch import nn

from seismag.errors import ConfigError
from seismag.models.base import ModelMixin
from seismag.models.config import HiddenLayersConfig, ModelConfig, check_choice
from seismag.models.registry import register_model

# Keys are the canonical names stored in configs and checkpoints; any spelling
# that differs only in case or separators ('LeakyReLU', 'GELU') is accepted
# and stored as the key (see seismag.models.config.canonical_choice).
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
    "selu": nn.SELU,
}


@dataclasses.dataclass(frozen=True)
class MLPConfig(HiddenLayersConfig):
    """Options of the MLP; defaults are the paper preset.

    The fields of :class:`~seismag.models.config.HiddenLayersConfig` (``input_size``
    is the features per window, ``days * steps_per_day``), then:

    Attributes
    ----------
    activation : {'relu', 'tanh', 'gelu', 'elu', 'leaky_relu', 'selu'}, default 'relu'
        Case and underscores do not matter ('LeakyReLU', 'LEAKY_RELU' and
        'leakyrelu' all mean 'leaky_relu'); the canonical name is stored.
    """

    model_name: ClassVar[str] = "mlp"

    activation: str = "relu"

    def validate(self) -> None:
        super().validate()
        check_choice(self, "activation", tuple(ACTIVATIONS))


@register_model(display_name="MLP", input_layout="flat", config_cls=MLPConfig)
class MLPNetwork(ModelMixin, nn.Module):
    """Linear -> BatchNorm -> activation -> Dropout per hidden layer, then a linear head.

    Parameters
    ----------
    config : MLPConfig

    Notes
    -----
    With BatchNorm the hidden Linear layers have no bias: BatchNorm subtracts
    the batch mean right after, so a bias would be a parameter that never
    receives gradient (BatchNorm's own shift plays its role).
    """

    config_cls: ClassVar[type[ModelConfig]] = MLPConfig

    def __init__(self, config: MLPConfig):
        super().__init__(config)
        layers: list[nn.Module] = []
        in_features = config.input_size
        for hidden_size in config.hidden_sizes:
            layers.append(nn.Linear(in_features, hidden_size, bias=not config.use_batch_norm))
            if config.use_batch_norm:
                layers.append(nn.BatchNorm1d(hidden_size))
            layers.append(ACTIVATIONS[config.activation]())
            layers.append(nn.Dropout(config.dropout_prob))
            in_features = hidden_size
        self.layers = nn.Sequential(*layers)
        self.head = nn.Linear(in_features, config.output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, output_size)`` of windows ``(batch, input_size)``;
        ``(batch, days, steps_per_day)`` is flattened first."""
        if x.dim() > 2:
            x = x.flatten(1)
        if x.dim() != 2 or x.shape[-1] != self.config.input_size:
            raise ConfigError(f"mlp: expected input (batch, {self.config.input_size}), got {tuple(x.shape)}")
        return self.head(self.layers(x))

    def architecture(self) -> str:
        c = self.config
        norm = " + BatchNorm" if c.use_batch_norm else ""
        return (
            f"Linear {list(c.hidden_sizes)}{norm} + {c.activation} + Dropout({c.dropout_prob:g}) "
            f"-> Linear({c.output_size})"
        )
