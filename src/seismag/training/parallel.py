"""Independent folds in parallel worker processes on one machine.

The folds of one model and window (and the folds of every permutation of the
permutation control) are independent. On a CPU, N worker processes with one
thread each can beat one process running N threads: every parallel region of
the small per-step kernels waits for its slowest thread. ``fold_workers``
switches this on; 1 (the default) trains in this process, one fold after the
other, through the same function.

The window's features are written once to a temporary ``.npy`` file that every
worker maps copy-on-write, so the system holds one copy of the data however
many workers run. Each fold's seed derives from the run seed, so where a fold
runs does not change its numbers (with the same thread count).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import torch

from seismag.config import RunConfig
from seismag.errors import ConfigError, SeismagError
from seismag.training.tensors import WindowTensors
from seismag.runtime import configure_process

# A worker process's window, set once by its initializer.
_WORKER_TENSORS: WindowTensors | None = None


def worker_threads(config: RunConfig, workers: int) -> int:
    """Torch threads per worker: ``config.num_threads``, else the CPUs shared out (at least 1)."""
    if int(config.num_threads) > 0:
        return int(config.num_threads)
    return max(1, (os.cpu_count() or 1) // workers)


def _init_worker(features_path: str, labels: np.ndarray, window_days: int, steps_per_day: int,
                 config: RunConfig) -> None:
    global _WORKER_TENSORS
    configure_process(config)
    # Copy-on-write mapping: writable for torch, shared with the other workers until written (never).
    features = torch.from_numpy(np.load(features_path, mmap_mode="c"))
    _WORKER_TENSORS = WindowTensors(features, torch.from_numpy(labels), window_days, steps_per_day)


def _run_in_worker(fn: Callable[..., Any], task: Any) -> Any:
    return call_task(fn, _WORKER_TENSORS, task)


def call_task(fn: Callable[..., Any], tensors: WindowTensors, task: Any, **extra: Any) -> Any:
    """``fn(tensors, **task)`` for a mapping of keyword arguments, else ``fn(tensors, task)``
    (a task object such as :class:`~seismag.training.kfold.FoldTask`)."""
    if isinstance(task, Mapping):
        return fn(tensors, **task, **extra)
    return fn(tensors, task, **extra)


def check_fold_workers(config: RunConfig, device: torch.device) -> None:
    """Fold workers are CPU processes: more than one is refused on another device."""
    workers = int(config.fold_workers)
    if workers > 1 and device.type != "cpu":
        raise ConfigError(f"fold_workers {workers} runs folds in CPU processes; on {device.type} "
                          "train with fold_workers 1 (several GPUs: --executor ray)")


class FoldRunner:
    """Runs ``fn(tensors, task)`` for a list of tasks, here or in ``config.fold_workers`` processes.

    ``fn`` must be a module-level function (workers import it by name) and its
    tasks and results picklable. The pool of workers starts on the first
    parallel run and serves every later one (every model of a window). Use as a
    context manager: workers and the temporary data file live until the
    ``with`` block ends.
    """

    def __init__(self, tensors: WindowTensors, config: RunConfig, device: torch.device):
        self.tensors = tensors
        self.config = config
        self.workers = int(config.fold_workers)
        check_fold_workers(config, device)
        self._pool: ProcessPoolExecutor | None = None
        self._folder: str | None = None

    @property
    def parallel(self) -> bool:
        return self.workers > 1

    def __enter__(self) -> "FoldRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            try:
                self._folder = tempfile.mkdtemp(prefix="seismag-folds-")
                path = Path(self._folder) / "features.npy"
                np.save(path, self.tensors.features.cpu().numpy())
            except OSError as exc:
                where = self._folder or tempfile.gettempdir()
                raise SeismagError(f"{where}: cannot write the fold workers' copy of the data ({exc.strerror or exc}); "
                                   "point TMPDIR at a folder with room, or use fold_workers 1") from None
            threads = worker_threads(self.config, self.workers)
            worker_config = dataclasses.replace(self.config, num_threads=threads)
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(str(path), self.tensors.labels.cpu().numpy(), self.tensors.window_days,
                          self.tensors.steps_per_day, worker_config))
        return self._pool

    def run(self, fn: Callable[..., Any], tasks: Sequence[Any],
            local_extra: Callable[[Any], dict[str, Any]] | None = None) -> Iterator[tuple[int, Any]]:
        """Yield ``(task index, result)`` as tasks finish (in order when run here).

        Each task is a picklable object passed to ``fn(tensors, task)``, or a
        mapping of keyword arguments (``fn(tensors, **task)``).

        ``local_extra(task)`` adds keyword arguments only when running in this
        process (e.g. a progress callback, which cannot cross processes).
        """
        # With workers, even a single task runs in one: its thread count (and so its
        # floating-point order) is then the same as in an uninterrupted run (--resume).
        if not self.parallel or not tasks:
            for index, task in enumerate(tasks):
                yield index, call_task(fn, self.tensors, task, **(local_extra(task) if local_extra else {}))
            return
        pool = self._start()
        pending = {pool.submit(_run_in_worker, fn, task): index for index, task in enumerate(tasks)}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        raise SeismagError(
                            f"a fold worker process died (killed, e.g. out of memory?) with {self.workers} workers; "
                            "finished folds are on disk: rerun with --resume and fewer --fold-workers") from None
                    yield index, result
        finally:
            for future in pending:
                future.cancel()
