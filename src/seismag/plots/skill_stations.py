"""Per-station figures of forecast skill: each model's daily score, the target events, Kp and Dst.

One figure per station of ``skill.json`` (``scores_{STATION}.{fmt}``), from the
``scores.csv`` the skill was computed from. The target events and the stations each one
counts for come from ``skill.json``'s ``events`` (the radius rule is not applied again),
the lead from its ``settings``; the index panels read the Kp / Dst files through
:mod:`seismag.sources.indices`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping

import numpy as np
from matplotlib.figure import Figure

from seismag.sources.indices.dst import DstSeries, read_dst
from seismag.sources.indices.kp import KpSeries, read_kp
from seismag.sources.indices.storm import DST_STORM, KP_STORM
from seismag.plots.results import PlotResult, note
from seismag.plots.skill_files import ScoreTable, Skill, is_number, read_scores, read_skill
from seismag.plots.style import (
    check_dpi, check_format, curve_colors, new_figure, publication_style, save_figure,
)

__all__ = ["build_station_figure", "plot_station_scores", "station_file"]

_EVENT_COLOR = "black"


def _daily(days: np.ndarray, values: np.ndarray, first: np.datetime64, last: np.datetime64) -> np.ndarray:
    """``values`` on the day grid ``first .. last`` (inclusive), NaN on days not listed."""
    grid = np.full(int((last - first).astype(np.int64)) + 1, np.nan)
    at = (days - first).astype(np.int64)
    inside = (at >= 0) & (at < grid.size)
    grid[at[inside]] = values[inside]
    return grid


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` index pairs of the runs of True in ``mask``."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2], edges[1::2]))


def _event_time(event: dict) -> np.datetime64:
    return np.datetime64(event["time"].rstrip("Z"), "s")


def build_station_figure(station: str, scores: ScoreTable, skill: Skill, *,
                         kp: KpSeries | None = None, dst: DstSeries | None = None,
                         colours: dict[str, str] | None = None, notes: list[str] | None = None) -> Figure:
    """One station: each model's score against ``window_end``, its target events, Kp and Dst.

    The score of ``window_end`` d forecasts the ``lead_days`` days from d on, so it is drawn
    as a step over day d; a day with an empty score, or with no row, is a gap. Events are
    vertical lines at their origin time (gid ``event:{id}``), with the days whose forecast
    covers the event shaded. Score lines have gid ``score:{model}`` and are on the daily
    grid from the station's first ``window_end`` to the day after its last (NaN there, so
    that the last day's step is drawn); the index panels (gids ``kp``, bars, and ``dst``, a
    step line on the same kind of grid) show the daily max Kp and daily min Dst from the
    first ``window_end`` to the end of the last horizon.
    """
    rows = scores.station == station
    models = list(dict.fromkeys(scores.model[rows]))
    colours = colours or curve_colors(models)
    lead = skill.lead_days or 1
    first = scores.window_end[rows].min()
    last = scores.window_end[rows].max()
    end = last + np.timedelta64(lead, "D")  # the last horizon ends here (exclusive)
    # One day past the last, holding NaN: a step is drawn from its day to the next, so the
    # last day's step needs a point after it.
    grid = np.arange(first, last + np.timedelta64(2, "D"), dtype="datetime64[D]")
    panels = [("score", 3.2)] + ([("kp", 1.5)] if kp is not None else []) + ([("dst", 1.5)] if dst is not None else [])
    fig = new_figure((11.0, sum(h for _p, h in panels) + 1.3))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": [h for _p, h in panels]})[:, 0]
    ax = axes[0]
    in_sample_days = np.zeros(grid.size, dtype=bool)
    for model in models:
        chosen = rows & (scores.model == model)
        values = _daily(scores.window_end[chosen], scores.prob_class1[chosen], first, grid[-1])
        flags = _daily(scores.window_end[chosen], scores.in_sample[chosen].astype(float), first, grid[-1])
        in_sample_days |= flags == 1.0
        ax.plot(grid, values, drawstyle="steps-post", color=colours.get(model, "C0"), linewidth=1.6,
                label=model, gid=f"score:{model}")
    for run, (start, stop) in enumerate(_runs(in_sample_days)):
        ax.axvspan(grid[start], grid[start] + np.timedelta64(int(stop - start), "D"), color="#fdd9a0", alpha=0.45,
                   linewidth=0, zorder=0, label="in-sample days" if run == 0 else None)
    events = sorted((e for e in skill.events if station in e["stations"]), key=_event_time)
    # Magnitude labels at least 1/30 of the time axis apart, so close events do not overprint.
    label_gap = (end - first).astype("timedelta64[s]") / 30
    last_label = None
    for index, event in enumerate(events):
        time = _event_time(event)
        day = time.astype("datetime64[D]")
        # Windows ending on day d forecast [d, d + lead): those with d in (day - lead, day] cover it.
        ax.axvspan(day - np.timedelta64(lead - 1, "D"), day + np.timedelta64(1, "D"), color="0.6", alpha=0.22,
                   linewidth=0, zorder=0,
                   label=f"scores whose {lead}-day horizon covers an event" if index == 0 else None)
        for panel_index, panel_ax in enumerate(axes):
            panel_ax.axvline(time, color=_EVENT_COLOR, linewidth=1.3, zorder=5,
                             gid=f"event:{event.get('id', index)}" if panel_index == 0 else None,
                             label="target event" if index == 0 and panel_index == 0 else None)
        magnitude = event.get("magnitude")
        if is_number(magnitude) and (last_label is None or time - last_label >= label_gap):
            last_label = time
            ax.annotate(f"M{magnitude:.1f}", xy=(time, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(3, -2), textcoords="offset points", fontsize=9, va="top", ha="left")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("P(class 1)")
    title = f"{station}: daily scores and target events"
    if in_sample_days.any():
        title += " (in-sample)"
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, borderaxespad=0.0)
    span = np.arange(first, end, dtype="datetime64[D]")
    span_with_end = np.arange(first, end + np.timedelta64(1, "D"), dtype="datetime64[D]")
    for (name, _h), panel_ax in zip(panels[1:], axes[1:]):
        if name == "kp":
            values = _daily(kp.days, kp.daily_max(), first, end - np.timedelta64(1, "D"))
            panel_ax.bar(span, values, width=1.0, align="edge", color="0.55", linewidth=0, gid="kp")
            panel_ax.axhline(KP_STORM, color="0.25", linestyle="--", linewidth=0.9)
            panel_ax.set_ylim(0, 9)
            panel_ax.set_ylabel("Kp\n(daily max)")
            where = kp.path or "Kp"
        else:
            values = _daily(dst.days, dst.daily_min(), first, end)  # NaN on `end`: see the grid above
            panel_ax.plot(span_with_end, values, drawstyle="steps-post", color="0.3", linewidth=1.4, gid="dst")
            panel_ax.axhline(DST_STORM, color="0.25", linestyle="--", linewidth=0.9)
            panel_ax.set_ylabel("Dst, nT\n(daily min)")
            where = dst.path or "Dst"
        if not np.isfinite(values).any():
            note(notes, f"{where}: covers none of {station}'s days {first} to {end} (exclusive); empty panel")
    axes[-1].set_xlim(first, end)
    axes[-1].set_xlabel("window end (UTC day)")
    fig.autofmt_xdate(rotation=0, ha="center")
    fig.tight_layout()
    return fig


def station_file(station: str, fmt: str) -> str:
    """``scores_{STATION}.{fmt}``, the station code with anything but letters, digits, _ and - as _."""
    return f"scores_{re.sub(r'[^A-Za-z0-9_-]', '_', station)}.{fmt}"


def _load_index(value, reader):
    return value if value is None or isinstance(value, (KpSeries, DstSeries)) else reader(value)


def plot_station_scores(
    scores: "str | os.PathLike | ScoreTable",
    skill: "Skill | Mapping | str | os.PathLike",
    out_dir: str | os.PathLike,
    *,
    kp: "str | os.PathLike | KpSeries | None" = None,
    dst: "str | os.PathLike | DstSeries | None" = None,
    dpi: float = 600,
    fmt: str = "png",
) -> PlotResult:
    """One figure per station of ``skill.json``: ``out_dir/scores_{STATION}.{fmt}``.

    Parameters
    ----------
    scores : path-like or ScoreTable
        The ``scores.csv`` the skill was computed from.
    skill : path-like, dict or Skill
        The skill results: the stations, the target events with the stations each counts
        for, and ``settings.lead_days`` come from it, so the radius and lead rules are the
        ones the skill used (the catalog is not read again).
    kp, dst : path-like or series, optional
        Index files (or series read with :func:`read_kp` / :func:`read_dst`) for the panels
        beneath the scores; no panel when not given.

    Returns
    -------
    PlotResult
        The paths, in the order of skill.json's stations; ``.notes`` names stations with no
        row in the scores file and index files that cover none of a station's days.
    """
    fmt, dpi = check_format(fmt), check_dpi(dpi)
    skill = read_skill(skill)
    table = scores if isinstance(scores, ScoreTable) else read_scores(scores)
    kp_series, dst_series = _load_index(kp, read_kp), _load_index(dst, read_dst)
    out = PlotResult()
    colours = curve_colors(list(dict.fromkeys(skill.names("model") + list(table.models))))
    known = set(table.station.tolist())
    for station in skill.data["stations"]:
        if station not in known:
            note(out.notes, f"{table.path or 'scores'}: no rows for station {station}; no score figure")
            continue
        with publication_style():
            fig = build_station_figure(station, table, skill, kp=kp_series, dst=dst_series, colours=colours,
                                       notes=out.notes)
            out.append(save_figure(fig, Path(out_dir) / station_file(station, fmt), dpi=dpi, fmt=fmt))
    return out
