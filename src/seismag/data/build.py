"""Turn observatory records and an earthquake catalog into labelled training windows.

``build_dataset`` writes the seed layout that ``seismag analyze`` and ``seismag train``
read::

    OUT/window-{N}/data_0.npy   float32 (n_class0, N * steps_per_day + 1), label 0.0 last
    OUT/window-{N}/data_1.npy   float32 (n_class1, N * steps_per_day + 1), label 1.0 last
    OUT/window-{N}/meta.csv     one row per sample, file order (class 0 rows, then class 1)
    OUT/build_report.json       settings, counts, drops, per-station data quality
    OUT/build_report.txt        the same for people (what ``format_build_report`` prints)

The rules, all recorded in the report:

Windows
    Whole UTC days. The window of ``N`` days ending on day ``D`` covers
    ``[D - N + 1 00:00, D + 1 00:00)`` (``window_start`` inclusive, ``window_end``
    exclusive). Window ends step by ``stride_days`` from the first day on which a full
    window fits. The days of a station run from the day of its first minute to the day of
    its last minute; minutes of those days the record does not cover (e.g. the rest of a
    partial last day) count as missing.
Labels
    Class 1 when an earthquake of magnitude >= ``min_magnitude`` has its origin time in the
    label horizon ``[window_end, window_end + lead_days)`` and its epicentre within the
    radius of the station (great-circle distance): a fixed ``radius_km``, or the
    Dobrovolsky preparation-zone radius ``10 ** (0.43 * M)`` km of each event. Otherwise
    class 0. The ``event_*`` columns of meta.csv describe the *first* qualifying event in
    the horizon (the one the window immediately precedes); they are empty for class 0.
Drops (in this order; a window gets the first reason that applies)
    ``label_horizon_outside_catalog``: the horizon is not inside the catalog's time span
    (``Catalog.start`` .. ``Catalog.end``), so "no event" could mean "not listed yet".
    ``too_many_missing``: more than ``max_missing`` of the window's minutes are missing.
Gaps
    Missing minutes of kept windows are filled by linear interpolation in time using only
    the window's own minutes (no data from outside the window, so nothing from the label
    horizon leaks in); a gap at a window edge takes the nearest valid value.
Window lengths that cannot be trained on
    The loader needs both class files, so a window length with no windows, or with windows
    of one class only, is not written; the report says why. The windows that exist are
    still counted in the report, and :func:`plan_windows` lists them.
Atomic output
    Every input is read and checked before anything is written. Each ``window-{N}``
    folder is assembled in a hidden staging folder inside ``out_dir`` and renamed into
    place once complete; the report files are written atomically last.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

import seismag
from seismag.data.catalog import Catalog, dobrovolsky_radius_km, haversine_km, read_catalog
from seismag.data.iaga import StationRecord, iaga_files_in, read_iaga2002, read_iaga2002_header
from seismag.errors import ConfigError, DataError
from seismag.io import write_json, write_text
from seismag.layout import CLASS_FILES, META_FILE, window_dir_name

__all__ = [
    "DEFAULT_LEAD_DAYS",
    "DROP_HORIZON",
    "DROP_MISSING",
    "META_COLUMNS",
    "BuildReport",
    "WindowPlan",
    "WindowSummary",
    "build_dataset",
    "find_station_files",
    "format_build_report",
    "plan_windows",
]

#: Default label horizon, days after the window's last day. A week is the horizon most
#: geomagnetic-precursor studies look at (ULF anomalies reported days to ~2 weeks ahead),
#: and it gives each event several class-1 windows per station at a 1-day stride.
DEFAULT_LEAD_DAYS = 7

DROP_HORIZON = "label_horizon_outside_catalog"
DROP_MISSING = "too_many_missing"
KEPT = "kept"

MINUTES_PER_DAY = 1440

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


# --------------------------------------------------------------------------- data classes


@dataclass(frozen=True)
class WindowPlan:
    """Every candidate window of one length at one station: its label or why it is dropped.

    All arrays have shape ``(n_candidates,)`` and are in time order.

    Attributes
    ----------
    station : str
    window_days : int
    window_start, window_end, horizon_end : ndarray of datetime64[s]
        The window is ``[window_start, window_end)``; its label horizon is
        ``[window_end, horizon_end)``.
    missing_fraction : ndarray of float64
        Share of the window's minutes with no value.
    status : ndarray of str
        ``'kept'``, ``'label_horizon_outside_catalog'`` or ``'too_many_missing'``.
    label : ndarray of int8
        1 or 0; -1 where the horizon is outside the catalog (no label can be given).
        Computed for windows dropped for missing data too.
    qualifying_events : ndarray of int64
        Number of qualifying events in the horizon.
    event_index : ndarray of int64
        Index into ``catalog`` of the first qualifying event in the horizon, -1 if none.
    event_distance_km : ndarray of float64
        Distance station-epicentre of that event, NaN if none.
    """

    station: str
    window_days: int
    window_start: np.ndarray
    window_end: np.ndarray
    horizon_end: np.ndarray
    missing_fraction: np.ndarray
    status: np.ndarray
    label: np.ndarray
    qualifying_events: np.ndarray
    event_index: np.ndarray
    event_distance_km: np.ndarray

    @property
    def kept(self) -> np.ndarray:
        return self.status == KEPT

    def count(self, label: int) -> int:
        """Kept windows of class ``label``."""
        return int(np.count_nonzero(self.kept & (self.label == label)))

    def dropped(self) -> dict[str, int]:
        reasons, counts = np.unique(self.status[~self.kept], return_counts=True)
        return {str(r): int(c) for r, c in zip(reasons, counts)}


@dataclass
class WindowSummary:
    """What the build did for one window length."""

    window_days: int
    candidates: int = 0
    class_0: int = 0
    class_1: int = 0
    dropped: dict = field(default_factory=dict)
    written: bool = False
    path: str | None = None
    note: str = ""
    per_station: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)


@dataclass
class BuildReport:
    """Everything ``build_dataset`` decided, as written to ``build_report.json``."""

    out_dir: str
    settings: dict
    catalog: dict
    stations: list
    windows: list
    ignored_files: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    seismag_version: str = seismag.__version__

    @property
    def written_windows(self) -> list[int]:
        return [w.window_days for w in self.windows if w.written]

    def window(self, window_days: int) -> WindowSummary:
        for summary in self.windows:
            if summary.window_days == window_days:
                return summary
        raise KeyError(window_days)

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------- public API


def find_station_files(
    observatory: str | os.PathLike | Iterable[str | os.PathLike],
) -> tuple[dict[str, list[Path]], list[Path]]:
    """Resolve files and folders to IAGA-2002 files grouped by station IAGA code.

    Folders are searched recursively; files in them that are not IAGA-2002 are returned as
    the second item (ignored). A file named explicitly must be IAGA-2002 (else DataError).
    Returns ``({code: [files...]}, ignored)`` with codes sorted.
    """
    if isinstance(observatory, (str, os.PathLike)):
        observatory = [observatory]
    groups: dict[str, list[Path]] = {}
    ignored: list[Path] = []
    seen: set[Path] = set()
    items = [Path(item) for item in observatory]
    if not items:
        raise ConfigError("no observatory files or folders given")
    for item in items:
        if item.is_dir():
            files, other = iaga_files_in(item)
            ignored.extend(other)
        elif item.is_file():
            files = [item]
        else:
            raise DataError(item, "no such file or folder")
        for path in files:
            resolved = path.resolve()
            if resolved in seen:
                continue
            seen.add(resolved)
            header = read_iaga2002_header(path)
            groups.setdefault(header.iaga_code, []).append(path)
    if not groups:
        raise DataError(", ".join(str(i) for i in items), "no IAGA-2002 files found")
    return {code: groups[code] for code in sorted(groups)}, ignored


def plan_windows(
    record: StationRecord,
    catalog: Catalog,
    window_days: int,
    *,
    component: str = "H",
    min_magnitude: float = 5.5,
    radius_km: float | None = None,
    radius: str = "dobrovolsky",
    lead_days: int = DEFAULT_LEAD_DAYS,
    stride_days: int = 1,
    max_missing: float = 0.1,
) -> WindowPlan:
    """Label every candidate window of ``window_days`` days of one station (nothing written).

    Same rules and defaults as :func:`build_dataset`; use it to inspect what a build would
    keep, e.g. for a record that yields one class only.
    """
    settings = _check_settings(
        windows=(window_days,), component=component, min_magnitude=min_magnitude,
        radius_km=radius_km, radius=radius, lead_days=lead_days, stride_days=stride_days,
        max_missing=max_missing, steps_per_day=MINUTES_PER_DAY,
    )
    first_day, series = _day_grid(record, settings["component"])
    missing_per_day = np.isnan(series).reshape(-1, MINUTES_PER_DAY).sum(axis=1)
    qualifying = _qualifying_events(record, catalog, settings)
    return _plan(record.iaga_code, first_day, missing_per_day, qualifying, catalog, window_days, settings)


def build_dataset(
    observatory: str | os.PathLike | Iterable[str | os.PathLike],
    catalog: Catalog | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    windows: Sequence[int] = (7, 14, 30),
    component: str = "H",
    min_magnitude: float = 5.5,
    radius_km: float | None = None,
    radius: str = "dobrovolsky",
    lead_days: int = DEFAULT_LEAD_DAYS,
    stride_days: int = 1,
    max_missing: float = 0.1,
    steps_per_day: int = MINUTES_PER_DAY,
    overwrite: bool = False,
) -> BuildReport:
    """Build labelled training windows from IAGA-2002 records and an earthquake catalog.

    Parameters
    ----------
    observatory
        IAGA-2002 files and/or folders (searched recursively); files are grouped into
        stations by their IAGA code, so a station may span many daily or monthly files.
    catalog
        A :class:`~seismag.data.catalog.Catalog` or the path of a catalog CSV (read with
        :func:`~seismag.data.catalog.read_catalog`, whose default time span is the first to
        last row of the file).
    out_dir
        Output folder (created if needed).
    windows
        Window lengths, whole days.
    component
        IAGA component letter to use: H, D, Z, F, X, Y, E, ... (H is derived from X and Y
        when a file has no H). nT, or arc-minutes for D.
    min_magnitude
        Smallest magnitude that makes a window class 1.
    radius_km, radius
        Station-epicentre distance within which an event counts. ``radius_km`` given: that
        fixed radius (``radius`` must then be ``'dobrovolsky'``, the default, or
        ``'fixed'``). Otherwise ``radius='dobrovolsky'``: ``10 ** (0.43 * M)`` km per event.
    lead_days
        Label horizon, whole days after the window's last day (default
        :data:`DEFAULT_LEAD_DAYS` = 7).
    stride_days
        Days between the ends of consecutive windows.
    max_missing
        Largest share of missing minutes a kept window may have (0 <= max_missing < 1);
        the missing minutes of kept windows are interpolated.
    steps_per_day
        Samples per day in the output; must divide 1440 (1440 keeps 1-minute values;
        fewer steps average consecutive minutes, e.g. 24 gives hourly means).
    overwrite
        Replace ``window-{N}`` folders and report files a previous build left in
        ``out_dir``; without it, their presence is an error (nothing is written).

    Returns
    -------
    BuildReport
        Also written to ``out_dir/build_report.json`` and ``build_report.txt``.

    Notes
    -----
    Memory: each station keeps only the chosen component, one float32 per minute of its
    whole days (about 2 MB per station-year); the arrays are filled one window row at a
    time through a memory map, so a build never holds a whole ``data_*.npy`` in memory.

    Raises
    ------
    ConfigError
        A setting out of range.
    DataError
        An unreadable or malformed input file (named, with the line), a component the
        station does not report, or an ``out_dir`` that already holds a build.
    """
    settings = _check_settings(
        windows=windows, component=component, min_magnitude=min_magnitude,
        radius_km=radius_km, radius=radius, lead_days=lead_days, stride_days=stride_days,
        max_missing=max_missing, steps_per_day=steps_per_day,
    )
    window_list = settings["windows"]
    out_dir = Path(out_dir)
    _check_out_dir(out_dir, window_list, overwrite)

    # ---- read and check every input before anything is written
    groups, ignored = find_station_files(observatory)
    if not isinstance(catalog, Catalog):
        catalog = read_catalog(catalog)
    catalog_summary = _catalog_summary(catalog, settings)

    stations: list[_StationWork] = []
    warnings: list[str] = []
    for code, files in groups.items():
        record = read_iaga2002(files, components=[settings["component"]])
        first_day, series = _day_grid(record, settings["component"])
        missing_per_day = np.isnan(series).reshape(-1, MINUTES_PER_DAY).sum(axis=1)
        qualifying = _qualifying_events(record, catalog, settings)
        plans = {
            n: _plan(code, first_day, missing_per_day, qualifying, catalog, n, settings)
            for n in window_list
        }
        stations.append(_StationWork(code, record.latitude, record.longitude, first_day, series, plans))
        summary = _station_summary(record, settings["component"], first_day, series)
        if record.derived:
            warnings.append(f"{code}: {', '.join(record.derived)} derived from X and Y")
        del record  # only the day grid of the one component is kept
        summary["windows"] = {str(n): _plan_summary(p) for n, p in plans.items()}
        stations[-1].summary = summary
    if ignored:
        warnings.append(f"{len(ignored)} non-IAGA-2002 file(s) in the observatory folders ignored")

    window_summaries = []
    for n in window_list:
        summary = WindowSummary(window_days=n)
        for work in stations:
            plan = work.plans[n]
            summary.candidates += len(plan.status)
            summary.class_0 += plan.count(0)
            summary.class_1 += plan.count(1)
            for reason, count in plan.dropped().items():
                summary.dropped[reason] = summary.dropped.get(reason, 0) + count
            summary.per_station[work.code] = _plan_summary(plan)
            for index in plan.event_index[plan.kept & (plan.label == 1)]:
                event_id = str(catalog.event_id[index])
                summary.events[event_id] = summary.events.get(event_id, 0) + 1
        if summary.candidates == 0:
            summary.note = f"no station record spans {n} whole days: nothing to write"
        elif summary.class_0 + summary.class_1 == 0:
            summary.note = "every window was dropped: nothing to write"
        elif summary.class_0 == 0 or summary.class_1 == 0:
            present = 0 if summary.class_0 else 1
            summary.note = (
                f"only class {present} windows ({summary.class_0 + summary.class_1}), "
                "and training needs both data_0.npy and data_1.npy"
            )
        if summary.note:
            warnings.append(f"{window_dir_name(n)}: {summary.note}")
        window_summaries.append(summary)

    report = BuildReport(
        out_dir=str(out_dir),
        settings=_settings_for_report(settings),
        catalog=catalog_summary,
        stations=[work.summary for work in stations],
        windows=window_summaries,
        ignored_files=[str(p) for p in ignored],
        warnings=warnings,
    )

    # ---- write: each window folder assembled in a staging folder, then renamed in
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".seismag-build-", dir=out_dir))
    try:
        # Every folder is complete before the first rename, so a failure while writing
        # (full disk, a kill) leaves out_dir exactly as it was.
        for summary in window_summaries:
            if not summary.note:
                _write_window(staging / window_dir_name(summary.window_days), summary.window_days,
                              stations, catalog, settings)
        for summary in window_summaries:
            n = summary.window_days
            target = out_dir / window_dir_name(n)
            if target.exists():  # only with overwrite=True (checked above)
                # Moved into the staging folder, which is deleted below. A window length
                # not written this time loses its old folder too: it would contradict the
                # report beside it.
                os.replace(target, staging / f"old-{window_dir_name(n)}")
                if summary.note:
                    warnings.append(f"{window_dir_name(n)}: removed the folder of a previous build")
            if not summary.note:
                os.replace(staging / window_dir_name(n), target)
                summary.written = True
                summary.path = str(target)
        write_json(out_dir / "build_report.json", report.to_dict())
        write_text(out_dir / "build_report.txt", format_build_report(report))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            try:
                out_dir.rmdir()  # only if still empty: never remove anything else
            except OSError:
                pass
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return report


def format_build_report(report: BuildReport) -> str:
    """The build report as plain text (what ``seismag build`` prints and writes)."""
    s = report.settings
    c = report.catalog
    lines = [f"seismag build -> {report.out_dir}", ""]
    lines.append("Settings")
    lines.append(f"  component           {s['component']} ({s['component_unit']})")
    lines.append(f"  windows             {', '.join(str(n) for n in s['windows'])} days, stride {s['stride_days']} day(s)")
    lines.append(f"  steps per day       {s['steps_per_day']}")
    lines.append(f"  class 1             M >= {s['min_magnitude']:g} within {s['radius_description']}")
    lines.append(f"                      in the {s['lead_days']} day(s) after the window's last day")
    lines.append(f"  max missing         {s['max_missing']:.1%} of a window's minutes (smaller gaps interpolated)")
    lines.append("")
    lines.append("Catalog")
    lines.append(f"  {c['path'] or '(in memory)'} [{c['layout'] or '-'}]")
    lines.append(f"  span {c['start']} .. {c['end']}; {c['events']} events, {c['qualifying_magnitude']} with M >= {s['min_magnitude']:g}")
    if c["excluded"]:
        lines.append("  excluded: " + ", ".join(f"{k} ({v})" for k, v in sorted(c["excluded"].items())))
    lines.append("")
    lines.append("Stations")
    for st in report.stations:
        lines.append(
            f"  {st['code']} {st['name']}  {st['latitude']:.3f}, {st['longitude']:.3f}  "
            f"{st['start']} .. {st['end']}  ({st['files']} file(s), sampling {'/'.join(f'{x:g}' for x in st['sampling_seconds'])} s)"
        )
        lines.append(
            f"      gaps {st['gaps']} ({st['gap_minutes']} min), duplicate rows {st['duplicate_rows']}, "
            f"overlapping minutes {st['overlap_minutes']}, missing {st['component']} in record "
            f"{st['missing_minutes']} min"
        )
        incomplete = ", ".join(f"{d['day']} ({d['missing_minutes']} min missing)" for d in st["incomplete_days"])
        lines.append(f"      {st['days']} day(s) from {st['first_day']}; incomplete: {incomplete or 'none'}")
    lines.append("")
    lines.append("Windows")
    lines.append(f"  {'days':>5} {'candidates':>10} {'class 0':>8} {'class 1':>8}  dropped / result")
    for w in report.windows:
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(w.dropped.items())) or "none dropped"
        result = f"written to {Path(w.path).name}/" if w.written else f"NOT written: {w.note}"
        lines.append(f"  {w.window_days:>5} {w.candidates:>10} {w.class_0:>8} {w.class_1:>8}  {dropped}; {result}")
        if w.events:
            top = sorted(w.events.items(), key=lambda kv: (-kv[1], kv[0]))
            lines.append("        class-1 windows by event: " + ", ".join(f"{k} ({v})" for k, v in top[:8])
                         + (f", ... {len(top) - 8} more" if len(top) > 8 else ""))
    if report.warnings:
        lines.append("")
        lines.append("Warnings")
        lines.extend(f"  - {w}" for w in report.warnings)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- internals


@dataclass
class _StationWork:
    code: str
    latitude: float
    longitude: float
    first_day: np.datetime64
    series: np.ndarray  # float32, (n_days * 1440,), NaN where missing
    plans: dict
    summary: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Qualifying:
    """Events that would make a window of this station class 1, sorted by time."""

    time: np.ndarray
    index: np.ndarray
    distance_km: np.ndarray


def _check_settings(*, windows, component, min_magnitude, radius_km, radius, lead_days,
                    stride_days, max_missing, steps_per_day) -> dict:
    if isinstance(windows, (int, np.integer)):
        windows = (windows,)
    try:
        windows = list(windows)
        window_list = [int(n) for n in windows]
    except (TypeError, ValueError):
        raise ConfigError(f"windows must be positive whole numbers of days, got {windows!r}") from None
    if not window_list or any(n < 1 for n in window_list) or any(n != w for n, w in zip(window_list, windows)):
        raise ConfigError(f"windows must be positive whole numbers of days, got {windows!r}")
    window_list = sorted(set(window_list))
    if not isinstance(component, str) or len(component.strip()) != 1 or not component.strip().isalpha():
        raise ConfigError(f"component must be one IAGA component letter (H, D, Z, F, X, Y, E, ...), got {component!r}")
    if not _is_number(min_magnitude) or not np.isfinite(min_magnitude):
        raise ConfigError(f"min_magnitude must be a number, got {min_magnitude!r}")
    if radius_km is not None:
        if radius not in ("dobrovolsky", "fixed"):
            raise ConfigError(f"radius must be 'dobrovolsky' or 'fixed', got {radius!r}")
        if not (_is_number(radius_km) and np.isfinite(radius_km) and radius_km > 0):
            raise ConfigError(f"radius_km must be a positive number, got {radius_km!r}")
        mode = "fixed"
    elif radius == "dobrovolsky":
        mode = "dobrovolsky"
    elif radius == "fixed":
        raise ConfigError("radius='fixed' needs radius_km")
    else:
        raise ConfigError(f"radius must be 'dobrovolsky' or 'fixed', got {radius!r}")
    for name, value in (("lead_days", lead_days), ("stride_days", stride_days)):
        if not _is_number(value) or int(value) != value or value < 1:
            raise ConfigError(f"{name} must be a whole number of days >= 1, got {value!r}")
    if not _is_number(max_missing) or not 0.0 <= max_missing < 1.0:
        raise ConfigError(f"max_missing must be in [0, 1), got {max_missing!r}")
    if (not _is_number(steps_per_day) or int(steps_per_day) != steps_per_day or steps_per_day < 1
            or MINUTES_PER_DAY % int(steps_per_day)):
        raise ConfigError(
            f"steps_per_day must divide 1440 (the records are 1-minute), got {steps_per_day!r}"
        )
    return {
        "windows": window_list,
        "component": component.strip().upper(),
        "min_magnitude": float(min_magnitude),
        "radius_mode": mode,
        "radius_km": float(radius_km) if radius_km is not None else None,
        "lead_days": int(lead_days),
        "stride_days": int(stride_days),
        "max_missing": float(max_missing),
        "steps_per_day": int(steps_per_day),
    }


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _settings_for_report(settings: dict) -> dict:
    out = dict(settings)
    out["component_unit"] = "arc-minutes" if settings["component"] == "D" else "nT"
    out["radius_description"] = (
        f"{settings['radius_km']:g} km of the station"
        if settings["radius_mode"] == "fixed"
        else "the Dobrovolsky radius 10^(0.43 M) km of the event"
    )
    out["rules"] = {
        "window": "whole UTC days; the window of N days ending on day D is [D-N+1 00:00, D+1 00:00) UTC; "
                  "window ends step by stride_days from the first day a full window fits",
        "label": "1 when an event of M >= min_magnitude has its origin time in [window_end, "
                 "window_end + lead_days) and its epicentre within the radius; else 0",
        "event_columns": "event_* in meta.csv describe the first qualifying event in the horizon; "
                         "empty for class 0",
        "drop_order": [DROP_HORIZON, DROP_MISSING],
        DROP_HORIZON: "the label horizon is not inside the catalog's time span",
        DROP_MISSING: "more than max_missing of the window's minutes have no value; minutes of a "
                      "station's first and last day outside its record count as missing",
        "interpolation": "linear in time within the window only; edge gaps take the nearest value",
        "steps": "each output step is the mean of 1440/steps_per_day consecutive minutes",
        "times": "ISO 8601, UTC, without offset",
        "single_class": "a window length with no windows or one class only is not written",
    }
    return out


def _check_out_dir(out_dir: Path, windows: list[int], overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise DataError(out_dir, "the output path exists and is not a folder")
    if overwrite or not out_dir.exists():
        return
    names = [window_dir_name(n) for n in windows] + ["build_report.json", "build_report.txt"]
    present = [name for name in names if (out_dir / name).exists()]
    if present:
        raise DataError(
            out_dir,
            f"already holds {', '.join(present)} from a previous build; "
            "choose another folder or overwrite (overwrite=True / --overwrite)",
        )


def _day_grid(record: StationRecord, component: str) -> tuple[np.datetime64, np.ndarray]:
    """The component on whole UTC days: (first day, float32 array of n_days * 1440 minutes)."""
    values = record.component(component)
    first_day = record.start.astype("datetime64[D]")
    last_day = record.end.astype("datetime64[D]")
    n_days = int((last_day - first_day).astype(int)) + 1
    series = np.full(n_days * MINUTES_PER_DAY, np.nan, dtype=np.float32)
    offset = int((record.start - first_day.astype("datetime64[m]")).astype(int))
    series[offset: offset + values.shape[0]] = values
    return first_day, series


def _qualifying_events(record: StationRecord, catalog: Catalog, settings: dict) -> _Qualifying:
    strong = np.flatnonzero(catalog.magnitude >= settings["min_magnitude"])
    distance = haversine_km(record.latitude, record.longitude, catalog.latitude[strong], catalog.longitude[strong])
    if settings["radius_mode"] == "fixed":
        limit = settings["radius_km"]
    else:
        limit = dobrovolsky_radius_km(catalog.magnitude[strong])
    inside = np.asarray(distance <= limit)
    index = strong[inside]
    order = np.argsort(catalog.time[index], kind="stable")
    return _Qualifying(
        time=catalog.time[index][order],
        index=index[order],
        distance_km=np.asarray(distance)[inside][order],
    )


def _plan(code: str, first_day: np.datetime64, missing_per_day: np.ndarray, qualifying: _Qualifying,
          catalog: Catalog, window_days: int, settings: dict) -> WindowPlan:
    n_days = missing_per_day.shape[0]
    last_index = np.arange(window_days - 1, n_days, settings["stride_days"])  # window's last day
    day = np.timedelta64(1, "D")
    window_end = (first_day + (last_index + 1) * day).astype("datetime64[s]")
    window_start = (first_day + (last_index + 1 - window_days) * day).astype("datetime64[s]")
    horizon_end = window_end + np.timedelta64(settings["lead_days"], "D").astype("timedelta64[s]")

    cumulative = np.concatenate(([0], np.cumsum(missing_per_day)))
    missing = cumulative[last_index + 1] - cumulative[last_index + 1 - window_days]
    missing_fraction = missing / float(window_days * MINUTES_PER_DAY)

    first = np.searchsorted(qualifying.time, window_end, side="left")
    after = np.searchsorted(qualifying.time, horizon_end, side="left")
    count = (after - first).astype(np.int64)
    has_event = count > 0
    safe = np.minimum(first, max(len(qualifying.time) - 1, 0))
    event_index = np.where(has_event, qualifying.index[safe] if len(qualifying.time) else -1, -1).astype(np.int64)
    distance = np.where(has_event, qualifying.distance_km[safe] if len(qualifying.time) else np.nan, np.nan)

    covered = (window_end >= catalog.start) & (horizon_end <= catalog.end)
    label = np.where(covered, has_event.astype(np.int8), np.int8(-1)).astype(np.int8)
    status = np.full(last_index.shape, KEPT, dtype=object)
    status[missing_fraction > settings["max_missing"]] = DROP_MISSING
    status[~covered] = DROP_HORIZON
    return WindowPlan(
        station=code,
        window_days=window_days,
        window_start=window_start,
        window_end=window_end,
        horizon_end=horizon_end,
        missing_fraction=missing_fraction,
        status=status.astype(str) if status.size else np.array([], dtype=str),
        label=label,
        qualifying_events=np.where(covered, count, 0),
        event_index=np.where(covered, event_index, -1),
        event_distance_km=np.where(covered, distance, np.nan),
    )


def _plan_summary(plan: WindowPlan) -> dict:
    return {
        "candidates": int(len(plan.status)),
        "class_0": plan.count(0),
        "class_1": plan.count(1),
        "dropped": plan.dropped(),
    }


def _station_summary(record: StationRecord, component: str, first_day, series: np.ndarray) -> dict:
    per_day = np.isnan(series).reshape(-1, MINUTES_PER_DAY).sum(axis=1)
    gaps = [{"start": _iso(g.start), "minutes": g.minutes} for g in record.gaps]
    return {
        "code": record.iaga_code,
        "name": record.station_name,
        "latitude": record.latitude,
        "longitude": record.longitude,
        "files": len(record.files),
        "file_list": list(record.files),
        "sampling_seconds": sorted(set(record.sampling_seconds)),
        "interval_types": sorted(set(record.interval_types)),
        "start": _iso(record.start),
        "end": _iso(record.end),
        "component": component,
        "derived": list(record.derived),
        "duplicate_rows": record.duplicate_rows,
        "overlap_minutes": record.overlap_minutes,
        "gaps": len(record.gaps),
        "gap_minutes": record.gap_minutes,
        "gap_list": gaps[:100],
        "gap_list_truncated": len(gaps) > 100,
        "missing_minutes": record.missing_minutes(component),
        "days": int(per_day.shape[0]),
        "first_day": str(first_day),
        "incomplete_days": [
            {"day": str(first_day + np.timedelta64(int(i), "D")), "missing_minutes": int(per_day[i])}
            for i in np.flatnonzero(per_day)
        ][:100],
    }


def _catalog_summary(catalog: Catalog, settings: dict) -> dict:
    return {
        "path": catalog.path,
        "layout": catalog.layout,
        "start": _iso(catalog.start),
        "end": _iso(catalog.end),
        "events": len(catalog),
        "qualifying_magnitude": int(np.count_nonzero(catalog.magnitude >= settings["min_magnitude"])),
        "excluded": dict(catalog.excluded),
    }


def _fill_gaps(values: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN in a 1-D float64 array (edges: nearest valid value)."""
    missing = np.isnan(values)
    if missing.any():
        positions = np.arange(values.shape[0])
        values[missing] = np.interp(positions[missing], positions[~missing], values[~missing])
    return values


def _write_window(folder: Path, window_days: int, stations: list[_StationWork], catalog: Catalog,
                  settings: dict) -> None:
    """Write data_0.npy, data_1.npy and meta.csv of one window length into ``folder``.

    ``folder`` is a staging folder renamed into place by the caller, so the arrays can be
    filled row by row through a memory map instead of being held in memory whole.
    """
    folder.mkdir(parents=True)
    steps = settings["steps_per_day"]
    per_step = MINUTES_PER_DAY // steps
    n_features = window_days * steps
    meta = io.StringIO()
    writer = csv.writer(meta, lineterminator="\n")
    writer.writerow(META_COLUMNS)
    for label in (0, 1):
        rows = [(work, i) for work in stations
                for i in np.flatnonzero(work.plans[window_days].kept & (work.plans[window_days].label == label))]
        data = np.lib.format.open_memmap(
            folder / CLASS_FILES[label], mode="w+", dtype=np.float32, shape=(len(rows), n_features + 1)
        )
        for row, (work, i) in enumerate(rows):
            plan = work.plans[window_days]
            offset_s = (plan.window_start[i] - work.first_day.astype("datetime64[s]")).astype(np.int64)
            start_minute = int(offset_s) // 60
            minutes = work.series[start_minute: start_minute + window_days * MINUTES_PER_DAY].astype(np.float64)
            minutes = _fill_gaps(minutes)
            if per_step > 1:
                minutes = minutes.reshape(n_features, per_step).mean(axis=1)
            data[row, :n_features] = minutes
            data[row, n_features] = float(label)
            writer.writerow(_meta_row(work, plan, i, catalog, settings))
        data.flush()
        del data
    (folder / META_FILE).write_text(meta.getvalue(), encoding="utf-8")


def _meta_row(work: _StationWork, plan: WindowPlan, i: int, catalog: Catalog, settings: dict) -> list:
    event = int(plan.event_index[i])
    if plan.label[i] == 1 and event >= 0:
        lead = (catalog.time[event] - plan.window_end[i]).astype(np.int64) / 86400.0
        event_cells = [
            str(catalog.event_id[event]),
            _iso(catalog.time[event]),
            f"{catalog.magnitude[event]:g}",
            f"{plan.event_distance_km[i]:.1f}",
            f"{lead:.3f}",
        ]
    else:
        event_cells = ["", "", "", "", ""]
    return [
        work.code,
        event_cells[0],
        _iso(plan.window_start[i]),
        _iso(plan.window_end[i]),
        event_cells[1],
        event_cells[2],
        event_cells[3],
        int(plan.label[i]),
        plan.window_days,
        _iso(plan.horizon_end[i]),
        int(plan.qualifying_events[i]),
        event_cells[4],
        f"{plan.missing_fraction[i]:.6f}",
        f"{work.latitude:.3f}",
        f"{work.longitude:.3f}",
        settings["component"],
    ]


def _iso(moment) -> str:
    return str(np.datetime64(moment, "s"))
