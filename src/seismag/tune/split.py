"""Which rows a trial may see: the inner split carved from one outer fold's training rows.

The outer folds are the ones ``seismag train`` uses with the same configuration
(the prepared window's, :func:`~seismag.training.prepared.prepare_window`), so the fold a search is carved
from is the fold whose later score stays clean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seismag.config import RunConfig
from seismag.errors import ConfigError
from seismag.runtime import derive_seed
from seismag.training.prepared import PreparedWindow
from seismag.training.splits import inner_split


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


def check_inner_fraction(fraction: float) -> float:
    """``fraction`` as a float, or a ConfigError when it is outside [0.05, 0.5]."""
    fraction = float(fraction)
    if not 0.05 <= fraction <= 0.5:
        raise ConfigError(f"inner_fraction must be in [0.05, 0.5], got {fraction}")
    return fraction


def tuning_split(window: PreparedWindow, outer_fold: int = 1, inner_fraction: float | None = None) -> TuningSplit:
    """Carve the tuning rows out of outer fold ``outer_fold``'s training rows.

    The outer folds are the prepared window's (:func:`~seismag.training.prepared.prepare_window`),
    i.e. the folds ``seismag train`` uses with the same seed, split and number of
    folds. The inner split is stratified by label, and grouped by
    ``config.group_by`` when ``config.split == 'group'`` (no group on both sides).
    With ``split='time'`` the inner split is not time-ordered; the outer fold's
    validation block and its embargo stay out of it all the same.
    """
    config, splits = window.config, window.splits
    if not 1 <= int(outer_fold) <= len(splits):
        raise ConfigError(f"outer_fold must be between 1 and {len(splits)}, got {outer_fold}")
    train_rows, held_out = splits[int(outer_fold) - 1]
    fraction = check_inner_fraction(config.inner_fraction if inner_fraction is None else inner_fraction)
    fit_rows, val_rows = inner_split(train_rows, window.data.labels, fraction,
                                     derive_seed(config.seed, "tune", int(outer_fold)), window.groups)
    return TuningSplit(int(outer_fold), len(splits), fit_rows, val_rows, np.asarray(held_out, dtype=np.int64))


def inner_split_description(config: RunConfig) -> str:
    """How :func:`tuning_split` divides an outer fold's training rows under ``config.split``."""
    return {"stratified": "stratified by label",
            "group": f"stratified by label, grouped by {config.group_by}",
            "time": "stratified by label (not time-ordered; the outer embargo still applies)"}[config.split]
