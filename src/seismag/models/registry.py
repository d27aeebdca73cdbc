"""One registry of models: name -> config class, builder and the model's policy.

The CLI's model choices, the paper presets and the tests all come from here,
so adding a model is one module plus one :func:`register_model` decorator.
Registration order is the order of :func:`list_models` (gru, lstm, rnn, mlp,
transformer, then the baselines).

An entry declares everything the rest of the package needs to know about a
model (timm's ``pretrained_cfg``, aeon's tags): its input layout, its default
learning-rate schedule, how a run's scaling applies to its rows, whether it
fits a fixed transform on the training rows, whether it runs as
``RunConfig.recurrent_impl`` says. Training, inference and the run config ask
the entry (``entry.scheduler``, ``entry.scaling_for(...)``,
``entry.fitted_transform``, ``entry.per_window_table``, ``entry.recurrent``),
never a model's name or class.

Of :mod:`seismag.models` this module imports only :mod:`seismag.models.config`:
it knows a model class by its ``from_config`` alone, so the networks and
:mod:`seismag.models.base` can import the registry without a cycle.
"""

from __future__ import annotations

import dataclasses
import itertools
import numbers
from typing import Any, Callable, Mapping

import torch
from torch import nn

from seismag import defaults
from seismag.errors import ConfigError
from seismag.models.config import ModelConfig

INPUT_LAYOUTS = ("sequence", "flat", "table")
#: A model's default learning-rate schedule (``RunConfig.scheduler = "auto"``).
SCHEDULERS = ("plateau", "cosine")
#: ``'series'``: a row's values are one series, every ``RunConfig.scaling`` applies as asked;
#: ``'columns'``: a row's values are separate quantities (Kp, Dst, ...), which ``'sample'``
#: scaling (one row standardised as one series) would mix, so they are standardised per column.
SCALINGS = ("series", "columns")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """A registered model and its policy.

    Attributes
    ----------
    name : str
        Registry name, lower case (``'gru'``).
    display_name : str
        Name used in artifact file names (``'GRU'`` -> ``GRUModel_7day_fold_1.pth``).
    input_layout : {'sequence', 'flat', 'table'}
        ``'sequence'``: input ``(batch, days, steps_per_day)``;
        ``'flat'``: input ``(batch, days * steps_per_day)``;
        ``'table'``: input ``(batch, columns)``, one row of per-window statistics
        (``meta.csv``'s activity columns), not the magnetometer series; the
        ``steps_per_day`` argument of the functions below then counts the columns.
    config_cls : type[ModelConfig]
        The frozen config dataclass; its field defaults are the paper preset.
    builder : callable
        ``builder(config) -> nn.Module``.
    in_default_run : bool
        Whether a run trains it when no models are named (expensive ones are opt-in).
    scheduler : {'plateau', 'cosine'}
        The learning-rate schedule a run uses for it when ``RunConfig.scheduler``
        is ``'auto'``: ReduceLROnPlateau on the selection loss, or cosine annealing
        over the epochs.
    scaling : {'series', 'columns'}
        How a run's input scaling applies to its rows; see :meth:`scaling_for`.
    fitted_transform : bool
        The model fits a fixed transform on the training rows, without labels,
        before the first step (``fit_unsupervised(x)``); once fitted, its
        ``features(x)`` can be computed once per fold and ``feature_head()``
        trained on them.
    fitted_head : bool
        The head is fitted at once on the fit rows' features (``fit_head(features, labels,
        sample_weight, seed)``), not trained by gradient steps: a boosted head. Its stages
        (``staged_scores(features)``, log-odds after each) play the epochs, the selection
        rows choose how many to keep (``keep_stages(k)``); its config's ``max_iter`` is the
        number of stages fitted (a head without stages, a ridge say, has one). Implies ``fitted_transform``.
    importances : bool
        Each fold writes a table of feature importances beside its other files
        (``feature_importance(features, labels, seed)`` gives its rows). Implies ``fitted_head``.
    recurrent : bool
        The network runs as ``RunConfig.recurrent_impl`` says
        (``set_recurrent_impl(impl)``).
    reference : bool
        A reference a run of the default models trains beside them when every
        window carries its input (the activity reference: what geomagnetic
        activity alone predicts); see :func:`reference_models`.
    """

    name: str
    display_name: str
    input_layout: str
    config_cls: type[ModelConfig]
    builder: Callable[[ModelConfig], nn.Module]
    in_default_run: bool = True
    scheduler: str = "plateau"
    scaling: str = "series"
    fitted_transform: bool = False
    recurrent: bool = False
    reference: bool = False
    fitted_head: bool = False
    importances: bool = False

    @property
    def per_window_table(self) -> bool:
        """Whether the model's input is a window's row of activity statistics
        (``meta.csv``'s columns) rather than its series: the ``'table'`` layout."""
        return self.input_layout == "table"

    @property
    def model_class(self) -> type | None:
        """The registered class (None when a plain function is the builder)."""
        return getattr(self.builder, "__self__", None)

    def scaling_for(self, scaling: str) -> str:
        """The ``RunConfig.scaling`` this model's rows get when a run asks for ``scaling``.

        ``'sample'`` standardises each row as one series; a ``'columns'`` model's row is
        not one (its columns are different quantities), so it gets ``'standard'``
        (per column over the training rows) instead. Every other request is kept.
        """
        return "standard" if scaling == "sample" and self.scaling == "columns" else scaling

    def is_class_of(self, cls: Any) -> bool:
        """Whether ``cls`` builds this model: the registered class, or a subclass of it
        (such as a SPEC classifier) whose config is this model's or is not model-specific."""
        base = self.model_class
        if base is None or not (isinstance(cls, type) and issubclass(cls, base)):
            return False
        return getattr(getattr(cls, "config_cls", None), "model_name", "") in ("", self.name)

    def input_size(self, window_days: int, steps_per_day: int = defaults.STEPS_PER_DAY) -> int:
        """The config's ``input_size`` for a window: features per step or per window."""
        window_days, steps_per_day = _check_window(window_days, steps_per_day)
        return steps_per_day if self.input_layout in ("sequence", "table") else window_days * steps_per_day

    def input_width(self, window_days: int, steps_per_day: int = defaults.STEPS_PER_DAY) -> int:
        """Columns of one flat input row."""
        window_days, steps_per_day = _check_window(window_days, steps_per_day)
        return steps_per_day if self.per_window_table else window_days * steps_per_day

    def input_shape(self, window_days: int, steps_per_day: int = defaults.STEPS_PER_DAY) -> tuple[int, ...]:
        """Shape of one input sample: ``(days, steps_per_day)`` or ``(days * steps_per_day,)``."""
        window_days, steps_per_day = _check_window(window_days, steps_per_day)
        if self.input_layout == "sequence":
            return (window_days, steps_per_day)
        return (self.input_width(window_days, steps_per_day),)


_REGISTRY: dict[str, ModelEntry] = {}
#: Models whose optional dependencies are missing: name -> the line that says what to install.
_UNAVAILABLE: dict[str, str] = {}


def declare_unavailable_model(name: str, install_hint: str) -> None:
    """Record that model ``name`` exists but cannot be built here (its optional package is
    missing): naming it then fails with ``install_hint`` instead of "unknown model". It is
    not registered, so :func:`list_models` and the registry-driven tests leave it out."""
    if name in _REGISTRY:
        raise ValueError(f"a model named {name!r} is already registered")
    _UNAVAILABLE[name] = install_hint


def register_model(name: str | None = None, *, display_name: str, input_layout: str, config_cls: type[ModelConfig],
                   in_default_run: bool = True, scheduler: str = "plateau", scaling: str = "series",
                   fitted_transform: bool = False, recurrent: bool = False, reference: bool = False,
                   fitted_head: bool = False, importances: bool = False):
    """Decorator that registers a model builder under its config's ``model_name``, with its policy.

    ``name``, when given, must be that ``model_name``: the config names its model, so
    a checkpoint's config alone can be traced back to the registry entry, and the
    name is written once, in the config. Decorate either a model class (its ``from_config`` classmethod becomes the
    builder) or a function ``builder(config) -> nn.Module``. The decorated
    object is returned unchanged, so one class may be registered under several
    names (one network for the GRU, LSTM and RNN configs). The keyword
    arguments are the :class:`ModelEntry` attributes.

    Examples
    --------
    >>> @register_model(display_name="MLP", input_layout="flat", config_cls=MLPConfig)  # doctest: +SKIP
    ... class MLPNetwork(ModelMixin, nn.Module): ...
    """
    if not (isinstance(config_cls, type) and issubclass(config_cls, ModelConfig)):
        raise TypeError(f"config_cls must be a ModelConfig subclass, got {config_cls!r}")
    if fitted_head and not fitted_transform:
        raise ValueError("a fitted head is fitted on a fitted transform's features: declare fitted_transform too")
    if importances and not fitted_head:
        raise ValueError("feature importances come from a fitted head: declare fitted_head too")
    if name is None:
        name = config_cls.model_name
    if name != name.lower() or not name:
        raise ValueError(f"model names are lower case and non-empty, got {name!r}")
    if input_layout not in INPUT_LAYOUTS:
        raise ValueError(f"input_layout must be one of {INPUT_LAYOUTS}, got {input_layout!r}")
    if scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {scheduler!r}")
    if scaling not in SCALINGS:
        raise ValueError(f"scaling must be one of {SCALINGS}, got {scaling!r}")
    if config_cls.model_name != name:
        raise ValueError(f"{config_cls.__name__}.model_name is {config_cls.model_name!r}, not {name!r}")
    if name in _REGISTRY:
        raise ValueError(f"a model named {name!r} is already registered")
    needs = {"fit_unsupervised", "features", "feature_head"} if fitted_transform else set()
    needs |= {"fit_head", "staged_scores", "keep_stages"} if fitted_head else set()
    needs |= {"feature_importance"} if importances else set()
    needs |= {"set_recurrent_impl"} if recurrent else set()

    def decorate(obj):
        missing = sorted(method for method in needs if isinstance(obj, type) and not hasattr(obj, method))
        if missing:
            raise TypeError(f"{obj.__name__} is declared to have {', '.join(missing)}, which it lacks")
        builder = obj.from_config if isinstance(obj, type) else obj
        _REGISTRY[name] = ModelEntry(name, display_name, input_layout, config_cls, builder, in_default_run,
                                     scheduler, scaling, fitted_transform, recurrent, reference, fitted_head,
                                     importances)
        return obj

    return decorate


def unavailable_model_hint(name: str) -> str | None:
    """For a declared model whose optional package is missing, the line that says what to
    install (``model 'quant' is not available here: ...``); else None."""
    key = name.strip().lower() if isinstance(name, str) else None
    return f"model {key!r} is not available here: {_UNAVAILABLE[key]}" if key in _UNAVAILABLE else None


def list_models(default_run: bool = False) -> list[str]:
    """Registered model names in registration order; ``default_run=True``: only
    those a run trains when no models are named (expensive ones are opt-in)."""
    return [name for name, entry in _REGISTRY.items() if entry.in_default_run or not default_run]


def reference_models() -> list[str]:
    """The models declared ``reference=True``, in registration order."""
    return [name for name, entry in _REGISTRY.items() if entry.reference]


def model_name_of_class(cls: type) -> str | None:
    """The registry name of the one model ``cls`` builds (``MLPNetwork`` or the SPEC's
    ``GRUClassifier`` -> 'mlp', 'gru'), else None (also for ``RecurrentNetwork``, which
    builds three)."""
    names = [name for name, entry in _REGISTRY.items() if entry.is_class_of(cls)]
    return names[0] if len(names) == 1 else None


def get_model_entry(name: str) -> ModelEntry:
    """The registry entry for ``name`` (case-insensitive).

    Raises
    ------
    ConfigError
        ``name`` is not registered; the message lists the valid names.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    try:
        return _REGISTRY[key]
    except (KeyError, TypeError):
        if unavailable_model_hint(key):
            raise ConfigError(unavailable_model_hint(key)) from None
        raise ConfigError(f"unknown model {name!r}; valid models: {', '.join(_REGISTRY)}") from None


def model_config(name: str, window_days: int, steps_per_day: int = defaults.STEPS_PER_DAY, *, channels: int = 1,
                 **overrides: Any) -> ModelConfig:
    """The resolved config: the paper preset for a window with ``overrides`` applied.

    Parameters
    ----------
    name : str
        Registry name.
    window_days : int
        Days per window (7, 14, 30 in the paper).
    steps_per_day : int, default 1440
        Width of one day of input: samples per day (1440 for 1-minute data) times
        ``channels``.
    channels : int, default 1
        Channels side by side in a day (``'day, channel, step'`` order). Models whose
        config has a ``channels`` field (the fixed-transform baselines, which compute
        their features channel by channel) get it; the networks see the wider day.
    **overrides
        Config options replacing the paper defaults (``hidden_sizes=[16, 8]``).
        ``input_size`` is derived from the window and may only be repeated
        with the same value.

    Raises
    ------
    ConfigError
        Unknown model, unknown option (the message names the key and the
        valid ones), a value out of range, or an ``input_size`` that
        contradicts the window.
    """
    entry = get_model_entry(name)
    input_size = entry.input_size(window_days, steps_per_day)
    if "input_size" in overrides and overrides["input_size"] != input_size:
        raise ConfigError(
            f"{entry.name}: input_size {overrides['input_size']!r} contradicts window_days={window_days} "
            f"and steps_per_day={steps_per_day} (which give {input_size}); change those instead"
        )
    values = {**overrides, "input_size": input_size}
    if "n_days" in entry.config_cls.field_names() and int(channels) > 1:
        values["n_days"] = int(window_days)
    if "channels" in entry.config_cls.field_names():
        if "channels" in overrides and overrides["channels"] != channels:
            raise ConfigError(f"{entry.name}: channels {overrides['channels']!r} contradicts the data ({channels})")
        values["channels"] = int(channels)
    elif int(channels) != 1 and not entry.per_window_table and steps_per_day % int(channels):
        raise ConfigError(f"{entry.name}: a day of {steps_per_day} values cannot hold {channels} channels")
    return entry.config_cls.from_dict(values)


def create_model(name: str, window_days: int, steps_per_day: int = defaults.STEPS_PER_DAY, *, channels: int = 1,
                 **overrides: Any) -> nn.Module:
    """Build the paper preset of ``name`` for a window, with ``overrides`` applied.

    Returns
    -------
    nn.Module
        Takes ``(batch, window_days, steps_per_day)`` (sequence models) or
        ``(batch, window_days * steps_per_day)`` (flat models) float32 input
        and returns logits ``(batch, 2)``. Construction is deterministic
        given ``torch.manual_seed``.

    Raises
    ------
    ConfigError
        See :func:`model_config`.
    """
    return build_model(name, model_config(name, window_days, steps_per_day, channels=channels, **overrides))


def build_model(name: str, config: ModelConfig | Mapping[str, Any], model_class: type | None = None) -> nn.Module:
    """Build model ``name`` from a config dataclass or a plain dict (e.g. from a checkpoint).

    ``model_class``: build it as this class instead of the registered one; it must be
    the registered class or a subclass of it for this model (:meth:`ModelEntry.is_class_of`),
    such as a SPEC classifier.

    Raises
    ------
    ConfigError
        Unknown model, a config of another model, a bad dict, or a ``model_class``
        that does not build this model.
    """
    entry = get_model_entry(name)
    if isinstance(config, ModelConfig):
        if not isinstance(config, entry.config_cls):
            raise ConfigError(f"{entry.name} needs a {entry.config_cls.__name__}, got {type(config).__name__}")
    else:
        config = entry.config_cls.from_dict(config)
    if model_class is None or model_class is entry.model_class:
        return entry.builder(config)
    if not entry.is_class_of(model_class):
        raise ConfigError(f"{getattr(model_class, '__name__', model_class)} does not build the {entry.name!r} model")
    return model_class.from_config(config)


def to_model_input(model_or_name, x_flat, window_days: int, steps_per_day: int = defaults.STEPS_PER_DAY):
    """Reshape flat windows into the layout a model takes (a view, no copy).

    Parameters
    ----------
    model_or_name : nn.Module or str
        A seismag model (possibly wrapped in ``DataParallel``) or a registry name.
    x_flat : torch.Tensor or numpy.ndarray
        ``(batch, window_days * steps_per_day)``.
    window_days, steps_per_day : int

    Returns
    -------
    torch.Tensor or numpy.ndarray
        ``(batch, window_days, steps_per_day)`` for sequence models, ``x_flat``
        itself for flat ones. A view when ``x_flat`` is contiguous.

    Raises
    ------
    ConfigError
        ``x_flat`` is not 2-D with ``window_days * steps_per_day`` columns.
    """
    name = model_or_name if isinstance(model_or_name, str) else unwrap_model(model_or_name).model_name
    entry = get_model_entry(name)
    window_days, steps_per_day = _check_window(window_days, steps_per_day)
    expected = entry.input_width(window_days, steps_per_day)
    if x_flat.ndim != 2 or x_flat.shape[1] != expected:
        what = (f"{expected} columns" if entry.per_window_table
                else f"{window_days} days x {steps_per_day} steps")
        raise ConfigError(
            f"{entry.name}: expected flat windows of shape (batch, {expected}) "
            f"({what}), got {tuple(x_flat.shape)}"
        )
    if entry.input_layout in ("flat", "table"):
        return x_flat
    return x_flat.reshape(x_flat.shape[0], window_days, steps_per_day)


def module_device(module: nn.Module) -> torch.device:
    """Where a model lives: the device of its first parameter, else of its first buffer (a
    head fitted at once has buffers only), else the CPU."""
    for tensor in itertools.chain(module.parameters(), module.buffers()):
        return tensor.device
    return torch.device("cpu")


def unwrap_model(model: nn.Module) -> nn.Module:
    """The seismag model inside ``DataParallel`` / DDP / ``torch.compile`` wrappers."""
    while True:
        if isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
            model = model.module
        elif hasattr(model, "_orig_mod") and isinstance(model._orig_mod, nn.Module):
            model = model._orig_mod
        else:
            return model


def _check_window(window_days: Any, steps_per_day: Any) -> tuple[int, int]:
    for label, value in (("window_days", window_days), ("steps_per_day", steps_per_day)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ConfigError(f"{label} must be a positive integer, got {value!r}")
    return int(window_days), int(steps_per_day)
