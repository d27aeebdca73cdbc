"""Scoring every saved ensemble of a results folder on an external labelled test set
(``seismag evaluate``), written in the training layout so plots and the report read it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from seismag import defaults
from seismag.dataset.loading import load_window
from seismag.errors import CheckpointError, DataError
from seismag.io import write_json, write_npy
from seismag.lock import folder_lock
from seismag.layout.results import (
    DATASET_SUMMARY_FILE,
    ENSEMBLE_PATTERN,
    EVALUATION_FOLDER,
    MODEL_FOLDER_SUFFIX,
    RUN_CONFIG_FILE,
    ArtifactPaths,
    ensemble_files,
    file_prefix,
    parse_file_name,
    summary_record,
)
from seismag.training.artifacts import summarise
from seismag.training.evaluation import bootstrap_intervals, majority_baseline
from seismag.training.metrics import calculate_binary_metrics
from seismag.inference.calibration import calibration_words, calibrator
from seismag.inference.ensemble import input_record, load_trained_ensemble, window_input
from seismag.scores import proper_scores
from seismag.inference.predict import predict_array

logger = logging.getLogger("seismag.evaluate")


def unfinished_models(results_dir, *, models=None, windows=None) -> list[str]:
    """One note for each model x window of ``results_dir`` with fold files but no ensemble.

    Training writes the ensemble last, so such a model is half-written (a run killed or
    still going): ``evaluate`` has nothing to score for it and says so instead of
    skipping it silently. ``models`` / ``windows`` filter as in :func:`evaluate_results`.
    """
    notes = []
    for folder in sorted(Path(results_dir).glob(f"*{MODEL_FOLDER_SUFFIX}")):
        model = folder.name[: -len(MODEL_FOLDER_SUFFIX)]
        if not folder.is_dir() or (models and model not in models):
            continue
        folds: dict[tuple[str, int], set[int]] = {}
        ensembles = set()
        for file in folder.iterdir():
            named = None if file.name.startswith(".") else parse_file_name(file.name)
            if named is None:
                continue
            key = (named.display_name, named.window_days)
            if named.kind == "ensemble":
                ensembles.add(key)
            elif named.fold is not None:
                folds.setdefault(key, set()).add(named.fold)
        for display, days in sorted(folds.keys() - ensembles):
            if windows and days not in windows:
                continue
            notes.append(f"{folder / file_prefix(display, days)}_*: fold files of "
                         f"{len(folds[(display, days)])} fold(s) but no ensemble (training did not "
                         "finish); not evaluated")
    return notes


def incomplete_model(ensemble_path: Path, display: str, window_days: int, num_folds: int) -> str | None:
    """Why a model whose ensemble loads is still not complete (None when it is): its summary
    or ensemble config missing or not a JSON object, or a file of one of its ``num_folds``
    folds missing. Named by the file, for the note that says it was skipped."""
    paths = ArtifactPaths(ensemble_path.parent.parent, ensemble_path.parent.name[: -len(MODEL_FOLDER_SUFFIX)],
                          display, window_days)
    for path in (paths.summary, paths.ensemble_config):
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return f"{path}: missing"
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            return f"{path}: cannot be read ({exc})"
        if not isinstance(value, dict):
            return f"{path}: not a JSON object"
    for fold in range(1, num_folds + 1):
        missing = [path for path in paths.fold_files(fold) if not path.is_file()]
        if missing:
            return f"{missing[0]}: missing (fold {fold} of the {num_folds} the ensemble holds)"
    return None


def evaluate_results(results_dir, test_data_dir, out_dir=None, *, models=None, windows=None,
                     device: str = "cpu", nan_policy: str = "interpolate", max_missing: float = defaults.MAX_MISSING,
                     seed: int = 0, notes: list[str] | None = None,
                     calibrated: bool = True) -> dict[str, dict[int, dict]]:
    """Score every saved ensemble in ``results_dir`` on an external labelled test set.

    ``test_data_dir`` is in the seed layout. Writes, under ``out_dir`` (default
    ``results_dir/evaluation``), the same layout as training with one "fold" per
    model and window (the whole test set): probabilities, labels, the class-file rows
    scored (``_test_file_rows.npy``, where training's folds have ``_test_indices.npy``),
    metrics, a summary with bootstrap 95 % intervals and the all-majority baseline, so
    ``seismag plot`` / ``seismag report`` draw it like a training run.
    The probabilities are calibrated by each ensemble's calibrator unless ``calibrated`` is false
    (or the ensemble carries none); the summary's ``calibration`` record holds the proper scores
    and reliability tables of the test rows before and after calibration (the calibrator was
    fitted on the training run's out-of-fold rows and never saw these).
    Returns ``{model: {window_days: summary}}``.

    Only complete models are scored. A model with fold files but no ensemble
    (:func:`unfinished_models`), or whose ensemble, summary, ensemble config or fold files
    are missing or do not read (:func:`incomplete_model`), is skipped with a note naming
    the file and why: added to ``notes`` when given (else logged as a warning) and listed
    as ``skipped`` in the evaluation's ``run_config.json`` (so the report shows it). When
    nothing complete is left the whole command is refused, naming every skipped model.
    """
    results_dir = Path(results_dir)
    out_dir = Path(out_dir) if out_dir else results_dir / EVALUATION_FOLDER
    skipped = unfinished_models(results_dir, models=models, windows=windows)
    found = ensemble_files(results_dir)
    if not found:
        hint = f" ({len(skipped)} unfinished: fold files without an ensemble)" if skipped else ""
        raise DataError(results_dir, f"holds no {ENSEMBLE_PATTERN}{hint}; train first (seismag train)")
    loaded, data_cache = [], {}
    for path in found:  # validate everything before writing anything
        named = parse_file_name(path.name)
        if named is None:
            raise DataError(path, "is not named as the results layout names an ensemble "
                                  "({Model}Model_{N}day_ensemble.pth)")
        folder_model = path.parent.name[: -len(MODEL_FOLDER_SUFFIX)]
        if (models and folder_model not in models) or (windows and named.window_days not in windows):
            continue
        try:
            ensemble = load_trained_ensemble(path, device=device)
        except (CheckpointError, DataError) as exc:
            skipped.append(f"{exc}; not evaluated")
            continue
        problem = incomplete_model(path, named.display_name, named.window_days, len(ensemble.models))
        if problem:
            skipped.append(f"{problem}; not evaluated")
            continue
        model, days = ensemble.extra.get("model"), int(ensemble.extra["window_days"])
        if (models and model not in models) or (windows and days not in windows):
            continue
        inputs = input_record(ensemble.extra)
        steps = int(inputs["steps_per_day"])
        key = (days, steps, json.dumps(inputs.get("recipe", [])))
        if key not in data_cache:
            # the test windows prepared by the ensemble's recipe, never by the test folder's own
            data_cache[key] = load_window(test_data_dir, days, steps, nan_policy=nan_policy,
                                          max_missing=max_missing, recipe=inputs.get("recipe", []),
                                          require_both_classes=False)
        data = data_cache[key]
        loaded.append((path, named.display_name, model, days, ensemble, data,
                       window_input(ensemble.extra, data, data.path or test_data_dir)))
    if not loaded and skipped:
        raise DataError(results_dir, f"holds no complete model to evaluate: {' | '.join(skipped)}")
    if not loaded:
        raise DataError(results_dir, "no ensemble matches the requested models/windows")
    if notes is not None:
        notes.extend(skipped)
    else:
        for message in skipped:
            logger.warning("%s", message)

    with folder_lock(out_dir, command="evaluate"):  # one writer of the evaluation folder
        results: dict[str, dict[int, dict]] = {}
        for path, display, model, days, ensemble, data, features in loaded:
            paths = ArtifactPaths(out_dir, model, display, days)
            scores = predict_array(ensemble, features, calibrated=calibrated)
            probs = scores["prob_class1"].astype(np.float32)
            record = calibrator(ensemble.extra, path) if calibrated else None
            if calibrated and record is None:
                logger.warning("%s: prob_class1 %s", path, calibration_words(ensemble.extra))
            calibration = {"calibrator": record, "applied": record is not None,
                           "words": calibration_words(ensemble.extra, calibrated),
                           "uncalibrated": proper_scores(data.labels, scores["prob_class1_uncalibrated"]),
                           "calibrated": proper_scores(data.labels, probs) if record is not None else None,
                           "note": "proper scores of the test rows; the calibrator was fitted on the training "
                                   "run's out-of-fold rows and never saw them"}
            metrics = calculate_binary_metrics(data.labels, (probs >= 0.5).astype(int), probs)
            metrics.update(fold=1, n_val=int(data.n_samples), n_train=0, best_epoch=None)
            write_npy(paths.fold_file(1, "test_probs"), probs)
            write_npy(paths.fold_file(1, "test_labels"), data.labels)
            write_npy(paths.fold_file(1, "test_file_rows"), data.source_rows)  # file rows, not WindowData rows
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
                       "baselines": {"majority": majority_baseline(data.labels), "chance_auc": 0.5},
                       "calibration": calibration})
            write_json(paths.summary, summary)
            results.setdefault(model, {})[days] = summary
        write_json(out_dir / DATASET_SUMMARY_FILE, {
            "data_dir": str(Path(test_data_dir).resolve()),
            "windows": {str(d): {"n_samples": w.n_samples, "class_counts": w.class_counts,
                                 "dropped_rows": w.dropped_rows} for (d, *_), w in data_cache.items()}})
        write_json(out_dir / RUN_CONFIG_FILE, {"evaluation_of": str(results_dir.resolve()),
                                                 "test_data": str(Path(test_data_dir).resolve()),
                                                 "skipped": skipped})
    return results
