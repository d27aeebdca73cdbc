"""What one search is: :class:`StudySpec`, built once from the caller's options and checked in one place."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Sequence

from seismag.config import RunConfig, make_config, read_config_file
from seismag.errors import ConfigError
from seismag.tune.space import Param, search_space
from seismag.tune.split import check_inner_fraction
from seismag.tune.storage import default_storage_url

PROTOCOLS = ("fold", "nested")


@dataclass(frozen=True)
class StudySpec:
    """One search: which data, model and rows, how many trials, where the study lives.

    Build it with :meth:`StudySpec.build`, which takes the options of
    ``seismag tune`` and resolves them (configuration, search space, storage,
    names); the constructor takes resolved values and checks them. Whether
    ``outer_fold`` exists depends on the data and is checked when the split
    is made (:func:`~seismag.tune.split.tuning_split`).

    Attributes
    ----------
    data_dir : path
        Seed-layout data, as given.
    model : str
        Registry name, as the configuration spells it.
    window_days : int
        The window tuned on.
    config : RunConfig
        The base run configuration; trials train exactly as ``seismag train``
        would with it (``models == (model,)``, ``windows == (window_days,)``),
        on the windows its ``train_until`` keeps.
    preset : str
        The preset ``config`` starts from (a config file's own preset wins).
    space : mapping of str to Param
        The search space, in the order trials suggest it (read-only).
    out_dir : Path
        Where the study's files go (nested: ``fold_{k}/`` per fold).
    storage : str
        Optuna storage URL; processes with the same URL and study name share the study.
    study_name : str
        The study's name (``-fold{k}`` appended per outer fold in a nested run).
    trials : int
        Trials (completed + pruned) the study should have, over every process.
    timeout : float or None
        Seconds after which this process starts no new trial.
    protocol : {'fold', 'nested'}
        Which rows the search sees (see :mod:`seismag.tune`).
    outer_fold : int
        The outer fold whose training rows a 'fold' search uses.
    inner_fraction : float
        Share of the outer training rows the trials are scored on.
    enqueue : tuple of mappings
        Parameter sets tried first.
    baseline : bool
        Try the untuned configuration first.
    pruning : bool
        Prune with Optuna's MedianPruner on the per-epoch inner F1.
    n_startup_trials, prune_startup_trials, prune_warmup_epochs : int
        Random trials before TPE; no pruning before that many completed trials, nor before that epoch.
    """

    data_dir: str | os.PathLike
    model: str
    window_days: int
    config: RunConfig
    preset: str
    space: Mapping[str, Param]
    out_dir: Path
    storage: str
    study_name: str
    trials: int
    timeout: float | None
    protocol: str
    outer_fold: int
    inner_fraction: float
    enqueue: tuple[Mapping[str, Any], ...]
    baseline: bool
    pruning: bool
    n_startup_trials: int
    prune_startup_trials: int
    prune_warmup_epochs: int

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"unknown tuning protocol '{self.protocol}'; use {' or '.join(PROTOCOLS)}")
        if self.trials < 1:
            raise ConfigError(f"trials must be at least 1, got {self.trials}")
        if self.timeout is not None and not self.timeout > 0:
            raise ConfigError(f"timeout must be positive seconds, got {self.timeout}")
        check_inner_fraction(self.inner_fraction)
        if self.config.models != (self.model,) or self.config.windows != (self.window_days,):
            raise ConfigError(f"a study's configuration trains {self.model} on {self.window_days}-day windows, "
                              f"not models {self.config.models} on windows {self.config.windows}")

    @classmethod
    def build(cls, data_dir, model: str, window_days: int, *, trials: int = 50, timeout: float | None = None,
              storage: str | None = None, study_name: str | None = None, preset: str = "paper",
              config_file=None, out_dir="tuning", protocol: str = "fold", outer_fold: int = 1,
              inner_fraction: float | None = None, space: Mapping[str, Param | None] | None = None,
              enqueue: Sequence[Mapping[str, Any]] = (), baseline: bool = True, pruning: bool = True,
              n_startup_trials: int = 10, prune_startup_trials: int = 5, prune_warmup_epochs: int = 2,
              train_until: str | None = None, **config_overrides: Any) -> StudySpec:
        """Resolve the options of a search into a spec.

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
        train_until : str, optional
            ``YYYY-MM-DD``: search only on the windows whose label horizon ends by
            that date (``--train-until``; needs ``meta.csv``'s ``label_horizon_end``),
            the windows ``seismag train --train-until`` trains on. None: the
            configuration's (a config file may set it), else every window.
            ``best_config.toml`` records it, and ``seismag train`` refuses that file
            for an earlier cutoff.
        out_dir : path
            Where ``best_config.toml``, ``trials.csv``, ``tuning_rows.npz`` and
            ``tune_summary.json`` go (nested: ``fold_{k}/`` per fold).
        protocol : {'fold', 'nested'}
            Which rows the search sees; see :mod:`seismag.tune`.
        outer_fold : int
            The outer fold whose training rows a 'fold' search uses.
        inner_fraction : float, optional
            Share of the outer training rows the trials are scored on; default the
            configuration's ``inner_fraction`` (0.2).
        space : mapping, optional
            Search-space changes (see :func:`~seismag.tune.space.search_space`).
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

        Raises
        ------
        ConfigError
            A bad option or configuration.
        """
        trials = int(trials)
        timeout = None if timeout is None else float(timeout)
        config = make_config(preset, config_file, models=[model], windows=[int(window_days)],
                             train_until=train_until, **config_overrides)
        if config_file is not None:  # the file's preset wins, as in make_config
            preset = read_config_file(config_file).get("preset") or preset
        model = config.models[0]
        out_dir = Path(out_dir)
        return cls(
            data_dir=data_dir, model=model, window_days=int(window_days), config=config, preset=preset,
            space=MappingProxyType(search_space(model, space)), out_dir=out_dir,
            storage=storage or default_storage_url(out_dir),
            study_name=study_name or f"seismag-{model}-{int(window_days)}d",
            trials=trials, timeout=timeout, protocol=protocol, outer_fold=outer_fold,
            inner_fraction=config.inner_fraction if inner_fraction is None else float(inner_fraction),
            enqueue=tuple(dict(p) for p in enqueue), baseline=baseline, pruning=pruning,
            n_startup_trials=n_startup_trials, prune_startup_trials=prune_startup_trials,
            prune_warmup_epochs=prune_warmup_epochs)


def parse_duration(text: str | float | int | None) -> float | None:
    """Seconds from '90', '90s', '30m', '2h', '1.5h' or '1d' (None stays None)."""
    if text is None or isinstance(text, (int, float)):
        return None if text is None else float(text)
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(text).lower())
    if not match:
        raise ConfigError(f"cannot read duration '{text}'; use e.g. 90s, 30m, 2h")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]
