"""The seed layout's window folders: what ``window-{N}/`` holds, its one writer and its checks.

One window length's folder (``seismag synth`` and ``seismag build`` write it through
:func:`write_window`; loading, analysis, evaluate and scan read it through
:func:`check_class_file`)::

    DATA/window-{N}/data_0.npy   float32 (n_class0, N * steps_per_day + 1), label 0 in the last column
    DATA/window-{N}/data_1.npy   float32 (n_class1, N * steps_per_day + 1), label 1 in the last column
    DATA/window-{N}/meta.csv     optional: a header line, then one row per sample in file order
                                 (class 0, then class 1)

The folder's description beside the window folders, ``DATA/dataset.json``, is
:mod:`seismag.layout.dataset_info`'s. Here: the names, the folder's fingerprint, the
checks a class file must pass (each problem worded for the user, in the loader's and the
analyzer's words) and the one writer, so that build and synth never disagree with the
readers on a dtype, the label column or the CSV dialect.

May import: numpy, the standard library, :mod:`seismag.errors` and :mod:`seismag.io`;
nothing that imports torch.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterable, NamedTuple, Sequence

import numpy as np

from seismag.errors import DataError, describe_os_error
from seismag.io import atomic_path, make_folder, reserve_space, write_text


WINDOW_DIR_PREFIX = "window-"
#: ``CLASS_FILES[c]`` holds the samples of class ``c`` (label ``c`` in its last column).
CLASS_FILES = ("data_0.npy", "data_1.npy")
META_FILE = "meta.csv"
#: Per-window geomagnetic-activity columns of ``meta.csv`` (``seismag build --kp --dst --ssc``):
#: the largest 3-hourly Kp, the lowest hourly Dst (nT) and the number of storm sudden
#: commencements within the window's days. The ``activity`` model's input; ``dataset.json``
#: lists those a folder has (:attr:`~seismag.layout.dataset_info.DatasetInfo.activity_columns`).
ACTIVITY_COLUMNS = ("max_kp", "min_dst", "n_ssc")


def window_dir_name(window_days: int) -> str:
    """``7`` -> ``"window-7"``, the folder of one window length."""
    return f"{WINDOW_DIR_PREFIX}{int(window_days)}"


def window_dir(data_dir: str | os.PathLike, window_days: int) -> Path:
    """``data_dir/window-{N}``."""
    return Path(data_dir) / window_dir_name(window_days)


def window_fingerprint(folder: str | os.PathLike) -> str:
    """SHA-256 over one window folder's class files and ``meta.csv`` (when present).

    Read in 1 MiB blocks, so memory stays flat for large windows. Two folders with
    the same fingerprint hold the same bytes; ``--resume`` compares it with the one
    a results folder recorded.
    """
    import hashlib

    digest = hashlib.sha256()
    for name in (*CLASS_FILES, META_FILE):
        path = Path(folder) / name
        if not path.is_file():
            continue
        digest.update(f"{name}:{path.stat().st_size}:".encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


# How each problem with a class file is put into words (the loader's: training, evaluate,
# tune, predict). The checks behind them are one (:func:`check_class_file`); the SPEC's
# analyzer words the same problems its own way (seismag.spec.analysis.ANALYSIS_WORDS).
CLASS_FILE_WORDS: dict[str, str] = {
    "missing": "class-{label} file not found",
    "directory": "is a directory, not a .npy file",
    "symlink_loop": "is a symbolic link loop (the link never reaches a file)",
    "not_readable": "cannot be read ({cause})",
    "zero_bytes": "cannot be read as a .npy file (no NumPy header)",
    "npz": "cannot be read as a .npy file (no NumPy header)",
    "no_header": "cannot be read as a .npy file (no NumPy header){looks}",
    "pickled": "not a numeric NumPy array (pickled Python objects, dtype object)",
    "truncated": "truncated: the header promises {promised}, the file holds fewer bytes ({size} of {needed})",
    "not_mappable": "not a numeric NumPy array ({error})",
    "unreadable": "cannot be read as a .npy file ({error_type}: {error})",
    "dtype": "has non-numeric dtype {dtype}; expected floats",
    "ndim": "must be 2-D (samples x (features + label)), got shape {shape}",
    "empty": "is empty (0 samples)",
    "columns": ("has {found} feature columns + 1 label column, expected {days} days x {steps} steps = "
                "{expected} features; check the window folder and steps_per_day"),
    "label_not_finite": "label column (last) holds NaN/inf at row {row}",
    "label_not_binary": "label column (last) must be 0 or 1, found {value:g} at row {row}",
    "label_mismatch": "row {row} is labelled {value} but this file holds class {label}",
}


def _shape_words(shape: tuple[int, ...]) -> str:
    if len(shape) == 2:
        return f"{shape[0]} rows of {shape[1]} values"
    count = int(np.prod(shape, dtype=np.int64))
    return f"{count} values (shape {shape})"


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the sample is still text.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in text)


def npy_file_problem(path: str | os.PathLike) -> tuple[str, dict[str, Any]] | None:
    """What keeps ``path`` from being read as one numeric ``.npy`` array, from its header alone.

    Returns ``None`` when the file looks sound, else ``(problem, facts)``: ``problem`` a
    key of :data:`CLASS_FILE_WORDS` (``missing``, ``directory``, ``symlink_loop``,
    ``not_readable``, ``zero_bytes``, ``npz``, ``no_header``, ``pickled``, ``truncated``,
    ``unreadable``) and ``facts`` the values its wording names. Only the header is read;
    the readers of class files and of the results' fold arrays share it, so a truncated
    file or a symlink loop reads the same everywhere.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        return "missing", {}
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink_loop", {}
        return "not_readable", {"cause": describe_os_error(exc)}
    if stat.S_ISDIR(info.st_mode):
        return "directory", {}
    try:
        with open(path, "rb") as handle:
            head = handle.read(6)
            if not head:
                return "zero_bytes", {}
            if head.startswith(b"PK"):
                return "npz", {}
            if head != b"\x93NUMPY":
                head += handle.read(506)
                looks = "; it looks like a text or CSV file" if _looks_like_text(head) else ""
                return "no_header", {"looks": looks}
            handle.seek(0)
            try:
                version = np.lib.format.read_magic(handle)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _fortran, dtype = read_header(handle)
            except Exception as exc:  # noqa: BLE001  (a corrupt header: one clear message)
                return "unreadable", {"error": exc, "error_type": type(exc).__name__}
            offset = handle.tell()
    except OSError as exc:
        return "not_readable", {"cause": describe_os_error(exc)}
    if dtype.hasobject:
        return "pickled", {}
    needed = offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if info.st_size < needed:
        return "truncated", {"promised": _shape_words(tuple(shape)), "size": info.st_size, "needed": needed}
    return None


def npy_problem_message(path: str | os.PathLike) -> str | None:
    """:func:`npy_file_problem` in the loader's words (``None`` when the header is sound),
    for any ``.npy`` a reader opens (the results' fold arrays, say), not only class files."""
    problem = npy_file_problem(path)
    if problem is None:
        return None
    kind, facts = problem
    return "file not found" if kind == "missing" else CLASS_FILE_WORDS[kind].format(**facts)


def check_class_file(path: str | os.PathLike, label: int, window_days: int, steps_per_day: int,
                     *, words: Mapping[str, str] = CLASS_FILE_WORDS) -> np.ndarray:
    """Open one class file of the seed layout memory-mapped, after every check it must pass.

    The checks, in this order: the file exists, is not 0 bytes, is a single ``.npy``
    array (not an ``.npz`` archive, not pickled), can be memory-mapped, has an integer or
    float dtype, is 2-D, has at least one row, has ``window_days * steps_per_day``
    feature columns plus the label column, and its label column (the last) is finite,
    0 or 1, and equal to ``label`` in every row. Only the label column is read; the
    feature values (NaN, infinities) are the loader's to check after conversion.

    Parameters
    ----------
    path : path
        ``window-{N}/data_{label}.npy``.
    label : {0, 1}
        The class this file holds.
    window_days, steps_per_day : int
        The window length N in days and the samples per day (1440 for 1-minute data).
    words : mapping
        How each problem is put into words (:data:`CLASS_FILE_WORDS`, the loader's, by default).

    Returns
    -------
    np.ndarray
        The memory-mapped (read-only) array, shape ``(n_samples, N * steps_per_day + 1)``.

    Raises
    ------
    DataError
        Naming the file and the first problem found.
    """
    path = Path(path)
    days, steps = int(window_days), int(steps_per_day)
    expected = days * steps

    def fail(problem: str, **facts: Any) -> DataError:
        return DataError(path, words[problem].format(label=label, class_file=CLASS_FILES[label], days=days,
                                                     steps=steps, expected=expected, **facts))

    problem = npy_file_problem(path)
    if problem is not None:
        raise fail(problem[0], **problem[1])
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        # An object (pickled) array, or a truncated file, cannot be memory-mapped.
        raise fail("not_mappable", error=exc) from None
    except Exception as exc:  # noqa: BLE001  (a corrupt header and the like: one clear message)
        raise fail("unreadable", error=exc, error_type=type(exc).__name__) from None
    if array.dtype.kind not in "iuf":
        raise fail("dtype", dtype=array.dtype)
    shape = tuple(array.shape)
    if array.ndim != 2:
        raise fail("ndim", shape=shape)
    if shape[0] == 0:
        raise fail("empty", shape=shape)
    if shape[1] != expected + 1:
        raise fail("columns", found=shape[1] - 1)
    raw = np.asarray(array[:, -1])  # one value per row: cheap even for a large file
    wrong = np.flatnonzero(raw != label)
    if wrong.size:
        column = raw.astype(np.float64)
        facts = {"n_wrong": wrong.size, "n_rows": shape[0], "first": int(wrong[0]),
                 "first_value": raw[wrong[0]].item()}
        not_finite = np.flatnonzero(~np.isfinite(column))
        not_binary = np.flatnonzero(~np.isin(column, (0.0, 1.0)))
        if not_finite.size:
            raise fail("label_not_finite", row=int(not_finite[0]), **facts)
        if not_binary.size:
            row = int(not_binary[0])
            raise fail("label_not_binary", row=row, value=column[row], **facts)
        row = int(wrong[0])
        raise fail("label_mismatch", row=row, value=int(column[row]), **facts)
    return array


# ================================================================================ writer


class ClassRows(NamedTuple):
    """The samples of one class file, given lazily so no file is ever held in memory whole.

    Attributes
    ----------
    count : int
        Number of samples (rows) the blocks hold together.
    blocks : iterable of ndarray
        Each ``(rows, n_features)``, oldest sample first, in file order; any float dtype,
        stored as float32 (cast by NumPy, rounding to nearest).
    """

    count: int
    blocks: Iterable[np.ndarray]


def write_window(
    folder: str | os.PathLike,
    n_features: int,
    classes: Sequence[ClassRows],
    meta_columns: Sequence[str],
    meta_rows: Sequence[Sequence],
) -> Path:
    """Write ``data_0.npy``, ``data_1.npy`` and ``meta.csv`` of one window length.

    Parameters
    ----------
    folder : path
        The ``window-{N}`` folder; created if needed.
    n_features : int
        Feature columns per sample (``N * steps_per_day``); the label is one more column.
    classes : (ClassRows, ClassRows)
        The class-0 and the class-1 samples.
    meta_columns : sequence of str
        The header of ``meta.csv``.
    meta_rows : sequence of sequences
        One row per sample, class-0 samples first, each as long as ``meta_columns``;
        written with :mod:`csv` (``\\n`` line ends, quoting only where a cell needs it).

    Returns
    -------
    Path
        ``folder``.

    Each file is written atomically (temporary file + rename), its disk space reserved
    first, and each array is streamed to disk block by block (memory stays that of one
    block, whatever the file's size).
    """
    folder = Path(folder)
    if len(classes) != len(CLASS_FILES):
        raise ValueError(f"write_window needs the rows of {len(CLASS_FILES)} classes, got {len(classes)}")
    n_samples = sum(int(rows.count) for rows in classes)
    if len(meta_rows) != n_samples:
        raise ValueError(f"{folder / META_FILE}: {len(meta_rows)} meta rows for {n_samples} samples")
    make_folder(folder)
    for label, (rows, name) in enumerate(zip(classes, CLASS_FILES)):
        _write_class_file(folder / name, label, n_features, rows)
    meta = io.StringIO()
    writer = csv.writer(meta, lineterminator="\n")
    writer.writerow(meta_columns)
    writer.writerows(meta_rows)
    write_text(folder / META_FILE, meta.getvalue())
    return folder


def _write_class_file(path: Path, label: int, n_features: int, rows: ClassRows) -> None:
    count = int(rows.count)
    width = n_features + 1
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False,
              "shape": (count, width)}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.lib.format.write_array_header_1_0(handle, header)  # what np.save writes for this shape
            data_start = handle.tell()
            handle.truncate(data_start + count * width * 4)
        reserve_space(tmp)  # a full disk: ENOSPC now, not after writing most of the file
        # Streamed with write(), not filled through a memory map: the pages of a map stay
        # resident (and counted in the process's memory) until the file is closed, so a
        # map would grow the build's memory with the size of its largest class file.
        with open(tmp, "r+b") as handle:
            handle.seek(data_start)
            filled = 0
            for block in rows.blocks:
                block = np.asarray(block)
                if filled + block.shape[0] > count:
                    raise ValueError(f"{path}: more than the {count} rows announced")
                buffer = np.empty((block.shape[0], width), dtype=np.float32)
                buffer[:, :n_features] = block  # float64 -> float32 rounds to nearest
                buffer[:, n_features] = float(label)
                handle.write(buffer.data)
                filled += block.shape[0]
            if filled != count:
                raise ValueError(f"{path}: {filled} rows written, {count} announced")
