"""Errors that reach the user as one clear line.

Everything the user can cause (a bad file, a bad option) raises a subclass of
:class:`SeismagError`; the CLI prints its message and exits non-zero instead of
showing a traceback from deep inside NumPy or torch.
"""

from __future__ import annotations

import errno
import os


class SeismagError(Exception):
    """A problem with the user's input, configuration or environment."""


class DataError(SeismagError):
    """A data file is missing or does not hold what it should.

    The message always starts with the file's path, so the user knows which
    file to fix.
    """

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):
        # Picklable (Ray tasks, subprocesses) despite the two-argument constructor.
        return (type(self), (self.path, self.problem))


class ConfigError(SeismagError):
    """An unknown option, a value out of range, or an unreadable config file."""


class CheckpointError(SeismagError):
    """A checkpoint or ensemble file is corrupt, foreign or incompatible."""


class OutputError(SeismagError):
    """An output path cannot be written: permission, a file in a folder's place, a full disk.

    The message is ``"<path>: cannot write (<cause>)"``.
    """

    def __init__(self, path: str | os.PathLike, cause: str):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: cannot write ({cause})")

    def __reduce__(self):
        return (type(self), (self.path, self.cause))


#: errno -> the cause in words, for the OS errors a user can cause and fix.
_OS_ERROR_WORDS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.EEXIST: "exists and is not a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a directory",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENAMETOOLONG: "name too long",
    errno.ELOOP: "symbolic link loop",
    errno.ENOENT: "a folder on the path does not exist",
}


def describe_os_error(exc: OSError) -> str:
    """The cause of an OS error in words (``"permission denied"``), without the path."""
    words = _OS_ERROR_WORDS.get(exc.errno)
    if words is not None:
        return words
    return exc.strerror.lower() if exc.strerror else type(exc).__name__


def output_error(path: str | os.PathLike, exc: OSError) -> OutputError:
    """The :class:`OutputError` for an OS error met while writing ``path``.

    The path named is the one the OS names when it names one (the folder that could not
    be created, say), else ``path``.
    """
    where = exc.filename if isinstance(exc.filename, (str, bytes, os.PathLike)) and exc.filename else path
    return OutputError(os.fsdecode(where), describe_os_error(exc))
