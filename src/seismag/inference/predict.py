"""Scoring new windows with a saved ensemble (``seismag predict``)."""

from __future__ import annotations

import csv
import io as _io
import logging
from pathlib import Path

import numpy as np
import torch

from seismag import defaults
from seismag import models as model_registry
from seismag.dataset.loading import fill_gaps
from seismag.errors import ConfigError, DataError
from seismag.io import atomic_path
from seismag.layout.seed import CLASS_FILE_WORDS
from seismag.training.loop import EVAL_BATCH_SIZE
from seismag.inference.calibration import calibration_words, calibrator
from seismag.inference.ensemble import (describe_input, input_record, load_trained_ensemble, prepare_raw, raw_width,
                                        takes_table)
from seismag.training.calibration import apply_calibrator

logger = logging.getLogger("seismag.predict")


def predict_array(ensemble, features: np.ndarray, batch_size: int = EVAL_BATCH_SIZE, calibrated: bool = True):
    """Score raw windows ``(n, window_days * steps_per_day)``.

    Returns arrays ``prob_class1``, ``prob_class1_uncalibrated``, ``predicted_class``,
    ``confidence``, ``member_variance``. With ``calibrated`` and an ensemble that carries a
    calibrator (:func:`~seismag.inference.ensemble.calibrator`), ``prob_class1`` is calibrated and
    ``predicted_class`` / ``confidence`` follow it (class 1 where it is at least 0.5); otherwise
    ``prob_class1`` equals ``prob_class1_uncalibrated``, the members' combination.
    ``member_variance`` is always the members' spread of their own (uncalibrated) probabilities.
    """
    device = model_registry.module_device(ensemble)
    outputs = {"prob_class1": [], "predicted_class": [], "confidence": [], "member_variance": []}
    for start in range(0, features.shape[0], batch_size):
        x = torch.as_tensor(features[start:start + batch_size], dtype=torch.float32, device=device)
        scores = ensemble.score(x)  # every member runs once per batch
        for key, value in zip(outputs, (scores.probabilities[:, 1], scores.classes, scores.confidence,
                                        scores.variance)):
            outputs[key].append(value.cpu().numpy())
    out = {k: np.concatenate(v) for k, v in outputs.items()}
    out["prob_class1_uncalibrated"] = out["prob_class1"]
    record = calibrator(getattr(ensemble, "extra", None) or {}) if calibrated else None
    if record is not None:
        probability = apply_calibrator(record, out["prob_class1"]).astype(np.float32)
        out["prob_class1"] = probability
        out["predicted_class"] = (probability >= 0.5).astype(np.int64)
        out["confidence"] = np.maximum(probability, 1.0 - probability)
    return out


def read_raw_rows(path: Path, extra: dict) -> np.ndarray:
    """A ``.npy`` of raw rows for an ensemble (its ``extra``), as ``predict`` and ``explain`` read
    them: 2-D (a single row may be 1-D), numeric, the ensemble's raw width of features optionally
    followed by a label column. Rows may be zero; the caller decides what that means.

    Raises
    ------
    DataError
        Naming ``path``: missing, not a numeric ``.npy``, or the wrong number of columns.
    """
    width = raw_width(extra)
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except Exception as exc:
        raise DataError(path, f"cannot be read as a numeric .npy file ({exc})") from None
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or not np.issubdtype(array.dtype, np.number):
        raise DataError(path, f"must be a 2-D numeric array, got shape {array.shape} dtype {array.dtype}")
    if array.shape[1] not in (width, width + 1):
        raise DataError(path, f"has {array.shape[1]} columns; this ensemble expects rows of {width} features "
                              f"({describe_input(extra)}), optionally followed by a label column")
    return array


def predict_file(ensemble_path, input_path, out=None, device: str = "cpu", max_missing: float = defaults.MAX_MISSING,
                 station: str | None = None, calibrated: bool = True) -> int:
    """``seismag predict``: score the rows of a ``.npy`` and write (or print) a CSV.

    Rows are raw windows as the seed layout stores them (every channel, before the
    recipe); the ensemble prepares them with its own recipe (``station`` names the
    station for a local-time step when the ensemble saw several). Rows may carry a
    trailing label column (as the seed layout's files do); it is copied to the output
    as ``label`` and must be 0 or 1. Short NaN gaps are interpolated (channel by
    channel); rows with more than ``max_missing`` missing get empty scores. ``prob_class1`` is
    calibrated unless ``calibrated`` is false or the ensemble carries no calibrator (saved
    before); ``prob_class1_uncalibrated`` is the members' combination either way.

    Returns
    -------
    int
        The number of input rows (one CSV line each).

    Raises
    ------
    DataError
        Naming the input file: unreadable, not a 2-D numeric array, the wrong
        width for this ensemble, no rows, infinite values, a label that is not
        0 or 1, or no row with enough data to score.
    CheckpointError
        The ensemble file is missing, foreign or damaged.
    """
    if not 0.0 <= max_missing <= 1.0:
        raise ConfigError(f"max_missing must be between 0 and 1, got {max_missing}")
    ensemble = load_trained_ensemble(ensemble_path, device=device)
    n_features = raw_width(ensemble.extra)
    inputs = input_record(ensemble.extra)
    input_path = Path(input_path)
    array = read_raw_rows(input_path, ensemble.extra)
    if array.shape[0] == 0:
        raise DataError(input_path, f"holds no rows (shape {array.shape}); nothing to score")
    labels = check_labels(input_path, array[:, n_features]) if array.shape[1] == n_features + 1 else None
    features = np.array(array[:, :n_features], dtype=np.float32)
    if np.isinf(features).any():
        raise DataError(input_path, f"holds infinite values (first at row {int(np.argwhere(np.isinf(features))[0, 0])})")
    if takes_table(ensemble.extra):
        keep = np.isfinite(features).all(axis=1)
    else:
        keep, _ = fill_gaps(features, max_missing, channels=int(inputs["n_channels"]),
                            steps_per_day=int(inputs["steps_per_day"]))
    if not keep.any():
        too_much = f"more than {max_missing:.0%} of their values" if max_missing < 1.0 else "all their values"
        raise DataError(input_path, f"no row has enough data to score (all {features.shape[0]} rows have "
                        f"{too_much} missing)")
    scores = predict_array(ensemble, prepare_raw(ensemble.extra, features[keep], station=station, where=input_path),
                           calibrated=calibrated)
    if calibrated and calibrator(ensemble.extra, ensemble_path) is None:
        logger.warning("%s: prob_class1 %s", ensemble_path, calibration_words(ensemble.extra))

    header = ["row", "prob_class1", "predicted_class", "confidence", "member_variance", "prob_class1_uncalibrated"]
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
                     f"{scores['confidence'][i]:.6f}", f"{scores['member_variance'][i]:.6g}",
                     f"{scores['prob_class1_uncalibrated'][i]:.6f}"]
        else:
            cells = [row, "", "", "", "", ""]
        if labels is not None:
            cells.append(int(labels[row]))
        writer.writerow(cells)
    if out is None:
        print(buffer.getvalue(), end="")
    else:
        with atomic_path(out) as tmp:
            tmp.write_text(buffer.getvalue(), encoding="utf-8")
    return features.shape[0]


def check_labels(input_path, column: np.ndarray) -> np.ndarray:
    """The label column as int64 after checking every value is 0 or 1 (the seed layout's rule).

    Raises
    ------
    DataError
        Naming the file and the first row whose label is NaN/inf or not 0/1.
    """
    words = CLASS_FILE_WORDS
    column = column.astype(np.float64)
    not_finite = np.flatnonzero(~np.isfinite(column))
    if not_finite.size:
        raise DataError(input_path, words["label_not_finite"].format(row=int(not_finite[0])))
    not_binary = np.flatnonzero(~np.isin(column, (0.0, 1.0)))
    if not_binary.size:
        row = int(not_binary[0])
        raise DataError(input_path, words["label_not_binary"].format(row=row, value=column[row]))
    return column.astype(np.int64)
