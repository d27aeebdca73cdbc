"""Errors that reach the user as one clear line.

Everything the user can cause (a bad file, a bad option) raises a subclass of
:class:`SeismagError`; the CLI prints its message and exits non-zero instead of
showing a traceback from deep inside NumPy or torch.
"""

from __future__ import annotations

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
