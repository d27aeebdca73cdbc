"""One self-contained HTML page summarising a results folder (``seismag report``).

The page needs nothing but itself: figures are embedded as base64 PNG data
URIs, the style sheet is inline, there is no script and no external link, so it
opens offline by double-click and can be mailed as one file. All text taken
from the results folder is escaped (:func:`seismag.report.markup.escape`).

Sections, in page order: forecast skill first (when ``RESULTS/skill/skill.json`` exists
or ``skill_dir`` names one; its Molchan diagram and verdicts, see
:mod:`seismag.report.skill`: whether the forecasts beat random and storm-only alarms is
the question the cross-validation below cannot answer), notes (what was skipped),
metrics (mean ± std over folds per model and window, the best model per window marked;
:mod:`seismag.report.tables`), calibration and proper scores with the reliability diagrams
(:mod:`seismag.report.calibration`), against chance (:mod:`seismag.report.chance`), what drives the
scores (when ``RESULTS/explain/`` or ``explain_dir`` holds ``seismag explain`` output;
:mod:`seismag.report.explain`), evaluation
protocol with its leakage caveat, dataset summary, figures
(:mod:`seismag.report.figures`), run configuration.

The figures are always rendered afresh from the results, at a modest DPI, into
a temporary folder (the ``performance_visualization/`` folder is neither read
nor touched): the page then always matches the results it describes and stays a
few MB even when the publication figures were drawn at 600 DPI.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from seismag.errors import SeismagError
from seismag.io import write_text
from seismag.plots.results import ResultsFolder, window_name
from seismag.plots.skill_files import SKILL_FILE, find_skill
from seismag.report.calibration import calibration_section
from seismag.report.explain import explain_section, find_explain_sources
from seismag.report.chance import chance_rows, chance_section, render_permutation_figure
from seismag.report.figures import figures_section, render_figures
from seismag.report.importance import importance_section
from seismag.report.markup import EmbeddedFigure, embed_figure, escape
from seismag.report.skill import default_skill_source, skill_section
from seismag.report.tables import dataset_section, metrics_section, protocol_section

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
    explain_dir: str | os.PathLike | None = None,
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
    explain_dir : path-like, optional
        A ``seismag explain`` folder (or a folder of them) for the "What drives the scores"
        section. By default the section is added when ``results_dir/explain/`` holds an
        ``explain.json`` (directly or one per sub-folder); a folder named here must hold one.

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
    explain_sources = find_explain_sources(results.path, explain_dir)
    if not results.models:
        raise SeismagError(f"{results.path}: no model results found (expected folders like gru_models/); "
                           "nothing to report")
    target = Path(out) if out is not None else results.path / "report.html"
    entries = results.models
    windows = results.windows()
    notes: list[str] = []

    metrics_html, all_stats = metrics_section(results, entries, windows, notes)
    rows = chance_rows(results, entries, windows)
    with tempfile.TemporaryDirectory(prefix="seismag-report-") as tmp:
        figures = render_figures(results, Path(tmp), figure_dpi, notes)
        figures_html = figures_section(figures, [e.display_name for e in entries])
        calibration_html = calibration_section(results, entries, windows, figures)
        chance_html = chance_section(rows, _permutation_html(rows, Path(tmp), figure_dpi))
        skill_html = "" if skill_source is None else skill_section(skill_source, Path(tmp) / "skill",
                                                                   figure_dpi, notes)
        explain_html = explain_section(explain_sources, Path(tmp), figure_dpi)
    importance_html = importance_section(results, entries, windows)
    if not all_stats and not figures:
        raise SeismagError(f"{results.path}: no metrics and no figures could be made; nothing to report")

    run_config = results.run_config()
    notes = list(dict.fromkeys(notes))
    parts = [_head(results, run_config, has_skill=bool(skill_html), has_explain=bool(explain_html),
                   has_calibration=bool(calibration_html), has_importance=bool(importance_html)), skill_html]
    if notes:
        parts.append("<h2 id='notes'>Notes</h2><div class='notes'><ul>"
                     + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul></div>")
    parts += [metrics_html, calibration_html, chance_html, explain_html, importance_html,
              protocol_section(results, all_stats),
              dataset_section(results), figures_html]
    parts.append("<h2 id='config'>Run configuration</h2>")
    if run_config is None:
        parts.append("<p>No <code>run_config.json</code> in the results folder.</p>")
    else:
        parts.append(f"<pre id='run-config'>{escape(json.dumps(run_config, indent=2, default=str))}</pre>")
    parts.append("</main></body></html>")
    return write_text(target, "\n".join(parts) + "\n")


def _permutation_html(rows: list[dict[str, Any]], tmp_dir: Path, figure_dpi: float) -> str:
    """The permutation-control figure of the "Against chance" section, embedded ('' when there is none)."""
    png = render_permutation_figure(rows, tmp_dir / "permutation_control.png", figure_dpi)
    if png is None:
        return ""
    return embed_figure(EmbeddedFigure("chance", png, "Permutation control: CV mean F1 with permuted training "
                                                      "labels (grey) and with the real labels (line)"))


def _head(results: ResultsFolder, run_config: dict[str, Any] | None, *, has_skill: bool,
          has_explain: bool = False, has_calibration: bool = False, has_importance: bool = False) -> str:
    """The page up to its first section: title, style, what was reported and when, the navigation."""
    from seismag import __version__ as package_version

    version = (run_config or {}).get("seismag_version")
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    started = run_config.get("started_at") if run_config else None
    return "\n".join([
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>seismag report: {escape(results.path.name)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        "<h1>seismag results report</h1>",
        f"<p class='meta'>Results folder: <code>{escape(results.path.resolve())}</code><br>"
        f"Models: {escape(', '.join(e.display_name for e in results.models))} · Windows: "
        f"{escape(', '.join(window_name(w) for w in results.windows()))}<br>"
        f"Trained with seismag {escape(version or 'unknown')}"
        + (f", started {escape(started)}" if started else "")
        + f" · report written {escape(now)} by seismag {escape(package_version)}</p>",
        "<nav class='meta'>" + ("<a href='#skill'>Forecast skill</a> · " if has_skill else "")
        + "<a href='#metrics'>Metrics</a> · "
        + ("<a href='#calibration'>Calibration</a> · " if has_calibration else "")
        + "<a href='#chance'>Against chance</a> · "
        + ("<a href='#explain'>What drives the scores</a> · " if has_explain else "")
        + ("<a href='#importance'>What the trees used</a> · " if has_importance else "")
        + "<a href='#protocol'>Protocol</a> · "
        "<a href='#dataset'>Dataset</a> · <a href='#figures'>Figures</a> · "
        "<a href='#config'>Run configuration</a></nav>",
    ])
