"""Environment report (SPEC Module 1): versions, hardware, the chosen device.

Seeds, device choice and memory probing live in :mod:`seismag.runtime` (what a run
uses); this module reports them.

The SPEC's notebooks start with ``check_environment()``, ``print_environment_info()``,
``set_random_seeds(42)``, ``get_device()`` and ``get_memory_usage(device)``; the first
two are defined here, the others in :mod:`seismag.runtime`, and
:mod:`seismag.spec.compat` gathers them under the SPEC's names, so its documented usage
keeps working::

    from seismag.spec.compat import *

    env_info = check_environment()
    print_environment_info(env_info)
    set_random_seeds(42)
    device = get_device()
    memory_stats = get_memory_usage(device)
    print(f"Available memory: {memory_stats['free_gb']:.2f} GB")

Memory sizes are reported in GB of 2**30 bytes, the unit ``nvidia-smi`` and the SPEC's
sample output ("24.00 GB" for a 24 GiB card) use. Nothing here assumes a GPU: every
CUDA/MPS query is guarded, and the optional ``psutil`` and ``packaging`` packages are
used only when installed.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from typing import Any

import numpy as np
import torch

from seismag.runtime import cpu_bf16_flags, get_device, gpu_list, mps_available, system_memory, usable_cpu_count

__all__ = [
    "check_environment",
    "check_version_compatibility",
    "environment_json",
    "environment_report",
    "format_environment_info",
    "print_environment_info",
]

# What the SPEC was tested with ("tested") and the least this package accepts
# ("minimum", the same floors as pyproject.toml). A newer release than the tested range
# is reported as untested, not as a failure: the SPEC's ranges date from torch 2.3 /
# scikit-learn 1.5, and the package is developed against later releases.
_VERSION_POLICY: dict[str, dict[str, Any]] = {
    "python": {"minimum": (3, 10), "tested": ((3, 9), (3, 11))},
    "torch": {"minimum": (2, 1), "tested": ((2, 0, 0), (2, 3, 1))},
    "numpy": {"minimum": (1, 21), "tested": ((1, 21, 0), None)},  # 2.x supported, no ceiling
    "scikit-learn": {"minimum": (1, 0), "tested": ((1, 0), (1, 5))},
}
_CUDA_TESTED = ((11, 8), (12, 1))
_OPTIONAL_PACKAGES = ("psutil", "packaging")


# --------------------------------------------------------------------------- report


def check_environment(device_preference: str | torch.device = "auto") -> dict[str, Any]:
    """Collect versions, hardware and the device that ``get_device(device_preference)`` picks.

    A ``device_preference`` this machine cannot satisfy (e.g. ``'cuda'`` without CUDA)
    raises :class:`ConfigError`, as :func:`get_device` does.

    Returns
    -------
    dict
        Plain, JSON-serialisable data:

        - ``python_version``, ``pytorch_version``, ``numpy_version``, ``sklearn_version``
          (``None`` when scikit-learn is not installed), ``numpy_mode``
          (``'numpy_1'`` or ``'numpy_2'``), ``platform``;
        - ``cpu_count`` (logical CPUs of the machine), ``cpu_count_usable`` (those this
          process may run on), ``torch_num_threads``;
        - ``cuda_available``, ``cuda_version`` (the CUDA torch was built with, or
          ``None``), ``gpu_count``, ``gpus`` (``index``, ``name``, ``total_memory_gb``,
          ``compute_capability``), ``cudnn_available``, ``cudnn_version``,
          ``mps_available``;
        - ``device`` (e.g. ``'cuda:0'`` or ``'cpu'``) and ``device_description``;
        - ``memory``: system ``free_gb``, ``total_gb``, ``used_gb``;
        - ``bf16``: hints for bfloat16 speed (``cuda`` support, ``mkldnn`` availability
          and the CPU's ``avx512_bf16`` / ``amx_*`` flags when ``/proc/cpuinfo`` has them).
    """
    cuda_available = torch.cuda.is_available()
    gpus = gpu_list() if cuda_available else []
    device = get_device(device_preference)
    cudnn_available = bool(torch.backends.cudnn.is_available()) if cuda_available else False
    return {
        "python_version": platform.python_version(),
        "pytorch_version": torch.__version__,
        "numpy_version": np.__version__,
        "numpy_mode": _numpy_mode(np.__version__),
        "sklearn_version": _package_version("scikit-learn"),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_count_usable": usable_cpu_count(),
        "torch_num_threads": torch.get_num_threads(),
        "cuda_available": cuda_available,
        "cuda_version": torch.version.cuda,
        "gpu_count": len(gpus),
        "gpus": gpus,
        "cudnn_available": cudnn_available,
        "cudnn_version": torch.backends.cudnn.version() if cudnn_available else None,
        "mps_available": mps_available(),
        "device": str(device),
        "device_description": _describe_device(device, gpus),
        "memory": system_memory(),
        "bf16": _bf16_hints(cuda_available),
    }


def format_environment_info(env_info: dict[str, Any] | None = None) -> str:
    """The human-readable block of :func:`print_environment_info` (SPEC "Expected Output")."""
    env = check_environment() if env_info is None else env_info
    rule = "=" * 40
    memory = env.get("memory") or {}
    cpus = f"{env['cpu_count']}"
    if env.get("cpu_count_usable") not in (None, env["cpu_count"]):
        cpus += f" ({env['cpu_count_usable']} usable)"
    if env["cuda_available"]:
        cuda = env["cuda_version"] or "available (version unknown)"
    else:
        cuda = "not available"
    lines = [
        "PyTorch Environment Information",
        rule,
        "Software:",
        f"  Python:       {env['python_version']}",
        f"  PyTorch:      {env['pytorch_version']}",
        f"  NumPy:        {env['numpy_version']} (Mode: {env['numpy_mode']})",
        f"  scikit-learn: {env.get('sklearn_version') or 'not installed'}",
        "",
        "Hardware:",
        f"  CPUs:         {cpus}",
    ]
    if memory.get("total_gb"):
        lines.append(f"  Memory:       {memory['free_gb']:.2f} GB free / {memory['total_gb']:.2f} GB total")
    lines.append(f"  CUDA:         {cuda}")
    lines.append(f"  GPUs:         {env['gpu_count']}")
    for gpu in env.get("gpus", []):
        lines.append(f"    [{gpu['index']}] {gpu['name']}, {gpu['total_memory_gb']:.2f} GB")
    if env["cuda_available"]:
        cudnn = env["cudnn_version"] if env["cudnn_available"] else "not available"
        lines.append(f"  cuDNN:        {cudnn}")
    if env.get("mps_available"):
        lines.append("  MPS:          available")
    bf16 = _format_bf16(env.get("bf16") or {})
    if bf16:
        lines.append(f"  bfloat16:     {bf16}")
    lines += ["", f"Using device: {env['device_description']}", rule]
    return "\n".join(lines)


def print_environment_info(env_info: dict[str, Any] | None = None) -> None:
    """Print :func:`format_environment_info` (collecting the report first when not given)."""
    print(format_environment_info(env_info))


def environment_report(env_info: dict[str, Any] | None = None) -> dict[str, Any]:
    """The environment plus the version check, as JSON-serialisable data (``seismag env --json``)."""
    report = dict(check_environment() if env_info is None else env_info)
    report["version_compatibility"] = check_version_compatibility()
    return report


def environment_json(env_info: dict[str, Any] | None = None, indent: int | None = 2) -> str:
    """:func:`environment_report` as a JSON string."""
    return json.dumps(environment_report(env_info), indent=indent)


# --------------------------------------------------------------------------- versions


def check_version_compatibility() -> dict[str, Any]:
    """Compare installed versions with the tested ranges and the package's minimums.

    Returns
    -------
    dict
        ``packages``: for each of ``python``, ``torch``, ``numpy``, ``scikit-learn`` (and
        ``cuda`` when torch was built with it) the ``installed`` version, the
        ``tested_range`` (the SPEC's table), the ``minimum`` accepted, a ``status``
        (``'ok'``, ``'newer-than-tested'``, ``'older-than-tested'``, ``'too-old'`` or
        ``'missing'``) and ``ok``. Versions newer or older than tested but above the
        minimum are ``ok`` (they work; they were not part of the SPEC's tests).
        ``optional``: whether ``psutil`` and ``packaging`` are installed.
        ``ok``: every required package is ``ok``.
    """
    installed = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scikit-learn": _package_version("scikit-learn"),
    }
    packages: dict[str, dict[str, Any]] = {}
    for name, version in installed.items():
        policy = _VERSION_POLICY[name]
        packages[name] = _judge_version(version, policy["minimum"], *policy["tested"])
    if torch.version.cuda:
        # The CUDA torch was built with; a newer toolkit works with a recent driver.
        packages["cuda"] = _judge_version(torch.version.cuda, None, *_CUDA_TESTED)
    optional = {name: _package_version(name) for name in _OPTIONAL_PACKAGES}
    return {
        "packages": packages,
        "optional": {name: {"installed": version} for name, version in optional.items()},
        "ok": all(entry["ok"] for entry in packages.values()),
    }


def _judge_version(
    version: str | None,
    minimum: tuple[int, ...] | None,
    tested_low: tuple[int, ...] | None,
    tested_high: tuple[int, ...] | None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "installed": version,
        "tested_range": _format_range(tested_low, tested_high),
        "minimum": _format_version(minimum) if minimum else None,
    }
    if version is None:
        entry.update(status="missing", ok=False)
        return entry
    release = _release(version)
    if minimum and _compare(release, minimum) < 0:
        status = "too-old"
    elif tested_low and _compare(release, tested_low) < 0:
        status = "older-than-tested"
    elif tested_high and _compare(release, tested_high) > 0:
        status = "newer-than-tested"
    else:
        status = "ok"
    entry.update(status=status, ok=status != "too-old")
    return entry


def _release(version: str) -> tuple[int, ...]:
    """Leading numeric components: ``'2.13.0+cpu'`` -> ``(2, 13, 0)``, ``'1.6rc1'`` -> ``(1, 6)``."""
    parts: list[int] = []
    for piece in version.split("+")[0].split("."):
        digits = ""
        for char in piece:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) != len(piece):  # '6rc1': stop after the number
            break
    return tuple(parts)


def _compare(release: tuple[int, ...], bound: tuple[int, ...]) -> int:
    """Compare on the bound's precision: (3, 11, 7) equals the bound (3, 11)."""
    head = release[: len(bound)] + (0,) * max(0, len(bound) - len(release))
    return (head > bound) - (head < bound)


def _format_version(release: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in release)


def _format_range(low: tuple[int, ...] | None, high: tuple[int, ...] | None) -> str:
    if low and high:
        upper = _format_version(high) + (".x" if len(high) == 2 else "")
        return f"{_format_version(low)} - {upper}"
    if low:
        return f">= {_format_version(low)}"
    return "any"


def _package_version(distribution: str) -> str | None:
    """Installed version of a distribution, read from its metadata (no slow import)."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _numpy_mode(version: str) -> str:
    major = _release(version)[:1] or (1,)
    return "numpy_2" if major[0] >= 2 else "numpy_1"


def _describe_device(device: torch.device, gpus: list[dict[str, Any]]) -> str:
    if device.type == "cuda":
        for gpu in gpus:
            if gpu["index"] == device.index:
                return f"{device} ({gpu['name']}, {gpu['total_memory_gb']:.2f} GB)"
    return str(device)


def _bf16_hints(cuda_available: bool) -> dict[str, Any]:
    """Cheap signs that bfloat16 autocast would be fast; no kernels are run."""
    hints: dict[str, Any] = {
        "cuda": bool(torch.cuda.is_bf16_supported()) if cuda_available else None,
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "cpu_flags": cpu_bf16_flags(),
    }
    return hints


def _format_bf16(hints: dict[str, Any]) -> str:
    parts = []
    if hints.get("cuda"):
        parts.append("CUDA supported")
    if hints.get("cpu_flags"):
        parts.append("CPU " + ", ".join(hints["cpu_flags"]))
    return "; ".join(parts)
