"""``seismag skill``: every model of a scores.csv and the references, judged on one catalog.

The story of a run (:func:`evaluate_skill`): read the scores, the catalog and the indices;
take the rows every model has (all forecasts are judged on the same station-days); refuse
in-sample scores unless allowed; find the target events; score each model and reference
(trajectory, ASS, gain, alpha, surrogate p); put the verdicts in words; write
``DIR/skill.json`` and ``DIR/skill.csv``.

**skill.json** (``format`` ``seismag-skill``, ``version`` 1): ``settings`` (the inputs and
options), ``scored_period`` (``start``, ``end`` exclusive), ``in_sample``, ``stations``
(code -> latitude, longitude, n_station_days), ``events`` (id, time, magnitude,
latitude, longitude, depth_km, the stations that can catch it), ``contour_95`` (tau, nu),
``models`` (name -> kind, in_sample, training_period, window_days, n_events,
n_station_days, ass, ass_null_mean, ass_null_sd, ass_p_value, ass_surrogate_sd,
probability_gain at 0.05 / 0.1 / 0.2, molchan points {threshold, tau, nu, alpha}, for a
model ``versus`` each activity reference {ass_difference, sd, outcome}, verdict) and
``notes``. ``training_period`` is null: scores.csv carries only each row's ``in_sample``.
**skill.csv**: one row per model and reference, :data:`SKILL_CSV_COLUMNS`.

**Against random alarms.** The verdict uses the surrogate p-value; with ``surrogates`` 0,
the Normal approximation of the random-alarm null at the event level
(:func:`seismag.skill.molchan.random_alarm_null`: mean 0.5 and sd ``sqrt(1/(12 N))`` only
when each event is within reach of one station). ``reference:random`` is the expected
trajectory of independent random alarms, ``nu = mean_e (1 - tau)^k_e`` for events within
reach of ``k_e`` stations: the diagonal when every ``k_e`` is 1, above 0.5 otherwise.

**Comparing a model with an activity reference.** Both are scored on the same events,
and ASS is a mean over events: ``ASS = 1 - mean_e(f_e)`` with ``f_e`` the alarm fraction
at which event ``e`` is caught (:func:`seismag.skill.molchan.event_alarm_fractions`). The
difference ``D = ASS_model - ASS_reference = mean_e(f_e^ref - f_e^model)`` is a paired mean,
and its standard error ``sd = std_e(f_e^ref - f_e^model) / sqrt(N)`` says how much of it the
particular events could produce. The model **beats** the reference when ``D > 2 sd``, is
**worse** when ``D < -2 sd``, and is **indistinguishable** from it otherwise (and always
when N = 1). Pairing matters: a model that is the Kp index plus noise has nearly the same
``f_e`` as the Kp reference on every event, so a small ``D`` is already telling, while two
unrelated forecasts need a larger one. The surrogate spread would not serve here: it
measures a forecast against random timing, not two forecasts against each other.

May import numpy, :mod:`seismag.errors`, :mod:`seismag.io`, :mod:`seismag.lock` and
:mod:`seismag.data` (catalog, indices, decluster).
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seismag.data.catalog import Catalog, read_catalog
from seismag.data.indices import DstSeries, KpSeries, read_dst, read_kp
from seismag.errors import ConfigError, DataError
from seismag.io import write_json, write_text
from seismag.lock import folder_lock

from .alarms import StationDays
from .events import TargetEvents, event_levels, select_target_events
from .molchan import (GAIN_TAUS, area_skill_score, event_alarm_fractions, hit_significance, molchan_trajectory,
                      normal_p_value, probability_gain, random_alarm_null, random_alarm_nu, significance_contour)
from .references import ACTIVITY, RANDOM, dst_scores, kp_scores, reference_name, window_days_of
from .scores import Scores, read_scores
from .surrogates import draw_shifts, surrogate_ass, surrogate_p_value

__all__ = ["SKILL_CSV", "SKILL_CSV_COLUMNS", "SKILL_JSON", "evaluate_skill", "format_skill_report"]

# skill.json / skill.csv: the names and the format are layout's, shared with their readers.
from seismag.layout import SKILL_CSV, SKILL_CSV_COLUMNS, SKILL_FORMAT, SKILL_JSON, SKILL_VERSION  # noqa: E402
#: Significance level of the verdicts (surrogate p, binomial contour).
LEVEL = 0.05
IN_SAMPLE = "in-sample: "
STORMS = "alarms raised by geomagnetic storms"


@dataclass(frozen=True)
class _Forecast:
    """One thing to judge: a model of the file or a reference, its score per evaluated row."""

    name: str
    kind: str  # "model" | "reference"
    score: np.ndarray | None  # None: the analytic random reference
    in_sample: bool
    window_days: int | None
    index: str | None = None  # "kp" / "dst" for an activity reference


def evaluate_skill(
    scores: str | os.PathLike | Scores,
    catalog: str | os.PathLike | Catalog,
    out_dir: str | os.PathLike | None = None,
    *,
    min_magnitude: float = 5.5,
    radius: str | None = None,
    radius_km: float | None = None,
    lead_days: int = 7,
    max_depth_km: float | None = None,
    decluster: bool = False,
    kp: str | os.PathLike | KpSeries | None = None,
    dst: str | os.PathLike | DstSeries | None = None,
    surrogates: int = 1000,
    seed: int = 42,
    allow_in_sample: bool = False,
) -> dict[str, Any]:
    """Judge every model of ``scores`` against ``catalog``, with the references; write the results.

    Parameters
    ----------
    scores
        A scores.csv (or one read with :func:`~seismag.skill.scores.read_scores`).
    catalog
        An earthquake catalog CSV (:func:`~seismag.data.catalog.read_catalog`) or a Catalog.
    out_dir
        Folder for ``skill.json`` and ``skill.csv`` (one writer at a time); None writes nothing.
    min_magnitude, max_depth_km, decluster
        Which events are targets (:mod:`seismag.skill.events`).
    radius, radius_km
        ``radius_km`` given: a fixed radius (``radius`` None or ``'fixed'``); else the
        Dobrovolsky radius (``radius`` None or ``'dobrovolsky'``).
    lead_days
        A row's forecast horizon ``[window_end, window_end + lead_days)``, days.
    kp, dst
        Index files (or series) for the activity references; None leaves a reference out.
    surrogates, seed
        Circular-shift surrogates of each forecast (0: none; the verdict then uses the
        Normal approximation) and the seed that draws the shifts.
    allow_in_sample
        Evaluate scores marked in-sample (marked so in every verdict) instead of refusing.

    Returns
    -------
    dict
        The content of skill.json.

    Raises
    ------
    ConfigError
        A setting out of range.
    DataError
        A bad scores, catalog or index file; in-sample scores without ``allow_in_sample``;
        models that share no row; no target event.
    """
    radius = _check_settings(min_magnitude, radius, radius_km, lead_days, max_depth_km, surrogates, seed)
    table = scores if isinstance(scores, Scores) else read_scores(scores)
    quakes = catalog if isinstance(catalog, Catalog) else read_catalog(catalog, min_magnitude=min_magnitude)
    kp_series = kp if kp is None or isinstance(kp, KpSeries) else read_kp(kp)
    dst_series = dst if dst is None or isinstance(dst, DstSeries) else read_dst(dst)
    notes: list[str] = []

    station, window_end, aligned = _common_rows(table, notes)
    in_sample = {name: _in_sample(table, name, rows, allow_in_sample) for name, rows in aligned.items()}
    days = StationDays.from_rows(len(table.stations), station, window_end, lead_days)
    events, event_notes = select_target_events(
        quakes, table.latitude, table.longitude, days, min_magnitude=min_magnitude, radius=radius,
        radius_km=radius_km, max_depth_km=max_depth_km, decluster=decluster)
    notes += event_notes + _span_notes(quakes, days)
    start, end = days.period
    if len(events) == 0:
        raise DataError(quakes.path or "the catalog",
                        f"no target event: no earthquake of M >= {min_magnitude:g} within the "
                        f"{_radius_words(radius, radius_km)} of a station on one of its scored days "
                        f"({start} to {end}, end exclusive); "
                        "nothing to judge the forecasts on")

    forecasts = [_Forecast(name, "model", table.models[name].score[rows], in_sample[name],
                           window_days_of(name)) for name, rows in aligned.items()]
    forecasts += _references(forecasts, window_end, kp_series, dst_series, notes)
    shifts = draw_shifts(surrogates, days, seed)
    if 0 < len(shifts) < surrogates:
        notes.append(f"{len(shifts)} surrogates, every distinct circular shift of at least the lead time "
                     f"({surrogates} asked for): the smallest possible p-value is 1/{len(shifts) + 1}")
    judged = {f.name: _judge(f, days, events, shifts) for f in forecasts}
    run_in_sample = any(in_sample.values())
    for forecast in forecasts:
        record = judged[forecast.name]
        record["verdict"] = (IN_SAMPLE if run_in_sample else "") + _verdict(forecast, record, judged, forecasts)
    result = {
        "format": SKILL_FORMAT,
        "version": SKILL_VERSION,
        "settings": {
            "scores": table.path, "catalog": quakes.path, "min_magnitude": float(min_magnitude), "radius": radius,
            "radius_km": None if radius_km is None else float(radius_km), "lead_days": int(lead_days),
            "max_depth_km": None if max_depth_km is None else float(max_depth_km), "decluster": bool(decluster),
            "surrogates": int(surrogates), "surrogates_used": int(len(shifts)), "seed": int(seed),
            "kp": None if kp_series is None else kp_series.path, "dst": None if dst_series is None else dst_series.path,
        },
        "scored_period": {"start": str(start), "end": str(end)},
        "in_sample": run_in_sample,
        "stations": _stations(table, days),
        "events": _events(events, table.stations),
        "contour_95": [{"tau": float(t), "nu": float(v)} for t, v in zip(*significance_contour(events.reach.sum(axis=1),
                                                                                               LEVEL))],
        "models": {name: {k: v for k, v in record.items() if not k.startswith("_")} for name, record in judged.items()},
        "notes": notes,
    }
    if out_dir is not None:
        out = Path(out_dir)
        with folder_lock(out, command="skill"):
            write_json(out / SKILL_JSON, result)
            write_text(out / SKILL_CSV, skill_csv_text(result))
    return result


# --------------------------------------------------------------------------- the steps
def _check_settings(min_magnitude, radius, radius_km, lead_days, max_depth_km, surrogates, seed) -> str:
    """The radius kind; every setting checked (ConfigError in one line)."""
    if not isinstance(lead_days, (int, np.integer)) or isinstance(lead_days, bool) or lead_days < 1:
        raise ConfigError(f"lead_days must be a whole number of days, at least 1; got {lead_days!r}")
    if not isinstance(surrogates, (int, np.integer)) or isinstance(surrogates, bool) or surrogates < 0:
        raise ConfigError(f"surrogates must be a whole number, 0 or more; got {surrogates!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ConfigError(f"seed must be a whole number; got {seed!r}")
    if not math.isfinite(min_magnitude):
        raise ConfigError(f"min_magnitude must be a finite number; got {min_magnitude!r}")
    if max_depth_km is not None and not max_depth_km >= 0:
        raise ConfigError(f"max_depth_km must be 0 or more; got {max_depth_km!r}")
    if radius_km is not None:
        if radius not in (None, "fixed"):
            raise ConfigError(f"radius {radius!r} and radius_km {radius_km:g} contradict each other; give one")
        if not (math.isfinite(radius_km) and radius_km > 0):
            raise ConfigError(f"radius_km must be a positive number of km; got {radius_km!r}")
        return "fixed"
    if radius not in (None, "dobrovolsky"):
        raise ConfigError(f"radius must be 'dobrovolsky' (or give radius_km for a fixed one); got {radius!r}")
    return "dobrovolsky"


def _common_rows(table: Scores, notes: list[str]) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """The (station, window_end) rows every model has, and each model's row indices for them.

    All forecasts are judged on the same station-days and events, or their numbers could
    not be compared: a 30-day model has no score for the first 23 days a 7-day model scores.
    """
    keys = {name: _row_keys(rows.station, rows.window_end) for name, rows in table.models.items()}
    common = None
    for key in keys.values():
        common = key if common is None else np.intersect1d(common, key)
    if common.size == 0:
        raise DataError(table.path, f"the models ({', '.join(table.models)}) share no (station, window_end) row; "
                                    "skill judges all models on the same station-days")
    aligned = {}
    for name, key in keys.items():
        aligned[name] = np.searchsorted(key, common)  # keys are sorted: rows are by station, then day
        left_out = key.size - common.size
        if left_out:
            notes.append(f"{name}: {left_out} row(s) that not every model has are left out "
                         "(all forecasts are judged on the same station-days)")
    first = table.models[next(iter(keys))]
    rows = aligned[next(iter(keys))]
    return first.station[rows], first.window_end[rows], aligned


def _row_keys(station: np.ndarray, window_end: np.ndarray) -> np.ndarray:
    day = window_end.astype("datetime64[D]").astype(np.int64)
    return (station.astype(np.int64) << 32) + (day + (1 << 31))


def _in_sample(table: Scores, name: str, rows: np.ndarray, allow: bool) -> bool:
    """Whether the model's evaluated rows include in-sample ones; refused unless ``allow``."""
    model = table.models[name]
    marked = model.in_sample[rows]
    if marked.any() and not allow:
        first = int(np.argmin(np.where(marked, model.window_end[rows], np.datetime64("9999-12-31"))))
        raise DataError(table.path, f"model {name} is scored in-sample from window_end {model.window_end[rows][first]} "
                                    f"(line {model.line[rows][first]}): those days overlap its training period; "
                                    "score records after it, or pass --allow-in-sample to judge them marked in-sample")
    return bool(marked.any())


def _span_notes(catalog: Catalog, days: StationDays) -> list[str]:
    start, end = days.period
    first, last = catalog.start.astype("datetime64[D]"), catalog.end.astype("datetime64[D]") + np.timedelta64(1, "D")
    if start < first or end > last:
        return [f"the scored days ({start} to {end}) reach beyond the catalog's span ({first} to {last}): days "
                "outside it count as days without target events"]
    return []


def _radius_words(radius: str, radius_km: float | None) -> str:
    return f"{radius_km:g} km radius" if radius == "fixed" else "Dobrovolsky radius 10^(0.43 M) km"


def _references(models: list[_Forecast], window_end: np.ndarray, kp: KpSeries | None, dst: DstSeries | None,
                notes: list[str]) -> list[_Forecast]:
    """The random reference, and the activity references for every window length of the models."""
    out = [_Forecast(RANDOM, "reference", None, False, None)]
    windows = sorted({m.window_days or 1 for m in models})
    if any(m.window_days is None for m in models) and (kp is not None or dst is not None):
        notes.append("a model name without a window length (..._{N}day): its activity references look at the "
                     "one day before each window end")
    for index, series, scorer in (("kp", kp, kp_scores), ("dst", dst, dst_scores)):
        if series is None:
            continue
        for window in windows:
            score = scorer(series, window_end, window)
            name = reference_name(index, window, len(windows) > 1)
            empty = int(np.isnan(score).sum())
            if empty:
                notes.append(f"{name}: {empty} of {score.size} rows have no {index.capitalize()} value in their "
                             f"window ({series.path or 'the series'} does not cover them): no alarm there")
            out.append(_Forecast(name, "reference", score, False, window, index))
    return out


def _judge(forecast: _Forecast, days: StationDays, events: TargetEvents, shifts: np.ndarray) -> dict[str, Any]:
    """One forecast's numbers (the skill.json record; keys with ``_`` are for the verdicts only)."""
    n, reach = len(events), events.reach.sum(axis=1)
    null_mean, null_sd = random_alarm_null(reach)
    if forecast.score is None:  # independent random alarms: their expected trajectory, exactly
        tau = np.array([0.0, 1.0]) if np.all(reach == 1) else np.unique(
            np.concatenate([np.linspace(0.0, 1.0, 201), np.logspace(-4, 0, 41)]))
        nu, threshold, alpha = random_alarm_nu(tau, reach), [None] * tau.size, [None] * tau.size
        ass, fractions, surrogate, p = null_mean, 1.0 / (reach + 1.0), np.zeros(0), None
        gains = {f"{t:g}": float((1.0 - random_alarm_nu(t, reach)) / t) for t in GAIN_TAUS}
    else:
        levels = days.levels(forecast.score)
        flat, at_events = levels[days.scored], event_levels(levels, events)
        trajectory = molchan_trajectory(flat, at_events)
        tau, nu = trajectory.tau, trajectory.nu
        threshold = [None if math.isnan(t) else float(t) for t in trajectory.threshold]
        alpha = [float(a) for a in hit_significance(trajectory.hits, tau, reach)]
        ass = area_skill_score(tau, nu)
        fractions = event_alarm_fractions(flat, at_events)
        surrogate = surrogate_ass(forecast.score, days, events, shifts)
        p = surrogate_p_value(ass, surrogate)
        gains = {f"{t:g}": probability_gain(tau, nu, t) for t in GAIN_TAUS}
    return {
        "kind": forecast.kind,
        "in_sample": forecast.in_sample,
        "training_period": None,
        "window_days": forecast.window_days,
        "n_events": n,
        "n_station_days": days.n_station_days,
        "ass": float(ass),
        "ass_null_mean": null_mean,
        "ass_null_sd": null_sd,
        "ass_p_value": p,
        "ass_surrogate_sd": float(np.std(surrogate, ddof=1)) if surrogate.size > 1 else None,
        "probability_gain": gains,
        "molchan": [{"threshold": th, "tau": float(t), "nu": float(v), "alpha": a}
                    for th, t, v, a in zip(threshold, tau, nu, alpha)],
        "_fractions": fractions,
        "_surrogate": surrogate,
        "_reach": reach,
    }


# --------------------------------------------------------------------------- verdicts
def _verdict(forecast: _Forecast, record: dict, judged: dict, forecasts: list[_Forecast]) -> str:
    if forecast.score is None:
        reach = record["_reach"]
        if np.all(reach == 1):
            return "random alarms: the diagonal nu = 1 - tau, ASS 0.5 by construction"
        return (f"random alarms: ASS {record['ass']:.2f} without any skill, because an event within reach of k "
                f"stations is caught with probability 1 - (1 - tau)^k (here {reach.mean():.1f} stations an event "
                "on average); a model must beat this, not 0.5")
    against_random = _against_random(record)
    if forecast.kind == "reference":
        return (f"{STORMS} alone ({ACTIVITY[forecast.index]} over each {forecast.window_days}-day window): "
                f"{against_random}")
    parts = [against_random]
    for reference in forecasts:
        if reference.index is None or reference.window_days != (forecast.window_days or 1):
            continue
        comparison = _compare(record, judged[reference.name])
        record.setdefault("versus", {})[reference.name] = comparison
        parts.append(_comparison_words(reference.name, record["ass"], judged[reference.name]["ass"], comparison))
    return "; ".join(parts)


def _against_random(record: dict) -> str:
    ass, surrogate = record["ass"], record["_surrogate"]
    if surrogate.size:
        p_better = record["ass_p_value"]
        p_worse = (1 + np.count_nonzero(surrogate <= ass + 1e-12)) / (1 + surrogate.size)
        label = "surrogate p"
    else:
        p_better = normal_p_value(ass, record["ass_null_mean"], record["ass_null_sd"])
        p_worse, label = 1.0 - p_better, "Normal-approximation p"
    if p_better <= LEVEL:
        return f"ASS {ass:.2f} ({label} = {p_better:.2g}): better than random alarms"
    if p_worse <= LEVEL:
        return f"ASS {ass:.2f} ({label} = {p_better:.2g}): worse than random alarms"
    return f"ASS {ass:.2f} ({label} = {p_better:.2g}): indistinguishable from random alarms"


def _compare(model: dict, reference: dict) -> dict[str, Any]:
    """The paired comparison of the module docstring: difference, its standard error, the outcome."""
    paired = reference["_fractions"] - model["_fractions"]
    difference = model["ass"] - reference["ass"]
    sd = float(np.std(paired, ddof=1) / math.sqrt(paired.size)) if paired.size > 1 else None
    if sd is not None and difference > 2 * sd:
        outcome = "beats"
    elif sd is not None and difference < -2 * sd:
        outcome = "worse"
    else:
        outcome = "indistinguishable"
    return {"ass_difference": float(difference), "sd": sd, "outcome": outcome}


def _comparison_words(name: str, model_ass: float, reference_ass: float, comparison: dict) -> str:
    difference, sd, outcome = comparison["ass_difference"], comparison["sd"], comparison["outcome"]
    if outcome == "beats":
        return (f"beats {STORMS} alone ({name} ASS {reference_ass:.2f} < {model_ass:.2f}, "
                f"difference {difference:+.2f} > 2 sd = {2 * sd:.2f})")
    relation = ">=" if reference_ass >= model_ass else "<"
    head = (f"does not beat {STORMS} alone ({name} ASS {reference_ass:.2f} {relation} {model_ass:.2f}, "
            f"difference {difference:+.2f}")
    if outcome == "worse":
        return f"{head} below -2 sd = {-2 * sd:.2f}): worse than {STORMS}"
    spread = f"within 2 sd = {2 * sd:.2f}" if sd is not None else "one event: no spread to judge it by"
    return f"{head} {spread}): indistinguishable from {STORMS}"


# --------------------------------------------------------------------------- output
def _stations(table: Scores, days: StationDays) -> dict[str, dict[str, Any]]:
    per_station = days.scored.sum(axis=1)
    return {code: {"latitude": float(table.latitude[i]), "longitude": float(table.longitude[i]),
                   "n_station_days": int(per_station[i])}
            for i, code in enumerate(table.stations) if per_station[i]}


def _events(events: TargetEvents, codes: tuple) -> list[dict[str, Any]]:
    return [{"id": str(events.event_id[i]), "time": str(np.datetime64(events.time[i], "s")),
             "magnitude": float(events.magnitude[i]), "latitude": float(events.latitude[i]),
             "longitude": float(events.longitude[i]),
             "depth_km": None if math.isnan(events.depth_km[i]) else float(events.depth_km[i]),
             "stations": [codes[s] for s in np.flatnonzero(events.reach[i])]}
            for i in range(len(events))]


def skill_csv_text(result: dict[str, Any]) -> str:
    """skill.csv: one row per model and reference, the columns of :data:`SKILL_CSV_COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SKILL_CSV_COLUMNS)
    for name, record in result["models"].items():
        gains = record["probability_gain"]
        writer.writerow([name, record["kind"], record["n_events"], record["n_station_days"], _cell(record["ass"]),
                         _cell(record["ass_null_sd"]), _cell(record["ass_p_value"]),
                         *(_cell(gains[f"{t:g}"]) for t in GAIN_TAUS),
                         "true" if record["in_sample"] else "false", record["verdict"]])
    return buffer.getvalue()


def _cell(value) -> str:
    return "" if value is None else f"{value:.6g}"


def format_skill_report(result: dict[str, Any]) -> str:
    """The run in a few lines for the terminal: the setting, one line per forecast, the notes."""
    s, period = result["settings"], result["scored_period"]
    first = next(iter(result["models"].values()))
    radius = f"{s['radius_km']:g} km" if s["radius"] == "fixed" else "Dobrovolsky radius"
    lines = [f"{first['n_events']} target events (M >= {s['min_magnitude']:g}, {radius}"
             f"{', declustered' if s['decluster'] else ''}) on {first['n_station_days']} station-days of "
             f"{len(result['stations'])} station(s), {period['start']} to {period['end']} (end exclusive), "
             f"lead {s['lead_days']} days" + (" -- IN-SAMPLE" if result["in_sample"] else "")]
    width = max(len(name) for name in result["models"])
    lines.append(f"  {'forecast':<{width}}  {'ASS':>5}  {'p':>6}  {'G(0.1)':>6}  verdict")
    for name, record in result["models"].items():
        p = record["ass_p_value"]
        gain = record["probability_gain"]["0.1"]
        lines.append(f"  {name:<{width}}  {record['ass']:5.2f}  {'-' if p is None else f'{p:.2g}':>6}  "
                     f"{'-' if gain is None else f'{gain:.2f}':>6}  {record['verdict']}")
    lines += [f"note: {note}" for note in result["notes"]]
    return "\n".join(lines)
