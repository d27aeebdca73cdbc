"""GRU, LSTM and vanilla RNN classifiers: one network parameterised by cell type.

Input ``(batch, days, steps_per_day)``: one time step per day, the day's
samples (1440 one-minute values by default, in scaled nT) as its features.
Each hidden size in ``hidden_sizes`` adds one recurrent layer (so
``num_layers`` is always ``len(hidden_sizes)``) followed by
BatchNorm1d over its hidden channels and dropout; the last time step of the
last layer feeds a linear head that returns logits ``(batch, output_size)``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from seismag.errors import ConfigError
from seismag.models.base import ModelMixin
from seismag.models.config import (
    HiddenLayersConfig,
    ModelConfig,
    check_bool,
    check_choice,
    check_hidden_sizes,
    check_positive_int,
    set_field,
)
from seismag.models.registry import register_model

_CELLS = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}


@dataclasses.dataclass(frozen=True)
class RecurrentConfig(HiddenLayersConfig):
    """Options of a recurrent classifier; defaults are the paper preset.

    The fields of :class:`~seismag.models.config.HiddenLayersConfig` (``input_size``
    is the features per time step, ``steps_per_day``, 1440 for 1-minute data; each
    entry of ``hidden_sizes`` is one recurrent layer, and a single int with
    ``num_layers=N`` means N layers of that size; dropout and BatchNorm1d over the
    hidden channels follow every recurrent layer), then:

    Attributes
    ----------
    bidirectional : bool, default False
        Doubles the channels of every layer.
    num_layers : int, optional
        Number of recurrent layers (SPEC Module 6 names it alongside
        ``hidden_sizes``). Given with a list of sizes it must equal its
        length; omitted, it is derived from it. Always ``len(hidden_sizes)``
        after validation, so saved configs round-trip and configs saved
        before this option existed still load.

    Raises
    ------
    ConfigError
        ``num_layers`` contradicts ``hidden_sizes``; from :meth:`from_dict`
        also ``nonlinearity`` given to a GRU or LSTM (their cells have none).
    """

    cell_type: ClassVar[str] = ""

    bidirectional: bool = False
    # Last, so that positional construction of the fields above is unchanged.
    num_layers: int | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]):
        if isinstance(data, Mapping) and "nonlinearity" in data and "nonlinearity" not in cls.field_names():
            # The generic "unknown option" message would not say why: the
            # SPEC's sequential-model config carries it "for RNN only".
            raise ConfigError(
                f"{cls.model_name}: option 'nonlinearity' applies to the vanilla RNN only; "
                f"{cls.cell_type.upper()} cells have fixed gate nonlinearities (sigmoid and tanh)"
            )
        return super().from_dict(data)

    def replace(self, **overrides: Any):
        # The stored num_layers only restates len(hidden_sizes); new sizes
        # without a layer count must not be checked against the old one.
        if "hidden_sizes" in overrides and "num_layers" not in overrides:
            overrides["num_layers"] = None
        return super().replace(**overrides)

    def validate(self) -> None:
        super().validate()
        check_bool(self, "bidirectional")

    def check_layers(self) -> None:
        """Reconcile ``hidden_sizes`` and ``num_layers``; both agree afterwards."""
        sizes, layers = self.hidden_sizes, self.num_layers
        single_size = isinstance(sizes, int) and not isinstance(sizes, bool)
        check_hidden_sizes(self)
        if layers is None:
            set_field(self, "num_layers", len(self.hidden_sizes))
            return
        check_positive_int(self, "num_layers")
        if single_size:
            set_field(self, "hidden_sizes", self.hidden_sizes * self.num_layers)
        elif self.num_layers != len(self.hidden_sizes):
            raise ConfigError(
                f"{self.model_name}: num_layers={layers!r} contradicts hidden_sizes={list(self.hidden_sizes)!r} "
                f"(one layer per size: {len(self.hidden_sizes)}); give one size per layer, "
                "or a single size to repeat num_layers times"
            )


@dataclasses.dataclass(frozen=True)
class GRUConfig(RecurrentConfig):
    """:class:`RecurrentConfig` for GRU cells."""

    model_name: ClassVar[str] = "gru"
    cell_type: ClassVar[str] = "gru"


@dataclasses.dataclass(frozen=True)
class LSTMConfig(RecurrentConfig):
    """:class:`RecurrentConfig` for LSTM cells."""

    model_name: ClassVar[str] = "lstm"
    cell_type: ClassVar[str] = "lstm"


@dataclasses.dataclass(frozen=True)
class RNNConfig(RecurrentConfig):
    """:class:`RecurrentConfig` for vanilla RNN cells, plus their nonlinearity.

    Attributes
    ----------
    nonlinearity : {'tanh', 'relu'}, default 'tanh'
    """

    model_name: ClassVar[str] = "rnn"
    cell_type: ClassVar[str] = "rnn"

    nonlinearity: str = "tanh"

    def validate(self) -> None:
        super().validate()
        check_choice(self, "nonlinearity", ("tanh", "relu"))


class RecurrentNetwork(ModelMixin, nn.Module):
    """Stacked recurrent layers -> BatchNorm -> dropout, head on the last step.

    Registered three times, as ``gru``, ``lstm`` and ``rnn`` (see the end of
    this module); the SPEC's ``GRUClassifier``, ``LSTMClassifier`` and
    ``RNNClassifier`` (:mod:`seismag.spec.classifiers`) are it with keyword
    constructors.

    Parameters
    ----------
    config : RecurrentConfig
        A :class:`GRUConfig`, :class:`LSTMConfig` or :class:`RNNConfig`; its
        class decides the cell type.

    Notes
    -----
    Input weights get Xavier-uniform init, recurrent weights orthogonal init
    (keeps the recurrent Jacobian well conditioned at the start of training),
    biases zero. With ``bidirectional=True`` the head still reads the last
    time step, where the backward direction has seen only that step.
    """

    config_cls: ClassVar[type[ModelConfig]] = RecurrentConfig

    def __init__(self, config: RecurrentConfig):
        if not isinstance(config, RecurrentConfig) or config.cell_type not in _CELLS:
            raise ConfigError(
                f"RecurrentNetwork needs a GRUConfig, LSTMConfig or RNNConfig, got {type(config).__name__}"
            )
        super().__init__(config)
        directions = 2 if config.bidirectional else 1
        cell = _CELLS[config.cell_type]
        extra = {"nonlinearity": config.nonlinearity} if isinstance(config, RNNConfig) else {}

        self.recurrent_layers = nn.ModuleList()
        self.norms = nn.ModuleList()
        in_features = config.input_size
        for hidden_size in config.hidden_sizes:
            self.recurrent_layers.append(
                cell(in_features, hidden_size, batch_first=True, bidirectional=config.bidirectional, **extra)
            )
            out_features = hidden_size * directions
            self.norms.append(nn.BatchNorm1d(out_features) if config.use_batch_norm else nn.Identity())
            in_features = out_features
        self.dropout = nn.Dropout(config.dropout_prob)
        self.head = nn.Linear(in_features, config.output_size)
        self._init_recurrent_weights()
        # Not part of the config: it changes how the layers run, not the model, so
        # checkpoints stay interchangeable. The fold trainer sets it from RunConfig.
        self.recurrent_impl = "auto"

    def _init_recurrent_weights(self) -> None:
        for layer in self.recurrent_layers:
            for name, parameter in layer.named_parameters():
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(parameter)
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(parameter)
                elif name.startswith("bias"):
                    nn.init.zeros_(parameter)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, output_size)`` of windows ``(batch, days, input_size)``, any number of days."""
        self.check_sequence_input(x)
        unrolled = uses_unrolled(self.recurrent_impl, self.config.cell_type, x.device, torch.is_grad_enabled())
        plain = self.recurrent_impl == "plain"
        for recurrent, norm in zip(self.recurrent_layers, self.norms):
            x = unrolled_layer(recurrent, x) if unrolled else recurrent(x)[0]
            # BatchNorm statistics over the batch and every time step of the sequence.
            if plain:  # the textbook form: channels on dim 1 of a transposed view, dropped out as it is
                x = norm(x.transpose(1, 2)).transpose(1, 2)
                x = self.dropout(x)
            else:  # the same numbers from the (batch * time, channels) rows, without
                # the transposed copies (a tenth of a bf16 step), and the same masks
                batch, steps, channels = x.shape
                x = norm(x.reshape(batch * steps, channels)).reshape(batch, steps, channels)
                x = dropout_as_plain(x, self.dropout)
        return self.head(x[:, -1, :])

    def set_recurrent_impl(self, impl: str) -> None:
        """Run the network as 'plain', 'library', 'unrolled' or 'auto' (``RunConfig.recurrent_impl``)."""
        uses_unrolled(impl, self.config.cell_type, torch.device("cpu"), True)  # refuses an unknown name
        self.recurrent_impl = impl

    def architecture(self) -> str:
        c = self.config
        cell = c.cell_type.upper() + (f"({c.nonlinearity})" if isinstance(c, RNNConfig) else "")
        direction = "bidirectional " if c.bidirectional else ""
        norm = " + BatchNorm" if c.use_batch_norm else ""
        return (
            f"{direction}{cell} {list(c.hidden_sizes)}{norm} + Dropout({c.dropout_prob:g}) "
            f"-> last step -> Linear({c.output_size})"
        )


def uses_unrolled(impl: str, cell_type: str, device: torch.device, grad: bool) -> bool:
    """Whether ``impl`` runs a layer of ``cell_type`` on ``device`` as :func:`unrolled_layer`,
    ``grad`` saying whether autograd records the pass.

    The names (``seismag.config.RECURRENT_IMPLS``): 'plain' is the network as
    first written, PyTorch's nn.LSTM/GRU/RNN kernel, BatchNorm and dropout of
    a transposed view; 'library' the same kernel with BatchNorm of the
    ``(batch * time, channels)`` rows (the same statistics without copies) and
    :func:`dropout_as_plain` (the same masks);
    'unrolled' the step loop with those rows; 'auto' is 'unrolled' for
    training passes of the LSTM on the CPU and 'library' otherwise.

    On the CPU PyTorch sends nn.LSTM to oneDNN's fused RNN, whose backward
    pass is slow, in bf16 slower than in fp32: one paper-size training step
    (batch 32, 7 days, one thread) took 88 ms in bf16 against 53 ms unrolled.
    Over whole epochs (``benchmarks/bench_training.py``, ``recurrent_impl``
    plain against auto) the bf16 LSTM went from 1.32x to 1.75x the notebook
    loop's speed, with the BatchNorm rows. The GRU and RNN kernels already
    precompute their input projection on the CPU, and unrolling them gains
    nothing; CUDA's cuDNN kernels are kept. Without autograd (evaluation,
    prediction) oneDNN's forward is the faster: 98 ms against 110 ms for 256
    windows in bf16, 177 against 206 ms in fp32.
    """
    if impl == "auto":
        return cell_type == "lstm" and device.type == "cpu" and grad
    if impl in ("plain", "library", "unrolled"):
        return impl == "unrolled"
    # The names are seismag.config.RECURRENT_IMPLS (RunConfig checks them); models do not import it.
    raise ConfigError(f"recurrent_impl must be one of auto, plain, library, unrolled, got {impl!r}")


def dropout_as_plain(x: torch.Tensor, dropout: nn.Dropout) -> torch.Tensor:
    """``dropout(x)`` for a contiguous ``(batch, time, channels)`` x, with the masks the
    plain network draws.

    The plain network drops out a transposed view, whose masks PyTorch fills in
    the view's memory order, ``(batch, channels, time)``. Drawing them in that
    order here (same generator, same number of draws, same scaling by
    ``1 / (1 - p)``) makes every ``recurrent_impl`` train on the same masks from
    the same seed.
    """
    p = dropout.p
    if not dropout.training or p == 0 or x.numel() == 0:
        return x
    if p == 1:
        return x * torch.zeros((), dtype=x.dtype, device=x.device)
    batch, steps, channels = x.shape
    noise = torch.empty(batch, channels, steps, dtype=x.dtype, device=x.device).bernoulli_(1 - p)
    return x * noise.div_(1 - p).transpose(1, 2)


def unrolled_layer(layer: nn.RNNBase, x: torch.Tensor) -> torch.Tensor:
    """``layer(x)[0]`` for a one-layer ``batch_first`` nn.LSTM/GRU/RNN, as a step loop.

    The input projection of every time step is one matrix product; each step
    adds the recurrent product and applies the gates, whose arithmetic (and the
    LSTM's cell state) is kept in float32 under bf16 autocast. Uses the layer's
    own parameters, so gradients land where the library kernel puts them.

    Parameters
    ----------
    layer : nn.LSTM, nn.GRU or nn.RNN
        One layer (``num_layers == 1``), ``batch_first=True``, uni- or bidirectional.
    x : torch.Tensor
        ``(batch, time, input_size)``.

    Returns
    -------
    torch.Tensor
        ``(batch, time, directions * hidden_size)``, the output sequence.
    """
    outputs = [_unrolled_direction(layer, x, suffix)
               for suffix in (("", "_reverse") if layer.bidirectional else ("",))]
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=2)


def _unrolled_direction(layer: nn.RNNBase, x: torch.Tensor, suffix: str) -> torch.Tensor:
    weight_ih = getattr(layer, "weight_ih_l0" + suffix)
    weight_hh = getattr(layer, "weight_hh_l0" + suffix)
    bias_ih = getattr(layer, "bias_ih_l0" + suffix) if layer.bias else None
    bias_hh = getattr(layer, "bias_hh_l0" + suffix) if layer.bias else None
    mode = layer.mode  # 'LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU'
    if mode != "GRU" and bias_ih is not None:
        bias_ih, bias_hh = bias_ih + bias_hh, None  # both enter the same sum
    projected = F.linear(x, weight_ih, bias_ih)  # (batch, time, gates * hidden), one product
    batch, steps = x.shape[0], x.shape[1]
    # Gates and states in float32 under bf16/fp16 autocast, else in the layer's dtype.
    state = torch.float32 if projected.dtype in (torch.bfloat16, torch.float16) else projected.dtype
    h = torch.zeros(batch, layer.hidden_size, dtype=state, device=x.device)
    c = torch.zeros_like(h) if mode == "LSTM" else None
    order = range(steps - 1, -1, -1) if suffix else range(steps)
    outputs: list[torch.Tensor] = [h] * steps
    for t in order:
        # In the projection's dtype (what autocast would cast to; a bf16 model's own weights).
        recurrent = F.linear(h.to(projected.dtype), weight_hh, bias_hh).to(state)
        if mode == "LSTM":
            i, f, g, o = (projected[:, t].to(state) + recurrent).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        elif mode == "GRU":
            x_r, x_z, x_n = projected[:, t].to(state).chunk(3, dim=1)
            h_r, h_z, h_n = recurrent.chunk(3, dim=1)
            r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            n = torch.tanh(x_n + r * h_n)
            h = n + z * (h - n)
        else:
            pre = projected[:, t].to(state) + recurrent
            h = torch.tanh(pre) if mode == "RNN_TANH" else torch.relu(pre)
        outputs[t] = h
    out = torch.stack(outputs, dim=1)
    # The library returns its compute dtype (bf16 under autocast); so does this.
    return out.to(projected.dtype)


# One network, three registry entries (registration order gru, lstm, rnn): the config's
# class decides the cell. Each runs as RunConfig.recurrent_impl says.
register_model(display_name="GRU", input_layout="sequence", config_cls=GRUConfig,
               recurrent=True)(RecurrentNetwork)
register_model(display_name="LSTM", input_layout="sequence", config_cls=LSTMConfig,
               recurrent=True)(RecurrentNetwork)
register_model(display_name="RNN", input_layout="sequence", config_cls=RNNConfig,
               recurrent=True)(RecurrentNetwork)
