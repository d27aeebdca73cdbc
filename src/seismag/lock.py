"""One writer per output folder.

Two commands writing into one folder (two trainings into one ``--out`` with
different seeds) would each exit 0 and leave a folder that mixes their files.
A writer holds ``{folder}/.seismag.lock`` (:data:`~seismag.layout.LOCK_FILE`)
while it writes: created atomically (``O_CREAT | O_EXCL``), it holds the
holder's pid, start time, command and host. A second writer is refused with
one line naming the holder. A lock whose pid is no longer alive on this host (a
killed run) is stale and taken over, with a note in the log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import ConfigError, output_error
from .io import make_folder
from .layout import LOCK_FILE

logger = logging.getLogger("seismag")


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, command: str) -> Iterator[Path]:
    """Hold ``folder``'s lock for the ``with`` block (the folder is created if needed).

    Yields the lock file's path. The lock is released when the block ends, on an
    error too.

    Raises
    ------
    ConfigError
        Another live process holds the lock (its pid, command and start time named).
    """
    folder = make_folder(folder)  # an output folder that cannot be made is one worded line
    path = folder / LOCK_FILE
    record = {"pid": os.getpid(), "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "command": command, "host": socket.gethostname()}
    _acquire(path, record)
    try:
        yield path
    finally:
        # Only our own lock: never remove one a later writer took over.
        if _read(path).get("pid") == record["pid"]:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _acquire(path: Path, record: dict[str, Any]) -> None:
    for _ in range(3):  # a stale lock taken over by another writer in between: look again
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read(path)
            if _alive(holder):
                raise ConfigError(
                    f"{path.parent}: in use by seismag {holder.get('command', '?')} (pid {holder.get('pid')}"
                    f"{_on_host(holder)}, started {holder.get('started_at', '?')}); wait for it to finish, "
                    f"or remove {path} if that process is gone") from None
            if _take_over(path, holder):
                logger.warning("%s: took over a stale lock of seismag %s (pid %s%s, started %s, no longer running)",
                               path.parent, holder.get("command", "?"), holder.get("pid"), _on_host(holder),
                               holder.get("started_at", "?"))
            continue
        except OSError as exc:  # a folder that refuses the lock file: permission, read-only, ...
            raise output_error(path, exc) from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        return
    raise ConfigError(f"{path.parent}: cannot take the lock {path}; another writer keeps taking it")


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _alive(holder: dict[str, Any]) -> bool:
    """Whether the lock's holder may still be running.

    An unreadable lock (a holder between creating and writing it) counts as alive;
    a holder on another host cannot be checked from here and counts as alive too.
    """
    pid = holder.get("pid")
    if not isinstance(pid, int):
        return True
    if holder.get("host") not in (None, socket.gethostname()):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _take_over(path: Path, holder: dict[str, Any]) -> bool:
    """Remove a stale lock, unless it changed since it was read (another writer took it)."""
    if _read(path) != holder:
        return False
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    return True


def _on_host(holder: dict[str, Any]) -> str:
    host = holder.get("host")
    return f" on {host}" if host and host != socket.gethostname() else ""
