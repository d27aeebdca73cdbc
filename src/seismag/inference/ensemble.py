"""A training run's ensemble, ready for raw windows: each fold model behind the scaling of its
own fold's training rows, then the F1-weighted combination (SPEC Module 6 ``load_ensemble_model``)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from seismag import models as model_registry
from seismag.layout import dataset_info
from seismag.errors import CheckpointError, ConfigError, DataError
from seismag.training.tensors import Scaler


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
        self.table = model_registry.get_model_entry(model.model_name).per_window_table

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.scaler.apply(flat_windows(x, self.window_days, self.steps_per_day, self.table))
        return self.model(model_registry.to_model_input(self.model, x, self.window_days, self.steps_per_day))


def flat_windows(x: torch.Tensor, window_days: int, steps_per_day: int, table: bool = False) -> torch.Tensor:
    """``(n, days, steps)`` or ``(n, days * steps)`` as the flat layout the scalers take
    (``table``: rows of ``steps_per_day`` activity columns)."""
    if table:
        if x.ndim == 2 and x.shape[1] == steps_per_day:
            return x
        raise ConfigError(f"input of shape {tuple(x.shape)}: this ensemble takes rows of {steps_per_day} "
                          "activity columns")
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
        x = flat_windows(x, first.window_days, first.steps_per_day, first.table)
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
    check_recorded_inputs(path, ensemble)
    members = [ScaledMember(model, Scaler.from_dict(s, device), int(extra["window_days"]),
                            int(extra["steps_per_day"]))
               for model, s in zip(ensemble.models, extra["scalers"])]
    trained = TrainedEnsemble(members, list(ensemble.f1_scores), ensemble.strategy)
    trained.extra = extra
    return trained.eval()


def check_recorded_inputs(path, ensemble) -> None:
    """The input an ensemble records (window length, steps per day, channels) against what its
    fold models were fitted to, before anything runs: the width of each fold's scaling
    statistics, and each member's ``input_size`` against the registry's config for the
    recorded input. The checksum (:func:`seismag.models.checkpoint.metadata_checksums`) already
    refuses a record edited after saving; this refuses one saved wrong.

    Raises
    ------
    CheckpointError
        One line naming the file and both values.
    """
    extra = ensemble.extra
    try:
        days, steps = int(extra["window_days"]), int(extra["steps_per_day"])
        channels = int(input_record(extra).get("n_channels", len(input_record(extra).get("channels", [0]))))
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: damaged ensemble file: no usable input record ({exc})") from None
    table = takes_table(extra)
    width = steps if table else days * steps
    said = (f"records rows of {steps} activity columns" if table else
            f"records {days}-day windows of {steps} steps a day ({width} values)")
    for fold, scaler in enumerate(extra["scalers"], start=1):
        mean = scaler.get("mean") if isinstance(scaler, dict) else None
        if mean is not None and mean.numel() != width:
            fitted = f"{mean.numel()} values" + ("" if table or mean.numel() % steps else
                                                 f", {mean.numel() // steps}-day windows")
            raise CheckpointError(f"{path}: {said}, but fold {fold}'s scaling statistics were fitted to "
                                  f"{fitted}; the file was edited or mislabelled")
    if table:
        return
    try:
        expected = model_registry.model_config(extra["model"], days, steps, channels=channels).input_size
    except (ConfigError, AttributeError, TypeError):
        return  # no registry config to compare with (the checksum stands alone)
    for fold, member in enumerate(ensemble.models, start=1):
        found = getattr(getattr(member, "config", None), "input_size", expected)
        if found != expected:
            raise CheckpointError(f"{path}: {said}, which a {extra['model']} model takes as input_size "
                                  f"{expected}, but fold {fold}'s model has input_size {found}; the file was "
                                  "edited or mislabelled")


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
    from seismag.runtime import check_gpu_ids

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


def input_record(extra: dict) -> dict:
    """How raw data become this ensemble's input (``extra['inputs']``, written by training).

    Ensembles written before channels and recipes existed were trained on what a folder
    without ``dataset.json`` holds (:func:`~seismag.layout.dataset_info.assumed_dataset_info`)."""
    inputs = extra.get("inputs")
    if inputs:
        return inputs
    assumed = dataset_info.assumed_dataset_info(int(extra["steps_per_day"]))
    return {"kind": "window", "n_channels": assumed.n_channels, "channels": list(assumed.channels),
            "units": list(assumed.units), "steps_per_day": assumed.steps_per_day,
            "recipe": [dict(step) for step in assumed.recipe], "stations": dict(assumed.stations)}


def takes_table(extra: dict) -> bool:
    """Whether the ensemble's model takes a window's activity columns rather than its
    series (its registry entry's ``per_window_table``)."""
    return model_registry.get_model_entry(extra["model"]).per_window_table


def raw_width(extra: dict) -> int:
    """Columns of one raw input row: every channel of every day as stored, or the activity columns."""
    inputs = input_record(extra)
    if takes_table(extra):
        return len(inputs["columns"])
    return int(extra["window_days"]) * int(inputs["n_channels"]) * int(inputs["steps_per_day"])


def describe_input(extra: dict) -> str:
    inputs = input_record(extra)
    if takes_table(extra):
        return f"the activity columns {', '.join(inputs['columns'])}"
    return (f"{extra['window_days']} days x {len(inputs['channels'])} channel(s) ({', '.join(inputs['channels'])}) "
            f"x {inputs['steps_per_day']} steps")


def prepare_raw(extra: dict, features: np.ndarray, *, station: str | None = None, where="the input") -> np.ndarray:
    """Raw rows (gaps already filled) -> this ensemble's model input, by the ensemble's own recipe.

    The recipe comes from the ensemble, never from the caller. Its local-time step needs
    the station: ``station`` names it; without it, the ensemble's one training station.
    """
    from seismag.dataset.loading import apply_recipe, station_longitudes

    inputs = input_record(extra)
    if takes_table(extra) or not inputs["recipe"]:
        return features
    from seismag.dataset.recipe import Recipe

    recipe = Recipe.from_dicts(inputs["recipe"], "the ensemble's recipe")
    longitudes = None
    if recipe.needs_longitude:
        stations = inputs.get("stations") or {}
        if station is None:
            if len(stations) != 1:
                raise ConfigError(f"{where}: the ensemble's recipe selects local time and was trained on "
                                  f"{len(stations)} stations ({', '.join(stations)}); name the station (--station)")
            (station,) = stations
        longitudes = station_longitudes(np.full(len(features), station), stations, where)
    out, _, _ = apply_recipe(features, recipe, window_days=int(extra["window_days"]),
                             channels=int(inputs["n_channels"]), steps_per_day=int(inputs["steps_per_day"]),
                             longitudes=longitudes)
    return out


def window_input(extra: dict, data, where) -> np.ndarray:
    """The model input of a loaded window (loaded with the ensemble's recipe): its prepared
    series, or its activity columns for an ``activity`` ensemble."""
    inputs = input_record(extra)
    if takes_table(extra):
        columns, table = data.activity_table()
        if list(columns) != list(inputs["columns"]):
            raise DataError(where, f"has the activity columns {', '.join(columns)}; the ensemble was trained on "
                                   f"{', '.join(inputs['columns'])}")
        return table
    if list(data.channels) != list(inputs["channels"]):
        raise DataError(where, f"holds the channels {', '.join(data.channels)}; the ensemble was trained on "
                               f"{', '.join(inputs['channels'])}")
    return data.features


def training_period(extra: dict) -> dict | None:
    """The ensemble's training period (``train_until``, ``first_window_start``,
    ``last_horizon_end``; see :meth:`seismag.dataset.loading.WindowData.training_period`), or
    None for an ensemble written before training periods were recorded.

    Training stores it once, in ``extra['protocol']``. Ensembles saved before that also
    carry a copy at the top of ``extra``; it is read first, so those (and a copy whose
    top-level period was set by hand) read as they always did."""
    period = extra.get("training_period") or (extra.get("protocol") or {}).get("training_period")
    return dict(period) if period else None


def label_settings(extra: dict, where="the ensemble") -> dict | None:
    """The label settings of the windows the ensemble trained on (the ``labels`` of their
    ``dataset.json``, :data:`seismag.layout.dataset_info.LABEL_KEYS`), checked; None when unknown:
    windows whose ``dataset.json`` records none (synthetic windows, an older build), or an
    ensemble written before ensembles carried them. Stored once, in ``extra['protocol']``; a
    top-level ``extra['labels']`` (ensembles saved before) is read first, as for
    :func:`training_period`."""
    labels = extra.get("labels") if "labels" in extra else (extra.get("protocol") or {}).get("labels")
    return None if labels is None else dataset_info.label_settings(labels, where)


def in_sample(extra: dict, window_end) -> np.ndarray:
    """True where a scored window (ending at ``window_end``, datetime64) lies inside the
    training period: before the end of the last label horizon the ensemble trained on.
    All false when the period is unknown (the caller says so)."""
    period = training_period(extra)
    window_end = np.asarray(window_end, dtype="datetime64[s]")
    if not period or not period.get("last_horizon_end"):
        return np.zeros(window_end.shape, dtype=bool)
    return window_end < np.datetime64(period["last_horizon_end"], "s")
