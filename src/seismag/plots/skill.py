"""Forecast-skill figures: the Molchan diagram, probability gain, and per-station score series.

Reads only files: ``DIR/skill.json`` written by ``seismag skill --out DIR`` and the
``scores.csv`` written by ``seismag scan`` (both through :mod:`seismag.plots.skill_files`),
plus the Kp / Dst index files through :mod:`seismag.sources.indices`. It never imports the skill
computation: every number drawn is a number in those files, so the figures can be redrawn
from results made on another machine. The target events and the stations each one counts
for are taken from ``skill.json``'s ``events`` (the radius rule is not applied again).

Files written (``plot_skill``, default folder ``DIR/figures/``)::

    molchan.{fmt}                 Molchan diagram: trajectories, the diagonal (random
                                  alarms), the pointwise 95 % contour
    probability_gain.{fmt}        G = (1 - nu) / tau against tau (G = 1: random alarms)
    scores_{STATION}.{fmt}        per station: score series, target events, Kp / Dst
                                  (drawn by :mod:`seismag.plots.skill_stations`)

How a trajectory is drawn
-------------------------
``molchan`` lists the points of the trajectory from (tau 0, nu 1) to (tau 1, nu 0). Between
two thresholds the alarm time and the hits grow together, so how the points are joined is
a convention; the diagram joins them the way that makes the area under the drawn line equal
to ``1 - ass`` of the same entry (straight segments, i.e. the trapezoid rule, or a
staircase: flat then down, or down then flat), so the picture and the ASS in its legend
always agree. When no convention matches (to 1e-3), straight segments are drawn and a note
says so.

What the reference lines are
----------------------------
skill.json (version 2) judges alarms on their timing within each station and events as
(event, station) pairs, so random alarms are the diagonal ν = 1 − τ for every forecast
(ASS 0.5, G = 1), and so is any forecast without timing skill. ``reference:random`` is
that diagonal and is not drawn again. The 95 % contour is pointwise (binomial over
independent pairs, skill.json's ``contour``): it says which single points would be
unlikely for random alarms, it does not test a curve; the tests are the surrogate p-values
in the legend and the report's table.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from seismag.sources.indices.dst import read_dst
from seismag.sources.indices.kp import read_kp
from seismag.errors import ConfigError, DataError
from seismag.plots.results import PlotResult, note
from seismag.plots.skill_files import (
    GAIN_TAUS, SCORE_COLUMNS, SKILL_FILE, SKILL_FORMAT, SKILL_VERSION, ScoreTable, Skill, find_skill,
    read_scores, read_skill,
)
from seismag.plots.reliability import SKILL_FILE_STEM, plot_skill_reliability
from seismag.plots.skill_stations import build_station_figure, plot_station_scores
from seismag.plots.style import (
    check_dpi, check_format, curve_colors, new_figure, publication_style, save_figure,
)

__all__ = [
    "SKILL_FILE", "SKILL_FORMAT", "SKILL_VERSION", "FIGURE_SUBFOLDER", "SCORE_COLUMNS",
    "GAIN_TAUS", "Skill", "ScoreTable", "read_skill", "read_scores", "find_skill",
    "build_molchan_figure", "build_gain_figure", "build_station_figure",
    "plot_molchan", "plot_probability_gain", "plot_station_scores", "plot_skill",
]

#: Sub-folder of the skill folder the figures go to.
FIGURE_SUBFOLDER = "figures"

#: Reference curves: grey tones and dash patterns, distinct from the models' solid colours.
#: Keyed by the name without its ``_{N}day`` (``reference:kp_7day`` is drawn as ``reference:kp``).
_REFERENCE_STYLE = {
    "reference:kp": ("0.2", (0, (6, 2))),
    "reference:dst": ("0.5", (0, (6, 2, 1.5, 2))),
    "reference:rate": ("0.55", (0, (1, 1.5))),
}
_OTHER_REFERENCE_STYLES = (("0.35", (0, (2, 2))), ("0.6", (0, (8, 3, 2, 3))))
_WINDOW_SUFFIX = re.compile(r"_\d+day$")
_RANDOM = "reference:random"
_DRAWSTYLE_TOLERANCE = 1e-3
#: Legend labels of the lines every forecast is read against.
DIAGONAL_LABEL = "random alarms: ν = 1 − τ, ASS 0.5 (no timing skill)"
CONTOUR_LABEL = "pointwise 95 % (binomial, independent pairs)"
GAIN_ONE_LABEL = "random alarms at the same τ (G = 1)"


# --------------------------------------------------------------------------- styles


def _reference_style(name: str, others: list[str]) -> tuple[str, Any]:
    stem = _WINDOW_SUFFIX.sub("", name)
    if stem in _REFERENCE_STYLE:
        return _REFERENCE_STYLE[stem]
    return _OTHER_REFERENCE_STYLES[others.index(name) % len(_OTHER_REFERENCE_STYLES)]


def _other_references(references: list[str]) -> list[str]:
    """The references without a style of their own (an ``activity_{N}day`` ensemble, ...)."""
    return [name for name in references if _WINDOW_SUFFIX.sub("", name) not in _REFERENCE_STYLE]


def trajectory_drawstyle(tau: np.ndarray, nu: np.ndarray, ass: float) -> str | None:
    """How to join the points so that the area under the drawn line is ``1 - ass``.

    Returns matplotlib's ``'default'`` (straight segments: the trapezoid rule),
    ``'steps-post'`` (flat, then down: area ``sum nu[i] * dtau``) or ``'steps-pre'`` (down,
    then flat: ``sum nu[i+1] * dtau``), whichever area is closest to ``1 - ass`` within
    1e-3 (ties in that order), or ``None`` when none is.
    """
    dtau = np.diff(tau)
    areas = {
        "default": float(np.sum(0.5 * (nu[:-1] + nu[1:]) * dtau)),
        "steps-post": float(np.sum(nu[:-1] * dtau)),
        "steps-pre": float(np.sum(nu[1:] * dtau)),
    }
    best = min(areas, key=lambda key: abs(1.0 - areas[key] - ass))
    return best if abs(1.0 - areas[best] - ass) <= _DRAWSTYLE_TOLERANCE else None


def _curve_label(name: str, entry: dict) -> str:
    text = f"{name}: ASS = {entry['ass']:.3f}"
    if entry.get("ass_p_value") is not None:
        text += f", p = {entry['ass_p_value']:.3f}"
    if entry.get("ass_p_adjusted") is not None:
        text += f", adjusted p = {entry['ass_p_adjusted']:.3f}"
    if entry.get("in_sample"):
        text += " (in-sample)"
    return text


def _title(text: str, skill: Skill) -> str:
    return f"{text} (in-sample)" if skill.in_sample else text


# --------------------------------------------------------------------------- Molchan diagram


def build_molchan_figure(skill: "Skill | Mapping | str | os.PathLike",
                         notes: list[str] | None = None) -> Figure:
    """The Molchan diagram of every model and reference in ``skill``.

    Lines carry gids for tests and tools: ``diagonal``, ``contour_95`` and
    ``curve:{name}``. The diagonal is random alarms for every forecast (alarms are judged
    on timing within each station); ``reference:random`` is that line and gets no curve of
    its own. The contour is pointwise (binomial over independent (event, station) pairs)
    and its legend says so.
    """
    skill = read_skill(skill)
    fig = new_figure((7.4, 7.0))
    ax = fig.add_subplot()
    n_events = len(skill.events)
    ax.plot([0.0, 1.0], [1.0, 0.0], color="0.45", linestyle=":", linewidth=1.4, gid="diagonal", zorder=2,
            label=DIAGONAL_LABEL)
    contour = skill.data["contour_95"]
    if contour:
        tau = np.array([p["tau"] for p in contour])
        nu = np.array([p["nu"] for p in contour])
        ax.fill_between(tau, 0.0, nu, color="0.85", alpha=0.6, linewidth=0, zorder=1)
        ax.plot(tau, nu, color="0.4", linewidth=1.0, gid="contour_95", zorder=2,
                label=f"{CONTOUR_LABEL}, {int(skill.data['n_pairs'])} pairs: a point below is unlikely for "
                      "random alarms")
    models = skill.names("model")
    references = [name for name in skill.names("reference") if name != _RANDOM]
    others = _other_references(references)
    colours = curve_colors(models)
    for name in references + models:
        entry = skill.models[name]
        tau, nu = skill.trajectory(name)
        if tau.size < 2:
            note(notes, f"{skill.where}: {name} has no Molchan trajectory; left out of the diagram")
            continue
        style = trajectory_drawstyle(tau, nu, float(entry["ass"]))
        if style is None:
            note(notes, f"{skill.where}: {name}: the ASS {entry['ass']:.4f} is not the area above its "
                        "trajectory by any joining rule; drawn with straight segments")
            style = "default"
        if name in models:
            kwargs = {"color": colours[name], "linewidth": 2.2, "zorder": 4}
        else:
            colour, dashes = _reference_style(name, others)
            kwargs = {"color": colour, "linestyle": dashes, "linewidth": 1.8, "zorder": 3}
        ax.plot(tau, nu, drawstyle=style, label=_curve_label(name, entry), gid=f"curve:{name}", **kwargs)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_aspect("equal")
    ax.set_xlabel("τ, fraction of station-days under alarm")
    ax.set_ylabel("ν, fraction of (event, station) pairs missed")
    ax.set_title(_title(f"Molchan diagram (N = {n_events} events, {int(skill.data['n_pairs'])} pairs)", skill))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=1, fontsize=10, borderaxespad=0.0)
    fig.tight_layout()
    return fig


def plot_molchan(skill: "Skill | Mapping | str | os.PathLike", out_path: str | os.PathLike, *,
                 dpi: float = 600, notes: list[str] | None = None) -> Path:
    """Draw the Molchan diagram of ``skill`` (a skill.json path, its folder, or the dict).

    The format is taken from ``out_path``'s suffix (png, pdf or svg). Returns the path.
    """
    out_path = Path(out_path)
    fmt, dpi = check_format(out_path.suffix or "png"), check_dpi(dpi)
    with publication_style():
        fig = build_molchan_figure(skill, notes)
        return save_figure(fig, out_path, dpi=dpi, fmt=fmt)


# --------------------------------------------------------------------------- probability gain


def gain_curve(tau: np.ndarray, nu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(tau, G)`` with G = (1 - nu) / tau at the trajectory points where it is defined
    and positive (tau > 0, nu < 1), the only ones a log axis can show."""
    keep = (tau > 0) & (nu < 1)
    return tau[keep], (1.0 - nu[keep]) / tau[keep]


def _log_label(value: float, _position=None) -> str:
    """Plain numbers (0.05, 2, 10) at 1, 2 and 5 times a power of ten; no label elsewhere."""
    if not value > 0:
        return ""
    mantissa = value / 10 ** math.floor(math.log10(value) + 1e-9)
    return f"{value:g}" if any(abs(mantissa - m) < 1e-6 for m in (1, 2, 5)) else ""


def build_gain_figure(skill: "Skill | Mapping | str | os.PathLike", notes: list[str] | None = None) -> Figure:
    """Probability gain against alarm fraction for every model and reference (log-log).

    Gids: ``gain_one`` (G = 1: random alarms with the same alarm fraction tau, and any
    forecast without timing skill), ``gain:{name}`` (a curve) and
    ``gain_at:{name}`` (the markers at the tau of :data:`GAIN_TAUS`, the values skill.json
    gives).
    """
    skill = read_skill(skill)
    fig = new_figure((7.6, 5.6))
    ax = fig.add_subplot()
    models = skill.names("model")
    references = [name for name in skill.names("reference") if name != _RANDOM]
    others = _other_references(references)
    colours = curve_colors(models)
    smallest = 1.0
    for name in references + models:
        entry = skill.models[name]
        tau, gain = gain_curve(*skill.trajectory(name))
        if tau.size == 0:
            note(notes, f"{skill.where}: {name} catches no event at any alarm fraction; no gain curve")
            continue
        smallest = min(smallest, float(tau.min()))
        if name in models:
            colour, kwargs = colours[name], {"linewidth": 2.0, "zorder": 4}
        else:
            colour, dashes = _reference_style(name, others)
            kwargs = {"linestyle": dashes, "linewidth": 1.6, "zorder": 3}
        ax.plot(tau, gain, color=colour, label=_curve_label(name, entry), gid=f"gain:{name}", **kwargs)
        marks = [(float(key), value) for key, value in entry["probability_gain"].items()
                 if value is not None and value > 0]
        if marks:
            ax.plot([m[0] for m in marks], [m[1] for m in marks], linestyle="none", marker="o", markersize=6,
                    markerfacecolor="white", markeredgecolor=colour, markeredgewidth=1.6, zorder=5,
                    gid=f"gain_at:{name}")
    for key in GAIN_TAUS:
        ax.axvline(float(key), color="0.75", linewidth=0.8, linestyle="--", zorder=0)
    ax.axhline(1.0, color="0.45", linestyle=":", linewidth=1.4, label=GAIN_ONE_LABEL, gid="gain_one", zorder=2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(_log_label))
        axis.set_minor_formatter(FuncFormatter(_log_label))
    ax.set_xlim(min(smallest, 0.01) * 0.8, 1.05)
    ax.set_xlabel("τ, fraction of station-days under alarm")
    ax.set_ylabel("probability gain G = (1 − ν) / τ")
    ax.set_title(_title("Probability gain", skill))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=1, fontsize=10, borderaxespad=0.0)
    fig.tight_layout()
    return fig


def plot_probability_gain(skill: "Skill | Mapping | str | os.PathLike", out_path: str | os.PathLike, *,
                          dpi: float = 600, notes: list[str] | None = None) -> Path:
    """Draw G = (1 - ν) / τ against τ (circles: the values at τ = 0.05, 0.1, 0.2 of skill.json)."""
    out_path = Path(out_path)
    fmt, dpi = check_format(out_path.suffix or "png"), check_dpi(dpi)
    with publication_style():
        fig = build_gain_figure(skill, notes)
        return save_figure(fig, out_path, dpi=dpi, fmt=fmt)


# --------------------------------------------------------------------------- everything


def _setting_path(skill: Skill, key: str) -> Path | None:
    """A file named in ``settings`` (as given, else by its name in the skill folder), or None."""
    value = skill.settings.get(key)
    if not value:
        return None
    path = Path(value)
    if path.is_file():
        return path
    if skill.path is not None and (skill.path.parent / path.name).is_file():
        return skill.path.parent / path.name
    return None


def plot_skill(
    skill_dir: "str | os.PathLike | Skill",
    *,
    scores: str | os.PathLike | None = None,
    kp: str | os.PathLike | None = None,
    dst: str | os.PathLike | None = None,
    dpi: float = 600,
    fmt: str = "png",
    out_dir: str | os.PathLike | None = None,
) -> PlotResult:
    """Draw every skill figure into ``skill_dir/figures/`` (or ``out_dir``).

    Parameters
    ----------
    skill_dir : path-like or Skill
        The folder ``seismag skill --out`` wrote (or its ``skill.json``, or that file
        already read with :func:`read_skill`).
    scores, kp, dst : path-like, optional
        The scores file and index files for the station figures. When not given, the
        files skill.json's ``settings`` names are used if they can be found (as given,
        else a file of that name in the skill folder); when they cannot, the station
        figures (or their index panels) are left out with a note. A file given here
        must be readable.

    Returns
    -------
    PlotResult
        ``molchan``, ``probability_gain``, ``reliability`` (the daily probabilities against
        what happened; a note instead for a skill.json written before), then one
        ``scores_{STATION}`` per station.

    Raises
    ------
    DataError
        skill.json is missing or unreadable (one line naming it), or a file given
        explicitly is.
    """
    fmt, dpi = check_format(fmt), check_dpi(dpi)
    skill = read_skill(skill_dir)
    if out_dir is None and skill.path is None:
        raise ConfigError("plot_skill needs out_dir for a skill given as a dict")
    folder = Path(out_dir) if out_dir is not None else skill.path.parent / FIGURE_SUBFOLDER
    out = PlotResult()
    out.append(plot_molchan(skill, folder / f"molchan.{fmt}", dpi=dpi, notes=out.notes))
    out.append(plot_probability_gain(skill, folder / f"probability_gain.{fmt}", dpi=dpi, notes=out.notes))
    reliability = plot_skill_reliability(skill.models, folder / f"{SKILL_FILE_STEM}.{fmt}", dpi, out.notes)
    if reliability is not None:
        out.append(reliability)
    loaded: dict[str, Any] = {}
    for key, given, reader in (("scores", scores, read_scores), ("kp", kp, read_kp), ("dst", dst, read_dst)):
        what = "no station score figures" if key == "scores" else f"no {key.capitalize()} panel"
        if given is not None:
            loaded[key] = reader(given)  # asked for: must be readable
            continue
        named = skill.settings.get(key)
        path = _setting_path(skill, key)
        if named and path is None:
            note(out.notes, f"{skill.where}: the {key} file it names, {named}, is not found; {what}")
        elif path is not None:
            try:
                loaded[key] = reader(path)
            except DataError as exc:
                note(out.notes, f"{exc}; {what}")
    if loaded.get("scores") is None:
        if not skill.settings.get("scores") and scores is None:
            note(out.notes, f"{skill.where}: no scores file named or given; no station score figures")
        return out
    stations = plot_station_scores(loaded["scores"], skill, folder, kp=loaded.get("kp"), dst=loaded.get("dst"),
                                   dpi=dpi, fmt=fmt)
    out.extend(stations)
    out.notes.extend(stations.notes)
    return out
