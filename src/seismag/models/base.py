"""What seismag networks share: :class:`ModelMixin`.

A model is a plain :class:`torch.nn.Module` configured by one frozen dataclass
(a subclass of :class:`~seismag.models.config.ModelConfig`). :class:`ModelMixin`
adds the read-only helpers the SPEC names (``get_model_info``,
``monitor_batch_norm_stats``) and thin wrappers around the checkpoint functions
of :mod:`seismag.models.checkpoint`. The SPEC's keyword constructors
(``GRUClassifier(input_size=1440, ...)``) live in :mod:`seismag.spec.classifiers`.
Training and evaluation live elsewhere.

Imports go one way: this module uses the registry (a model's display name and
input layout) and the checkpoint functions, and neither of them imports it --
they know a model only by its ``config``, ``model_name`` and ``from_config``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from seismag.errors import ConfigError
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
        """The registry entry's input layout: ``'sequence'`` (input ``(batch, days, steps_per_day)``),
        ``'flat'`` or ``'table'``."""
        return get_model_entry(self.model_name).input_layout

    def __init__(self, config: ModelConfig):
        """Initialise the module and keep ``config``, which must be a :attr:`config_cls`."""
        super().__init__()
        if not isinstance(config, self.config_cls):
            raise ConfigError(f"{type(self).__name__} needs a {self.config_cls.__name__}, got {type(config).__name__}")
        self.config = config

    @classmethod
    def from_config(cls, config: ModelConfig):
        """Build the model from a config instance (the registry's builder)."""
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
        """Rebuild a model of this class from a checkpoint written by :meth:`save_checkpoint`.

        The model is rebuilt from the config stored in the file, as this class,
        moved to ``device`` and returned in eval mode (call ``.train()`` to go on
        training). Use :func:`seismag.models.load_model_checkpoint` to also get
        the optimizer state, epoch, metrics and extra data.

        Raises
        ------
        CheckpointError
            The file is missing, corrupt, not a seismag checkpoint, or holds a
            model this class cannot represent (e.g. an LSTM for ``GRUClassifier``).
        """
        model, _ = load_model_checkpoint(filepath, device=device, model_class=cls)
        return model


def _summary(values: torch.Tensor) -> dict[str, float]:
    values = values.detach().float()
    return {
        "mean": float(values.mean()),
        "std": float(values.std(unbiased=False)),
        "min": float(values.min()),
        "max": float(values.max()),
    }
