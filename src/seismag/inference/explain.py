"""Which days and which channels drive an ensemble's scores (``seismag explain``).

For each window explained, two attributions of the ensemble's P(class 1), both on a map of
days x channels (:mod:`seismag.inference.attribution` computes them):

* **occlusion**, for every model (the baselines included): the change of P(class 1) when one
  day of one channel is replaced by that channel's median day of the same window. Positive:
  that day pushed the window towards class 1.
* **integrated gradients**, for the networks trained end to end on the series (the registry
  says which): each minute's share of P(window) - P(neutral window), summed per day and
  channel for the map and per hour for the profile.

Windows come in groups: class 1 and class 0 (``--data`` or a labelled ``--input``), or the
alarm days and the quiet days of a scan (``--scores`` with ``--observatory``: the highest-
and the lowest-scoring days of the ensemble's model). Per group and method, ``explain.json``
holds the mean map, its spread over the windows and over the fold models (each fold model
explained alone), the share of windows whose largest attribution lies in each cell, and, per
day before the window's end, the mean daily maximum Kp and minimum Dst (``--kp``/``--dst``),
so that a model driven by storms shows itself. ``explain.csv`` has every window's maps.

An attribution says what the model's score responds to, not why: a day that moves the score
is correlated with the label in the training data, which a storm season, a station or a
precursor can each explain.

May import what :mod:`seismag.inference` may.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from seismag import defaults
from seismag.dataset.loading import fill_gaps, load_window
from seismag.errors import ConfigError, DataError
from seismag.inference.attribution import (integrated_gradients, neutral_table, neutral_windows, occlusion,
                                           takes_gradients)
from seismag.inference.ensemble import (input_record, load_trained_ensemble, prepare_raw, raw_width,
                                        takes_table, window_input)
from seismag.inference.predict import check_labels, read_raw_rows
from seismag.layout.dataset_info import dataset_info_or_assumed
from seismag.layout.explain import EXPLAIN_FOLDER, write_explain
from seismag.lock import folder_lock

__all__ = ["EXPLAIN_FOLDER", "ExplainInput", "explain", "explain_windows", "load_explain_input"]

_DAY = np.timedelta64(1, "D")
IG_STEPS = defaults.EXPLAIN_IG_STEPS
TOP_DAYS = defaults.EXPLAIN_TOP_DAYS


class ExplainInput:
    """Prepared windows to explain and what is known about them.

    ``features`` ``(n, width)`` float32, the ensemble's input (recipe applied); ``groups`` one
    group name per window (``"class 1"``, ``"alarm days"``, ...); ``labels`` int or -1 where
    unknown; ``window_end`` datetime64[D] or NaT where unknown; ``ids`` one text per window
    (a file row, or ``STATION window_end``).
    """

    def __init__(self, features, groups, labels, window_end, ids, source: str):
        self.features = np.ascontiguousarray(features, dtype=np.float32)
        self.groups = np.asarray(groups, dtype=object)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.window_end = np.asarray(window_end, dtype="datetime64[D]")
        self.ids = [str(i) for i in ids]
        self.source = source


def _label_groups(labels: np.ndarray) -> np.ndarray:
    return np.array(["all windows" if label < 0 else f"class {label}" for label in labels], dtype=object)


def _pick_rows(n: int, rows: Sequence[int] | None, where) -> np.ndarray:
    if rows is None:
        return np.arange(n)
    rows = np.asarray(list(rows), dtype=np.int64)
    bad = rows[(rows < 0) | (rows >= n)]
    if bad.size:
        raise DataError(where, f"has no row {int(bad[0])} (rows 0 to {n - 1}; --rows counts class-0 file rows "
                               "first, then class-1 rows)")
    return rows


def _from_npy(extra: dict, path: Path, rows, station, max_missing) -> ExplainInput:
    """Rows of a ``.npy`` as ``predict`` reads them (raw windows, optional label column)."""
    width = raw_width(extra)
    array = read_raw_rows(path, extra)
    picked = _pick_rows(array.shape[0], rows, path)
    if picked.size == 0:
        raise DataError(path, "holds no rows; nothing to explain")
    labels = (check_labels(path, array[picked, width]) if array.shape[1] == width + 1
              else np.full(picked.size, -1))
    features = np.array(array[picked, :width], dtype=np.float32)
    if np.isinf(features).any():
        raise DataError(path, "holds infinite values")
    if takes_table(extra):
        keep = np.isfinite(features).all(axis=1)
    else:
        inputs = input_record(extra)
        keep, _ = fill_gaps(features, max_missing, channels=int(inputs["n_channels"]),
                            steps_per_day=int(inputs["steps_per_day"]))
    if not keep.any():
        raise DataError(path, "no row has enough data to explain")
    prepared = prepare_raw(extra, features[keep], station=station, where=path)
    return ExplainInput(prepared, _label_groups(labels[keep]), labels[keep],
                        np.full(int(keep.sum()), np.datetime64("NaT"), dtype="datetime64[D]"),
                        [f"row {r}" for r in picked[keep]], str(path))


def _from_data(extra: dict, data_dir, rows, max_missing) -> ExplainInput:
    """Windows of a seed-layout folder, loaded with the ensemble's recipe (as ``evaluate`` does)."""
    inputs = input_record(extra)
    days = int(extra["window_days"])
    # an activity ensemble's record has no steps per day: the folder's own description says it
    steps = inputs.get("steps_per_day") or dataset_info_or_assumed(data_dir).steps_per_day
    data = load_window(data_dir, days, int(steps), max_missing=max_missing,
                       recipe=inputs.get("recipe", []), require_both_classes=False)
    features = window_input(extra, data, data.path or data_dir)
    position = {int(r): i for i, r in enumerate(data.source_rows)}
    if rows is None:
        picked = np.arange(data.n_samples)
    else:
        wanted = _pick_rows(int(data.source_rows.max()) + 1, rows, data.path or data_dir)
        dropped = [int(r) for r in wanted if int(r) not in position]
        if dropped:
            raise DataError(data.path or data_dir, f"row {dropped[0]} was dropped on loading (too much missing)")
        picked = np.array([position[int(r)] for r in wanted], dtype=np.int64)
    window_end = np.full(picked.size, np.datetime64("NaT"), dtype="datetime64[D]")
    if data.meta is not None and "window_start" in data.meta:
        starts = data.meta["window_start"][picked]
        window_end = np.array([np.datetime64(s.strip()[:10], "D") + days * _DAY if s.strip() else np.datetime64("NaT")
                               for s in starts], dtype="datetime64[D]")
    labels = data.labels[picked]
    return ExplainInput(features[picked], _label_groups(labels), labels, window_end,
                        [f"row {int(r)}" for r in data.source_rows[picked]], str(data.path or data_dir))


def _from_scan(extra: dict, scores_path, observatory, top: int) -> ExplainInput:
    """The ``top`` highest-scoring days of the ensemble's model in a scan (alarm days) and its
    ``top`` lowest-scoring days (quiet days), their windows rebuilt from the records as scan
    built them."""
    from seismag.dataset.stations import MINUTES_PER_DAY, find_station_files, read_station, window_row
    from seismag.layout.forecast import read_scores

    scores = read_scores(scores_path)
    name = f"{extra.get('model')}_{int(extra['window_days'])}day"
    if name not in scores.models:
        raise DataError(scores_path, f"has no rows of {name} (models: {', '.join(scores.models)}); explain the "
                                     "ensemble that scan scored")
    model_rows = scores.models[name]
    scored = np.flatnonzero(np.isfinite(model_rows.score))
    if scored.size == 0:
        raise DataError(scores_path, f"has no scored day of {name}")
    order = scored[np.argsort(-model_rows.score[scored], kind="stable")]
    count = min(int(top), max(1, order.size // 2))
    chosen = [("alarm days", int(i)) for i in order[:count]] + [("quiet days", int(i)) for i in order[::-1][:count]]
    groups_files, _ = find_station_files(observatory)
    where = _records_label(observatory)
    inputs = input_record(extra)
    days, steps = int(extra["window_days"]), int(inputs["steps_per_day"])
    table = takes_table(extra)
    if table:
        raise ConfigError(f"{name} takes a window's activity columns, not the records: explain it with "
                          "--data (a built folder with meta.csv's activity columns)")
    code_of = [str(scores.stations[int(index)]) for index in model_rows.station]
    needed = sorted({code_of[i] for _, i in chosen})
    absent = [code for code in needed if code not in groups_files]
    if absent:
        raise DataError(where, f"holds no records of station {absent[0]} (scored in {scores_path})")
    raws, groups, ends, ids, stations, where_is = [], [], [], [], [], {}
    for code in needed:
        station = read_station(groups_files[code], tuple(inputs["channels"]))
        where_is[code] = (float(station.latitude), float(station.longitude))
        for group, i in chosen:
            if code_of[i] != code:
                continue
            end = np.datetime64(model_rows.window_end[i], "D")
            first_minute = int((end - station.first_day) // _DAY - days) * MINUTES_PER_DAY
            if first_minute < 0 or first_minute + days * MINUTES_PER_DAY > station.series.shape[1]:
                raise DataError(where, f"station {code}'s records do not cover the window ending {end} "
                                             f"(scored in {scores_path})")
            raws.append(window_row(station.series, first_minute, days, steps).astype(np.float32))
            groups.append(group)
            ends.append(end)
            ids.append(f"{code} {end}")
            stations.append(code)
    prepared = np.concatenate([prepare_raw(_known_station(extra, code, where_is[code]), raw[None], station=code,
                                           where=f"station {code}") for raw, code in zip(raws, stations)])
    return ExplainInput(prepared, groups, np.full(len(groups), -1), ends, ids, str(scores_path))


def _records_label(observatory) -> str:
    """The records named by ``--observatory``, for messages (the first and how many more)."""
    if isinstance(observatory, (str, os.PathLike)):
        return str(observatory)
    names = [str(p) for p in observatory]
    return names[0] if len(names) == 1 else f"{names[0]} (and {len(names) - 1} more)"


def _known_station(extra: dict, code: str, coordinates: tuple[float, float]) -> dict:
    """The ensemble's description with ``code`` among its stations, so that a local-time
    recipe can place a station it did not train on (``coordinates``: latitude and longitude
    from its records)."""
    inputs = input_record(extra)
    stations = inputs.get("stations") or {}
    if code in stations or not inputs.get("recipe"):
        return extra
    latitude, longitude = coordinates
    return {**extra, "inputs": {**inputs, "stations": {**stations, code: {"latitude": latitude,
                                                                          "longitude": longitude}}}}


def load_explain_input(ensemble, *, input_path=None, data_dir=None, rows=None, scores=None, observatory=None,
                       top: int = TOP_DAYS, station: str | None = None,
                       max_missing: float = defaults.MAX_MISSING) -> ExplainInput:
    """The windows one ``seismag explain`` call names: exactly one of ``input_path`` (a ``.npy``
    of raw rows), ``data_dir`` (a seed-layout folder) or ``scores`` with ``observatory``."""
    given = [name for name, value in (("--input", input_path), ("--data", data_dir), ("--scores", scores))
             if value is not None]
    if len(given) != 1:
        raise ConfigError("name the windows to explain with one of --input FILE.npy, --data DIR or --scores "
                          f"scores.csv --observatory DIR (got {', '.join(given) or 'none'})")
    if (scores is None) != (observatory is None):
        raise ConfigError("--scores and --observatory go together (the scan's scores and the records it read)")
    if rows is not None and scores is not None:
        raise ConfigError("--rows applies to --input and --data; a scan's days are chosen by --top")
    if top < 1:
        raise ConfigError(f"--top must be at least 1, got {top}")
    extra = ensemble.extra
    if input_path is not None:
        return _from_npy(extra, Path(input_path), rows, station, max_missing)
    if data_dir is not None:
        return _from_data(extra, data_dir, rows, max_missing)
    return _from_scan(extra, scores, observatory, top)


def _map_cells(extra: dict) -> tuple[list[str], list[str], np.ndarray]:
    """The map's row names, column names, and for each cell the input columns it covers."""
    inputs = input_record(extra)
    if takes_table(extra):
        columns = list(inputs["columns"])
        return ["window"], columns, np.arange(len(columns)).reshape(1, len(columns), 1)
    days, channels = int(extra["window_days"]), list(inputs["channels"])
    steps = int(extra["steps_per_day"]) // len(channels)
    cells = np.arange(days * len(channels) * steps).reshape(days, len(channels), steps)
    return [f"day -{days - d}" for d in range(days)], channels, cells


def explain_windows(ensemble, windows: ExplainInput, *, activity=None, ig_steps: int = IG_STEPS,
                    batch_rows: int = 256) -> tuple[dict, list[list]]:
    """Attributions of ``windows`` and their summary per group: ``(record, csv rows)``.

    ``activity``: a :class:`~seismag.sources.indices.activity.DailyActivity` for each day's Kp
    and Dst (None: unknown). See the module docstring for what the record holds.
    """
    extra = ensemble.extra
    model = str(extra.get("model"))
    row_names, channels, cells = _map_cells(extra)
    x = windows.features
    if takes_table(extra):
        neutral = neutral_table(ensemble, x)
    else:
        neutral = neutral_windows(x, len(row_names), len(channels))
    maps = {}
    occluded = occlusion(ensemble, x, cells, neutral, batch_rows=batch_rows)
    maps["occlusion"] = (occluded["ensemble"], occluded["members"])
    hourly = None
    if takes_gradients(model):
        maps["integrated_gradients"], hourly = _gradient_maps(ensemble, x, neutral, (len(row_names), len(channels)),
                                                              ig_steps, batch_rows)
    day_activity = _day_activity(activity, windows.window_end, len(row_names)) if not takes_table(extra) else None

    group_names = list(dict.fromkeys(windows.groups.tolist()))
    groups = []
    for name in group_names:
        mask = windows.groups == name
        entry = {"name": name, "n_windows": int(mask.sum()),
                 "mean_prob_class1": float(occluded["prob"][mask].mean()), "methods": {},
                 "activity": _group_activity(day_activity, mask)}
        for method, (per_window, per_member) in maps.items():
            entry["methods"][method] = _summary(per_window[mask], per_member[:, mask])
        if hourly is not None:
            entry["hourly_integrated_gradients"] = _rounded(hourly[mask].mean(0))
        groups.append(entry)

    csv_rows = []
    for i in range(x.shape[0]):
        label = "" if windows.labels[i] < 0 else int(windows.labels[i])
        for method, (per_window, _) in maps.items():
            for r, row_name in enumerate(row_names):
                before = "" if row_name == "window" else len(row_names) - r
                for c, channel in enumerate(channels):
                    csv_rows.append([windows.ids[i], windows.groups[i], label, f"{occluded['prob'][i]:.6f}", method,
                                     before, channel, f"{per_window[i, r, c]:.6g}"])
    record = {
        "model": model, "window_days": int(extra["window_days"]), "rows": row_names, "channels": channels,
        "source": windows.source, "n_windows": int(x.shape[0]), "n_members": len(ensemble.models),
        "methods": {
            "occlusion": "P(class 1) of the window minus P(class 1) with the cell replaced by the channel's "
                         "median day of the same window" + (" (an activity column: by its training mean)"
                                                            if takes_table(extra) else ""),
            "integrated_gradients": (f"integrated gradients of P(class 1) from the window of median days, "
                                     f"{ig_steps} midpoint steps, summed over each day and channel"
                                     if "integrated_gradients" in maps else None)},
        "integrated_gradients_note": None if "integrated_gradients" in maps else (
            f"{model} is not a network trained end to end on the series (a fixed transform or activity "
            "columns): only occlusion applies"),
        "hours_per_day": 24 if hourly is not None and hourly.shape[1] == len(row_names) * 24 else None,
        "activity_source": None if day_activity is None else day_activity["source"],
        "groups": groups,
        "caveat": "An attribution shows what the score responds to, not what causes an earthquake: a day that "
                  "moves the score is one the training labels correlate with (a storm, a season, a station "
                  "or a precursor).",
    }
    return record, csv_rows


#: Windows whose per-minute integrated gradients are held at once (each member's, float64) before
#: they are summed per day and per hour: a station-year of 7-day, 3-channel, 1-minute windows
#: would otherwise take gigabytes.
IG_BLOCK_ROWS = 64


def _gradient_maps(ensemble, x: np.ndarray, neutral: np.ndarray, shape: tuple[int, int], ig_steps: int,
                   batch_rows: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Integrated gradients summed per day and channel ``((n, days, channels), (members, n, days,
    channels))`` and per hour ``(n, days * hours, channels)``, :data:`IG_BLOCK_ROWS` windows at a time."""
    n, (days, n_channels), members = x.shape[0], shape, len(ensemble.models)
    steps = x.shape[1] // (days * n_channels)
    hours = 24 if steps % 24 == 0 else 1
    per_window = np.zeros((n, days, n_channels))
    per_member = np.zeros((members, n, days, n_channels))
    hourly = np.zeros((n, days * hours, n_channels))
    for start in range(0, n, IG_BLOCK_ROWS):
        block = slice(start, min(start + IG_BLOCK_ROWS, n))
        ig = integrated_gradients(ensemble, x[block], np.broadcast_to(neutral, x.shape)[block], steps=ig_steps,
                                  batch_rows=batch_rows)
        by_step = ig["ensemble"].reshape(-1, days, n_channels, steps)
        per_window[block] = by_step.sum(-1)
        per_member[:, block] = ig["members"].reshape(members, -1, days, n_channels, steps).sum(-1)
        by_hour = by_step.reshape(-1, days, n_channels, hours, steps // hours).sum(-1)
        hourly[block] = by_hour.transpose(0, 1, 3, 2).reshape(-1, days * hours, n_channels)
    return (per_window, per_member), hourly


def _rounded(matrix: np.ndarray, digits: int = 6) -> list:
    return np.round(np.nan_to_num(np.asarray(matrix, dtype=np.float64), nan=0.0), digits).tolist()


#: A window whose largest attribution is below this (a change of P(class 1)) has no top cell:
#: a saturated score that no single day moves (the signal spans several days) would otherwise
#: put every such window's "top" on the map's first cell.
TOP_MINIMUM = 1e-3
#: A cell "stands out" when its mean attribution is at least this far from zero (one percentage
#: point of P(class 1): less moves no decision) and more than :data:`STAND_OUT_FOLD_STDS` times
#: its spread over the fold models (the folds agree on it).
STAND_OUT_MINIMUM = 0.01
STAND_OUT_FOLD_STDS = 2.0


def _summary(per_window: np.ndarray, per_member: np.ndarray) -> dict:
    """Mean map, its spread over windows (``std``) and over the fold models (``fold_std``: the
    standard deviation of the fold models' mean maps), and the share of windows whose largest
    attribution lies in each cell (``top_share``; ``no_top_share``: windows where no cell moves
    P(class 1) by :data:`TOP_MINIMUM`), days x channels each; ``stands_out``: the cells
    ``[row, column]`` whose mean is beyond both :data:`STAND_OUT_MINIMUM` and
    :data:`STAND_OUT_FOLD_STDS` fold spreads, largest first."""
    n, rows, columns = per_window.shape
    flat = per_window.reshape(n, -1)
    clear = flat.max(1) >= TOP_MINIMUM
    top = np.zeros(rows * columns)
    np.add.at(top, flat[clear].argmax(1), 1.0)
    mean, fold_std = per_window.mean(0), per_member.mean(1).std(0)
    standing = (np.abs(mean) >= STAND_OUT_MINIMUM) & (np.abs(mean) > STAND_OUT_FOLD_STDS * fold_std)
    order = np.argsort(-np.abs(mean), axis=None, kind="stable")
    return {"mean": _rounded(mean), "std": _rounded(per_window.std(0)), "fold_std": _rounded(fold_std),
            "stands_out": [[int(i // columns), int(i % columns)] for i in order if standing.flat[i]],
            "top_share": _rounded(top.reshape(rows, columns) / max(n, 1), 4),
            "no_top_share": round(float((~clear).mean()) if n else 0.0, 4)}


def _day_activity(activity, window_end: np.ndarray, days: int) -> dict | None:
    """Each window's daily max Kp and min Dst, day by day ``(n, days)``; None when either the
    indices or the windows' times are unknown."""
    if activity is None or np.isnat(window_end).all():
        return None
    day_of = window_end[:, None] - (days - np.arange(days))[None, :] * _DAY  # (n, days), first day first
    at = (day_of - activity.days[0]) // _DAY
    inside = (~np.isnat(day_of)) & (at >= 0) & (at < len(activity))
    out = {"source": "daily max Kp and min Dst of the index files (--kp/--dst)"}
    for key in ("max_kp", "min_dst"):
        values = np.full(day_of.shape, np.nan)
        values[inside] = getattr(activity, key)[at[inside].astype(np.int64)]
        out[key] = values
    return out


def _group_activity(day_activity: dict | None, mask: np.ndarray) -> dict:
    if day_activity is None:
        return {"max_kp": None, "min_dst": None}
    out = {}
    for key in ("max_kp", "min_dst"):
        values = day_activity[key][mask]
        counts = np.isfinite(values).sum(0)
        covered = counts > 0
        mean = np.nansum(values, 0) / np.maximum(counts, 1)
        out[key] = None if not covered.any() else [None if not ok else round(float(v), 3)
                                                    for v, ok in zip(mean, covered)]
    return out


def _read_activity(kp, dst):
    if kp is None and dst is None:
        return None
    from seismag.sources.indices.activity import daily_activity
    from seismag.sources.indices.dst import read_dst
    from seismag.sources.indices.kp import read_kp

    return daily_activity(kp=None if kp is None else read_kp(kp), dst=None if dst is None else read_dst(dst))


def explain(ensemble_path: str | os.PathLike, out: str | os.PathLike, *, input_path=None, data_dir=None, rows=None,
            scores=None, observatory=None, top: int = TOP_DAYS, kp=None, dst=None, station: str | None = None,
            ig_steps: int = IG_STEPS, max_missing: float = defaults.MAX_MISSING, device: str = "cpu",
            progress: Callable[[str], None] | None = None) -> dict:
    """``seismag explain``: explain an ensemble's scores of some windows and write ``out``.

    Writes ``out/explain.json`` and ``out/explain.csv`` (:mod:`seismag.layout.explain`); the
    figures are :func:`seismag.plots.explain.plot_explain`'s, drawn from those files. Everything
    is read and checked before anything is written. Returns the ``explain.json`` record.

    Raises
    ------
    ConfigError
        Not exactly one source of windows, ``--scores`` without ``--observatory``, ``ig_steps`` < 1.
    DataError, CheckpointError
        A file that is missing or wrong, named in one line.
    """
    if ig_steps < 1:
        raise ConfigError(f"--ig-steps must be at least 1, got {ig_steps}")
    ensemble = load_trained_ensemble(ensemble_path, device=device)
    windows = load_explain_input(ensemble, input_path=input_path, data_dir=data_dir, rows=rows, scores=scores,
                                 observatory=observatory, top=top, station=station, max_missing=max_missing)
    activity = _read_activity(kp, dst)
    if progress is not None:
        progress(f"explaining {windows.features.shape[0]} windows of {windows.source} with {ensemble_path}")
    record, csv_rows = explain_windows(ensemble, windows, activity=activity, ig_steps=ig_steps)
    record["ensemble"] = str(Path(ensemble_path))
    with folder_lock(out, command="explain"):
        write_explain(out, record, csv_rows)
    return record

