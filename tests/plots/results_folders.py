"""Fake but self-consistent results folders, written exactly as docs/artifacts.md says.

Shared by the plot and the report tests: their conftest files import the fixtures below
(as ``plots.results_folders``).

Probabilities and labels are random but seeded; every metric, summary and
ensemble weight is computed from them the way the contract defines, so tests
can recompute any number independently and compare.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from seismag.training.evaluation import calibration_summary
from sklearn.metrics import (
    accuracy_score, average_precision_score, balanced_accuracy_score, f1_score,
    matthews_corrcoef, precision_score, recall_score, roc_auc_score,
)

DISPLAY = {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN", "mlp": "MLP", "transformer": "Transformer",
           "tcn": "TCN"}
#: How well each fake model separates the classes (shift of the class-1 scores).
SEPARATION = {"gru": 1.3, "lstm": 1.1, "rnn": 0.6, "mlp": 0.8, "transformer": 1.6, "tcn": 1.0}
ALL_MODELS = ("gru", "lstm", "rnn", "mlp", "transformer")
ALL_WINDOWS = (7, 14, 30)
PROTOCOL = {"split": "stratified", "scaling": "standard", "selection": "outer",
            "leakage_note": "Windows of one event may sit on both sides of a fold <not grouped>."}


def fold_metrics(probs: np.ndarray, labels: np.ndarray) -> dict:
    """The contract's metric keys, computed with scikit-learn (prediction = p >= 0.5, as training does)."""
    pred = (probs >= 0.5).astype(int)
    tn = int(((pred == 0) & (labels == 0)).sum())
    fp = int(((pred == 1) & (labels == 0)).sum())
    mcc = float(matthews_corrcoef(labels, pred))
    return {
        "f1": float(f1_score(labels, pred, average="weighted", zero_division=0)),
        "precision": float(precision_score(labels, pred, average="weighted", zero_division=0)),
        "recall": float(recall_score(labels, pred, average="weighted", zero_division=0)),
        "specificity": tn / (tn + fp) if tn + fp else 0.0,
        "mcc": mcc,
        "norm_mcc": (mcc + 1) / 2,
        "accuracy": float(accuracy_score(labels, pred)),
        "balanced_accuracy": float(balanced_accuracy_score(labels, pred)),
        "roc_auc": float(roc_auc_score(labels, probs)),
        "pr_auc": float(average_precision_score(labels, probs)),
        "class_acc": [float((pred[labels == c] == c).mean()) for c in (0, 1)],
    }


def _scores(rng: np.random.Generator, n: int, separation: float) -> tuple[np.ndarray, np.ndarray]:
    labels = (rng.random(n) < 0.4).astype(np.int64)
    labels[:2] = [0, 1]  # both classes, always
    logits = rng.normal(size=n) + separation * (2 * labels - 1) * 0.8
    return (1 / (1 + np.exp(-logits))).astype(np.float32), labels


def _log_text(rng: np.random.Generator, model: str, window: int, fold: int, n_epochs: int,
              separation: float, extra: bool) -> str:
    lines = [f"# model={DISPLAY[model]}Model window={window}day fold={fold}",
             "# split=stratified scaling=standard"]
    top = 0.55 + 0.1 * separation
    for epoch in range(1, n_epochs + 1):
        progress = 1 - np.exp(-epoch / 4)
        train_acc = 0.5 + (top + 0.05 - 0.5) * progress + rng.normal(0, 0.01)
        val_acc = 0.5 + (top - 0.5) * progress + rng.normal(0, 0.015)
        train_loss = 0.69 - 0.3 * progress + rng.normal(0, 0.01)
        val_loss = 0.70 - 0.25 * progress + rng.normal(0, 0.015)
        line = (f"epoch={epoch} train_loss={train_loss:.6f} train_acc={train_acc:.6f} "
                f"train_f1={train_acc - 0.01:.6f} val_loss={val_loss:.6f} val_acc={val_acc:.6f} "
                f"val_f1={val_acc - 0.01:.6f} lr={0.001:.6f}")
        if extra:
            line += f" grad_norm={abs(rng.normal(1, 0.2)):.4f} note=warmup"
        lines.append(line)
    return "\n".join(lines) + "\n"


def make_results(root: Path, models=ALL_MODELS, windows=ALL_WINDOWS, folds: int = 3,
                 seed: int = 0, n_val: int = 60) -> Path:
    """Write a complete results folder for ``models`` x ``windows`` x ``folds`` under ``root``."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "run_config.json").write_text(json.dumps({
        "seed": seed, "device": "cpu", "precision": "fp32", "folds": folds,
        "split": "stratified", "scaling": "standard", "selection": "outer",
        "epochs": 15, "models": list(models), "windows": list(windows),
        "comment": "<script>alert('x')</script> & friends",
        "seismag_version": "0.1.0", "started_at": "2024-05-01T12:00:00+00:00",
    }, indent=2))
    (root / "dataset_summary.json").write_text(json.dumps({
        "windows": {str(w): {"n_samples": 300 + w, "class_counts": [180 + w, 120],
                             "imbalance_ratio": round((180 + w) / 120, 2), "severity": "mild",
                             "dropped_rows": 0} for w in windows},
        "data_dir": "/data/<seed>",
    }))
    for model in models:
        folder = root / f"{model}_models"
        folder.mkdir(exist_ok=True)
        display = DISPLAY[model]
        for window in windows:
            prefix = f"{display}Model_{window}day"
            per_fold, fold_probs, fold_labels = [], [], []
            for fold in range(1, folds + 1):
                base = folder / f"{prefix}_fold_{fold}"
                n = n_val + int(rng.integers(-5, 6))
                probs, labels = _scores(rng, n, SEPARATION[model])
                train_probs, train_labels = _scores(rng, 3 * n, SEPARATION[model] + 0.3)
                np.save(f"{base}_test_probs.npy", probs)
                fold_probs.append(probs)
                fold_labels.append(labels)
                np.save(f"{base}_test_labels.npy", labels)
                np.save(f"{base}_train_probs.npy", train_probs)
                np.save(f"{base}_train_labels.npy", train_labels)
                np.save(f"{base}_test_indices.npy", np.sort(rng.choice(4 * n, n, replace=False)).astype(np.int64))
                n_epochs = int(rng.integers(6, 14))  # early stopping: folds differ in length
                metrics = fold_metrics(probs.astype(np.float64), labels)
                metrics.update({"fold": fold, "best_epoch": int(rng.integers(1, n_epochs + 1)),
                                "n_train": 3 * n, "n_val": n})
                Path(f"{base}_metrics.json").write_text(json.dumps(metrics, indent=2))
                Path(f"{base}_logs.txt").write_text(
                    _log_text(rng, model, window, fold, n_epochs, SEPARATION[model], extra=fold == 2))
                Path(f"{base}.pth").write_bytes(b"not a real checkpoint; plots never read it")
                per_fold.append(metrics)
            keys = ("f1", "precision", "recall", "specificity", "mcc", "norm_mcc", "accuracy",
                    "balanced_accuracy", "roc_auc", "pr_auc")
            f1s = np.array([m["f1"] for m in per_fold])
            summary = {
                "model_name": f"{display}Model", "model": model, "window_name": f"{window}day",
                "window_days": window, "num_folds": folds,
                "val_f1s": f1s.tolist(),
                "val_precisions": [m["precision"] for m in per_fold],
                "val_recalls": [m["recall"] for m in per_fold],
                "val_specificities": [m["specificity"] for m in per_fold],
                "val_mccs": [m["mcc"] for m in per_fold],
                "val_norm_mccs": [m["norm_mcc"] for m in per_fold],
                "val_accuracies": [m["accuracy"] for m in per_fold],
                "val_aucs": [m["roc_auc"] for m in per_fold],
                "best_epochs": [m["best_epoch"] for m in per_fold],
                "mean": {k: float(np.mean([m[k] for m in per_fold])) for k in keys},
                "std": {k: float(np.std([m[k] for m in per_fold])) for k in keys},
                "best_fold": int(np.argmax(f1s)) + 1, "best_val_f1": float(f1s.max()),
                "protocol": PROTOCOL,
                # the pooled out-of-fold rows before and after cross-fitted calibration, as training writes
                "calibration": calibration_summary(fold_probs, fold_labels),
            }
            (folder / f"{prefix}_summary.json").write_text(json.dumps(summary, indent=2))
            (folder / f"{prefix}_ensemble.pth").write_bytes(b"not a real ensemble")
            (folder / f"{prefix}_ensemble_config.json").write_text(json.dumps({
                "model_name": f"{display}Model", "model": model, "window_name": f"{window}day",
                "window_days": window, "ensemble_weights": (f1s / f1s.sum()).tolist(),
                "ensemble_method": "f1_weighted", "strategy": "weighted_mean",
                "model_params": {"hidden_size": 32},
                "fold_metrics": {f"fold_{i + 1}": m for i, m in enumerate(per_fold)},
                "average_metrics": {k: {"mean": summary["mean"][k], "std": summary["std"][k]} for k in keys},
                "protocol": PROTOCOL,
            }, indent=2))
    return root


def make_partial_results(root: Path) -> Path:
    """A results folder with holes, like an interrupted or partial run.

    - no MLP at all; an extra model ``tcn`` (display ``TCN``) outside the SPEC's five
    - Transformer has no 30-day results
    - GRU 7-day: fold 3 missing entirely (2 of 3 folds)
    - GRU 30-day: fold 2 has no epoch log (curves from folds 1 and 3)
    - LSTM 14-day: no ensemble config (equal weights)
    - RNN 14-day: no summary (metrics from the ensemble config); RNN 30-day: neither
      summary nor ensemble config (metrics recomputed from fold metrics)
    - no dataset_summary.json
    """
    make_results(root, models=("gru", "lstm", "rnn", "transformer", "tcn"), seed=1)
    for path in (root / "transformer_models").glob("TransformerModel_30day_*"):
        path.unlink()
    for path in (root / "gru_models").glob("GRUModel_7day_fold_3*"):
        path.unlink()
    (root / "gru_models" / "GRUModel_30day_fold_2_logs.txt").unlink()
    (root / "lstm_models" / "LSTMModel_14day_ensemble_config.json").unlink()
    (root / "rnn_models" / "RNNModel_14day_summary.json").unlink()
    (root / "rnn_models" / "RNNModel_30day_summary.json").unlink()
    (root / "rnn_models" / "RNNModel_30day_ensemble_config.json").unlink()
    (root / "dataset_summary.json").unlink()
    # A half-written temporary from a killed run must be ignored.
    (root / "gru_models" / ".GRUModel_7day_fold_3_test_probs.npy.abc.tmp.npy").write_bytes(b"junk")
    return root


@pytest.fixture(scope="session")
def full_results(tmp_path_factory) -> Path:
    """5 models x 3 windows x 3 folds, every file present. Treat as read-only."""
    return make_results(tmp_path_factory.mktemp("full") / "results")


@pytest.fixture(scope="session")
def partial_results(tmp_path_factory) -> Path:
    """See :func:`make_partial_results`. Treat as read-only."""
    return make_partial_results(tmp_path_factory.mktemp("partial") / "results")


@pytest.fixture
def fresh_results(tmp_path) -> Path:
    """A small complete folder the test may modify: GRU and LSTM, windows 7 and 14."""
    return make_results(tmp_path / "results", models=("gru", "lstm"), windows=(7, 14), folds=2, seed=3)


@pytest.fixture(scope="session")
def plotted_full(full_results, tmp_path_factory):
    """``plot_all`` on the full fixture at 60 DPI, into a copy's own folder."""
    from seismag.plots import plot_all

    root = tmp_path_factory.mktemp("plotted") / "results"
    shutil.copytree(full_results, root)
    return root, plot_all(root, dpi=60)


@pytest.fixture(scope="session")
def small_results(tmp_path_factory) -> Path:
    """One model, one window, two folds: the least a report needs. Treat as read-only."""
    return make_results(tmp_path_factory.mktemp("small") / "results", models=("gru",), windows=(7,), folds=2,
                        n_val=30)
