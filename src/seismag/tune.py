"""Hyperparameter search with Optuna (``seismag tune``, ``main_gru(optimize=True)``).

A study maximises the weighted F1 of one model on one window, measured on an
*inner* split carved from the training rows of one outer cross-validation
fold, and prunes trials whose per-epoch F1 on those rows falls below the
median of earlier trials.

Honest numbers: which rows the search sees
------------------------------------------
The outer folds are the ones ``seismag train`` will use with the written
configuration (same seed, split and number of folds, see :func:`tuning_split`).

``protocol='fold'`` (default)
    The search sees only the training rows of outer fold ``outer_fold``
    (default 1): trials train on part of them and are scored on the rest (a
    stratified, or grouped with ``split='group'``, share ``inner_fraction``).
    That fold's validation rows are never read by any trial, so fold
    ``outer_fold``'s score in a later ``seismag train --config best_config.toml``
    is clean. The other folds' validation rows lie inside fold
    ``outer_fold``'s training rows, which the search did see: their scores are
    (mildly) optimistic. ``tune_summary.json`` says so and names the clean fold.
``protocol='nested'``
    One study per outer fold, each on that fold's training rows only; then each
    fold is trained with its own best parameters and scored on its validation
    rows. The mean over folds is a nested cross-validation estimate of the
    whole procedure (search + training), clean on every fold. It costs one
    study per fold and yields one configuration per fold (``fold_{k}/``), not
    one configuration to deploy.

Several processes share one study
---------------------------------
Every process given the same ``storage`` URL and study name works on one
study (Optuna's RDB storage): the default is an SQLite file ``tune.db`` in
``out_dir``; a PostgreSQL or MySQL URL works for many machines. With
``trials=N`` the processes together finish exactly N trials (completed or
pruned): a trial number is claimed before it runs, and a process that finds N
trials already claimed stops. A process killed outright (SIGKILL) leaves its
trial RUNNING, and that trial still counts.

Optuna is an optional extra (``pip install 'seismag[tune]'``), imported only here.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import logging
import math
import os
import re
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

from . import __version__
from . import models as model_registry
from .config import FIELD_NAMES, RunConfig, make_config, read_config_file, write_config_toml
from .data.loading import WindowData, load_window
from .errors import ConfigError
from .io import atomic_path, write_json, write_text
from .training.tensors import WindowTensors
from .runtime import derive_seed, prepare_training
from .training.fold import train_fold
from .training.splits import make_splits, split_groups
from .training.splits import inner_split

logger = logging.getLogger("seismag")

PROTOCOLS = ("fold", "nested")
OBJECTIVE = "weighted F1 on the inner validation rows (the model of the epoch the run's selection keeps)"

PROTOCOL_NOTES = {
    "fold": ("the search saw only the training rows of outer fold {fold} of {num_folds} (trials trained on "
             "{n_fit} of them and were scored on {n_val}); that fold's {n_held_out} validation rows were never "
             "seen, so fold {fold}'s score in a k-fold run with this configuration is clean. The other folds' "
             "validation rows lie inside the rows the search saw: their scores are optimistic."),
    "nested": ("nested cross-validation: one study per outer fold on that fold's training rows only (inner "
               "split {share:.0%}); each fold was then trained with its own best parameters and scored on its "
               "validation rows, which its search never saw. Every fold's score is clean."),
}

# Run settings that a search may vary (everything else is protocol or data).
_NOT_TUNABLE = {"models", "windows", "model_overrides", "steps_per_day", "seed", "num_folds", "split",
                "group_by", "time_column", "embargo_days", "selection", "inner_fraction",
                "permutation_control", "nan_policy", "max_missing", "device", "precision"}
TUNABLE_RUN_FIELDS = frozenset(FIELD_NAMES - _NOT_TUNABLE)


# --------------------------------------------------------------------------- search space
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
        labels = [_encode(v) for v in self.choices]
        return self.choices[labels.index(trial.suggest_categorical(name, labels))]

    def contains(self, value: Any) -> bool:
        if self.kind == "choice":
            return _encode(value) in [_encode(v) for v in self.choices]
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
}


def model_fields(model: str) -> set[str]:
    """The settings of ``model``'s config dataclass (what ``[model.<name>]`` may set)."""
    return {f.name for f in dataclasses.fields(model_registry.get_model_entry(model).config_cls)}


def search_space(model: str, overrides: Mapping[str, Param | None] | None = None) -> dict[str, Param]:
    """The search space for ``model``: :data:`RUN_SPACE` plus the :data:`MODEL_SPACE`
    entries its config has, then ``overrides`` (a :class:`Param` replaces or adds
    a dimension, None removes one).

    Raises
    ------
    ConfigError
        A key that is neither a tunable run setting nor a setting of the model,
        or Transformer widths that some head count does not divide.
    """
    fields = model_fields(model)
    space = dict(RUN_SPACE)
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


# --------------------------------------------------------------------------- which rows the search sees
@dataclass(frozen=True)
class TuningSplit:
    """The rows one study uses, as indices into the window's samples.

    ``fit_rows`` train the trials, ``val_rows`` score and prune them; both lie
    inside outer fold ``outer_fold``'s training rows. ``held_out_rows`` are
    that fold's validation rows: no trial reads them.
    """

    outer_fold: int
    num_folds: int
    fit_rows: np.ndarray
    val_rows: np.ndarray
    held_out_rows: np.ndarray

    def counts(self) -> dict[str, int]:
        return {"outer_fold": self.outer_fold, "num_folds": self.num_folds, "n_fit": int(len(self.fit_rows)),
                "n_val": int(len(self.val_rows)), "n_held_out": int(len(self.held_out_rows))}


def tuning_split(config: RunConfig, data: WindowData, outer_fold: int = 1,
                 inner_fraction: float | None = None) -> TuningSplit:
    """Carve the tuning rows out of outer fold ``outer_fold``'s training rows.

    The outer folds are :func:`~seismag.training.splits.make_splits` of ``config``,
    i.e. the folds ``seismag train`` uses with the same seed, split and number of
    folds. The inner split is stratified by label, and grouped by
    ``config.group_by`` when ``config.split == 'group'`` (no group on both sides).
    With ``split='time'`` the inner split is not time-ordered; the outer fold's
    validation block and its embargo stay out of it all the same.
    """
    splits = make_splits(config, data)
    if not 1 <= int(outer_fold) <= len(splits):
        raise ConfigError(f"outer_fold must be between 1 and {len(splits)}, got {outer_fold}")
    train_rows, held_out = splits[int(outer_fold) - 1]
    fraction = config.inner_fraction if inner_fraction is None else float(inner_fraction)
    if not 0.05 <= fraction <= 0.5:
        raise ConfigError(f"inner_fraction must be in [0.05, 0.5], got {fraction}")
    fit_rows, val_rows = inner_split(train_rows, data.labels, fraction,
                                     derive_seed(config.seed, "tune", int(outer_fold)), split_groups(config, data))
    return TuningSplit(int(outer_fold), len(splits), fit_rows, val_rows, np.asarray(held_out, dtype=np.int64))


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class StudyResult:
    """One study: its best trial and the files written for it."""

    outer_fold: int
    study_name: str
    best_params: dict[str, Any]
    best_value: float
    best_trial: int
    n_complete: int
    n_pruned: int
    n_failed: int
    config_path: Path
    trials_path: Path
    rows_path: Path


@dataclass(frozen=True)
class TuneResult:
    """What :func:`run_study` did.

    ``studies`` holds one study (``protocol='fold'``) or one per outer fold
    (``'nested'``); ``nested`` the nested cross-validation scores.
    """

    model: str
    window_days: int
    protocol: str
    storage: str
    out_dir: Path
    summary_path: Path
    studies: tuple[StudyResult, ...]
    nested: dict[str, Any] | None = None

    @property
    def best_params(self) -> dict[str, Any] | None:
        """The best parameters (``protocol='fold'``); None for a nested run (one set per fold)."""
        return self.studies[0].best_params if self.protocol == "fold" else None

    @property
    def config_path(self) -> Path | None:
        """``best_config.toml`` for ``seismag train --config`` (``protocol='fold'``), else None."""
        return self.studies[0].config_path if self.protocol == "fold" else None

    @property
    def clean_folds(self) -> list[int]:
        """Outer folds whose validation rows no search saw."""
        return [s.outer_fold for s in self.studies]


# --------------------------------------------------------------------------- the search
def import_optuna():
    """The ``optuna`` module, or a ConfigError that says how to install it."""
    try:
        import optuna
    except ImportError:
        raise ConfigError("hyperparameter search needs Optuna: pip install 'seismag[tune]'") from None
    return optuna


def run_study(data_dir, model: str, window_days: int, *, trials: int = 50, timeout: float | None = None,
              storage: str | None = None, study_name: str | None = None, preset: str = "paper",
              config_file=None, out_dir="tuning", protocol: str = "fold", outer_fold: int = 1,
              inner_fraction: float | None = None, space: Mapping[str, Param | None] | None = None,
              enqueue: Sequence[Mapping[str, Any]] = (), baseline: bool = True, pruning: bool = True,
              n_startup_trials: int = 10, prune_startup_trials: int = 5, prune_warmup_epochs: int = 2,
              **config_overrides: Any) -> TuneResult:
    """Search hyperparameters of ``model`` on the ``window_days`` window with Optuna.

    Parameters
    ----------
    data_dir : path
        Seed-layout data.
    model : str
        Registry name ('gru', 'lstm', 'rnn', 'mlp', 'transformer').
    window_days : int
        The window tuned on.
    trials : int
        Trials (completed + pruned) the study should have in total, shared by
        every process working on it.
    timeout : float, optional
        Seconds after which this process starts no new trial (a running one finishes).
    storage : str, optional
        Optuna storage URL; default ``sqlite:///{out_dir}/tune.db``. Processes
        with the same URL and study name share the study.
    study_name : str, optional
        Default ``seismag-{model}-{window_days}d`` (``-fold{k}`` appended per
        outer fold in a nested run).
    preset, config_file, **config_overrides
        The base run configuration, as for ``seismag train`` (``epochs=10``,
        ``steps_per_day=60``, ``seed=1``, ``model_overrides=...``; None values are
        ignored). Trials train exactly as ``seismag train`` would with it,
        including its epoch selection.
    out_dir : path
        Where ``best_config.toml``, ``trials.csv``, ``tuning_rows.npz`` and
        ``tune_summary.json`` go (nested: ``fold_{k}/`` per fold).
    protocol : {'fold', 'nested'}
        Which rows the search sees; see the module docstring.
    outer_fold : int
        The outer fold whose training rows a 'fold' search uses.
    inner_fraction : float, optional
        Share of the outer training rows the trials are scored on; default the
        configuration's ``inner_fraction`` (0.2).
    space : mapping, optional
        Search-space changes (see :func:`search_space`).
    enqueue : sequence of mappings
        Parameter sets to try first, e.g. ``[{"learning_rate": 3e-3}]`` (unset
        dimensions are sampled; a numeric value may lie outside its range, a
        choice must be one of the choices).
    baseline : bool
        Try the untuned configuration first (its values that lie in the space),
        so the best trial is never worse than the untuned one on the inner split.
    pruning : bool
        Prune trials with Optuna's MedianPruner on the per-epoch inner F1.
    n_startup_trials : int
        Random trials before TPE models the results.
    prune_startup_trials, prune_warmup_epochs : int
        No pruning before that many trials have completed, nor before that epoch.

    Returns
    -------
    TuneResult

    Raises
    ------
    ConfigError
        Optuna missing, a bad option, or no trial completed (e.g. the timeout
        came first).
    """
    optuna = import_optuna()
    if protocol not in PROTOCOLS:
        raise ConfigError(f"unknown tuning protocol '{protocol}'; use {' or '.join(PROTOCOLS)}")
    if int(trials) < 1:
        raise ConfigError(f"trials must be at least 1, got {trials}")
    if timeout is not None and not float(timeout) > 0:
        raise ConfigError(f"timeout must be positive seconds, got {timeout}")
    config = make_config(preset, config_file, models=[model], windows=[int(window_days)], **config_overrides)
    if config_file is not None:  # the file's preset wins, as in make_config
        preset = read_config_file(config_file).get("preset") or preset
    model = config.models[0]
    space = search_space(model, space)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    storage_url = storage or f"sqlite:///{(out_dir / 'tune.db').resolve()}"
    base_name = study_name or f"seismag-{model}-{int(window_days)}d"
    device, precision = prepare_training(config)
    data = load_window(data_dir, int(window_days), config.steps_per_day, nan_policy=config.nan_policy,
                       max_missing=config.max_missing)
    tensors = WindowTensors.from_window(data, device)
    deadline = None if timeout is None else time.monotonic() + float(timeout)
    began = time.perf_counter()
    search = _Search(optuna, config, data, tensors, model, space, device, precision, pruning)
    options = dict(trials=int(trials), deadline=deadline, storage_url=storage_url, enqueue=enqueue,
                   baseline=baseline, n_startup_trials=n_startup_trials,
                   prune_startup_trials=prune_startup_trials, prune_warmup_epochs=prune_warmup_epochs)

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # seismag logs each trial itself
    try:
        if protocol == "fold":
            split = tuning_split(config, data, outer_fold, inner_fraction)
            studies = (search.run(split, base_name, out_dir, preset, **options),)
            nested = None
        else:
            studies, fold_scores = [], []
            for fold in range(1, len(make_splits(config, data)) + 1):
                split = tuning_split(config, data, fold, inner_fraction)
                result = search.run(split, f"{base_name}-fold{fold}", out_dir / f"fold_{fold}", preset, **options)
                studies.append(result)
                fold_scores.append(search.score_outer_fold(result, split))
            studies = tuple(studies)
            nested = _nested_record(fold_scores)
    finally:
        optuna.logging.set_verbosity(verbosity)

    share = config.inner_fraction if inner_fraction is None else float(inner_fraction)
    first = studies[0]
    counts = _split_counts(config, data, outer_fold, share)
    protocol_record = {
        "protocol": protocol,
        "note": PROTOCOL_NOTES[protocol].format(fold=outer_fold, share=share, **counts),
        "clean_folds": [s.outer_fold for s in studies],
        "split": config.split, "group_by": config.group_by if config.split == "group" else None,
        "num_folds": config.num_folds, "seed": config.seed, "inner_fraction": share,
        "inner_split": {"stratified": "stratified by label",
                        "group": f"stratified by label, grouped by {config.group_by}",
                        "time": "stratified by label (not time-ordered; the outer embargo still applies)"}
                       [config.split],
        "selection": config.selection,
    }
    summary = {
        "model": model, "window_days": int(window_days), "objective": OBJECTIVE, "direction": "maximize",
        "protocol": protocol_record,
        "storage": redact_url(storage_url), "trials_requested": int(trials),
        "search_space": {k: v.describe() for k, v in space.items()},
        "sampler": f"TPE (seeded per trial number from seed {config.seed}, {n_startup_trials} random startup trials)",
        "pruner": (f"median of earlier trials' inner F1 at the same epoch, after {prune_startup_trials} completed "
                   f"trials and from epoch {max(1, prune_warmup_epochs)}") if pruning else "none",
        "studies": [_study_record(s, out_dir) for s in studies],
        "nested": nested,
        "best_params": first.best_params if protocol == "fold" else None,
        "best_value": first.best_value if protocol == "fold" else None,
        "best_config": str(first.config_path.relative_to(out_dir)) if protocol == "fold" else None,
        "run_config": config.to_dict(), "data_dir": str(Path(data_dir).resolve()),
        "elapsed_s": round(time.perf_counter() - began, 2), "seismag_version": __version__,
        "optuna_version": optuna.__version__, "written_at": datetime.now().isoformat(timespec="seconds"),
    }
    summary_path = write_json(out_dir / "tune_summary.json", summary)
    return TuneResult(model, int(window_days), protocol, redact_url(storage_url), out_dir, summary_path,
                      studies, nested)


def tuned_config(data_dir, model: str, window_days: int, **kwargs: Any) -> RunConfig:
    """Tune (``protocol='fold'``), then return the configuration to train with.

    For ``main_gru(optimize=True)`` and siblings: the result is
    ``make_config(preset, best_config.toml)``, i.e. the base configuration with
    the best parameters, for ``model`` on ``window_days``. ``kwargs`` go to
    :func:`run_study`.
    """
    if kwargs.get("protocol", "fold") != "fold":
        raise ConfigError("tuned_config needs protocol='fold' (a nested run yields one configuration per fold)")
    result = run_study(data_dir, model, window_days, **kwargs)
    return make_config(kwargs.get("preset", "paper"), result.config_path)


class _Search:
    """The objective and the trial loop for one window's data (shared by every study of a run)."""

    def __init__(self, optuna, config: RunConfig, data: WindowData, tensors: WindowTensors, model: str,
                 space: dict[str, Param], device, precision: str, pruning: bool):
        self.optuna, self.config, self.data, self.tensors = optuna, config, data, tensors
        self.model, self.space, self.device, self.precision = model, space, device, precision
        self.pruning = pruning
        self.fields = model_fields(model)
        self.groups = split_groups(config, data)

    # ---------------------------------------------------------------- parameters -> configs
    def configs(self, params: Mapping[str, Any]):
        """(run config, model config) for a parameter set."""
        run_values = {k: v for k, v in params.items() if k in TUNABLE_RUN_FIELDS}
        model_values = {k: v for k, v in params.items() if k in self.fields}
        unknown = set(params) - set(run_values) - set(model_values)
        if unknown:
            raise ConfigError(f"cannot apply parameter(s) {', '.join(sorted(unknown))} to {self.model}")
        config = dataclasses.replace(self.config, **run_values)
        model_config = model_registry.model_config(
            self.model, self.data.window_days, self.data.steps_per_day,
            **{**self.config.overrides_for(self.model, self.fields), **model_values})
        return config, model_config

    def baseline_params(self) -> dict[str, Any]:
        """The untuned configuration's values of the searched settings (those inside the space)."""
        _, model_config = self.configs({})
        current = {}
        for name, param in self.space.items():
            value = getattr(self.config, name) if name in TUNABLE_RUN_FIELDS else getattr(model_config, name)
            if param.contains(value):
                current[name] = value
        return current

    # ---------------------------------------------------------------- one study
    def run(self, split: TuningSplit, study_name: str, out_dir: Path, preset: str, *, trials: int,
            deadline: float | None, storage_url: str, enqueue: Sequence[Mapping[str, Any]], baseline: bool,
            n_startup_trials: int, prune_startup_trials: int, prune_warmup_epochs: int) -> StudyResult:
        optuna = self.optuna
        # Creating the tables of a new database, the study, and enqueueing the first
        # trials is done by one process at a time: two processes starting together on a
        # fresh SQLite file would otherwise both create its tables (and fail) or both
        # enqueue the baseline.
        with storage_lock(storage_url):
            study = optuna.create_study(
                study_name=study_name, storage=open_storage(storage_url), direction="maximize",
                load_if_exists=True, sampler=_trial_seeded_tpe(optuna, self.config.seed, n_startup_trials),
                pruner=(optuna.pruners.MedianPruner(n_startup_trials=prune_startup_trials,
                                                    n_warmup_steps=prune_warmup_epochs)
                        if self.pruning else optuna.pruners.NopPruner()))
            self._check_setup(study, split)
            first = [self.baseline_params()] if baseline else []
            for params in first + [dict(p) for p in enqueue]:
                study.enqueue_trial({k: _encode(v) for k, v in params.items()}, skip_if_exists=True)
        logger.info("tuning %s %dd: study '%s' (%s), %d trials, outer fold %d of %d: %d rows to fit, "
                    "%d to score, %d held out", self.model, self.data.window_days, study_name,
                    redact_url(storage_url), trials, split.outer_fold, split.num_folds, len(split.fit_rows),
                    len(split.val_rows), len(split.held_out_rows))
        ran = run_trials(study, lambda trial: self.objective(trial, split), trials, deadline)

        finished = study.get_trials(deepcopy=False)
        states = optuna.trial.TrialState
        complete = [t for t in finished if t.state == states.COMPLETE]
        if not complete:
            raise ConfigError(f"study '{study_name}': no trial completed ({ran} run here); "
                              "allow more time or trials")
        best = study.best_trial
        best_params = {name: self._decode(name, value) for name, value in best.params.items()}
        out_dir.mkdir(parents=True, exist_ok=True)
        trials_path = write_trials_csv(out_dir / "trials.csv", finished)
        rows_path = out_dir / "tuning_rows.npz"
        with atomic_path(rows_path) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, fit_rows=split.fit_rows, val_rows=split.val_rows,
                         held_out_rows=split.held_out_rows)
        config_path = self.write_best_config(out_dir / "best_config.toml", preset, best_params, study_name,
                                             best, split)
        n_pruned = sum(t.state == states.PRUNED for t in finished)
        n_failed = sum(t.state == states.FAIL for t in finished)
        logger.info("best trial %d: inner F1 %.4f  %s  (%d complete, %d pruned)", best.number, best.value,
                    format_params(best_params), len(complete), n_pruned)
        return StudyResult(split.outer_fold, study_name, best_params, float(best.value), best.number,
                           len(complete), n_pruned, n_failed, config_path, trials_path, rows_path)

    def _check_setup(self, study, split: TuningSplit) -> None:
        """A study joined by several processes must be one search: same model, data rows and space."""
        setup = {"model": self.model, "window_days": self.data.window_days, "outer_fold": split.outer_fold,
                 "num_folds": split.num_folds, "seed": self.config.seed, "split": self.config.split,
                 "n_fit": int(len(split.fit_rows)), "n_val": int(len(split.val_rows)),
                 "epochs": self.config.epochs,
                 "space": {k: v.describe() for k, v in sorted(self.space.items())}}
        existing = study.user_attrs.get("seismag_setup")
        if existing is None:
            study.set_user_attr("seismag_setup", setup)
        elif existing != setup:
            differ = sorted(k for k in set(setup) | set(existing) if setup.get(k) != existing.get(k))
            raise ConfigError(f"study '{study.study_name}' exists with another setup ({', '.join(differ)} "
                              "differ); use another --study name or storage")

    def objective(self, trial, split: TuningSplit) -> float:
        params = {name: param.suggest(trial, name) for name, param in self.space.items()}
        config, model_config = self.configs(params)
        optuna = self.optuna

        def on_epoch(record: dict[str, float]) -> None:
            trial.report(record["val_f1"], record["epoch"])
            if self.pruning and trial.should_prune():
                trial.set_user_attr("pruned_at_epoch", int(record["epoch"]))
                raise optuna.TrialPruned(f"inner F1 {record['val_f1']:.4f} at epoch {record['epoch']}")

        # One seed for every trial: trials differ by their parameters, not by their luck.
        seed = derive_seed(self.config.seed, "tune", self.model, self.data.window_days, split.outer_fold)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        began = time.perf_counter()
        try:
            result = train_fold(self.model, model_config, self.tensors, split.fit_rows, split.val_rows, config,
                                fold=split.outer_fold, seed=seed, device=self.device, precision=self.precision,
                                on_epoch=on_epoch, groups=self.groups)
        except optuna.TrialPruned:
            logger.info("trial %d pruned at epoch %s  %s", trial.number, trial.user_attrs.get("pruned_at_epoch"),
                        format_params(params))
            raise
        metrics = result.metrics
        trial.set_user_attr("best_epoch", int(result.best_epoch))
        trial.set_user_attr("epochs_run", int(metrics["epochs_run"]))
        for key in ("mcc", "roc_auc"):
            if metrics.get(key) is not None:
                trial.set_user_attr(key, float(metrics[key]))
        logger.info("trial %d: inner F1 %.4f  MCC %.4f  (best epoch %d, %.1f s)  %s", trial.number,
                    metrics["f1"], metrics["mcc"], result.best_epoch, time.perf_counter() - began,
                    format_params(params))
        return float(metrics["f1"])

    def score_outer_fold(self, study: StudyResult, split: TuningSplit) -> dict[str, Any]:
        """Nested protocol: train outer fold k with its study's best parameters, score its validation rows.

        The fold seed is the one ``seismag train`` uses for that fold.
        """
        config, model_config = self.configs(study.best_params)
        train_rows, val_rows = make_splits(self.config, self.data)[split.outer_fold - 1]
        seed = derive_seed(self.config.seed, self.model, self.data.window_days, split.outer_fold)
        result = train_fold(self.model, model_config, self.tensors, train_rows, val_rows, config,
                            fold=split.outer_fold, seed=seed, device=self.device, precision=self.precision,
                            groups=self.groups)
        metrics = result.metrics
        logger.info("nested fold %d: F1 %.4f  MCC %.4f on %d validation rows its search never saw",
                    split.outer_fold, metrics["f1"], metrics["mcc"], len(val_rows))
        return {"fold": split.outer_fold, "inner_f1": study.best_value, "best_params": study.best_params,
                **{k: metrics.get(k) for k in ("f1", "mcc", "roc_auc", "precision", "recall", "accuracy",
                                                "best_epoch", "n_train", "n_val")}}

    # ---------------------------------------------------------------- output
    def write_best_config(self, path: Path, preset: str, best_params: Mapping[str, Any], study_name: str,
                          best, split: TuningSplit) -> Path:
        """A TOML that ``seismag train --config`` accepts: the base configuration plus the best parameters.

        It keeps the seed, split and number of folds, so training with it uses
        the outer folds the search was protected from.
        """
        preset_config = make_config(preset)
        values: dict[str, Any] = {"preset": preset, "models": [self.model], "windows": [self.data.window_days]}
        for field in dataclasses.fields(RunConfig):
            name = field.name
            if name in ("models", "windows", "model_overrides"):
                continue
            value = best_params.get(name, getattr(self.config, name))
            if name in best_params or value != getattr(preset_config, name) or name in ("seed", "split",
                                                                                         "num_folds"):
                values[name] = list(value) if isinstance(value, tuple) else value
        model_values = {**self.config.overrides_for(self.model, self.fields),
                        **{k: v for k, v in best_params.items() if k in self.fields}}
        if model_values:
            values["model_overrides"] = {self.model: {k: list(v) if isinstance(v, tuple) else v
                                                      for k, v in model_values.items()}}
        write_config_toml(path, values)
        header = [f"# seismag tune: study '{study_name}', best trial {best.number}",
                  f"# {OBJECTIVE}: {best.value:.4f}",
                  f"# searched on outer fold {split.outer_fold} of {split.num_folds}'s training rows only: "
                  f"fold {split.outer_fold}'s score in `seismag train --config` is clean, the others are optimistic",
                  f"# train: seismag train --data DIR --config {path.name}", ""]
        write_text(path, "\n".join(header) + path.read_text(encoding="utf-8"))
        make_config(preset, path)  # the file must be one `seismag train --config` accepts
        return path

    def _decode(self, name: str, value: Any) -> Any:
        param = self.space.get(name)
        if param is not None and param.kind == "choice":
            for candidate in param.choices:
                if _encode(candidate) == value:
                    return candidate
        return _decode_value(value)


def run_trials(study, objective: Callable, trials: int, deadline: float | None = None) -> int:
    """Run trials until the study holds ``trials`` completed + pruned (+ running) ones, or the deadline.

    Works across processes: the trial is created (its number claimed in the
    storage) before it runs, and a process whose new trial is beyond the
    requested count records it as FAIL (``skipped``) and stops, so processes
    sharing a study finish exactly ``trials`` trials between them. Returns the
    trials this process ran.
    """
    optuna = import_optuna()
    states = optuna.trial.TrialState
    counted = (states.COMPLETE, states.PRUNED, states.RUNNING)
    ran = 0
    while deadline is None or time.monotonic() < deadline:
        if len(study.get_trials(deepcopy=False, states=counted)) >= trials:
            break
        trial = study.ask()
        ahead = [t for t in study.get_trials(deepcopy=False, states=counted) if t.number < trial.number]
        if len(ahead) >= trials:
            # Another process claimed the last trial between our count and our ask.
            trial.set_user_attr("skipped", f"the study already had {trials} trials")
            study.tell(trial, state=states.FAIL)
            break
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            study.tell(trial, state=states.PRUNED)
        except BaseException:
            study.tell(trial, state=states.FAIL)
            raise
        else:
            study.tell(trial, value)
        ran += 1
    return ran


def open_storage(url: str, attempts: int = 5):
    """An Optuna RDB storage for ``url``.

    SQLite waits up to two minutes for a lock instead of failing when processes
    write at once. Creating the tables of a new database is retried, since
    several processes may try it at the same moment (for SQLite
    :func:`storage_lock` serialises it).
    """
    optuna = import_optuna()
    kwargs = {}
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 120}}
    for attempt in range(1, attempts + 1):
        try:
            return optuna.storages.RDBStorage(url, **kwargs)
        except Exception as exc:  # sqlalchemy's errors; sqlalchemy is optuna's dependency, not ours
            if attempt == attempts or type(exc).__module__.split(".")[0] not in ("sqlalchemy", "optuna"):
                raise ConfigError(f"cannot open the Optuna storage {redact_url(url)}: {exc}") from exc
            time.sleep(0.2 * attempt)


@contextlib.contextmanager
def storage_lock(url: str) -> Iterator[None]:
    """An exclusive lock on ``{db}.lock`` beside an SQLite database (POSIX); no-op otherwise.

    SQLite serves processes on one machine only, so a local file lock covers it.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None
    if fcntl is None or not url.startswith("sqlite:///"):
        yield
        return
    path = Path(url[len("sqlite:///"):] + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _trial_seeded_tpe(optuna, seed: int, n_startup_trials: int):
    """A TPE sampler whose randomness for trial N comes from (seed, N).

    Seeding the sampler once would make processes that share a study propose
    the same random startup trials; seeding per trial number (unique in the
    storage) keeps a one-process search repeatable and parallel ones distinct.
    """

    class TrialSeededTPE(optuna.samplers.TPESampler):
        def before_trial(self, study, trial):
            super().before_trial(study, trial)
            trial_seed = derive_seed(seed, "sampler", trial.number)
            # Private attributes of TPESampler (a RandomState, or a LazyRandomState
            # holding one); without them the sampler stays seeded once, which is
            # still correct, only less diverse across processes.
            for owner in (self, getattr(self, "_random_sampler", None)):
                rng = getattr(owner, "_rng", None)
                rng = getattr(rng, "rng", rng)
                if hasattr(rng, "seed"):
                    rng.seed(trial_seed)

    return TrialSeededTPE(seed=seed, n_startup_trials=n_startup_trials, constant_liar=True)


# --------------------------------------------------------------------------- files and text
def write_trials_csv(path, trials) -> Path:
    """The study's trials table (one row per trial, ``param_*`` and ``attr_*`` columns); no pandas needed."""
    params = sorted({name for t in trials for name in t.params})
    attrs = sorted({name for t in trials for name in t.user_attrs})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["number", "state", "value", "last_epoch", "datetime_start", "datetime_complete",
                     "duration_s"] + [f"param_{p}" for p in params] + [f"attr_{a}" for a in attrs])
    for t in sorted(trials, key=lambda t: t.number):
        duration = ((t.datetime_complete - t.datetime_start).total_seconds()
                    if t.datetime_complete and t.datetime_start else None)
        writer.writerow([t.number, t.state.name, _cell(t.value), _cell(t.last_step),
                         _cell(t.datetime_start and t.datetime_start.isoformat(timespec="seconds")),
                         _cell(t.datetime_complete and t.datetime_complete.isoformat(timespec="seconds")),
                         _cell(None if duration is None else round(duration, 3))]
                        + [_cell(t.params.get(p)) for p in params] + [_cell(t.user_attrs.get(a)) for a in attrs])
    return write_text(path, buffer.getvalue())


def format_params(params: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={_short(v)}" for k, v in params.items())


def format_tune_result(result: TuneResult) -> str:
    """What ``seismag tune`` prints: the best parameters, the files, and which folds are clean."""
    lines = []
    for study in result.studies:
        lines += [f"study '{study.study_name}': {study.n_complete} complete, {study.n_pruned} pruned"
                  + (f", {study.n_failed} failed" if study.n_failed else ""),
                  f"best trial {study.best_trial}: inner F1 {study.best_value:.4f}"]
        lines += [f"  {name} = {_short(value)}" for name, value in study.best_params.items()]
        lines.append(f"  config: {study.config_path}")
    if result.nested:
        mean, std = result.nested["mean"], result.nested["std"]
        lines.append(f"nested CV: F1 {mean['f1']:.4f} ± {std['f1']:.4f}, MCC {mean['mcc']:.4f} ± {std['mcc']:.4f}")
    if result.protocol == "fold":
        fold = result.studies[0].outer_fold
        lines.append(f"honest: fold {fold}'s validation rows were never seen by the search; in "
                     f"`seismag train --config {result.config_path}` only fold {fold}'s score is clean.")
    lines.append(f"summary: {result.summary_path}")
    return "\n".join(lines)


def parse_duration(text: str | float | int | None) -> float | None:
    """Seconds from '90', '90s', '30m', '2h', '1.5h' or '1d' (None stays None)."""
    if text is None or isinstance(text, (int, float)):
        return None if text is None else float(text)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(text).lower())
    if not match:
        raise ConfigError(f"cannot read duration '{text}'; use e.g. 90s, 30m, 2h")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def redact_url(url: str) -> str:
    """A storage URL without its password (it is written to files and logs)."""
    return re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", str(url))


def _nested_record(fold_scores: list[dict[str, Any]]) -> dict[str, Any]:
    mean, std = {}, {}
    for key in ("f1", "mcc", "roc_auc", "precision", "recall", "accuracy"):
        values = [s[key] for s in fold_scores if s.get(key) is not None]
        mean[key] = float(np.mean(values)) if values else None
        std[key] = float(np.std(values)) if values else None
    return {"folds": fold_scores, "mean": mean, "std": std}


def _split_counts(config: RunConfig, data: WindowData, outer_fold: int, share: float) -> dict[str, int]:
    split = tuning_split(config, data, outer_fold, share)
    return {k: v for k, v in split.counts().items() if k != "outer_fold"}


def _study_record(study: StudyResult, out_dir: Path) -> dict[str, Any]:
    return {"outer_fold": study.outer_fold, "study_name": study.study_name, "best_trial": study.best_trial,
            "best_value": study.best_value, "best_params": {k: list(v) if isinstance(v, tuple) else v
                                                            for k, v in study.best_params.items()},
            "n_complete": study.n_complete, "n_pruned": study.n_pruned, "n_failed": study.n_failed,
            "config": str(study.config_path.relative_to(out_dir)),
            "trials": str(study.trials_path.relative_to(out_dir)),
            "rows": str(study.rows_path.relative_to(out_dir))}


def _encode(value: Any) -> Any:
    """Optuna stores only None/bool/int/float/str choices: a tuple becomes '64,32'."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d+(,\d+)+|\d+,?", value) and "," in value:
        return tuple(int(v) for v in value.split(",") if v)
    return value


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)
