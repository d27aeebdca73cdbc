"""What a run checks in its results folder before it writes the first byte.

:func:`check_output` (every run): each path the run will write is free to take its
file -- the results folder and each ``{model}_models`` folder are folders, no file
name is taken by a folder. :func:`check_resume` (``--resume``): the recorded run is
this run. :func:`inspect_kept` (``--resume``): every artifact the run keeps is the
one that was written -- a fold counts as finished only when its checkpoint loads (its
tensor and metadata checksums hold, it is this model's fold of this window with this
fold's seed) and every other file of the fold has the SHA-256 the checkpoint recorded
(or, for checkpoints written before those digests, reads and has the fold's shape).

A damaged kept file is repaired, not refused: :func:`set_aside` renames it with a
``.damaged`` suffix (never overwriting an earlier one) after the run record is written,
and the fold, whose files are then incomplete, trains again with its own seed, so it
gives the numbers it gave before (the same device). A finished fold's files are never
rewritten. A model whose folds and ensemble files are all sound is not rewritten at all.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from seismag import models as model_registry
from seismag.config import RunConfig
from seismag.errors import CheckpointError, ConfigError, DataError, OutputError, SeismagError
from seismag.layout.results import (DATASET_SUMMARY_FILE, RUN_CONFIG_FILE, WINDOW_KINDS, ArtifactPaths,
                                    parse_epoch_log)
from seismag.models.checkpoint import CHECKPOINT_FORMAT, model_from_parts, read_seismag_file
from seismag.training.artifacts import FOLD_FILES_KEY, file_sha256, recorded_kinds, unit_paths
from seismag.training.prepared import PreparedWindow

logger = logging.getLogger("seismag")

#: The suffix a damaged kept file is renamed with (``--resume`` keeps it aside).
DAMAGED_SUFFIX = ".damaged"

#: Settings that never change what is computed (README, Performance; ``speed`` flags),
#: and where the run ran: ``--resume`` may change them.
RESUME_FREE = frozenset({"num_threads", "fold_workers", "optimizer_impl", "cache_features", "keep_freed_memory",
                         "device", "precision"})


@dataclasses.dataclass(frozen=True)
class Damage:
    """A kept file that is not the one written: ``path``, why, and the fold it belongs to
    (None: a model's window file, rebuilt from its folds)."""

    path: Path
    reason: str
    fold: int | None

    def describe(self) -> str:
        return f"{self.path}: {self.reason}"


def check_output(out_dir: Path, units: Iterable[tuple[str, int]], num_folds: int) -> None:
    """Refuse, in one line naming the path, an output the run could not write into.

    Raises
    ------
    OutputError
        The results folder or a ``{model}_models`` folder (or a folder above) exists and is
        not a folder or is not writable, or a file the run writes exists as a folder.
    """
    out_dir = Path(out_dir)
    folders = [out_dir]
    files = [out_dir / RUN_CONFIG_FILE, out_dir / DATASET_SUMMARY_FILE]
    for model, days in units:
        paths = unit_paths(out_dir, model, days)
        folders.append(paths.folder)
        files += [path for fold in range(1, num_folds + 1) for path in paths.fold_files(fold)]
        files += [paths.window_file(kind) for kind in WINDOW_KINDS]
    for folder in dict.fromkeys(folders):
        for part in (folder, *folder.parents):  # the first that exists must be a folder
            if part.exists():
                if not part.is_dir():
                    raise OutputError(part, "exists and is not a folder")
                if not os.access(part, os.W_OK | os.X_OK):
                    raise OutputError(part, "permission denied")
                break
    for path in files:
        if path.exists() and not path.is_file():
            raise OutputError(path, "is a directory")


def check_resume(out_dir: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Refuse to resume into a folder made by a different run; returns the record to write.

    Compared with the folder's ``run_config.json``: every run setting that changes
    results (not :data:`RESUME_FREE`; the resolved precision instead of the requested
    one), each window's data fingerprint, and the resolved config of every model on
    every window that both runs have. A model or window only one of the runs has is
    legitimate (a model added to a finished run); the record written keeps the
    folder's entries for those, and the folder's ``started_at`` (when the run began).
    """
    path = out_dir / RUN_CONFIG_FILE
    if not path.is_file():
        return record
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(old, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the recorded run to resume ({exc}); restore it, or train into "
                          "another --out") from None

    def refuse(setting: str, new: Any, before: Any) -> ConfigError:
        return ConfigError(f"{out_dir}: --resume with a different run: {setting} is {_show(new)} here, "
                           f"{_show(before)} in {path}; use another --out, or the same settings")

    for name in [f.name for f in dataclasses.fields(RunConfig)] + ["resolved_precision"]:
        if name in RESUME_FREE or name in ("models", "windows", "model_overrides") or name not in old:
            continue
        if jsonable(record[name]) != old[name]:
            raise refuse(name, record[name], old[name])
    old_data = old.get("data_fingerprint") or {}
    if not old_data:
        logger.warning("%s records no data fingerprint (made by seismag %s): resuming without checking the data",
                       path, old.get("seismag_version", "?"))
    for days, data in record["data_fingerprint"].items():
        if days in old_data:
            for key in ("n_samples", "class_counts", "sha256", "inputs"):
                if key == "inputs" and key not in old_data[days]:
                    continue  # recorded by seismag before channels and recipes
                if jsonable(data[key]) != old_data[days].get(key):
                    raise refuse(f"the {days}-day window's data ({key})", data[key], old_data[days].get(key))
    old_models = old.get("resolved_models") or {}
    for model, by_window in record["resolved_models"].items():
        for days, model_config in by_window.items():
            before = old_models.get(model, {}).get(days)
            if before is not None and jsonable(model_config) != before:
                key = next((k for k in model_config if before.get(k) != jsonable(model_config[k])), "config")
                raise refuse(f"{model}'s {key} on the {days}-day window", model_config.get(key), before.get(key))
    for model in set(record["models"]) - set(old.get("models", record["models"])):
        logger.info("--resume: %s is not in %s yet and trains from scratch; the settings it shares with the "
                    "recorded run were checked", model, out_dir)
    merged_models = {model: {**old_models.get(model, {}), **record["resolved_models"].get(model, {})}
                     for model in {**old_models, **record["resolved_models"]}}
    return {**record, "started_at": old.get("started_at", record["started_at"]), "resolved_models": merged_models,
            "data_fingerprint": {**old_data, **record["data_fingerprint"]}}


def jsonable(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples as lists, odd objects as strings)."""
    return json.loads(json.dumps(value, default=str))


def _show(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (list, dict, str)) else str(value)


def inspect_kept(out_dir: Path, windows: dict[int, PreparedWindow], models: Iterable[str]) -> list[Damage]:
    """Every damaged file ``--resume`` would keep, over every model and window of the run.

    A fold is inspected when all its files exist (a fold with files missing is
    unfinished and trains again anyway); a model's window files (ensemble, summary,
    ensemble config, permutation control) when every fold of it is finished and sound.
    """
    damage: list[Damage] = []
    for days, window in windows.items():
        for model in models:
            paths = unit_paths(out_dir, model, days)
            found = []
            for fold in range(1, window.num_folds + 1):
                if paths.fold_complete(fold):
                    found += inspect_fold(paths, fold, window, model)
            damage += found
            if not found and all(paths.fold_complete(k) for k in range(1, window.num_folds + 1)):
                damage += inspect_window_files(paths)
    return damage


def inspect_fold(paths: ArtifactPaths, fold: int, window: PreparedWindow, model: str) -> list[Damage]:
    """The damaged files of a finished fold (empty when every file is the one written)."""
    checkpoint_path = paths.fold_file(fold, "checkpoint")
    problem = _checkpoint_problem(checkpoint_path, fold, window, model)
    if problem:
        return [Damage(checkpoint_path, problem, fold)]
    checkpoint = read_seismag_file(checkpoint_path, CHECKPOINT_FORMAT)
    recorded = (checkpoint.get("extra") or {}).get(FOLD_FILES_KEY)
    damage = []
    if isinstance(recorded, dict):
        for kind in recorded_kinds(paths):
            path = paths.fold_file(fold, kind)
            if kind in recorded and file_sha256(path) != recorded[kind]:
                damage.append(Damage(path, f"changed after it was written (its SHA-256 is not the one "
                                           f"{checkpoint_path.name} recorded)", fold))
        return damage
    # A checkpoint from before the digests: each file must at least read and fit the fold.
    for kind, problem in _fold_shape_problems(paths, fold, window):
        damage.append(Damage(paths.fold_file(fold, kind), problem, fold))
    return damage


def _checkpoint_problem(path: Path, fold: int, window: PreparedWindow, model: str) -> str | None:
    try:
        checkpoint = read_seismag_file(path, CHECKPOINT_FORMAT)
        model_from_parts(path, checkpoint["model_name"], checkpoint["model_config"], checkpoint["state_dict"])
    except CheckpointError as exc:
        return str(exc).removeprefix(f"{path}: ")
    extra = checkpoint.get("extra") or {}
    expected = {"model_name": (checkpoint["model_name"], model), "fold": (extra.get("fold"), fold),
                "window_days": (extra.get("window_days"), window.window_days),
                "seed": (extra.get("seed"), window.fold_seed(model, fold))}
    for name, (found, wanted) in expected.items():
        if found is not None and found != wanted:  # a key an older seismag did not record is not checked
            return f"records {name} {found!r} where this run's fold has {wanted!r}"
    if not isinstance(extra.get("scaler"), dict):
        return "records no scaling statistics"
    return None


def _fold_shape_problems(paths: ArtifactPaths, fold: int, window: PreparedWindow):
    """(kind, problem) for each file of an older fold that does not read or fit the fold's rows."""
    train_rows, val_rows = window.splits[fold - 1]
    metrics_path = paths.fold_file(fold, "metrics")
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        if not isinstance(metrics, dict) or not isinstance(metrics.get("f1"), (int, float)):
            raise ValueError("not a fold's metrics (no numeric f1)")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        yield "metrics", f"cannot be read ({exc})"
    for kind, rows in (("train_probs", train_rows), ("train_labels", train_rows), ("test_probs", val_rows),
                       ("test_labels", val_rows), ("test_indices", val_rows)):
        path = paths.fold_file(fold, kind)
        try:
            array = np.load(path, allow_pickle=False)
        except Exception as exc:  # noqa: BLE001  (np.load raises many types for bad bytes)
            yield kind, f"cannot be read as .npy ({exc})"
            continue
        if array.ndim != 1 or len(array) != len(rows):
            yield kind, f"holds shape {array.shape}; fold {fold} has {len(rows)} such rows"
        elif kind == "test_indices" and not np.array_equal(np.sort(array), np.sort(val_rows)):
            yield kind, f"does not hold fold {fold}'s validation rows"
    try:
        parse_epoch_log(paths.fold_file(fold, "logs"))
    except DataError as exc:
        yield "logs", str(exc).removeprefix(f"{paths.fold_file(fold, 'logs')}: ")


def inspect_window_files(paths: ArtifactPaths) -> list[Damage]:
    """A model's ensemble and JSON files that exist but do not load (rebuilt from its folds)."""
    damage = []
    for kind in WINDOW_KINDS:
        path = paths.window_file(kind)
        if not path.is_file():
            continue
        try:
            if kind == "ensemble":
                model_registry.F1WeightedEnsemble.load(path)
            else:
                value = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(value, dict):
                    raise ValueError("not a JSON object")
        except CheckpointError as exc:
            damage.append(Damage(path, str(exc).removeprefix(f"{path}: "), None))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            damage.append(Damage(path, f"cannot be read ({exc})", None))
    return damage


def set_aside(damage: Iterable[Damage]) -> list[Path]:
    """Rename each damaged file with :data:`DAMAGED_SUFFIX` (``.damaged-2``, ... when taken),
    saying which and why; its fold (or model's ensemble files) is then rebuilt. Returns the new names."""
    kept = []
    for item in damage:
        target = item.path.with_name(item.path.name + DAMAGED_SUFFIX)
        number = 1
        while target.exists():
            number += 1
            target = item.path.with_name(f"{item.path.name}{DAMAGED_SUFFIX}-{number}")
        try:
            item.path.rename(target)
        except OSError as exc:
            raise SeismagError(f"{item.path}: damaged ({item.reason}) and cannot be set aside ({exc})") from None
        what = f"fold {item.fold} trains again" if item.fold else "rebuilt from its folds"
        logger.warning("--resume: %s: %s; kept aside as %s, %s", item.path, item.reason, target.name, what)
        kept.append(target)
    return kept
