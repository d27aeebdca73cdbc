"""Run configuration: one frozen dataclass, presets, TOML files, validation.

Precedence (later wins): preset -> ``--config`` TOML file -> command-line flags.
Unknown keys are an error, never silently ignored. The resolved configuration is
written into every results folder (``run_config.json``) and every checkpoint.

TOML layout::

    preset = "quick"            # optional: the base the rest overrides
    models = ["gru", "mlp"]
    windows = [7, 14]
    epochs = 20                 # any RunConfig field
    [model]                     # model overrides for every model that has the key
    dropout_prob = 0.2
    [model.gru]                 # overrides for one model
    hidden_sizes = [128, 64]
"""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib



def registered_models(default_run: bool = False) -> tuple[str, ...]:
    """Models in the registry (the SPEC's five networks and the baselines);
    ``default_run``: those trained when no models are named."""
    from .models import list_models

    return tuple(list_models(default_run=default_run))


def default_models() -> tuple[str, ...]:
    return registered_models(default_run=True)

CLASS_WEIGHT_METHODS = ("sqrt", "inverse", "balanced", "effective", "none")
LOSSES = ("cross_entropy", "focal")
SCHEDULERS = ("auto", "plateau", "cosine", "none")
SPLITS = ("stratified", "group", "time")
SCALINGS = ("standard", "sample", "none")
SELECTIONS = ("inner", "outer")
PRECISIONS = ("fp32", "bf16", "auto")
OPTIMIZER_IMPLS = ("auto", "fused", "foreach", "loop")
NAN_POLICIES = ("interpolate", "refuse")


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a training run's numbers.

    Defaults are the SPEC's paper protocol (Modules 5 and 6).
    """

    models: tuple[str, ...] = field(default_factory=default_models)
    windows: tuple[int, ...] = (7, 14, 30)
    steps_per_day: int = 1440
    # --- optimisation (SPEC "Common Training Parameters")
    epochs: int = 100
    num_folds: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    class_weight_method: str = "sqrt"
    # cross_entropy (the SPEC's) or focal (SPEC Module 2's advice for severe imbalance),
    # both weighted by the class weights of the rows trained on.
    loss: str = "cross_entropy"
    focal_gamma: float = 2.0
    balanced_sampling: bool = False
    scheduler: str = "auto"  # auto: cosine annealing for the Transformer, plateau otherwise
    plateau_patience: int = 10
    plateau_factor: float = 0.1
    early_stopping: bool = False
    early_stopping_patience: int = 15
    # --- evaluation protocol
    split: str = "stratified"
    group_by: str = "event_id"
    time_column: str = "window_start"
    embargo_days: float = 0.0
    scaling: str = "standard"
    # inner: each fold's epoch is chosen on a split carved from its training rows;
    # outer: on the validation rows it is scored on (the SPEC's protocol, optimistic).
    selection: str = "inner"
    inner_fraction: float = 0.2
    permutation_control: int = 0  # N > 0: repeat the CV N times with permuted training labels
    # --- data
    nan_policy: str = "interpolate"
    max_missing: float = 0.1
    # --- execution
    seed: int = 42
    device: str = "auto"
    precision: str = "fp32"
    optimizer_impl: str = "auto"  # how AdamW runs (fused where available), never what it computes
    num_threads: int = 0  # torch intra-op threads per process; 0 leaves PyTorch's choice
    fold_workers: int = 1  # >1: train independent folds in that many CPU processes
    tf32: bool = True  # CUDA only: fp32 matmuls in TF32; false for strict fp32 on the GPU
    cache_features: bool = True  # fixed-transform models: features computed once per fold, not every batch
    keep_freed_memory: bool = True  # glibc: keep large freed blocks (avoids page faults every step)
    # --- model overrides: {"*": {...}, "gru": {...}}; "*" applies where the key exists
    model_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        all_models = registered_models()
        _check_choice("models", self.models, all_models, many=True)
        _check_choice("class_weight_method", self.class_weight_method, CLASS_WEIGHT_METHODS)
        _check_choice("loss", self.loss, LOSSES)
        if not float(self.focal_gamma) >= 0:
            raise ConfigError(f"focal_gamma must be >= 0, got {self.focal_gamma}")
        _check_choice("scheduler", self.scheduler, SCHEDULERS)
        _check_choice("split", self.split, SPLITS)
        _check_choice("scaling", self.scaling, SCALINGS)
        _check_choice("selection", self.selection, SELECTIONS)
        _check_choice("precision", self.precision, PRECISIONS)
        _check_choice("optimizer_impl", self.optimizer_impl, OPTIMIZER_IMPLS)
        if int(self.num_threads) < 0:
            raise ConfigError("num_threads must be >= 0 (0: PyTorch's choice)")
        if int(self.fold_workers) < 1:
            raise ConfigError(f"fold_workers must be at least 1, got {self.fold_workers}")
        _check_choice("nan_policy", self.nan_policy, NAN_POLICIES)
        for name in ("epochs", "num_folds", "batch_size", "steps_per_day", "plateau_patience",
                     "early_stopping_patience"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.num_folds < 2:
            raise ConfigError(f"num_folds must be at least 2, got {self.num_folds}")
        if self.batch_size < 2:
            raise ConfigError("batch_size must be at least 2 (BatchNorm needs two samples)")
        if not self.windows or any(int(w) < 1 for w in self.windows):
            raise ConfigError(f"windows must be positive day counts, got {list(self.windows)}")
        if int(self.permutation_control) < 0:
            raise ConfigError("permutation_control must be >= 0")
        for name in ("learning_rate", "max_grad_norm"):
            if not float(getattr(self, name)) > 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if float(self.weight_decay) < 0 or not 0 < float(self.plateau_factor) < 1:
            raise ConfigError("weight_decay must be >= 0 and plateau_factor in (0, 1)")
        if not 0.05 <= float(self.inner_fraction) <= 0.5:
            raise ConfigError(f"inner_fraction must be in [0.05, 0.5], got {self.inner_fraction}")
        if not 0 <= float(self.max_missing) <= 1:
            raise ConfigError(f"max_missing must be in [0, 1], got {self.max_missing}")
        for key in self.model_overrides:
            if key != "*" and key not in all_models:
                raise ConfigError(f"model overrides for unknown model '{key}'; models: {', '.join(all_models)}")

    def overrides_for(self, model: str, fields: set[str] | None = None) -> dict[str, Any]:
        """The model overrides that apply to ``model``: '*' keys the model has
        (all when ``fields`` is None), then the model's own."""
        merged = {k: v for k, v in self.model_overrides.get("*", {}).items()
                  if fields is None or k in fields}
        merged.update(self.model_overrides.get(model, {}))
        return merged

    def scheduler_for(self, model: str) -> str:
        if self.scheduler != "auto":
            return self.scheduler
        return "cosine" if model == "transformer" else "plateau"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["models"] = list(self.models)
        data["windows"] = list(self.windows)
        data["model_overrides"] = {k: dict(v) for k, v in self.model_overrides.items()}
        return data


def small_models(hidden_sizes: Sequence[int], d_model: int, nhead: int) -> dict[str, dict[str, Any]]:
    """Model overrides for networks far smaller than the paper's: ``hidden_sizes`` for
    every model that has them and a one-layer Transformer ``d_model`` wide with ``nhead``
    heads and a feed-forward layer twice as wide. A new dict on every call."""
    return {"*": {"hidden_sizes": list(hidden_sizes)},
            "transformer": {"d_model": d_model, "nhead": nhead, "dim_feedforward": 2 * d_model,
                            "num_encoder_layers": 1}}


def quick_models() -> dict[str, dict[str, Any]]:
    """The 'quick' preset's networks: all five models on three windows in minutes on a CPU."""
    return small_models([64, 32], d_model=32, nhead=4)


def tiny_models() -> dict[str, dict[str, Any]]:
    """Toy networks for ``seismag demo --tiny`` and the tests (seconds at 48 samples a day)."""
    return small_models([16, 8], d_model=16, nhead=2)


# 'paper' is the SPEC's protocol as documented. 'quick' keeps every stage but is
# small enough that all five models on three windows train in minutes on a CPU:
# fewer folds and epochs, smaller networks, early stopping on.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "quick": {
        "epochs": 12,
        "num_folds": 3,
        "early_stopping": True,
        "early_stopping_patience": 4,
        "plateau_patience": 3,
        "model_overrides": quick_models(),
    },
}

FIELD_NAMES = {f.name for f in dataclasses.fields(RunConfig)}


def make_config(preset: str = "paper", config_file: str | os.PathLike | None = None,
                **overrides: Any) -> RunConfig:
    """Resolve a configuration: preset, then the TOML file, then ``overrides``.

    ``overrides`` with value None are ignored (unset command-line flags).
    ``model_overrides`` given here are merged per model into what the preset and
    file set.
    """
    file_values: dict[str, Any] = {}
    if config_file is not None:
        file_values = read_config_file(config_file)
        preset = file_values.pop("preset", None) or preset
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset '{preset}'; presets: {', '.join(PRESETS)}")
    values: dict[str, Any] = {}
    model_overrides: dict[str, dict[str, Any]] = {}
    for layer in (PRESETS[preset], file_values, {k: v for k, v in overrides.items() if v is not None}):
        for key, value in layer.items():
            if key == "model_overrides":
                for model, params in value.items():
                    model_overrides.setdefault(model, {}).update(params)
            elif key not in FIELD_NAMES:
                raise ConfigError(f"unknown configuration key '{key}'; valid keys: {', '.join(sorted(FIELD_NAMES))}")
            else:
                values[key] = value
    values["model_overrides"] = model_overrides
    for key in ("models", "windows"):
        if key in values:
            values[key] = tuple(values[key])
    return RunConfig(**values)


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML run configuration; the ``[model]`` table becomes ``model_overrides``."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    values = dict(raw)
    model_table = values.pop("model", {})
    if not isinstance(model_table, dict):
        raise ConfigError(f"{path}: [model] must be a table")
    overrides: dict[str, dict[str, Any]] = {"*": {}}
    for key, value in model_table.items():
        if isinstance(value, dict):
            overrides[key] = dict(value)
        else:
            overrides["*"][key] = value
    if overrides["*"] or len(overrides) > 1:
        values["model_overrides"] = overrides
    for key in values:
        if key not in FIELD_NAMES | {"preset"}:
            raise ConfigError(f"{path}: unknown key '{key}'; valid keys: {', '.join(sorted(FIELD_NAMES | {'preset', 'model'}))}")
    return values


def write_config_toml(path: str | os.PathLike, values: Mapping[str, Any]) -> Path:
    """Write a TOML file that :func:`read_config_file` accepts (flat keys + [model] tables)."""
    from .io import write_text

    lines = []
    model_overrides = values.get("model_overrides", {})
    for key, value in values.items():
        if key != "model_overrides":
            lines.append(f"{key} = {_toml_value(value)}")
    common = model_overrides.get("*", {})
    if common:
        lines += ["", "[model]"] + [f"{k} = {_toml_value(v)}" for k, v in common.items()]
    for model, params in model_overrides.items():
        if model != "*" and params:
            lines += ["", f"[model.{model}]"] + [f"{k} = {_toml_value(v)}" for k, v in params.items()]
    return write_text(path, "\n".join(lines) + "\n")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {value!r} to TOML")


def _check_choice(name: str, value: Any, choices: tuple, many: bool = False) -> None:
    values = value if many else (value,)
    if many and not values:
        raise ConfigError(f"{name} must not be empty")
    for item in values:
        if item not in choices:
            raise ConfigError(f"{name}: unknown value '{item}'; choose from {', '.join(choices)}")
