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


def test_time_folds_refuse_a_training_set_with_one_class():
    # Class 1 only in the last fifth: validating that block leaves class-0-only training rows.
    times = [str(np.datetime64("2020-01-01") + np.timedelta64(d, "D")) + "T00:00:00" for d in range(50)]
    labels = np.array([0] * 40 + [1] * 10)
    with pytest.raises(ConfigError, match="time-ordered fold 5 of 5 has a training set with one class only"):
        time_kfold(times, labels, 5)
    # A validation block with one class is legitimate (time blocks are not stratified).
    labels = np.array([1] * 5 + [0] * 35 + [1] * 10)
    splits = time_kfold(times, labels, 5)
    assert [sorted(set(labels[va].tolist())) for _, va in splits] == [[0, 1], [0], [0], [0], [1]]


def test_time_folds_refuse_more_folds_than_samples():
    times = [f"2020-01-0{d}T00:00:00" for d in range(1, 7)]
    with pytest.raises(ConfigError, match="8 time-ordered folds need at least 8 samples, found 6"):
        time_kfold(times, np.array([0, 1] * 3), 8)


def test_time_folds_name_the_full_path_of_a_bad_meta_csv(tmp_path):
    from seismag.dataset.loading import load_window
    from seismag.errors import DataError

    from helpers import SPD

    meta = _write_bad_window_start(tmp_path)
    data = load_window(tmp_path, 4, SPD)
    assert data.meta_path == meta
    with pytest.raises(DataError, match="window_start values must be ISO date-times") as info:
        time_kfold(data.meta_column("window_start"), data.labels, 2, source=data.meta_path)
    assert str(info.value).startswith(f"{meta}: window_start values must be ISO date-times")


def test_split_time_names_the_full_path_of_a_bad_meta_csv(tmp_path):
    from seismag.dataset.loading import load_window
    from seismag.errors import DataError
    from seismag.training.splits import make_splits

    from helpers import SPD, tiny_config

    meta = _write_bad_window_start(tmp_path)
    with pytest.raises(DataError) as info:  # what `--split time` runs
        make_splits(tiny_config(split="time"), load_window(tmp_path, 4, SPD))
    assert str(info.value).startswith(f"{meta}: window_start values must be ISO date-times")


def _write_bad_window_start(root):
    """A tiny dataset whose meta.csv has one non-ISO window_start; returns the meta.csv path."""
    from helpers import write_synthetic

    write_synthetic(root, days=(4,), n0=12, n1=8)
    meta = root / "window-4" / "meta.csv"
    lines = meta.read_text().splitlines()
    column = lines[0].split(",").index("window_start")
    row = lines[3].split(",")
    row[column] = "03/01/2020"  # day-first, not ISO
    lines[3] = ",".join(row)
    meta.write_text("\n".join(lines) + "\n")
    return meta
