"""Attribution figures of a ``seismag explain`` folder: which days and channels drive the scores.

Reads only ``explain.json`` (through :func:`seismag.layout.explain.read_explain`); every number
drawn is a number in that file. Files written (``plot_explain``, default folder ``DIR/figures/``)::

    explain_occlusion.{fmt}              per group of windows (class 1, class 0; alarm days,
    explain_integrated_gradients.{fmt}   quiet days): the mean attribution, days x channels,
                                         the window's last day on the right, cells that stand
                                         out over the folds outlined; beneath, each day's mean
                                         daily max Kp (bars) and min Dst (line) of those windows
    explain_hourly.{fmt}                 integrated gradients summed per hour, per channel,
                                         along the window (neural models only)

The colour scale is shared by the groups of one figure and centred on zero: red pushes the
score towards class 1, blue away from it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from seismag.layout.explain import EXPLAIN_FIGURES, METHODS, read_explain
from seismag.plots.results import PlotResult
from seismag.plots.style import check_dpi, check_format, new_figure, publication_style, save_figure
from seismag.sources.indices.storm import DST_STORM, KP_STORM

#: Titles of the methods in the figures and the report.
METHOD_TITLES = {"occlusion": "Occlusion: change of P(class 1) when a day of a channel is replaced by its median day",
                 "integrated_gradients": "Integrated gradients of P(class 1), summed per day and channel"}


def _day_labels(data: dict) -> list[str]:
    return [row.replace("day ", "") for row in data["rows"]]


def _draw_activity(ax, activity: dict, n_days: int) -> None:
    """Daily max Kp as bars (storm level dashed), min Dst as a line on a second axis."""
    x = np.arange(n_days)
    kp, dst = activity.get("max_kp"), activity.get("min_dst")
    if kp is None and dst is None:
        ax.text(0.5, 0.5, "Kp / Dst unknown (explain --kp/--dst with windows of known times)",
                ha="center", va="center", transform=ax.transAxes, fontsize=7, color="#666")
        ax.set_yticks([])
        return
    if kp is not None:
        values = np.array([np.nan if v is None else v for v in kp], dtype=float)
        ax.bar(x, np.nan_to_num(values), color="#8c6d31", width=0.7)
        ax.axhline(KP_STORM, color="#d62728", linestyle="--", linewidth=0.8)
        ax.set_ylim(0, 9)
        ax.set_ylabel("max Kp", fontsize=7)
    if dst is not None:
        twin = ax.twinx()
        values = np.array([np.nan if v is None else v for v in dst], dtype=float)
        twin.plot(x, values, color="#1f77b4", marker="o", markersize=3, linewidth=1)
        twin.axhline(DST_STORM, color="#1f77b4", linestyle=":", linewidth=0.8)
        twin.set_ylabel("min Dst (nT)", fontsize=7, color="#1f77b4")
        twin.tick_params(labelsize=6)


def _method_figure(data: dict, method: str, path: Path, dpi: float, fmt: str) -> Path | None:
    groups = [g for g in data["groups"] if method in g["methods"]]
    if not groups:
        return None
    days, channels = _day_labels(data), data["channels"]
    means = [np.asarray(g["methods"][method]["mean"], dtype=float) for g in groups]
    limit = max(float(np.abs(m).max()) for m in means) or 1e-6
    with publication_style():
        fig = new_figure((max(4.0, 0.5 * len(days) + 2.2) * len(groups), 3.6))
        # a narrow last column holds the colour bar, so the maps and the Kp/Dst panels keep one width
        grid = fig.add_gridspec(2, len(groups) + 1, height_ratios=[max(1.2, 0.45 * len(channels)), 0.8],
                                width_ratios=[1.0] * len(groups) + [0.035], hspace=0.4, wspace=0.4)
        image = None
        for column, (group, mean) in enumerate(zip(groups, means)):
            ax = fig.add_subplot(grid[0, column])
            image = ax.imshow(mean.T, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
            ax.grid(False)
            for row, col in group["methods"][method].get("stands_out", []):
                ax.add_patch(_outline(row, col))
            ax.set_xticks(range(len(days)), days if len(days) <= 16 else [d if i % 2 == 0 else "" for i, d in
                                                                            enumerate(days)], fontsize=7)
            ax.set_yticks(range(len(channels)), channels, fontsize=8)
            ax.set_title(f"{group['name']} (n = {group['n_windows']}, mean P = {group['mean_prob_class1']:.2f})",
                         fontsize=8)
            below = fig.add_subplot(grid[1, column], sharex=ax)
            _draw_activity(below, group["activity"], len(days))
            below.set_xlabel("day before the window's end" if data["rows"] != ["window"] else "", fontsize=7)
            below.tick_params(labelsize=6)
        bar = fig.colorbar(image, cax=fig.add_subplot(grid[0, len(groups)]))
        bar.set_label("attribution (P(class 1))", fontsize=8)
        bar.ax.tick_params(labelsize=7)
        fig.suptitle(f"{data['model']} {data['window_days']}-day: {METHOD_TITLES[method]}", fontsize=9)
        return save_figure(fig, path, dpi=dpi, fmt=fmt)


def _outline(row: int, column: int):
    from matplotlib.patches import Rectangle

    return Rectangle((row - 0.5, column - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.5)


def _hourly_figure(data: dict, path: Path, dpi: float, fmt: str) -> Path | None:
    groups = [g for g in data["groups"] if g.get("hourly_integrated_gradients")]
    if not groups or not data.get("hours_per_day"):
        return None
    hours = int(data["hours_per_day"])
    with publication_style():
        fig = new_figure((7.0, 1.8 * len(groups) + 0.6))
        for index, group in enumerate(groups):
            ax = fig.add_subplot(len(groups), 1, index + 1)
            values = np.asarray(group["hourly_integrated_gradients"], dtype=float)  # (days * hours, channels)
            x = (np.arange(values.shape[0]) - values.shape[0]) / hours
            for c, channel in enumerate(data["channels"]):
                ax.plot(x, values[:, c], linewidth=0.9, label=channel)
            ax.axhline(0.0, color="#999", linewidth=0.6)
            ax.set_ylabel("IG per hour", fontsize=7)
            ax.set_title(group["name"], fontsize=8)
            ax.tick_params(labelsize=6)
            ax.legend(fontsize=6, loc="upper left", ncol=len(data["channels"]))
        ax.set_xlabel("days before the window's end", fontsize=7)
        fig.suptitle(f"{data['model']} {data['window_days']}-day: integrated gradients per hour", fontsize=9)
        return save_figure(fig, path, dpi=dpi, fmt=fmt)


def plot_explain(explain_dir: str | os.PathLike, out: str | os.PathLike | None = None, *, dpi: float = 150,
                 fmt: str = "png") -> PlotResult:
    """Draw the figures of a ``seismag explain`` folder into ``out`` (default ``DIR/figures/``).

    Returns the paths written; ``.notes`` says what was not drawn (integrated gradients for a
    model that has none). Raises :class:`~seismag.errors.DataError` for a missing or damaged
    ``explain.json``.
    """
    data = read_explain(explain_dir)
    fmt, dpi = check_format(fmt), check_dpi(dpi)
    folder = Path(out) if out is not None else Path(explain_dir) / EXPLAIN_FIGURES
    folder.mkdir(parents=True, exist_ok=True)
    result = PlotResult()
    for method in METHODS:
        path = _method_figure(data, method, folder / f"explain_{method}.{fmt}", dpi, fmt)
        if path is None:
            result.notes.append(f"{data['model']}: no {method.replace('_', ' ')} "
                                f"({data.get('integrated_gradients_note') or 'not computed'})")
        else:
            result.append(path)
    hourly = _hourly_figure(data, folder / f"explain_hourly.{fmt}", dpi, fmt)
    if hourly is not None:
        result.append(hourly)
    return result
