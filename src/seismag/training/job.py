"""One window's job: what every model trained on that window shares on the device, made once.

The prepared window (:class:`~seismag.training.prepared.PreparedWindow`: data, folds,
groups, model configs), its tensors on the training device, and the fold runner (with
``fold_workers``, one pool of worker processes mapping one copy of the data). The
pipeline makes one job per window; the Ray executor makes one per unit, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from seismag import models as model_registry
from seismag.config import RunConfig
from seismag.dataset.loading import WindowData
from seismag.training.parallel import FoldRunner
from seismag.training.prepared import PreparedWindow
from seismag.training.tensors import WindowTensors


@dataclass
class WindowJob:
    """Use as a context manager: the fold runner's workers live until the block ends."""

    prepared: PreparedWindow
    device: torch.device
    precision: str
    tensors: WindowTensors = field(init=False)
    runner: FoldRunner = field(init=False)
    _table: tuple[WindowTensors, FoldRunner] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.tensors = WindowTensors.from_window(self.data, self.device)
        self.runner = FoldRunner(self.tensors, self.config, self.device)

    @property
    def config(self) -> RunConfig:
        return self.prepared.config

    @property
    def data(self) -> WindowData:
        return self.prepared.data

    @property
    def splits(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return self.prepared.splits

    @property
    def groups(self) -> np.ndarray | None:
        return self.prepared.groups

    @property
    def window_days(self) -> int:
        return self.data.window_days

    def inputs(self, model_name: str) -> tuple[WindowTensors, FoldRunner, dict]:
        """The model's tensors, its fold runner, and how raw data become its input (the
        record every checkpoint and ensemble carries)."""
        if not model_registry.get_model_entry(model_name).per_window_table:
            return self.tensors, self.runner, {"kind": "window", "n_channels": self.data.n_channels,
                                               **self.data.input_record()}
        columns, table = self.prepared.activity_table()
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
