"""The one training loop: device and precision, per-fold scaling, the epoch loop
and the fold trainer shared by every model.

The window's features are held once as a contiguous float32 tensor on the
training device; batches are gathered by index and scaled on the fly with the
fold's statistics, so no fold copies the data set.
"""

from __future__ import annotations

import contextlib
import math
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import torch
from torch import nn

from ..config import RunConfig
from ..data.analysis import compute_class_weights
from ..errors import ConfigError
from .. import models as model_registry
from .losses import make_loss
from .metrics import calculate_binary_metrics, fast_binary_metrics
from .splits import inner_split

EVAL_BATCH_SIZE = 256
# Evaluation batches are also bounded by the bytes of their input: a 256-row batch
# of 30-day windows is 44 MB before scaling, and every pass would keep it alive.
EVAL_BATCH_BYTES = 16 << 20
# Float64 chunk size for the scaler's statistics.
SCALER_CHUNK_BYTES = 8 << 20


# --------------------------------------------------------------------------- device / precision
def resolve_device(preference: str = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU; explicit 'cpu' / 'cuda' / 'cuda:N'."""
    if preference == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(preference)
    except RuntimeError:
        raise ConfigError(f"unknown device '{preference}'; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device '{preference}' requested but CUDA is not available; use --device cpu")
    return device


def check_gpu_ids(gpu_ids) -> list[int]:
    """GPU indices checked against the devices this process sees.

    Raises ConfigError (one line) for ids without CUDA, out of range or repeated.
    ``[]`` is always valid (no GPU).
    """
    ids = [] if gpu_ids is None else list(gpu_ids)
    if not ids:
        return []
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if not visible:
        raise ConfigError(f"GPU ids {ids} requested but CUDA is not available on this machine; use the CPU")
    for gpu in ids:
        if isinstance(gpu, bool) or not isinstance(gpu, int) or not 0 <= gpu < visible:
            raise ConfigError(f"GPU id {gpu!r} is not one of the {visible} visible GPU(s) "
                              f"(0-{visible - 1}; CUDA_VISIBLE_DEVICES may hide some)")
    if len(set(ids)) != len(ids):
        raise ConfigError(f"GPU ids {ids} name a GPU twice")
    return ids


def cpu_has_fast_bf16() -> bool:
    """True where the CPU has AMX or AVX-512 BF16 (bf16 matmuls much faster than fp32)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = handle.read()
    except OSError:
        return False
    return any(flag in flags for flag in ("amx_bf16", "avx512_bf16"))


def resolve_precision(precision: str, device: torch.device) -> str:
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_fast_bf16() else "fp32"


def autocast_context(device: torch.device, precision: str):
    """The single place mixed precision is switched on (no-op for fp32)."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def derive_seed(seed: int, *parts: Any) -> int:
    """A 31-bit seed for one unit of work (model, window, fold) from the run seed."""
    keys = [int(seed)] + [zlib.crc32(str(p).encode()) for p in parts]
    return int(np.random.SeedSequence(keys).generate_state(1)[0] & 0x7FFFFFFF)


# --------------------------------------------------------------------------- scaling
@dataclass
class Scaler:
    """Input scaling fitted on a fold's training rows only.

    kind 'standard': per-feature (x - mean) / std with training-row statistics;
    'sample': each window standardised by its own mean and std (nothing fitted);
    'none': identity.
    """

    kind: str
    mean: torch.Tensor | None = None
    std: torch.Tensor | None = None

    @classmethod
    def fit(cls, kind: str, features: torch.Tensor, rows: np.ndarray) -> "Scaler":
        if kind != "standard":
            return cls(kind)
        total = torch.zeros(features.shape[1], dtype=torch.float64, device=features.device)
        total_sq = torch.zeros_like(total)
        index = torch.as_tensor(rows, device=features.device)
        # Chunked float64 sums (SCALER_CHUNK_BYTES a chunk): exact enough, never a full copy of the rows.
        step = max(1, SCALER_CHUNK_BYTES // (8 * max(1, features.shape[1])))
        for start in range(0, len(index), step):
            chunk = features[index[start:start + step]].double()
            total += chunk.sum(0)
            total_sq += (chunk * chunk).sum(0)
        n = float(len(index))
        mean = total / n
        var = (total_sq / n - mean * mean).clamp_min(0.0)
        std = var.sqrt()
        std = torch.where(std < 1e-6, torch.ones_like(std), std)  # constant features stay finite
        return cls(kind, mean.float(), std.float())

    def apply(self, batch: torch.Tensor, inplace: bool = False) -> torch.Tensor:
        """Scaled ``batch``; ``inplace=True`` overwrites it (for a freshly gathered copy)."""
        if self.kind == "standard":
            mean, std = self.mean, self.std
        elif self.kind == "sample":
            mean = batch.mean(dim=1, keepdim=True)
            std = batch.std(dim=1, keepdim=True).clamp_min(1e-6)
        else:
            return batch
        if inplace:
            return batch.sub_(mean).div_(std)
        return (batch - mean) / std

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind,
                "mean": None if self.mean is None else self.mean.detach().cpu(),
                "std": None if self.std is None else self.std.detach().cpu()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], device: torch.device | str = "cpu") -> "Scaler":
        mean, std = data.get("mean"), data.get("std")
        return cls(data["kind"], None if mean is None else mean.to(device),
                   None if std is None else std.to(device))


# --------------------------------------------------------------------------- epoch loop
@dataclass
class WindowTensors:
    """A window's data on the training device. ``features``: (n, days*steps) float32."""

    features: torch.Tensor
    labels: torch.Tensor
    window_days: int
    steps_per_day: int
    # True: ``features`` are already what the model takes (e.g. cached fixed features).
    model_input: bool = False

    @classmethod
    def from_window(cls, data, device: torch.device) -> "WindowTensors":
        features = torch.from_numpy(data.features)
        labels = torch.from_numpy(data.labels)
        return cls(features.to(device), labels.to(device), data.window_days, data.steps_per_day)


@dataclass
class EpochResult:
    loss: float
    probs: torch.Tensor  # (n,) P(class 1), float32, in the order of the rows scored
    labels: torch.Tensor
    rows: torch.Tensor


def run_epoch(model: nn.Module, data: WindowTensors, rows: np.ndarray | torch.Tensor, *,
              scaler: Scaler, loss_fn: nn.Module, optimizer: torch.optim.Optimizer | None = None,
              batch_size: int = 32, generator: torch.Generator | None = None,
              sample_weights: torch.Tensor | None = None, max_grad_norm: float = 1.0,
              precision: str = "fp32") -> EpochResult:
    """One pass over ``rows``: training when ``optimizer`` is given, else evaluation.

    Training shuffles the rows with ``generator`` (or draws them with replacement
    in proportion to ``sample_weights`` for balanced sampling), skips a final
    batch of one sample (BatchNorm cannot normalise it), clips gradients at
    ``max_grad_norm``. Probabilities and losses are accumulated as tensors and
    returned once, so callers compute metrics once per epoch.
    """
    device = data.features.device
    training = optimizer is not None
    rows = torch.as_tensor(rows, dtype=torch.long, device=device)
    if training:
        if sample_weights is not None:
            draw = torch.multinomial(sample_weights.cpu(), len(rows), replacement=True, generator=generator)
            rows = rows[draw.to(device)]
        else:
            rows = rows[torch.randperm(len(rows), generator=generator).to(device)]
    model.train(training)
    step = batch_size if training else eval_batch_size(batch_size, data.features)
    total_loss = torch.zeros((), dtype=torch.float64, device=device)
    probs, used_rows = [], []
    grad_context = contextlib.nullcontext() if training else torch.no_grad()
    with grad_context:
        for start in range(0, len(rows), step):
            batch_rows = rows[start:start + step]
            if training and len(batch_rows) < 2:
                continue
            # Indexing gathers a copy, so scaling may overwrite it.
            x = scaler.apply(data.features[batch_rows], inplace=True)
            if not data.model_input:
                x = model_registry.to_model_input(getattr(model, "module", model), x, data.window_days,
                                                  data.steps_per_day)
            loss, logits = batch_step(model, x, data.labels[batch_rows], loss_fn, optimizer,
                                      max_grad_norm, device, precision)
            total_loss += loss.detach().double() * len(batch_rows)
            probs.append(torch.softmax(logits.detach(), dim=1)[:, 1])
            used_rows.append(batch_rows)
    if not probs:
        raise ConfigError("no batch of at least two samples to train on; use a smaller batch_size")
    all_rows = torch.cat(used_rows)
    return EpochResult(
        loss=float(total_loss.item() / len(all_rows)),
        probs=torch.cat(probs).float().cpu(),
        labels=data.labels[all_rows].cpu(),
        rows=all_rows.cpu(),
    )


def eval_batch_size(batch_size: int, features: torch.Tensor) -> int:
    """Rows per evaluation batch: up to EVAL_BATCH_SIZE and EVAL_BATCH_BYTES of input,
    never fewer than the training batch."""
    row_bytes = max(1, features.shape[1] * features.element_size())
    return max(batch_size, min(EVAL_BATCH_SIZE, EVAL_BATCH_BYTES // row_bytes))


def batch_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module,
               optimizer: torch.optim.Optimizer | None, max_grad_norm: float, device: torch.device,
               precision: str = "fp32") -> tuple[torch.Tensor, torch.Tensor]:
    """Forward (and, with an optimizer, backward + clipped step) on one batch.

    Returns the loss and float32 logits ``(batch, 2)``.
    """
    with autocast_context(device, precision):
        logits = model(x)
    logits = logits.float()
    loss = loss_fn(logits, y)
    if optimizer is not None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if max_grad_norm and max_grad_norm > 0:
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
    return loss, logits


OPTIMIZER_IMPLS = ("auto", "fused", "foreach", "loop")
_FUSED_SUPPORT: dict[tuple[str, str], bool] = {}


def fused_adamw_supported(device: torch.device) -> bool:
    """True where this PyTorch has a fused AdamW kernel for ``device`` (CPU since 2.4, CUDA)."""
    key = (device.type, torch.__version__)
    if key not in _FUSED_SUPPORT:
        try:
            probe = torch.zeros(1, device=device, requires_grad=True)
            torch.optim.AdamW([probe], fused=True)
            _FUSED_SUPPORT[key] = True
        except (RuntimeError, TypeError, ValueError):
            _FUSED_SUPPORT[key] = False
    return _FUSED_SUPPORT[key]


def make_optimizer(parameters, config: RunConfig, device: torch.device) -> torch.optim.AdamW:
    """The SPEC's AdamW (``config.learning_rate``, ``config.weight_decay``).

    ``config.optimizer_impl`` picks how the update runs, never what it computes:
    'fused' is one kernel pass over each parameter (on a 2-core CPU the paper
    MLP's step went from 32 ms with the per-parameter loop PyTorch uses on CPU
    to 4 ms), 'foreach' batches the per-parameter ops, 'loop' is PyTorch's
    reference loop (its CPU default, what the notebooks ran). 'auto': fused
    where supported, else PyTorch's default. All agree up to floating-point
    reordering.
    """
    impl = config.optimizer_impl
    if impl not in OPTIMIZER_IMPLS:
        raise ConfigError(f"optimizer_impl: unknown value '{impl}'; choose from {', '.join(OPTIMIZER_IMPLS)}")
    options: dict[str, Any] = {"lr": config.learning_rate, "weight_decay": config.weight_decay}
    if impl == "auto":
        impl = "fused" if fused_adamw_supported(device) else "default"
    if impl == "fused":
        if not fused_adamw_supported(device):
            raise ConfigError(f"optimizer_impl 'fused' is not available for {device.type} in PyTorch "
                              f"{torch.__version__}; use auto, foreach or loop")
        options["fused"] = True
    elif impl in ("foreach", "loop"):
        options["foreach"] = impl == "foreach"
    return torch.optim.AdamW(parameters, **options)


def prepare_training(config: RunConfig) -> tuple[torch.device, str]:
    """The device and precision a run trains with, with the process configured for them.

    Every entry point that trains (a pipeline unit, a tuning study) starts here,
    so none can skip the process settings.
    """
    device = resolve_device(config.device)
    precision = resolve_precision(config.precision, device)
    configure_process(config, device)
    return device, precision


def configure_process(config: RunConfig, device: torch.device | None = None) -> dict[str, Any]:
    """Process-wide settings for training: call once, before the first fold.

    ``config.num_threads`` (0: PyTorch's choice), ``config.keep_freed_memory``
    (see :func:`keep_freed_memory`) and, when ``device`` is CUDA, ``config.tf32``
    (see :func:`configure_tf32`). Returns what is in effect, for the log.
    """
    threads = configure_threads(config.num_threads)
    keep = bool(config.keep_freed_memory) and keep_freed_memory()
    settings = {"num_threads": threads, "keep_freed_memory": keep}
    if device is not None and device.type == "cuda":
        settings["tf32"] = configure_tf32(config.tf32)
    return settings


def configure_tf32(enabled: bool) -> bool:
    """CUDA float32 matmuls and cuDNN convolutions/RNNs in TF32 (Ampere and later), or strictly fp32.

    TF32 keeps fp32's range with a 10-bit mantissa, the precision bf16 autocast
    already trades away; ``tf32 = false`` gives strict fp32 on the GPU. Only
    set for CUDA runs: CPU matmuls are left alone.
    """
    torch.backends.cuda.matmul.allow_tf32 = bool(enabled)
    torch.backends.cudnn.allow_tf32 = bool(enabled)
    return bool(enabled)


def keep_freed_memory() -> bool:
    """Serve large blocks from the heap and keep freed memory in the process (glibc only).

    glibc gives every block over 32 MiB its own mmap and unmaps it on free, so
    the buffers a training step needs anew each time (the paper MLP's 88 MB
    weight gradient on 30-day windows, the optimizer's temporaries) were
    page-faulted in afresh every step: 21,600 minor faults per step with
    fused AdamW, 64,800 with the loop, a third to a half of the step's time.
    With mmap off and trimming at 2 GiB, freed blocks are reused. The cost:
    memory freed during training is not given back to the system until the
    process ends. Returns True when the setting took effect.
    """
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False
    M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, 2**31 - 1))


def configure_threads(num_threads: int) -> int:
    """Set PyTorch's intra-op threads (0: leave PyTorch's choice); returns the count in use.

    On a 2-core machine that other processes also load, one thread per process
    ran the paper models 3-10x faster than two: with two, every parallel region
    waits for whichever thread was descheduled.
    """
    if int(num_threads) > 0 and torch.get_num_threads() != int(num_threads):
        torch.set_num_threads(int(num_threads))
    return torch.get_num_threads()


def quick_scores(labels: torch.Tensor, probs: torch.Tensor) -> tuple[float, float]:
    """Accuracy and weighted F1 from accumulated tensors (no per-batch sklearn calls)."""
    y = labels.numpy().astype(np.int64)
    scores = fast_binary_metrics(y, (probs.numpy() >= 0.5).astype(np.int64))
    return float(scores["accuracy"]), float(scores["f1"])


# --------------------------------------------------------------------------- fold trainer
@dataclass(frozen=True)
class TrainingObjects:
    """Objects a caller hands the fold trainer instead of the run configuration's choices.

    The SPEC's ``kfold_train_eval_*`` take a loss, an optimizer class and a
    scheduler class; whatever is set here is used exactly as given (a loss
    with its class weights as they are, not recomputed per fold), and
    :meth:`describe` is written beside every score. Unset fields fall back to
    the run configuration.

    Attributes
    ----------
    loss_fn : nn.Module, optional
        Called as ``loss_fn(logits (batch, 2), labels (batch,))``.
    optimizer_class, optimizer_kwargs
        ``optimizer_class(model.parameters(), **optimizer_kwargs)``.
    scheduler_class, scheduler_kwargs
        ``scheduler_class(optimizer, **scheduler_kwargs)``, stepped once per
        epoch; a ``ReduceLROnPlateau`` is stepped with the selection rows' loss
        (``mode='min'``) or weighted F1 (``mode='max'``).
    device_ids : tuple of int, optional
        More than one: ``nn.DataParallel`` over these GPUs.
    """

    loss_fn: nn.Module | None = None
    optimizer_class: type | None = None
    optimizer_kwargs: Mapping[str, Any] = field(default_factory=dict)
    scheduler_class: type | None = None
    scheduler_kwargs: Mapping[str, Any] = field(default_factory=dict)
    device_ids: tuple[int, ...] | None = None

    def describe(self) -> dict[str, Any]:
        """Plain data saying what was used (for run records and checkpoints)."""
        out: dict[str, Any] = {}
        if self.loss_fn is not None:
            out["loss_fn"] = type(self.loss_fn).__name__
            for name in ("weight", "alpha"):
                value = getattr(self.loss_fn, name, None)
                if isinstance(value, torch.Tensor):
                    out[f"loss_{name}"] = [float(v) for v in value.detach().cpu().reshape(-1)]
            for name in ("gamma", "label_smoothing"):
                value = getattr(self.loss_fn, name, None)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    out[f"loss_{name}"] = float(value)
        if self.optimizer_class is not None:
            out["optimizer"] = _qualified_name(self.optimizer_class)
            out["optimizer_kwargs"] = _plain_kwargs(self.optimizer_kwargs)
        if self.scheduler_class is not None:
            out["scheduler"] = _qualified_name(self.scheduler_class)
            out["scheduler_kwargs"] = _plain_kwargs(self.scheduler_kwargs)
        if self.device_ids:
            out["device_ids"] = list(self.device_ids)
        return out


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _plain_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, (int, float, str, bool, type(None), list, tuple)) else repr(v))
            for k, v in dict(kwargs).items()}


def fold_loss(config: RunConfig, counts: np.ndarray, device: torch.device,
              objects: TrainingObjects | None = None) -> nn.Module:
    """The fold's loss: the caller's, else ``config.loss`` weighted by the fold's class ``counts``."""
    if objects is not None and objects.loss_fn is not None:
        return objects.loss_fn.to(device)
    weight = None
    if config.class_weight_method != "none":
        weight = torch.tensor(compute_class_weights(counts, method=config.class_weight_method),
                              dtype=torch.float32, device=device)
    return make_loss(config.loss, weight, config.focal_gamma)


def fold_optimizer(model: nn.Module, config: RunConfig, device: torch.device,
                   objects: TrainingObjects | None = None) -> torch.optim.Optimizer:
    if objects is not None and objects.optimizer_class is not None:
        try:
            return objects.optimizer_class(model.parameters(), **dict(objects.optimizer_kwargs))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"optimizer {objects.optimizer_class.__name__}"
                              f"(**{dict(objects.optimizer_kwargs)}) failed: {exc}") from None
    return make_optimizer(model.parameters(), config, device)


def fold_scheduler(optimizer: torch.optim.Optimizer, config: RunConfig, model_name: str,
                   objects: TrainingObjects | None = None):
    """(scheduler or None, what it steps on: 'loss', 'f1' or None for a plain ``step()``)."""
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau
    if objects is not None and objects.scheduler_class is not None:
        try:
            scheduler = objects.scheduler_class(optimizer, **dict(objects.scheduler_kwargs))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"scheduler {objects.scheduler_class.__name__}"
                              f"(**{dict(objects.scheduler_kwargs)}) failed: {exc}") from None
        if isinstance(scheduler, plateau):
            return scheduler, ("f1" if scheduler.mode == "max" else "loss")
        return scheduler, None
    kind = config.scheduler_for(model_name)
    if kind == "plateau":
        return plateau(optimizer, mode="min", patience=config.plateau_patience,
                       factor=config.plateau_factor), "loss"
    if kind == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs), None
    return None, None


@dataclass
class FoldResult:
    fold: int
    best_epoch: int
    history: list[dict[str, float]]
    metrics: dict[str, Any]
    train_rows: np.ndarray
    val_rows: np.ndarray
    train_probs: np.ndarray
    val_probs: np.ndarray
    train_labels: np.ndarray
    val_labels: np.ndarray
    model: nn.Module
    scaler: Scaler
    extra: dict[str, Any] = field(default_factory=dict)


def cached_features(model: nn.Module, data: WindowTensors, scaler: Scaler) -> WindowTensors:
    """The window's rows through ``model``'s fitted fixed transform, once, as model input for its head.

    Every row is transformed (validation rows too: the transform has no labels
    and was fitted on the training rows only), in chunks of EVAL_BATCH_BYTES.
    """
    step = eval_batch_size(1, data.features)
    parts = []
    for start in range(0, len(data.features), step):
        x = scaler.apply(data.features[start:start + step])  # out of place: a slice is a view
        parts.append(model.features(model_registry.to_model_input(model, x, data.window_days, data.steps_per_day)))
    return WindowTensors(torch.cat(parts), data.labels, data.window_days, data.steps_per_day, model_input=True)


def keep_state(model: nn.Module, kept: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor]:
    """A copy of the model's state, written into ``kept`` (an earlier copy) when there is one.

    Overwriting in place keeps one copy of the weights alive instead of two
    while the new best is taken (84 MiB for the 30-day paper MLP).
    """
    state = model.state_dict()
    if kept is None:
        return {k: v.detach().clone() for k, v in state.items()}
    for key, value in state.items():
        kept[key].copy_(value.detach())
    return kept


def selection_score(result: EpochResult) -> float:
    """The score an epoch is chosen by: weighted F1 on the selection rows.

    A function of its own so tests can check which rows it ever sees.
    """
    return quick_scores(result.labels, result.probs)[1]


def train_fold(model_name: str, model_config: Any, data: WindowTensors, train_rows: np.ndarray,
               val_rows: np.ndarray, config: RunConfig, *, fold: int, seed: int,
               device: torch.device, precision: str = "fp32",
               on_epoch: Callable[[dict[str, float]], None] | None = None,
               groups: np.ndarray | None = None, objects: TrainingObjects | None = None) -> FoldResult:
    """Train one fold and keep the epoch with the best selection F1 (SPEC Module 5).

    AdamW, class-weighted cross-entropy (weights from the rows trained on),
    optional balanced sampling, gradient clipping, ReduceLROnPlateau on the
    selection loss (cosine annealing for the Transformer), optional early
    stopping on the selection loss.

    ``config.selection == 'outer'`` (the SPEC): the selection rows are the
    validation rows, so the reported score is the maximum over epochs of the
    very score reported. ``'inner'``: a stratified (grouped, when ``groups`` is
    given) share ``config.inner_fraction`` of the training rows is held out to
    choose the epoch; the validation rows are scored every epoch for the curves
    but never decide anything.

    ``objects`` (the SPEC's ``kfold_train_eval`` arguments) replaces the
    configuration's loss, optimizer, scheduler or GPUs where set.
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = model_registry.build_model(model_name, model_config).to(device)
    # Several GPUs: DataParallel splits each batch across them; checkpoints and the
    # optimizer keep using the plain module (same parameters).
    net = model
    device_ids = objects.device_ids if objects is not None else None
    if device_ids:
        if len(device_ids) > 1:
            net = nn.DataParallel(model, device_ids=list(device_ids))
    elif device.type == "cuda" and config.device in ("auto", "cuda") and torch.cuda.device_count() > 1:
        net = nn.DataParallel(model)
    if config.selection == "inner":
        all_labels = data.labels.cpu().numpy()
        fit_rows, selection_rows = inner_split(train_rows, all_labels, config.inner_fraction, seed, groups)
    else:
        fit_rows, selection_rows = train_rows, val_rows
    # Scaling statistics come from the outer training rows (never validation rows);
    # they involve no labels, so the inner selection rows may share them.
    scaler = Scaler.fit(config.scaling, data.features, train_rows)
    if hasattr(model, "fit_unsupervised"):
        # Models with data-dependent fixed parts (e.g. MiniRocket's biases) set them
        # from the rows they train on, without labels, before the first step.
        rows = torch.as_tensor(fit_rows, device=data.features.device)
        x = scaler.apply(data.features[rows], inplace=True)
        model.fit_unsupervised(model_registry.to_model_input(model, x, data.window_days, data.steps_per_day))

    if config.cache_features and hasattr(model, "feature_head"):
        # A fixed transform: compute the fold's features once and train the head on them,
        # instead of transforming every batch of every epoch again.
        epoch_data, epoch_scaler = cached_features(model, data, scaler), Scaler("none")
        net = model.feature_head()
    else:
        epoch_data, epoch_scaler = data, scaler

    train_labels_np = data.labels[torch.as_tensor(fit_rows, device=device)].cpu().numpy()
    counts = np.bincount(train_labels_np, minlength=2)
    loss_fn = fold_loss(config, counts, device, objects)
    sample_weights = None
    if config.balanced_sampling:
        sample_weights = torch.as_tensor(1.0 / counts[train_labels_np], dtype=torch.double)

    optimizer = fold_optimizer(model, config, device, objects)
    scheduler, monitor = fold_scheduler(optimizer, config, model_name, objects)

    history: list[dict[str, float]] = []
    best = {"f1": -math.inf, "epoch": 0, "state": None, "val": None}
    best_selection_loss, stale = math.inf, 0
    common = dict(scaler=epoch_scaler, loss_fn=loss_fn, batch_size=config.batch_size, precision=precision)
    for epoch in range(1, config.epochs + 1):
        lr = optimizer.param_groups[0]["lr"]
        train = run_epoch(net, epoch_data, fit_rows, optimizer=optimizer, generator=generator,
                          sample_weights=sample_weights, max_grad_norm=config.max_grad_norm, **common)
        val = run_epoch(net, epoch_data, val_rows, **common)
        selection = val if selection_rows is val_rows else run_epoch(net, epoch_data, selection_rows, **common)
        train_acc, train_f1 = quick_scores(train.labels, train.probs)
        val_acc, val_f1 = quick_scores(val.labels, val.probs)
        score = selection_score(selection)
        record = {"epoch": epoch, "train_loss": train.loss, "train_acc": train_acc, "train_f1": train_f1,
                  "val_loss": val.loss, "val_acc": val_acc, "val_f1": val_f1, "lr": lr}
        if selection is not val:
            record.update(sel_loss=selection.loss, sel_f1=score)
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if score > best["f1"]:
            best = {"f1": score, "epoch": epoch, "val": val, "state": keep_state(model, best["state"])}
        if monitor == "loss":
            scheduler.step(selection.loss)
        elif monitor == "f1":
            scheduler.step(score)
        elif scheduler is not None:
            scheduler.step()
        if selection.loss < best_selection_loss - 1e-6:
            best_selection_loss, stale = selection.loss, 0
        else:
            stale += 1
        if config.early_stopping and stale >= config.early_stopping_patience:
            break

    model.load_state_dict(best["state"])
    train_eval = run_epoch(net, epoch_data, train_rows, **common)
    val_eval = best["val"]
    metrics = calculate_binary_metrics(val_eval.labels.numpy(), (val_eval.probs.numpy() >= 0.5).astype(int),
                                       val_eval.probs.numpy())
    metrics.update(fold=fold, best_epoch=best["epoch"], n_train=int(len(train_rows)),
                   n_val=int(len(val_rows)), epochs_run=len(history), selection=config.selection,
                   n_fit=int(len(fit_rows)), n_selection=int(len(selection_rows)),
                   selection_f1=float(best["f1"]))
    return FoldResult(
        fold=fold, best_epoch=best["epoch"], history=history, metrics=metrics,
        train_rows=train_eval.rows.numpy(), val_rows=val_eval.rows.numpy(),
        train_probs=train_eval.probs.numpy(), val_probs=val_eval.probs.numpy(),
        train_labels=train_eval.labels.numpy(), val_labels=val_eval.labels.numpy(),
        model=model.eval(), scaler=scaler,
    )

