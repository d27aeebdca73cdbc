"""Inference: trained ensembles applied to new data, after training and apart from it.

``ensemble``  ``load_trained_ensemble`` / ``load_ensemble_model`` (the SPEC's name) load a saved
              ``_ensemble.pth`` ready for raw windows
``predict``   ``predict_array`` and ``predict_file`` score windows (``seismag predict``)
``evaluate``  ``evaluate_results`` scores every ensemble of a results folder on an external
              test set (``seismag evaluate``)
``scan``      ``scan_records`` and ``scan_data`` slide ensembles over continuous records (or a
              built folder) day by day and write ``scores.csv`` (``seismag scan``)
``explain``   ``explain`` and ``explain_windows``: which days and channels drive the scores, per
              window and per group (``seismag explain``; explain.json, explain.csv)
``attribution`` its kernels: occlusion of one day of one channel, integrated gradients

``calibration`` the calibrator an ensemble carries and the sentence saying what ``prob_class1`` is

Each ``prob_class1`` goes through the ensemble's calibrator (``training.calibration``) unless the
caller turns it off (``--no-calibration``); the uncalibrated value stays beside it.

May import: errors, io, defaults, scores, layout, sources (indices), dataset (loading, stations,
channels, recipe), models, config, runtime, training's tensors/loop/artifacts/metrics/evaluation/calibration
(what training wrote and how it scaled). Nothing in training
imports this package.
"""

from seismag.inference.ensemble import (ScaledMember, TrainedEnsemble, check_ensemble_config, flat_windows, load_ensemble_model,
                       load_trained_ensemble, looks_prescaled)
from seismag.inference.evaluate import evaluate_results
from seismag.inference.predict import predict_array, predict_file
from seismag.inference.scan import SCORE_COLUMNS, scan_data, scan_records

__all__ = ["ScaledMember", "TrainedEnsemble", "check_ensemble_config", "evaluate_results", "flat_windows",
           "load_ensemble_model", "load_trained_ensemble", "looks_prescaled", "predict_array", "predict_file",
           "SCORE_COLUMNS", "scan_data", "scan_records"]
