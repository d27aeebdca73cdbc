"""Turn observatory records and an earthquake catalog into labelled training windows.

``build_dataset`` writes the seed layout that ``seismag analyze`` and ``seismag train``
read::

    OUT/window-{N}/data_0.npy   float32 (n_class0, N * C * steps_per_day + 1), label 0.0 last
    OUT/window-{N}/data_1.npy   float32 (n_class1, N * C * steps_per_day + 1), label 1.0 last
    OUT/window-{N}/meta.csv     one row per sample, file order (class 0 rows, then class 1)
    OUT/dataset.json            channels, units, steps per day, stations, settings, recipe, labels
    OUT/build_report.json       settings, counts, drops, per-station data quality
    OUT/build_report.txt        the same for people (what ``format_build_report`` prints)

``C`` is the number of channels (one by default); a row holds day 1 of every channel,
then day 2, ... (``day, channel, step``, :data:`seismag.layout.dataset_info.FEATURE_ORDER`).

A build is four steps, one module each, in the order :func:`build_dataset` calls them:

``plan``
    the settings and the candidate windows of each station (days, stride, missing
    minutes, label horizons), on the day grid :mod:`seismag.dataset.stations` reads the
    records onto;
``label``
    the catalog events that qualify per station, each window's class, the drops;
``report``
    counts, notes and warnings as :class:`BuildReport`, and its text;
``write``
    the overwrite rule, the staging folder, the ``window-{N}`` folders (through
    :func:`seismag.layout.seed.write_window`), ``dataset.json`` and the report files.

Each imports only the steps before it. What build shares with ``seismag scan`` lives
beside this package: :mod:`seismag.dataset.stations` (a station's records on whole UTC
days, and the row of one window) and :mod:`seismag.dataset.channels` (the names, units and
derivations of the channels a build may ask for). This package imports them all and adds
nothing but :func:`build_dataset` and :func:`plan_windows`.

The rules, all recorded in the report:

Channels
    IAGA component letters as the files store them (nT; D in arc-minutes), ``F`` (the
    files' F column, else ``sqrt(H^2 + Z^2)`` sample by sample, listed as derived) and the
    ratio ``Z/H`` (dimensionless). A minute without a value in any one channel counts as
    missing for the whole window.
Windows
    Whole UTC days. The window of ``N`` days ending on day ``D`` covers
    ``[D - N + 1 00:00, D + 1 00:00)`` (``window_start`` inclusive, ``window_end``
    exclusive). Window ends step by ``stride_days`` from the first day on which a full
    window fits. The days of a station run from the day of its first minute to the day of
    its last minute; minutes of those days the record does not cover (e.g. the rest of a
    partial last day) count as missing.
Labels
    Class 1 when an earthquake of magnitude >= ``min_magnitude`` (and depth <=
    ``max_depth_km`` when given) has its origin time in the label horizon
    ``[window_end, window_end + lead_days)`` and its epicentre within the radius of the
    station (great-circle distance between epicentre and station, whatever the depth): a
    fixed ``radius_km``, or the Dobrovolsky preparation-zone radius ``10 ** (0.43 * M)`` km
    of each event. Otherwise class 0. The ``event_*`` columns of meta.csv describe the
    *first* qualifying event in the horizon (the one the window immediately precedes);
    they are empty for class 0. ``dataset.json`` records these settings under ``labels``
    (:data:`seismag.layout.dataset_info.LABEL_KEYS`); the ensembles trained on the folder carry them to
    ``seismag scan`` and ``seismag skill``, which judges forecasts by the same targets.
Drops (in this order; a window gets the first reason that applies)
    ``label_horizon_outside_catalog``: the horizon is not inside the catalog's time span
    (``Catalog.start`` .. ``Catalog.end``), so "no event" could mean "not listed yet".
    ``too_many_missing``: more than ``max_missing`` of the window's minutes are missing.
Gaps
    Missing minutes of kept windows are filled by linear interpolation in time using only
    the window's own minutes (no data from outside the window, so nothing from the label
    horizon leaks in); a gap at a window edge takes the nearest valid value.
Window lengths of one class, or none
    A window length with no windows (or every window dropped) is not written; the report
    says why. One whose windows are all of one class is written (its other class file
    holds no rows) with a warning: training refuses it, but a quiet station's class-0
    windows measure an ensemble's false alarms (``seismag predict`` on ``data_0.npy``).
Geomagnetic activity and declustering
    ``kp``/``dst``/``ssc`` add each window's ``max_kp``, ``min_dst``, ``n_ssc`` to
    ``meta.csv`` (the ``activity`` model's input); ``exclude_storms`` drops windows with a
    disturbed day; ``decluster`` labels by causal Gardner-Knopoff mainshocks and drops
    windows in aftershock periods (:mod:`.label`). Causal: an event is removed only as an
    aftershock of an earlier mainshock at least as large, never as the foreshock of a later
    one, and a period counts for a window only once its first aftershock has happened by
    the window's label horizon end; so each window's label and drop depend on the catalog
    up to its label horizon end alone, and a catalog that goes on past a date labels the
    windows before it as one that ends there.
Atomic output
    Every input is read and checked before anything is written. Each ``window-{N}``
    folder and ``dataset.json`` are assembled in a hidden staging folder inside
    ``out_dir`` and renamed into place once complete; the report files are written
    atomically last.

May import: errors, io, lock, layout, sources (records, catalog, declustering, indices), the
rest of dataset (stations, channels, loading, recipe) and NumPy.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Iterable, Sequence

from seismag import defaults
from seismag.sources.catalog import Catalog, read_catalog
from seismag.sources.decluster import gardner_knopoff
from seismag.sources.station_record import StationRecord
from seismag.sources.indices.activity import daily_activity
from seismag.sources.indices.dst import read_dst
from seismag.sources.indices.kp import read_kp
from seismag.sources.indices.ssc import read_ssc
from seismag.sources.indices.storm import parse_storm_rule
from seismag.dataset.stations import MINUTES_PER_DAY, find_station_files, read_station, station_minutes
from seismag.errors import ConfigError
from seismag.layout.seed import ACTIVITY_COLUMNS

from seismag.dataset.build.label import DROP_AFTERSHOCK, DROP_HORIZON, DROP_MISSING, DROP_STORM, LabelContext, WindowPlan, label_station
from seismag.dataset.build.plan import (
    candidate_windows,
    check_recipe,
    check_settings,
    label_record,
    plan_station,
)
from seismag.dataset.build.report import BuildReport, WindowSummary, dataset_info, format_build_report, summarise_build
from seismag.dataset.build.write import META_COLUMNS, check_out_dir, write_build

__all__ = [
    "DROP_AFTERSHOCK",
    "DROP_HORIZON",
    "DROP_MISSING",
    "DROP_STORM",
    "META_COLUMNS",
    "WINDOW_SETTINGS",
    "BuildReport",
    "WindowPlan",
    "WindowSummary",
    "build_dataset",
    "find_station_files",
    "format_build_report",
    "plan_windows",
]

#: The settings of :func:`build_dataset` that decide which windows exist and their labels:
#: what :func:`plan_windows` takes.
WINDOW_SETTINGS = ("component", "components", "min_magnitude", "radius_km", "radius", "lead_days", "stride_days",
                   "max_missing", "max_depth_km")


def plan_windows(record: StationRecord, catalog: Catalog, window_days: int, **settings) -> WindowPlan:
    """Label every candidate window of ``window_days`` days of one station (nothing written).

    ``settings``: any of :data:`WINDOW_SETTINGS`, as :func:`build_dataset` takes them and
    with its defaults (read from its signature, so the two cannot drift apart); the
    record's 1-minute values are kept (``steps_per_day`` 1440). Use it to inspect what a
    build would keep, e.g. for a record that yields one class only.

    Raises
    ------
    TypeError
        A keyword that is not one of :data:`WINDOW_SETTINGS`.
    ConfigError
        A setting out of range, as :func:`build_dataset`.
    """
    unknown = sorted(set(settings) - set(WINDOW_SETTINGS))
    if unknown:
        raise TypeError(f"plan_windows() takes the settings {', '.join(WINDOW_SETTINGS)}; "
                        f"not {', '.join(unknown)}")
    defaults = inspect.signature(build_dataset).parameters
    settings = check_settings(windows=(window_days,), steps_per_day=MINUTES_PER_DAY,
                              **{name: settings.get(name, defaults[name].default) for name in WINDOW_SETTINGS})
    (window_days,) = settings["windows"]
    station = station_minutes(record, settings["channels"])
    candidates = {window_days: candidate_windows(station, window_days, settings)}
    return label_station(station, candidates, catalog, settings)[window_days]


def build_dataset(
    observatory: str | os.PathLike | Iterable[str | os.PathLike],
    catalog: Catalog | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    windows: Sequence[int] = defaults.WINDOWS,
    component: str | None = None,
    components: str | Sequence[str] | None = None,
    min_magnitude: float = defaults.MIN_MAGNITUDE,
    radius_km: float | None = None,
    radius: str = defaults.RADIUS,
    lead_days: int = defaults.LEAD_DAYS,
    max_depth_km: float | None = None,
    stride_days: int = defaults.STRIDE_DAYS,
    max_missing: float = defaults.MAX_MISSING,
    steps_per_day: int = MINUTES_PER_DAY,
    recipe: Sequence[Mapping] = (),
    kp: str | os.PathLike | None = None,
    dst: str | os.PathLike | None = None,
    ssc: str | os.PathLike | None = None,
    exclude_storms: str | None = None,
    decluster: bool = False,
    overwrite: bool = False,
) -> BuildReport:
    """Build labelled training windows from IAGA-2002 records and an earthquake catalog.

    Parameters
    ----------
    observatory
        IAGA-2002 files and/or folders (searched recursively); files are grouped into
        stations by their IAGA code, so a station may span many daily or monthly files.
    catalog
        A :class:`~seismag.sources.catalog.Catalog` or the path of a catalog CSV (read with
        :func:`~seismag.sources.catalog.read_catalog`, whose default time span is the first to
        last row of the file).
    out_dir
        Output folder (created if needed).
    windows
        Window lengths, whole days.
    component
        One IAGA component letter: H, D, Z, F, X, Y, E, ... (H is derived from X and Y
        when a file has no H). nT, or arc-minutes for D. The one-channel spelling of
        ``components``; give at most one of the two (neither: H).
    components
        Several channels, in column order within a day: ``"H,D,Z"`` or ``["H", "D", "Z"]``.
        Component letters as above, ``F`` (the files' F, else ``sqrt(H^2 + Z^2)`` sample
        by sample) and ``Z/H`` (the sample ratio, dimensionless).
    min_magnitude
        Smallest magnitude that makes a window class 1.
    radius_km, radius
        Station-epicentre distance within which an event counts. ``radius_km`` given: that
        fixed radius (``radius`` must then be ``'dobrovolsky'``, the default, or
        ``'fixed'``). Otherwise ``radius='dobrovolsky'``: ``10 ** (0.43 * M)`` km per event.
    lead_days
        Label horizon, whole days after the window's last day (default
        :data:`seismag.defaults.LEAD_DAYS` = 7).
    max_depth_km
        Only events at most this deep (km) label windows; an event of unknown depth then
        does not. None (the default): no depth cut, every event counts by its epicentral
        distance, deep ones (> 600 km) included.
    stride_days
        Days between the ends of consecutive windows.
    max_missing
        Largest share of missing minutes a kept window may have (0 <= max_missing < 1);
        the missing minutes of kept windows are interpolated.
    steps_per_day
        Samples per day and channel in the output; must divide 1440 (1440 keeps 1-minute
        values; fewer steps average consecutive minutes, e.g. 24 gives hourly means).
    recipe
        Preprocessing steps (a :class:`~seismag.dataset.recipe.Recipe` or its dicts) to record
        in ``dataset.json``; the windows stay raw, and training, predict and evaluate
        apply the recipe wherever windows become model input.
    kp, dst, ssc
        Geomagnetic indices (GFZ Kp, WDC Kyoto Dst, the sudden-commencement lists; see
        :mod:`seismag.sources.indices`): each window gets ``max_kp``, ``min_dst`` and
        ``n_ssc`` columns in ``meta.csv`` (empty where an index does not cover every day
        of the window), listed in ``dataset.json`` as its activity columns.
    exclude_storms
        A storm rule, e.g. ``"kp>=5,dst<=-50"`` (a day is disturbed when any clause
        holds): windows holding a disturbed day are dropped and counted in the report
        (``disturbed_day``). Needs the indices the rule names.
    decluster
        Causal Gardner-Knopoff declustering of the catalog
        (``gardner_knopoff(catalog, causal=True)``, :mod:`seismag.sources.decluster`): only
        mainshocks label windows (an event is an aftershock only of an earlier mainshock
        at least as large; foreshocks, which need the future, stay mainshocks), and
        windows whose data reach into an aftershock period near the station are dropped
        once its first aftershock has happened by their label horizon end
        (``aftershock_period``; :mod:`.label`). Declustered before the depth cut.
    overwrite
        Replace ``window-{N}`` folders, ``dataset.json`` and report files a previous build
        left in ``out_dir``; without it, their presence is an error (nothing is written).

    Returns
    -------
    BuildReport
        Also written to ``out_dir/build_report.json`` and ``build_report.txt``;
        ``out_dir/dataset.json`` records the channels and the label settings
        (:class:`seismag.layout.dataset_info.DatasetInfo`).

    Notes
    -----
    Memory: each station keeps only its channels, one float32 per minute of its whole
    days (about 2 MB per channel and station-year; while one station is read, its
    record holds about twice 4 MB per component-year). The class files are written one
    window row at a time, streamed to disk, so a build never holds a whole
    ``data_*.npy`` in memory, nor in its resident pages.

    Raises
    ------
    ConfigError
        A setting out of range.
    DataError
        An unreadable or malformed input file (named, with the line), a component the
        station neither reports nor can derive, or an ``out_dir`` that already holds a
        build.
    """
    settings = check_settings(
        windows=windows, component=component, components=components, min_magnitude=min_magnitude,
        radius_km=radius_km, radius=radius, lead_days=lead_days, stride_days=stride_days,
        max_missing=max_missing, steps_per_day=steps_per_day, max_depth_km=max_depth_km,
    )
    recipe = check_recipe(recipe, settings)
    rule = parse_storm_rule(exclude_storms) if exclude_storms is not None else None
    given = {"kp": kp, "dst": dst, "ssc": ssc}
    if rule is not None:
        absent = sorted(key for key in rule.keys if given[key] is None)
        if absent:
            raise ConfigError(f"exclude_storms '{exclude_storms}' names {', '.join(absent)}, but no "
                              f"{' or '.join('--' + key for key in absent)} file was given")
    # Recorded only when used, so a plain build's report stays as before.
    settings.update({key: str(path) for key, path in given.items() if path is not None})
    if rule is not None:
        settings["exclude_storms"] = str(rule)
    if decluster:
        settings["decluster"] = True
    if recipe:
        from seismag.dataset.recipe import Recipe

        settings["recipe"] = Recipe.from_dicts(recipe, "the build's recipe").describe()
    out_dir = Path(out_dir)
    check_out_dir(out_dir, settings["windows"], overwrite, settings["channels"], settings["steps_per_day"])

    # Read and check every input before anything is written.
    groups, ignored = find_station_files(observatory)
    if not isinstance(catalog, Catalog):
        catalog = read_catalog(catalog)
    activity = None
    if any(path is not None for path in given.values()):
        activity = daily_activity(kp=read_kp(kp) if kp is not None else None,
                                  dst=read_dst(dst) if dst is not None else None,
                                  ssc=read_ssc(ssc) if ssc is not None else None)
    context = LabelContext(activity=activity, rule=rule)
    if decluster:
        declustered = gardner_knopoff(catalog, causal=True)
        context = LabelContext(mainshock=declustered.mainshock, periods=declustered.aftershock_periods(),
                               activity=activity, rule=rule)
    if activity is not None:
        settings["activity_columns"] = activity_meta_columns(given, rule)
    stations = [read_station(files, settings["channels"]) for files in groups.values()]

    candidates = {station.code: plan_station(station, settings) for station in stations}
    plans = {station.code: label_station(station, candidates[station.code], catalog, settings, context)
             for station in stations}
    report = summarise_build(out_dir, settings, catalog, stations, plans, ignored)
    info = dataset_info(report, stations, settings, recipe, label_record(settings))
    write_build(out_dir, report, stations, plans, catalog, settings, info)
    return report


def activity_meta_columns(given: Mapping, rule) -> list[str]:
    """The activity columns ``meta.csv`` gets: the statistic of each index given (``max_kp``
    for Kp, ``min_dst`` for Dst, ``n_ssc`` for the SSC lists), and the day counts of a storm rule."""
    of_index = dict(zip(("kp", "dst", "ssc"), ACTIVITY_COLUMNS))
    columns = [of_index[key] for key in ("kp", "dst", "ssc") if given.get(key) is not None]
    return columns + (["disturbed_days", "undecided_days"] if rule is not None else [])

