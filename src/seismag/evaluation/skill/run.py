"""``seismag skill``: every model of a scores.csv and the references, judged on one catalog.

The story of a run (:func:`evaluate_skill`): read the scores, the catalog and the indices;
take the rows every model has (all forecasts are judged on the same station-days); refuse
in-sample scores unless allowed; leave out the days the catalog does not cover; find the
target events; score each model and reference on timing (trajectory, ASS, gain, pointwise
alpha, circular-shift surrogates); adjust the models' p-values for their number; compare
each model with the references of its window on the same shifts; put the verdicts in
words; write ``DIR/skill.json`` and ``DIR/skill.csv``.

**One null for every forecast.** Alarms are judged on their timing at each station
(:meth:`~seismag.evaluation.skill.alarms.StationDays.timing_levels`: each station-day's level is its
rank within its station) and events as (event, station) pairs (:mod:`seismag.evaluation.skill.events`).
Every forecast without timing skill then has the expected ASS 0.5 and gain 1, whether its
alarms are drawn per station, shared by the network or constant per station; the
dependence between pairs and between days is left to the resamples below.

**Significance, only from resamples.** Against random timing: the circular-shift
surrogates (:mod:`seismag.evaluation.skill.surrogates`), raw ``p`` and, over all models of the run
(every window), the Westfall-Young adjusted ``p`` (:mod:`seismag.evaluation.skill.family`); the
verdict uses the adjusted one. Model against reference: the ASS difference
``D = ASS_model - ASS_reference`` against the differences of their surrogates under the
*same* shift (both forecasts lose their alignment with the catalog together, and the
events stay as clustered as they are), two-sided, raw and adjusted over every comparison of
the run; the verdict uses the adjusted one. With clustered events the old rule
(``D > 2 sd`` of the per-event differences, which assumes independent events) called two
zero-skill forecasts different in a third of the draws. A model is
compared with ``reference:rate`` and with the storm references of its window
(``reference:kp``, ``reference:dst`` and a trained ``activity_{N}day`` ensemble when the
scores hold one); it is **ahead of alarms raised by geomagnetic storms** only when it is
ahead of every one of them. With ``surrogates`` 0 there are numbers and no verdicts of
significance. The binomial alpha of each Molchan point (and the 95 % contour) treats the
pairs as independent and is pointwise: it describes a point, it tests nothing.

**skill.json** (``format`` ``seismag-skill``, ``version`` 2): ``settings``,
``scored_period`` (``start``, ``end`` exclusive), ``in_sample``, ``stations`` (code ->
latitude, longitude, n_station_days), ``events`` (id, time, magnitude, latitude, longitude,
depth_km, the stations that can catch it), ``n_pairs``, ``contour_95`` (tau, nu;
pointwise), ``family`` (the adjusted members and the method), ``models`` (name -> kind, in_sample, training_period, window_days, n_events,
n_pairs, n_station_days, ass, ass_p_value, ass_p_adjusted, significant,
ass_surrogate_mean, ass_surrogate_sd, probability_gain at 0.05 / 0.1 / 0.2, molchan points
{threshold (the within-station rank), tau, nu, alpha (pointwise)}, for a model ``versus``
each reference {ass_difference, p_value, p_adjusted, outcome: ahead / indistinguishable /
behind / null}, verdict) and ``notes``. **skill.csv**: one row per model and reference,
:data:`SKILL_CSV_COLUMNS`.

May import numpy, :mod:`seismag.errors`, :mod:`seismag.io`, :mod:`seismag.lock` and
:mod:`seismag.sources` (catalog, indices, decluster).
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

from seismag.sources.catalog import Catalog, read_catalog
from seismag.sources.indices.dst import DstSeries, read_dst
from seismag.sources.indices.kp import KpSeries, read_kp
from seismag.errors import ConfigError, DataError
from seismag.io import write_json, write_text
from seismag.layout.forecast import Scores, read_forecast_meta, read_scores, scores_meta_path
from seismag.lock import folder_lock

from seismag.evaluation.skill.alarms import StationDays
from seismag.evaluation.skill.events import TargetEvents, select_target_events, station_rates
from seismag.evaluation.skill.family import two_sided_p_values, upper_p_values, westfall_young
from seismag.evaluation.skill.molchan import (GAIN_TAUS, area_skill_score, binomial_tail, event_alarm_fractions, molchan_trajectory,
                      probability_gain, significance_contour)
from seismag.evaluation.skill.labels import recorded_labels, resolve_label_settings
from seismag.evaluation.skill.reliability import daily_reliability
from seismag.evaluation.skill.references import (ACTIVITY, ACTIVITY_MODEL, RANDOM, RATE, dst_scores, kp_scores, reference_name,
                         window_days_of)
from seismag.evaluation.skill.surrogates import draw_shifts, surrogate_ass, surrogate_p_value, timing_cells

__all__ = ["SKILL_CSV", "SKILL_CSV_COLUMNS", "SKILL_JSON", "evaluate_skill", "format_skill_report"]

# skill.json / skill.csv: the names and the format are layout's, shared with their readers.
from seismag.layout.forecast import (  # noqa: E402
    SKILL_CSV,
    SKILL_CSV_COLUMNS,
    SKILL_FORMAT,
    SKILL_JSON,
    SKILL_OUTCOMES,
    SKILL_VERSION,
)
AHEAD, INDISTINGUISHABLE, BEHIND = SKILL_OUTCOMES
#: Significance level of the verdicts (surrogate p, the pointwise contour).
LEVEL = 0.05
IN_SAMPLE = "in-sample: "
STORMS = "alarms raised by geomagnetic storms"
SURROGATES = "its circular-shift surrogates"
ADJUSTMENT = "Westfall-Young single-step max-T over shared resamples"


@dataclass(frozen=True)
class _Forecast:
    """One thing to judge: a model of the file or a reference, its score per evaluated row."""

    name: str
    kind: str  # "model" | "reference"
    score: np.ndarray | None  # None: the analytic random reference
    in_sample: bool
    window_days: int | None
    index: str | None = None  # "kp" / "dst" / "activity" (storm references), "rate"


def evaluate_skill(
    scores: str | os.PathLike | Scores,
    catalog: str | os.PathLike | Catalog,
    out_dir: str | os.PathLike | None = None,
    *,
    min_magnitude: float | None = None,
    radius: str | None = None,
    radius_km: float | None = None,
    lead_days: int | None = None,
    max_depth_km: float | None = None,
    decluster: bool | None = None,
    override_labels: bool = False,
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
        A scores.csv (or one read with :func:`~seismag.layout.forecast.read_scores`).
    catalog
        An earthquake catalog CSV (:func:`~seismag.sources.catalog.read_catalog`) or a Catalog.
    out_dir
        Folder for ``skill.json`` and ``skill.csv`` (one writer at a time); None writes nothing.
    min_magnitude, max_depth_km, decluster
        Which events are targets (:mod:`seismag.evaluation.skill.events`).
    radius, radius_km
        ``radius_km`` given: a fixed radius (``radius`` None or ``'fixed'``); else the
        Dobrovolsky radius (``radius`` None or ``'dobrovolsky'``).
    lead_days
        A row's forecast horizon ``[window_end, window_end + lead_days)``, days.
    override_labels
        The six target settings above default (None) to the label settings of the models'
        training windows, recorded beside a scores.csv in ``scores.meta.json``, else to
        build's defaults; a given one that contradicts the record is refused unless
        ``override_labels`` (:mod:`seismag.evaluation.skill.labels`).
    kp, dst
        Index files (or series) for the storm references; None leaves a reference out.
    surrogates, seed
        Circular-shift surrogates of each forecast, shared by the comparisons
        (0: none, and no significance statements) and the seed that draws them.
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
    table = scores if isinstance(scores, Scores) else read_scores(scores)
    meta = read_forecast_meta(table.path) if table.path else None
    labels, notes = resolve_label_settings(
        recorded_labels(meta),
        dict(min_magnitude=min_magnitude, radius=radius, radius_km=radius_km, lead_days=lead_days,
             max_depth_km=max_depth_km, decluster=decluster),
        override=override_labels, source=str(scores_meta_path(table.path)))
    min_magnitude, radius_km, lead_days = labels["min_magnitude"], labels["radius_km"], labels["lead_days"]
    max_depth_km, decluster = labels["max_depth_km"], labels["decluster"]
    radius = _check_settings(min_magnitude, labels["radius"], radius_km, lead_days, max_depth_km, surrogates, seed)
    periods = {} if meta is None else {name: entry["training_period"] for name, entry in meta["models"].items()}
    quakes = catalog if isinstance(catalog, Catalog) else read_catalog(catalog, min_magnitude=min_magnitude)
    kp_series = kp if kp is None or isinstance(kp, KpSeries) else read_kp(kp)
    dst_series = dst if dst is None or isinstance(dst, DstSeries) else read_dst(dst)
    targets = dict(min_magnitude=min_magnitude, radius=radius, radius_km=radius_km, max_depth_km=max_depth_km,
                   decluster=decluster)

    station, window_end, aligned = _common_rows(table, notes)
    in_sample = {name: _in_sample(table, name, rows, allow_in_sample) for name, rows in aligned.items()}
    days = _catalog_days(StationDays.from_rows(len(table.stations), station, window_end, lead_days), quakes, notes)
    events, event_notes = select_target_events(quakes, table.latitude, table.longitude, days, **targets)
    notes += event_notes
    start, end = days.period
    if len(events) == 0:
        raise DataError(quakes.path or "the catalog",
                        f"no target event: no earthquake of M >= {min_magnitude:g} within the "
                        f"{_radius_words(radius, radius_km)} of a station on one of its scored days "
                        f"({start} to {end}, end exclusive); "
                        "nothing to judge the forecasts on")

    forecasts = [_model_forecast(name, table.models[name].score[rows], in_sample[name])
                 for name, rows in aligned.items()]
    rate_start, rate_end = _rate_period(periods, quakes, days, notes)
    rate = station_rates(quakes, table.latitude, table.longitude, rate_start, rate_end, **targets)
    forecasts += _references(forecasts, station, window_end, rate, kp_series, dst_series, notes)
    shifts = draw_shifts(surrogates, days, seed)
    if 0 < len(shifts) < surrogates:
        notes.append(f"{len(shifts)} surrogates, every distinct circular shift of at least the lead time "
                     f"({surrogates} asked for): the smallest possible p-value is 1/{len(shifts) + 1}")
    if surrogates == 0:
        notes.append("--surrogates 0: numbers only; no statement of significance or of one forecast ahead of "
                     "another is made without resamples")
    judged = {f.name: _judge(f, days, events, shifts) for f in forecasts}
    for name, period in periods.items():
        if name in judged:
            judged[name]["training_period"] = period
    family = [f.name for f in forecasts if f.kind == "model"]
    for forecast in forecasts[:len(aligned)]:  # the file's forecasts: reliability of their daily probabilities
        judged[forecast.name]["reliability"] = daily_reliability(
            forecast.score, days, events, rate, (meta or {}).get("models", {}).get(forecast.name, {}).get("calibration"))
    _adjust_against_surrogates(judged, family)
    _compare_all(forecasts, judged)
    run_in_sample = any(in_sample.values())
    for forecast in forecasts:
        record = judged[forecast.name]
        record["verdict"] = (IN_SAMPLE if run_in_sample else "") + _verdict(forecast, record, judged)
    result = {
        "format": SKILL_FORMAT,
        "version": SKILL_VERSION,
        "settings": {
            "scores": table.path, "catalog": quakes.path, "min_magnitude": float(min_magnitude), "radius": radius,
            "radius_km": None if radius_km is None else float(radius_km), "lead_days": int(lead_days),
            "max_depth_km": None if max_depth_km is None else float(max_depth_km), "decluster": bool(decluster),
            "override_labels": bool(override_labels), "surrogates": int(surrogates),
            "surrogates_used": int(len(shifts)), "seed": int(seed),
            "kp": None if kp_series is None else kp_series.path, "dst": None if dst_series is None else dst_series.path,
        },
        "scored_period": {"start": str(start), "end": str(end)},
        "in_sample": run_in_sample,
        "stations": _stations(table, days),
        "events": _events(events, table.stations),
        "n_pairs": events.n_pairs,
        "contour_95": [{"tau": float(t), "nu": float(v)} for t, v in zip(*significance_contour(events.n_pairs, LEVEL))],
        "contour": "pointwise: binomial over independent (event, station) pairs; not a test of the curve",
        "family": {"members": family, "adjustment": ADJUSTMENT},
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


def _catalog_days(days: StationDays, catalog: Catalog, notes: list[str]) -> StationDays:
    """The station-days the catalog covers: a day past its end may hold an event nobody listed,
    so it would count as a day without one. Days outside the catalog's span are not scored."""
    first = catalog.start.astype("datetime64[D]")
    last = catalog.end.astype("datetime64[D]") + np.timedelta64(1, "D")
    inside = days.within(first, last)
    cut = days.n_station_days - inside.n_station_days
    if cut:
        start, end = days.period
        notes.append(f"{cut} station-day(s) of the scored period ({start} to {end}) lie outside the catalog's span "
                     f"({first} to {last}): not scored")
    if inside.n_station_days == 0:
        raise DataError(catalog.path or "the catalog", f"the catalog's span ({first} to {last}) covers none of the "
                                                       f"scored days ({days.period[0]} to {days.period[1]})")
    return inside


def _rate_period(periods: dict, catalog: Catalog, days: StationDays,
                 notes: list[str]) -> tuple[np.datetime64, np.datetime64]:
    """The days ``reference:rate`` counts events over: the models' training period (from the
    first window start to the last label horizon end recorded in ``scores.meta.json``), else
    the catalog before the first scored day."""
    starts = [p.get("first_window_start") for p in periods.values() if p]
    ends = [p.get("last_horizon_end") for p in periods.values() if p]
    if periods and all(starts) and all(ends) and len(starts) == len(periods):
        return (min(np.datetime64(t, "D") for t in starts),
                max(np.datetime64(t, "D") for t in ends))
    first = days.first_day + np.timedelta64(int(np.flatnonzero(days.scored.any(axis=0))[0]), "D")
    notes.append(f"reference:rate: no training period recorded for every model; event rates of the catalog "
                 f"before the scored days ({catalog.start.astype('datetime64[D]')} to {first})")
    return catalog.start.astype("datetime64[D]"), first


def _radius_words(radius: str, radius_km: float | None) -> str:
    return f"{radius_km:g} km radius" if radius == "fixed" else "Dobrovolsky radius 10^(0.43 M) km"


def _model_forecast(name: str, score: np.ndarray, in_sample: bool) -> _Forecast:
    """A model of the file; a trained activity ensemble (``activity_{N}day``) is a storm reference."""
    window = window_days_of(name)
    if name == ACTIVITY_MODEL or name.startswith(f"{ACTIVITY_MODEL}_"):
        return _Forecast(name, "reference", score, in_sample, window, ACTIVITY_MODEL)
    return _Forecast(name, "model", score, in_sample, window)


def _references(forecasts: list[_Forecast], station: np.ndarray, window_end: np.ndarray, rate: np.ndarray,
                kp: KpSeries | None, dst: DstSeries | None, notes: list[str]) -> list[_Forecast]:
    """The random and rate references, and the Kp/Dst references for every window length of the models."""
    out = [_Forecast(RANDOM, "reference", None, False, None),
           _Forecast(RATE, "reference", rate[station], False, None, "rate")]
    windows = sorted({f.window_days or 1 for f in forecasts})
    if any(f.window_days is None for f in forecasts) and (kp is not None or dst is not None):
        notes.append("a model name without a window length (..._{N}day): its storm references look at the "
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
    n_pairs = events.n_pairs
    if forecast.score is None:  # random alarms: the diagonal, exactly
        tau, nu, threshold, alpha = np.array([0.0, 1.0]), np.array([1.0, 0.0]), [None, None], [None, None]
        ass, fractions, surrogate = 0.5, np.full(n_pairs, 0.5), np.zeros(0)
        gains = {f"{t:g}": 1.0 for t in GAIN_TAUS}
    else:
        flat, at_pairs = timing_cells(forecast.score, days, events)
        trajectory = molchan_trajectory(flat, at_pairs)
        tau, nu = trajectory.tau, trajectory.nu
        threshold = [None if math.isnan(t) else float(t) for t in trajectory.threshold]
        alpha = [float(a) for a in binomial_tail(n_pairs, trajectory.hits, tau)]
        ass = area_skill_score(tau, nu)
        fractions = event_alarm_fractions(flat, at_pairs)
        surrogate = surrogate_ass(forecast.score, days, events, shifts)
        gains = {f"{t:g}": probability_gain(tau, nu, t) for t in GAIN_TAUS}
    return {
        "kind": forecast.kind,
        "in_sample": forecast.in_sample,
        "training_period": None,
        "window_days": forecast.window_days,
        "n_events": len(events),
        "n_pairs": n_pairs,
        "n_station_days": days.n_station_days,
        "ass": float(ass),
        "ass_p_value": surrogate_p_value(ass, surrogate),
        "ass_p_adjusted": None,
        "significant": None,
        "ass_surrogate_mean": float(np.mean(surrogate)) if surrogate.size else None,
        "ass_surrogate_sd": float(np.std(surrogate, ddof=1)) if surrogate.size > 1 else None,
        "probability_gain": gains,
        "molchan": [{"threshold": th, "tau": float(t), "nu": float(v), "alpha": a}
                    for th, t, v, a in zip(threshold, tau, nu, alpha)],
        "_fractions": fractions,
        "_surrogate": surrogate,
    }


def _adjust_against_surrogates(judged: dict[str, dict], family: list[str]) -> None:
    """Each model's family-wise adjusted surrogate p (the shifts are shared) and its verdict flag."""
    if not family or judged[family[0]]["_surrogate"].size == 0:
        return
    observed = [judged[name]["ass"] for name in family]
    null = [judged[name]["_surrogate"] for name in family]
    raw, _ = upper_p_values(observed, null)
    for name, adjusted in zip(family, westfall_young(observed, null, raw)):
        judged[name]["ass_p_adjusted"] = float(adjusted)
        judged[name]["significant"] = bool(adjusted <= LEVEL)


def _compare_all(forecasts: list[_Forecast], judged: dict[str, dict]) -> None:
    """Every model against the rate reference and the storm references of its window
    (``versus`` in its record): ASS difference, two-sided p under the paired surrogates,
    family-wise adjusted p over every comparison of the run, outcome."""
    comparisons = [(model, reference) for model in forecasts if model.kind == "model"
                   for reference in forecasts if _compared(model, reference)]
    if not comparisons:
        return
    observed = [judged[m.name]["ass"] - judged[r.name]["ass"] for m, r in comparisons]
    resampled = judged[comparisons[0][0].name]["_surrogate"].size > 0
    raw = adjusted = [None] * len(comparisons)
    if resampled:  # the same shift applied to both forecasts: the difference of their surrogates
        null = [judged[m.name]["_surrogate"] - judged[r.name]["_surrogate"] for m, r in comparisons]
        raw, _ = two_sided_p_values(observed, null)
        adjusted = westfall_young(observed, null, raw, two_sided=True)
    for (model, reference), difference, p, p_adjusted in zip(comparisons, observed, raw, adjusted):
        outcome = None
        if p_adjusted is not None:
            outcome = INDISTINGUISHABLE if p_adjusted > LEVEL else (AHEAD if difference > 0 else BEHIND)
        judged[model.name].setdefault("versus", {})[reference.name] = {
            "ass_difference": float(difference), "p_value": None if p is None else float(p),
            "p_adjusted": None if p_adjusted is None else float(p_adjusted), "outcome": outcome}


def _compared(model: _Forecast, reference: _Forecast) -> bool:
    if reference.kind != "reference" or reference.index is None:
        return False
    return reference.index == "rate" or (reference.window_days or 1) == (model.window_days or 1)


# --------------------------------------------------------------------------- verdicts
def _verdict(forecast: _Forecast, record: dict, judged: dict) -> str:
    if forecast.score is None:
        return ("random alarms: the diagonal nu = 1 - tau, ASS 0.5; every forecast without timing skill lies on it "
                "in expectation, however its stations' alarms correlate")
    if forecast.index == "rate":
        return (f"knows where events happen and nothing of when (each station's rate of target events over the "
                f"training period): on timing it is the diagonal, ASS {record['ass']:.2f}")
    against = _against_surrogates(record, adjusted=forecast.kind == "model")
    if forecast.kind == "reference":
        return f"{STORMS} alone ({ACTIVITY[forecast.index]}, {forecast.window_days}-day window): {against}"
    versus = record.get("versus", {})
    parts = [against]
    storms = {name: c for name, c in versus.items() if name != RATE}
    if storms:
        parts.append(_relation_words(STORMS, storms, judged))
    if RATE in versus:
        parts.append(_relation_words("the per-station event rate", {RATE: versus[RATE]}, judged))
    return "; ".join(parts)


def _against_surrogates(record: dict, adjusted: bool) -> str:
    ass, surrogate = record["ass"], record["_surrogate"]
    if surrogate.size == 0:
        return f"ASS {ass:.2f} (no significance statement: --surrogates 0)"
    p = record["ass_p_value"]
    p_worse = surrogate_p_value(-ass, -surrogate)
    numbers = f"p = {p:.2g}" + (f", adjusted p = {record['ass_p_adjusted']:.2g}" if adjusted else "")
    used = record["ass_p_adjusted"] if adjusted else p
    if used <= LEVEL:
        return f"ASS {ass:.2f} above {SURROGATES} ({numbers})"
    if p_worse <= LEVEL:
        return f"ASS {ass:.2f} below {SURROGATES} ({numbers})"
    return f"ASS {ass:.2f} indistinguishable from {SURROGATES} ({numbers})"


def _relation_words(what: str, comparisons: dict[str, dict], judged: dict) -> str:
    """"ahead of / indistinguishable from / behind WHAT (timing only: ...)": ahead only when ahead of every one."""
    outcomes = [c["outcome"] for c in comparisons.values()]
    details = ", ".join(
        f"{name} ASS {judged[name]['ass']:.2f}, difference {c['ass_difference']:+.2f}"
        + ("" if c["p_value"] is None else f", p = {c['p_value']:.2g}, adjusted p = {c['p_adjusted']:.2g}")
        for name, c in comparisons.items())
    if any(o is None for o in outcomes):
        return f"compared with {what} (timing only: {details}; not tested: --surrogates 0)"
    if all(o == AHEAD for o in outcomes):
        word = "ahead of"
    elif any(o == BEHIND for o in outcomes):
        word = "behind"
    else:
        word = "indistinguishable from"
    return f"{word} {what} (timing only: {details})"


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
        writer.writerow([name, record["kind"], record["n_events"], record["n_pairs"], record["n_station_days"],
                         _cell(record["ass"]), _cell(record["ass_p_value"]), _cell(record["ass_p_adjusted"]),
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
    lines = [f"{first['n_events']} target events ({result['n_pairs']} event-station pairs; M >= "
             f"{s['min_magnitude']:g}, {radius}{', declustered' if s['decluster'] else ''}) on "
             f"{first['n_station_days']} station-days of {len(result['stations'])} station(s), {period['start']} to "
             f"{period['end']} (end exclusive), lead {s['lead_days']} days"
             + (" -- IN-SAMPLE" if result["in_sample"] else "")]
    width = max(len(name) for name in result["models"])
    lines.append(f"  {'forecast':<{width}}  {'ASS':>5}  {'p':>6}  {'adj. p':>6}  {'G(0.1)':>6}  verdict")
    for name, record in result["models"].items():
        p, adjusted = record["ass_p_value"], record["ass_p_adjusted"]
        gain = record["probability_gain"]["0.1"]
        lines.append(f"  {name:<{width}}  {record['ass']:5.2f}  {'-' if p is None else f'{p:.2g}':>6}  "
                     f"{'-' if adjusted is None else f'{adjusted:.2g}':>6}  "
                     f"{'-' if gain is None else f'{gain:.2f}':>6}  {record['verdict']}")
    for name, record in result["models"].items():
        if record.get("reliability"):  # the daily probabilities against what happened
            r, bss = record["reliability"], record["reliability"]["brier_skill_rate"]
            lines.append(f"  {name}: Brier {r['brier']:.4f}, skill vs the station rate "
                         f"{'-' if bss is None else f'{bss:+.3f}'}, ECE {r['ece']:.3f} ({r['calibration'] or 'calibration unknown'})")
    lines += [f"note: {note}" for note in result["notes"]]
    return "\n".join(lines)
