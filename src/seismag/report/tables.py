"""The report's tables from a results folder: metrics per model and window, the
evaluation protocol with its caveats, and the dataset summary.

Everything comes from :class:`~seismag.plots.results.ResultsFolder` (the summaries,
ensemble configs, fold metrics, ``run_config.json`` and ``dataset_summary.json``).
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from seismag.plots.results import MetricStats, ModelEntry, ResultsFolder, window_name
from seismag.report.markup import escape, number
from seismag.sources.indices.storm import DST_STORM, KP_STORM

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

def metrics_section(results: ResultsFolder, entries: Sequence[ModelEntry], windows: Sequence[int],
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
        parts.append(f"<h3>{escape(window)}-day window</h3>")
        parts.append(f"<div class='table-wrap'><table id='metrics-{escape(name)}' class='metrics' "
                     f"data-window='{window}'>")
        parts.append("<thead><tr><th class='name'>Model</th>"
                     + "".join(f"<th>{escape(h)}</th>" for _k, h in TABLE_METRICS)
                     + "<th>Folds</th></tr></thead><tbody>")
        for entry, stats in rows:
            is_best = entry is best_model and BEST_BY in stats.mean
            cells = [f"<td class='name'>{escape(entry.display_name)}"
                     + ("<span class='badge'>best</span>" if is_best else "") + "</td>"]
            for key, _h in TABLE_METRICS:
                mean, std = stats.mean.get(key), stats.std.get(key)
                if mean is None:
                    cells.append(f"<td data-metric='{key}'>—</td>")
                    continue
                cls = " class='best'" if best_value[key] is not None and mean == best_value[key] else ""
                std_text = f" ± {number(std)}" if std is not None else ""
                cells.append(f"<td{cls} data-metric='{key}' data-mean='{mean!r}' "
                             f"data-std='{std!r}'>{number(mean)}{std_text}</td>")
            cells.append(f"<td>{escape(stats.num_folds)}</td>")
            row_cls = " class='best-row'" if is_best else ""
            parts.append(f"<tr{row_cls} data-model='{escape(entry.key)}' data-window='{window}'>"
                         + "".join(cells) + "</tr>")
        parts.append("</tbody></table></div>")
        other = [f"{entry.display_name}: {stats.origin()}" for entry, stats in rows if stats.source != "summary"]
        if other:
            parts.append(f"<p class='meta'>Not from a summary JSON: {escape('; '.join(other))}</p>")
    if not all_stats:
        parts.append("<p>No metrics found.</p>")
    return "\n".join(parts), all_stats


def protocol_section(results: ResultsFolder, all_stats: dict[tuple[str, int], MetricStats]) -> str:
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
            parts.append(f"<div class='caveat'><strong>Leakage caveat:</strong> {escape(DEFAULT_CAVEAT)}</div>")
            return "\n".join(parts)
    if len(groups) > 1:
        parts.append("<p><strong>Not every model and window used the same protocol</strong>; "
                     "scores from different protocols are not directly comparable.</p>")
    for protocol, applies in groups.values():
        # Every "*_note" (leakage_note, selection_note, ...) is a caveat, shown as one.
        caveats = {k: v for k, v in protocol.items() if k.endswith("_note") and v}
        caveats.setdefault("leakage_note", DEFAULT_CAVEAT)
        caveats = {"leakage_note": caveats.pop("leakage_note"), **caveats}
        rows = "".join(f"<tr><th class='name'>{escape(k)}</th><td class='name'>{escape('—' if v is None else v)}</td></tr>"
                       for k, v in protocol.items() if not k.endswith("_note"))
        parts.append(f"<table class='protocol'>{rows}</table>")
        for key, text in caveats.items():
            title = key[: -len("_note")].replace("_", " ").capitalize()
            parts.append(f"<div class='caveat'><strong>{escape(title)} caveat:</strong> {escape(text)}</div>")
        parts.append(f"<p class='meta'>Applies to: {escape(', '.join(applies))}</p>")
    return "\n".join(parts)


def dataset_section(results: ResultsFolder) -> str:
    parts = ["<h2 id='dataset'>Dataset</h2>"]
    summary = results.dataset_summary()
    if summary is None:
        parts.append("<p>No <code>dataset_summary.json</code> in the results folder.</p>")
        return "\n".join(parts)
    if summary.get("data_dir") is not None:
        parts.append(f"<p class='meta'>Data: <code>{escape(summary['data_dir'])}</code></p>")
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
        ratio_text = f"{ratio:.2f}" if isinstance(ratio, (int, float)) else escape(ratio if ratio is not None else "—")
        label = f"{key}-day" if str(key).isdigit() else key
        parts.append(f"<tr><td class='name'>{escape(label)}</td><td>{escape(info.get('n_samples', '—'))}</td>"
                     f"<td>{escape(c0)}</td><td>{escape(c1)}</td><td>{escape(share)}</td><td>{ratio_text}</td>"
                     f"<td class='name'>{escape(info.get('severity', '—'))}</td>"
                     f"<td>{escape(info.get('dropped_rows', '—'))}</td></tr>")
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
            parts.append(f"<p class='meta' id='inputs-{escape(key)}'>{escape(label)} window: components {escape(named)}; "
                         f"recipe: {escape(info.get('recipe_text') or 'none')}</p>")
        activity = info.get("activity")
        if not isinstance(activity, dict) or not activity.get("columns"):
            continue
        parts.append(f"<table id='activity-{escape(key)}'><caption>{escape(label)} window: geomagnetic activity by class"
                     "</caption><thead><tr><th class='name'>Statistic</th><th>Class 0 mean [min, max]</th>"
                     "<th>Class 1 mean [min, max]</th></tr></thead><tbody>")
        for name, per_class in activity["columns"].items():
            cells = ["—" if not isinstance(c, dict) else f"{c['mean']:.2f} [{c['min']:.2f}, {c['max']:.2f}]"
                     for c in per_class]
            parts.append(f"<tr><td class='name'>{escape(name)}</td><td>{escape(cells[0])}</td><td>{escape(cells[1])}</td></tr>")
        share = ["—" if v is None else f"{v:.1%}" for v in activity.get("storm_share", [None, None])]
        storm = f"Kp &ge; {KP_STORM:g} or Dst &le; &minus;{-DST_STORM:g} nT"
        parts.append(f"<tr><td class='name'>windows with a storm ({storm})</td>"
                     f"<td>{escape(share[0])}</td><td>{escape(share[1])}</td></tr></tbody></table>")
        parts.append("<p class='meta'>Where the classes differ in storms, a model can separate them by "
                     "geomagnetic activity alone: compare every model with the <code>activity</code> reference.</p>")
    return parts
