"""Where a study lives: Optuna's RDB storage (SQLite by default, or a URL), shared by processes.

Every process given the same storage URL and study name works on one study;
the default is an SQLite file ``tune.db`` in the output folder. This module is
also the one door to Optuna (:func:`import_optuna`), so that a missing install
is one clear message.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import Iterator

from seismag.errors import ConfigError


def import_optuna():
    """The ``optuna`` module, or a ConfigError that says how to install it."""
    try:
        import optuna
    except ImportError:
        raise ConfigError("hyperparameter search needs Optuna: pip install 'seismag[tune]'") from None
    return optuna


def default_storage_url(out_dir: Path) -> str:
    """``sqlite:///{out_dir}/tune.db`` with an absolute path, so that a worker's working folder does not matter."""
    return f"sqlite:///{(Path(out_dir) / 'tune.db').resolve()}"


def open_storage(url: str, attempts: int = 5):
    """An Optuna RDB storage for ``url``.

    SQLite waits up to two minutes for a lock instead of failing when processes
    write at once. Creating the tables of a new database is retried, since
    several processes may try it at the same moment (for SQLite
    :func:`storage_lock` serialises it).
    """
    optuna = import_optuna()
    kwargs = {}
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 120}}
    for attempt in range(1, attempts + 1):
        try:
            return optuna.storages.RDBStorage(url, **kwargs)
        except Exception as exc:  # sqlalchemy's errors; sqlalchemy is optuna's dependency, not ours
            if attempt == attempts or type(exc).__module__.split(".")[0] not in ("sqlalchemy", "optuna"):
                raise ConfigError(f"cannot open the Optuna storage {redact_url(url)}: {exc}") from exc
            time.sleep(0.2 * attempt)


@contextlib.contextmanager
def storage_lock(url: str) -> Iterator[None]:
    """An exclusive lock on ``{db}.lock`` beside an SQLite database (POSIX); no-op otherwise.

    SQLite serves processes on one machine only, so a local file lock covers it.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fcntl = None
    if fcntl is None or not url.startswith("sqlite:///"):
        yield
        return
    path = Path(url[len("sqlite:///"):] + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def redact_url(url: str) -> str:
    """A storage URL without its password (it is written to files and logs)."""
    return re.sub(r"(//[^:/@]+):[^@/]*@", r"\1:***@", str(url))
