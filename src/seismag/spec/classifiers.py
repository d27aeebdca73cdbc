"""The SPEC's classifier classes: the registry's networks with the SPEC's keyword constructors.

The original notebooks build their models as ``GRUClassifier(input_size=1440,
hidden_sizes=[512, 256], ...)``, ``MLPClassifier(input_size=10080, ...)`` and
``TransformerClassifier(...)``. In seismag a network takes one config
(:class:`~seismag.models.recurrent.RecurrentNetwork`,
:class:`~seismag.models.mlp.MLPNetwork`,
:class:`~seismag.models.transformer.TransformerNetwork`); each class here is that
network with :class:`SpecConstructor` in front, which turns the keyword arguments into
the config. They build the same layers in the same order as
:func:`seismag.models.create_model` (the same weights from the same seed), save
the same checkpoints, and ``GRUClassifier.load_checkpoint(path)`` returns a
``GRUClassifier``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from seismag import defaults
from seismag.errors import ConfigError
from seismag.models.config import ModelConfig
from seismag.models.mlp import MLPConfig, MLPNetwork
from seismag.models.recurrent import GRUConfig, LSTMConfig, RecurrentNetwork, RNNConfig
from seismag.models.transformer import TransformerConfig, TransformerNetwork

__all__ = ["SpecConstructor", "GRUClassifier", "LSTMClassifier", "RNNClassifier", "MLPClassifier",
           "TransformerClassifier"]

#: Steps per day of 1-minute data: the ``input_size`` the SPEC's sequence models default to.
MINUTES_PER_DAY = defaults.MINUTES_PER_DAY


class SpecConstructor:
    """The SPEC's keyword constructor of a network, derived from its config class.

    Put it before the network class, whose ``__init__`` takes a config::

        class MLPClassifier(SpecConstructor, MLPNetwork): ...

    ``MLPClassifier(input_size=10080, hidden_sizes=[512, 256])`` then builds
    ``MLPConfig.from_dict({"input_size": 10080, "hidden_sizes": [512, 256]})``
    and passes it to ``MLPNetwork.__init__``. The options, their defaults (the
    paper preset) and their validation are those of ``config_cls`` and nowhere
    else, so a new config field is a new constructor option at once.

    Positional arguments fill the config's fields in declaration order, as the
    SPEC's written-out signatures did (``input_size`` first). ``input_size``
    defaults to :attr:`default_input_size` when that is not None.

    Raises
    ------
    ConfigError
        An unknown or invalid option, or no ``input_size`` where there is no default.
    TypeError
        More positional arguments than config fields, or an option given both
        by position and by keyword.
    """

    config_cls: ClassVar[type[ModelConfig]]
    default_input_size: ClassVar[int | None] = None

    def __init__(self, *args: Any, **options: Any):
        names = self.config_cls.field_names()
        if len(args) > len(names):
            raise TypeError(
                f"{type(self).__name__} takes at most {len(names)} positional arguments "
                f"({', '.join(names)}), got {len(args)}"
            )
        for name, value in zip(names, args):
            if name in options:
                raise TypeError(f"{type(self).__name__} got multiple values for argument {name!r}")
            options[name] = value
        if "input_size" not in options and self.default_input_size is not None:
            options["input_size"] = self.default_input_size
        super().__init__(self.config_cls.from_dict(options))

    @classmethod
    def from_config(cls, config: ModelConfig):
        """Build the model from an instance of exactly ``config_cls`` (what
        ``load_checkpoint`` rebuilds it with)."""
        if type(config) is not cls.config_cls:
            raise ConfigError(
                f"{cls.__name__} needs a config of class {cls.config_cls.__name__}, got {type(config).__name__}"
            )
        return cls(**config.to_dict())


class GRUClassifier(SpecConstructor, RecurrentNetwork):
    """GRU classifier with the SPEC's constructor (paper defaults).

    The options are the fields of :class:`~seismag.models.recurrent.GRUConfig`,
    taken as :class:`SpecConstructor` describes.

    Parameters
    ----------
    input_size : int, default 1440
        Features per time step (``steps_per_day``).
    **options
        The other fields of :class:`~seismag.models.recurrent.GRUConfig`, defaulting to
        the paper preset: ``hidden_sizes`` (512, 256), ``num_layers``
        (``len(hidden_sizes)``), ``output_size`` 2, ``dropout_prob`` 0.3,
        ``use_batch_norm`` True, ``bidirectional`` False.

    Raises
    ------
    ConfigError
        An unknown or out-of-range option (``nonlinearity`` included: GRU
        and LSTM cells have none), or ``num_layers`` contradicting
        ``hidden_sizes``.

    Input ``(batch, days, input_size)``, output logits ``(batch, output_size)``.
    """

    config_cls: ClassVar[type[ModelConfig]] = GRUConfig
    default_input_size: ClassVar[int] = MINUTES_PER_DAY


class LSTMClassifier(SpecConstructor, RecurrentNetwork):
    """LSTM classifier with the SPEC's constructor; arguments as :class:`GRUClassifier`."""

    config_cls: ClassVar[type[ModelConfig]] = LSTMConfig
    default_input_size: ClassVar[int] = MINUTES_PER_DAY


class RNNClassifier(SpecConstructor, RecurrentNetwork):
    """Vanilla RNN classifier with the SPEC's constructor.

    Arguments as :class:`GRUClassifier`, plus ``nonlinearity`` ('tanh', the
    default, or 'relu'), so SPEC Module 6's sequential-model config
    ``{'hidden_sizes': [512, 256], 'num_layers': 2, 'dropout_prob': 0.3,
    'nonlinearity': 'tanh'}`` can be passed as ``**config``.
    """

    config_cls: ClassVar[type[ModelConfig]] = RNNConfig
    default_input_size: ClassVar[int] = MINUTES_PER_DAY


class MLPClassifier(SpecConstructor, MLPNetwork):
    """MLP with the SPEC's constructor (paper defaults).

    The options are the fields of :class:`~seismag.models.mlp.MLPConfig`, taken as
    :class:`SpecConstructor` describes (by keyword, or by position in this order).

    Parameters
    ----------
    input_size : int
        Flattened features per window: 10080 / 20160 / 43200 for 7 / 14 / 30
        days. Required (it depends on the window).
    hidden_sizes : sequence of int, default (512, 256)
    output_size : int, default 2
    dropout_prob : float, default 0.3
    use_batch_norm : bool, default True
    activation : str, default 'relu'
        One of relu, tanh, gelu, elu, leaky_relu, selu, in any case, with or
        without underscores (the SPEC's 'ReLU', 'LeakyReLU', 'SELU' work).

    Raises
    ------
    ConfigError
        An unknown or out-of-range option, or no ``input_size``.

    Input ``(batch, input_size)``, output logits ``(batch, output_size)``.
    """

    config_cls: ClassVar[type[ModelConfig]] = MLPConfig


class TransformerClassifier(SpecConstructor, TransformerNetwork):
    """Transformer classifier with the SPEC's constructor (paper defaults).

    The options are the fields of :class:`~seismag.models.transformer.TransformerConfig`,
    taken as :class:`SpecConstructor` describes (by keyword, or by position in this order).

    Parameters
    ----------
    input_size : int, default 1440
        Features per time step (``steps_per_day``).
    d_model : int, default 512
    nhead : int, default 8
    num_encoder_layers : int, default 2
    dim_feedforward : int, default 2048
    dropout_prob : float, default 0.1
    output_size : int, default 2

    Raises
    ------
    ConfigError
        An unknown or out-of-range option, or ``d_model`` not a multiple of ``nhead``.

    Input ``(batch, days, input_size)`` for any number of days, output logits
    ``(batch, output_size)``.
    """

    config_cls: ClassVar[type[ModelConfig]] = TransformerConfig
    default_input_size: ClassVar[int] = MINUTES_PER_DAY
