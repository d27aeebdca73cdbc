"""Using a trained ensemble: each fold model applies the scaling of its own
fold's training rows, then the F1-weighted combination (``seismag predict``)."""

from __future__ import annotations

import csv
import io as _io
import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .. import models as model_registry
from ..data.loading import fill_gaps
from ..errors import CheckpointError, ConfigError, DataError
from ..io import atomic_path
from .engine import EVAL_BATCH_SIZE, Scaler


class ScaledMember(nn.Module):
    """A fold model behind its fold's input scaling.

    Input: raw windows in the data's unit (nT), flat ``(batch, window_days *
    steps_per_day)`` or sequence-shaped ``(batch, window_days, steps_per_day)``;
    output: the model's logits ``(batch, 2)``.
    """

    def __init__(self, model: nn.Module, scaler: Scaler, window_days: int, steps_per_day: int):
        super().__init__()
        self.model = model
        self.scaler = scaler
        self.window_days = window_days
        self.steps_per_day = steps_per_day

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.scaler.apply(flat_windows(x, self.window_days, self.steps_per_day))
        return self.model(model_registry.to_model_input(self.model, x, self.window_days, self.steps_per_day))


def flat_windows(x: torch.Tensor, window_days: int, steps_per_day: int) -> torch.Tensor:
    """``(n, days, steps)`` or ``(n, days * steps)`` as the flat layout the scalers take."""
    if x.ndim == 3 and tuple(x.shape[1:]) == (window_days, steps_per_day):
        return x.reshape(x.shape[0], window_days * steps_per_day)
    if x.ndim == 2 and x.shape[1] == window_days * steps_per_day:
        return x
    raise ConfigError(f"input of shape {tuple(x.shape)}: this ensemble takes raw windows of shape "
                      f"(n, {window_days}, {steps_per_day}) or (n, {window_days * steps_per_day})")


class TrainedEnsemble(model_registry.F1WeightedEnsemble):
    """The F1-weighted ensemble of a training run's fold models, each behind its fold's scaling.

    Takes raw windows (nT, as in the seed layout), flat or sequence-shaped,
    never windows already standardised: each member standardises with the
    statistics of its own fold's training rows. Input that already looks
    standardised while the training data was not is warned about once.
    """

    def member_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        first = self.models[0]
        x = flat_windows(x, first.window_days, first.steps_per_day)
        if not getattr(self, "_warned_prescaled", False) and looks_prescaled(x, first.scaler):
            self._warned_prescaled = True
            warnings.warn("the input looks standardised already (per-feature mean ~0, std ~1) but this ensemble "
                          "was trained on unscaled windows and scales its input itself with each fold's "
                          "training statistics: pass the raw windows", UserWarning, stacklevel=3)
        return super().member_probabilities(x)


def looks_prescaled(x: torch.Tensor, scaler: Scaler, min_rows: int = 8) -> bool:
    """True when a batch of at least ``min_rows`` windows has per-feature mean ~0 and
    std ~1 while ``scaler``'s training statistics were far from that (the obvious
    mistake of standardising before calling the ensemble)."""
    if scaler.kind != "standard" or x.shape[0] < min_rows:
        return False

    def standardised(mean: torch.Tensor, std: torch.Tensor) -> bool:
        return float(mean.abs().median()) < 0.25 and abs(float(std.median()) - 1.0) < 0.5

    x = x.float()
    return standardised(x.mean(0), x.std(0)) and not standardised(scaler.mean, scaler.std)


def load_trained_ensemble(path: str | os.PathLike, device: str | torch.device = "cpu") -> TrainedEnsemble:
    """Load an ``_ensemble.pth`` written by training, ready for raw windows.

    Returns a :class:`TrainedEnsemble` whose members are :class:`ScaledMember` s;
    ``.extra`` holds window_days, steps_per_day and the protocol.
    """
    ensemble = model_registry.F1WeightedEnsemble.load(path, device=device)
    extra = ensemble.extra or {}
    if "scalers" not in extra or len(extra["scalers"]) != len(ensemble.models):
        raise DataError(path, "is an ensemble without per-fold scaling statistics; "
                        "it was not written by `seismag train`")
    members = [ScaledMember(model, Scaler.from_dict(s, device), int(extra["window_days"]),
                            int(extra["steps_per_day"]))
               for model, s in zip(ensemble.models, extra["scalers"])]
    trained = TrainedEnsemble(members, list(ensemble.f1_scores), ensemble.strategy)
    trained.extra = extra
    return trained.eval()


def load_ensemble_model(model_path, config_path=None, device="cpu", model_class=None, device_ids=None):
    """SPEC Module 6: load a saved ensemble for inference.

    Parameters
    ----------
    model_path : path
        ``{Model}Model_{N}day_ensemble.pth``; it holds everything needed (members,
        weights, each fold's scaling statistics).
    config_path : path, optional
        The ``_ensemble_config.json`` written beside it: read and cross-checked
        (model, window, weights, strategy); a mismatch is a :class:`CheckpointError`.
    device : str or torch.device
    model_class : type, optional
        The ensemble's registered model class (``GRUClassifier`` for a GRU
        ensemble); another class is an error.
    device_ids : list of int, optional
        Checked against the visible GPUs; more than one runs every member
        under ``nn.DataParallel`` over them (``device`` must then be the first).

    Returns
    -------
    TrainedEnsemble
        Call it on raw (unscaled) windows, flat ``(n, days * steps_per_day)`` or
        ``(n, days, steps_per_day)``: ``ensemble(x)`` gives probabilities ``(n, 2)``.
    """
    from .engine import check_gpu_ids

    gpu_ids = check_gpu_ids(device_ids)
    if len(gpu_ids) > 1 and torch.device(device) != torch.device(f"cuda:{gpu_ids[0]}"):
        raise ConfigError(f"device {device} and device_ids {gpu_ids}: DataParallel needs the ensemble on "
                          f"cuda:{gpu_ids[0]}, the first of device_ids")
    ensemble = load_trained_ensemble(model_path, device=device)
    model = ensemble.extra.get("model")
    if model_class is not None and model_registry.model_name_of_class(model_class) != model:
        raise ConfigError(f"{model_path}: holds a '{model}' ensemble, not one of "
                          f"{getattr(model_class, '__name__', model_class)}")
    if config_path is not None:
        check_ensemble_config(model_path, config_path, ensemble)
    if len(gpu_ids) > 1:
        for member in ensemble.models:
            member.model = nn.DataParallel(member.model, device_ids=gpu_ids)
    return ensemble


def check_ensemble_config(model_path, config_path, ensemble: TrainedEnsemble) -> dict:
    """Cross-check an ``_ensemble_config.json`` against the loaded ``.pth``; returns the config."""
    config_path = Path(config_path)
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(config_path, "file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(config_path, f"is not a readable JSON ensemble config ({exc})") from None
    if not isinstance(config, dict):
        raise DataError(config_path, "is not an ensemble config (not a JSON object)")
    expected = {"model": ensemble.extra.get("model"), "window_days": int(ensemble.extra["window_days"]),
                "strategy": ensemble.strategy}
    for key, value in expected.items():
        if config.get(key) != value:
            raise CheckpointError(f"{config_path}: does not belong to {model_path} ({key} is "
                                  f"{config.get(key)!r} there, {value!r} in the .pth)")
    weights = config.get("ensemble_weights")
    if not isinstance(weights, list) or len(weights) != len(ensemble.weights) or not np.allclose(
            np.asarray(weights, dtype=float), ensemble.weights, atol=1e-6):
        raise CheckpointError(f"{config_path}: does not belong to {model_path} (ensemble_weights "
                              f"{weights} there, {[round(float(w), 6) for w in ensemble.weights]} in the .pth)")
    return config


def predict_array(ensemble, features: np.ndarray, batch_size: int = EVAL_BATCH_SIZE):
    """Score raw windows ``(n, window_days * steps_per_day)``.

    Returns arrays ``prob_class1``, ``predicted_class``, ``confidence``, ``member_variance``.
    """
    device = next(ensemble.parameters()).device
    outputs = {"prob_class1": [], "predicted_class": [], "confidence": [], "member_variance": []}
    for start in range(0, features.shape[0], batch_size):
        x = torch.as_tensor(features[start:start + batch_size], dtype=torch.float32, device=device)
        scores = ensemble.score(x)  # every member runs once per batch
        for key, value in zip(outputs, (scores.probabilities[:, 1], scores.classes, scores.confidence,
                                        scores.variance)):
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
    from ..layout import (
        DATASET_SUMMARY_FILE,
        EVALUATION_FOLDER,
        RUN_CONFIG_FILE,
        ArtifactPaths,
        parse_file_name,
        summary_record,
    )
    from .artifacts import summarise
    from .evaluation import bootstrap_intervals, majority_baseline
    from .metrics import calculate_binary_metrics

    results_dir = Path(results_dir)
    out_dir = Path(out_dir) if out_dir else results_dir / EVALUATION_FOLDER
    found = sorted(results_dir.glob("*_models/*_ensemble.pth"))
    if not found:
        raise DataError(results_dir, "holds no *_models/*_ensemble.pth; train first (seismag train)")
    loaded, data_cache = [], {}
    for path in found:  # validate everything before writing anything
        named = parse_file_name(path.name)
        if named is None:
            raise DataError(path, "is not named as the results layout names an ensemble "
                                  "({Model}Model_{N}day_ensemble.pth)")
        ensemble = load_trained_ensemble(path, device=device)
        model, days = ensemble.extra.get("model"), int(ensemble.extra["window_days"])
        if (models and model not in models) or (windows and days not in windows):
            continue
        steps = int(ensemble.extra["steps_per_day"])
        if (days, steps) not in data_cache:
            data_cache[(days, steps)] = load_window(test_data_dir, days, steps, nan_policy=nan_policy,
                                                    max_missing=max_missing)
        loaded.append((path, named.display_name, model, days, ensemble, data_cache[(days, steps)]))
    if not loaded:
        raise DataError(results_dir, "no ensemble matches the requested models/windows")

    results: dict[str, dict[int, dict]] = {}
    for path, display, model, days, ensemble, data in loaded:
        paths = ArtifactPaths(out_dir, model, display, days)
        scores = predict_array(ensemble, data.features)
        probs = scores["prob_class1"].astype(np.float32)
        metrics = calculate_binary_metrics(data.labels, (probs >= 0.5).astype(int), probs)
        metrics.update(fold=1, n_val=int(data.n_samples), n_train=0, best_epoch=None)
        write_npy(paths.fold_file(1, "test_probs"), probs)
        write_npy(paths.fold_file(1, "test_labels"), data.labels)
        write_npy(paths.fold_file(1, "test_indices"), data.source_rows)
        write_json(paths.fold_file(1, "metrics"), metrics)
        _, mean, std = summarise([metrics])  # one "fold": the whole test set
        summary = summary_record(
            model, display, days, fold_metrics=[metrics], mean=mean, std=std,
            protocol={**(ensemble.extra.get("protocol") or {}), "evaluation": "external test set",
                      "test_data": str(Path(test_data_dir).resolve()), "ensemble": str(path),
                      "leakage_note": "scores of the saved ensemble on a separate test set; no "
                                      "training or selection used these rows (if the test set is "
                                      "truly separate from the training data)"},
            extra={"intervals": {"level": 0.95, "bootstrap": bootstrap_intervals(data.labels, probs, seed=seed),
                                 "note": "bootstrap over test samples"},
                   "baselines": {"majority": majority_baseline(data.labels), "chance_auc": 0.5}})
        write_json(paths.summary, summary)
        results.setdefault(model, {})[days] = summary
    write_json(out_dir / DATASET_SUMMARY_FILE, {
        "data_dir": str(Path(test_data_dir).resolve()),
        "windows": {str(d): {"n_samples": w.n_samples, "class_counts": w.class_counts,
                             "dropped_rows": w.dropped_rows} for (d, _), w in data_cache.items()}})
    write_json(out_dir / RUN_CONFIG_FILE, {"evaluation_of": str(results_dir.resolve()),
                                             "test_data": str(Path(test_data_dir).resolve())})
    return results
