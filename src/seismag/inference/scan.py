"""Scanning continuous records day by day with trained ensembles (``seismag scan``) -> ``scores.csv``.

Why this module is long: it owns both sources of daily windows (observatory records and a
built folder) and the one scores table they write; split up, the two modes would each keep
a copy of the in-sample rule, the empty-score rule and the row format ``skill`` reads.

Lives here: the daily windows of a continuous record (every UTC day ``D`` from the first
on which a full window fits, the window of ``N`` days ending at midnight ``D`` covering
``[D - N, D)``, exactly the window ``build`` writes as "ending on day ``D - 1``"), the
row of each window (:func:`~seismag.dataset.stations.window_row`, the row build writes,
so scan and build cannot prepare a window differently), the rule that a window with too
much missing data gets an *empty* score (never a skipped row), the in-sample rule of an
ensemble's training period, and the scores table :data:`SCORE_COLUMNS` (the contract
``seismag skill`` reads)::

    station, latitude, longitude, window_end, model, prob_class1, member_std, missing_fraction, in_sample,
    prob_class1_uncalibrated     (prob_class1 calibrated unless calibrated=False / --no-calibration)

with its companion ``scores.meta.json`` beside it (:func:`seismag.layout.forecast.write_forecast_scores`,
written with the CSV): per model the ensemble, its training period and the label settings
of the windows it trained on (None where the ensemble does not know them), which ``seismag
skill`` judges by.

Memory: one station at a time (its channels' minute series, float32, ~2 MB per channel
and station-year) and one batch of ``batch_rows`` window rows per ensemble; never all
windows of a station (365 30-day windows of 3 channels would be 190 MB). The scores
themselves (a hundred bytes a row) are kept until the file is written, sorted.

May import numpy, torch through :mod:`.ensemble` / :mod:`.predict`, the data layer (the
station reader and window row of :mod:`seismag.dataset.stations`, the gap filler, the
indices), layout, io, errors.
"""

from __future__ import annotations

import datetime as _dt
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from seismag import defaults
from seismag.dataset.stations import (MINUTES_PER_DAY, StationMinutes, daily_missing, find_station_files, read_station,
                                      window_missing_fraction, window_row)
from seismag.sources.indices.activity import DailyActivity, daily_activity, window_activity
from seismag.sources.indices.dst import read_dst
from seismag.sources.indices.kp import read_kp
from seismag.sources.indices.ssc import read_ssc
from seismag.dataset.loading import class_file_or_empty, fill_gaps, read_meta
from seismag.errors import ConfigError, DataError
from seismag.layout.dataset_info import dataset_info_or_assumed
from seismag.layout.forecast import scores_meta_path, write_forecast_scores
from seismag.layout.seed import CLASS_FILES, META_FILE, window_dir
from seismag.inference import ensemble as _ensemble
from seismag.inference.calibration import calibration_words, calibrator
from seismag.inference.ensemble import input_record, load_trained_ensemble, prepare_raw, raw_width, takes_table
from seismag.inference.predict import predict_array

__all__ = ["SCORE_COLUMNS", "ScanModel", "load_scan_models", "scan_data", "scan_records", "write_scores"]

from seismag.layout.forecast import SCORE_COLUMNS  # noqa: E402  (the columns of scores.csv: layout owns the file)

#: The index file each activity column is computed from (``--kp``, ``--dst``, ``--ssc``).
ACTIVITY_SOURCES = {"max_kp": "kp", "min_dst": "dst", "n_ssc": "ssc"}

_DAY = np.timedelta64(1, "D")


@dataclass
class ScanModel:
    """One ensemble as scan uses it.

    ``name`` is ``{registry name}_{N}day`` (the ``model`` column); ``last_horizon_end``
    the end of its training period's last label horizon (None: unknown), before which a
    window is in-sample; ``labels`` the label settings of its training windows (None: unknown).
    """

    path: Path
    ensemble: object
    name: str
    window_days: int
    inputs: dict
    training_period: dict | None
    last_horizon_end: np.datetime64 | None
    labels: dict | None = None
    calibrated: bool = True  # prob_class1 through the ensemble's calibrator (False: --no-calibration)

    @property
    def extra(self) -> dict:
        return self.ensemble.extra

    @property
    def table(self) -> bool:
        return takes_table(self.extra)

    @property
    def channels(self) -> tuple[str, ...]:
        return () if self.table else tuple(self.inputs["channels"])

    @property
    def steps_per_day(self) -> int:
        return int(self.inputs["steps_per_day"])

    def in_sample(self, window_end: np.ndarray) -> np.ndarray:
        """True where a window ending at ``window_end`` (datetime64[D]) is in-sample."""
        return _ensemble.in_sample(self.ensemble.extra, window_end)  # the one in-sample rule

    def refuse_in_sample(self, station: str, window_end: np.ndarray, in_sample: np.ndarray) -> None:
        """One line when ``station`` has in-sample windows and they were not allowed."""
        if not in_sample.any():
            return
        period = self.training_period or {}
        first, last = window_end[in_sample][0], window_end[in_sample][-1]
        resume = self.last_horizon_end.astype("datetime64[D]")
        if resume.astype("datetime64[s]") < self.last_horizon_end:
            resume += _DAY
        raise ConfigError(
            f"{self.path}: {self.name} was trained on windows from {period.get('first_window_start')} with label "
            f"horizons up to {period.get('last_horizon_end')} (train_until {period.get('train_until')}); "
            f"station {station}'s windows ending {first} to {last} are in-sample (the first in-sample day is "
            f"{first}): scan from {resume} on (--start {resume}) or pass --allow-in-sample")


def load_scan_models(paths: Sequence[str | os.PathLike], device: str = "cpu", calibrated: bool = True
                     ) -> list[ScanModel]:
    """Load every ensemble, name it, and read its training period (a warning when unknown)
    and label settings.

    Raises
    ------
    ConfigError
        No ensemble, or two ensembles of one name (their rows could not be told apart).
    CheckpointError, DataError
        An ensemble file that is missing, foreign or damaged.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not paths:
        raise ConfigError("no ensemble given")
    models: list[ScanModel] = []
    for path in map(Path, paths):
        ensemble = load_trained_ensemble(path, device=device)
        extra = ensemble.extra
        days = int(extra["window_days"])
        name = f"{extra.get('model')}_{days}day"
        twin = next((m for m in models if m.name == name), None)
        if twin is not None:
            raise ConfigError(f"{path} and {twin.path} are both {name} ensembles; their scores.csv rows could not "
                              "be told apart: scan them into separate files")
        if calibrated and calibrator(extra, path) is None:
            warnings.warn(f"{path}: prob_class1 {calibration_words(extra)}", UserWarning, stacklevel=3)
        period = _training_period(extra)
        horizon = (period or {}).get("last_horizon_end")
        if not horizon:
            warnings.warn(f"{path}: records no training period (trained before training periods were recorded, "
                          "or on data without meta.csv times): scan cannot tell in-sample days and marks every "
                          f"{name} row in_sample=false", UserWarning, stacklevel=3)
        models.append(ScanModel(path, ensemble, name, days, input_record(extra), period,
                                _moment(horizon, path) if horizon else None, _ensemble.label_settings(extra, path),
                                calibrated))
    return sorted(models, key=lambda m: m.name)


def _training_period(extra: dict) -> dict | None:
    return _ensemble.training_period(extra)


def _moment(text, where) -> np.datetime64:
    try:
        return np.datetime64(str(text), "s")
    except ValueError:
        raise DataError(where, f"training period time {text!r} is not an ISO time") from None


# --------------------------------------------------------------------------- settings


def _check_settings(max_missing, batch_rows, start, end) -> tuple[np.datetime64 | None, np.datetime64 | None]:
    if isinstance(max_missing, bool) or not isinstance(max_missing, (int, float)) or not 0.0 <= max_missing <= 1.0:
        raise ConfigError(f"max_missing must be between 0 and 1, got {max_missing!r}")
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise ConfigError(f"batch_rows must be a whole number >= 1, got {batch_rows!r}")
    first, last = _day(start, "start"), _day(end, "end")
    if first is not None and last is not None and last <= first:
        raise ConfigError(f"end ({last}) must come after start ({first})")
    return first, last


def _day(value, name: str) -> np.datetime64 | None:
    """A ``YYYY-MM-DD`` day (or a date / datetime64) as datetime64[D]."""
    if value is None:
        return None
    if isinstance(value, np.datetime64):
        day = value.astype("datetime64[D]")
        if day.astype(value.dtype) != value:
            raise ConfigError(f"{name} must be a whole UTC day, got {value}")
        return day
    if isinstance(value, _dt.datetime):
        raise ConfigError(f"{name} must be a day (YYYY-MM-DD), got {value}")
    if isinstance(value, _dt.date):
        return np.datetime64(value.isoformat(), "D")
    try:
        return np.datetime64(_dt.date.fromisoformat(str(value)).isoformat(), "D")
    except ValueError:
        raise ConfigError(f"{name} must be a day YYYY-MM-DD, got {value!r}") from None


def _in_range(window_end: np.ndarray, start, end) -> np.ndarray:
    """The windows whose ``window_end`` lies in ``[start, end)``."""
    keep = np.ones(window_end.shape, dtype=bool)
    if start is not None:
        keep &= window_end >= start
    if end is not None:
        keep &= window_end < end
    return keep


# --------------------------------------------------------------------------- records


def scan_records(ensembles: Sequence[str | os.PathLike], observatory: str | os.PathLike | Iterable,
                 out: str | os.PathLike, *, kp=None, dst=None, ssc=None, max_missing: float = defaults.MAX_MISSING,
                 allow_in_sample: bool = False, batch_rows: int = 64, device: str = "cpu", start=None,
                 end=None, progress: Callable[[str], None] | None = None, calibrated: bool = True) -> dict:
    """Score every station's every day with every ensemble and write ``out`` (``scores.csv``).

    Parameters
    ----------
    ensembles
        ``_ensemble.pth`` files; each reads what it needs (its window length, channels and
        steps per day; its recipe, applied by :func:`~seismag.inference.ensemble.prepare_raw`
        with the row's station for a local-time step).
    observatory
        IAGA-2002 / ImagCDF files and folders, grouped into stations by IAGA code as
        ``build`` groups them.
    out
        The CSV to write (atomically, when everything is scored).
    kp, dst, ssc
        Index files for ``activity`` ensembles: each row gets the window's activity
        columns (:func:`~seismag.sources.indices.activity.window_activity`); an ensemble that needs a
        column whose file was not given is refused before any record is read.
    max_missing
        A window with more than this share of its minutes missing (any channel) gets an
        empty score; so does a window with no data at all, whatever ``max_missing``.
        Activity rows use no magnetometer data: their score is empty only where the
        indices do not cover the window (their ``missing_fraction`` is still the station's).
    allow_in_sample
        Score windows ending before an ensemble's last training horizon and mark them
        ``in_sample=true``; without it they are refused in one line.
    batch_rows
        Window rows built and scored at a time. Memory grows with it: the rows
        (``window_days * channels * steps_per_day`` float32 each) and the model's
        temporaries on them; a ``features`` ensemble on 7-day, 3-channel, 1-minute
        windows takes about 1 MiB a row (peak 425 MiB at 64 rows, 628 MiB at 256,
        of which 309 MiB are torch and the ensemble; the scores are the same).
    start, end
        Score only windows whose ``window_end`` day lies in ``[start, end)`` (``YYYY-MM-DD``).
    progress
        Called with one line per station.

    Returns
    -------
    dict
        ``out``, ``rows``, ``stations`` and per model ``rows``, ``scored``, ``empty`` and
        ``in_sample`` counts.

    Notes
    -----
    Window ``D``: the ``N`` days ``[D - N, D)``; the first ``D`` is the station's first
    day plus ``N`` and the last the day after its last day. The row is build's
    (:func:`~seismag.dataset.stations.window_row`, gaps filled per channel from the
    window's own minutes, minutes averaged to the ensemble's steps per day), cast to
    float32 as build stores it; so a day's score equals the ensemble's score of build's
    row for the window ending on ``D - 1``.
    """
    first, last = _check_settings(max_missing, batch_rows, start, end)
    groups, _ = find_station_files(observatory)  # a missing or foreign file fails before any warning
    models = load_scan_models(ensembles, device=device, calibrated=calibrated)
    activity = _activity(models, {"kp": kp, "dst": dst, "ssc": ssc})
    channels: list[str] = []
    for model in models:
        channels.extend(c for c in model.channels if c not in channels)
    rows: list[list] = []
    for code, files in groups.items():
        station = read_station(files, channels or ("H",))  # activity alone: H for the station's days
        counts = []
        for model in models:
            station_rows = _scan_station(model, station, activity, max_missing, allow_in_sample, batch_rows,
                                         first, last)
            rows.extend(station_rows)
            counts.append(f"{model.name} {sum(r[5] != '' for r in station_rows)}/{len(station_rows)}")
        if progress is not None:
            progress(f"{station.code}: {station.series.shape[1] // MINUTES_PER_DAY} days; scored/windows "
                     + ", ".join(counts))
        del station
    return _summary(write_scores(out, rows, models), rows, models)


def _activity(models: list[ScanModel], given: dict) -> DailyActivity | None:
    """The daily activity table of the given index files, after refusing an activity
    ensemble whose columns need a file that was not given."""
    needed = {}
    for model in [m for m in models if m.table]:
        for column in model.inputs["columns"]:
            source = ACTIVITY_SOURCES.get(column)
            if source is None:
                raise ConfigError(f"{model.path}: {model.name} takes the activity column '{column}', which scan "
                                  f"cannot compute (it computes {', '.join(ACTIVITY_SOURCES)})")
            if given[source] is None:
                raise ConfigError(f"{model.path}: {model.name} takes the activity column '{column}'; "
                                  f"give its index file (--{source})")
            needed[source] = given[source]
    if not needed:
        return None
    readers = {"kp": read_kp, "dst": read_dst, "ssc": read_ssc}
    return daily_activity(**{key: readers[key](path) for key, path in needed.items()})


def _scan_station(model: ScanModel, station: StationMinutes, activity: DailyActivity | None, max_missing: float,
                  allow_in_sample: bool, batch_rows: int, start, end) -> list[list]:
    """The rows of one station and one ensemble, in window order."""
    days = model.window_days
    index = [station.channels.index(c) for c in model.channels] or list(range(len(station.channels)))
    series = station.series if index == list(range(len(station.channels))) else station.series[index]
    n_days = series.shape[1] // MINUTES_PER_DAY
    last_day = np.arange(days - 1, n_days)  # each window's last day, as build counts them
    window_end = station.first_day + (last_day + 1) * _DAY
    fraction = window_missing_fraction(daily_missing(series), last_day, days)
    keep = _in_range(window_end, start, end)
    last_day, window_end, fraction = last_day[keep], window_end[keep], fraction[keep]
    in_sample = model.in_sample(window_end)
    if not allow_in_sample:
        model.refuse_in_sample(station.code, window_end, in_sample)

    probability = np.full((window_end.shape[0], 2), np.nan)
    spread = np.full(window_end.shape, np.nan)
    if model.table:
        table = window_activity(activity, window_end - days * _DAY, days)
        features = np.column_stack([table[c] for c in model.inputs["columns"]]).astype(np.float32)
        scoreable = np.flatnonzero(np.isfinite(features).all(axis=1))
        for batch in _batches(scoreable, batch_rows):
            _score(model, features[batch], batch, probability, spread)
    else:
        extra = _with_station(model.extra, station.code, station.latitude, station.longitude)
        scoreable = np.flatnonzero((fraction <= max_missing) & (fraction < 1.0))
        width = raw_width(model.extra)
        for batch in _batches(scoreable, batch_rows):
            raw = np.empty((batch.size, width), dtype=np.float32)
            for row, window in enumerate(batch):
                first_minute = int(last_day[window] + 1 - days) * MINUTES_PER_DAY
                raw[row] = window_row(series, first_minute, days, model.steps_per_day)  # float32, as build stores it
            prepared = prepare_raw(extra, raw, station=station.code, where=f"station {station.code}")
            _score(model, prepared, batch, probability, spread)
    return _rows(model, station.code, station.latitude, station.longitude, window_end, probability, spread,
                 fraction, in_sample)


def _batches(indices: np.ndarray, size: int):
    for begin in range(0, indices.size, size):
        yield indices[begin:begin + size]


def _score(model: ScanModel, features: np.ndarray, batch: np.ndarray, probability: np.ndarray,
           spread: np.ndarray) -> None:
    scores = predict_array(model.ensemble, features, calibrated=model.calibrated)
    probability[batch] = np.column_stack([scores["prob_class1"], scores["prob_class1_uncalibrated"]])
    spread[batch] = np.sqrt(np.maximum(scores["member_variance"], 0.0))


def _with_station(extra: dict, code: str, latitude: float, longitude: float) -> dict:
    """``extra`` whose station table knows ``code`` (a station the ensemble never saw is
    placed by its record's coordinates, for a local-time step)."""
    inputs = input_record(extra)
    stations = inputs.get("stations") or {}
    if code in stations or not np.isfinite(longitude):
        return extra
    return {**extra, "inputs": {**inputs, "stations": {**stations, code: {"latitude": float(latitude),
                                                                          "longitude": float(longitude)}}}}


def _rows(model: ScanModel, station: str, latitude, longitude, window_end, probability, spread, fraction,
          in_sample) -> list[list]:
    lat, lon = _coordinate(latitude), _coordinate(longitude)
    out = []
    for i in range(window_end.shape[0]):
        scored = bool(np.isfinite(probability[i, 0]))  # columns: calibrated, uncalibrated
        out.append([station, lat, lon, str(window_end[i]), model.name,
                    f"{probability[i, 0]:.6f}" if scored else "", f"{spread[i]:.6f}" if scored else "",
                    f"{fraction[i]:.6f}", "true" if in_sample[i] else "false",
                    f"{probability[i, 1]:.6f}" if scored else ""])
    return out


def _coordinate(value) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return ""
    return f"{value:.3f}" if np.isfinite(value) else ""


# --------------------------------------------------------------------------- a built folder


def scan_data(ensembles: Sequence[str | os.PathLike], data_dir: str | os.PathLike, out: str | os.PathLike, *,
              max_missing: float = defaults.MAX_MISSING, allow_in_sample: bool = False, batch_rows: int = 64,
              device: str = "cpu", start=None, end=None, progress: Callable[[str], None] | None = None,
              calibrated: bool = True) -> dict:
    """Score the windows of a built folder (``--data DIR``) and write ``out`` (``scores.csv``).

    Each ensemble scores the rows of ``DIR/window-{N}`` of its own ``N``, one row of
    ``scores.csv`` per row of the folder: ``station`` and ``window_end`` from
    ``meta.csv`` (needed), the coordinates from its ``station_latitude`` /
    ``station_longitude`` (else ``dataset.json``), ``missing_fraction`` from its
    ``missing_fraction`` column (else the row's share of NaN values). Window rows are
    prepared by the ensemble's recipe, never the folder's; an ``activity`` ensemble
    reads its columns from ``meta.csv`` (an empty value: an empty score). The other
    arguments and the result are those of :func:`scan_records`.

    Raises
    ------
    DataError
        A missing window folder, ``meta.csv`` or column; channels or steps per day that
        differ from the ensemble's; a ``window_end`` that is not a UTC midnight.
    """
    first, last = _check_settings(max_missing, batch_rows, start, end)
    models = load_scan_models(ensembles, device=device, calibrated=calibrated)
    info = dataset_info_or_assumed(data_dir)
    rows: list[list] = []
    for model in models:
        rows.extend(_scan_folder(model, Path(data_dir), info, max_missing, allow_in_sample, batch_rows, first,
                                 last, progress))
    return _summary(write_scores(out, rows, models), rows, models)


def _scan_folder(model: ScanModel, data_dir: Path, info, max_missing: float, allow_in_sample: bool,
                 batch_rows: int, start, end, progress) -> list[list]:
    days = model.window_days
    folder = window_dir(data_dir, days)
    if not folder.is_dir():
        raise DataError(folder, f"not found: {model.name} ({model.path}) scores {days}-day windows")
    channels, steps = tuple(info.channels), None if info.assumed else info.steps_per_day
    if not model.table:
        if list(channels) != list(model.channels):
            raise DataError(folder, f"holds the channels {', '.join(channels)}; {model.name} was trained on "
                                    f"{', '.join(model.channels)}")
        if steps is not None and steps != model.steps_per_day:
            raise DataError(folder, f"holds {steps} steps per day; {model.name} was trained on {model.steps_per_day}")
    row_steps = len(channels) * (steps if steps is not None else _stored_steps(folder, days, model))
    arrays = [class_file_or_empty(folder / name, label, days, row_steps, False) for label, name in enumerate(CLASS_FILES)]
    n_rows = sum(a.shape[0] for a in arrays)
    meta = read_meta(folder / META_FILE, n_rows)
    where = folder / META_FILE
    if meta is None:
        raise DataError(where, "not found: scan --data needs each row's station and window_end")
    station = _column(meta, "station", where)
    window_end = _midnights(_column(meta, "window_end", where), where)
    keep = np.flatnonzero(_in_range(window_end, start, end))
    order = keep[np.lexsort((window_end[keep], station[keep]))]  # by station, then time
    in_sample = model.in_sample(window_end)
    fraction = _fractions(meta, arrays, days * row_steps)

    probability = np.full((n_rows, 2), np.nan)
    spread = np.full(n_rows, np.nan)
    table = _meta_table(meta, model.inputs["columns"], where) if model.table else None
    out: list[list] = []
    for code in dict.fromkeys(station[order]):
        rows = order[station[order] == code]
        if not allow_in_sample:
            model.refuse_in_sample(code, window_end[rows], in_sample[rows])
        latitude, longitude = _place(meta, info, code, rows[0])
        if model.table:
            scoreable = rows[np.isfinite(table[rows]).all(axis=1)]
            for batch in _batches(scoreable, batch_rows):
                _score(model, table[batch], batch, probability, spread)
        else:
            extra = _with_station(model.extra, code, latitude, longitude)
            for batch in _batches(rows[(fraction[rows] <= max_missing) & (fraction[rows] < 1.0)], batch_rows):
                raw = _read_rows(arrays, batch, days * row_steps)
                filled, _ = fill_gaps(raw, max_missing, channels=len(channels),
                                      steps_per_day=row_steps // len(channels))
                batch, raw = batch[filled], raw[filled]
                if batch.size:
                    _score(model, prepare_raw(extra, raw, station=code, where=folder), batch, probability, spread)
        out.extend(_rows(model, code, latitude, longitude, window_end[rows], probability[rows], spread[rows],
                         fraction[rows], in_sample[rows]))
        if progress is not None:
            progress(f"{code}: {model.name} {int(np.isfinite(probability[rows, 0]).sum())}/{rows.size} windows scored")
    return out


def _stored_steps(folder: Path, days: int, model: ScanModel) -> int:
    """Steps per day of a folder without ``dataset.json`` (one channel): the window
    ensemble's; an activity ensemble takes them from the class files' width."""
    if not model.table:
        return model.steps_per_day
    for name in CLASS_FILES:
        try:
            width = np.load(folder / name, mmap_mode="r", allow_pickle=False).shape[-1] - 1
        except Exception:  # noqa: BLE001  (class_file_or_empty words the problem)
            continue
        if width > 0 and width % days == 0:
            return width // days
    return 1


def _column(meta: dict, name: str, where) -> np.ndarray:
    if name not in meta:
        raise DataError(where, f"has no column '{name}' (columns: {', '.join(meta)}); scan --data needs it")
    return meta[name]


def _midnights(texts: np.ndarray, where) -> np.ndarray:
    """``window_end`` texts as datetime64[D], each a UTC midnight."""
    try:
        moments = np.array([np.datetime64(t, "s") for t in texts], dtype="datetime64[s]")
    except ValueError:
        raise DataError(where, "column 'window_end' holds a value that is not an ISO time") from None
    day = moments.astype("datetime64[D]")
    off = np.flatnonzero(day.astype("datetime64[s]") != moments)
    if off.size:
        raise DataError(where, f"window_end {texts[off[0]]} (line {off[0] + 2}) is not a UTC midnight; "
                               "scan scores windows of whole UTC days")
    return day


def _fractions(meta: dict, arrays: list[np.ndarray], width: int) -> np.ndarray:
    """Each row's missing share: ``meta.csv``'s ``missing_fraction``, else the row's NaN share."""
    if "missing_fraction" in meta:
        try:
            return np.array([float(v) for v in meta["missing_fraction"]], dtype=np.float64)
        except ValueError:
            pass
    return np.concatenate([np.isnan(a[:, :width]).mean(axis=1) if a.shape[0] else np.empty(0) for a in arrays])


def _meta_table(meta: dict, columns: Sequence[str], where) -> np.ndarray:
    table = np.empty((len(next(iter(meta.values()))), len(columns)), dtype=np.float32)
    for index, name in enumerate(columns):
        try:
            table[:, index] = [float(v) if v.strip() else np.nan for v in _column(meta, name, where)]
        except ValueError:
            raise DataError(where, f"column '{name}' holds a value that is not a number") from None
    return table


def _place(meta: dict, info, code: str, row: int) -> tuple[float, float]:
    """A station's latitude and longitude: ``meta.csv``'s columns, else ``dataset.json``'s table."""
    try:
        return float(meta["station_latitude"][row]), float(meta["station_longitude"][row])
    except (KeyError, ValueError):
        entry = info.stations.get(code, {})
        return float(entry.get("latitude", np.nan)), float(entry.get("longitude", np.nan))


def _read_rows(arrays: list[np.ndarray], rows: np.ndarray, width: int) -> np.ndarray:
    """Rows (file order: class 0, then class 1) of the memory-mapped class files, as float32."""
    n0 = arrays[0].shape[0]
    out = np.empty((rows.size, width), dtype=np.float32)
    for i, row in enumerate(rows):
        out[i] = arrays[0][row, :width] if row < n0 else arrays[1][row - n0, :width]
    return out


# --------------------------------------------------------------------------- output


def write_scores(out: str | os.PathLike, rows: list[list], models: Sequence[ScanModel] = ()) -> Path:
    """Write ``scores.csv``, rows sorted by model, station, window_end, and its companion
    ``scores.meta.json`` (each model's ensemble, training period and label settings), both
    atomically (:func:`seismag.layout.forecast.write_forecast_scores`)."""
    rows.sort(key=lambda r: (r[4], r[0], r[3]))
    return write_forecast_scores(out, rows, {m.name: {"ensemble": str(m.path), "training_period": m.training_period,
                                                      "labels": m.labels,
                                                      "calibration": calibration_words(m.extra, m.calibrated)}
                                             for m in models})


def _summary(path: Path, rows: list[list], models: list[ScanModel]) -> dict:
    per_model = {m.name: {"rows": 0, "scored": 0, "empty": 0, "in_sample": 0, "ensemble": str(m.path)}
                 for m in models}
    for row in rows:
        counts = per_model[row[4]]
        counts["rows"] += 1
        counts["scored" if row[5] else "empty"] += 1
        counts["in_sample"] += row[8] == "true"
    return {"out": str(path), "meta": str(scores_meta_path(path)), "rows": len(rows),
            "stations": sorted({r[0] for r in rows}), "models": per_model}
