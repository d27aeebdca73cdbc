"""Atomic file writing: a killed run never leaves a half-written artifact.

Every artifact (checkpoint, JSON, NPY, CSV, figure) is written to a temporary
file in the destination folder and renamed over the target, which is atomic on
POSIX and Windows file systems.
"""

from __future__ import annotations

import contextlib
import json
import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from seismag.errors import OutputError, describe_os_error, output_error


def make_folder(path: str | os.PathLike) -> Path:
    """``mkdir -p`` an output folder; an OS error becomes one :class:`OutputError` line."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTDIR):
            # Name the file that stands where a folder should be, not the folder asked for.
            for part in (folder, *folder.parents):
                if part.exists() and not part.is_dir():
                    raise OutputError(part, "exists and is not a folder") from None
        raise output_error(folder, exc) from None
    return folder


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    If the body raises, the temporary file is removed and ``path`` is left as it
    was (absent, or the previous complete version). An OS error while writing
    (permission, a folder in the file's place, a full disk), or torch's wrapped
    write failure, becomes an :class:`~seismag.errors.OutputError` naming ``path``.
    """
    target = Path(path)
    make_folder(target.parent)
    if target.is_dir():  # os.replace would say so only after the whole file is written
        raise OutputError(target, describe_os_error(OSError(errno.EISDIR, "")))
    # Keep the real extension last: some writers (np.save, savefig) pick the
    # format from it or append their own.
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp" + (suffix if suffix is not None else target.suffix),
            dir=target.parent,
        )
    except OSError as exc:
        raise OutputError(target, describe_os_error(exc)) from None
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600 files; give artifacts the usual permissions (umask applied).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
            raise OutputError(target, describe_os_error(exc)) from None
        if _is_torch_write_failure(exc) or _is_short_write(exc):
            raise OutputError(target, _failed_write_cause(target)) from None
        raise


# The OS errors a write can meet that are the user's to fix (the rest stay tracebacks).
_WRITE_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.EEXIST, errno.ENOTDIR, errno.EISDIR,
                 errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.ENAMETOOLONG}


def _is_torch_write_failure(exc: BaseException) -> bool:
    # torch.save reports a failed write as RuntimeError from its zip writer
    # ("[enforce fail at inline_container.cc] ... file write failed"), never as OSError.
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("inline_container" in text or "file write failed" in text)


def _is_short_write(exc: BaseException) -> bool:
    # np.save (ndarray.tofile) reports a full disk as "N requested and M written", errno unset.
    return isinstance(exc, OSError) and exc.errno is None and "requested and" in str(exc)


def _failed_write_cause(target: Path) -> str:
    # torch and NumPy never say why; a full disk is by far the usual reason.
    try:
        if shutil.disk_usage(target.parent).free < 1 << 20:
            return describe_os_error(OSError(errno.ENOSPC, ""))
    except OSError:
        pass
    return "the write failed; is the disk full?"


def reserve_space(path: str | os.PathLike) -> None:
    """Allocate the disk blocks of the file at ``path`` (its current size) now.

    A memory-mapped file is sparse until written; on a full disk the write through the
    map then kills the process (SIGBUS) instead of raising. Reserving first turns that
    into ``OSError(ENOSPC)``, which :func:`atomic_path` words. A no-op where the OS has
    no ``posix_fallocate`` or the file system does not support it.
    """
    if not hasattr(os, "posix_fallocate"):
        return
    with open(path, "r+b") as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            os.posix_fallocate(handle.fileno(), 0, size)
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                return
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
        # Through a file object: torch names the archive inside after a file path (here
        # the random temp name), so the same payload would give other bytes every save.
        with open(tmp, "wb") as handle:
            torch.save(obj, handle)
    return Path(path)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
