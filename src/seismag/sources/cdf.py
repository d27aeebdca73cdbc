"""The CDF container under ImagCDF, through cdflib: opening, reading, time stamps.

ImagCDF (:mod:`seismag.sources.imagcdf`) is NASA's Common Data Format holding geomagnetic
data by INTERMAGNET's rules; this module is the container's part, so the format's module
holds only the format's rules: the CDF magic numbers (:func:`is_cdf`, no cdflib needed),
the optional import of cdflib (:func:`import_cdflib`, :data:`INSTALL_HINT`), a reader whose
every failure is one DataError naming the file (:class:`CdfFile`, which also refuses a file
cut shorter than its header says), the CDF type codes the format uses, and UTC
milliseconds as CDF_TIME_TT2000 (:func:`tt2000`).

cdflib (``pip install "seismag[cdf]"``) is imported only when a file is opened or written:
this module imports without it.

May import numpy, the standard library and :mod:`seismag.errors`.
"""

from __future__ import annotations

import os

import numpy as np

from seismag.errors import DataError, SeismagError

__all__ = ["CDF_DOUBLE", "CDF_TIME_TT2000", "INSTALL_HINT", "NUMERIC_TYPES", "TIME_TYPES", "CdfFile", "import_cdflib",
           "is_cdf", "tt2000"]

#: How to get the optional dependency, as every message that needs it says.
INSTALL_HINT = 'pip install "seismag[cdf]"'

#: CDF data type codes: the time-stamp types, the numeric types, and the two the writer uses.
TIME_TYPES = {31: "CDF_EPOCH", 32: "CDF_EPOCH16", 33: "CDF_TIME_TT2000"}
NUMERIC_TYPES = {1, 2, 4, 8, 11, 12, 14, 21, 22, 41, 44, 45}  # CDF int, uint, real, byte
CDF_DOUBLE = 45
CDF_TIME_TT2000 = 33

# First two 4-byte words of a CDF file (cdflib's cdfread checks the same): version 3,
# 2.6/2.7 and older; then uncompressed or whole-file compressed.
_CDF_MAGIC = ({"cdf30001", "cdf26002", "0000ffff"}, {"0000ffff", "cccc0001"})
_DAY_MS = 86_400_000


def is_cdf(path: str | os.PathLike) -> bool:
    """True when the file starts with the CDF magic numbers (reads 8 bytes; no cdflib needed)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError:
        return False
    return len(head) == 8 and head[:4].hex() in _CDF_MAGIC[0] and head[4:].hex() in _CDF_MAGIC[1]


def import_cdflib():
    """cdflib, or None when it is not installed (it is an optional extra)."""
    try:
        import cdflib
    except ImportError:
        return None
    return cdflib


class CdfFile:
    """A cdflib reader whose every failure is one DataError naming the file.

    cdflib reports a damaged file with whatever its parser meets (OSError, ValueError,
    IndexError, struct.error, zlib.error, ...); the caller sees one line instead.
    """

    def __init__(self, path: str):
        self.path = path
        if not is_cdf(path):
            if not os.path.isfile(path):
                raise DataError(path, "no such file")
            raise DataError(path, "not a CDF file (no CDF magic number), so not ImagCDF")
        self.cdflib = import_cdflib()
        if self.cdflib is None:
            raise DataError(path, f"reading ImagCDF needs cdflib: {INSTALL_HINT}")
        _check_length(path)
        self.cdf = self._call("cannot open", self.cdflib.cdfread.CDF, path)

    def __enter__(self) -> "CdfFile":
        return self

    def __exit__(self, *exc) -> None:
        self.cdf = None  # cdflib closes the file (and removes its decompressed copy) when freed

    def _call(self, doing: str, function, *args, **kwargs):
        try:
            return function(*args, **kwargs)
        except SeismagError:
            raise
        except Exception as exc:  # noqa: BLE001 - cdflib raises anything on a damaged file
            raise DataError(
                self.path, f"damaged or truncated CDF file ({doing}: {type(exc).__name__}: {exc})"
            ) from None

    def global_attributes(self) -> dict:
        return self._call("reading the global attributes", self.cdf.globalattsget)

    def variables(self) -> list[str]:
        info = self._call("reading the variable list", self.cdf.cdf_info)
        return list(info.zVariables) + list(info.rVariables)

    def attributes(self, variable: str) -> dict:
        return self._call(f"reading the attributes of {variable}", self.cdf.varattsget, variable)

    def inquire(self, variable: str):
        return self._call(f"reading the description of {variable}", self.cdf.varinq, variable)

    def records(self, variable: str, start: int, stop: int) -> np.ndarray:
        """Records ``start`` .. ``stop - 1`` of a variable, as a 1-D array."""
        data = self._call(f"reading records {start}..{stop - 1} of {variable}",
                          self.cdf.varget, variable, startrec=start, endrec=stop - 1)
        data = np.atleast_1d(np.asarray(data))
        if data.shape != (stop - start,):
            raise DataError(self.path, f"{variable}: records {start}..{stop - 1} read as shape {data.shape}; "
                                       "one value a record expected")
        return data

    def milliseconds(self, variable: str, start: int, stop: int) -> np.ndarray:
        """Time stamps as int64 milliseconds since 1970 (UTC); a fill time stamp is an error."""
        raw = self.records(variable, start, stop)
        stamps = self._call(f"converting the time stamps of {variable}", self.cdflib.cdfepoch.to_datetime, raw)
        stamps = np.asarray(stamps, dtype="datetime64[ns]")
        bad = np.flatnonzero(np.isnat(stamps))
        if bad.size:
            raise DataError(self.path, f"{variable} record {start + int(bad[0])}: fill or pad time stamp "
                                       "(time stamps may not be missing)")
        return stamps.astype("datetime64[ms]").astype(np.int64)


def _check_length(path: str) -> None:
    """DataError when an uncompressed CDF is shorter than its header says it is.

    cdflib reads the missing tail of a cut file as zeros without complaint; the global
    descriptor record (GDR) holds the file's end offset, written when the file is closed.
    A whole-file compressed CDF is left to gzip's own check when cdflib decompresses it.
    """
    with open(path, "rb") as handle:
        head = handle.read(28)
        if len(head) < 28 or head[4:8].hex() != "0000ffff":
            return
        wide = head[:4].hex() == "cdf30001"  # version 3: 8-byte offsets; before: 4-byte
        gdr = int.from_bytes(head[20:28] if wide else head[16:20], "big", signed=True)
        handle.seek(gdr + (36 if wide else 20))
        field_bytes = handle.read(8 if wide else 4)
        size = os.fstat(handle.fileno()).st_size
    if len(field_bytes) < (8 if wide else 4):
        raise DataError(path, f"damaged or truncated CDF file ({size} bytes; its descriptor is cut off)")
    end = int.from_bytes(field_bytes, "big", signed=True)
    if size < end:
        raise DataError(path, f"damaged or truncated CDF file ({size} bytes, its header says {end})")


def tt2000(cdflib, ms: np.ndarray) -> np.ndarray:
    """CDF_TIME_TT2000 (int64 ns) of UTC milliseconds since 1970, vectorised.

    Leap seconds are inserted only at the end of a UTC day, so cdflib gives the TT2000 of
    each distinct day's midnight and the time within the day is added in nanoseconds.
    """
    ms = np.asarray(ms, dtype=np.int64)
    days = np.floor_divide(ms, _DAY_MS)
    unique, inverse = np.unique(days, return_inverse=True)
    dates = unique.astype("datetime64[D]").astype(str)
    midnights = [[int(d[:-6]), int(d[-5:-3]), int(d[-2:]), 0, 0, 0, 0] for d in dates]
    anchors = np.atleast_1d(np.asarray(cdflib.cdfepoch.compute_tt2000(midnights), dtype=np.int64))
    return anchors[inverse] + (ms - unique[inverse] * _DAY_MS) * 1_000_000
