"""Executors for the experiment's units of work (one model's k-fold run on one window).

The local executor lives in :func:`seismag.training.pipeline.run_experiment`;
this module runs the same units as Ray tasks, on a local Ray instance or on an
existing cluster. A unit is :func:`~seismag.training.unit.train_unit`: it
loads its own window, derives every fold's seed from the run seed and writes
its artifacts under ``out_dir``, so where it runs does not change its numbers.
Every node therefore needs seismag installed and must see ``data_dir`` and
``out_dir`` at the same paths (a shared file system on a cluster).

Ray is an optional extra (``pip install 'seismag[ray]'``), imported only here.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

from seismag.config import RunConfig
from seismag.errors import ConfigError, SeismagError

logger = logging.getLogger("seismag")

Unit = tuple[str, int]  # (model name, window_days)


def import_ray():
    """The ``ray`` module, or a ConfigError that says how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError("the Ray executor needs Ray: pip install 'seismag[ray]' "
                          "(or use --executor local)") from None
    return ray


def run_units_ray(config: RunConfig, data_dir, out_dir, units: Sequence[Unit], *, resume: bool = False,
                  address: str | None = None, num_cpus: int | None = None, cpus_per_unit: int = 1,
                  gpus_per_unit: float | None = None) -> dict[Unit, dict[str, Any]]:
    """Run each ``(model, window_days)`` unit as one Ray task; return ``{unit: summary}``.

    Parameters
    ----------
    config : RunConfig
        The run's configuration (the same for every unit, as in a local run).
    data_dir, out_dir : path
        Seed-layout data and the results folder; made absolute, and every Ray
        node must see them at those paths.
    units : sequence of (str, int)
        ``(model, window_days)`` pairs.
    resume : bool
        Skip folds complete on disk (``--resume``).
    address : str, optional
        Where Ray runs when it is not initialised in this process yet: None
        starts a local instance (stopped again afterwards), ``'auto'`` joins the
        cluster this machine belongs to, ``'ray://host:10001'`` a remote one. A
        Ray already initialised here (``ray.init`` called by the caller) is used
        as it is and left running.
    num_cpus : int, optional
        CPUs of a local instance started here (default: all).
    cpus_per_unit : int
        CPUs each task reserves; the task's PyTorch uses that many threads.
    gpus_per_unit : float, optional
        GPUs each task reserves. Default: 1 when the configuration asks for
        CUDA (``device='cuda...'``, or ``'auto'`` on a cluster that has GPUs),
        else 0.

    Returns
    -------
    dict
        ``{(model, window_days): summary}``, the summaries
        :func:`~seismag.training.unit.train_unit` returns.

    Raises
    ------
    ConfigError
        Ray is not installed, or the configuration asks for CUDA on a cluster without GPUs.
    SeismagError
        Whatever a unit raised for bad input (re-raised as itself, not wrapped by Ray).
    """
    ray = import_ray()
    if int(cpus_per_unit) < 1:
        raise ConfigError(f"cpus_per_unit must be at least 1, got {cpus_per_unit}")
    started_here = not ray.is_initialized()
    if started_here:
        init_kwargs: dict[str, Any] = {"address": address, "log_to_driver": True}
        if address is None and num_cpus is not None:
            init_kwargs["num_cpus"] = int(num_cpus)
        ray.init(**init_kwargs)
    try:
        gpus = _gpus_per_unit(ray, config, gpus_per_unit)
        task_config = _task_config(config, gpus)
        data_dir, out_dir = str(Path(data_dir).resolve()), str(Path(out_dir).resolve())
        remote = ray.remote(_run_unit).options(num_cpus=int(cpus_per_unit), num_gpus=gpus, max_retries=0)
        refs = {unit: remote.remote(task_config, data_dir, out_dir, unit[0], int(unit[1]), resume,
                                    int(cpus_per_unit)) for unit in units}
        logger.info("ray: %d unit(s) submitted (%d CPU%s%s each) to %s", len(refs), cpus_per_unit,
                    "" if cpus_per_unit == 1 else "s", f", {gpus:g} GPU" if gpus else "",
                    address or ("a local Ray instance" if started_here else "the running Ray instance"))
        summaries: dict[Unit, dict[str, Any]] = {}
        for unit, ref in refs.items():
            result = ray.get(ref)
            if isinstance(result, UnitFailure):
                raise result.rebuild()
            summaries[unit] = result
        return summaries
    finally:
        if started_here:
            ray.shutdown()


@dataclasses.dataclass(frozen=True)
class UnitFailure:
    """A unit's bad-input error, carried back as plain data.

    Returned instead of raised: Ray would wrap the exception in its own error
    (and cannot rebuild exception classes whose constructor takes other
    arguments than the message, such as DataError).
    """

    kind: str
    message: str
    path: str | None = None
    problem: str | None = None

    @classmethod
    def from_exception(cls, exc: SeismagError) -> "UnitFailure":
        return cls(type(exc).__name__, str(exc), getattr(exc, "path", None), getattr(exc, "problem", None))

    def rebuild(self) -> SeismagError:
        from seismag import errors

        if self.kind == "DataError" and self.path is not None:
            return errors.DataError(self.path, self.problem)
        error_class = getattr(errors, self.kind, SeismagError)
        if not (isinstance(error_class, type) and issubclass(error_class, SeismagError)):
            error_class = SeismagError
        return error_class(self.message)


def _gpus_per_unit(ray, config: RunConfig, requested: float | None) -> float:
    if requested is not None:
        return float(requested)
    available = float(ray.cluster_resources().get("GPU", 0))
    if config.device.startswith("cuda"):
        if not available:
            raise ConfigError(f"device '{config.device}' requested but the Ray cluster has no GPUs")
        return 1.0
    if config.device == "auto" and available:
        return 1.0
    return 0.0


def _task_config(config: RunConfig, gpus: float) -> RunConfig:
    # Ray shows each GPU task only its own GPU(s) as cuda:0, so a 'cuda:N' chosen
    # for one machine would name a device the task cannot see.
    if gpus and config.device.startswith("cuda:") and config.device != "cuda:0":
        return dataclasses.replace(config, device="cuda:0")
    return config


def _run_unit(config: RunConfig, data_dir: str, out_dir: str, model: str, window_days: int, resume: bool,
              num_threads: int) -> dict[str, Any] | UnitFailure:
    """The body of one Ray task (a module-level function, so workers can import it)."""
    import torch

    from seismag.training.unit import train_unit

    torch.set_num_threads(max(1, int(num_threads)))
    unit_logger = logging.getLogger("seismag")
    if not unit_logger.handlers:
        # Ray forwards a worker's stderr to the driver's console, prefixed with the worker.
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        unit_logger.addHandler(handler)
        unit_logger.setLevel(logging.INFO)
        unit_logger.propagate = False
    try:
        return train_unit(config, data_dir, out_dir, model, window_days, resume=resume)
    except SeismagError as exc:
        return UnitFailure.from_exception(exc)
