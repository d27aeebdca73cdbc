"""Report: what a build decided, as data (``build_report.json``) and as text.

Lives here: :class:`BuildReport` and :class:`WindowSummary`, the counts and notes per
window length (including why a length is not written), the warnings (derived channels,
window lengths of one class only), the settings with their rules spelled out,
:func:`format_build_report`, and :func:`dataset_info`, what ``dataset.json`` records.
Writing the files is :mod:`.write`'s.

May import numpy, :mod:`seismag` (its version), :mod:`seismag.sources.catalog`,
:mod:`seismag.layout` (the dataset.json record), :mod:`seismag.dataset.channels`,
:mod:`seismag.dataset.stations` and :mod:`.label`; nothing that writes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

import seismag
from seismag.sources.catalog import Catalog
from seismag.dataset.channels import RATIO_CHANNELS, channel_unit
from seismag.dataset.stations import MINUTES_PER_DAY, StationMinutes, iso_time
from seismag.layout.dataset_info import DatasetInfo
from seismag.layout.seed import ACTIVITY_COLUMNS, window_dir_name

from seismag.dataset.build.label import DROP_AFTERSHOCK, DROP_HORIZON, DROP_MISSING, DROP_STORM, WindowPlan

__all__ = ["BuildReport", "WindowSummary", "dataset_info", "format_build_report", "one_class_words",
           "summarise_build"]

#: How the report words each unit of :func:`~seismag.dataset.channels.channel_unit`.
_UNIT_WORDS = {"nT": "nT", "arcmin": "arc-minutes", "1": "dimensionless"}
#: Incomplete-day ranges the text report lists per station (build_report.json lists all).
_TEXT_RANGES = 20


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


def summarise_build(out_dir: Path, settings: dict, catalog: Catalog, stations: Sequence[StationMinutes],
                    plans: dict[str, dict[int, WindowPlan]], ignored: Sequence[Path]) -> BuildReport:
    """The report of a build before anything is written (``written``/``path`` still unset).

    ``plans`` maps each station code to its labelled windows by length. A window length
    gets a ``note`` (and is then not written) when it has no windows or every window was
    dropped; one whose windows are all of one class is written, with a warning.
    """
    warnings = [_derived_warning(s.code, channel, how) for s in stations for channel, how in s.derived
                if channel not in RATIO_CHANNELS or "H derived" in how]
    if ignored:
        warnings.append(f"{len(ignored)} non-IAGA-2002 file(s) in the observatory folders ignored")
    windows = [_window_summary(n, stations, plans, catalog) for n in settings["windows"]]
    warnings.extend(f"{window_dir_name(w.window_days)}: {w.note}" for w in windows if w.note)
    warnings.extend(f"{window_dir_name(w.window_days)}: {one_class_words(w)}, written "
                    f"({w.class_0 + w.class_1} windows; training needs both classes)"
                    for w in windows if not w.note and one_class_words(w))
    return BuildReport(
        out_dir=str(out_dir),
        settings=_settings_for_report(settings),
        catalog=_catalog_summary(catalog, settings),
        stations=[
            {**s.quality, "windows": {str(n): _plan_summary(p) for n, p in plans[s.code].items()}}
            for s in stations
        ],
        windows=windows,
        ignored_files=[str(p) for p in ignored],
        warnings=warnings,
    )


def _window_summary(window_days: int, stations: Sequence[StationMinutes],
                    plans: dict[str, dict[int, WindowPlan]], catalog: Catalog) -> WindowSummary:
    summary = WindowSummary(window_days=window_days)
    for station in stations:
        plan = plans[station.code][window_days]
        summary.candidates += len(plan.status)
        summary.class_0 += plan.count(0)
        summary.class_1 += plan.count(1)
        for reason, count in plan.dropped().items():
            summary.dropped[reason] = summary.dropped.get(reason, 0) + count
        summary.per_station[station.code] = _plan_summary(plan)
        for index in plan.event_index[plan.kept & (plan.label == 1)]:
            event_id = str(catalog.event_id[index])
            summary.events[event_id] = summary.events.get(event_id, 0) + 1
    if summary.candidates == 0:
        summary.note = f"no station record spans {window_days} whole days: nothing to write"
    elif summary.class_0 + summary.class_1 == 0:
        summary.note = "every window was dropped: nothing to write"
    return summary


def one_class_words(summary: WindowSummary) -> str:
    """What a window length of one class only is good for; ``''`` when it has both (or none).

    A quiet station's windows are all class 0: no training set, but the alarms an ensemble
    raises on them are false alarms, so the folder measures the false-alarm rate.
    """
    if summary.class_0 and not summary.class_1:
        return "only class 0: serves to measure false alarms"
    if summary.class_1 and not summary.class_0:
        return "only class 1: serves to measure missed events"
    return ""


def _derived_warning(code: str, channel: str, how: str) -> str:
    if channel == "H":
        return f"{code}: H derived from X and Y"  # the reader's one derivation
    if channel in RATIO_CHANNELS:
        return f"{code}: {channel} uses H derived from X and Y"
    return f"{code}: {channel} derived as {how}"


def _plan_summary(plan: WindowPlan) -> dict:
    return {
        "candidates": int(len(plan.status)),
        "class_0": plan.count(0),
        "class_1": plan.count(1),
        "dropped": plan.dropped(),
    }


def _catalog_summary(catalog: Catalog, settings: dict) -> dict:
    return {
        "path": catalog.path,
        "layout": catalog.layout,
        "start": iso_time(catalog.start),
        "end": iso_time(catalog.end),
        "events": len(catalog),
        "qualifying_magnitude": int(np.count_nonzero(catalog.magnitude >= settings["min_magnitude"])),
        "excluded": dict(catalog.excluded),
    }


def _settings_for_report(settings: dict) -> dict:
    channels = settings["channels"]
    out = {key: value for key, value in settings.items() if key != "channels"}
    out["component_unit"] = ", ".join(_UNIT_WORDS[channel_unit(c)] for c in channels)
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
        "drop_order": [DROP_HORIZON, DROP_AFTERSHOCK, DROP_STORM, DROP_MISSING],
        DROP_HORIZON: "the label horizon is not inside the catalog's time span",
        DROP_AFTERSHOCK: "decluster: the window's data reach past a causal Gardner-Knopoff mainshock into its "
                         "aftershock period (T(M) days, within L(M) km of the station) whose first aftershock "
                         "came before the window's label horizon ends; only mainshocks label (an event is an "
                         "aftershock only of an earlier, larger-or-equal mainshock: no look into the future)",
        DROP_STORM: "exclude_storms: a day of the window is disturbed by the storm rule (days the indices "
                    "do not cover are counted as undecided, not as quiet)",
        DROP_MISSING: "more than max_missing of the window's minutes have no value; minutes of a "
                      "station's first and last day outside its record count as missing"
                      + ("; a minute without a value in any one channel counts as missing"
                         if len(channels) > 1 else ""),
        "interpolation": "linear in time within the window only; edge gaps take the nearest value",
        "steps": "each output step is the mean of 1440/steps_per_day consecutive minutes",
        "times": "ISO 8601, UTC, without offset",
        "single_class": "a window length with no windows is not written; one with windows of one class "
                        "only is written and named in the warnings (no training set, but it measures false "
                        "alarms (class 0) or missed events (class 1))",
    }
    if len(channels) > 1:
        out["rules"]["columns"] = ("each row holds day 1 of every channel (in the order of component, "
                                   "steps_per_day values each), then day 2, ...: 'day, channel, step'")
    if "F" in channels or any(c in RATIO_CHANNELS for c in channels):
        out["rules"]["derived"] = ("F is the files' F column when they have one, else sqrt(H^2 + Z^2) "
                                   "(sqrt(X^2 + Y^2 + Z^2) when H comes from X and Y) sample by sample; "
                                   "Z/H is Z / H sample by sample (missing where H is 0)")
    return out


def dataset_info(report: BuildReport, stations: Sequence[StationMinutes], settings: dict,
                 recipe: Sequence[dict] = (), labels: dict | None = None) -> DatasetInfo:
    """What ``dataset.json`` records of a build: channels and units, steps per day, the
    stations (code -> latitude, longitude, name), the report's settings, the recipe as
    given, the activity columns of ``meta.csv`` (with ``--kp/--dst/--ssc``) and the label
    settings (:func:`.plan.label_record`)."""
    channels = settings["channels"]
    return DatasetInfo(
        channels=channels,
        units=tuple(channel_unit(c) for c in channels),
        steps_per_day=settings["steps_per_day"],
        stations={s.code: {"latitude": s.latitude, "longitude": s.longitude, "name": s.name} for s in stations},
        build=report.settings,
        recipe=tuple(recipe),
        activity_columns=tuple(c for c in settings.get("activity_columns") or () if c in ACTIVITY_COLUMNS),
        labels=labels,
    )


def format_build_report(report: BuildReport) -> str:
    """The build report as plain text (what ``seismag build`` prints and writes)."""
    s = report.settings
    c = report.catalog
    lines = [f"seismag build -> {report.out_dir}", ""]
    lines.append("Settings")
    channels, units = s["component"].split(","), s["component_unit"].split(", ")
    if len(channels) == 1:
        lines.append(f"  component           {s['component']} ({s['component_unit']})")
    else:
        lines.append("  components          " + ", ".join(f"{name} ({unit})" for name, unit in zip(channels, units))
                     + "; columns day, channel, step")
    lines.append(f"  windows             {', '.join(str(n) for n in s['windows'])} days, stride {s['stride_days']} day(s)")
    lines.append(f"  steps per day       {s['steps_per_day']}")
    depth = f", depth <= {s['max_depth_km']:g} km," if s.get("max_depth_km") is not None else ""
    lines.append(f"  class 1             M >= {s['min_magnitude']:g}{depth} within {s['radius_description']}")
    lines.append(f"                      in the {s['lead_days']} day(s) after the window's last day")
    lines.append(f"  max missing         {s['max_missing']:.1%} of a window's minutes (smaller gaps interpolated)")
    indices = [f"{key} {s[key]}" for key in ("kp", "dst", "ssc") if s.get(key)]
    if indices:
        lines.append(f"  activity            {', '.join(s.get('activity_columns') or [])} in meta.csv from "
                     + "; ".join(indices))
    if s.get("exclude_storms"):
        lines.append(f"  exclude storms      windows holding a day with {s['exclude_storms']}")
    if s.get("decluster"):
        lines.append("  decluster           causal Gardner-Knopoff: mainshocks label; windows in aftershock "
                     "periods dropped")
    if s.get("recipe"):
        lines.append(f"  recipe              {s['recipe']} (recorded in dataset.json, applied at training "
                     "and prediction)")
    lines.append("")
    lines.append("Catalog")
    lines.append(f"  {c['path'] or '(in memory)'} [{c['layout'] or '-'}]")
    lines.append(f"  span {c['start']} .. {c['end']}; {c['events']} events, {c['qualifying_magnitude']} with M >= {s['min_magnitude']:g}")
    if c["excluded"]:
        lines.append("  excluded: " + ", ".join(f"{k} ({v})" for k, v in sorted(c["excluded"].items())))
    lines.append("")
    lines.append("Stations")
    for st in report.stations:
        missing = st["component"] if "," not in st["component"] else f"in any channel ({st['component']})"
        lines.append(
            f"  {st['code']} {st['name']}  {st['latitude']:.3f}, {st['longitude']:.3f}  "
            f"{st['start']} .. {st['end']}  ({st['files']} file(s), sampling {'/'.join(f'{x:g}' for x in st['sampling_seconds'])} s)"
        )
        lines.append(
            f"      gaps {st['gaps']} ({st['gap_minutes']} min), duplicate rows {st['duplicate_rows']}, "
            f"overlapping minutes {st['overlap_minutes']}, missing {missing} in record "
            f"{st['missing_minutes']} min"
        )
        ranges = st["incomplete_days"]
        incomplete = ", ".join(_day_range_words(r) for r in ranges[:_TEXT_RANGES])
        if len(ranges) > _TEXT_RANGES:
            incomplete += f", ... {len(ranges) - _TEXT_RANGES} more range(s) (build_report.json lists all)"
        lines.append(f"      {st['days']} day(s) from {st['first_day']}; incomplete: {incomplete or 'none'}")
    lines.append("")
    lines.append("Windows")
    lines.append(f"  {'days':>5} {'candidates':>10} {'class 0':>8} {'class 1':>8}  dropped / result")
    for w in report.windows:
        dropped = ", ".join(f"{k} {v}" for k, v in sorted(w.dropped.items())) or "none dropped"
        result = f"written to {Path(w.path).name}/" if w.written else f"NOT written: {w.note}"
        if w.written and one_class_words(w):
            result += f" ({one_class_words(w)})"
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


def _day_range_words(run: dict) -> str:
    """``2016-01-29 (168 min missing)``, ``2011-03-04 .. 2012-05-20 (444 days)``: a run of
    incomplete days, its minutes named unless every minute of it is missing."""
    whole = run["missing_minutes"] == run["days"] * MINUTES_PER_DAY
    if run["days"] == 1:
        return f"{run['first']} ({'whole day' if whole else str(run['missing_minutes']) + ' min missing'})"
    minutes = "" if whole else f", {run['missing_minutes']} min missing"
    return f"{run['first']} .. {run['last']} ({run['days']} days{minutes})"
