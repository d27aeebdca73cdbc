import numpy as np
import pytest

from seismag.errors import ConfigError
from seismag.training.splits import group_kfold, stratified_kfold, time_kfold


def assert_partition(splits, n):
    seen = np.concatenate([va for _, va in splits])
    assert sorted(seen.tolist()) == list(range(n))  # every sample validated exactly once
    for tr, va in splits:
        assert not set(tr) & set(va)  # no sample on both sides


def test_stratified_folds_are_disjoint_cover_all_and_keep_class_balance():
    labels = np.array([0] * 60 + [1] * 40)
    splits = stratified_kfold(labels, 5, seed=42)
    assert len(splits) == 5
    assert_partition(splits, 100)
    for tr, va in splits:
        assert len(tr) + len(va) == 100
        assert labels[va].sum() == 8  # 40 / 5
    again = stratified_kfold(labels, 5, seed=42)
    assert all((a[1] == b[1]).all() for a, b in zip(splits, again))


def test_group_folds_never_split_a_group():
    groups = np.array([f"E{i // 3}" for i in range(90)])  # events of 3 stations each
    labels = np.array([int(int(g[1:]) % 3 == 0) for g in groups])
    groups[labels == 0] = ""  # class-0 windows belong to no event
    splits = group_kfold(labels, groups, 5, seed=1)
    assert_partition(splits, 90)
    for tr, va in splits:
        train_groups = set(groups[tr]) - {""}
        assert not train_groups & (set(groups[va]) - {""})


def test_time_folds_keep_an_embargo():
    days = np.arange(100)
    times = [str(np.datetime64("2020-01-01") + np.timedelta64(int(d), "D")) + "T00:00:00" for d in days]
    labels = np.array([i % 3 == 0 for i in range(100)], dtype=int)
    splits = time_kfold(times, labels, 4, embargo_days=2, window_days=7)
    assert_partition(splits, 100)
    for tr, va in splits:
        gaps = np.abs(days[tr][:, None] - days[va][None, :])
        assert gaps.min() >= 9  # window length 7 + embargo 2


def test_too_few_samples_per_class():
    with pytest.raises(ConfigError, match="at least 5 samples of each class"):
        stratified_kfold(np.array([0] * 10 + [1] * 3), 5)
