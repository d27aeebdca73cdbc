"""The report's "Forecast skill" section, from a ``seismag skill`` folder (``skill.json``).

Reads only ``skill.json`` (through :func:`seismag.plots.skill_files.read_skill`) and the
files it names; the figures are drawn afresh by :func:`seismag.plots.skill.plot_skill` into
the report's temporary folder. An unreadable skill.json gives a section that says so (one
line naming the file) instead of failing the whole report.
"""

from __future__ import annotations

from pathlib import Path

from seismag.errors import DataError
from seismag.layout.forecast import SKILL_FOLDER
from seismag.plots.skill import plot_skill
from seismag.plots.skill_files import GAIN_TAUS, Skill, read_skill
from seismag.report.markup import EmbeddedFigure, embed_figure, escape, number

#: Figure captions, by file stem (station figures: ``scores_{STATION}``).
CAPTIONS = {
    "molchan": "Molchan diagram: each model's trajectory (τ, ν) over every threshold; the diagonal is "
               "random alarms, and any forecast without timing skill (ASS 0.5); the grey contour is "
               "pointwise 95 % (binomial over independent (event, station) pairs): a single point below "
               "it is unlikely for random alarms, but it tests no trajectory (the surrogate p-values do).",
    "probability_gain": "Probability gain G = (1 − ν)/τ against τ (log-log); circles: G at τ = 0.05, "
                        "0.1, 0.2 as listed in the table; G = 1 is random alarms at the same τ.",
    "reliability": "Reliability of the daily probabilities: per bin of the predicted P(event in the next lead "
                   "days), the share of rows that saw a target event; on the diagonal a probability means "
                   "what it says. Marker area: the bin's number of rows.",
}

RELIABILITY_EXPLANATION = (
    "The <b>reliability</b> of the daily probabilities (the scores as scan wrote them, calibrated unless "
    "scanned with --no-calibration): each scored row forecasts a target event within reach of its station "
    "in the next lead days. <b>Brier</b> is the mean squared difference between the probability and what "
    "happened (0 is perfect); <b>skill vs rate</b> is 1 − Brier / Brier of the station's event rate over "
    "the training period (as 1 − exp(−rate × lead)): above 0 the probabilities are closer to what "
    "happened than that rate, below 0 farther. <b>ECE</b> is the row-weighted mean gap between predicted "
    "and observed shares over ten bins. These judge the probabilities' size, not their timing: a model can "
    "be well calibrated and have no timing skill (the Molchan diagram judges that).")

EXPLANATION = (
    "Every day of every station gets a score from the window that ends at its start; an alarm "
    "at threshold θ covers the {lead} from the end of each window whose score is at least θ. "
    "Alarms are judged on their <b>timing</b>: each station-day's score is ranked within its "
    "station, so calling one station more alarming than another earns nothing. <b>τ</b> is the "
    "fraction of scored station-days under alarm. Target earthquakes are scored as "
    "<b>(event, station) pairs</b> (an earthquake within reach of three stations is three pairs) "
    "and <b>ν</b> is the fraction of pairs that fall outside every alarm of their station. "
    "Lowering θ from “never” to “always” traces the Molchan trajectory from (0, 1) to "
    "(1, 0). Random alarms, and any forecast without timing skill, lie on the diagonal "
    "ν = 1 − τ, however their stations' alarms go together. The <b>area skill score</b> "
    "ASS = 1 − ∫ν dτ is 0.5 on the diagonal and approaches 1 for a forecaster that catches "
    "every pair with little alarm time. Its <b>p</b> compares it with circular-shift "
    "surrogates (the same scores shifted in time against the fixed catalog, which keeps the "
    "clustering of the events and of the scores); the <b>adjusted p</b> allows for every model "
    "of the run (family-wise, Westfall–Young), and the verdict uses it. The grey contour of "
    "the Molchan diagram is pointwise (binomial over independent pairs): it marks single "
    "points and tests no trajectory. The <b>probability gain</b> G = (1 − ν)/τ says how many "
    "times more of the pairs the alarms catch than random alarms with the same τ would "
    "(G = 1: random). Each model is compared with the per-station event rate and with the "
    "alarms raised by geomagnetic storms (Kp, Dst, a trained activity ensemble when there is "
    "one) under the same shifts: these comparisons are of timing only. A model is ahead of "
    "alarms raised by geomagnetic storms only when it is ahead of every storm reference; "
    "otherwise it is indistinguishable from them or behind them."
)


def _settings_text(skill: Skill) -> str:
    settings, period = skill.settings, skill.data.get("scored_period") or {}
    parts = []
    if settings.get("min_magnitude") is not None:
        parts.append(f"target events M ≥ {settings['min_magnitude']:g}")
    if settings.get("radius") == "fixed" and settings.get("radius_km") is not None:
        parts.append(f"within {settings['radius_km']:g} km of a station")
    elif settings.get("radius"):
        parts.append("within the Dobrovolsky radius 10^(0.43 M) km of a station")
    if settings.get("max_depth_km") is not None:
        parts.append(f"depth ≤ {settings['max_depth_km']:g} km")
    if settings.get("decluster"):
        parts.append("mainshocks only (Gardner–Knopoff)")
    if settings.get("lead_days"):
        parts.append(f"alarms last {settings['lead_days']} days")
    if period.get("start") and period.get("end"):
        parts.append(f"scored {period['start']} to {period['end']} (end exclusive)")
    parts.append(f"{len(skill.events)} target events ({skill.data['n_pairs']} event-station pairs) at "
                 f"{len(skill.data['stations'])} stations")
    if settings.get("surrogates") is not None:
        parts.append(f"{settings['surrogates']} surrogates")
    return "; ".join(parts)


def _table(skill: Skill) -> str:
    head = ("<div class='table-wrap'><table id='skill-table' class='skill'><thead><tr>"
            "<th class='name'>Model</th><th class='name'>Kind</th><th>ASS</th><th>Surrogate p</th>"
            "<th>Adjusted p</th>"
            + "".join(f"<th>G(τ = {tau})</th>" for tau in GAIN_TAUS)
            + "<th>N events</th><th>N pairs</th><th>N station-days</th><th class='name'>Verdict</th>"
            "</tr></thead><tbody>")
    rows = []
    for name, entry in skill.models.items():
        gains = entry["probability_gain"]
        verdict = entry.get("verdict") or ""
        # Weak: tested and not significant after adjustment (null: no surrogates, no statement).
        weak = entry["kind"] == "model" and entry.get("significant") is False
        classes = " ".join(c for c in (entry["kind"], "weak" if weak else "") if c)
        label = escape(name) + (" <b>(in-sample)</b>" if entry.get("in_sample") else "")
        rows.append(f"<tr class='{classes}' data-model='{escape(name)}'><td class='name'>{label}</td>"
                    f"<td class='name'>{escape(entry['kind'])}</td><td>{number(entry['ass'], 3)}</td>"
                    f"<td>{number(entry.get('ass_p_value'), 3)}</td><td>{number(entry.get('ass_p_adjusted'), 3)}</td>"
                    + "".join(f"<td>{number(gains.get(tau), 2)}</td>" for tau in GAIN_TAUS)
                    + f"<td>{int(entry['n_events'])}</td><td>{int(entry['n_pairs'])}</td>"
                    f"<td>{int(entry['n_station_days'])}</td>"
                    f"<td class='name verdict'>{escape(verdict)}</td></tr>")
    return head + "".join(rows) + "</tbody></table></div>"


def _reliability_table(skill: Skill) -> str:
    """Brier, skill against the station rate, ECE and log loss of each model's daily probabilities."""
    rows = []
    for name, entry in skill.models.items():
        r = entry.get("reliability")
        if not isinstance(r, dict):
            continue
        rows.append(f"<tr data-model='{escape(name)}'><td class='name'>{escape(name)}</td>"
                    f"<td>{int(r.get('n') or 0)}</td><td>{number(r.get('base_rate'), 4)}</td>"
                    f"<td>{number(r.get('brier'), 4)}</td><td>{number(r.get('brier_skill_rate'), 3)}</td>"
                    f"<td>{number(r.get('ece'), 3)}</td><td>{number(r.get('log_loss'), 3)}</td>"
                    f"<td class='name'>{escape(r.get('calibration') or 'not recorded')}</td></tr>")
    if not rows:
        return ""
    return ("<h3>Reliability of the daily probabilities</h3><p>" + RELIABILITY_EXPLANATION + "</p>"
            "<div class='table-wrap'><table id='skill-reliability' class='skill'><thead><tr>"
            "<th class='name'>Model</th><th>N rows</th><th>Event share</th><th>Brier</th><th>Skill vs rate</th>"
            "<th>ECE</th><th>Log loss</th><th class='name'>Probabilities</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></div>")


def _embed(path: Path) -> str:
    return embed_figure(EmbeddedFigure("skill", path, _caption(path)), "wide")


def _caption(path: Path) -> str:
    if path.stem in CAPTIONS:
        return CAPTIONS[path.stem]
    station = path.stem[len("scores_"):]
    return (f"{station}: each model's daily score (a gap: no score that day); black lines: target "
            "events within the station's radius, the shaded days before each are the forecasts "
            "whose horizon covers it; beneath, daily max Kp and daily min Dst when given.")


def skill_section(source: str | Path, tmp_dir: Path, figure_dpi: float, notes: list[str]) -> str:
    """HTML of the "Forecast skill" section for the skill folder (or skill.json) ``source``.

    The figures are drawn into ``tmp_dir`` at ``figure_dpi`` and embedded. Whatever cannot
    be drawn is added to ``notes``; an unreadable skill.json gives a section with that one
    line instead of an exception.
    """
    parts = ["<h2 id='skill'>Forecast skill</h2>"]
    try:
        skill = read_skill(source)
    except DataError as exc:
        notes.append(str(exc))
        parts.append(f"<p class='caveat' id='skill-unreadable'><strong>The skill results are unreadable:</strong> "
                     f"{escape(exc)}</p>")
        return "\n".join(parts)
    parts.append(f"<p class='meta'>From <code>{escape(skill.path.resolve())}</code>: {escape(_settings_text(skill))}.</p>")
    if skill.in_sample:
        in_sample = [name for name, entry in skill.models.items() if entry.get("in_sample")]
        parts.append("<p class='caveat' id='skill-in-sample'><strong>In-sample: some scored days lie inside "
                     "the training period of "
                     + escape(", ".join(in_sample) or "a model")
                     + "; these scores may have been seen in training and do not measure forecast "
                     "skill on new data.</strong></p>")
    written = plot_skill(skill, dpi=figure_dpi, fmt="png", out_dir=tmp_dir)
    notes.extend(written.notes)
    # The answer first (the Molchan diagram and the verdicts), then how to read it, then the rest.
    molchan = [path for path in written if path.stem == "molchan"]
    parts += [_embed(path) for path in molchan]
    parts.append(_table(skill))
    lead = skill.lead_days
    parts.append("<p>" + EXPLANATION.format(lead=f"{lead} days" if lead else "lead days") + "</p>")
    parts.append(_reliability_table(skill))
    parts.append("<section class='figures' data-folder='skill'>")
    parts += [_embed(path) for path in written if path not in molchan]
    parts.append("</section>")
    return "\n".join(parts)


def default_skill_source(results_path: Path) -> Path:
    """Where the report looks for skill results when none is named: ``RESULTS/skill/``."""
    return results_path / SKILL_FOLDER


__all__ = ["skill_section", "default_skill_source"]
