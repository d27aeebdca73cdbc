import numpy as np
import pytest

from seismag.dataset.loading import load_window
from seismag.errors import ConfigError, DataError

DAYS, SPD = 3, 8


def write_window(root, n0=6, n1=4, days=DAYS, spd=SPD, seed=0, meta=True):
    rng = np.random.default_rng(seed)
    folder = root / f"window-{days}"
    folder.mkdir(parents=True, exist_ok=True)
    arrays = []
    for label, n in enumerate((n0, n1)):
        x = rng.normal(size=(n, days * spd))
        arr = np.hstack([x, np.full((n, 1), float(label))])
        np.save(folder / f"data_{label}.npy", arr)
        arrays.append(arr)
    if meta:
        lines = ["station,event_id,window_start"]
        lines += [f"S{i % 2},{'' if i < n0 else 'E' + str(i % 2)},2020-01-{i + 1:02d}T00:00:00" for i in range(n0 + n1)]
        (folder / "meta.csv").write_text("\n".join(lines) + "\n")
    return folder, arrays


def test_load_window_shapes_values_and_meta(tmp_path):
    folder, arrays = write_window(tmp_path)
    data = load_window(tmp_path, DAYS, steps_per_day=SPD)
    assert data.features.shape == (10, DAYS * SPD)
    assert data.features.dtype == np.float32 and data.features.flags.c_contiguous
    assert data.labels.dtype == np.int64
    assert data.labels.tolist() == [0] * 6 + [1] * 4
    assert data.class_counts == [6, 4]
    np.testing.assert_allclose(data.features[:6], arrays[0][:, :-1], rtol=1e-6)
    np.testing.assert_allclose(data.features[6:], arrays[1][:, :-1], rtol=1e-6)
    assert data.source_rows.tolist() == list(range(10))
    assert data.meta_column("station").tolist()[:2] == ["S0", "S1"]
    with pytest.raises(DataError, match="no column 'magnitude'"):
        data.meta_column("magnitude")


def test_without_meta_the_column_request_names_the_file(tmp_path):
    write_window(tmp_path, meta=False)
    data = load_window(tmp_path, DAYS, steps_per_day=SPD)
    assert data.meta is None
    with pytest.raises(DataError, match="meta.csv"):
        data.meta_column("event_id")


def test_nan_short_gap_is_interpolated_and_long_gap_dropped(tmp_path):
    folder, arrays = write_window(tmp_path, n0=6, n1=4)
    a0 = arrays[0]
    a0[1, 3:5] = np.nan  # short gap: interpolated
    a0[2, :-1] = np.nan  # whole row missing: dropped
    np.save(folder / "data_0.npy", a0)
    data = load_window(tmp_path, DAYS, steps_per_day=SPD, max_missing=0.2)
    assert data.dropped_rows == 1 and data.interpolated_rows == 1
    assert data.n_samples == 9 and not np.isnan(data.features).any()
    expected = np.interp([3, 4], [2, 5], [a0[1, 2], a0[1, 5]])
    np.testing.assert_allclose(data.features[1, 3:5], expected, rtol=1e-5)
    assert 2 not in data.source_rows.tolist()
    assert data.meta["window_start"].shape == (9,)  # meta follows the dropped rows
    with pytest.raises(DataError, match=r"data_0\.npy.*NaN.*row 1"):
        load_window(tmp_path, DAYS, steps_per_day=SPD, nan_policy="refuse")
    # max_missing=1 keeps every row that has a value; one with none is still dropped
    data = load_window(tmp_path, DAYS, steps_per_day=SPD, max_missing=1.0)
    assert data.dropped_rows == 1 and 2 not in data.source_rows.tolist()


@pytest.mark.parametrize("case, message", [
    ("missing_dir", "window directory not found"),
    ("missing_file", r"data_1\.npy: class-1 file not found"),
    ("not_2d", "must be 2-D"),
    ("wrong_features", r"23 feature columns .* expected 3 days x 8 steps = 24"),
    ("label_not_binary", "must be 0 or 1, found 2"),
    ("label_mismatch", "row 1 is labelled 1 but this file holds class 0"),
    ("empty", "is empty"),
    ("non_numeric", "non-numeric|not a numeric"),
    ("inf", "infinite values"),
    ("only_one_class", "no usable class-1 rows"),
    ("corrupt", "cannot be read as a .npy file"),
    ("meta_rows", "meta.csv: has 3 rows"),
])
def test_bad_input_names_the_file_and_the_problem(tmp_path, case, message):
    folder, arrays = write_window(tmp_path)
    f0, f1 = folder / "data_0.npy", folder / "data_1.npy"
    if case == "missing_dir":
        folder = tmp_path / "window-7"
        days = 7
    else:
        days = DAYS
    if case == "missing_file":
        f1.unlink()
    elif case == "not_2d":
        np.save(f0, np.zeros(5))
    elif case == "wrong_features":
        np.save(f0, arrays[0][:, 1:])
    elif case == "label_not_binary":
        arrays[0][2, -1] = 2
        np.save(f0, arrays[0])
    elif case == "label_mismatch":
        arrays[0][1, -1] = 1
        np.save(f0, arrays[0])
    elif case == "empty":
        np.save(f1, np.zeros((0, DAYS * SPD + 1)))
    elif case == "non_numeric":
        np.save(f0, arrays[0].astype(str))
    elif case == "inf":
        arrays[1][0, 4] = np.inf
        np.save(f1, arrays[1])
    elif case == "only_one_class":
        arrays[1][:, :-1] = np.nan
        np.save(f1, arrays[1])
    elif case == "corrupt":
        f0.write_bytes(b"this is not numpy")
    elif case == "meta_rows":
        (folder / "meta.csv").write_text("station\nA\nB\nC\n")
    with pytest.raises(DataError, match=message) as info:
        load_window(tmp_path, days, steps_per_day=SPD)
    assert str(folder) in str(info.value)


def test_bad_settings_are_config_errors(tmp_path):
    write_window(tmp_path)
    with pytest.raises(ConfigError):
        load_window(tmp_path, DAYS, steps_per_day=SPD, nan_policy="zero")
    with pytest.raises(ConfigError):
        load_window(tmp_path, DAYS, steps_per_day=SPD, max_missing=1.5)


def test_other_sampling_rates_work(tmp_path):
    write_window(tmp_path, days=2, spd=24)
    data = load_window(tmp_path, 2, steps_per_day=24)
    assert data.n_features == 48
