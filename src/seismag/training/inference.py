"""Using a trained ensemble: each fold model applies the scaling of its own
fold's training rows, then the F1-weighted combination (``seismag predict``)."""

from __future__ import annotations

import csv
import io as _io
import os
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import models as model_registry
from ..data.loading import fill_gaps
from ..errors import DataError
from ..io import atomic_path
from .engine import EVAL_BATCH_SIZE, Scaler


class ScaledMember(nn.Module):
    """A fold model behind its fold's input scaling.

    Input: raw flat windows ``(batch, window_days * steps_per_day)`` in the
    data's unit (nT); output: the model's logits ``(batch, 2)``.
    """

    def __init__(self, model: nn.Module, scaler: Scaler, window_days: int, steps_per_day: int):
        super().__init__()
        self.model = model
        self.scaler = scaler
        self.window_days = window_days
        self.steps_per_day = steps_per_day

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.scaler.apply(x)
        return self.model(model_registry.to_model_input(self.model, x, self.window_days, self.steps_per_day))


def load_trained_ensemble(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """Load an ``_ensemble.pth`` written by training, ready for raw flat windows.

    Returns an :class:`~seismag.models.F1WeightedEnsemble` whose members are
    :class:`ScaledMember` s; ``.extra`` holds window_days, steps_per_day and the protocol.
    """
    ensemble = model_registry.F1WeightedEnsemble.load(path, device=device)
    extra = ensemble.extra or {}
    if "scalers" not in extra or len(extra["scalers"]) != len(ensemble.models):
        raise DataError(path, "is an ensemble without per-fold scaling statistics; "
                        "it was not written by `seismag train`")
    members = [ScaledMember(model, Scaler.from_dict(s, device), int(extra["window_days"]),
                            int(extra["steps_per_day"]))
               for model, s in zip(ensemble.models, extra["scalers"])]
    trained = model_registry.F1WeightedEnsemble(members, list(ensemble.f1_scores), ensemble.strategy)
    trained.extra = extra
    return trained.eval()


def load_ensemble_model(model_path, config_path=None, device="cpu", model_class=None, device_ids=None):
    """SPEC Module 6 name: load a saved ensemble (the JSON config is optional;
    everything needed is inside the ``.pth``). Input: raw flat windows."""
    return load_trained_ensemble(model_path, device=device)


def predict_array(ensemble, features: np.ndarray, batch_size: int = EVAL_BATCH_SIZE):
    """Score raw windows ``(n, window_days * steps_per_day)``.

    Returns arrays ``prob_class1``, ``predicted_class``, ``confidence``, ``member_variance``.
    """
    device = next(ensemble.parameters()).device
    outputs = {"prob_class1": [], "predicted_class": [], "confidence": [], "member_variance": []}
    for start in range(0, features.shape[0], batch_size):
        x = torch.as_tensor(features[start:start + batch_size], dtype=torch.float32, device=device)
        classes, confidence, variance = ensemble.classify_with_confidence(x)
        probs = ensemble.predict_proba(x)[:, 1]
        for key, value in zip(outputs, (probs, classes, confidence, variance)):
            outputs[key].append(value.cpu().numpy())
    return {k: np.concatenate(v) for k, v in outputs.items()}


def predict_file(ensemble_path, input_path, out=None, device: str = "cpu", max_missing: float = 0.1) -> int:
    """``seismag predict``: score the rows of a ``.npy`` and write (or print) a CSV.

    Rows may carry a trailing label column (as the seed layout's files do); it
    is copied to the output as ``label``. Short NaN gaps are interpolated; rows
    with more than ``max_missing`` missing get empty scores.
    """
    ensemble = load_trained_ensemble(ensemble_path, device=device)
    n_features = int(ensemble.extra["window_days"]) * int(ensemble.extra["steps_per_day"])
    input_path = Path(input_path)
    try:
        array = np.load(input_path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(input_path, "file not found") from None
    except Exception as exc:
        raise DataError(input_path, f"cannot be read as a numeric .npy file ({exc})") from None
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
        raise DataError(input_path, f"must be a 2-D numeric array, got shape {array.shape} dtype {array.dtype}")
    if array.shape[1] not in (n_features, n_features + 1):
        raise DataError(input_path, f"has {array.shape[1]} columns; this ensemble expects {n_features} features "
                        f"({ensemble.extra['window_days']} days x {ensemble.extra['steps_per_day']} steps), "
                        "optionally followed by a label column")
    labels = array[:, n_features] if array.shape[1] == n_features + 1 else None
    features = np.array(array[:, :n_features], dtype=np.float32)
    if np.isinf(features).any():
        raise DataError(input_path, f"holds infinite values (first at row {int(np.argwhere(np.isinf(features))[0, 0])})")
    keep, _ = fill_gaps(features, max_missing)
    scores = predict_array(ensemble, features[keep])

    header = ["row", "prob_class1", "predicted_class", "confidence", "member_variance"]
    header += ["label"] if labels is not None else []
    buffer = _io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    kept_rows = np.flatnonzero(keep)
    position = {row: i for i, row in enumerate(kept_rows)}
    for row in range(features.shape[0]):
        if row in position:
            i = position[row]
            cells = [row, f"{scores['prob_class1'][i]:.6f}", int(scores["predicted_class"][i]),
                     f"{scores['confidence'][i]:.6f}", f"{scores['member_variance'][i]:.6g}"]
        else:
            cells = [row, "", "", "", ""]
        if labels is not None:
            cells.append(int(labels[row]))
        writer.writerow(cells)
    if out is None:
        print(buffer.getvalue(), end="")
    else:
        with atomic_path(out) as tmp:
            tmp.write_text(buffer.getvalue(), encoding="utf-8")
    return features.shape[0]


def evaluate_results(results_dir, test_data_dir, out_dir=None, *, models=None, windows=None,
                     device: str = "cpu", nan_policy: str = "interpolate", max_missing: float = 0.1,
                     seed: int = 0) -> dict[str, dict[int, dict]]:
    """Score every saved ensemble in ``results_dir`` on an external labelled test set.

    ``test_data_dir`` is in the seed layout. Writes, under ``out_dir`` (default
    ``results_dir/evaluation``), the same layout as training with one "fold" per
    model and window (the whole test set): probabilities, labels, metrics,
    a summary with bootstrap 95 % intervals and the all-majority baseline, so
    ``seismag plot`` / ``seismag report`` draw it like a training run.
    Returns ``{model: {window_days: summary}}``.
    """
    from ..data.loading import load_window
    from ..io import write_json, write_npy
    from .artifacts import ArtifactPaths, summarise
    from .evaluation import bootstrap_intervals, majority_baseline
    from .metrics import calculate_binary_metrics

    results_dir = Path(results_dir)
    out_dir = Path(out_dir) if out_dir else results_dir / "evaluation"
    found = sorted(results_dir.glob("*_models/*_ensemble.pth"))
    if not found:
        raise DataError(results_dir, "holds no *_models/*_ensemble.pth; train first (seismag train)")
    loaded, data_cache = [], {}
    for path in found:  # validate everything before writing anything
        ensemble = load_trained_ensemble(path, device=device)
        model, days = ensemble.extra.get("model"), int(ensemble.extra["window_days"])
        if (models and model not in models) or (windows and days not in windows):
            continue
        steps = int(ensemble.extra["steps_per_day"])
        if (days, steps) not in data_cache:
            data_cache[(days, steps)] = load_window(test_data_dir, days, steps, nan_policy=nan_policy,
                                                    max_missing=max_missing)
        loaded.append((path, model, days, ensemble, data_cache[(days, steps)]))
    if not loaded:
        raise DataError(results_dir, "no ensemble matches the requested models/windows")

    results: dict[str, dict[int, dict]] = {}
    for path, model, days, ensemble, data in loaded:
        display = path.name.split("Model_")[0]
        paths = ArtifactPaths(out_dir, model, display, days)
        scores = predict_array(ensemble, data.features)
        probs = scores["prob_class1"].astype(np.float32)
        metrics = calculate_binary_metrics(data.labels, (probs >= 0.5).astype(int), probs)
        metrics.update(fold=1, n_val=int(data.n_samples), n_train=0, best_epoch=None)
        write_npy(paths.fold_file(1, "test_probs"), probs)
        write_npy(paths.fold_file(1, "test_labels"), data.labels)
        write_npy(paths.fold_file(1, "test_indices"), data.source_rows)
        write_json(paths.fold_file(1, "metrics"), metrics)
        lists, mean, std = summarise([metrics])
        summary = {"model_name": f"{display}Model", "model": model, "window_name": f"{days}day",
                   "window_days": days, "num_folds": 1, **lists, "mean": mean, "std": std,
                   "best_fold": 1, "best_val_f1": metrics["f1"],
                   "protocol": {**(ensemble.extra.get("protocol") or {}), "evaluation": "external test set",
                                "test_data": str(Path(test_data_dir).resolve()), "ensemble": str(path),
                                "leakage_note": "scores of the saved ensemble on a separate test set; no "
                                                "training or selection used these rows (if the test set is "
                                                "truly separate from the training data)"},
                   "intervals": {"level": 0.95, "bootstrap": bootstrap_intervals(data.labels, probs, seed=seed),
                                 "note": "bootstrap over test samples"},
                   "baselines": {"majority": majority_baseline(data.labels), "chance_auc": 0.5}}
        write_json(paths.summary, summary)
        results.setdefault(model, {})[days] = summary
    write_json(out_dir / "dataset_summary.json", {
        "data_dir": str(Path(test_data_dir).resolve()),
        "windows": {str(d): {"n_samples": w.n_samples, "class_counts": w.class_counts,
                             "dropped_rows": w.dropped_rows} for (d, _), w in data_cache.items()}})
    write_json(out_dir / "run_config.json", {"evaluation_of": str(results_dir.resolve()),
                                             "test_data": str(Path(test_data_dir).resolve())})
    return results
