"""seismag.layout.results: the results layout's names, its one epoch-log reader and its records."""

import json

import numpy as np
import pytest

from seismag.errors import DataError
from seismag.layout import results as results_layout
from seismag.layout.results import parse_epoch_log
from seismag.plots.results import ResultsFolder

def test_every_file_name_round_trips_through_the_plots_reader(tmp_path):
    paths = results_layout.ArtifactPaths(tmp_path, "gru", "GRU", 7)
    written = {}
    for kind in results_layout.FOLD_KINDS:
        written[(kind, 2)] = paths.fold_file(2, "" if kind == "checkpoint" else kind)
    for kind in results_layout.WINDOW_KINDS:
        written[(kind, None)] = paths.window_file(kind)
    for path in written.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    assert paths.fold_complete(2) and not paths.fold_complete(1)

    results = ResultsFolder(tmp_path)
    assert [(m.key, m.display_name) for m in results.models] == [("gru", "GRU")]
    assert results.windows("gru") == [7] and results.folds("gru", 7, require=results_layout.FOLD_KINDS) == [2]
    for (kind, fold), path in written.items():
        assert results.has("gru", 7, kind, fold), (kind, fold)
        assert results.file("gru", 7, kind, fold) == path
        assert results_layout.parse_file_name(path.name) == ("GRU", 7, kind, fold)


def test_file_names_as_the_contract_spells_them():
    assert results_layout.fold_file_name("GRU", 7, 1, "checkpoint") == "GRUModel_7day_fold_1.pth"
    assert results_layout.fold_file_name("LSTM", 14, 3, "logs") == "LSTMModel_14day_fold_3_logs.txt"
    assert results_layout.window_file_name("MLP", 30, "ensemble_config") == "MLPModel_30day_ensemble_config.json"
    assert results_layout.model_folder_name("transformer") == "transformer_models"
    with pytest.raises(ValueError, match="unknown fold file kind"):
        results_layout.fold_file_name("GRU", 7, 1, "weights")
    for name in ("GRUModel_7day_fold_1_weights.npy", "notes.txt", "GRUModel_7day_report.json",
                 "GRUModel_xday_summary.json"):
        assert results_layout.parse_file_name(name) is None, name


def test_display_names_of_the_registry_round_trip():
    from seismag.models import get_model_entry, list_models

    assert results_layout.SPEC_MODELS == tuple(list_models()[:5])
    for model in list_models():
        display = get_model_entry(model).display_name
        name = results_layout.fold_file_name(display, 30, 5, "test_probs")
        assert results_layout.parse_file_name(name) == (display, 30, "test_probs", 5)


def test_models_are_ordered_by_the_layout_then_alphabetically(tmp_path):
    for model, display in (("zeta", "Zeta"), ("mlp", "MLP"), ("alpha", "Alpha"), ("gru", "GRU")):
        path = results_layout.ArtifactPaths(tmp_path, model, display, 7).summary
        path.parent.mkdir(parents=True)
        path.write_text("{}")
    assert [m.key for m in ResultsFolder(tmp_path).models] == ["gru", "mlp", "alpha", "zeta"]


def test_an_epoch_line_is_the_contract_spells_it():
    record = {"epoch": 1, "train_loss": 0.7, "train_acc": 0.5, "train_f1": 0.4, "val_loss": 0.69, "val_acc": 0.52,
              "val_f1": 0.5, "lr": 1e-3, "grad_norm": 2.0}
    assert results_layout.format_epoch_line(record) == (
        "epoch=1 train_loss=0.700000 train_acc=0.500000 train_f1=0.400000 val_loss=0.690000 val_acc=0.520000 "
        "val_f1=0.500000 lr=0.001000 grad_norm=2.000000")


def test_the_epoch_log_reader_gives_the_values_written_by_hand(tmp_path):
    # Written by hand, not by the writer: epochs out of order, epoch 2 logged twice (a
    # rerun's later line wins), an extra key on one line only, comments and a blank line.
    log = tmp_path / "GRUModel_7day_fold_1_logs.txt"
    log.write_text(
        "# model=GRU fold=1\n"
        "epoch=2 train_loss=0.9 train_acc=0.1 train_f1=0.1 val_loss=0.9 val_acc=0.1 val_f1=0.1 lr=0.01\n"
        "\n"
        "epoch=1 train_loss=0.7 train_acc=0.5 train_f1=0.4 val_loss=0.71 val_acc=0.52 val_f1=0.5 lr=0.001 "
        "grad_norm=1.5 phase=warmup\n"
        "epoch=2 train_loss=0.6 train_acc=0.6 train_f1=0.55 val_loss=0.65 val_acc=0.58 val_f1=0.57 lr=0.0005\n"
        "# done\n")
    parsed = parse_epoch_log(log)
    assert parsed.path == log and len(parsed) == 2
    assert parsed.epochs.dtype == np.int64 and parsed.epochs.tolist() == [1, 2]
    assert list(parsed.values) == ["train_loss", "train_acc", "train_f1", "val_loss", "val_acc", "val_f1", "lr",
                                   "grad_norm"]  # the non-numeric extra pair is skipped
    assert parsed["train_loss"].tolist() == [0.7, 0.6] and parsed["lr"].tolist() == [0.001, 0.0005]
    assert parsed["grad_norm"][0] == 1.5 and np.isnan(parsed["grad_norm"][1])
    rows = list(parsed)  # one dict per epoch, in epoch order
    assert [row["epoch"] for row in rows] == [1, 2] and all(type(row["epoch"]) is int for row in rows)
    assert rows[1]["val_f1"] == 0.57 and rows[0]["val_acc"] == 0.52


def test_epoch_log_parsing_accepts_comments_and_extra_pairs(tmp_path):
    log = tmp_path / "GRUModel_7day_fold_1_logs.txt"
    log.write_text(
        "# model=GRU fold=1\n\n"
        "epoch=1 train_loss=0.7 train_acc=0.5 train_f1=0.4 val_loss=0.71 val_acc=0.52 val_f1=0.5 lr=0.001 "
        "grad_norm=1.5 phase=warmup\n"
        "epoch=2 train_loss=0.6 train_acc=0.6 train_f1=0.55 val_loss=0.65 val_acc=0.58 val_f1=0.57 lr=0.001\n"
    )
    parsed = parse_epoch_log(log)
    assert parsed.epochs.tolist() == [1, 2]
    assert parsed["val_acc"].tolist() == [0.52, 0.58]
    assert parsed["grad_norm"][0] == 1.5 and np.isnan(parsed["grad_norm"][1])


def test_the_writer_and_the_training_code_use_the_one_reader(tmp_path):
    from seismag.training import artifacts

    records = [{"epoch": e, "train_loss": 0.7 / e, "train_acc": 0.5, "train_f1": 0.4, "val_loss": 0.69,
                "val_acc": 0.52, "val_f1": 0.5, "lr": 1e-3} for e in (1, 2, 3)]
    path = tmp_path / "GRUModel_7day_fold_1_logs.txt"
    path.write_text("# header\n" + "\n".join(results_layout.format_epoch_line(r) for r in records) + "\n")
    log = artifacts.parse_epoch_log(path)
    assert log.epochs.tolist() == [1, 2, 3] and log["train_loss"] == pytest.approx([0.7, 0.35, 0.7 / 3], abs=1e-6)


@pytest.mark.parametrize("line, problem", [
    ("epoch=1 train_loss=0.7", "missing train_acc"),
    ("epoch=1 train_loss=abc train_acc=0.5 train_f1=0.4 val_loss=0.7 val_acc=0.5 val_f1=0.5 lr=0.1",
     "train_loss='abc' is not a number"),
    ("this is not a log line", "expected key=value"),
])
def test_bad_epoch_line_names_file_and_line(tmp_path, line, problem):
    log = tmp_path / "X_logs.txt"
    log.write_text("# header\n" + line + "\n")
    with pytest.raises(DataError) as info:
        parse_epoch_log(log)
    assert str(log) in str(info.value)
    assert "line 2" in str(info.value) and problem in str(info.value)


def _fold(fold, f1):
    return {"fold": fold, "f1": f1, "precision": 0.5, "recall": 0.5, "specificity": None, "mcc": 0.1,
            "norm_mcc": 0.55, "accuracy": 0.6, "balanced_accuracy": 0.6, "roc_auc": 0.7, "pr_auc": 0.6,
            "best_epoch": fold}


def test_evaluates_file_rows_are_named_apart_from_trainings_row_indices(tmp_path):
    paths = results_layout.ArtifactPaths(tmp_path, "gru", "GRU", 7)
    assert paths.fold_file(1, "test_file_rows").name == "GRUModel_7day_fold_1_test_file_rows.npy"
    assert paths.fold_file(1, "test_indices").name == "GRUModel_7day_fold_1_test_indices.npy"
    assert paths.fold_file(1, "test_file_rows") not in paths.fold_files(1)
    assert results_layout.parse_file_name("GRUModel_7day_fold_1_test_file_rows.npy") == ("GRU", 7, "test_file_rows", 1)
    paths.folder.mkdir()
    for path in paths.fold_files(1):
        path.write_bytes(b"")
    assert paths.fold_complete(1)  # a trained fold needs no file rows


def test_summary_and_ensemble_config_records_follow_the_contract():
    folds = [_fold(1, 0.6), _fold(2, 0.8), _fold(3, 0.8)]
    mean = {key: 0.5 for key in results_layout.METRIC_KEYS}
    std = {key: 0.1 for key in results_layout.METRIC_KEYS}
    summary = results_layout.summary_record("gru", "GRU", 7, fold_metrics=folds, mean=mean, std=std,
                                    protocol={"split": "stratified"}, extra={"baselines": {}})
    assert list(summary) == ["model_name", "model", "window_name", "window_days", "num_folds",
                             *results_layout.SUMMARY_LISTS, "mean", "std", "best_fold", "best_val_f1", "protocol",
                             "baselines"]
    assert summary["model_name"] == "GRUModel" and summary["window_name"] == "7day"
    assert summary["val_f1s"] == [0.6, 0.8, 0.8] and summary["val_specificities"] == [None] * 3
    assert summary["best_fold"] == 2 and summary["best_val_f1"] == 0.8  # first of the tied best
    config = results_layout.ensemble_config_record("gru", "GRU", 7, fold_metrics=folds, mean=mean, std=std,
                                           protocol={}, ensemble_weights=[0.3, 0.35, 0.35],
                                           strategy="weighted_mean", model_params={"hidden": 8})
    assert list(config) == ["model_name", "model", "window_name", "window_days", "ensemble_weights",
                            "ensemble_method", "strategy", "model_params", "fold_metrics", "average_metrics",
                            "protocol"]
    assert list(config["fold_metrics"]) == ["fold_1", "fold_2", "fold_3"]
    assert list(config["average_metrics"]) == list(results_layout.METRIC_KEYS)
    json.dumps([summary, config])  # plain data


def test_the_plots_read_what_the_writer_writes(tmp_path):
    from seismag.training.artifacts import write_summary

    paths = results_layout.ArtifactPaths(tmp_path, "mlp", "MLP", 4)
    folds = [_fold(1, 0.6), _fold(2, 0.7)]
    summary = write_summary(paths, "mlp", folds, {"split": "stratified"}, {}, [0.46, 0.54], "weighted_mean")
    stats = ResultsFolder(tmp_path).metric_stats("mlp", 4)
    assert stats.source == "summary" and stats.num_folds == 2
    assert stats.mean["f1"] == pytest.approx(0.65) == summary["mean"]["f1"]
    assert json.loads(paths.ensemble_config.read_text())["ensemble_weights"] == [0.46, 0.54]
