"""Environment report, reproducibility, device choice and memory (SPEC Module 1).

The SPEC's notebooks start with ``check_environment()``, ``print_environment_info()``,
``set_random_seeds(42)``, ``get_device()`` and ``get_memory_usage(device)``; those names
exist here with the same meaning, so its documented usage keeps working::

    from seismag.environment import *

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

import gc
import importlib.metadata
import json
import os
import platform
import random
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seismag.errors import ConfigError

__all__ = [
    "check_environment",
    "check_version_compatibility",
    "clear_gpu_memory",
    "environment_json",
    "environment_report",
    "format_environment_info",
    "get_device",
    "get_memory_usage",
    "print_environment_info",
    "set_random_seeds",
    "suggest_batch_size",
]

_GB = float(2**30)

# cuBLAS needs a fixed workspace size to be deterministic (CUDA >= 10.2); the value
# must be in the environment before the first cuBLAS call, so strict mode sets it early.
_CUBLAS_WORKSPACE = ":4096:8"

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
    gpus = _gpu_list() if cuda_available else []
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
        "cpu_count_usable": _usable_cpu_count(),
        "torch_num_threads": torch.get_num_threads(),
        "cuda_available": cuda_available,
        "cuda_version": torch.version.cuda,
        "gpu_count": len(gpus),
        "gpus": gpus,
        "cudnn_available": cudnn_available,
        "cudnn_version": torch.backends.cudnn.version() if cudnn_available else None,
        "mps_available": _mps_available(),
        "device": str(device),
        "device_description": _describe_device(device, gpus),
        "memory": _system_memory(),
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


# --------------------------------------------------------------------------- seeds


def set_random_seeds(seed: int = 42, strict_determinism: bool = False) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device) so a run can be repeated.

    Parameters
    ----------
    seed : int
        In ``[0, 2**32 - 1]`` (NumPy's legacy seeding range).
    strict_determinism : bool
        ``False`` (standard): seeds, plus cuDNN in deterministic mode with autotuning off,
        and ``torch.use_deterministic_algorithms(False)``. ``True``: additionally
        ``torch.use_deterministic_algorithms(True)`` - an operation without a
        deterministic implementation then raises instead of silently varying - and
        ``CUBLAS_WORKSPACE_CONFIG`` set (if not already) so cuBLAS is reproducible.
        Each call sets the mode explicitly, so the last call wins.

    Notes
    -----
    ``PYTHONHASHSEED`` is exported for child processes (e.g. data-loader workers
    started with *spawn*); it cannot change the hash seed of the running interpreter.
    Same seed, same device, same library versions: same results.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise ConfigError(f"seed must be an integer in [0, 2**32 - 1], got {seed!r}")
    seed = int(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if strict_determinism:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", _CUBLAS_WORKSPACE)
    if torch.are_deterministic_algorithms_enabled() != bool(strict_determinism):
        # Only when it changes: the first call costs about a second (lazy imports).
        torch.use_deterministic_algorithms(bool(strict_determinism))
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


# --------------------------------------------------------------------------- device


def get_device(
    preference: str | torch.device = "auto",
    gpu_memory_fraction: float | None = None,
) -> torch.device:
    """Pick the device to compute on.

    Parameters
    ----------
    preference : str or torch.device
        ``'auto'`` (CUDA device 0 when CUDA is available, else the CPU), ``'cpu'``,
        ``'cuda'`` (device 0), ``'cuda:N'`` or ``'mps'`` (Apple GPUs; never picked by
        ``'auto'``, since some operations the models use are slower or missing there).
    gpu_memory_fraction : float, optional
        In ``(0, 1]``: cap this process's share of the chosen CUDA device's memory
        (``torch.cuda.set_per_process_memory_fraction``), e.g. to run several
        experiments on one GPU. On CPU and MPS it has no effect, and a warning says so.

    Raises
    ------
    ConfigError
        For an unknown device name, or a CUDA/MPS device that this machine lacks.
    """
    if gpu_memory_fraction is not None and not 0.0 < float(gpu_memory_fraction) <= 1.0:
        raise ConfigError(f"gpu_memory_fraction must be in (0, 1], got {gpu_memory_fraction!r}")
    name = str(preference).strip().lower()
    if name == "auto":
        device = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    else:
        try:
            device = torch.device(name)
        except (RuntimeError, ValueError):
            raise ConfigError(
                f"unknown device {preference!r}; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
            ) from None
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise ConfigError(
                    f"device {preference!r} requested but CUDA is not available "
                    f"(torch {torch.__version__}, built with CUDA {torch.version.cuda or 'none'}); "
                    "choose the CPU ('cpu', or --device cpu) or install a CUDA build of PyTorch "
                    "and the NVIDIA driver"
                )
            index = 0 if device.index is None else device.index
            count = torch.cuda.device_count()
            if index >= count:
                raise ConfigError(
                    f"device {preference!r} requested but only {count} CUDA device(s) "
                    f"are visible (cuda:0 ... cuda:{count - 1})"
                )
            device = torch.device("cuda", index)
        elif device.type == "mps":
            if not _mps_available():
                raise ConfigError(f"device {preference!r} requested but MPS is not available")
        elif device.type != "cpu":
            raise ConfigError(
                f"unsupported device {preference!r}; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
            )
    if gpu_memory_fraction is not None:
        if device.type == "cuda":
            torch.cuda.set_per_process_memory_fraction(float(gpu_memory_fraction), device.index)
        else:
            # Said, not silently dropped: the cap only exists for CUDA memory.
            warnings.warn(f"gpu_memory_fraction={gpu_memory_fraction} has no effect on the {device.type} device",
                          UserWarning, stacklevel=2)
    return device


# --------------------------------------------------------------------------- memory


def get_memory_usage(device: str | torch.device | None = None) -> dict[str, Any]:
    """Free, total and used memory of ``device`` in GB (2**30 bytes).

    Parameters
    ----------
    device : str, torch.device or None
        ``None`` means the device ``get_device('auto')`` picks. For ``cpu`` (and ``mps``,
        whose memory is the system's) the system memory is read from ``/proc/meminfo``
        (``MemAvailable`` counts as free), else from ``psutil``, else from
        ``os.sysconf``; a lower cgroup (container) memory limit caps both figures. For
        CUDA, ``torch.cuda.mem_get_info`` gives the device's free/total memory and the
        allocator's ``allocated_gb`` / ``reserved_gb`` are added.

    Returns
    -------
    dict
        ``device``, ``free_gb``, ``total_gb``, ``used_gb``, ``source``, and for CUDA
        ``allocated_gb`` and ``reserved_gb``.
    """
    resolved = get_device("auto") if device is None else get_device(device)
    if resolved.type == "cuda":
        free, total = torch.cuda.mem_get_info(resolved)
        return {
            "device": str(resolved),
            "free_gb": free / _GB,
            "total_gb": total / _GB,
            "used_gb": (total - free) / _GB,
            "allocated_gb": torch.cuda.memory_allocated(resolved) / _GB,
            "reserved_gb": torch.cuda.memory_reserved(resolved) / _GB,
            "source": "torch.cuda.mem_get_info",
        }
    stats = _system_memory()
    return {"device": str(resolved), **stats}


def suggest_batch_size(
    bytes_per_sample: int,
    device: str | torch.device | None = None,
    memory_share: float = 0.25,
    minimum: int = 1,
    maximum: int = 4096,
) -> int:
    """Largest power-of-two batch size whose samples fit in a share of the free memory.

    A rough guard for small machines, not a tuner: ``bytes_per_sample`` should include
    what training keeps per sample (input, activations, gradients), e.g. a few times the
    float32 input size. The result lies in ``[minimum, maximum]``.
    """
    if bytes_per_sample <= 0:
        raise ConfigError(f"bytes_per_sample must be positive, got {bytes_per_sample!r}")
    if not 0.0 < memory_share <= 1.0:
        raise ConfigError(f"memory_share must be in (0, 1], got {memory_share!r}")
    if not 1 <= minimum <= maximum:
        raise ConfigError(f"need 1 <= minimum <= maximum, got {minimum!r} and {maximum!r}")
    budget = get_memory_usage(device)["free_gb"] * _GB * memory_share
    fits = int(budget // bytes_per_sample)
    batch = minimum
    while batch * 2 <= min(fits, maximum):
        batch *= 2
    return batch


def clear_gpu_memory() -> None:
    """Collect garbage and return cached GPU memory to the driver (a no-op without a GPU)."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    if _mps_available() and hasattr(torch, "mps") and hasattr(torch.mps, "empty_cache"):
        torch.mps.empty_cache()


def _system_memory() -> dict[str, Any]:
    stats = _meminfo() or _psutil_memory() or _sysconf_memory()
    if stats is None:
        return {"free_gb": None, "total_gb": None, "used_gb": None, "source": "unavailable"}
    total, free, source = stats
    limit = _cgroup_limit()
    if limit is not None and limit[0] < total:
        limit_total, limit_used = limit
        total = limit_total
        free = min(free, max(limit_total - limit_used, 0))
        source += " + cgroup limit"
    return {
        "free_gb": free / _GB,
        "total_gb": total / _GB,
        "used_gb": (total - free) / _GB,
        "source": source,
    }


def _meminfo() -> tuple[int, int, str] | None:
    """(total, available) bytes from /proc/meminfo (Linux)."""
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    fields: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        value = rest.split()
        if value and value[0].isdigit():
            fields[key] = int(value[0]) * 1024  # reported in kB
    if "MemTotal" not in fields:
        return None
    if "MemAvailable" in fields:
        free = fields["MemAvailable"]
    else:  # kernels before 3.14
        free = sum(fields.get(key, 0) for key in ("MemFree", "Buffers", "Cached"))
    return fields["MemTotal"], free, "/proc/meminfo"


def _psutil_memory() -> tuple[int, int, str] | None:
    try:
        import psutil
    except ImportError:
        return None
    memory = psutil.virtual_memory()
    return int(memory.total), int(memory.available), "psutil"


def _sysconf_memory() -> tuple[int, int, str] | None:
    try:
        page = os.sysconf("SC_PAGE_SIZE")
        total = os.sysconf("SC_PHYS_PAGES") * page
        free = os.sysconf("SC_AVPHYS_PAGES") * page
    except (AttributeError, ValueError, OSError):
        return None
    return total, free, "os.sysconf"


def _cgroup_limit() -> tuple[int, int] | None:
    """(limit, usage) bytes of this process's memory cgroup, when one is set."""
    candidates = (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),  # cgroup v2
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",  # cgroup v1
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    )
    for limit_file, usage_file in candidates:
        try:
            limit_text = Path(limit_file).read_text().strip()
            usage_text = Path(usage_file).read_text().strip()
        except OSError:
            continue
        if not limit_text.isdigit() or not usage_text.isdigit():
            return None  # 'max': no limit
        return int(limit_text), int(usage_text)
    return None


# --------------------------------------------------------------------------- hardware


def _usable_cpu_count() -> int | None:
    if hasattr(os, "sched_getaffinity"):
        try:
            return len(os.sched_getaffinity(0))
        except OSError:
            pass
    return os.cpu_count()


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def _gpu_list() -> list[dict[str, Any]]:
    gpus = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        gpus.append(
            {
                "index": index,
                "name": props.name,
                "total_memory_gb": props.total_memory / _GB,
                "compute_capability": f"{props.major}.{props.minor}",
            }
        )
    return gpus


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
        "cpu_flags": _cpu_bf16_flags(),
    }
    return hints


def _cpu_bf16_flags() -> list[str]:
    """The bf16-related flags of the first CPU in /proc/cpuinfo (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.partition(":")[2].split())
                    wanted = ("avx512_bf16", "amx_bf16", "amx_tile", "amx_int8")
                    return [flag for flag in wanted if flag in flags]
    except OSError:
        pass
    return []


def _format_bf16(hints: dict[str, Any]) -> str:
    parts = []
    if hints.get("cuda"):
        parts.append("CUDA supported")
    if hints.get("cpu_flags"):
        parts.append("CPU " + ", ".join(hints["cpu_flags"]))
    return "; ".join(parts)
