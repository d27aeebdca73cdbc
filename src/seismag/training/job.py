"""One window's job: what every model trained on that window shares, made once.

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

from ..config import RunConfig
from ..data.loading import WindowData
from .parallel import FoldRunner
from .splits import split_groups
from .tensors import WindowTensors


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

    def __post_init__(self) -> None:
        self.groups = split_groups(self.config, self.data)
        self.tensors = WindowTensors.from_window(self.data, self.device)
        self.runner = FoldRunner(self.tensors, self.config, self.device)

    @property
    def window_days(self) -> int:
        return self.data.window_days

    def __enter__(self) -> "WindowJob":
        return self

    def __exit__(self, *exc) -> None:
        self.runner.close()
