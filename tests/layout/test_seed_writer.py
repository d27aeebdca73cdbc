"""The one seed-layout writer: what it writes is what the loader reads, and nothing half-made."""

from __future__ import annotations

import numpy as np
import pytest

from seismag.dataset.loading import interpolate_gaps, load_window
from seismag.layout.seed import ClassRows, write_window


def test_written_window_loads_back(tmp_path):
    rng = np.random.default_rng(0)
    class0, class1 = rng.normal(size=(5, 2 * 24)), rng.normal(size=(3, 2 * 24)).astype(np.float32)
    folder = write_window(
        tmp_path / "window-2", 2 * 24,
        [ClassRows(5, [class0[:2], class0[2:]]), ClassRows(3, iter([class1]))],
        ("station", "note"), [[f"S{i}", "a,b" if i == 0 else ""] for i in range(8)],
    )
    data0 = np.load(folder / "data_0.npy")
    assert data0.dtype == np.float32 and data0.shape == (5, 49) and (data0[:, -1] == 0.0).all()
    np.testing.assert_array_equal(data0[:, :-1], class0.astype(np.float32))
    window = load_window(tmp_path, 2, steps_per_day=24)
    assert window.class_counts == [5, 3]
    assert window.meta["station"].tolist() == [f"S{i}" for i in range(8)]
    assert window.meta["note"][0] == "a,b"  # quoted in the CSV, read back whole
    assert (folder / "meta.csv").read_text().splitlines()[:2] == ["station,note", 'S0,"a,b"']


@pytest.mark.parametrize("blocks, message", [
    ([np.zeros((3, 4))], "more than the 2 rows announced"),
    ([np.zeros((1, 4))], "1 rows written, 2 announced"),
])
def test_row_counts_are_checked(tmp_path, blocks, message):
    with pytest.raises(ValueError, match=message):
        write_window(tmp_path / "w", 4, [ClassRows(2, blocks), ClassRows(1, [np.zeros((1, 4))])],
                     ("station",), [["a"]] * 3)
    assert not any(p.name.startswith("data_") for p in (tmp_path / "w").iterdir())


def test_meta_rows_must_match_samples(tmp_path):
    with pytest.raises(ValueError, match="2 meta rows for 3 samples"):
        write_window(tmp_path / "w", 4, [ClassRows(2, []), ClassRows(1, [])], ("station",), [["a"]] * 2)
    assert not (tmp_path / "w").exists()


def test_interpolate_gaps_is_linear_within_the_series():
    values = np.array([np.nan, 1.0, np.nan, np.nan, 4.0, np.nan])
    assert interpolate_gaps(values) is values
    np.testing.assert_array_equal(values, [1.0, 1.0, 2.0, 3.0, 4.0, 4.0])
    row = np.array([0.0, np.nan, 1.0], dtype=np.float32)
    interpolate_gaps(row, np.isnan(row))
    assert row.dtype == np.float32 and row[1] == np.float32(0.5)


def test_class_files_are_the_bytes_np_save_writes(tmp_path):
    # Streamed block by block, the file is what np.save makes of the whole float32 array.
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(7, 30))
    folder = write_window(tmp_path / "window-1", 30, [ClassRows(7, [rows[:3], rows[3:4], rows[4:]]),
                                                      ClassRows(0, [])], ("station",), [["S"]] * 7)
    expected = np.concatenate([rows, np.zeros((7, 1))], axis=1).astype(np.float32)
    np.save(tmp_path / "expected.npy", expected)
    assert (folder / "data_0.npy").read_bytes() == (tmp_path / "expected.npy").read_bytes()
    # A class without samples is a file of no rows, its width still that of the samples.
    empty = np.load(folder / "data_1.npy")
    assert empty.shape == (0, 31) and empty.dtype == np.float32
