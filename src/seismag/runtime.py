"""The runtime: what a run computes on and how the process is set up for it.

Device choice (:func:`get_device`), GPU ids, precision and autocast, seeds (the
run's and each unit of work's), threads, TF32 and the allocator setting, and memory
probing. Every entry point that trains starts with :func:`prepare_training`, so none
can skip the process settings. Imports torch and seismag.config / errors only.
"""

from __future__ import annotations

import contextlib
import gc
import os
import random
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seismag.config import RunConfig
from seismag.errors import ConfigError

_GB = float(2**30)

# cuBLAS needs a fixed workspace size to be deterministic (CUDA >= 10.2); the value
# must be in the environment before the first cuBLAS call, so strict mode sets it early.
_CUBLAS_WORKSPACE = ":4096:8"


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
            if not mps_available():
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
    stats = system_memory()
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
    if mps_available() and hasattr(torch, "mps") and hasattr(torch.mps, "empty_cache"):
        torch.mps.empty_cache()


def system_memory() -> dict[str, Any]:
    """The machine's memory in GB (``free_gb``, ``total_gb``, ``used_gb``, None when unknown)
    and its ``source``; a cgroup limit below the physical memory counts as the total."""
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


def usable_cpu_count() -> int | None:
    """CPUs this process may run on (its affinity), else the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        try:
            return len(os.sched_getaffinity(0))
        except OSError:
            pass
    return os.cpu_count()


def mps_available() -> bool:
    """Whether Apple's MPS backend is available."""
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def gpu_list() -> list[dict[str, Any]]:
    """Each visible CUDA GPU: ``index``, ``name``, ``total_memory_gb``, ``compute_capability``."""
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



def cpu_bf16_flags() -> list[str]:
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



# --------------------------------------------------------------------------- training device / precision
def resolve_device(preference: str = "auto") -> torch.device:
    """The device a run trains on: :func:`get_device` (one rule for every entry point)."""
    return get_device(preference)


def check_gpu_ids(gpu_ids) -> list[int]:
    """GPU indices checked against the devices this process sees.

    Raises ConfigError (one line) for ids without CUDA, out of range or repeated.
    ``[]`` is always valid (no GPU).
    """
    ids = [] if gpu_ids is None else list(gpu_ids)
    if not ids:
        return []
    visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if not visible:
        raise ConfigError(f"GPU ids {ids} requested but CUDA is not available on this machine; use the CPU")
    for gpu in ids:
        if isinstance(gpu, bool) or not isinstance(gpu, int) or not 0 <= gpu < visible:
            raise ConfigError(f"GPU id {gpu!r} is not one of the {visible} visible GPU(s) "
                              f"(0-{visible - 1}; CUDA_VISIBLE_DEVICES may hide some)")
    if len(set(ids)) != len(ids):
        raise ConfigError(f"GPU ids {ids} name a GPU twice")
    return ids


def cpu_has_fast_bf16() -> bool:
    """True where the CPU has AMX or AVX-512 BF16 (bf16 matmuls much faster than fp32)."""
    return any(flag in cpu_bf16_flags() for flag in ("amx_bf16", "avx512_bf16"))


def resolve_precision(precision: str, device: torch.device) -> str:
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if cpu_has_fast_bf16() else "fp32"


def autocast_context(device: torch.device, precision: str):
    """The single place mixed precision is switched on (no-op for fp32)."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def derive_seed(seed: int, *parts: Any) -> int:
    """A 31-bit seed for one unit of work (model, window, fold) from the run seed."""
    keys = [int(seed)] + [zlib.crc32(str(p).encode()) for p in parts]
    return int(np.random.SeedSequence(keys).generate_state(1)[0] & 0x7FFFFFFF)



# --------------------------------------------------------------------------- process settings
def prepare_training(config: RunConfig) -> tuple[torch.device, str]:
    """The device and precision a run trains with, with the process configured for them.

    Every entry point that trains (a pipeline unit, a tuning study) starts here,
    so none can skip the process settings.
    """
    device = resolve_device(config.device)
    precision = resolve_precision(config.precision, device)
    configure_process(config, device)
    return device, precision


def configure_process(config: RunConfig, device: torch.device | None = None) -> dict[str, Any]:
    """Process-wide settings for training: call once, before the first fold.

    ``config.num_threads`` (0: PyTorch's choice), ``config.keep_freed_memory``
    (see :func:`keep_freed_memory`) and, when ``device`` is CUDA, ``config.tf32``
    (see :func:`configure_tf32`). Returns what is in effect, for the log.
    """
    threads = configure_threads(config.num_threads)
    keep = bool(config.keep_freed_memory) and keep_freed_memory()
    settings = {"num_threads": threads, "keep_freed_memory": keep}
    if device is not None and device.type == "cuda":
        settings["tf32"] = configure_tf32(config.tf32)
    return settings


def configure_tf32(enabled: bool) -> bool:
    """CUDA float32 matmuls and cuDNN convolutions/RNNs in TF32 (Ampere and later), or strictly fp32.

    TF32 keeps fp32's range with a 10-bit mantissa, the precision bf16 autocast
    already trades away; ``tf32 = false`` gives strict fp32 on the GPU. Only
    set for CUDA runs: CPU matmuls are left alone.
    """
    torch.backends.cuda.matmul.allow_tf32 = bool(enabled)
    torch.backends.cudnn.allow_tf32 = bool(enabled)
    return bool(enabled)


def keep_freed_memory() -> bool:
    """Serve large blocks from the heap and keep freed memory in the process (glibc only).

    glibc gives every block over 32 MiB its own mmap and unmaps it on free, so
    the buffers a training step needs anew each time (the paper MLP's 88 MB
    weight gradient on 30-day windows, the optimizer's temporaries) were
    page-faulted in afresh every step: 21,600 minor faults per step with
    fused AdamW, 64,800 with the loop, a third to a half of the step's time.
    With mmap off and trimming at 2 GiB, freed blocks are reused. The cost:
    memory freed during training is not given back to the system until the
    process ends. Returns True when the setting took effect.
    """
    import ctypes
    import ctypes.util
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False
    M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, 2**31 - 1))


def configure_threads(num_threads: int) -> int:
    """Set PyTorch's intra-op threads (0: leave PyTorch's choice); returns the count in use.

    On a 2-core machine that other processes also load, one thread per process
    ran the paper models 3-10x faster than two: with two, every parallel region
    waits for whichever thread was descheduled.
    """
    if int(num_threads) > 0 and torch.get_num_threads() != int(num_threads):
        torch.set_num_threads(int(num_threads))
    return torch.get_num_threads()


