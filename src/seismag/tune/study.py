"""The search itself: the Optuna loop over trials, the objective, pruning, and the nested protocol.

:func:`run_study` runs a :class:`~seismag.tune.spec.StudySpec`;
:func:`tuned_config` runs one and returns the configuration to train with.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any, Callable, Mapping

from seismag import models as model_registry
from seismag.config import RunConfig, make_config
from seismag.errors import ConfigError
from seismag.runtime import derive_seed, prepare_training
from seismag.training.fold import train_fold
from seismag.training.prepared import PreparedWindow, prepare_window
from seismag.training.splits import fold_rows
from seismag.training.tensors import WindowTensors
from seismag.lock import folder_lock
from seismag.tune.space import TUNABLE_RUN_FIELDS, decode_param, encode_value, model_fields
from seismag.tune.spec import StudySpec
from seismag.tune.split import TuningSplit, tuning_split
from seismag.tune.storage import import_optuna, open_storage, redact_url, storage_lock
from seismag.tune.summary import (StudyResult, TuneResult, format_params, nested_record, write_best_config, write_rows,
                      write_summary, write_trials_csv)

logger = logging.getLogger("seismag")


def run_study(spec: StudySpec | Any, model: str | None = None, window_days: int | None = None,
              **options: Any) -> TuneResult:
    """Search hyperparameters with Optuna as ``spec`` says.

    ``run_study(spec)`` runs a :class:`StudySpec`. ``run_study(data_dir, model,
    window_days, **options)`` is the keyword form: it builds the spec first
    (:meth:`StudySpec.build`, which documents every option).

    Returns
    -------
    TuneResult

    Raises
    ------
    ConfigError
        A bad option, Optuna missing, or no trial completed (e.g. the timeout
        came first).
    """
    if not isinstance(spec, StudySpec):
        spec = StudySpec.build(spec, model, window_days, **options)
    elif model is not None or window_days is not None or options:
        raise TypeError("run_study(spec) takes no other arguments; the spec holds them")
    optuna = import_optuna()
    config = spec.config
    # Processes of one study may share the folder (and its SQLite storage); anyone else
    # (another study, a training run) is refused while they run.
    share = f"study {spec.study_name} in {redact_url(spec.storage)}"
    with folder_lock(spec.out_dir, command="tune", share=share):
        device, precision = prepare_training(config)
        window = prepare_window(config, spec.data_dir, spec.window_days)  # train's own window and folds
        tensors = WindowTensors.from_window(window.data, device)
        deadline = None if spec.timeout is None else time.monotonic() + spec.timeout
        began = time.perf_counter()
        search = _Search(optuna, spec, window, tensors, device, precision)

        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # seismag logs each trial itself
        try:
            if spec.protocol == "fold":
                split = tuning_split(window, spec.outer_fold, spec.inner_fraction)
                studies = (search.run(split, spec.study_name, spec.out_dir, deadline),)
                nested = None
            else:
                studies, fold_scores = [], []
                for fold in range(1, window.num_folds + 1):
                    split = tuning_split(window, fold, spec.inner_fraction)
                    result = search.run(split, f"{spec.study_name}-fold{fold}", spec.out_dir / f"fold_{fold}",
                                        deadline)
                    studies.append(result)
                    fold_scores.append(search.score_outer_fold(result, split))
                studies = tuple(studies)
                nested = nested_record(fold_scores)
        finally:
            optuna.logging.set_verbosity(verbosity)

        counts = tuning_split(window, spec.outer_fold, spec.inner_fraction).counts()
        counts.pop("outer_fold")
        summary_path = write_summary(spec, studies, nested, counts, time.perf_counter() - began, optuna.__version__)
        return TuneResult(spec.model, spec.window_days, spec.protocol, redact_url(spec.storage), spec.out_dir,
                          summary_path, studies, nested)


def tuned_config(data_dir, model: str, window_days: int, **kwargs: Any) -> RunConfig:
    """Tune (``protocol='fold'``), then return the configuration to train with.

    For ``main_gru(optimize=True)`` and siblings: the result is
    ``make_config(preset, best_config.toml)``, i.e. the base configuration with
    the best parameters, for ``model`` on ``window_days``. ``kwargs`` are the
    options of :meth:`StudySpec.build`.
    """
    if kwargs.get("protocol", "fold") != "fold":
        raise ConfigError("tuned_config needs protocol='fold' (a nested run yields one configuration per fold)")
    spec = StudySpec.build(data_dir, model, window_days, **kwargs)
    return make_config(spec.preset, run_study(spec).config_path)


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


class _Search:
    """The objective and the trial loop for one window's data (shared by every study of a run)."""

    def __init__(self, optuna, spec: StudySpec, window: PreparedWindow, tensors: WindowTensors, device,
                 precision: str):
        self.optuna, self.spec, self.window, self.tensors = optuna, spec, window, tensors
        self.data = window.data
        self.config, self.model, self.space = spec.config, spec.model, spec.space
        self.device, self.precision = device, precision
        self.fields = model_fields(spec.model)

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
    def run(self, split: TuningSplit, study_name: str, out_dir: Path, deadline: float | None) -> StudyResult:
        optuna, spec = self.optuna, self.spec
        # Creating the tables of a new database, the study, and enqueueing the first
        # trials is done by one process at a time: two processes starting together on a
        # fresh SQLite file would otherwise both create its tables (and fail) or both
        # enqueue the baseline.
        with storage_lock(spec.storage):
            study = optuna.create_study(
                study_name=study_name, storage=open_storage(spec.storage), direction="maximize",
                load_if_exists=True, sampler=_trial_seeded_tpe(optuna, self.config.seed, spec.n_startup_trials),
                pruner=(optuna.pruners.MedianPruner(n_startup_trials=spec.prune_startup_trials,
                                                    n_warmup_steps=spec.prune_warmup_epochs)
                        if spec.pruning else optuna.pruners.NopPruner()))
            self._check_setup(study, split)
            first = [self.baseline_params()] if spec.baseline else []
            for params in first + [dict(p) for p in spec.enqueue]:
                study.enqueue_trial({k: encode_value(v) for k, v in params.items()}, skip_if_exists=True)
        logger.info("tuning %s %dd: study '%s' (%s), %d trials, outer fold %d of %d: %d rows to fit, "
                    "%d to score, %d held out", self.model, self.data.window_days, study_name,
                    redact_url(spec.storage), spec.trials, split.outer_fold, split.num_folds,
                    len(split.fit_rows), len(split.val_rows), len(split.held_out_rows))
        ran = run_trials(study, lambda trial: self.objective(trial, split), spec.trials, deadline)

        finished = study.get_trials(deepcopy=False)
        states = optuna.trial.TrialState
        complete = [t for t in finished if t.state == states.COMPLETE]
        if not complete:
            raise ConfigError(f"study '{study_name}': no trial completed ({ran} run here); "
                              "allow more time or trials")
        best = study.best_trial
        best_params = {name: decode_param(self.space, name, value) for name, value in best.params.items()}
        out_dir.mkdir(parents=True, exist_ok=True)
        trials_path = write_trials_csv(out_dir / "trials.csv", finished)
        rows_path = write_rows(out_dir / "tuning_rows.npz", split)
        config_path = write_best_config(out_dir / "best_config.toml", spec, self.fields, best_params, study_name,
                                        best.number, best.value, split)
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
            if self.spec.pruning and trial.should_prune():
                trial.set_user_attr("pruned_at_epoch", int(record["epoch"]))
                raise optuna.TrialPruned(f"inner F1 {record['val_f1']:.4f} at epoch {record['epoch']}")

        # One seed for every trial: trials differ by their parameters, not by their luck.
        seed = derive_seed(self.config.seed, "tune", self.model, self.data.window_days, split.outer_fold)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        began = time.perf_counter()
        try:
            rows = fold_rows(split.fit_rows, split.val_rows, self.data.labels, config, seed, self.window.groups)
            result = train_fold(self.model, model_config, self.tensors, rows, config, fold=split.outer_fold,
                                seed=seed, device=self.device, precision=self.precision, on_epoch=on_epoch)
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
        train_rows, val_rows = self.window.splits[split.outer_fold - 1]
        seed = self.window.fold_seed(self.model, split.outer_fold)  # the seed seismag train gives this fold
        rows = fold_rows(train_rows, val_rows, self.data.labels, config, seed, self.window.groups)
        result = train_fold(self.model, model_config, self.tensors, rows, config, fold=split.outer_fold,
                            seed=seed, device=self.device, precision=self.precision)
        metrics = result.metrics
        logger.info("nested fold %d: F1 %.4f  MCC %.4f on %d validation rows its search never saw",
                    split.outer_fold, metrics["f1"], metrics["mcc"], len(val_rows))
        return {"fold": split.outer_fold, "inner_f1": study.best_value, "best_params": study.best_params,
                **{k: metrics.get(k) for k in ("f1", "mcc", "roc_auc", "precision", "recall", "accuracy",
                                                "best_epoch", "n_train", "n_val")}}
