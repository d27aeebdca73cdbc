"""The fold trainer: one fold of one model, from a fresh model to the kept epoch (SPEC Module 5).

The optimizer, scheduler and loss of a fold (the run configuration's, or the objects a
caller of the SPEC's ``kfold_train_eval`` hands in), the choice of the kept epoch
(:class:`EpochSelection`), and the fixed-transform baselines' cached features.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import torch
from torch import nn

from seismag import models as model_registry
from seismag.config import RunConfig
from seismag.dataset.balance import compute_class_weights
from seismag.errors import ConfigError
from seismag.training.loop import EpochResult, eval_batch_size, quick_scores, run_epoch
from seismag.training.losses import make_loss
from seismag.training.metrics import calculate_binary_metrics
from seismag.training.splits import FoldRows
from seismag.training.tensors import Scaler, WindowTensors


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
    impl = config.optimizer_impl  # one of config.OPTIMIZER_IMPLS (RunConfig checks it)
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


def epoch_record(epoch: int, train: EpochResult, val: EpochResult, selection: EpochResult, score: float,
                 lr: float) -> dict[str, float]:
    """One epoch-log line's values: the fit rows' and validation rows' loss, accuracy and F1,
    the learning rate, and (under inner selection) the selection rows' loss and F1."""
    train_acc, train_f1 = quick_scores(train.labels, train.probs)
    val_acc, val_f1 = quick_scores(val.labels, val.probs)
    record = {"epoch": epoch, "train_loss": train.loss, "train_acc": train_acc, "train_f1": train_f1,
              "val_loss": val.loss, "val_acc": val_acc, "val_f1": val_f1, "lr": lr}
    if selection is not val:
        record.update(sel_loss=selection.loss, sel_f1=score)
    return record


class EpochSelection:
    """Which epoch a fold keeps, and when it stops.

    The kept epoch has the highest selection F1 and, among epochs tied on it, the
    lowest selection loss (the first of those still tied): its weights (one buffer,
    overwritten in place) and its validation pass. F1 on a few selection rows ties
    often (every epoch that classifies them all scores 1), and the first tied epoch
    is the least trained one: on GunPoint it kept MiniRocket's head after one epoch
    and cost 13 points of test accuracy. Early stopping counts the epochs since the
    selection loss last improved by more than 1e-6.
    """

    def __init__(self) -> None:
        self.f1 = -math.inf
        self.epoch = 0
        self.state: dict[str, torch.Tensor] | None = None
        self.val: EpochResult | None = None
        self._best_loss = math.inf
        self.kept_loss = math.inf
        self.stale = 0

    def update(self, epoch: int, score: float, selection_loss: float, val: EpochResult, model: nn.Module) -> None:
        if self.consider(epoch, score, selection_loss, val):
            self.state = keep_state(model, self.state)

    def consider(self, epoch: int, score: float, selection_loss: float, val: EpochResult) -> bool:
        """Keep ``epoch`` (its scores and validation pass) if it beats the kept one, and count
        the epochs since the selection loss last improved; True when it was kept."""
        kept = score > self.f1 or (score == self.f1 and selection_loss < self.kept_loss)
        if kept:
            self.f1, self.epoch, self.val, self.kept_loss = score, epoch, val, selection_loss
        if selection_loss < self._best_loss - 1e-6:
            self._best_loss, self.stale = selection_loss, 0
        else:
            self.stale += 1
        return kept


def train_fold(model_name: str, model_config: Any, data: WindowTensors, rows: FoldRows, config: RunConfig, *,
               fold: int, seed: int, device: torch.device, precision: str = "fp32",
               on_epoch: Callable[[dict[str, float]], None] | None = None,
               objects: TrainingObjects | None = None) -> FoldResult:
    """Train one fold and keep the epoch with the best selection F1 (SPEC Module 5).

    AdamW, class-weighted cross-entropy (weights from the rows trained on),
    optional balanced sampling, gradient clipping, ReduceLROnPlateau on the
    selection loss (cosine annealing for the Transformer), optional early
    stopping on the selection loss.

    ``rows`` (:func:`~seismag.training.splits.fold_rows`, cut by the caller): under
    outer selection (the SPEC's) the selection rows are the validation rows, so the
    reported score is the maximum over epochs of the very score reported; under inner
    selection a share of the training rows chooses the epoch, and the validation rows
    are scored every epoch for the curves but never decide anything.

    ``objects`` (the SPEC's ``kfold_train_eval`` arguments) replaces the
    configuration's loss, optimizer, scheduler or GPUs where set.
    """
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = model_registry.build_model(model_name, model_config).to(device)
    entry = model_registry.get_model_entry(model_name)
    if entry.recurrent:
        model.set_recurrent_impl(config.recurrent_impl)
    # Several GPUs: DataParallel splits each batch across them; checkpoints and the
    # optimizer keep using the plain module (same parameters).
    net = model
    device_ids = objects.device_ids if objects is not None else None
    if device_ids:
        if len(device_ids) > 1:
            net = nn.DataParallel(model, device_ids=list(device_ids))
    elif device.type == "cuda" and config.device in ("auto", "cuda") and torch.cuda.device_count() > 1:
        net = nn.DataParallel(model)
    train_rows, val_rows, fit_rows, selection_rows = rows.train, rows.val, rows.fit, rows.selection
    selects_on_validation = rows.selects_on_validation
    # Scaling statistics come from the outer training rows (never validation rows);
    # they involve no labels, so the inner selection rows may share them.
    # The entry says how the run's scaling applies to the model's rows (a table's columns
    # are not one series to standardise together).
    scaler = Scaler.fit(entry.scaling_for(config.scaling), data.features, train_rows)
    fixed_transform = entry.fitted_transform
    if fixed_transform:
        # Models with a fitted transform (the fixed-transform baselines) set its
        # data-dependent parts from the rows they train on, without labels, before the first step.
        fit_index = torch.as_tensor(fit_rows, device=data.features.device)
        x = scaler.apply(data.features[fit_index], inplace=True)
        model.fit_unsupervised(model_registry.to_model_input(model, x, data.window_days, data.steps_per_day))

    if entry.fitted_head:
        return fit_head_fold(model, cached_features(model, data, scaler), rows, config, fold=fold, seed=seed,
                             device=device, scaler=scaler, on_epoch=on_epoch, objects=objects,
                             importances=entry.importances)
    if config.cache_features and fixed_transform:
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
    best = EpochSelection()
    common = dict(scaler=epoch_scaler, loss_fn=loss_fn, batch_size=config.batch_size, precision=precision)
    for epoch in range(1, config.epochs + 1):
        lr = optimizer.param_groups[0]["lr"]
        train = run_epoch(net, epoch_data, fit_rows, optimizer=optimizer, generator=generator,
                          sample_weights=sample_weights, max_grad_norm=config.max_grad_norm, **common)
        val = run_epoch(net, epoch_data, val_rows, **common)
        selection = val if selects_on_validation else run_epoch(net, epoch_data, selection_rows, **common)
        score = selection_score(selection)
        record = epoch_record(epoch, train, val, selection, score, lr)
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        best.update(epoch, score, selection.loss, val, model)
        if monitor == "loss":
            scheduler.step(selection.loss)
        elif monitor == "f1":
            scheduler.step(score)
        elif scheduler is not None:
            scheduler.step()
        if config.early_stopping and best.stale >= config.early_stopping_patience:
            break

    model.load_state_dict(best.state)
    return fold_result(model, run_epoch(net, epoch_data, train_rows, **common), best, history, rows, config,
                       fold=fold, scaler=scaler)


def fold_result(model: nn.Module, train_eval: EpochResult, best: EpochSelection, history: list[dict[str, float]],
                rows: FoldRows, config: RunConfig, *, fold: int, scaler: Scaler,
                extra: dict[str, Any] | None = None) -> FoldResult:
    """The fold's result from its kept epoch: the validation pass ``best`` kept and the metrics on it."""
    val_eval = best.val
    metrics = calculate_binary_metrics(val_eval.labels.numpy(), (val_eval.probs.numpy() >= 0.5).astype(int),
                                       val_eval.probs.numpy())
    metrics.update(fold=fold, best_epoch=best.epoch, n_train=int(len(rows.train)),
                   n_val=int(len(rows.val)), epochs_run=len(history), selection=config.selection,
                   n_fit=int(len(rows.fit)), n_selection=int(len(rows.selection)),
                   selection_f1=float(best.f1))
    return FoldResult(
        fold=fold, best_epoch=best.epoch, history=history, metrics=metrics,
        train_rows=train_eval.rows.numpy(), val_rows=val_eval.rows.numpy(),
        train_probs=train_eval.probs.numpy(), val_probs=val_eval.probs.numpy(),
        train_labels=train_eval.labels.numpy(), val_labels=val_eval.labels.numpy(),
        model=model.eval(), scaler=scaler, extra=dict(extra or {}),
    )


def fit_head_fold(model: nn.Module, features: WindowTensors, rows: FoldRows, config: RunConfig, *, fold: int,
                  seed: int, device: torch.device, scaler: Scaler,
                  on_epoch: Callable[[dict[str, float]], None] | None = None,
                  objects: TrainingObjects | None = None, importances: bool = False) -> FoldResult:
    """A fold of a model whose head is fitted at once (a boosted head; registry ``fitted_head``).

    The head is fitted on the fit rows' features with the fold's class weights as sample
    weights (``--balanced-sampling`` multiplies them by the inverse class counts: balanced
    draws in expectation). Its boosting stages are its epochs: every stage is scored on the
    fit, validation and selection rows (one epoch-log line each), and the stage kept is
    chosen by :class:`EpochSelection` exactly as an epoch is, early stopping included. The
    fold's feature importances (``importances``: the registry's) come back in
    ``extra['feature_importance']``.
    """
    x, labels = features.features, features.labels
    fit_rows = torch.as_tensor(rows.fit, dtype=torch.long, device=x.device)
    fit_labels = labels[fit_rows].cpu().numpy()
    counts = np.bincount(fit_labels, minlength=2)
    loss_fn = fold_loss(config, counts, device, objects)
    weights = np.ones(len(fit_labels))
    if config.class_weight_method != "none":
        weights = compute_class_weights(counts, method=config.class_weight_method)[fit_labels]
    if config.balanced_sampling:
        weights = weights / counts[fit_labels] * len(fit_labels) / 2.0
    model.fit_head(x[fit_rows], labels[fit_rows], weights, seed)
    staged = model.staged_scores(x).float()  # (rows, stages): log-odds of class 1 after each stage

    def scored(stage: int, row_set: np.ndarray) -> EpochResult:
        index = torch.as_tensor(row_set, dtype=torch.long, device=x.device)
        score = staged[index, stage]
        logits = torch.stack([torch.zeros_like(score), score], dim=1)
        return EpochResult(loss=float(loss_fn(logits, labels[index])), probs=torch.sigmoid(score).cpu(),
                           labels=labels[index].cpu(), rows=index.cpu())

    history: list[dict[str, float]] = []
    best = EpochSelection()
    shrinkage = float(getattr(model.config, "shrinkage", math.nan))
    for stage in range(staged.shape[1]):
        train, val = scored(stage, rows.fit), scored(stage, rows.val)
        selection = val if rows.selects_on_validation else scored(stage, rows.selection)
        score = selection_score(selection)
        record = epoch_record(stage + 1, train, val, selection, score, shrinkage)
        history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        best.consider(stage + 1, score, selection.loss, val)
        if config.early_stopping and best.stale >= config.early_stopping_patience:
            break
    model.keep_stages(best.epoch)
    extra = {}
    if importances:
        val_index = torch.as_tensor(rows.val, dtype=torch.long, device=x.device)
        extra["feature_importance"] = model.feature_importance(x[val_index], labels[val_index], seed)
    return fold_result(model, scored(best.epoch - 1, rows.train), best, history, rows, config, fold=fold,
                       scaler=scaler, extra=extra)
