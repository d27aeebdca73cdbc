"""One writer per output folder.

Two commands writing into one folder (two trainings into one ``--out`` with
different seeds) would each exit 0 and leave a folder that mixes their files.
A writer holds ``{folder}/.seismag.lock`` (:data:`LOCK_FILE`)
while it writes: created atomically (``O_CREAT | O_EXCL``), it holds the
holder's pid, start time, command and host. A second writer is refused with
one line naming the holder. A lock whose pid is no longer alive on this host (a
killed run) is stale and taken over, with a note in the log. Writers that share one
output on purpose (several ``seismag tune`` processes of one study) hold the lock
together: it lists them, and goes when the last one leaves. Reading and rewriting the
lock file happens under a short-lived mutex file beside it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from seismag.errors import ConfigError, output_error
from seismag.io import make_folder

#: Present while train, synth or build writes into a results or seed-layout folder
#: (:func:`folder_lock`); hidden, and no reader looks at it.
LOCK_FILE = ".seismag.lock"

logger = logging.getLogger("seismag")


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, command: str, share: str | None = None) -> Iterator[Path]:
    """Hold ``folder``'s lock for the ``with`` block (the folder is created if needed).

    Yields the lock file's path. The lock is released when the block ends, on an
    error too. ``share``: writers of the same ``command`` and ``share`` may hold the
    lock together (several ``seismag tune`` processes of one study in one folder);
    anyone else is refused while one of them runs.

    Raises
    ------
    ConfigError
        Another live process holds the lock (its pid, command and start time named).
    """
    folder = make_folder(folder)  # an output folder that cannot be made is one worded line
    path = folder / LOCK_FILE
    record = {"pid": os.getpid(), "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "command": command, "host": socket.gethostname()}
    _acquire(path, record, share)
    try:
        yield path
    finally:
        _release(path, record)


def _holders(lock: dict[str, Any]) -> list[dict[str, Any]]:
    """Who holds a lock: its ``holders`` (a shared lock), else the one writer it names."""
    holders = lock.get("holders")
    return [h for h in holders if isinstance(h, dict)] if isinstance(holders, list) else ([lock] if lock else [])


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.get("pid") == b.get("pid") and a.get("host") == b.get("host")


def _acquire(path: Path, record: dict[str, Any], share: str | None) -> None:
    with _mutex(path):
        lock = _read(path) if path.exists() else None
        if lock is not None:
            holders = _holders(lock) or [lock]  # unreadable: counts as a live holder
            live = [h for h in holders if _alive(h)]
            if live:
                if share is not None and lock.get("share") == share and lock.get("command") == record["command"]:
                    _write(path, {**lock, "holders": live + [record]})  # joins the writers of one study
                    return
                holder = live[0]
                raise ConfigError(
                    f"{path.parent}: in use by seismag {holder.get('command', '?')} (pid {holder.get('pid')}"
                    f"{_on_host(holder)}, started {holder.get('started_at', '?')}); wait for it to finish, "
                    f"or remove {path} if that process is gone")
            for holder in holders:
                logger.warning("%s: took over a stale lock of seismag %s (pid %s%s, started %s, no longer running)",
                               path.parent, holder.get("command", "?"), holder.get("pid"), _on_host(holder),
                               holder.get("started_at", "?"))
        _write(path, {**record, "share": share, "holders": [record]} if share is not None else record)


def _release(path: Path, record: dict[str, Any]) -> None:
    """Leave the lock: remove it when this was its last live holder; never touch one a
    later writer took over."""
    with contextlib.suppress(ConfigError), _mutex(path):
        lock = _read(path)
        holders = _holders(lock)
        if not any(_same(h, record) for h in holders):
            return
        rest = [h for h in holders if not _same(h, record) and _alive(h)]
        if rest:
            _write(path, {**lock, **rest[0], "holders": rest})
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _write(path: Path, lock: dict[str, Any]) -> None:
    """Replace the lock file whole (a reader never sees half a record)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(lock) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # a folder that refuses the lock file: permission, read-only, ...
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise output_error(path, exc) from None


# A mutex held only while the lock file is read and rewritten (milliseconds); one left
# behind by a killed process is stale after MUTEX_STALE_S.
MUTEX_STALE_S = 10.0


@contextlib.contextmanager
def _mutex(path: Path) -> Iterator[None]:
    mutex = path.with_name(path.name + ".mutex")
    deadline = time.monotonic() + 2 * MUTEX_STALE_S
    while True:
        try:
            os.close(os.open(mutex, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            break
        except FileExistsError:
            with contextlib.suppress(OSError):
                if time.time() - mutex.stat().st_mtime > MUTEX_STALE_S:
                    mutex.unlink()
                    continue
            if time.monotonic() > deadline:
                raise ConfigError(f"{path.parent}: the lock's mutex {mutex} stays taken; remove it if no "
                                  "seismag command is running") from None
            time.sleep(0.01)
        except OSError as exc:
            raise output_error(path, exc) from None
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            mutex.unlink()


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


def _on_host(holder: dict[str, Any]) -> str:
    host = holder.get("host")
    return f" on {host}" if host and host != socket.gethostname() else ""
