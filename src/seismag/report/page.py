"""One self-contained HTML page summarising a results folder (``seismag report``).

The page needs nothing but itself: figures are embedded as base64 PNG data
URIs, the style sheet is inline, there is no script and no external link, so it
opens offline by double-click and can be mailed as one file. All text taken
from the results folder is escaped with :func:`html.escape`.

Sections: forecast skill first (when ``RESULTS/skill/skill.json`` exists or
``skill_dir`` names one; its Molchan diagram and verdicts, see
:mod:`seismag.plots.skill_report`: whether the forecasts beat random and storm-only
alarms is the question the cross-validation below cannot answer), notes (what was
skipped), metrics (mean ± std over folds per model and window, the best model per
window marked), against chance, evaluation protocol with its leakage caveat, dataset
summary, figures, run configuration.

The figures are always rendered afresh from the results, at a modest DPI, into
a temporary folder (the ``performance_visualization/`` folder is neither read
nor touched): the page then always matches the results it describes and stays a
few MB even when the publication figures were drawn at 600 DPI.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from seismag.errors import SeismagError
from seismag.io import write_text
from seismag.plots.honesty import honesty_rows, honesty_section, render_permutation_figure
from seismag.plots.results import (
    MetricStats, ModelEntry, NothingToPlot, ResultsFolder, window_name,
)
from seismag.plots.skill_report import SKILL_FILE, default_skill_source, find_skill, skill_section

#: Metric columns of the table: (key, header).
TABLE_METRICS = (
    ("f1", "F1"), ("precision", "Precision"), ("recall", "Recall"),
    ("specificity", "Specificity"), ("norm_mcc", "Norm. MCC"), ("mcc", "MCC"),
    ("accuracy", "Accuracy"), ("balanced_accuracy", "Bal. acc."),
    ("roc_auc", "ROC AUC"), ("pr_auc", "PR AUC"),
)
#: The metric that decides the best model of a window.
BEST_BY = "f1"

DEFAULT_CAVEAT = (
    "Windows that precede one earthquake, or were recorded by several stations, are not "
    "independent samples. With a plain stratified split they can sit on both sides of a "
    "fold, so these scores may be optimistic for unseen earthquakes."
)

_CSS = """
body{font-family:Arial,"Liberation Sans","DejaVu Sans",Helvetica,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:1200px;margin:0 auto;padding:24px 32px 64px}
h1{font-size:1.7em;margin:0.2em 0 0.1em}h2{margin-top:2em;border-bottom:2px solid #ddd;padding-bottom:4px}
h3{margin-top:1.4em}.meta{color:#555;font-size:0.92em}
table{border-collapse:collapse;margin:8px 0 16px;background:#fff;font-size:0.86em}
.table-wrap{overflow-x:auto;max-width:100%}
th,td{border:1px solid #d0d0d0;padding:4px 7px;text-align:right;white-space:nowrap}
th{background:#eef1f5}td.name,th.name{text-align:left}
table.protocol td{white-space:normal}
td.best{font-weight:bold;background:#fff4d6}tr.best-row td.name{font-weight:bold}
.badge{display:inline-block;background:#d62728;color:#fff;border-radius:3px;padding:0 5px;margin-left:6px;font-size:0.8em}
.weak td{background:#fdecea}
.caveat{border-left:4px solid #e6a100;background:#fff8e5;padding:8px 12px;margin:8px 0}
.notes{border-left:4px solid #999;background:#f1f1f1;padding:6px 12px}
figure{margin:0;background:#fff;border:1px solid #e2e2e2;padding:6px;box-sizing:border-box}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figure.wide{margin:12px 0 20px}figure.lead{display:inline-block;margin:4px 8px 8px 0;vertical-align:top}
figcaption{color:#666;font-size:0.8em;margin-top:4px;overflow-wrap:anywhere}
h4{margin:14px 0 6px;color:#333}
.row{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:10px;align-items:start}
pre{background:#fff;border:1px solid #ddd;padding:12px;overflow:auto;font-size:0.85em}
"""


@dataclass
class _Figure:
    section: str
    path: Path
    caption: str


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _metrics_section(results: ResultsFolder, entries: Sequence[ModelEntry], windows: Sequence[int],
                     notes: list[str]) -> tuple[str, dict[tuple[str, int], MetricStats]]:
    parts = ["<h2 id='metrics'>Metrics (validation, mean ± std over folds)</h2>",
             "<p>Each cell is the mean ± population standard deviation (ddof=0) of the metric over "
             "the folds' validation parts, read from <code>{Model}Model_{N}day_summary.json</code>. "
             f"Per window the model with the highest mean {BEST_BY.upper()} is marked "
             "<span class='badge'>best</span>; the best value of each column is highlighted.</p>"]
    all_stats: dict[tuple[str, int], MetricStats] = {}
    for window in windows:
        rows: list[tuple[ModelEntry, MetricStats]] = []
        for entry in entries:
            if window not in results.windows(entry):
                continue
            stats = results.metric_stats(entry, window)
            if stats is None:
                notes.append(f"{entry.display_name} {window_name(window)}: no summary, ensemble "
                             "config or fold metrics; not in the metrics table")
                continue
            if stats.source != "summary":
                notes.append(f"{entry.display_name} {window_name(window)}: no summary JSON; table "
                             f"row from {stats.origin()}")
            rows.append((entry, stats))
            all_stats[(entry.key, window)] = stats
        if not rows:
            continue
        best_value = {key: max((s.mean[key] for _e_, s in rows if key in s.mean), default=None)
                      for key, _h in TABLE_METRICS}
        best_model = max(rows, key=lambda r: r[1].mean.get(BEST_BY, float("-inf")))[0]
        name = window_name(window)
        parts.append(f"<h3>{_e(window)}-day window</h3>")
        parts.append(f"<div class='table-wrap'><table id='metrics-{_e(name)}' class='metrics' "
                     f"data-window='{window}'>")
        parts.append("<thead><tr><th class='name'>Model</th>"
                     + "".join(f"<th>{_e(h)}</th>" for _k, h in TABLE_METRICS)
                     + "<th>Folds</th></tr></thead><tbody>")
        for entry, stats in rows:
            is_best = entry is best_model and BEST_BY in stats.mean
            cells = [f"<td class='name'>{_e(entry.display_name)}"
                     + ("<span class='badge'>best</span>" if is_best else "") + "</td>"]
            for key, _h in TABLE_METRICS:
                mean, std = stats.mean.get(key), stats.std.get(key)
                if mean is None:
                    cells.append(f"<td data-metric='{key}'>—</td>")
                    continue
                cls = " class='best'" if best_value[key] is not None and mean == best_value[key] else ""
                std_text = f" ± {_fmt(std)}" if std is not None else ""
                cells.append(f"<td{cls} data-metric='{key}' data-mean='{mean!r}' "
                             f"data-std='{std!r}'>{_fmt(mean)}{std_text}</td>")
            cells.append(f"<td>{_e(stats.num_folds)}</td>")
            row_cls = " class='best-row'" if is_best else ""
            parts.append(f"<tr{row_cls} data-model='{_e(entry.key)}' data-window='{window}'>"
                         + "".join(cells) + "</tr>")
        parts.append("</tbody></table></div>")
        other = [f"{entry.display_name}: {stats.origin()}" for entry, stats in rows if stats.source != "summary"]
        if other:
            parts.append(f"<p class='meta'>Not from a summary JSON: {_e('; '.join(other))}</p>")
    if not all_stats:
        parts.append("<p>No metrics found.</p>")
    return "\n".join(parts), all_stats


def _protocol_section(results: ResultsFolder, all_stats: dict[tuple[str, int], MetricStats]) -> str:
    groups: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for (key, window), stats in sorted(all_stats.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if not isinstance(stats.protocol, dict):
            continue
        ident = json.dumps(stats.protocol, sort_keys=True, default=str)
        groups.setdefault(ident, (stats.protocol, []))[1].append(
            f"{results.model(key).display_name} {window_name(window)}")
    parts = ["<h2 id='protocol'>Evaluation protocol</h2>"]
    if not groups:
        config = results.run_config() or {}
        fallback = {k: config[k] for k in ("split", "scaling", "selection") if k in config}
        if fallback:
            groups["run_config"] = (fallback, ["all (from run_config.json)"])
        else:
            parts.append("<p>No protocol recorded in the summaries or the run configuration.</p>")
            parts.append(f"<div class='caveat'><strong>Leakage caveat:</strong> {_e(DEFAULT_CAVEAT)}</div>")
            return "\n".join(parts)
    if len(groups) > 1:
        parts.append("<p><strong>Not every model and window used the same protocol</strong>; "
                     "scores from different protocols are not directly comparable.</p>")
    for protocol, applies in groups.values():
        # Every "*_note" (leakage_note, selection_note, ...) is a caveat, shown as one.
        caveats = {k: v for k, v in protocol.items() if k.endswith("_note") and v}
        caveats.setdefault("leakage_note", DEFAULT_CAVEAT)
        caveats = {"leakage_note": caveats.pop("leakage_note"), **caveats}
        rows = "".join(f"<tr><th class='name'>{_e(k)}</th><td class='name'>{_e('—' if v is None else v)}</td></tr>"
                       for k, v in protocol.items() if not k.endswith("_note"))
        parts.append(f"<table class='protocol'>{rows}</table>")
        for key, text in caveats.items():
            title = key[: -len("_note")].replace("_", " ").capitalize()
            parts.append(f"<div class='caveat'><strong>{_e(title)} caveat:</strong> {_e(text)}</div>")
        parts.append(f"<p class='meta'>Applies to: {_e(', '.join(applies))}</p>")
    return "\n".join(parts)


def _dataset_section(results: ResultsFolder) -> str:
    parts = ["<h2 id='dataset'>Dataset</h2>"]
    summary = results.dataset_summary()
    if summary is None:
        parts.append("<p>No <code>dataset_summary.json</code> in the results folder.</p>")
        return "\n".join(parts)
    if summary.get("data_dir") is not None:
        parts.append(f"<p class='meta'>Data: <code>{_e(summary['data_dir'])}</code></p>")
    windows = summary.get("windows")
    if not isinstance(windows, dict) or not windows:
        parts.append("<p>The dataset summary lists no windows.</p>")
        return "\n".join(parts)
    parts.append("<table id='dataset-summary'><thead><tr><th class='name'>Window</th><th>Samples</th>"
                 "<th>Class 0</th><th>Class 1</th><th>Class 1 share</th><th>Imbalance ratio</th>"
                 "<th class='name'>Severity</th><th>Dropped rows</th></tr></thead><tbody>")

    def order(key: str) -> tuple[int, str]:
        return (int(key), key) if str(key).isdigit() else (10**9, str(key))

    for key in sorted(windows, key=order):
        info = windows[key] if isinstance(windows[key], dict) else {}
        counts = info.get("class_counts")
        if isinstance(counts, list) and len(counts) == 2 and all(isinstance(c, (int, float)) for c in counts):
            c0, c1 = counts
            share = f"{c1 / (c0 + c1):.1%}" if (c0 + c1) else "—"
        else:
            c0 = c1 = share = "—"
        ratio = info.get("imbalance_ratio")
        ratio_text = f"{ratio:.2f}" if isinstance(ratio, (int, float)) else _e(ratio if ratio is not None else "—")
        label = f"{key}-day" if str(key).isdigit() else key
        parts.append(f"<tr><td class='name'>{_e(label)}</td><td>{_e(info.get('n_samples', '—'))}</td>"
                     f"<td>{_e(c0)}</td><td>{_e(c1)}</td><td>{_e(share)}</td><td>{ratio_text}</td>"
                     f"<td class='name'>{_e(info.get('severity', '—'))}</td>"
                     f"<td>{_e(info.get('dropped_rows', '—'))}</td></tr>")
    parts.append("</tbody></table>")
    parts += _inputs_and_activity(windows, order)
    return "\n".join(parts)


def _inputs_and_activity(windows: dict, order) -> list[str]:
    """Components, recipe and the geomagnetic activity of each class, per window."""
    parts = []
    for key in sorted(windows, key=order):
        info = windows[key] if isinstance(windows[key], dict) else {}
        label = f"{key}-day" if str(key).isdigit() else key
        channels, units = info.get("channels"), info.get("units") or []
        if isinstance(channels, list) and channels:
            named = ", ".join(f"{c} ({u})" if u else str(c) for c, u in zip(channels, list(units) + [""] * len(channels)))
            parts.append(f"<p class='meta' id='inputs-{_e(key)}'>{_e(label)} window: components {_e(named)}; "
                         f"recipe: {_e(info.get('recipe_text') or 'none')}</p>")
        activity = info.get("activity")
        if not isinstance(activity, dict) or not activity.get("columns"):
            continue
        parts.append(f"<table id='activity-{_e(key)}'><caption>{_e(label)} window: geomagnetic activity by class"
                     "</caption><thead><tr><th class='name'>Statistic</th><th>Class 0 mean [min, max]</th>"
                     "<th>Class 1 mean [min, max]</th></tr></thead><tbody>")
        for name, per_class in activity["columns"].items():
            cells = ["—" if not isinstance(c, dict) else f"{c['mean']:.2f} [{c['min']:.2f}, {c['max']:.2f}]"
                     for c in per_class]
            parts.append(f"<tr><td class='name'>{_e(name)}</td><td>{_e(cells[0])}</td><td>{_e(cells[1])}</td></tr>")
        share = ["—" if v is None else f"{v:.1%}" for v in activity.get("storm_share", [None, None])]
        parts.append(f"<tr><td class='name'>windows with a storm (Kp &ge; 5 or Dst &le; &minus;50 nT)</td>"
                     f"<td>{_e(share[0])}</td><td>{_e(share[1])}</td></tr></tbody></table>")
        parts.append("<p class='meta'>Where the classes differ in storms, a model can separate them by "
                     "geomagnetic activity alone: compare every model with the <code>activity</code> reference.</p>")
    return parts


_SECTIONS = (
    ("Performance_Analysis", "Training and validation curves",
     "Fold-averaged (F1-weighted) accuracy and loss per epoch; band = ±1 weighted SD across folds.", False),
    ("Model_Comparison_Analysis", "Model comparison",
     "Radar chart and scatter plots of mean metrics over folds (error bars ±1 SD).", True),
    ("ROC_analysis", "ROC curves",
     "ROC curves averaged over folds on a common FPR grid; AUC = mean of per-fold AUCs ± standard error.", False),
    ("Individual_Confusion_Matrices", "Confusion matrices",
     "Mean count per fold (share of the true class in brackets); one colour scale for all.", True),
)


def _is_lead(path: Path) -> bool:
    """Legends and the colour bar: shown before the figures they explain."""
    return path.stem.startswith("Legend_") or path.stem == "horizontal_colorbar"


def _figure_key(path: Path) -> tuple[bool, int, int, str]:
    """Sort key: legends and the colour bar first, then by window, then by kind."""
    stem = path.stem
    lead = _is_lead(path)
    match = re.search(r"_(\d+)day$", stem)
    window = int(match.group(1)) if match else 0
    kinds = ("Radar_Chart", "F1_Stability", "NormMCC_vs_F1", "Precision_vs_Recall")
    kind = next((i for i, k in enumerate(kinds) if stem.startswith(k)), len(kinds))
    return (not lead, window, kind, stem)


def _render_figures(results: ResultsFolder, root: Path, dpi: float, notes: list[str]) -> list[_Figure]:
    # Imported here: plots/__init__ imports this module.
    from seismag.plots.comparison import plot_model_comparison
    from seismag.plots.confusion import plot_confusion_matrices
    from seismag.plots.curves import plot_training_curves
    from seismag.plots.roc import plot_roc_curves

    figures: list[_Figure] = []
    for plotter in (plot_training_curves, plot_model_comparison, plot_roc_curves, plot_confusion_matrices):
        try:
            written = plotter(results.path, dpi=dpi, fmt="png", out_dir=root)
        except NothingToPlot as exc:
            notes.append(f"{plotter.__name__}: {exc}")
            continue
        notes.extend(written.notes)
        for path in written:
            figures.append(_Figure(path.parent.name, path, path.name))
    return figures


def _img(fig: _Figure, cls: str = "") -> str:
    data = base64.b64encode(fig.path.read_bytes()).decode("ascii")
    return (f"<figure class='{cls}'><img src='data:image/png;base64,{data}' alt='{_e(fig.caption)}'>"
            f"<figcaption>{_e(fig.caption)}</figcaption></figure>")


def _figures_section(figures: Sequence[_Figure], model_order: Sequence[str]) -> str:
    parts = ["<h2 id='figures'>Figures</h2>"]
    if not figures:
        parts.append("<p>No figures could be drawn from this results folder.</p>")
    rank = {name: i for i, name in enumerate(model_order)}

    def model_rank(fig: _Figure) -> int:
        # Confusion_Matrix_{Model}_{N}day: keep the models in the results' order.
        match = re.fullmatch(r"Confusion_Matrix_(.+)_\d+day", fig.path.stem)
        return rank.get(match.group(1), len(rank)) if match else 0

    for folder, title, blurb, in_rows in _SECTIONS:
        chosen = sorted((f for f in figures if f.section == folder),
                        key=lambda f: (_figure_key(f.path)[:3], model_rank(f), f.path.stem))
        if not chosen:
            continue
        parts.append(f"<section class='figures' data-folder='{_e(folder)}'>"
                     f"<h3>{_e(title)}</h3><p class='meta'>{_e(blurb)}</p>")
        if not in_rows:
            parts += [_img(fig, "wide") for fig in chosen]
        else:
            # Legends / colour bar on their own line, then one row per window.
            leads = [f for f in chosen if _is_lead(f.path)]
            others = [f for f in chosen if not _is_lead(f.path)]
            parts += [_img(fig, "lead") for fig in leads]
            for window in sorted({_figure_key(f.path)[1] for f in others}):
                row = [f for f in others if _figure_key(f.path)[1] == window]
                parts.append(f"<h4>{window}-day window</h4><div class='row'>"
                             + "".join(_img(fig) for fig in row) + "</div>")
        parts.append("</section>")
    return "\n".join(parts)


def _skill_source(results: ResultsFolder, skill_dir: str | os.PathLike | None) -> Path | None:
    """The skill.json of the report's skill section, or None when there is none to show."""
    if skill_dir is None:
        default = find_skill(default_skill_source(results.path))
        return default if default.is_file() else None
    named = find_skill(skill_dir)
    if not named.is_file():
        raise SeismagError(f"{named}: no such file (--skill names a folder written by seismag skill --out, "
                           f"holding {SKILL_FILE})")
    return named


def write_report(
    results_dir: str | os.PathLike,
    out: str | os.PathLike | None = None,
    *,
    figure_dpi: float = 100,
    skill_dir: str | os.PathLike | None = None,
) -> Path:
    """Write one self-contained HTML page describing ``results_dir``.

    Parameters
    ----------
    results_dir : path-like
        The results folder (docs/artifacts.md).
    out : path-like, optional
        Where to write the page; ``results_dir/report.html`` by default.
    figure_dpi : float
        Resolution of the embedded figures (they are rendered afresh at this
        DPI; 100 keeps the page a few MB).
    skill_dir : path-like, optional
        A ``seismag skill`` folder (or its ``skill.json``) for the "Forecast skill"
        section. By default the section is added when ``results_dir/skill/skill.json``
        exists; a folder named here must hold one.

    Returns
    -------
    Path
        The page written (atomically).

    Raises
    ------
    SeismagError
        The folder is missing, holds no model results, a file in it is corrupt, or
        ``skill_dir`` holds no skill.json. (An unreadable skill.json does not raise: the
        section says it is unreadable.)
    """
    results = ResultsFolder(results_dir)
    skill_source = _skill_source(results, skill_dir)
    if not results.models:
        raise SeismagError(f"{results.path}: no model results found (expected folders like gru_models/); "
                           "nothing to report")
    target = Path(out) if out is not None else results.path / "report.html"
    entries = results.models
    windows = results.windows()
    notes: list[str] = []

    metrics_html, all_stats = _metrics_section(results, entries, windows, notes)
    chance_rows = honesty_rows(results, entries, windows)
    with tempfile.TemporaryDirectory(prefix="seismag-report-") as tmp:
        figures = _render_figures(results, Path(tmp), figure_dpi, notes)
        figures_html = _figures_section(figures, [e.display_name for e in entries])
        permutation_png = render_permutation_figure(chance_rows, Path(tmp) / "permutation_control.png",
                                                    figure_dpi)
        permutation_html = "" if permutation_png is None else _img(_Figure(
            "chance", permutation_png, "Permutation control: CV mean F1 with permuted training labels "
            "(grey) and with the real labels (line)"))
        skill_html = "" if skill_source is None else skill_section(
            skill_source, Path(tmp) / "skill", figure_dpi, notes,
            lambda path, caption: _img(_Figure("skill", path, caption), "wide"))
    chance_html = honesty_section(chance_rows, permutation_html)
    if not all_stats and not figures:
        raise SeismagError(f"{results.path}: no metrics and no figures could be made; nothing to report")

    run_config = results.run_config()
    version = (run_config or {}).get("seismag_version")
    from seismag import __version__ as package_version

    notes = list(dict.fromkeys(notes))
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>seismag report: {_e(results.path.name)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        "<h1>seismag results report</h1>",
        f"<p class='meta'>Results folder: <code>{_e(results.path.resolve())}</code><br>"
        f"Models: {_e(', '.join(e.display_name for e in entries))} · Windows: "
        f"{_e(', '.join(window_name(w) for w in windows))}<br>"
        f"Trained with seismag {_e(version or 'unknown')}"
        + (f", started {_e(run_config['started_at'])}" if run_config and run_config.get("started_at") else "")
        + f" · report written {_e(now)} by seismag {_e(package_version)}</p>",
        "<nav class='meta'>" + ("<a href='#skill'>Forecast skill</a> · " if skill_html else "")
        + "<a href='#metrics'>Metrics</a> · <a href='#chance'>Against chance</a> · "
        "<a href='#protocol'>Protocol</a> · "
        "<a href='#dataset'>Dataset</a> · <a href='#figures'>Figures</a> · "
        "<a href='#config'>Run configuration</a></nav>",
    ]
    parts.append(skill_html)
    if notes:
        parts.append("<h2 id='notes'>Notes</h2><div class='notes'><ul>"
                     + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul></div>")
    parts += [metrics_html, chance_html, _protocol_section(results, all_stats),
              _dataset_section(results), figures_html]
    parts.append("<h2 id='config'>Run configuration</h2>")
    if run_config is None:
        parts.append("<p>No <code>run_config.json</code> in the results folder.</p>")
    else:
        parts.append(f"<pre id='run-config'>{_e(json.dumps(run_config, indent=2, default=str))}</pre>")
    parts.append("</main></body></html>")
    return write_text(target, "\n".join(parts) + "\n")
