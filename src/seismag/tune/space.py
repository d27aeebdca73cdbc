"""What a search may vary: search-space dimensions and each model's default space.

Choices are stored in Optuna as plain values (:func:`encode_value`: a tuple such
as hidden sizes ``(64, 32)`` becomes ``'64,32'``) and read back with
:func:`decode_param`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from seismag import models as model_registry
from seismag.config import FIELD_NAMES
from seismag.errors import ConfigError

# Run settings that a search may vary (everything else is protocol or data; the
# --train-until cutoff is data: a search choosing it would pick the period it scores best on).
_NOT_TUNABLE = {"models", "windows", "model_overrides", "steps_per_day", "seed", "num_folds", "split",
                "group_by", "time_column", "embargo_days", "selection", "inner_fraction",
                "permutation_control", "nan_policy", "max_missing", "train_until", "device", "precision"}
TUNABLE_RUN_FIELDS = frozenset(FIELD_NAMES - _NOT_TUNABLE)


@dataclass(frozen=True)
class Param:
    """One dimension of a search space.

    ``kind``: 'log' (float, log-uniform in [low, high]), 'uniform' (float),
    'int' (integer in [low, high]) or 'choice' (one of ``choices``; tuples such
    as hidden sizes are allowed).
    """

    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    def __post_init__(self) -> None:
        if self.kind not in ("log", "uniform", "int", "choice"):
            raise ConfigError(f"unknown search-space kind '{self.kind}'; use log, uniform, int or choice")
        if self.kind == "choice":
            if not self.choices:
                raise ConfigError("a choice needs at least one value")
        elif self.low is None or self.high is None or not self.low <= self.high:
            raise ConfigError(f"a {self.kind} range needs low <= high, got [{self.low}, {self.high}]")
        elif self.kind == "log" and self.low <= 0:
            raise ConfigError(f"a log range must be positive, got [{self.low}, {self.high}]")

    def suggest(self, trial, name: str) -> Any:
        if self.kind == "log":
            return trial.suggest_float(name, self.low, self.high, log=True)
        if self.kind == "uniform":
            return trial.suggest_float(name, self.low, self.high)
        if self.kind == "int":
            return trial.suggest_int(name, int(self.low), int(self.high))
        labels = [encode_value(v) for v in self.choices]
        return self.choices[labels.index(trial.suggest_categorical(name, labels))]

    def contains(self, value: Any) -> bool:
        if self.kind == "choice":
            return encode_value(value) in [encode_value(v) for v in self.choices]
        try:
            return self.low <= float(value) <= self.high and (self.kind != "int" or float(value).is_integer())
        except (TypeError, ValueError):
            return False

    def describe(self) -> dict[str, Any]:
        if self.kind == "choice":
            return {"kind": "choice", "choices": [list(v) if isinstance(v, tuple) else v for v in self.choices]}
        return {"kind": self.kind, "low": self.low, "high": self.high}


def log_uniform(low: float, high: float) -> Param:
    return Param("log", low, high)


def uniform(low: float, high: float) -> Param:
    return Param("uniform", low, high)


def integer(low: int, high: int) -> Param:
    return Param("int", low, high)


def choice(*values: Any) -> Param:
    return Param("choice", choices=tuple(tuple(v) if isinstance(v, list) else v for v in values))


# Run settings every model has.
RUN_SPACE: dict[str, Param] = {
    "learning_rate": log_uniform(1e-4, 3e-3),
    "weight_decay": log_uniform(1e-4, 1e-1),
    "batch_size": choice(16, 32, 64),
    "class_weight_method": choice("sqrt", "inverse", "none"),
    "balanced_sampling": choice(False, True),
}
# Model settings, used for the models whose config has the field.
MODEL_SPACE: dict[str, Param] = {
    "hidden_sizes": choice((512, 256), (256, 128), (128, 64), (64, 32)),
    "dropout_prob": uniform(0.1, 0.5),
    "d_model": choice(64, 128, 256, 512),
    "nhead": choice(2, 4, 8),
    "num_encoder_layers": integer(1, 3),
    # A boosted head's trees (features_gbm).
    "shrinkage": log_uniform(0.02, 0.3),
    "max_leaf_nodes": integer(4, 63),
    "min_samples_leaf": integer(5, 50),
}
#: Run settings of gradient steps, which a head fitted at once (registry ``fitted_head``) never uses.
GRADIENT_STEP_SETTINGS = ("learning_rate", "weight_decay", "batch_size")


def model_fields(model: str) -> set[str]:
    """The settings of ``model``'s config dataclass (what ``[model.<name>]`` may set)."""
    return set(model_registry.get_model_entry(model).config_cls.field_names())


def search_space(model: str, overrides: Mapping[str, Param | None] | None = None) -> dict[str, Param]:
    """The search space for ``model``: :data:`RUN_SPACE` (without the
    :data:`GRADIENT_STEP_SETTINGS` for a head fitted at once) plus the :data:`MODEL_SPACE`
    entries its config has, then ``overrides`` (a :class:`Param` replaces or adds
    a dimension, None removes one).

    The order of the dimensions is the order trials suggest them in, so it is
    part of what makes a seeded search repeatable.

    Raises
    ------
    ConfigError
        A key that is neither a tunable run setting nor a setting of the model,
        or Transformer widths that some head count does not divide.
    """
    fields = model_fields(model)
    space = dict(RUN_SPACE)
    if model_registry.get_model_entry(model).fitted_head:
        space = {k: v for k, v in space.items() if k not in GRADIENT_STEP_SETTINGS}
    space.update({k: v for k, v in MODEL_SPACE.items() if k in fields})
    for key, value in (overrides or {}).items():
        if value is None:
            space.pop(key, None)
            continue
        if key not in TUNABLE_RUN_FIELDS and (key not in fields or key in ("input_size", "output_size")):
            raise ConfigError(f"'{key}' cannot be tuned for {model}; tunable: "
                              f"{', '.join(sorted(TUNABLE_RUN_FIELDS | (fields - {'input_size', 'output_size'})))}")
        if not isinstance(value, Param):
            raise ConfigError(f"search space entry '{key}' must be a Param (log_uniform, uniform, integer, choice)")
        space[key] = value
    if "d_model" in space and "nhead" in space and space["d_model"].kind == space["nhead"].kind == "choice":
        bad = [(d, h) for d in space["d_model"].choices for h in space["nhead"].choices if int(d) % int(h)]
        if bad:
            raise ConfigError(f"every d_model choice must be divisible by every nhead choice; "
                              f"{bad[0][0]} is not divisible by {bad[0][1]}")
    return space


def encode_value(value: Any) -> Any:
    """Optuna stores only None/bool/int/float/str choices: a tuple becomes '64,32'."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return value


def decode_param(space: Mapping[str, Param], name: str, value: Any) -> Any:
    """A value Optuna stored for dimension ``name``, as the search space holds it (a tuple stays a tuple)."""
    param = space.get(name)
    if param is not None and param.kind == "choice":
        for candidate in param.choices:
            if encode_value(candidate) == value:
                return candidate
    return _decode_value(value)


def _decode_value(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d+(,\d+)+|\d+,?", value) and "," in value:
        return tuple(int(v) for v in value.split(",") if v)
    return value
