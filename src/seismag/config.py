"""Run configuration: one frozen dataclass, presets, TOML files, validation.

Why this module is long: each setting's default, flag, type, range and choices are
owned here, beside each other, and checked in one place (:func:`check_setting`) for
values from a TOML file, from flags and from Python alike.

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
import math
import numbers
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from seismag import defaults
from seismag.dataset.loading import NAN_POLICIES  # what the loader accepts for missing samples
from seismag.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib



def registered_models(default_run: bool = False) -> tuple[str, ...]:
    """Models in the registry (the SPEC's five networks and the baselines);
    ``default_run``: those trained when no models are named."""
    from seismag.models import list_models

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
# How GRU/LSTM/RNN networks run, never what they compute (same parameters, same dropout
# masks, same arithmetic up to floating-point reordering): 'plain' as first written
# (PyTorch's nn.LSTM/GRU/RNN kernel, BatchNorm and dropout of a transposed view),
# 'library' that kernel with BatchNorm of the (batch * time, channels) rows, 'unrolled'
# the step loop of models.recurrent.unrolled_layer with those rows, 'auto' the one
# measured faster (models.recurrent.uses_unrolled).
RECURRENT_IMPLS = ("auto", "plain", "library", "unrolled")


@dataclass(frozen=True)
class Flag:
    """How a setting appears on the ``seismag train`` command line.

    cli.py builds the argparse argument and its help from this, so a flag's name, help,
    group and choices are written once, beside the setting. The value is checked by
    :class:`RunConfig`, not by argparse: a bad value gets the same message from a flag
    as from a TOML file.

    group : a key of :data:`FLAG_GROUPS`; None: the command's main options.
    help : what the setting does; the help adds the choices and the default.
    name : the option when it is not ``--field-name`` (``--lr`` for ``learning_rate``).
    choices : the config's choice tuple, or a function returning it (the model registry,
        which imports torch, is asked only when the help is printed).
    notes : a few words shown after a choice.
    default_text : shown as the default instead of the value (``0`` -> "PyTorch's choice").
    dest, type, default : the setting's name, type and default; for RunConfig fields
        filled in from the field (:data:`TRAIN_FLAGS`). ``default`` may be a function
        (the registry's default models); None: no default is shown.
    """

    group: str | None
    help: str = ""
    name: str | None = None
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()
    notes: Mapping[str, str] = field(default_factory=dict)
    metavar: str | None = None
    default_text: str | None = None
    dest: str = ""
    type: Any = None
    default: Any = None

    @property
    def option(self) -> str:
        return self.name or "--" + self.dest.replace("_", "-")


def _flag(group: str | None, help: str = "", **details: Any) -> dict[str, Flag]:
    return {"flag": Flag(group, help, **details)}


# Set in a TOML file or from Python only; a not-a-flag field with choices adds "choices".
NOT_A_FLAG: dict[str, None] = {"flag": None}

# Option groups of `seismag train --help`, in order: key -> title.
FLAG_GROUPS = {
    "training": "training (defaults: the preset; shown: the paper preset's)",
    "speed": "speed (never changes what is computed beyond floating-point reordering)",
    "models": "models (apply to every model that has the setting)",
    "evaluation": "evaluation protocol",
    "data": "data",
}


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines a training run's numbers.

    Defaults are the SPEC's paper protocol (Modules 5 and 6). Each field's metadata says
    whether it is a ``seismag train`` flag and how (:class:`Flag`), or that it is not.
    """

    models: tuple[str, ...] = field(default_factory=default_models, metadata=_flag(
        None, "comma list of", choices=registered_models))
    windows: tuple[int, ...] = field(default=defaults.WINDOWS, metadata=_flag(None, "comma list of days"))
    steps_per_day: int = field(default=defaults.STEPS_PER_DAY, metadata=_flag(
        "data", "samples per day", default_text=f"{defaults.STEPS_PER_DAY}, one a minute"))
    # --- optimisation (SPEC "Common Training Parameters")
    epochs: int = field(default=100, metadata=_flag("training", "training epochs per fold"))
    num_folds: int = field(default=5, metadata=_flag("training", "cross-validation folds", name="--folds"))
    batch_size: int = field(default=32, metadata=_flag("training", "samples per batch"))
    learning_rate: float = field(default=1e-3, metadata=_flag("training", "AdamW learning rate", name="--lr"))
    weight_decay: float = field(default=0.01, metadata=_flag("training", "AdamW weight decay"))
    max_grad_norm: float = field(default=1.0, metadata=_flag("training", "gradients clipped to this norm"))
    class_weight_method: str = field(default="sqrt", metadata=_flag(
        "training", "class weights, computed on each fold's training rows", name="--class-weights",
        choices=CLASS_WEIGHT_METHODS))
    # cross_entropy (the SPEC's) or focal (SPEC Module 2's advice for severe imbalance),
    # both weighted by the class weights of the rows trained on.
    loss: str = field(default="cross_entropy", metadata=_flag(
        "training", "loss, weighted by the class weights", choices=LOSSES,
        notes={"focal": "SPEC Module 2's advice for severe imbalance"}))
    focal_gamma: float = field(default=2.0, metadata=_flag("training", "focusing parameter of --loss focal"))
    balanced_sampling: bool = field(default=False, metadata=_flag(
        "training", "draw training batches with class-balanced probabilities"))
    scheduler: str = field(default="auto", metadata=_flag(
        "training", "learning-rate schedule", choices=SCHEDULERS,
        notes={"auto": "cosine for transformer, plateau otherwise"}))
    plateau_patience: int = field(default=10, metadata=NOT_A_FLAG)
    plateau_factor: float = field(default=0.1, metadata=NOT_A_FLAG)
    early_stopping: bool = field(default=False, metadata=_flag(
        "training", "stop a fold when its selection loss has not improved for --patience epochs"))
    early_stopping_patience: int = field(default=15, metadata=_flag(
        "training", "early-stopping patience in epochs", name="--patience"))
    # --- evaluation protocol
    split: str = field(default="stratified", metadata=_flag(
        "evaluation", "how the folds are cut", choices=SPLITS,
        notes={"group": "needs meta.csv", "time": "needs meta.csv"}))
    group_by: str = field(default="event_id", metadata=_flag("evaluation", "meta.csv column for --split group"))
    time_column: str = field(default="window_start", metadata=NOT_A_FLAG)
    embargo_days: float = field(default=0.0, metadata=_flag(
        "evaluation", "gap between training and validation for --split time"))
    scaling: str = field(default="standard", metadata=_flag(
        "evaluation", "scaling, fitted on each fold's training rows", choices=SCALINGS,
        notes={"standard": "per feature", "sample": "per window"}))
    # inner: each fold's epoch is chosen on a split carved from its training rows;
    # outer: on the validation rows it is scored on (the SPEC's protocol, optimistic).
    selection: str = field(default="inner", metadata=_flag(
        "evaluation", "where each fold's epoch is chosen", choices=SELECTIONS,
        notes={"inner": "on a split of the training rows",
               "outer": "the SPEC: on the scored validation rows, optimistic"}))
    inner_fraction: float = field(default=0.2, metadata=_flag(
        "evaluation", "share of training rows for --selection inner"))
    permutation_control: int = field(default=0, metadata=_flag(
        "evaluation", "repeat the CV N times with permuted training labels and report p-values; N >= 19",
        metavar="N", default_text="0, off"))
    # --- data
    nan_policy: str = field(default="interpolate", metadata=_flag(
        "data", "missing samples", choices=NAN_POLICIES))
    max_missing: float = field(default=defaults.MAX_MISSING, metadata=_flag("data", "drop rows with more than this share missing"))
    train_until: str = field(default="", metadata=_flag(
        "data", "keep only windows whose label horizon ends before this date (YYYY-MM-DD; needs meta.csv "
        "label_horizon_end): scoring after it is out of sample", metavar="DATE", default_text="none, every window"))
    # --- execution
    seed: int = field(default=42, metadata=_flag(None, "one seed makes a run repeatable"))
    device: str = field(default="auto", metadata=_flag(None, "auto (CUDA when present), cpu, cuda, cuda:N"))
    precision: str = field(default="fp32", metadata=_flag(
        "training", "arithmetic", choices=PRECISIONS,
        notes={"bf16": "autocast", "auto": "bf16 where it is fast"}))
    # how AdamW runs (fused where available), never what it computes
    optimizer_impl: str = field(default="auto", metadata={**NOT_A_FLAG, "choices": OPTIMIZER_IMPLS})
    # how GRU/LSTM/RNN networks run (plain, library kernel or step loop), never what they compute
    recurrent_impl: str = field(default="auto", metadata={**NOT_A_FLAG, "choices": RECURRENT_IMPLS})
    num_threads: int = field(default=0, metadata=_flag(
        "speed", "torch threads per process", name="--threads",
        default_text="PyTorch's choice; with --fold-workers: CPUs / workers"))
    fold_workers: int = field(default=1, metadata=_flag(
        "speed", "train independent folds in this many CPU processes", default_text="1, in this process"))
    # CUDA only: fp32 matmuls in TF32; false for strict fp32 on the GPU
    tf32: bool = field(default=True, metadata=NOT_A_FLAG)
    # fixed-transform models: features computed once per fold, not every batch
    cache_features: bool = field(default=True, metadata=NOT_A_FLAG)
    # glibc: keep large freed blocks (avoids page faults every step)
    keep_freed_memory: bool = field(default=True, metadata=NOT_A_FLAG)
    # --- model overrides: {"*": {...}, "gru": {...}}; "*" applies where the key exists
    model_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, metadata=NOT_A_FLAG)

    def __post_init__(self) -> None:
        # Every field's type, range and choices (check_setting); lists become tuples and
        # NumPy numbers Python ones, so to_dict() is plain JSON.
        for spec in dataclasses.fields(self):
            object.__setattr__(self, spec.name, check_setting(spec.name, getattr(self, spec.name)))
        if self.train_until:
            object.__setattr__(self, "train_until", iso_date(self.train_until, "train_until"))

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
        from seismag.models import get_model_entry  # the model's own default; imports torch, so only here
        return get_model_entry(model).scheduler

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["models"] = list(self.models)
        data["windows"] = list(self.windows)
        data["model_overrides"] = {k: dict(v) for k, v in self.model_overrides.items()}
        return data


@dataclass(frozen=True)
class Range:
    """The values a numeric setting may take: from ``low`` to ``high`` (None: no bound),
    each bound included unless ``open_low`` / ``open_high``; ``note`` says why."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    note: str = ""

    def __contains__(self, value: float) -> bool:
        above = self.low is None or (value > self.low if self.open_low else value >= self.low)
        below = self.high is None or (value < self.high if self.open_high else value <= self.high)
        return above and below

    def __str__(self) -> str:
        if self.high is None:
            text = "positive" if self.low == 0 and self.open_low else f"at least {self.low}"
        else:
            text = (f"in {'(' if self.open_low else '['}{self.low}, {self.high}"
                    f"{')' if self.open_high else ']'}")
        return f"{text} ({self.note})" if self.note else text


# The range of every numeric RunConfig field (of each item for windows); a test checks
# that none is missing.
RANGES: dict[str, Range] = {
    "windows": Range(1),
    "steps_per_day": Range(1),
    "epochs": Range(1),
    "num_folds": Range(2),
    "batch_size": Range(2, note="BatchNorm needs two samples"),
    "learning_rate": Range(0, open_low=True),
    "weight_decay": Range(0),
    "max_grad_norm": Range(0, open_low=True),
    "focal_gamma": Range(0),
    "plateau_patience": Range(1),
    "plateau_factor": Range(0, 1, open_low=True, open_high=True),
    "early_stopping_patience": Range(1),
    "embargo_days": Range(0),
    "inner_fraction": Range(0.05, 0.5),
    "permutation_control": Range(0, note="0: off"),
    "max_missing": Range(0, 1),
    "seed": Range(0, 2**32 - 1, note="NumPy's seed range"),
    "num_threads": Range(0, note="0: PyTorch's choice"),
    "fold_workers": Range(1),
}

_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
# How a list setting is described when a value is not a list of the right items.
_LIST_WORDS = {"models": 'model names, e.g. models = ["mlp"]', "windows": "day counts, e.g. windows = [7, 14]"}

FIELD_TYPES: dict[str, Any] = get_type_hints(RunConfig)
_FIELDS = {spec.name: spec for spec in dataclasses.fields(RunConfig)}


def iso_date(text: str, name: str) -> str:
    """``text`` as a ``YYYY-MM-DD`` date (a one-line ConfigError naming ``name`` otherwise)."""
    import datetime as _dt

    try:
        return _dt.date.fromisoformat(str(text).strip()).isoformat()
    except ValueError:
        raise ConfigError(f"{name} must be a date YYYY-MM-DD, got {text!r}") from None


def check_setting(name: str, value: Any) -> Any:
    """``value`` checked against RunConfig field ``name``'s type, range and choices;
    returned as stored (lists as tuples, NumPy numbers as Python ones, ints in a float
    field as floats). Raises a one-line ConfigError naming ``name``.

    bool fields take only True/False (not "no", not 0/1); int fields integers (NumPy's
    too, not bools, not 2.7); float fields finite numbers (not bools, not strings).
    """
    kind = FIELD_TYPES[name]
    if get_origin(kind) is tuple:
        item_kind = get_args(kind)[0]
        words = _LIST_WORDS.get(name, f"{_TYPE_WORDS[item_kind].split(' ', 1)[-1]}s")
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name} must be a list of {words}, got {value!r}")
        try:
            value = tuple(_scalar(name, item, item_kind) for item in value)
        except ConfigError:
            raise ConfigError(f"{name} must be a list of {words}, got {list(value)!r}") from None
        if not value:
            raise ConfigError(f"{name} must not be empty")
        if name in RANGES and any(item not in RANGES[name] for item in value):
            raise ConfigError(f"{name}: every item must be {RANGES[name]}, got {list(value)}")
    elif get_origin(kind) is Mapping:  # model_overrides
        _check_model_overrides(name, value)
    else:
        value = _scalar(name, value, kind)
        if name in RANGES and value not in RANGES[name]:
            raise ConfigError(f"{name} must be {RANGES[name]}, got {value}")
    choices = _choices(name)
    if choices:
        _check_choice(name, value, choices, many=isinstance(value, tuple))
    return value


def _scalar(name: str, value: Any, kind: type) -> Any:
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ConfigError(f"{name} must be {_TYPE_WORDS[kind]}, got {value!r}")
    if kind is float:
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value}")
    return int(value) if kind is int else value


def _check_model_overrides(name: str, value: Any) -> None:
    if not isinstance(value, Mapping) or not all(
            isinstance(key, str) and isinstance(params, Mapping) for key, params in value.items()):
        raise ConfigError(f"{name} must map model names ('*': every model) to tables of model settings, "
                          f"e.g. [model.gru] hidden_sizes = [64, 32]; got {value!r}")
    all_models = registered_models()
    for key in value:
        if key != "*" and key not in all_models:
            raise ConfigError(f"model overrides for unknown model '{key}'; models: {', '.join(all_models)}")


def _choices(name: str) -> tuple[str, ...]:
    """A field's choices: its flag's, or the "choices" of a field that is not a flag."""
    spec = _FIELDS[name]
    flag = spec.metadata["flag"]
    choices = flag.choices if flag is not None else spec.metadata.get("choices", ())
    return choices() if callable(choices) else choices


def _train_flags() -> dict[str, Flag]:
    hints = FIELD_TYPES
    flags = {}
    for spec in dataclasses.fields(RunConfig):
        if "flag" not in spec.metadata:
            raise TypeError(f"RunConfig.{spec.name} must say whether it is a flag (_flag(...) or NOT_A_FLAG)")
        flag = spec.metadata["flag"]
        if flag is not None:
            default = spec.default_factory if spec.default is dataclasses.MISSING else spec.default
            flags[spec.name] = dataclasses.replace(flag, dest=spec.name, type=hints[spec.name], default=default)
    return flags


# The RunConfig fields that are `seismag train` flags, in field order: field name -> Flag.
TRAIN_FLAGS: dict[str, Flag] = _train_flags()

# Model options with a flag of their own: option name -> Flag. A value given applies to
# every model that has the option (model_overrides["*"]).
MODEL_FLAGS: dict[str, Flag] = {
    "hidden_sizes": Flag("models", "comma list of layer widths, e.g. 512,256", dest="hidden_sizes",
                         type=tuple[int, ...]),
    "dropout_prob": Flag("models", "dropout probability", name="--dropout", dest="dropout_prob", type=float),
}


def small_models(hidden_sizes: Sequence[int], d_model: int, nhead: int) -> dict[str, dict[str, Any]]:
    """Small networks (new dict per call): ``hidden_sizes``, 1-layer Transformer, conv nets ``d_model / 4`` wide."""
    return {"*": {"hidden_sizes": list(hidden_sizes)}, "resnet": {"num_filters": d_model // 4},
            "transformer": {"d_model": d_model, "nhead": nhead, "dim_feedforward": 2 * d_model, "num_encoder_layers": 1},
            "inception": {"num_filters": d_model // 4, "bottleneck_size": d_model // 4, "depth": 3}}


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

#: The table of a ``seismag tune`` config (best_config.toml) that records what the search
#: saw: ``train_until``, the cutoff of its windows ("" for every window). Written by
#: seismag.tune.summary, read here, judged by :func:`check_tuned_cutoff`.
TUNED_TABLE = "tuned"


def check_tuned_cutoff(path: str | os.PathLike, tuned_until: str, train_until: str) -> None:
    """Refuse to train at cutoff ``train_until`` with a configuration tuned past it.

    Hyperparameters chosen on windows after the cutoff (a later ``tuned_until``, or
    none at all) carry what happened after it into the run, whose later scores would
    then not be out of sample. A run without a cutoff, or one at or after the tuned
    cutoff, is fine.
    """
    if not train_until or (tuned_until and tuned_until <= train_until):
        return
    seen = f"windows up to {tuned_until}" if tuned_until else "every window (no train_until)"
    raise ConfigError(f"{path}: tuned on {seen}, past this run's train_until {train_until}: its hyperparameters "
                      f"saw data after the cutoff; tune again with --train-until {train_until} or earlier")


def make_config(preset: str = "paper", config_file: str | os.PathLike | None = None,
                **overrides: Any) -> RunConfig:
    """Resolve a configuration: preset, then the TOML file, then ``overrides``.

    ``overrides`` with value None are ignored (unset command-line flags).
    ``model_overrides`` given here are merged per model into what the preset and
    file set.
    """
    file_values: dict[str, Any] = {}
    tuned = None
    if config_file is not None:
        file_values = read_config_file(config_file)
        preset = file_values.pop("preset", None) or preset
        tuned = file_values.pop(TUNED_TABLE, None)
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset '{preset}'; presets: {', '.join(PRESETS)}")
    values: dict[str, Any] = {}
    model_overrides: dict[str, dict[str, Any]] = {}
    for layer in (PRESETS[preset], file_values, {k: v for k, v in overrides.items() if v is not None}):
        for key, value in layer.items():
            if key == "model_overrides":
                check_setting(key, value)  # a table of tables before it is merged
                for model, params in value.items():
                    model_overrides.setdefault(model, {}).update(params)
            elif key not in FIELD_NAMES:
                raise ConfigError(f"unknown configuration key '{key}'; valid keys: {', '.join(sorted(FIELD_NAMES))}")
            else:
                values[key] = value
    values["model_overrides"] = model_overrides
    config = RunConfig(**values)
    if tuned is not None:
        check_tuned_cutoff(config_file, tuned["train_until"], config.train_until)
    return config


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML run configuration; the ``[model]`` table becomes ``model_overrides``.

    Every value is checked as :class:`RunConfig` checks it (:func:`check_setting`); the
    message of a bad one starts with the file's path. The values are returned as read,
    except a ``[tuned]`` table (:data:`TUNED_TABLE`), returned with its date checked.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    values = dict(raw)
    if "model" in values and "model_overrides" in values:
        raise ConfigError(f"{path}: model_overrides and [model] both given; use [model] tables only")
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
        if key not in FIELD_NAMES | {"preset", TUNED_TABLE}:
            raise ConfigError(f"{path}: unknown key '{key}'; valid keys: "
                              f"{', '.join(sorted(FIELD_NAMES | {'preset', 'model', TUNED_TABLE}))}")
    for key, value in values.items():
        try:
            if key == TUNED_TABLE:
                values[key] = _tuned_table(value)
            elif key == "preset":
                if not isinstance(value, str):
                    raise ConfigError(f"preset must be a string, one of {', '.join(PRESETS)}; got {value!r}")
            else:
                check_setting(key, value)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    return values


def _tuned_table(value: Any) -> dict[str, str]:
    """A ``[tuned]`` table checked: exactly ``train_until``, a date or ""."""
    if not isinstance(value, dict) or set(value) != {"train_until"}:
        raise ConfigError(f"[{TUNED_TABLE}] must be a table holding train_until only (a date, or \"\" for none)")
    until = check_setting("train_until", value["train_until"])
    return {"train_until": iso_date(until, f"{TUNED_TABLE}.train_until") if until else ""}


def write_config_toml(path: str | os.PathLike, values: Mapping[str, Any]) -> Path:
    """Write a TOML file that :func:`read_config_file` accepts (flat keys, a ``[tuned]``
    table, [model] tables)."""
    from seismag.io import write_text

    lines = []
    model_overrides = values.get("model_overrides", {})
    for key, value in values.items():
        if key not in ("model_overrides", TUNED_TABLE):
            lines.append(f"{key} = {_toml_value(value)}")
    if TUNED_TABLE in values:
        lines += ["", f"[{TUNED_TABLE}]"] + [f"{k} = {_toml_value(v)}" for k, v in values[TUNED_TABLE].items()]
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
            from seismag.models.registry import unavailable_model_hint  # a model whose optional package is missing
            hint = unavailable_model_hint(item) if name == "models" else None
            raise ConfigError(hint or f"{name}: unknown value '{item}'; choose from {', '.join(choices)}")
