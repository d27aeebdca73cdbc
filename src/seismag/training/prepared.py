"""One prepared window per run: everything about a window's data that training decides
before the first fold, decided once.

:func:`prepare_window` loads and validates a window, cuts it at ``--train-until``, cuts
its folds and groups and resolves every model's config for it. The local pipeline (with
or without fold workers), each Ray unit, ``seismag tune`` and the SPEC functions all take
the :class:`PreparedWindow` it returns, so no path can forget a step or cut other rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from seismag import models as model_registry
from seismag.config import RunConfig
from seismag.dataset.loading import WindowData, load_window
from seismag.errors import ConfigError, DataError
from seismag.layout.seed import CLASS_FILES
from seismag.runtime import derive_seed
from seismag.training.splits import FoldRows, Split, fold_rows, make_splits, split_groups


def resolved_model_config(config: RunConfig, model_name: str, window_days: int, steps_per_day: int,
                          channels: int = 1):
    """The model's config for a window: its paper preset with the run's overrides that apply to it.

    ``steps_per_day``: the width of one day of input (every channel); for a ``'table'``
    model, its number of columns."""
    fields = set(model_registry.get_model_entry(model_name).config_cls.field_names())
    return model_registry.model_config(model_name, window_days, steps_per_day, channels=channels,
                                       **config.overrides_for(model_name, fields))


@dataclass
class PreparedWindow:
    """A window's data with its folds, groups and model configs, for one run configuration.

    ``splits`` are the outer folds (the same for every model, so every comparison is on
    the same rows); ``groups`` the ids a grouped split keeps on one side (None without
    ``split='group'``). Use :func:`prepare_window` (from disk) or :meth:`from_data`.
    """

    config: RunConfig
    data: WindowData
    splits: list[Split]
    groups: np.ndarray | None
    _model_configs: dict[str, Any] = field(default_factory=dict, repr=False)
    _activity: tuple[tuple[str, ...], np.ndarray] | None = field(default=None, repr=False)

    @classmethod
    def from_data(cls, config: RunConfig, data: WindowData) -> "PreparedWindow":
        """Folds and groups of ``data`` under ``config`` (refused here when they cannot be cut)."""
        return cls(config, data, make_splits(config, data), split_groups(config, data))

    @property
    def window_days(self) -> int:
        return self.data.window_days

    @property
    def num_folds(self) -> int:
        return len(self.splits)

    def activity_table(self) -> tuple[tuple[str, ...], np.ndarray]:
        """:meth:`WindowData.activity_table`, parsed from ``meta.csv`` once."""
        if self._activity is None:
            self._activity = self.data.activity_table()
        return self._activity

    def model_config(self, model_name: str):
        """The model's resolved config for the input this window gives it: its series (every
        channel of a day side by side), or its activity columns for a ``'table'`` model
        (which fails here, before anything is written, when there are none)."""
        if model_name not in self._model_configs:
            data = self.data
            if model_registry.get_model_entry(model_name).per_window_table:
                columns, _ = self.activity_table()
                resolved = resolved_model_config(self.config, model_name, data.window_days, len(columns))
            else:
                resolved = resolved_model_config(self.config, model_name, data.window_days, data.steps_per_day,
                                                 data.n_channels)
            self._model_configs[model_name] = resolved
        return self._model_configs[model_name]

    def fold_seed(self, model_name: str, fold: int, *extra: Any) -> int:
        """The seed fold ``fold`` (1-based) of ``model_name`` trains with (``extra``: e.g. a
        permutation index); where the fold runs does not change it."""
        return derive_seed(self.config.seed, model_name, self.window_days, fold, *extra)

    def fold_rows(self, fold: int, seed: int, labels: np.ndarray | None = None) -> FoldRows:
        """Fold ``fold``'s rows, with the inner selection split the fold trains with (its
        ``seed``; ``labels``: the permuted labels of a permutation-control fold)."""
        train_rows, val_rows = self.splits[fold - 1]
        return fold_rows(train_rows, val_rows, self.data.labels if labels is None else labels, self.config,
                         seed, self.groups)

    def check_folds(self, models: Sequence[str]) -> None:
        """Every model's config and every fold's rows as training will use them: refused here,
        before anything is written (the inner split cut with each fold's own seed)."""
        for model in models:
            self.model_config(model)
            for fold in range(1, self.num_folds + 1):
                try:
                    rows = self.fold_rows(fold, self.fold_seed(model, fold))
                except ConfigError as exc:  # an inner split with too few rows of a class
                    raise DataError(self.scarcer_class_file(fold), f"fold {fold} of {self.num_folds}: {exc}") from None
                if len(rows.fit) < 2:  # the epoch loop would find no batch of two to train on
                    raise DataError(self.scarcer_class_file(fold), f"{self.window_days}-day window, fold {fold}: "
                                    f"{len(rows.fit)} row(s) to train on; a batch needs two (use fewer folds or "
                                    "more data)")

    def scarcer_class_file(self, fold: int):
        """The class file whose class fold ``fold`` trains on fewer rows of (for messages)."""
        counts = np.bincount(self.data.labels[self.splits[fold - 1][0]], minlength=2)
        name = CLASS_FILES[int(np.argmin(counts))]
        return self.data.path / name if self.data.path else name


def prepare_window(config: RunConfig, data_dir, window_days: int) -> PreparedWindow:
    """The window every path trains on: loaded and validated, cut at ``config.train_until``,
    its folds cut.

    With ``train_until`` only the windows whose label horizon ends by that date are
    kept (:meth:`~seismag.dataset.loading.WindowData.until`), and both classes must remain.

    Raises
    ------
    DataError
        A bad file, no ``label_horizon_end`` to cut by, or a class with no window left.
    ConfigError
        Folds that cannot be cut (too few rows of a class, missing group column, ...).
    """
    data = load_window(data_dir, window_days, config.steps_per_day, nan_policy=config.nan_policy,
                       max_missing=config.max_missing)
    if config.train_until:
        data = data.until(config.train_until)
        for label in (0, 1):
            if not np.any(data.labels == label):
                raise DataError(data.meta_path, f"no class-{label} window's label horizon ends by "
                                                f"{config.train_until} (--train-until); training needs both classes")
    if config.split != "time":  # stratified and grouped folds each need a row of each class
        data.check_class_rows(config.num_folds, f"{config.num_folds} folds")
    return PreparedWindow.from_data(config, data)
