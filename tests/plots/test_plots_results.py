"""Reading the results folder: discovery, parsing, fallbacks, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seismag.errors import DataError, SeismagError
from seismag.plots.results import ResultsFolder, parse_window


def test_discovers_models_windows_and_folds(full_results):
    results = ResultsFolder(full_results)
    assert [m.key for m in results.models] == ["gru", "lstm", "rnn", "mlp", "transformer"]
    assert [m.display_name for m in results.models] == ["GRU", "LSTM", "RNN", "MLP", "Transformer"]
    assert results.windows() == [7, 14, 30]
    assert results.folds("gru", 7) == [1, 2, 3]
    assert results.folds("Transformer", 30, require=("logs", "metrics", "checkpoint")) == [1, 2, 3]
    assert results.model("LSTMModel").key == "lstm"


def test_partial_folder_and_new_model(partial_results):
    results = ResultsFolder(partial_results)
    assert [m.key for m in results.models] == ["gru", "lstm", "rnn", "transformer", "tcn"]
    assert results.model("tcn").display_name == "TCN"
    assert results.windows("transformer") == [7, 14]
    # fold 3 was removed; the dot-file temporary of a killed run is ignored
    assert results.folds("gru", 7) == [1, 2]
    assert results.expected_folds("gru", 7) == 3
    assert results.folds("gru", 30, require=("logs",)) == [1, 3]
    assert results.dataset_summary() is None


def test_corrupt_json_raises_naming_the_file(fresh_results):
    path = fresh_results / "gru_models" / "GRUModel_7day_summary.json"
    path.write_text('{"mean": {"f1": 0.8,')
    with pytest.raises(DataError) as info:
        ResultsFolder(fresh_results).summary("gru", 7)
    assert str(path) in str(info.value) and "corrupt JSON" in str(info.value)


def test_corrupt_npy_and_mismatched_lengths_name_the_file(fresh_results):
    folder = fresh_results / "lstm_models"
    probs = folder / "LSTMModel_14day_fold_1_test_probs.npy"
    probs.write_bytes(b"garbage")
    with pytest.raises(DataError, match="LSTMModel_14day_fold_1_test_probs.npy"):
        ResultsFolder(fresh_results).predictions("lstm", 14, 1)
    np.save(probs, np.full(3, 0.5, dtype=np.float32))
    with pytest.raises(DataError, match="3 probabilities but"):
        ResultsFolder(fresh_results).predictions("lstm", 14, 1)


def test_missing_and_empty_folders_give_one_clear_error(tmp_path):
    with pytest.raises(SeismagError, match="results folder not found"):
        ResultsFolder(tmp_path / "nope")
    with pytest.raises(SeismagError, match=str(tmp_path)):
        ResultsFolder(tmp_path).select()


def test_fold_weights_from_ensemble_config_and_fallback(fresh_results):
    results = ResultsFolder(fresh_results)
    config = json.loads((fresh_results / "gru_models" / "GRUModel_7day_ensemble_config.json").read_text())
    weights, message = results.fold_weights("gru", 7, [1, 2])
    assert message is None
    assert np.allclose(weights, np.array(config["ensemble_weights"]) / sum(config["ensemble_weights"]))
    # A subset of folds is renormalised.
    weights, _ = results.fold_weights("gru", 7, [2])
    assert weights.tolist() == [1.0]
    (fresh_results / "gru_models" / "GRUModel_7day_ensemble_config.json").unlink()
    weights, message = ResultsFolder(fresh_results).fold_weights("gru", 7, [1, 2])
    assert weights.tolist() == [0.5, 0.5] and "equal weights" in message


def test_metric_stats_fallbacks(partial_results):
    results = ResultsFolder(partial_results)
    assert results.metric_stats("gru", 7).source == "summary"
    from_config = results.metric_stats("rnn", 14)
    assert from_config.source == "ensemble_config"
    recomputed = results.metric_stats("rnn", 30)
    assert recomputed.source == "fold_metrics" and recomputed.num_folds == 3
    f1s = [json.loads((partial_results / "rnn_models" / f"RNNModel_30day_fold_{k}_metrics.json")
                      .read_text())["f1"] for k in (1, 2, 3)]
    assert recomputed.mean["f1"] == pytest.approx(np.mean(f1s))
    assert recomputed.std["f1"] == pytest.approx(np.std(f1s))


@pytest.mark.parametrize("value, days", [(7, 7), ("14", 14), ("30day", 30), ("7-day", 7), ("window-14", 14)])
def test_parse_window(value, days):
    assert parse_window(value) == days


def test_plots_never_import_training_or_models():
    code = ("import sys, seismag.plots, seismag.report; "
            "bad = [m for m in sys.modules if m.startswith(('seismag.training', 'seismag.models'))]; "
            "assert not bad, bad; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
    sources = Path(__file__).resolve().parents[2] / "src" / "seismag" / "plots"
    for path in sources.glob("*.py"):
        text = path.read_text()
        assert "seismag.training" not in text and "seismag.models" not in text, path
