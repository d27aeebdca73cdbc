"""What ``seismag explain`` writes and the figures and the report read: ``explain.json`` and
``explain.csv`` in one folder (``RESULTS/explain/`` is where the report looks by default)::

    OUT/explain.json    the ensemble, the windows explained, how each attribution was made,
                        and per group of windows (class 1 / class 0, or alarm / quiet days)
                        the mean days x channels maps, their spread over the fold models,
                        where each window's largest attribution lies, and each day's Kp / Dst
    OUT/explain.csv     one row per window, method, day and channel: :data:`EXPLAIN_COLUMNS`
    OUT/figures/        the figures (:mod:`seismag.plots.explain`)

Days are counted back from the window's end: ``days_before_end`` 1 is the window's last
day (the day just before its end), ``window_days`` its first; ``rows`` names the maps' rows
(``"day -7"`` ... ``"day -1"``; one row ``"window"`` for a model that takes a window's
activity columns, whose ``channels`` are then those columns).

May import: numpy, the standard library, :mod:`seismag.errors` and :mod:`seismag.io`.
"""

from __future__ import annotations

import csv
import io as _io
import json
import os
from pathlib import Path
from typing import Any, Sequence

from seismag.errors import DataError
from seismag.io import write_json, write_text

EXPLAIN_FILE = "explain.json"
EXPLAIN_CSV = "explain.csv"
#: Where ``seismag report`` looks for an explain folder inside a results folder.
EXPLAIN_FOLDER = "explain"
EXPLAIN_FIGURES = "figures"
#: ``explain.json``'s ``format`` value.
EXPLAIN_FORMAT = "seismag-explain"
#: The attribution methods, in the order the files list them.
METHODS = ("occlusion", "integrated_gradients")
EXPLAIN_COLUMNS = ("window", "group", "label", "prob_class1", "method", "days_before_end", "channel", "attribution")
#: Keys every group of ``explain.json`` holds.
GROUP_KEYS = ("name", "n_windows", "methods", "activity")
#: Keys every method of a group holds: ``mean``, ``std``, ``fold_std`` and ``top_share`` are
#: days x channels matrices (rows: the window's first day to its last).
METHOD_KEYS = ("mean", "std", "fold_std", "top_share")


def explain_paths(out: str | os.PathLike) -> tuple[Path, Path, Path]:
    """``(explain.json, explain.csv, figures/)`` of an explain folder."""
    out = Path(out)
    return out / EXPLAIN_FILE, out / EXPLAIN_CSV, out / EXPLAIN_FIGURES


def find_explain(path: str | os.PathLike) -> Path:
    """The ``explain.json`` of a folder written by ``seismag explain`` (or the file itself)."""
    path = Path(path)
    return path if path.suffix == ".json" else path / EXPLAIN_FILE


def write_explain(out: str | os.PathLike, record: dict[str, Any], rows: Sequence[Sequence[Any]]) -> Path:
    """Write ``explain.csv`` (:data:`EXPLAIN_COLUMNS`, then ``rows``) and ``explain.json`` (``record``,
    stamped with :data:`EXPLAIN_FORMAT`), each atomically; the JSON last, so a folder with an
    ``explain.json`` always has its CSV. Returns the JSON's path."""
    json_path, csv_path, _ = explain_paths(out)
    buffer = _io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPLAIN_COLUMNS)
    writer.writerows(rows)
    Path(out).mkdir(parents=True, exist_ok=True)
    write_text(csv_path, buffer.getvalue())
    return write_json(json_path, {"format": EXPLAIN_FORMAT, **record})


def read_explain(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check an ``explain.json`` (a folder or the file).

    Raises
    ------
    DataError
        Naming the file: missing, unreadable, not JSON, not written by ``seismag explain``,
        or a group or method without the keys (:data:`GROUP_KEYS`, :data:`METHOD_KEYS`) or
        with matrices that are not days x channels.
    """
    path = find_explain(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(path, "no such file (written by seismag explain --out DIR)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot read file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise DataError(path, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("format") != EXPLAIN_FORMAT:
        raise DataError(path, f"is not an explain file (no \"format\": \"{EXPLAIN_FORMAT}\")")
    for key in ("model", "window_days", "rows", "channels", "groups"):
        if key not in data:
            raise DataError(path, f"has no '{key}'")
    shape = (len(data["rows"]), len(data["channels"]))
    for group in data["groups"]:
        missing = [key for key in GROUP_KEYS if key not in group]
        if missing:
            raise DataError(path, f"group {group.get('name')!r} has no {', '.join(missing)}")
        for method, values in group["methods"].items():
            for key in METHOD_KEYS:
                matrix = values.get(key)
                if (not isinstance(matrix, list) or len(matrix) != shape[0]
                        or any(not isinstance(r, list) or len(r) != shape[1] for r in matrix)):
                    raise DataError(path, f"group {group['name']!r}, {method}: '{key}' is not a "
                                          f"{shape[0]} x {shape[1]} (days x channels) matrix")
    return data
