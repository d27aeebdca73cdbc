"""Write: a build's labelled windows in the seed layout, and its report files.

Lives here: the overwrite rule (:func:`check_out_dir`, checked before any input is read),
the staging folder every ``window-{N}`` folder is assembled in and renamed out of, the
rows of each kept window (:func:`seismag.dataset.stations.window_row`, the row ``seismag
scan`` scores too) and their ``meta.csv`` rows (:data:`META_COLUMNS`), ``dataset.json``,
and the two report files, written last::

    OUT/window-{N}/data_0.npy, data_1.npy, meta.csv   through seismag.layout.seed.write_window
    OUT/dataset.json                                  seismag.layout.dataset_info.DatasetInfo
    OUT/build_report.json, OUT/build_report.txt

May import numpy, the standard library, :mod:`seismag.io`, :mod:`seismag.errors`,
:mod:`seismag.layout`, :mod:`seismag.lock`, the catalog (:mod:`seismag.sources.catalog`),
:mod:`seismag.layout.seed` (its writer), :mod:`seismag.dataset.stations`, and :mod:`.label`,
:mod:`.report`; it decides nothing about which windows exist or what their labels are.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from seismag.sources.catalog import Catalog
from seismag.layout.seed import ClassRows, write_window
from seismag.dataset.stations import MINUTES_PER_DAY, StationMinutes, iso_time, window_row
from seismag.errors import DataError
from seismag.io import write_json, write_text
from seismag.layout.dataset_info import DATASET_FILE, DatasetInfo, dataset_info_or_assumed
from seismag.layout.seed import WINDOW_DIR_PREFIX, window_dir_name
from seismag.lock import folder_lock

from seismag.dataset.build.label import WindowPlan
from seismag.dataset.build.report import BuildReport, format_build_report

__all__ = ["META_COLUMNS", "REPORT_FILES", "check_out_dir", "write_build", "write_window_folder"]

META_COLUMNS = (
    "station",
    "event_id",
    "window_start",
    "window_end",
    "event_time",
    "event_magnitude",
    "event_distance_km",
    "label",
    "window_days",
    "label_horizon_end",
    "qualifying_events",
    "event_lead_days",
    "missing_fraction",
    "station_latitude",
    "station_longitude",
    "component",
)

#: The report files, JSON then text.
REPORT_FILES = ("build_report.json", "build_report.txt")


def check_out_dir(out_dir: Path, windows: Sequence[int], overwrite: bool,
                  channels: Sequence[str] = ("H",), steps_per_day: int = MINUTES_PER_DAY) -> None:
    """The overwrite rule: a previous build's folders, ``dataset.json`` or reports in
    ``out_dir`` are an error.

    With ``overwrite`` they are replaced (by :func:`write_build`). Only the names this
    build would write count; anything else in ``out_dir`` is never touched. But
    ``dataset.json`` describes every ``window-{N}`` folder beside it, so an overwrite that
    would leave folders of other lengths from a build with other channels (or steps per
    day) is refused: the new ``dataset.json`` would misdescribe them.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise DataError(out_dir, "the output path exists and is not a folder")
    if not out_dir.exists():
        return
    if overwrite:
        _check_left_over(out_dir, windows, tuple(channels), int(steps_per_day))
        return
    names = [window_dir_name(n) for n in windows] + list(REPORT_FILES) + [DATASET_FILE]
    present = [name for name in names if (out_dir / name).exists()]
    if present:
        raise DataError(
            out_dir,
            f"already holds {', '.join(present)} from a previous build; "
            "choose another folder or overwrite (overwrite=True / --overwrite)",
        )


def _check_left_over(out_dir: Path, windows: Sequence[int], channels: tuple, steps_per_day: int) -> None:
    rebuilt = {window_dir_name(n) for n in windows}
    kept = sorted((p.name for p in out_dir.glob(f"{WINDOW_DIR_PREFIX}*") if p.is_dir() and p.name not in rebuilt),
                  key=lambda name: (len(name), name))
    if not kept:
        return
    old = dataset_info_or_assumed(out_dir, steps_per_day)
    if old.assumed:  # a folder from before dataset.json: one channel, its steps per day unknown
        differs, before = len(channels) != old.n_channels, "one channel"
    else:
        differs = old.channels != channels or old.steps_per_day != steps_per_day
        before = f"channels {','.join(old.channels)}, {old.steps_per_day} steps per day"
    if differs:
        raise DataError(
            out_dir,
            f"keeps {', '.join(kept)} of a previous build ({before}), which this build's {DATASET_FILE} "
            f"(channels {','.join(channels)}, {steps_per_day} steps per day) would misdescribe; "
            "build those window lengths too (--windows) or remove them",
        )


def write_build(out_dir: Path, report: BuildReport, stations: Sequence[StationMinutes],
                plans: dict[str, dict[int, WindowPlan]], catalog: Catalog, settings: dict,
                info: DatasetInfo | None = None) -> None:
    """Write every window length the report does not mark with a note, ``dataset.json``
    (``info``), then the report.

    Each ``window-{N}`` folder and ``dataset.json`` are assembled in a hidden staging
    folder inside ``out_dir`` and renamed into place once all are complete, so a failure
    (full disk, a kill) leaves ``out_dir`` as it was; an ``out_dir`` this call created is
    removed again. Sets ``written`` and ``path`` of the window summaries, and adds a
    warning for each old folder it removes. The report files are written atomically, last.
    """
    created = not out_dir.exists()
    try:
        # One writer at a time: two builds into one folder would mix their windows.
        with folder_lock(out_dir, command="build"):
            _write_staged(out_dir, report, stations, plans, catalog, settings, info)
    except BaseException:
        if created:
            try:
                out_dir.rmdir()  # only if still empty: never remove anything else
            except OSError:
                pass
        raise


def _write_staged(out_dir: Path, report: BuildReport, stations: Sequence[StationMinutes],
                  plans: dict[str, dict[int, WindowPlan]], catalog: Catalog, settings: dict,
                  info: DatasetInfo | None) -> None:
    staging = Path(tempfile.mkdtemp(prefix=".seismag-build-", dir=out_dir))
    try:
        # Every folder is complete before the first rename, so a failure while writing
        # (full disk, a kill) leaves out_dir exactly as it was.
        for summary in report.windows:
            if not summary.note:
                write_window_folder(staging / window_dir_name(summary.window_days), summary.window_days,
                                    stations, plans, catalog, settings)
        if info is not None:
            write_json(staging / DATASET_FILE, info.to_dict())
        for summary in report.windows:
            n = summary.window_days
            target = out_dir / window_dir_name(n)
            if target.exists():  # only with overwrite=True (checked before reading the inputs)
                # Moved into the staging folder, which is deleted below. A window length
                # not written this time loses its old folder too: it would contradict the
                # report beside it.
                os.replace(target, staging / f"old-{window_dir_name(n)}")
                if summary.note:
                    report.warnings.append(f"{window_dir_name(n)}: removed the folder of a previous build")
            if not summary.note:
                os.replace(staging / window_dir_name(n), target)
                summary.written = True
                summary.path = str(target)
        if info is not None:
            os.replace(staging / DATASET_FILE, out_dir / DATASET_FILE)
        write_json(out_dir / REPORT_FILES[0], report.to_dict())
        write_text(out_dir / REPORT_FILES[1], format_build_report(report))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_window_folder(folder: Path, window_days: int, stations: Sequence[StationMinutes],
                        plans: dict[str, dict[int, WindowPlan]], catalog: Catalog, settings: dict) -> None:
    """Write the kept windows of ``window_days`` of every station into ``folder``.

    Rows in file order: class 0 then class 1, each by station then time; a class without
    windows gets a class file of no rows. The rows are produced one window at a time as
    the writer streams them to disk, so a build never holds a whole ``data_*.npy`` in
    memory.
    """
    steps = settings["steps_per_day"]
    n_channels = len(settings["channels"])
    classes, meta_rows = [], []
    for label in (0, 1):
        rows = []
        for station in stations:
            plan = plans[station.code][window_days]
            rows.extend((station, plan, int(i)) for i in np.flatnonzero(plan.kept & (plan.label == label)))
        classes.append(ClassRows(len(rows), _window_rows(rows, steps)))
        activity = settings.get("activity_columns") or []
        meta_rows.extend(_meta_row(station, plan, i, catalog, settings["component"])
                         + [_activity_cell(plan.activity[name][i]) for name in activity]
                         for station, plan, i in rows)
    write_window(folder, window_days * n_channels * steps, classes,
                 META_COLUMNS + tuple(settings.get("activity_columns") or ()), meta_rows)


def _activity_cell(value) -> str:
    """An activity value as ``meta.csv`` writes it: empty where the indices do not cover the window."""
    value = float(value)
    if not np.isfinite(value):
        return ""
    return str(int(value)) if value == int(value) else f"{value:.3f}"


def _window_rows(rows: list[tuple[StationMinutes, WindowPlan, int]], steps_per_day: int) -> Iterator[np.ndarray]:
    """Each window's values as a ``(1, window_days * n_channels * steps_per_day)`` float64 block
    (:func:`window_row`)."""
    for station, plan, i in rows:
        offset_s = (plan.window_start[i] - station.first_day.astype("datetime64[s]")).astype(np.int64)
        yield window_row(station.series, int(offset_s) // 60, plan.window_days, steps_per_day)[None, :]


def _meta_row(station: StationMinutes, plan: WindowPlan, i: int, catalog: Catalog, component: str) -> list:
    event = int(plan.event_index[i])
    if plan.label[i] == 1 and event >= 0:
        lead = (catalog.time[event] - plan.window_end[i]).astype(np.int64) / 86400.0
        event_cells = [
            str(catalog.event_id[event]),
            iso_time(catalog.time[event]),
            f"{catalog.magnitude[event]:g}",
            f"{plan.event_distance_km[i]:.1f}",
            f"{lead:.3f}",
        ]
    else:
        event_cells = ["", "", "", "", ""]
    return [
        station.code,
        event_cells[0],
        iso_time(plan.window_start[i]),
        iso_time(plan.window_end[i]),
        event_cells[1],
        event_cells[2],
        event_cells[3],
        int(plan.label[i]),
        plan.window_days,
        iso_time(plan.horizon_end[i]),
        int(plan.qualifying_events[i]),
        event_cells[4],
        f"{plan.missing_fraction[i]:.6f}",
        f"{station.latitude:.3f}",
        f"{station.longitude:.3f}",
        component,
    ]
