"""seismag.layout: the one owner of the seed layout and the results layout."""

import json
import subprocess
import sys

import numpy as np
import pytest

from seismag import layout
from seismag.errors import DataError
from seismag.plots.results import ResultsFolder
from seismag.plots.results import parse_epoch_log as plots_parse_epoch_log

DAYS, SPD = 3, 8
N_FEATURES = DAYS * SPD


def test_import_is_torch_free():
    code = ("import sys, seismag.layout; "
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith(('torch.', 'seismag.training', "
            "'seismag.models', 'seismag.plots', 'sklearn'))]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- seed layout


def test_seed_layout_names(tmp_path):
    assert layout.window_dir_name(7) == "window-7" == layout.window_dir_name("7")
    assert layout.window_dir(tmp_path, 14) == tmp_path / "window-14"
    assert layout.CLASS_FILES == ("data_0.npy", "data_1.npy") and layout.META_FILE == "meta.csv"


def class_file_or_empty(label=0, rows=5):
    array = np.random.default_rng(label).normal(size=(rows, N_FEATURES + 1)).astype(np.float32)
    array[:, -1] = label
    return array


def test_a_good_class_file_is_returned_memory_mapped(tmp_path):
    path = tmp_path / "data_1.npy"
    np.save(path, class_file_or_empty(1))
    array = layout.check_class_file(path, 1, DAYS, SPD)
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
        layout.check_class_file(path, 0, DAYS, SPD, wording=wording)
    expected = loader_message if wording == "loader" else analysis_message
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}: {expected}"), str(info.value)


@pytest.mark.parametrize("problem", sorted(BAD_FILES))
def test_each_problem_is_one_line_without_pickle_advice(tmp_path, problem):
    path = tmp_path / "data_0.npy"
    BAD_FILES[problem][0](path)
    with pytest.raises(DataError) as info:
        layout.check_class_file(path, 0, DAYS, SPD)
    assert "\n" not in str(info.value) and "allow_pickle" not in str(info.value)


def test_both_wordings_cover_every_problem():
    loader, analysis = (layout.CLASS_FILE_WORDINGS[w] for w in ("loader", "analysis"))
    assert set(loader) == set(analysis)


def test_the_loader_and_the_analyzer_use_the_one_check(tmp_path, monkeypatch):
    from seismag.data import analysis, loading

    calls = []
    real = layout.check_class_file

    def spy(path, label, window_days, steps_per_day, **kwargs):
        calls.append((path.name, kwargs.get("wording", "loader")))
        return real(path, label, window_days, steps_per_day, **kwargs)

    monkeypatch.setattr(loading, "check_class_file", spy)
    monkeypatch.setattr(analysis, "check_class_file", spy)
    folder = layout.window_dir(tmp_path, DAYS)
    folder.mkdir()
    for label in (0, 1):
        np.save(folder / layout.CLASS_FILES[label], class_file_or_empty(label))
    loading.load_window(tmp_path, DAYS, SPD)
    analysis.DatasetAnalyzer(tmp_path, [DAYS], steps_per_day=SPD).analyze_window(DAYS)
    assert calls == [("data_0.npy", "loader"), ("data_1.npy", "loader"),
                     ("data_0.npy", "analysis"), ("data_1.npy", "analysis")]


# -------------------------------------------------------------------------- results layout


def test_every_file_name_round_trips_through_the_plots_reader(tmp_path):
    paths = layout.ArtifactPaths(tmp_path, "gru", "GRU", 7)
    written = {}
    for kind in layout.FOLD_KINDS:
        written[(kind, 2)] = paths.fold_file(2, "" if kind == "checkpoint" else kind)
    for kind in layout.WINDOW_KINDS:
        written[(kind, None)] = paths.window_file(kind)
    for path in written.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    assert paths.fold_complete(2) and not paths.fold_complete(1)

    results = ResultsFolder(tmp_path)
    assert [(m.key, m.display_name) for m in results.models] == [("gru", "GRU")]
    assert results.windows("gru") == [7] and results.folds("gru", 7, require=layout.FOLD_KINDS) == [2]
    for (kind, fold), path in written.items():
        assert results.has("gru", 7, kind, fold), (kind, fold)
        assert results.file("gru", 7, kind, fold) == path
        assert layout.parse_file_name(path.name) == ("GRU", 7, kind, fold)


def test_file_names_as_the_contract_spells_them():
    assert layout.fold_file_name("GRU", 7, 1, "checkpoint") == "GRUModel_7day_fold_1.pth"
    assert layout.fold_file_name("LSTM", 14, 3, "logs") == "LSTMModel_14day_fold_3_logs.txt"
    assert layout.window_file_name("MLP", 30, "ensemble_config") == "MLPModel_30day_ensemble_config.json"
    assert layout.model_folder_name("transformer") == "transformer_models"
    with pytest.raises(ValueError, match="unknown fold file kind"):
        layout.fold_file_name("GRU", 7, 1, "weights")
    for name in ("GRUModel_7day_fold_1_weights.npy", "notes.txt", "GRUModel_7day_report.json",
                 "GRUModel_xday_summary.json"):
        assert layout.parse_file_name(name) is None, name


def test_display_names_of_the_registry_round_trip():
    from seismag.models import get_model_entry, list_models

    assert layout.SPEC_MODELS == tuple(list_models()[:5])
    for model in list_models():
        display = get_model_entry(model).display_name
        name = layout.fold_file_name(display, 30, 5, "test_probs")
        assert layout.parse_file_name(name) == (display, 30, "test_probs", 5)


def test_models_are_ordered_by_the_layout_then_alphabetically(tmp_path):
    for model, display in (("zeta", "Zeta"), ("mlp", "MLP"), ("alpha", "Alpha"), ("gru", "GRU")):
        path = layout.ArtifactPaths(tmp_path, model, display, 7).summary
        path.parent.mkdir(parents=True)
        path.write_text("{}")
    assert [m.key for m in ResultsFolder(tmp_path).models] == ["gru", "mlp", "alpha", "zeta"]


def test_epoch_lines_round_trip_and_both_readers_agree(tmp_path):
    records = [{"epoch": e, "train_loss": 0.7 / e, "train_acc": 0.5, "train_f1": 0.4, "val_loss": 0.69,
                "val_acc": 0.52, "val_f1": 0.5, "lr": 1e-3, "grad_norm": float(e)} for e in (1, 2, 3)]
    path = tmp_path / "GRUModel_7day_fold_1_logs.txt"
    path.write_text("# header\n" + "\n".join(layout.format_epoch_line(r) for r in records) + "\n")
    assert path.read_text().splitlines()[1].startswith(
        "epoch=1 train_loss=0.700000 train_acc=0.500000 train_f1=0.400000 val_loss=0.690000")
    parsed = layout.parse_epoch_log(path)
    assert [r["epoch"] for r in parsed] == [1, 2, 3] and isinstance(parsed[0]["epoch"], int)
    assert parsed[1]["train_loss"] == pytest.approx(0.35) and parsed[2]["grad_norm"] == 3.0
    log = plots_parse_epoch_log(path)
    assert log.epochs.tolist() == [1, 2, 3]
    assert log["val_acc"].tolist() == [r["val_acc"] for r in parsed]
    from seismag.training.artifacts import parse_epoch_log as training_parse_epoch_log
    assert training_parse_epoch_log is layout.parse_epoch_log


def _fold(fold, f1):
    return {"fold": fold, "f1": f1, "precision": 0.5, "recall": 0.5, "specificity": None, "mcc": 0.1,
            "norm_mcc": 0.55, "accuracy": 0.6, "balanced_accuracy": 0.6, "roc_auc": 0.7, "pr_auc": 0.6,
            "best_epoch": fold}


def test_summary_and_ensemble_config_records_follow_the_contract():
    folds = [_fold(1, 0.6), _fold(2, 0.8), _fold(3, 0.8)]
    mean = {key: 0.5 for key in layout.METRIC_KEYS}
    std = {key: 0.1 for key in layout.METRIC_KEYS}
    summary = layout.summary_record("gru", "GRU", 7, fold_metrics=folds, mean=mean, std=std,
                                    protocol={"split": "stratified"}, extra={"baselines": {}})
    assert list(summary) == ["model_name", "model", "window_name", "window_days", "num_folds",
                             *layout.SUMMARY_LISTS, "mean", "std", "best_fold", "best_val_f1", "protocol",
                             "baselines"]
    assert summary["model_name"] == "GRUModel" and summary["window_name"] == "7day"
    assert summary["val_f1s"] == [0.6, 0.8, 0.8] and summary["val_specificities"] == [None] * 3
    assert summary["best_fold"] == 2 and summary["best_val_f1"] == 0.8  # first of the tied best
    config = layout.ensemble_config_record("gru", "GRU", 7, fold_metrics=folds, mean=mean, std=std,
                                           protocol={}, ensemble_weights=[0.3, 0.35, 0.35],
                                           strategy="weighted_mean", model_params={"hidden": 8})
    assert list(config) == ["model_name", "model", "window_name", "window_days", "ensemble_weights",
                            "ensemble_method", "strategy", "model_params", "fold_metrics", "average_metrics",
                            "protocol"]
    assert list(config["fold_metrics"]) == ["fold_1", "fold_2", "fold_3"]
    assert list(config["average_metrics"]) == list(layout.METRIC_KEYS)
    json.dumps([summary, config])  # plain data


def test_the_plots_read_what_the_writer_writes(tmp_path):
    from seismag.training.artifacts import write_summary

    paths = layout.ArtifactPaths(tmp_path, "mlp", "MLP", 4)
    folds = [_fold(1, 0.6), _fold(2, 0.7)]
    summary = write_summary(paths, "mlp", folds, {"split": "stratified"}, {}, [0.46, 0.54], "weighted_mean")
    stats = ResultsFolder(tmp_path).metric_stats("mlp", 4)
    assert stats.source == "summary" and stats.num_folds == 2
    assert stats.mean["f1"] == pytest.approx(0.65) == summary["mean"]["f1"]
    assert json.loads(paths.ensemble_config.read_text())["ensemble_weights"] == [0.46, 0.54]
