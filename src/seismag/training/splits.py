"""Cross-validation splitters: pure functions from labels (and groups or times)
to index arrays. They never touch the features.

Each returns a list of ``(train_indices, validation_indices)`` pairs of sorted
int64 arrays. Every sample is in exactly one validation set (except rows the
time split's embargo removes from training, which are still validated once).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from seismag.errors import ConfigError, DataError
from seismag.layout.seed import META_FILE

Split = tuple[np.ndarray, np.ndarray]

LEAKAGE_NOTES = {
    "stratified": ("stratified k-fold over windows: windows of one earthquake recorded by several "
                   "stations, or overlapping windows of one station, may sit on both sides of a fold, "
                   "so scores can be optimistic"),
    "group": "stratified group k-fold: all windows of one {group_by} stay on one side of every fold",
    "time": ("time-ordered folds with an embargo of {embargo_days:g} days between training and "
             "validation windows"),
}


def stratified_kfold(labels: np.ndarray, n_folds: int = 5, seed: int = 42) -> list[Split]:
    """The SPEC's split: stratified k-fold with shuffling (``random_state=seed``)."""
    labels = np.asarray(labels)
    _check_fold_count(labels, n_folds)
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return [(np.sort(tr).astype(np.int64), np.sort(va).astype(np.int64))
            for tr, va in splitter.split(np.zeros(len(labels)), labels)]


def own_group_if_empty(groups: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``groups`` (str) with every empty id replaced by one of its own, from the row number.

    An empty id means "no shared event" (e.g. a class-0 window): such a row is a group
    alone. The one rule for the group split, its inner splits and the permutation control.
    """
    return np.where(groups == "", np.char.add("__row", np.asarray(rows).astype(str)), groups)


def group_kfold(labels: np.ndarray, groups: np.ndarray, n_folds: int = 5, seed: int = 42) -> list[Split]:
    """Stratified group k-fold: no group (event or station) on both sides of a fold.

    Rows with an empty group value (e.g. class-0 windows without an event) are
    each their own group.
    """
    labels = np.asarray(labels)
    groups = own_group_if_empty(np.asarray(groups).astype(str), np.arange(len(groups)))
    n_groups = len(np.unique(groups))
    if n_groups < n_folds:
        raise ConfigError(f"group split needs at least {n_folds} groups, found {n_groups}")
    _check_fold_count(labels, n_folds)
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    splits = []
    for tr, va in splitter.split(np.zeros(len(labels)), labels, groups):
        splits.append((np.sort(tr).astype(np.int64), np.sort(va).astype(np.int64)))
    return splits


def time_kfold(times: np.ndarray, labels: np.ndarray, n_folds: int = 5,
               embargo_days: float = 0.0, window_days: float = 0.0,
               source: str | os.PathLike = META_FILE) -> list[Split]:
    """Contiguous blocks in time order; training rows closer than the embargo are removed.

    The samples are sorted by ``times`` (window start) and cut into ``n_folds``
    contiguous blocks; each block is validated once against training rows from
    all other blocks (before and after). A training window is dropped when it
    overlaps the validation block's time span widened by ``window_days`` (the
    windows' own length, so no minute is shared) plus ``embargo_days``.
    ``source`` is the file ``times`` came from (``WindowData.meta_path``), named
    when a value is not an ISO date-time.

    A validation block may hold one class only (time blocks are not stratified);
    its training rows must hold both.
    """
    labels = np.asarray(labels)
    if len(labels) < n_folds:
        # array_split would leave a validation block empty
        raise ConfigError(f"{n_folds} time-ordered folds need at least {n_folds} samples, found {len(labels)}")
    starts = _as_datetime(times, source)
    order = np.argsort(starts, kind="stable")
    blocks = np.array_split(order, n_folds)
    gap = np.timedelta64(int(round((embargo_days + window_days) * 86400)), "s")
    splits = []
    for fold, block in enumerate(blocks, start=1):
        lo, hi = starts[block].min(), starts[block].max()
        near = (starts > lo - gap) & (starts < hi + gap)
        train = np.setdiff1d(np.flatnonzero(~near), block)
        if len(np.unique(labels[train])) < 2:
            raise ConfigError(f"time-ordered fold {fold} of {n_folds} has a training set with one class only "
                              f"({len(train)} rows); use fewer folds or a smaller embargo")
        splits.append((np.sort(train).astype(np.int64), np.sort(block).astype(np.int64)))
    return splits


def inner_split(rows: np.ndarray, labels: np.ndarray, fraction: float = 0.2, seed: int = 42,
                groups: np.ndarray | None = None) -> Split:
    """Carve a selection set out of a fold's training ``rows``.

    Returns ``(fit_rows, selection_rows)``, a partition of ``rows``: stratified by
    label, and by group too when ``groups`` (aligned with all samples) is given,
    so no group is on both sides. Used to choose the epoch without looking at
    the outer validation rows.
    """
    rows = np.asarray(rows)
    n_splits = max(2, int(round(1.0 / fraction)))
    row_labels = np.asarray(labels)[rows]
    if groups is not None:
        row_groups = own_group_if_empty(np.asarray(groups).astype(str)[rows], rows)
        splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        fit, sel = next(splitter.split(np.zeros(len(rows)), row_labels, row_groups))
    else:
        if np.bincount(row_labels, minlength=2).min() < n_splits:
            raise ConfigError(f"too few training samples of one class for an inner selection split of "
                              f"{fraction:.0%}; use --selection outer or fewer folds")
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        fit, sel = next(splitter.split(np.zeros(len(rows)), row_labels))
    return np.sort(rows[fit]).astype(np.int64), np.sort(rows[sel]).astype(np.int64)


@dataclass(frozen=True)
class FoldRows:
    """One fold's rows (sorted int64 indices into the window).

    The model trains on ``fit`` and its epoch is chosen on ``selection``; scaling is fitted
    on ``train`` (``fit`` plus, under inner selection, ``selection``: no labels involved) and
    the fold is scored on ``val``. Under outer selection (the SPEC's) ``fit`` is ``train``
    and ``selection`` is ``val``: the scored rows choose the epoch.
    """

    train: np.ndarray
    val: np.ndarray
    fit: np.ndarray
    selection: np.ndarray

    @property
    def selects_on_validation(self) -> bool:
        return self.selection is self.val


def fold_rows(train_rows: np.ndarray, val_rows: np.ndarray, labels: np.ndarray, config, seed: int,
              groups: np.ndarray | None = None) -> FoldRows:
    """A fold's :class:`FoldRows` under ``config.selection``: ``'inner'`` carves the selection rows
    out of ``train_rows`` (:func:`inner_split` with ``config.inner_fraction``, this ``seed``, by
    ``groups`` when given); ``'outer'`` selects on ``val_rows``."""
    if config.selection == "inner":
        fit, selection = inner_split(train_rows, np.asarray(labels), config.inner_fraction, seed, groups)
        return FoldRows(train_rows, val_rows, fit, selection)
    return FoldRows(train_rows, val_rows, train_rows, val_rows)


def _check_fold_count(labels: np.ndarray, n_folds: int) -> None:
    counts = np.bincount(labels.astype(np.int64), minlength=2)
    if counts.min() < n_folds:
        raise ConfigError(f"{n_folds} folds need at least {n_folds} samples of each class; "
                          f"class counts are {counts.tolist()}")


def _as_datetime(times: np.ndarray, source: str | os.PathLike) -> np.ndarray:
    try:
        return np.array([np.datetime64(str(t).replace("Z", ""), "s") for t in times])
    except ValueError as exc:
        raise DataError(source, f"window_start values must be ISO date-times ({exc})") from None


def make_splits(config, data) -> list[Split]:
    """The folds a run configuration asks for on a window (same seed, same folds for every model).

    ``config`` is a :class:`~seismag.config.RunConfig`, ``data`` a
    :class:`~seismag.dataset.loading.WindowData`.
    """
    if config.split == "stratified":
        return stratified_kfold(data.labels, config.num_folds, config.seed)
    if config.split == "group":
        return group_kfold(data.labels, data.meta_column(config.group_by), config.num_folds, config.seed)
    if config.split == "time":
        return time_kfold(data.meta_column(config.time_column), data.labels, config.num_folds,
                          config.embargo_days, window_days=data.window_days, source=data.meta_path)
    raise ConfigError(f"unknown split '{config.split}'")


def split_groups(config, data) -> np.ndarray | None:
    """The groups a grouped split keeps together (also inside inner splits), else None."""
    return data.meta_column(config.group_by) if config.split == "group" else None
