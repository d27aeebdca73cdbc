"""``DATA/dataset.json``: what a seed-layout folder holds, and what a folder without it holds.

``seismag build`` and ``seismag synth --components`` write it beside the window folders
(:meth:`DatasetInfo.to_dict`); loading, scan, training and build's overwrite rule read it
(:func:`read_dataset_info`, :func:`dataset_info_or_assumed`). It records the channels and
units in column order, the steps per day as stored, the stations, the build settings, the
preprocessing recipe, the activity columns of ``meta.csv`` and the label settings
(:func:`label_settings`). A folder without it is the SPEC's seed layout, and
:func:`assumed_dataset_info` is the one statement of what that holds: one raw channel, H
in nT, no recipe.

The window folders beside it are :mod:`seismag.layout.seed`'s. The JSON reading and the
format/version check here (:func:`read_json_or_none`, :func:`check_format`) serve
``scores.meta.json`` (:mod:`seismag.layout.forecast`) too.

May import: numpy, the standard library and :mod:`seismag.errors`; nothing that imports torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from seismag import defaults
from seismag.errors import DataError, describe_os_error

#: Beside the window folders (``DATA/dataset.json``), written by ``seismag build`` and
#: ``seismag synth``. A folder without it holds what :func:`assumed_dataset_info` says.
DATASET_FILE = "dataset.json"
DATASET_FORMAT = "seismag-dataset"
DATASET_VERSION = 1
#: Order of a row's feature columns: all channels of day 1 (each ``steps_per_day`` long),
#: then day 2, ... A sequence model's day token is one day of every channel side by side.
FEATURE_ORDER = "day, channel, step"
#: What a folder without ``dataset.json`` holds (the SPEC's seed layout): one raw channel, the
#: horizontal intensity H in nT, sampled once a minute unless the reader is told otherwise.
ASSUMED_CHANNELS = ("H",)
ASSUMED_UNITS = ("nT",)
ASSUMED_STEPS_PER_DAY = defaults.STEPS_PER_DAY

# ------------------------------------------------------------------------ label settings

#: ``dataset.json``'s key for the events that made a window class 1 (``seismag build``
#: writes it). Every ensemble trained on the folder carries the same dict, and ``seismag
#: scan`` records it per model beside ``scores.csv`` (:func:`seismag.layout.forecast.write_forecast_scores`), so
#: ``seismag skill`` judges forecasts by the targets the models learnt.
LABELS_KEY = "labels"
#: Its keys: ``min_magnitude``; ``radius`` (``'dobrovolsky'``: ``10 ** (0.43 M)`` km per
#: event, or ``'fixed'``); ``radius_km`` (the fixed radius, None for Dobrovolsky);
#: ``lead_days`` (the label horizon after a window's end); ``max_depth_km`` (None: no
#: depth cut, every event counts by its epicentral distance whatever its depth);
#: ``decluster`` (causal Gardner-Knopoff mainshocks only).
LABEL_KEYS = ("min_magnitude", "radius", "radius_km", "lead_days", "max_depth_km", "decluster")
RADIUS_RULES = ("dobrovolsky", "fixed")


def label_settings(record: Mapping[str, Any], where: str | os.PathLike) -> dict[str, Any]:
    """A label-settings mapping checked and in plain types (the :data:`LABEL_KEYS`, in order).

    ``where`` names the file (or thing) in the one-line :class:`DataError` a missing or
    unknown key, or a value of the wrong kind, raises.
    """
    def fail(problem: str) -> DataError:
        return DataError(where, f"'{LABELS_KEY}': {problem}")

    if not isinstance(record, Mapping):
        raise fail(f"must be a mapping of {', '.join(LABEL_KEYS)}")
    missing = [key for key in LABEL_KEYS if key not in record]
    unknown = sorted(str(key) for key in record if key not in LABEL_KEYS)
    if missing or unknown:
        raise fail("; ".join(part for part in (f"missing {', '.join(missing)}" if missing else "",
                                               f"unknown {', '.join(unknown)}" if unknown else "") if part))

    def number(key: str, value: Any, *, positive: bool = False) -> float:
        if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
                or not np.isfinite(value) or (positive and value <= 0)):
            raise fail(f"{key} must be a {'positive ' if positive else ''}number, got {value!r}")
        return float(value)

    radius, radius_km = record["radius"], record["radius_km"]
    if radius not in RADIUS_RULES:
        raise fail(f"radius must be one of {', '.join(RADIUS_RULES)}, got {radius!r}")
    if (radius == "fixed") != (radius_km is not None):
        raise fail(f"radius_km must be {'a number' if radius == 'fixed' else 'null'} with radius {radius}, "
                   f"got {radius_km!r}")
    lead_days = record["lead_days"]
    if isinstance(lead_days, bool) or not isinstance(lead_days, (int, np.integer)) or lead_days < 1:
        raise fail(f"lead_days must be a whole number of days >= 1, got {lead_days!r}")
    if not isinstance(record["decluster"], (bool, np.bool_)):
        raise fail(f"decluster must be true or false, got {record['decluster']!r}")
    depth = record["max_depth_km"]
    return {"min_magnitude": number("min_magnitude", record["min_magnitude"]), "radius": str(radius),
            "radius_km": None if radius_km is None else number("radius_km", radius_km, positive=True),
            "lead_days": int(lead_days),
            "max_depth_km": None if depth is None else number("max_depth_km", depth),
            "decluster": bool(record["decluster"])}


def read_label_settings(data_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The label settings ``DATA/dataset.json`` records; None when unknown (no
    ``dataset.json``, or one without :data:`LABELS_KEY`: synthetic windows, older builds)."""
    info = read_dataset_info(data_dir)
    return None if info is None else (None if info.labels is None else dict(info.labels))


@dataclass(frozen=True)
class DatasetInfo:
    """What ``dataset.json`` records about a seed-layout folder.

    ``channels`` / ``units``: the component of each channel, in column order within a day
    (``('H', 'D', 'Z')``, ``('nT', 'arcmin', 'nT')``); ``steps_per_day``: samples per day
    and channel as stored; ``stations``: code -> ``{'latitude', 'longitude', ...}``;
    ``build``: the settings that made the folder; ``recipe``: the preprocessing steps
    (``seismag.dataset.recipe``) that turn the stored raw windows into model input, as plain
    dicts in order; ``activity_columns``: the geomagnetic-activity columns of ``meta.csv``;
    ``labels``: which events made a window class 1 (:func:`label_settings`; None when the
    folder does not say: an older build, or synthetic windows). ``assumed`` is True for
    :func:`assumed_dataset_info`'s description of a folder without ``dataset.json`` (never
    written: :meth:`to_dict` leaves it out).
    """

    channels: tuple[str, ...] = ASSUMED_CHANNELS
    units: tuple[str, ...] = ASSUMED_UNITS
    steps_per_day: int = ASSUMED_STEPS_PER_DAY
    stations: Mapping[str, Mapping[str, Any]] = None  # type: ignore[assignment]
    build: Mapping[str, Any] = None  # type: ignore[assignment]
    recipe: tuple[Mapping[str, Any], ...] = ()
    activity_columns: tuple[str, ...] = ()
    labels: Mapping[str, Any] | None = None
    assumed: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "stations", dict(self.stations or {}))
        object.__setattr__(self, "build", dict(self.build or {}))
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "units", tuple(self.units))
        object.__setattr__(self, "recipe", tuple(dict(step) for step in self.recipe))
        object.__setattr__(self, "activity_columns", tuple(self.activity_columns))
        if self.labels is not None:
            object.__setattr__(self, "labels", label_settings(self.labels, "the dataset's label settings"))

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    def to_dict(self) -> dict[str, Any]:
        record = {"format": DATASET_FORMAT, "version": DATASET_VERSION,
                  "channels": list(self.channels), "units": list(self.units),
                  "steps_per_day": int(self.steps_per_day), "feature_order": FEATURE_ORDER,
                  "stations": {code: dict(info) for code, info in self.stations.items()},
                  "build": dict(self.build), "recipe": [dict(step) for step in self.recipe],
                  "activity_columns": list(self.activity_columns)}
        if self.labels is not None:  # absent: unknown (synthetic windows, older builds)
            record[LABELS_KEY] = dict(self.labels)
        return record

    @classmethod
    def from_dict(cls, record: Mapping[str, Any], path: str | os.PathLike = DATASET_FILE) -> "DatasetInfo":
        """Checked: a wrong format, version or field is one :class:`DataError` naming ``path``."""
        check_format(record, path, DATASET_FORMAT, DATASET_VERSION, "a seismag dataset description")
        if record.get("feature_order", FEATURE_ORDER) != FEATURE_ORDER:
            raise DataError(path, f"feature_order must be '{FEATURE_ORDER}', got {record.get('feature_order')!r}")
        channels, units = record.get("channels"), record.get("units")
        if (not isinstance(channels, list) or not channels or not all(isinstance(c, str) and c for c in channels)
                or len(set(channels)) != len(channels)):
            raise DataError(path, "'channels' must be a non-empty list of distinct component names")
        if not isinstance(units, list) or len(units) != len(channels) or not all(isinstance(u, str) for u in units):
            raise DataError(path, f"'units' must list one unit per channel ({len(channels)})")
        steps = record.get("steps_per_day")
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise DataError(path, f"'steps_per_day' must be a positive integer, got {steps!r}")
        for key, kind in (("stations", Mapping), ("build", Mapping), ("recipe", list), ("activity_columns", list)):
            if key in record and not isinstance(record[key], kind):
                raise DataError(path, f"'{key}' must be a {'list' if kind is list else 'mapping'}")
        recipe = record.get("recipe", [])
        if not all(isinstance(step, Mapping) and isinstance(step.get("step"), str) for step in recipe):
            raise DataError(path, "every 'recipe' entry must be a mapping with a 'step' name")
        labels = record.get(LABELS_KEY)
        return cls(tuple(channels), tuple(units), steps, record.get("stations", {}), record.get("build", {}),
                   tuple(recipe), tuple(record.get("activity_columns", [])),
                   None if labels is None else label_settings(labels, path))


def dataset_info_path(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / DATASET_FILE


def read_dataset_info(data_dir: str | os.PathLike) -> DatasetInfo | None:
    """``DATA/dataset.json`` checked, or None when the folder has none (see
    :func:`dataset_info_or_assumed` for what such a folder holds)."""
    path = dataset_info_path(data_dir)
    record = read_json_or_none(path)
    return None if record is None else DatasetInfo.from_dict(record, path)


def assumed_dataset_info(steps_per_day: int = ASSUMED_STEPS_PER_DAY) -> DatasetInfo:
    """What a seed-layout folder without ``dataset.json`` holds, marked ``assumed``.

    One raw channel (:data:`ASSUMED_CHANNELS`, H in nT), ``steps_per_day`` samples a day
    (the reader's; 1440, one a minute, by default), no recipe, no stations, no activity
    columns and unknown label settings: the SPEC's seed layout. An ensemble written before
    ensembles recorded their input was trained on such windows.
    """
    return DatasetInfo(ASSUMED_CHANNELS, ASSUMED_UNITS, int(steps_per_day), assumed=True)


def dataset_info_or_assumed(data_dir: str | os.PathLike,
                            steps_per_day: int = ASSUMED_STEPS_PER_DAY) -> DatasetInfo:
    """``DATA/dataset.json`` checked, or :func:`assumed_dataset_info` (``steps_per_day``) when
    the folder has none; the result's ``assumed`` says which.

    Raises
    ------
    DataError
        Naming ``dataset.json``: unreadable, not JSON, or not a valid description.
    """
    info = read_dataset_info(data_dir)
    return assumed_dataset_info(steps_per_day) if info is None else info


def read_json_or_none(path: Path) -> Any | None:
    """A JSON file's content, or None when there is no such file; DataError naming it otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise DataError(path, f"cannot be read: {describe_os_error(error)}") from None
    try:
        record = json.loads(text)
    except ValueError as error:
        raise DataError(path, f"is not valid JSON ({error})") from None
    return record


def check_format(record: Any, path: str | os.PathLike, name: str, version: int, what: str) -> None:
    """A record's ``format`` must be ``name`` and its ``version`` ``version`` (DataError naming ``path``)."""
    if not isinstance(record, Mapping) or record.get("format") != name:
        raise DataError(path, f"is not {what} ('format' must be '{name}')")
    if record.get("version") != version:
        raise DataError(path, f"has version {record.get('version')!r}; this seismag reads version {version}")
