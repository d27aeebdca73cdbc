"""The SPEC's documented names run as its examples show."""
import json
import warnings

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from seismag.spec import compat
from seismag.errors import ConfigError
from seismag.training import loop
from seismag.spec.compat import (
    MLPClassifier, calculate_class_weights, create_data_loaders_balanced, create_model, load_checkpoint,
    perform_model_ensemble, run_epoch, save_checkpoint,
)

from helpers import SPD, write_synthetic


def test_every_model_has_its_spec_functions_bound_to_it():
    for name in ("gru", "lstm", "rnn", "mlp", "transformer"):
        for prefix in ("main_", "kfold_train_eval_", "train_eval_"):
            assert getattr(compat, prefix + name).__name__ == prefix + name
        # Each kfold_train_eval_X trains model X: a class of another model is refused, naming X.
        other = compat.MLPClassifier if name != "mlp" else compat.GRUClassifier
        dataset = TensorDataset(torch.zeros(8, 2 * SPD), torch.tensor([0, 1] * 4))
        with pytest.raises(ConfigError, match=f"not '{name}'"):
            getattr(compat, f"kfold_train_eval_{name}")(dataset=dataset, model_class=other, steps_per_day=SPD)


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


# --------------------------------------------------------------------------- every argument takes effect
@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    data_dir = write_synthetic(tmp_path_factory.mktemp("data"), n0=16, n1=12)
    X = np.vstack([np.load(data_dir / "window-4" / f"data_{label}.npy") for label in (0, 1)])
    X = np.nan_to_num(X)
    return TensorDataset(torch.FloatTensor(X[:, :-1].reshape(-1, 4, SPD)), torch.LongTensor(X[:, -1].astype(int)))


def kfold(tmp_path, dataset, **kwargs):
    args = dict(dataset=dataset, output_dir=str(tmp_path / "results"), epochs=3, batch_size=8, num_folds=2,
                hidden_sizes=[8, 4])
    args.update(kwargs)
    summary = compat.kfold_train_eval_gru(**args)
    return summary, tmp_path / "results" / "gru_models"


def epoch_log(folder, fold=1):
    lines = (folder / f"GRUModel_4day_fold_{fold}_logs.txt").read_text().splitlines()
    return [dict(item.split("=") for item in line.split()) for line in lines if line.startswith("epoch=")]


def test_optimizer_class_and_kwargs_take_effect(tmp_path, tiny_dataset):
    summary, folder = kfold(tmp_path, tiny_dataset, optimizer_class=torch.optim.SGD,
                            optimizer_kwargs={"lr": 0.05, "momentum": 0.9})
    assert [float(r["lr"]) for r in epoch_log(folder)][0] == pytest.approx(0.05)
    objects = summary["protocol"]["training_objects"]
    assert objects["optimizer"] == "torch.optim.sgd.SGD" and objects["optimizer_kwargs"] == {"lr": 0.05, "momentum": 0.9}


def test_scheduler_class_and_kwargs_take_effect(tmp_path, tiny_dataset):
    _, folder = kfold(tmp_path / "step", tiny_dataset, scheduler_class=torch.optim.lr_scheduler.StepLR,
                      scheduler_kwargs={"step_size": 1, "gamma": 0.5})
    assert [float(r["lr"]) for r in epoch_log(folder)] == pytest.approx([1e-3, 5e-4, 2.5e-4])
    # CosineAnnealingLR's T_max is honoured (not replaced by the epoch count): 0 after T_max = 2 steps.
    _, folder = kfold(tmp_path / "cosine", tiny_dataset, scheduler_class=torch.optim.lr_scheduler.CosineAnnealingLR,
                      scheduler_kwargs={"T_max": 2})
    assert [float(r["lr"]) for r in epoch_log(folder)] == pytest.approx([1e-3, 5e-4, 0.0], abs=1e-9)


class RecordingPlateau(torch.optim.lr_scheduler.ReduceLROnPlateau):
    seen: list = []

    def step(self, metrics):
        RecordingPlateau.seen.append(float(metrics))
        super().step(metrics)


@pytest.mark.parametrize("mode, column", [("max", "sel_f1"), ("min", "sel_loss")])
def test_plateau_mode_decides_what_it_steps_on(tmp_path, tiny_dataset, mode, column):
    RecordingPlateau.seen = []
    _, folder = kfold(tmp_path, tiny_dataset, num_folds=2, scheduler_class=RecordingPlateau,
                      scheduler_kwargs={"mode": mode, "patience": 0, "factor": 0.5})
    expected = [float(r[column]) for fold in (1, 2) for r in epoch_log(folder, fold)]
    assert RecordingPlateau.seen == pytest.approx(expected, abs=1e-6)


def test_run_settings_and_model_options_take_effect(tmp_path, tiny_dataset, monkeypatch):
    used = []
    original = loop.autocast_context
    monkeypatch.setattr(loop, "autocast_context", lambda device, precision: used.append(precision) or
                        original(device, precision))
    summary, folder = kfold(tmp_path, tiny_dataset, precision="bf16", selection="outer", loss="focal",
                            dropout_prob=0.1)
    assert used and set(used) == {"bf16"}  # trained in bf16, not only recorded
    assert summary["protocol"]["selection"] == "outer"
    checkpoint = torch.load(folder / "GRUModel_4day_fold_1.pth", weights_only=True)
    assert checkpoint["extra"]["run_config"]["loss"] == "focal"
    assert checkpoint["model_config"]["dropout_prob"] == 0.1


def test_bad_arguments_are_refused(tmp_path, tiny_dataset):
    with pytest.raises(ConfigError, match="not a registered"):
        kfold(tmp_path, tiny_dataset, model_class=torch.nn.Linear)
    with pytest.raises(ConfigError, match="hiden_sizes"):
        kfold(tmp_path, tiny_dataset, hiden_sizes=[4])
    with pytest.raises(ConfigError, match="output_size"):
        kfold(tmp_path, tiny_dataset, output_size=3)
    with pytest.raises(ConfigError, match="input_size"):
        kfold(tmp_path, tiny_dataset, input_size=1440)  # the data has 48 steps a day
    with pytest.raises(ConfigError, match="scheduler_kwargs"):
        kfold(tmp_path, tiny_dataset, scheduler_kwargs={"patience": 3})
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA is not available"):
            kfold(tmp_path, tiny_dataset, device_ids=[0])
        with pytest.raises(ConfigError, match="CUDA is not available"):
            compat.setup_device(gpu_ids=[0, 1])
    assert not (tmp_path / "results").exists()  # refused before anything was written


def test_loaded_ensemble_takes_both_layouts_and_warns_on_scaled_input(tmp_path, tiny_dataset):
    kfold(tmp_path, tiny_dataset)
    path = tmp_path / "results" / "gru_models" / "GRUModel_4day_ensemble.pth"
    ensemble = compat.load_ensemble_model(path, path.with_name("GRUModel_4day_ensemble_config.json"),
                                          device="cpu", model_class=compat.GRUClassifier, device_ids=[])
    X = tiny_dataset.tensors[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # raw windows: no warning
        sequence, flat = ensemble(X), ensemble(X.reshape(len(X), -1))
    assert torch.equal(sequence, flat)
    scaled = (X - X.mean(0)) / X.std(0)
    with pytest.warns(UserWarning, match="standardised already"):
        ensemble(scaled)
    with pytest.raises(ConfigError, match="takes raw windows of shape"):
        ensemble(X[:, :3])
