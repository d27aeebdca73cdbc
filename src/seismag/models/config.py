"""Model configs: the frozen dataclass every model config derives from, and its field validators.

A leaf module: it imports no other module of :mod:`seismag.models` (nor torch),
so the registry, the checkpoint code and every network can import it without
an import cycle, and a config can be read or checked without building a model.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
from typing import Any, ClassVar, Mapping, Sequence, TypeVar

from seismag.errors import ConfigError

ConfigT = TypeVar("ConfigT", bound="ModelConfig")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Base of every model config: validation, plain-dict round trip, overrides.

    Subclasses are frozen dataclasses whose fields are the model's constructor
    options. ``model_name`` (a class variable) is the registry name the config
    belongs to, so a config alone says which model it builds.
    """

    model_name: ClassVar[str] = ""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check and normalise field values; raise :class:`ConfigError` on a bad one."""

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """Names of the options this config accepts, in declaration order."""
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls: type[ConfigT], data: Mapping[str, Any]) -> ConfigT:
        """Build a config from a plain mapping; unknown or missing keys are an error.

        Raises
        ------
        ConfigError
            A key is not an option of this model, or a required one is missing.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"{cls.model_name or cls.__name__} config must be a mapping, got {type(data).__name__}")
        valid = cls.field_names()
        unknown = [key for key in data if key not in valid]
        if unknown:
            raise ConfigError(
                f"unknown {cls.model_name or cls.__name__} option(s): {', '.join(map(repr, unknown))}; "
                f"valid options: {', '.join(valid)}"
            )
        required = [
            field.name
            for field in dataclasses.fields(cls)
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        ]
        missing = [name for name in required if name not in data]
        if missing:
            raise ConfigError(f"{cls.model_name or cls.__name__} config lacks required option(s): {', '.join(missing)}")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        """The config as JSON-able plain data (tuples become lists)."""
        return {name: _plain_value(getattr(self, name)) for name in self.field_names()}

    def replace(self: ConfigT, **overrides: Any) -> ConfigT:
        """A copy with ``overrides`` applied, validated like :meth:`from_dict`."""
        return type(self).from_dict({**self.to_dict(), **overrides})


def _plain_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain_value(item) for item in value]
    return value


# --- field validators: each stores the normalised value or raises ConfigError ---


def set_field(config: ModelConfig, name: str, value: Any) -> None:
    """Store a normalised field value on a frozen config (from its ``validate`` only)."""
    # Frozen dataclasses forbid normal assignment; normalising in __post_init__
    # is the documented exception.
    object.__setattr__(config, name, value)


def check_positive_int(config: ModelConfig, name: str) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ConfigError(f"{config.model_name}: {name} must be a positive integer, got {value!r}")
    set_field(config, name, int(value))


def check_channels(config: ModelConfig) -> None:
    """``channels`` a positive integer that divides ``input_size`` (a day of every channel)."""
    check_positive_int(config, "channels")
    if config.input_size % config.channels:
        raise ConfigError(f"{config.model_name}: input_size {config.input_size} is not a multiple of "
                          f"channels {config.channels}")


def check_flat_channels(config: ModelConfig) -> None:
    """:func:`check_channels`, and for a flat window of several channels an ``n_days`` that
    divides ``input_size`` into days x channels (to find each channel's series in a row)."""
    check_channels(config)
    days = config.n_days
    if config.channels > 1 and (isinstance(days, bool) or not isinstance(days, int) or days < 1
                                or config.input_size % (days * config.channels)):
        raise ConfigError(f"{config.model_name}: {config.channels} channels need n_days dividing input_size "
                          f"{config.input_size} into days x channels, got n_days={days!r}")


def check_hidden_sizes(config: ModelConfig, name: str = "hidden_sizes") -> None:
    value = getattr(config, name)
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ConfigError(f"{config.model_name}: {name} must be a list of positive integers, got {value!r}")
    sizes = tuple(value)
    if not sizes or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s <= 0 for s in sizes):
        raise ConfigError(
            f"{config.model_name}: {name} must be a non-empty list of positive integers, got {list(sizes)!r}"
        )
    set_field(config, name, tuple(int(s) for s in sizes))


def check_probability(config: ModelConfig, name: str) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) < 1.0:
        raise ConfigError(f"{config.model_name}: {name} must be a number in [0, 1), got {value!r}")
    set_field(config, name, float(value))


def check_bool(config: ModelConfig, name: str) -> None:
    value = getattr(config, name)
    if not isinstance(value, bool):
        raise ConfigError(f"{config.model_name}: {name} must be true or false, got {value!r}")


def canonical_choice(value: Any, choices: Sequence[str]) -> str | None:
    """The entry of ``choices`` that ``value`` spells, or None if it spells none.

    Case, spaces, hyphens and underscores are ignored, so the SPEC's spellings
    ('LeakyReLU', 'max confidence') and the canonical ones ('leaky_relu',
    'max_confidence') name the same choice.
    """
    if not isinstance(value, str):
        return None
    key = _choice_key(value)
    return next((choice for choice in choices if _choice_key(choice) == key), None)


def _choice_key(name: str) -> str:
    return re.sub(r"[\s_-]+", "", name).lower()


def check_choice(config: ModelConfig, name: str, choices: tuple[str, ...]) -> None:
    """Store the canonical spelling of a choice (see :func:`canonical_choice`)."""
    value = getattr(config, name)
    canonical = canonical_choice(value, choices)
    if canonical is None:
        raise ConfigError(f"{config.model_name}: {name} must be one of {', '.join(choices)}, got {value!r}")
    set_field(config, name, canonical)


def check_positive_float(config: ModelConfig, name: str) -> None:
    value = getattr(config, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
        math.isfinite(float(value)) and float(value) > 0
    ):
        raise ConfigError(f"{config.model_name}: {name} must be a positive number, got {value!r}")
    set_field(config, name, float(value))


@dataclasses.dataclass(frozen=True)
class HiddenLayersConfig(ModelConfig):
    """Options of a network of stacked hidden layers and a linear head (the MLP and
    the recurrent networks); defaults are the paper preset.

    Attributes
    ----------
    input_size : int
        Features per time step (recurrent networks) or per window (the MLP).
    hidden_sizes : tuple of int, default (512, 256)
        One hidden layer per entry.
    output_size : int, default 2
        Number of classes (logits per sample).
    dropout_prob : float, default 0.3
        Dropout after every hidden layer.
    use_batch_norm : bool, default True
        BatchNorm1d after every hidden layer.
    """

    input_size: int
    hidden_sizes: tuple[int, ...] = (512, 256)
    output_size: int = 2
    dropout_prob: float = 0.3
    use_batch_norm: bool = True

    def validate(self) -> None:
        check_positive_int(self, "input_size")
        self.check_layers()
        check_positive_int(self, "output_size")
        check_probability(self, "dropout_prob")
        check_bool(self, "use_batch_norm")

    def check_layers(self) -> None:
        """Check (and normalise) ``hidden_sizes``."""
        check_hidden_sizes(self)
