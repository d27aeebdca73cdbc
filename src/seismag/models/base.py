"""What seismag networks share: :class:`ModelMixin` and :class:`SpecConstructor`.

A model is a plain :class:`torch.nn.Module` configured by one frozen dataclass
(a subclass of :class:`~seismag.models.config.ModelConfig`). :class:`ModelMixin`
adds the read-only helpers the SPEC names (``get_model_info``,
``monitor_batch_norm_stats``) and thin wrappers around the checkpoint functions
of :mod:`seismag.models.checkpoint`; :class:`SpecConstructor` gives a network
the SPEC's keyword constructor, derived from its config class. Training and
evaluation live elsewhere.

Imports go one way: this module uses the registry (a model's display name and
input layout) and the checkpoint functions, and neither of them imports it --
they know a model only by its ``config``, ``model_name`` and ``from_config``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from seismag.errors import CheckpointError, ConfigError
from seismag.models.checkpoint import load_model_checkpoint, save_model_checkpoint
from seismag.models.config import ModelConfig
from seismag.models.registry import get_model_entry


class ModelMixin:
    """Helpers shared by every seismag network.

    The host class must be an :class:`torch.nn.Module` with a ``config``
    attribute (a :class:`ModelConfig`). ``config_cls`` names the config class
    the model accepts; :meth:`from_config` rebuilds a model from one.
    """

    config: ModelConfig
    config_cls: ClassVar[type[ModelConfig]] = ModelConfig

    @property
    def model_name(self) -> str:
        """Registry name of this model (``'gru'``, ``'mlp'``, ...)."""
        return self.config.model_name

    @property
    def input_layout(self) -> str:
        """``'sequence'`` (input ``(batch, days, steps_per_day)``) or ``'flat'``."""
        return get_model_entry(self.model_name).input_layout

    @classmethod
    def from_config(cls, config: ModelConfig):
        """Build the model from a config instance (the registry's builder)."""
        if not isinstance(config, cls.config_cls):
            raise ConfigError(
                f"{cls.__name__} needs a {cls.config_cls.__name__}, got {type(config).__name__}"
            )
        return cls(config)

    def check_sequence_input(self, x: torch.Tensor) -> None:
        """Sequence models take ``(batch, days, input_size)``; say so clearly otherwise."""
        if x.dim() != 3 or x.shape[-1] != self.config.input_size:
            raise ConfigError(
                f"{self.model_name}: expected input (batch, days, {self.config.input_size}), got {tuple(x.shape)}"
            )

    def get_model_info(self) -> dict[str, Any]:
        """Parameter counts and a layer summary.

        Returns
        -------
        dict
            ``model_name``, ``display_name``, ``input_layout``, ``config``
            (plain dict), ``total_params``, ``trainable_params``,
            ``size_mb`` (parameters + buffers, in MiB), ``architecture``
            (one line) and ``layers``: one dict per module that owns
            parameters or has no children, with ``name``, ``type`` and
            ``params`` (parameters owned directly by that module, so the
            ``params`` of all layers sum to ``total_params``).
        """
        module: nn.Module = self  # type: ignore[assignment]
        total = sum(p.numel() for p in module.parameters())
        trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
        size_bytes = sum(p.numel() * p.element_size() for p in module.parameters())
        size_bytes += sum(b.numel() * b.element_size() for b in module.buffers())
        layers = []
        for name, sub in module.named_modules():
            if not name:
                continue
            own = sum(p.numel() for p in sub.parameters(recurse=False))
            if own or not any(True for _ in sub.children()):
                layers.append({"name": name, "type": type(sub).__name__, "params": own})
        entry = get_model_entry(self.model_name)
        return {
            "model_name": self.model_name,
            "display_name": entry.display_name,
            "input_layout": entry.input_layout,
            "config": self.config.to_dict(),
            "total_params": total,
            "trainable_params": trainable,
            "size_mb": size_bytes / 2**20,
            "architecture": self.architecture(),
            "layers": layers,
        }

    def architecture(self) -> str:
        """One-line description of the network (overridden by each model)."""
        return type(self).__name__

    def monitor_batch_norm_stats(self) -> dict[str, dict[str, Any]]:
        """Summary of every BatchNorm layer's running statistics.

        Useful to spot BatchNorm layers whose running variance collapsed or
        exploded (a common cause of eval-mode outputs that differ wildly from
        training-mode ones).

        Returns
        -------
        dict
            Layer name -> ``{"num_features", "num_batches_tracked",
            "running_mean": {"mean", "std", "min", "max"},
            "running_var": {...}}`` (plain floats). Empty when the model
            has no BatchNorm layer.
        """
        module: nn.Module = self  # type: ignore[assignment]
        stats: dict[str, dict[str, Any]] = {}
        for name, sub in module.named_modules():
            if not isinstance(sub, nn.modules.batchnorm._BatchNorm):
                continue
            entry: dict[str, Any] = {
                "num_features": sub.num_features,
                "num_batches_tracked": int(sub.num_batches_tracked) if sub.num_batches_tracked is not None else None,
            }
            for stat_name in ("running_mean", "running_var"):
                values = getattr(sub, stat_name)
                entry[stat_name] = None if values is None else _summary(values)
            stats[name] = entry
        return stats

    def save_checkpoint(self, filepath, optimizer=None, epoch=None, metrics=None, extra=None):
        """Write a checkpoint atomically; see :func:`seismag.models.save_model_checkpoint`."""
        return save_model_checkpoint(self, filepath, optimizer=optimizer, epoch=epoch, metrics=metrics, extra=extra)

    @classmethod
    def load_checkpoint(cls, filepath, device="cpu"):
        """Rebuild a model from a checkpoint written by :meth:`save_checkpoint`.

        The model is rebuilt from the config stored in the file, moved to
        ``device`` and returned in eval mode (call ``.train()`` to go on
        training). Use :func:`seismag.models.load_model_checkpoint` to also get
        the optimizer state, epoch, metrics and extra data.

        Raises
        ------
        CheckpointError
            The file is missing, corrupt, not a seismag checkpoint, or holds a
            model this class cannot represent (e.g. an LSTM for ``GRUClassifier``).
        """
        model, _ = load_model_checkpoint(filepath, device=device)
        if not isinstance(model, cls):
            raise CheckpointError(
                f"{filepath}: holds a {model.model_name!r} model ({type(model).__name__}), "
                f"which {cls.__name__}.load_checkpoint cannot return; use seismag.models.load_model_checkpoint"
            )
        return model



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
        """Build the model from an instance of exactly ``config_cls`` (the registry's builder)."""
        if type(config) is not cls.config_cls:
            raise ConfigError(
                f"{cls.__name__} needs a config of class {cls.config_cls.__name__}, got {type(config).__name__}"
            )
        return cls(**config.to_dict())


def _summary(values: torch.Tensor) -> dict[str, float]:
    values = values.detach().float()
    return {
        "mean": float(values.mean()),
        "std": float(values.std(unbiased=False)),
        "min": float(values.min()),
        "max": float(values.max()),
    }
