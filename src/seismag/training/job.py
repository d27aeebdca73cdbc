"""One window's job: what every model trained on that window shares, made once.

:func:`prepare_window` is the one preparation of a window's data (load, validate,
``--train-until`` cut, both classes left): the pipeline, its Ray units and
``seismag tune`` all train on what it returns, so no path can forget a step.

The window's data, its tensors on the training device, the folds (the same for
every model, so every comparison is on the same rows), the groups a grouped split
keeps together, and the fold runner (with ``fold_workers``, one pool of worker
processes mapping one copy of the data). The pipeline makes one job per window;
the Ray executor makes one per unit, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from seismag import models as model_registry
from seismag.config import RunConfig
from seismag.dataset.loading import WindowData, load_window
from seismag.errors import DataError
from seismag.training.parallel import FoldRunner
from seismag.training.splits import split_groups
from seismag.training.tensors import WindowTensors


def prepare_window(config: RunConfig, data_dir, window_days: int) -> WindowData:
    """The window every path trains on: loaded and validated, cut at ``config.train_until``.

    With ``train_until`` only the windows whose label horizon ends by that date are
    kept (:meth:`~seismag.dataset.loading.WindowData.until`), and both classes must remain.
    The local pipeline (with or without fold workers), each Ray unit and ``seismag
    tune`` call this, so they train on the same rows and cut the same folds.

    Raises
    ------
    DataError
        A bad file, no ``label_horizon_end`` to cut by, or a class with no window left.
    """
    data = load_window(data_dir, window_days, config.steps_per_day, nan_policy=config.nan_policy,
                       max_missing=config.max_missing)
    if not config.train_until:
        return data
    data = data.until(config.train_until)
    for label in (0, 1):
        if not np.any(data.labels == label):
            raise DataError(data.meta_path, f"no class-{label} window's label horizon ends by "
                                            f"{config.train_until} (--train-until); training needs both classes")
    return data


@dataclass
class WindowJob:
    """Use as a context manager: the fold runner's workers live until the block ends."""

    config: RunConfig
    data: WindowData
    device: torch.device
    precision: str
    #: :func:`~seismag.training.splits.make_splits` of ``config`` and ``data``, made by the
    #: caller: the pipeline cuts every window's folds before it writes anything.
    splits: list[tuple[np.ndarray, np.ndarray]]
    tensors: WindowTensors = field(init=False)
    groups: np.ndarray | None = field(init=False)
    runner: FoldRunner = field(init=False)
    _table: tuple[WindowTensors, FoldRunner] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.groups = split_groups(self.config, self.data)
        self.tensors = WindowTensors.from_window(self.data, self.device)
        self.runner = FoldRunner(self.tensors, self.config, self.device)

    @property
    def window_days(self) -> int:
        return self.data.window_days

    def inputs(self, model_name: str) -> tuple[WindowTensors, FoldRunner, dict]:
        """The model's tensors, its fold runner, and how raw data become its input (the
        record every checkpoint and ensemble carries)."""
        if model_registry.get_model_entry(model_name).input_layout != "table":
            return self.tensors, self.runner, {"kind": "window", "n_channels": self.data.n_channels,
                                               **self.data.input_record()}
        columns, table = self.data.activity_table()
        if self._table is None:
            tensors = WindowTensors(torch.from_numpy(table).to(self.device), self.tensors.labels,
                                    self.data.window_days, table.shape[1])
            self._table = (tensors, FoldRunner(tensors, self.config, self.device))
        return (*self._table, {"kind": "table", "columns": list(columns)})

    def __enter__(self) -> "WindowJob":
        return self

    def __exit__(self, *exc) -> None:
        self.runner.close()
        if self._table is not None:
            self._table[1].close()
