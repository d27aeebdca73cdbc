"""Atomic file writing: a killed run never leaves a half-written artifact.

Every artifact (checkpoint, JSON, NPY, CSV, figure) is written to a temporary
file in the destination folder and renamed over the target, which is atomic on
POSIX and Windows file systems.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    If the body raises, the temporary file is removed and ``path`` is left as it
    was (absent, or the previous complete version).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Keep the real extension last: some writers (np.save, savefig) pick the
    # format from it or append their own.
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp" + (suffix if suffix is not None else target.suffix),
        dir=target.parent,
    )
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600 files; give artifacts the usual permissions (umask applied).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON, atomically. NumPy scalars/arrays are converted."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=_json_default) + "\n", encoding="utf-8")
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_npy(path: str | os.PathLike, array: np.ndarray) -> Path:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, np.asarray(array))
    return Path(path)


def save_torch(path: str | os.PathLike, obj: Any) -> Path:
    """``torch.save`` atomically. ``obj`` should hold only tensors and plain data."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
    return Path(path)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
