"""The SPEC's documented names run as its examples show."""
import json

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from seismag import compat
from seismag.compat import (
    MLPClassifier, calculate_class_weights, create_data_loaders_balanced, create_model, load_checkpoint,
    perform_model_ensemble, run_epoch, save_checkpoint,
)

from training_data import SPD, write_synthetic


def test_every_model_has_its_spec_functions():
    for name in ("gru", "lstm", "rnn", "mlp", "transformer"):
        for prefix in ("main_", "kfold_train_eval_", "train_eval_"):
            assert callable(getattr(compat, prefix + name))


def test_module3_utilities(tmp_path):
    y = torch.tensor([0] * 30 + [1] * 10)
    weights = calculate_class_weights(y, method="sqrt", normalize=False)
    assert weights.tolist() == pytest.approx([np.sqrt(40 / 60), np.sqrt(40 / 20)])
    dataset = TensorDataset(torch.randn(40, 12), y)
    loader = create_data_loaders_balanced(dataset, batch_size=8)
    drawn = torch.cat([b[1] for b in loader])
    assert len(drawn) == 40 and 8 < int(drawn.sum()) < 32  # minority oversampled toward half
    model = create_model(MLPClassifier, device="cpu", input_size=12, hidden_sizes=[8, 4], output_size=2,
                         dropout_prob=0.3, use_batch_norm=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    stats = run_epoch(model, loader, "cpu", nn.CrossEntropyLoss(weight=weights), optimizer)
    assert set(stats) == {"loss", "accuracy", "f1"} and stats["loss"] > 0
    path = save_checkpoint(model, optimizer, epoch=3, loss=stats["loss"], checkpoint_dir=tmp_path,
                           additional_info={"best_f1": 0.5})
    fresh = MLPClassifier(input_size=12, hidden_sizes=[8, 4], output_size=2, dropout_prob=0.3)
    loaded, opt, epoch, loss, info = load_checkpoint(path, fresh, torch.optim.AdamW(fresh.parameters()))
    assert epoch == 3 and loss == pytest.approx(stats["loss"]) and info == {"best_f1": 0.5}
    x = torch.randn(5, 12)
    assert torch.equal(loaded.eval()(x), model.eval()(x))


def test_kfold_train_eval_and_ensemble_as_documented(tmp_path):
    data_dir = write_synthetic(tmp_path / "data", n0=16, n1=12)
    X = np.load(data_dir / "window-4" / "data_0.npy")
    X = np.vstack([X, np.load(data_dir / "window-4" / "data_1.npy")])
    X = np.nan_to_num(X)
    dataset = TensorDataset(torch.FloatTensor(X[:, :-1].reshape(-1, 4, SPD)), torch.LongTensor(X[:, -1].astype(int)))
    results = compat.kfold_train_eval_gru(
        dataset=dataset, output_dir=str(tmp_path / "results" / "gru_models"),
        optimizer_kwargs={"lr": 0.001, "weight_decay": 0.01},
        scheduler_class=torch.optim.lr_scheduler.ReduceLROnPlateau,
        scheduler_kwargs={"mode": "min", "patience": 10, "factor": 0.1},
        epochs=2, batch_size=8, num_folds=2, random_state=42, input_size=SPD, hidden_sizes=[8, 4],
        dropout_prob=0.3)
    assert len(results["val_f1s"]) == 2
    summary = json.loads((tmp_path / "results/gru_models/GRUModel_4day_summary.json").read_text())
    assert summary["best_val_f1"] == pytest.approx(max(results["val_f1s"]))
    ensemble = perform_model_ensemble("gru", 4, tmp_path / "results", strategy="voting")
    assert ensemble.strategy == "voting"
    probs = ensemble.predict_proba(torch.FloatTensor(X[:3, :-1]))
    assert probs.shape == (3, 2)
    config = json.loads((tmp_path / "results/gru_models/GRUModel_4day_ensemble_config.json").read_text())
    assert config["strategy"] == "voting"


def test_main_optimize_tunes_then_trains(tmp_path):
    pytest.importorskip("optuna", reason="optuna is installed by the test set-up (seismag[tune])")
    data_dir = write_synthetic(tmp_path / "data", n0=30, n1=20)
    results = compat.main_mlp(optimize=True, data_dir=str(data_dir), output_dir=str(tmp_path / "results"),
                              windows=[4], trials=2, steps_per_day=SPD, epochs=2, num_folds=2,
                              model_overrides={"*": {"hidden_sizes": [8, 4]}})
    assert len(results[4]["val_f1s"]) == 2
    tuning = tmp_path / "results" / "tuning" / "mlp_4day"
    assert (tuning / "best_config.toml").is_file() and (tuning / "trials.csv").is_file()
    assert (tmp_path / "results" / "mlp_models" / "MLPModel_4day_summary.json").is_file()
