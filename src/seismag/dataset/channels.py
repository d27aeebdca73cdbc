"""Channels: what one column block of a window holds, and how it comes from a record.

Lives here: the names a build accepts (:func:`parse_components`: IAGA component letters,
and the ratios of :data:`RATIO_CHANNELS`), their units (:func:`channel_unit`: nT,
arc-minutes for D and I as IAGA-2002 stores them, ``'1'`` for a ratio), the record
components each needs (:func:`source_components`), and its minute values
(:func:`channel_minutes`): a component as stored, ``F`` derived as ``sqrt(H^2 + Z^2)``
sample by sample when the files have no F column, ``Z/H`` the sample ratio.

May import numpy, :mod:`seismag.errors` and :mod:`seismag.sources.station_record`.
:mod:`seismag.dataset.stations` reads records through it; the build checks its channels
(:mod:`seismag.dataset.build.plan`) and words their units (:mod:`seismag.dataset.build.report`) with it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from seismag.sources.station_record import StationRecord
from seismag.errors import ConfigError, DataError

__all__ = ["RATIO_CHANNELS", "channel_minutes", "channel_unit", "not_derivable", "parse_components",
           "source_components", "files_label"]

#: Channels that are the ratio of two components, sample by sample: name -> (numerator,
#: denominator). Z/H, the polarisation ratio, is the one ULF-precursor studies use.
RATIO_CHANNELS = {"Z/H": ("Z", "H")}
#: Components IAGA-2002 stores in arc-minutes (declination, inclination); the rest are nT.
_ANGLE_COMPONENTS = ("D", "I")


def parse_components(components) -> tuple[str, ...]:
    """The channels of a build, from ``"H,D,Z"`` or ``["H", "D", "Z"]``, in the order given.

    Each is one IAGA component letter (``H``, ``D``, ``Z``, ``F``, ``X``, ``Y``, ``E``, ...;
    upper-cased) or a ratio of :data:`RATIO_CHANNELS` (``Z/H``). Raises ConfigError for an
    empty list, an unknown name or a repeated one.
    """
    if isinstance(components, str):
        names = components.split(",")
    else:
        try:
            names = list(components)
        except TypeError:
            raise ConfigError(f"components must be component names such as H,D,Z, got {components!r}") from None
    if not names or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"components must be component names such as H,D,Z, got {components!r}")
    channels = [n.strip().upper() for n in names]
    for name in channels:
        if name not in RATIO_CHANNELS and not (len(name) == 1 and name.isalpha()):
            raise ConfigError(
                f"unknown component {name!r}: each must be one IAGA component letter (H, D, Z, F, X, Y, E, ...)"
                f" or the ratio {', '.join(RATIO_CHANNELS)}"
            )
    repeated = sorted({n for n in channels if channels.count(n) > 1})
    if repeated:
        raise ConfigError(f"components lists {', '.join(repeated)} more than once ({','.join(channels)})")
    return tuple(channels)


def channel_unit(channel: str) -> str:
    """``'nT'``, ``'arcmin'`` for D and I (as IAGA-2002 stores them), ``'1'`` for a ratio."""
    if channel in RATIO_CHANNELS:
        return "1"
    return "arcmin" if channel in _ANGLE_COMPONENTS else "nT"


def source_components(channel: str, available: Sequence[str]) -> list[str]:
    """The record components one channel is computed from (``available``: what the files
    report, H included when it can be derived from X and Y)."""
    if channel in RATIO_CHANNELS:
        return list(RATIO_CHANNELS[channel])
    if channel == "F" and "F" not in available:
        return ["H", "Z"]  # F derived; H itself may come from X and Y
    return [channel]


def channel_minutes(record: StationRecord, channel: str) -> tuple[np.ndarray, str | None]:
    """One channel's minute values on the record's grid (float64), and how it was derived.

    ``F`` is the record's F when it has one, else ``sqrt(H^2 + Z^2)`` (``sqrt(X^2 + Y^2 +
    Z^2)`` when H came from X and Y) sample by sample; ``Z/H`` is ``Z / H`` sample by
    sample (NaN where H is 0). The second item is None for a component read as stored.
    """
    derived_h = "H" in record.derived
    if channel in RATIO_CHANNELS:
        top, bottom = (record.component(name) for name in RATIO_CHANNELS[channel])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(bottom == 0.0, np.nan, top / bottom)
        return ratio, f"{channel} sample by sample" + (" (H derived from X and Y)" if derived_h else "")
    if channel == "F" and "F" not in record.components:
        if "H" not in record.components or "Z" not in record.components:
            raise not_derivable(record.files, channel, record.components)
        how = "sqrt(X^2 + Y^2 + Z^2)" if derived_h else "sqrt(H^2 + Z^2)"
        return np.hypot(record.component("H"), record.component("Z")), f"{how} sample by sample (no F column)"
    values = record.component(channel)
    return values, ("from X and Y" if channel == "H" and derived_h else None)


def not_derivable(files: Sequence[str], channel: str, available) -> DataError:
    """The error for ``F`` when the files have neither F nor H (or X and Y) and Z."""
    return DataError(files_label(files), f"component {channel!r} is not reported and cannot be derived (needs "
                                         f"H and Z, or X, Y and Z; files report {', '.join(available)})")


def files_label(files: Sequence[str]) -> str:
    """How an error names a station's files: the file, or the first and how many more."""
    return files[0] if len(files) == 1 else f"{files[0]} (and {len(files) - 1} more file(s) of the station)"
