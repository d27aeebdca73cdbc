"""The one writer of the seed layout: one window length's folder, shared by build and synth.

What :func:`write_window` writes into ``folder`` (a ``window-{N}`` folder)::

    data_0.npy   float32 (n_class0, n_features + 1), label 0.0 in the last column
    data_1.npy   float32 (n_class1, n_features + 1), label 1.0 in the last column
    meta.csv     a header line, then one row per sample in file order (class 0, then class 1)

``seismag build`` (:mod:`seismag.dataset.build.write`) and ``seismag synth``
(:mod:`seismag.synth.windows`) both write through it, so the two can never disagree on a
dtype, the label column or the CSV dialect. The file names are the reader's
(:data:`~seismag.layout.CLASS_FILES`, :data:`~seismag.layout.META_FILE`).
The caller names the folder.

May import numpy, the standard library, :mod:`seismag.io` and the file-name constants of
:mod:`seismag.dataset.loading`; nothing that imports torch.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Iterable, NamedTuple, Sequence

import numpy as np

from seismag.layout import CLASS_FILES, META_FILE
from seismag.io import atomic_path, make_folder, reserve_space, write_text

__all__ = ["ClassRows", "write_window"]


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
