"""seismag.layout.seed: the window folders' names, the checks every class file passes, in both wordings."""

import subprocess
import sys

import numpy as np
import pytest

from seismag.errors import DataError
from seismag.layout import seed
from seismag.spec.analysis import ANALYSIS_WORDS

DAYS, SPD = 3, 8
N_FEATURES = DAYS * SPD


def test_import_is_torch_free():
    modules = ", ".join(f"seismag.layout.{name}" for name in ("seed", "dataset_info", "results", "forecast"))
    code = (f"import sys, {modules}; "
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'seismag.training', "
            "'seismag.models', 'seismag.plots', 'seismag.inference', 'sklearn'))]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- seed layout


def test_seed_layout_names(tmp_path):
    assert seed.window_dir_name(7) == "window-7" == seed.window_dir_name("7")
    assert seed.window_dir(tmp_path, 14) == tmp_path / "window-14"
    assert seed.CLASS_FILES == ("data_0.npy", "data_1.npy") and seed.META_FILE == "meta.csv"


def class_file_or_empty(label=0, rows=5):
    array = np.random.default_rng(label).normal(size=(rows, N_FEATURES + 1)).astype(np.float32)
    array[:, -1] = label
    return array


def test_a_good_class_file_is_returned_memory_mapped(tmp_path):
    path = tmp_path / "data_1.npy"
    np.save(path, class_file_or_empty(1))
    array = seed.check_class_file(path, 1, DAYS, SPD)
    assert isinstance(array, np.memmap) and array.shape == (5, N_FEATURES + 1)


def _array(array):
    return lambda path: np.save(path, array, allow_pickle=True)


def _bytes(data):
    return lambda path: path.write_bytes(data)


def _bad_label(row, value):
    array = class_file_or_empty(0)
    array[row, -1] = value
    return _array(array)


def _npz(path):
    np.savez(path.with_name("archive"), a=class_file_or_empty(0))
    path.with_name("archive.npz").rename(path)


def _truncated(path):
    np.save(path, class_file_or_empty(0))
    data = path.read_bytes()
    path.write_bytes(data[:-40])  # a copy or a write cut short


def _symlink_loop(path):
    other = path.with_name("other.npy")
    path.symlink_to(other)
    other.symlink_to(path)


# problem -> (writes data_0.npy, the loader's message, the analyzer's message); 3 days x 8 steps.
BAD_FILES = {
    "missing": (lambda path: None, "class-0 file not found",
                "missing class file (class 0 samples of the 3-day window)"),
    "zero_bytes": (_bytes(b""), "cannot be read as a .npy file (no NumPy header)", "empty file (0 bytes)"),
    "npz": (_npz, "cannot be read as a .npy file (no NumPy header)",
            "not a single .npy array (looks like an .npz archive)"),
    "no_header": (_bytes(b"not numpy at all"), "cannot be read as a .npy file (no NumPy header)",
                  "not a readable .npy array (no NumPy header)"),
    "pickled": (_array(np.array([{"a": 1}], dtype=object)),
                "not a numeric NumPy array (pickled Python objects, dtype object)",
                "not a readable .npy array (pickled Python objects, dtype object, not numbers)"),
    "truncated": (_truncated,
                  "truncated: the header promises 5 rows of 25 values, the file holds fewer bytes (",
                  "not a readable .npy array (truncated: the header promises 5 rows of 25 values, "),
    "directory": (lambda path: path.mkdir(), "is a directory, not a .npy file", "a directory, not a .npy file"),
    "symlink_loop": (_symlink_loop, "is a symbolic link loop", "a symbolic link loop"),
    "csv": (_bytes(b"1.0,2.0,0\n3.0,4.0,0\n"),
            "cannot be read as a .npy file (no NumPy header); it looks like a text or CSV file",
            "not a readable .npy array (no NumPy header); it looks like a text or CSV file"),
    "dtype": (_array(np.full((5, N_FEATURES + 1), "x")), "has non-numeric dtype <U1; expected floats",
              "non-numeric dtype <U1; expected integer or float values"),
    "bool": (_array(np.zeros((5, N_FEATURES + 1), bool)), "has non-numeric dtype bool; expected floats",
             "non-numeric dtype bool; expected integer or float values"),
    "ndim": (_array(np.zeros((2, 3, 4), np.float32)),
             "must be 2-D (samples x (features + label)), got shape (2, 3, 4)",
             "expected a 2-D array (n_samples, n_features + 1), got shape (2, 3, 4)"),
    "empty": (_array(np.zeros((0, N_FEATURES + 1), np.float32)), "is empty (0 samples)",
              "empty file: no samples (shape (0, 25))"),
    "columns": (_array(np.zeros((5, N_FEATURES), np.float32)),
                ("has 23 feature columns + 1 label column, expected 3 days x 8 steps = 24 features; "
                 "check the window folder and steps_per_day"),
                "23 feature columns (+ 1 label column), expected 24 = 3 days x 8 steps per day"),
    "label_not_finite": (_bad_label(2, np.inf), "label column (last) holds NaN/inf at row 2",
                         ("label column (last column) must be 0 in data_0.npy, but 1 of 5 rows differ "
                          "(first: row 2, label inf)")),
    "label_not_binary": (_bad_label(3, 2.0), "label column (last) must be 0 or 1, found 2 at row 3",
                         ("label column (last column) must be 0 in data_0.npy, but 1 of 5 rows differ "
                          "(first: row 3, label 2.0)")),
    "label_mismatch": (_bad_label(1, 1.0), "row 1 is labelled 1 but this file holds class 0",
                       ("label column (last column) must be 0 in data_0.npy, but 1 of 5 rows differ "
                        "(first: row 1, label 1.0)")),
}


@pytest.mark.parametrize("problem", sorted(BAD_FILES))
@pytest.mark.parametrize("wording", ["loader", "analysis"])
def test_class_file_checks_name_the_file_and_the_problem(tmp_path, problem, wording):
    write, loader_message, analysis_message = BAD_FILES[problem]
    path = tmp_path / "data_0.npy"
    write(path)
    with pytest.raises(DataError) as info:
        seed.check_class_file(path, 0, DAYS, SPD,
                              words=seed.CLASS_FILE_WORDS if wording == "loader" else ANALYSIS_WORDS)
    expected = loader_message if wording == "loader" else analysis_message
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}: {expected}"), str(info.value)


@pytest.mark.parametrize("problem", sorted(BAD_FILES))
def test_each_problem_is_one_line_without_pickle_advice(tmp_path, problem):
    path = tmp_path / "data_0.npy"
    BAD_FILES[problem][0](path)
    with pytest.raises(DataError) as info:
        seed.check_class_file(path, 0, DAYS, SPD)
    assert "\n" not in str(info.value) and "allow_pickle" not in str(info.value)


def test_both_wordings_cover_every_problem():
    loader, analysis = seed.CLASS_FILE_WORDS, ANALYSIS_WORDS
    assert set(loader) == set(analysis)


def test_the_loader_and_the_analyzer_use_the_one_check(tmp_path, monkeypatch):
    from seismag.dataset import loading
    from seismag.spec import analysis

    calls = []
    real = seed.check_class_file

    def spy(path, label, window_days, steps_per_day, **kwargs):
        words = kwargs.get("words", seed.CLASS_FILE_WORDS)
        calls.append((path.name, "loader" if words is seed.CLASS_FILE_WORDS else "analysis"))
        return real(path, label, window_days, steps_per_day, **kwargs)

    monkeypatch.setattr(loading, "check_class_file", spy)
    monkeypatch.setattr(analysis, "check_class_file", spy)
    folder = seed.window_dir(tmp_path, DAYS)
    folder.mkdir()
    for label in (0, 1):
        np.save(folder / seed.CLASS_FILES[label], class_file_or_empty(label))
    loading.load_window(tmp_path, DAYS, SPD)
    analysis.DatasetAnalyzer(tmp_path, [DAYS], steps_per_day=SPD).analyze_window(DAYS)
    assert calls == [("data_0.npy", "loader"), ("data_1.npy", "loader"),
                     ("data_0.npy", "analysis"), ("data_1.npy", "analysis")]
