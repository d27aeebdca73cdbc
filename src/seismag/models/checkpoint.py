"""Checkpoints as plain dicts of tensors and plain data.

A checkpoint carries everything needed to rebuild its model (registry name and
config), so it loads with ``torch.load(path, map_location='cpu',
weights_only=True)`` -- no pickled classes, no code execution -- on any
machine, whatever device it was saved from. Layout (``format_version`` 1)::

    {"format": "seismag-checkpoint", "format_version": 1,
     "seismag_version": str, "torch_version": str,
     "model_name": str, "model_config": dict,
     "state_dict": {name: tensor (CPU)},
     "optimizer_state": dict | None, "epoch": int | None,
     "metrics": dict | None, "extra": dict,
     "created_at": str (UTC, ISO 8601),
     "tensor_sha256": str, "metadata_sha256": {entry: str}}

``tensor_sha256`` (see :func:`tensor_checksum`) covers every tensor in the
file, ``metadata_sha256`` (see :func:`metadata_checksums`) every other entry
(one digest per top-level entry and per ``extra`` key: the recorded window
length, steps per day, channels, scaling kind, calibrator, ...); loading
recomputes both, so bytes damaged on disk or in transfer, or an entry edited
by hand, are an error naming the entry instead of silently different
predictions. Files written before a checksum existed load without that check.
Weights (and ``extra``'s tensors, such as scaling statistics) must be finite
whether or not the file has a checksum.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
import os
import re
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch import nn

from seismag import __version__
from seismag.errors import CheckpointError, ConfigError
from seismag.io import save_torch
from seismag.models.registry import build_model, get_model_entry, unwrap_model

CHECKPOINT_FORMAT = "seismag-checkpoint"
ENSEMBLE_FORMAT = "seismag-ensemble"
FORMAT_VERSION = 1
#: The payload key of the checksum; files without it predate it and load unverified.
CHECKSUM_KEY = "tensor_sha256"
#: The payload key of the metadata digests (one per plain entry); absent in older files.
METADATA_CHECKSUM_KEY = "metadata_sha256"
#: The payload key of a checkpoint's creation time (UTC, ISO 8601, seconds).
CREATED_AT_KEY = "created_at"
#: Payload keys whose tensors must be finite: the weights and what predictions read beside
#: them (scaling statistics in ``extra``); not optimizer state or metrics.
_FINITE_KEYS = ("state_dict", "members", "extra")

_FORMAT_HINTS = {
    CHECKPOINT_FORMAT: "a model checkpoint; load it with seismag.models.load_model_checkpoint",
    ENSEMBLE_FORMAT: "an ensemble; load it with seismag.models.F1WeightedEnsemble.load",
}


def save_model_checkpoint(
    model: nn.Module,
    path: str | os.PathLike,
    optimizer: torch.optim.Optimizer | Mapping[str, Any] | None = None,
    epoch: int | None = None,
    metrics: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    created_at: datetime | None = None,
) -> Path:
    """Write a model checkpoint atomically (temp file + rename).

    Parameters
    ----------
    model : nn.Module
        A seismag model, possibly wrapped in ``DataParallel``/DDP/``torch.compile``.
    path : path-like
        Target ``.pth`` file; parent folders are created.
    optimizer : Optimizer or its state dict, optional
        Stored as ``optimizer_state`` so training can resume.
    epoch : int, optional
    metrics : mapping, optional
        Plain data (NumPy scalars become Python numbers).
    extra : mapping, optional
        Plain data and tensors: fold index, scaler mean/std, run config...
        NumPy arrays are stored as tensors and dataclasses as dicts.
    created_at : datetime, optional
        The time recorded as ``created_at`` (UTC, ISO 8601); now by default
        (the SPEC's "timestamp for version control").

    Returns the path written.

    Raises
    ------
    TypeError
        ``metrics`` or ``extra`` hold something that is neither a tensor nor
        plain data (it would not load with ``weights_only=True``).
    """
    model = unwrap_model(model)
    if not hasattr(model, "config") or not hasattr(model, "model_name"):
        raise TypeError(f"{type(model).__name__} is not a seismag model (it has no config/model_name)")
    if optimizer is not None and not isinstance(optimizer, Mapping):
        optimizer = optimizer.state_dict()
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "format_version": FORMAT_VERSION,
        "seismag_version": __version__,
        "torch_version": str(torch.__version__),
        "model_name": model.model_name,
        "model_config": model.config.to_dict(),
        "state_dict": cpu_state_dict(model),
        "optimizer_state": to_plain(optimizer, "optimizer") if optimizer is not None else None,
        "epoch": to_plain(epoch, "epoch"),
        "metrics": to_plain(metrics, "metrics") if metrics is not None else None,
        "extra": to_plain(dict(extra or {}), "extra"),
        CREATED_AT_KEY: iso_time(created_at or utc_now()),
    }
    return save_torch(path, with_checksum(checkpoint))


def utc_now() -> datetime:
    """Now, in UTC, to the second (what a checkpoint records as its creation time)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso_time(moment: datetime) -> str:
    """``2026-12-07T08:30:15+00:00``: ISO 8601 in UTC, as ``created_at`` holds it."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def file_stamp(moment: datetime) -> str:
    """``20261207T083015Z``: the same time in ISO 8601's basic form, for file names."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def load_model_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu",
                          model_class: type | None = None) -> tuple[nn.Module, dict]:
    """Rebuild a model from a checkpoint written by :func:`save_model_checkpoint`.

    The file is read on the CPU with ``weights_only=True``; the model is then
    moved to ``device`` and returned in eval mode. ``model_class``: rebuild it as
    this class (the registered one or a subclass of it for the stored model, such
    as a SPEC classifier); the registered class by default.

    Returns
    -------
    model : nn.Module
    checkpoint : dict
        The whole checkpoint (tensors on the CPU): ``epoch``, ``metrics``,
        ``optimizer_state``, ``extra``...

    Raises
    ------
    CheckpointError
        One line naming the file: missing, corrupt, not a PyTorch file, not a
        seismag checkpoint, from a newer seismag, damaged (tensors that do
        not match the stored checksum, or non-finite weights), weights that
        do not fit the stored config, or a model ``model_class`` cannot be.
    """
    checkpoint = read_seismag_file(path, CHECKPOINT_FORMAT)
    model = model_from_parts(path, checkpoint["model_name"], checkpoint["model_config"], checkpoint["state_dict"],
                             model_class)
    return model.to(device).eval(), checkpoint


def read_seismag_file(path: str | os.PathLike, expected_format: str) -> dict:
    """Load a seismag ``.pth`` file safely, check its format header and its tensors.

    Raises
    ------
    CheckpointError
        The file is missing, unreadable, foreign or of another format/version;
        or damaged (see :func:`verify_tensors`).
    """
    what = "ensemble file" if expected_format == ENSEMBLE_FORMAT else "checkpoint"
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such {what}")
    try:
        with warnings.catch_warnings():
            # A plain pickle triggers a protocol warning before the refusal;
            # the CheckpointError below says all the user needs.
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for bad bytes; all mean "unreadable"
        raise CheckpointError(f"{path}: not a seismag {what}: {_load_failure(path, exc)}") from exc
    if not isinstance(data, dict) or "format" not in data:
        raise CheckpointError(
            f"{path}: not a seismag {what}: a PyTorch file without seismag's 'format' entry "
            "(a bare state_dict, or another program's checkpoint)"
        )
    found = data["format"]
    if found != expected_format:
        hint = _FORMAT_HINTS.get(found, f"unknown format {found!r}")
        raise CheckpointError(f"{path}: not a seismag {what}: it is {hint}")
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: {what} format_version {version!r} is not supported by seismag {__version__} "
            f"(reads up to {FORMAT_VERSION}); upgrade seismag"
        )
    if expected_format == CHECKPOINT_FORMAT:
        required = ("model_name", "model_config", "state_dict")
    else:
        required = ("model_name", "members", "weights", "strategy")
    missing = [key for key in required if key not in data]
    if missing:
        raise CheckpointError(f"{path}: damaged {what}: missing {', '.join(missing)}")
    verify_tensors(path, data)
    return data


def with_checksum(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` plus its :data:`CHECKSUM_KEY` and :data:`METADATA_CHECKSUM_KEY` entries, ready to save."""
    return {**payload, CHECKSUM_KEY: tensor_checksum(payload), METADATA_CHECKSUM_KEY: metadata_checksums(payload)}


def metadata_checksums(payload: Mapping[str, Any]) -> dict[str, str]:
    """SHA-256 (hex) of every entry of ``payload`` apart from the checksums: one per
    top-level entry, and one per key of a mapping ``extra`` (``"extra.window_days"``).

    An entry is digested as canonical JSON (keys sorted) with each tensor replaced by its
    dtype and shape (its bytes are :func:`tensor_checksum`'s), so whatever a writer puts
    in ``extra`` -- recorded inputs, protocol, a calibrator -- is covered without being
    listed here, and an edited entry is named when the file is loaded.
    """
    digests = {}
    for key, value in payload.items():
        if key in (CHECKSUM_KEY, METADATA_CHECKSUM_KEY):
            continue
        if key == "extra" and isinstance(value, Mapping):
            for name, item in value.items():
                digests[f"extra.{name}"] = _digest(item)
            digests["extra"] = _digest(sorted(map(str, value)))  # which keys it holds
        else:
            digests[str(key)] = _digest(value)
    return digests


def _digest(value: Any) -> str:
    text = json.dumps(_canonical(value), sort_keys=True, allow_nan=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return f"<tensor {value.dtype} {tuple(value.shape)}>"
    if isinstance(value, Mapping):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def verify_metadata(path: str | os.PathLike, data: Mapping[str, Any]) -> None:
    """Check a loaded payload's plain entries against its stored :func:`metadata_checksums`.

    Raises
    ------
    CheckpointError
        One line naming the file and the first entry that differs from what was saved
        (with the value it holds now), or an entry added or removed since.
    """
    stored = data.get(METADATA_CHECKSUM_KEY)
    if not isinstance(stored, Mapping):
        return  # written before metadata checksums
    found = metadata_checksums(data)
    for name in sorted(set(stored) | set(found), key=lambda n: (n == "extra", n)):
        if stored.get(name) == found.get(name):
            continue
        if name not in found:
            what = f"its entry {name} is missing"
        elif name not in stored:
            what = f"its entry {name} was added after it was saved"
        else:
            what = f"its recorded {name} ({_shown(data, name)}) is not what was saved (checksum mismatch)"
        raise CheckpointError(f"{path}: damaged: {what}; the file was edited or damaged after it was saved; "
                              "restore it from a copy or retrain")


def _shown(data: Mapping[str, Any], name: str, limit: int = 60) -> str:
    value = data["extra"][name[len("extra."):]] if name.startswith("extra.") else data.get(name)
    text = json.dumps(_canonical(value), sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def tensor_checksum(payload: Mapping[str, Any]) -> str:
    """SHA-256 (hex) over every tensor in ``payload``: its place, dtype, shape and bytes.

    Tensors are visited in a fixed order (mapping keys sorted, sequences in
    order), each named by its place in the payload (``members[0].state_dict.fc.weight``),
    so a tensor moved to another place also changes the digest. Plain values
    are not covered. The :data:`CHECKSUM_KEY` entry itself is skipped.
    """
    digest = hashlib.sha256()
    for name, tensor in _named_tensors(payload):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        # uint8 view: every dtype (bfloat16 included) as its raw bytes, without a copy.
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().data)
    return digest.hexdigest()


def verify_tensors(path: str | os.PathLike, data: Mapping[str, Any]) -> None:
    """Check a loaded payload's checksums (when it has them) and that its weights are finite.

    Raises
    ------
    CheckpointError
        One line naming the file: the tensors do not match the stored
        checksum, an entry does not match its metadata checksum
        (:func:`verify_metadata`), or a weight tensor holds NaN or infinity.
    """
    stored = data.get(CHECKSUM_KEY)
    if stored is not None and stored != tensor_checksum(data):
        raise CheckpointError(
            f"{path}: damaged: the weights do not match their checksum (the file changed after it "
            "was saved); restore it from a copy or retrain"
        )
    verify_metadata(path, data)
    for name, tensor in _named_tensors({key: data[key] for key in _FINITE_KEYS if key in data}):
        if tensor.is_floating_point() or tensor.is_complex():
            bad = int((~torch.isfinite(tensor)).sum())
            if bad:
                raise CheckpointError(
                    f"{path}: damaged: {name} holds {bad} non-finite value{'s' * (bad != 1)} "
                    f"(NaN or infinity) of {tensor.numel()}; these weights cannot give predictions"
                )


def _named_tensors(value: Any, name: str = ""):
    """Yield ``(place, tensor)`` for every tensor in nested dicts/lists/tuples, in a fixed order."""
    if isinstance(value, torch.Tensor):
        yield name, value
    elif isinstance(value, Mapping):
        for key in sorted(value, key=str):
            if not name and key == CHECKSUM_KEY:
                continue
            yield from _named_tensors(value[key], f"{name}.{key}" if name else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _named_tensors(item, f"{name}[{index}]")


def model_from_parts(
    path, model_name: str, model_config: Mapping[str, Any], state_dict: Mapping[str, Any],
    model_class: type | None = None,
) -> nn.Module:
    """Build a registered model (as ``model_class`` when given) and load weights,
    turning failures into one-line errors."""
    try:
        entry = get_model_entry(model_name)
    except ConfigError as exc:
        raise CheckpointError(f"{path}: stored model config is not usable: {exc}") from exc
    if model_class is not None and not entry.is_class_of(model_class):
        shown = entry.model_class.__name__ if entry.model_class is not None else "a registered builder"
        raise CheckpointError(
            f"{path}: holds a {model_name!r} model ({shown}), which {model_class.__name__}.load_checkpoint "
            "cannot return; use seismag.models.load_model_checkpoint"
        )
    try:
        model = build_model(model_name, model_config, model_class)
    except ConfigError as exc:
        raise CheckpointError(f"{path}: stored model config is not usable: {exc}") from exc
    try:
        model.load_state_dict(state_dict)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise CheckpointError(
            f"{path}: weights do not fit a {model_name!r} model with the stored config ({_first_line(exc)})"
        ) from exc
    return model


def cpu_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict with every tensor detached on the CPU (GPU checkpoints load anywhere)."""
    return {key: value.detach().cpu() for key, value in model.state_dict().items()}


def to_plain(value: Any, where: str = "value") -> Any:
    """Convert ``value`` into data that ``torch.load(weights_only=True)`` accepts.

    Tensors go to the CPU; NumPy arrays become tensors and NumPy scalars Python
    numbers; paths and devices become strings; dataclasses become dicts.

    Raises
    ------
    TypeError
        Something else (an arbitrary object) that would need pickling.
    """
    if value is None:
        return None
    # Subclasses (TorchVersion, IntEnum, ...) would be pickled as their class,
    # which weights_only loading refuses; store the base type.
    for base in (bool, int, float, str):
        if isinstance(value, base):
            return base(value)
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError(f"{where}: object arrays cannot be stored in a checkpoint")
        return torch.from_numpy(np.ascontiguousarray(value).copy())
    if isinstance(value, (np.generic, numbers.Number)) and not isinstance(value, complex):
        return value.item() if hasattr(value, "item") else float(value)
    if isinstance(value, (os.PathLike, torch.device, torch.dtype)):
        return str(value)
    if hasattr(value, "to_dict") and dataclasses.is_dataclass(value):
        return to_plain(value.to_dict(), where)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_plain({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, where)
    if isinstance(value, Mapping):
        plain = {}
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(f"{where}: dict keys must be str or int, got {key!r}")
            plain[to_plain(key)] = to_plain(item, f"{where}[{key!r}]")
        return plain
    if isinstance(value, (list, tuple)):
        items = [to_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
        return tuple(items) if isinstance(value, tuple) else items
    raise TypeError(
        f"{where}: a {type(value).__name__} cannot be stored in a checkpoint "
        "(only tensors, NumPy arrays and plain data load with weights_only=True)"
    )


def _load_failure(path: Path, exc: BaseException) -> str:
    """A short reason for a failed ``torch.load`` (torch's own messages are paragraphs)."""
    if path.stat().st_size == 0:
        return "the file is empty"
    text = str(exc)
    refused = re.search(r"Unsupported global: GLOBAL (\S+)", text)
    if refused:
        return (
            f"it holds a pickled Python object ({refused.group(1)}), which seismag does not "
            "unpickle because that could run arbitrary code"
        )
    if "Weights only load failed" in text:
        return "not a PyTorch checkpoint file (or a plain pickle, which seismag does not load for safety)"
    return f"not a PyTorch checkpoint file, or a truncated one ({_first_line(exc)})"


def _first_line(exc: BaseException, limit: int = 160) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    # load_state_dict puts the useful detail ("size mismatch for ...") on line 2.
    if len(lines) > 1 and lines[0].startswith("Error(s) in loading state_dict"):
        lines = lines[1:]
    line = lines[0] if lines else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."
