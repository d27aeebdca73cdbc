"""The preprocessing steps of a recipe and the array work each does.

Each step is a small frozen dataclass holding its settings (checked on construction),
its record (:meth:`to_dict`, what ``dataset.json`` and the checkpoints keep), a line for
reports (:meth:`describe`) and :meth:`run`, which applies it to one chunk of windows laid
out per channel as one continuous series: ``(rows, channels, days, steps)`` float64.
:class:`seismag.dataset.recipe.Recipe` chains them, always in the one order
:data:`STEP_ORDER`, whatever order they are written in, and each at most once::

    despike -> baseline -> sq -> diff -> local_time

- **despike** first: a spike pulls every median and every daily range that contains it,
  so the baseline and the quiet-day choice are made on despiked data.
- **baseline** before **sq**: the Sq estimate wants baseline-free, despiked data. A
  spike would decide which days look quiet (their range) and enter the curve; the level
  does not change the choice or the curve's shape (a constant commutes with ``sq``), but
  removing the ~40,000 nT first keeps the averages in small numbers, which float64 sums
  without losing the 0.01 nT the records resolve.
- **diff** before **local_time**: differences are taken along the continuous series, so
  no difference straddles a stretch that the slice removes (the first kept minute of a
  day is still the change from the minute before it, not from the previous day's last
  kept minute).
- **local_time** last: it only selects, so every other step sees the whole window.

Each channel of each row is processed on its own: nothing mixes channels or rows.

NaN (a gap the builder left) never spreads to a whole window: medians and means ignore
NaN, a NaN sample stays NaN (the recipe fills no gaps), and ``diff`` turns one NaN into
two (the differences into and out of it). Per step: see each step's docstring.

A step's settings out of range are a :class:`~seismag.errors.ConfigError`.

May import numpy, the standard library and :mod:`seismag.errors`; never torch.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar, Union

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from seismag.errors import ConfigError

__all__ = [
    "STEP_ORDER", "STEP_CLASSES", "MAD_SCALE", "TILE_ELEMENTS",
    "Despike", "Baseline", "Sq", "Diff", "LocalTime", "Step", "is_int",
]

#: The order the steps run in, whatever order they are written in.
STEP_ORDER = ("despike", "baseline", "sq", "diff", "local_time")
#: MAD -> standard deviation of a normal distribution (1 / Phi^-1(3/4)).
MAD_SCALE = 1.4826
#: float64 elements one tile of the rolling median works on (1 MiB): small enough to stay
#: in cache, which makes the partitions about five times faster than on a whole chunk.
TILE_ELEMENTS = 1 << 17


# ============================================================================ the steps


def is_int(value: Any) -> bool:
    """True for an integer (Python or NumPy), False for a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _hours_text(hours: float) -> str:
    """``4.0`` -> ``"04:00"``, ``21.5`` -> ``"21:30"``; a fraction of a minute as ``"1.01 h"``."""
    minutes = hours * 60
    if minutes == int(minutes):
        return f"{int(minutes) // 60:02d}:{int(minutes) % 60:02d}"
    return f"{hours:g} h"


@dataclass(frozen=True)
class Despike:
    """Hampel filter per channel along the window's whole time series.

    The series is the channel's ``days * steps_per_day`` samples end to end, so the
    filter sees across day boundaries. For each sample the median and the MAD (median
    absolute deviation from that median) of the ``2 * half_window + 1`` samples centred
    on it are taken; a sample deviating from the median by more than
    ``n_sigma * 1.4826 * MAD`` is replaced by the median. Where the MAD is 0 (most of the
    window equal) any sample that differs from the median counts as a spike.

    Edges: a sample closer than ``half_window`` to either end of the series uses the
    first (or last) full window, so every sample is judged on ``2 * half_window + 1``
    samples and nothing is padded or invented.

    NaN: ignored by the medians (a window's median is that of its valid samples; a
    window of only NaN gives NaN, and no replacement); a NaN sample stays NaN.
    """

    half_window: int = 7
    n_sigma: float = 3.0

    name: ClassVar[str] = "despike"
    keys: ClassVar[tuple[str, ...]] = ("half_window", "n_sigma")

    def __post_init__(self) -> None:
        if not is_int(self.half_window) or self.half_window < 1:
            raise ConfigError(f"half_window must be an integer >= 1, got {self.half_window!r}")
        if not _is_number(self.n_sigma) or not math.isfinite(self.n_sigma) or self.n_sigma <= 0:
            raise ConfigError(f"n_sigma must be a number > 0, got {self.n_sigma!r}")
        object.__setattr__(self, "half_window", int(self.half_window))
        object.__setattr__(self, "n_sigma", float(self.n_sigma))

    @property
    def window(self) -> int:
        """Samples in one window: ``2 * half_window + 1``."""
        return 2 * self.half_window + 1

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.name, "half_window": self.half_window, "n_sigma": self.n_sigma}

    def describe(self) -> str:
        return f"despike (Hampel, +/-{self.half_window} steps, {self.n_sigma:g} sigma)"

    def run(self, series: np.ndarray, longitudes: np.ndarray | None = None) -> np.ndarray:
        """Despike ``series`` (``(rows, channels, days, steps)`` float64, C-contiguous) in place; return it."""
        _hampel_in_place(_channel_series(series), self.half_window, self.n_sigma)
        return series


@dataclass(frozen=True)
class Baseline:
    """Subtract a level per channel: the median of the first day (``reference='first_day'``)
    or of the whole window (``'window'``).

    NaN: ignored by the median; a channel whose reference holds only NaN becomes NaN.
    """

    reference: str = "first_day"

    name: ClassVar[str] = "baseline"
    keys: ClassVar[tuple[str, ...]] = ("reference",)
    REFERENCES: ClassVar[tuple[str, ...]] = ("first_day", "window")

    def __post_init__(self) -> None:
        if self.reference not in self.REFERENCES:
            raise ConfigError(f"reference must be 'first_day' or 'window', got {self.reference!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.name, "reference": self.reference}

    def describe(self) -> str:
        words = "first-day median" if self.reference == "first_day" else "window median"
        return f"baseline ({words})"

    def run(self, series: np.ndarray, longitudes: np.ndarray | None = None) -> np.ndarray:
        """Subtract each channel's level from ``series`` (as :meth:`Despike.run`) in place; return it."""
        rows, n_channels = series.shape[:2]
        flat = _channel_series(series)
        reference = series[:, :, :1] if self.reference == "first_day" else series
        reference = reference.reshape(rows * n_channels, -1)
        step_rows = _series_blocks(*reference.shape).step
        for row in range(0, rows * n_channels, step_rows):
            level = _median(reference[row:row + step_rows], axis=-1)
            flat[row:row + step_rows] -= level[:, None]
        return series


@dataclass(frozen=True)
class Sq:
    """Remove a quiet-day (Sq) curve estimated from the window itself, per channel.

    The ``quiet_days`` days with the smallest daily range (max - min) are averaged step
    by step into one daily curve; the curve's own mean is subtracted from it (so the
    channel's level is kept) and the curve is subtracted from every day. Ties in the
    range go to the earlier day. ``quiet_days`` must not exceed the window's days.

    NaN: ranges, averages and the curve's mean ignore NaN; a day with no valid sample is
    never quiet (unless fewer days than ``quiet_days`` have one); a step that no quiet
    day has a value for gets no correction.
    """

    quiet_days: int = 3

    name: ClassVar[str] = "sq"
    keys: ClassVar[tuple[str, ...]] = ("quiet_days",)

    def __post_init__(self) -> None:
        if not is_int(self.quiet_days) or self.quiet_days < 1:
            raise ConfigError(f"quiet_days must be an integer >= 1, got {self.quiet_days!r}")
        object.__setattr__(self, "quiet_days", int(self.quiet_days))

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.name, "quiet_days": self.quiet_days}

    def describe(self) -> str:
        days = "day" if self.quiet_days == 1 else f"{self.quiet_days} days"
        return f"sq (mean of the quietest {days} removed)"

    def run(self, series: np.ndarray, longitudes: np.ndarray | None = None) -> np.ndarray:
        """Remove the quiet-day curve from ``series`` (as :meth:`Despike.run`) in place; return it."""
        series -= _quiet_curve(series, self.quiet_days)[:, :, None, :]
        return series


@dataclass(frozen=True)
class Diff:
    """First differences along time per channel (dB/dt in the channel's unit per step).

    Taken along the continuous series, across day boundaries; the window's first sample
    gets 0 so the length is kept. NaN: one NaN sample makes the two differences into and
    out of it NaN.
    """

    name: ClassVar[str] = "diff"
    keys: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.name}

    def describe(self) -> str:
        return "diff (first differences per step)"

    def run(self, series: np.ndarray, longitudes: np.ndarray | None = None) -> np.ndarray:
        """First differences of ``series`` (as :meth:`Despike.run`) in place; return it."""
        _diff_in_place(_channel_series(series))
        return series


@dataclass(frozen=True)
class LocalTime:
    """Keep only the steps of each UTC day whose local mean solar time lies in
    ``[start_hour, end_hour)``; ``end_hour < start_hour`` slices through midnight
    (``22-2`` keeps 22:00-24:00 and 00:00-02:00).

    Local mean solar time is UTC + longitude / 15 hours, taken to the nearest step: a row
    at longitude ``lon`` (east positive) is shifted by ``floor(lon * steps_per_day / 360
    + 0.5)`` steps, so local step ``l`` is UTC step ``(l - offset) mod steps_per_day``.
    Step ``l`` (its start, ``l * 24 / steps_per_day`` hours) is kept when it lies in the
    slice. Kept steps stay in UTC order within the day.

    Every row keeps the same number of steps: the kept *local* steps are a fixed set, and
    an integer offset only rotates which UTC steps they are.

    Caveat: the selection is per UTC day. Where the local slice straddles UTC midnight at
    a station (local 22-02 at 0 deg; local 00-04 at 30 deg E, which is UTC 22:00-02:00,
    but not at 144 deg E, where it is UTC 14:24-18:24), a day token holds the end of one
    local night followed by the start of the next.
    """

    start_hour: float
    end_hour: float

    name: ClassVar[str] = "local_time"
    keys: ClassVar[tuple[str, ...]] = ("start_hour", "end_hour")

    def __post_init__(self) -> None:
        for key in self.keys:
            value = getattr(self, key)
            if not _is_number(value) or not math.isfinite(value):
                raise ConfigError(f"{key} must be a number of hours, got {value!r}")
        if not 0 <= self.start_hour < 24:
            raise ConfigError(f"start_hour must lie in [0, 24), got {self.start_hour:g}")
        if not 0 <= self.end_hour <= 24:
            raise ConfigError(f"end_hour must lie in [0, 24], got {self.end_hour:g}")
        if self.start_hour == self.end_hour:
            raise ConfigError(f"start_hour and end_hour are both {self.start_hour:g}: the slice keeps nothing")
        object.__setattr__(self, "start_hour", float(self.start_hour))
        object.__setattr__(self, "end_hour", float(self.end_hour))

    def local_steps(self, steps_per_day: int) -> np.ndarray:
        """The kept local steps of a day, ascending (exact: the hours are compared as fractions)."""
        first = math.ceil(Fraction(self.start_hour) * steps_per_day / 24)
        stop = math.ceil(Fraction(self.end_hour) * steps_per_day / 24)
        if self.end_hour > self.start_hour:
            return np.arange(first, stop, dtype=np.int64)
        return np.concatenate([np.arange(0, stop), np.arange(first, steps_per_day)]).astype(np.int64)

    def utc_steps(self, longitudes: np.ndarray, steps_per_day: int) -> np.ndarray:
        """``(n, kept)`` UTC steps to keep for rows at ``longitudes`` (degrees east), ascending."""
        offsets = np.floor(np.asarray(longitudes, dtype=np.float64) * steps_per_day / 360 + 0.5).astype(np.int64)
        return np.sort((self.local_steps(steps_per_day)[None, :] - offsets[:, None]) % steps_per_day, axis=1)

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.name, "start_hour": self.start_hour, "end_hour": self.end_hour}

    def describe(self) -> str:
        return f"local time ({self.hours_text()} local mean solar time)"

    def hours_text(self) -> str:
        """The slice as reports write it: ``"00:00-04:00"``, ``"22:00-02:00"``."""
        return f"{_hours_text(self.start_hour)}-{_hours_text(self.end_hour)}"

    def run(self, series: np.ndarray, longitudes: np.ndarray) -> np.ndarray:
        """The kept steps of ``series`` (``(rows, channels, days, steps)``) for rows at
        ``longitudes`` (degrees east, one per row): ``(rows, channels, days, kept)``, a new array."""
        index = self.utc_steps(longitudes, series.shape[3])
        return np.take_along_axis(series, index[:, None, None, :], axis=3)


Step = Union[Despike, Baseline, Sq, Diff, LocalTime]
#: Step name (:data:`STEP_ORDER`) -> its class.
STEP_CLASSES: dict[str, type] = {cls.name: cls for cls in (Despike, Baseline, Sq, Diff, LocalTime)}


# ============================================================================ the work


def _channel_series(series: np.ndarray) -> np.ndarray:
    """``(rows, channels, days, steps)`` as ``(rows * channels, days * steps)``: a view, each
    channel's series end to end (``series`` is C-contiguous)."""
    rows, n_channels, days, steps = series.shape
    return series.reshape(rows * n_channels, days * steps)


def _median(values: np.ndarray, axis: int) -> np.ndarray:
    """Median along ``axis`` ignoring NaN (NaN where all are NaN); fast path without NaN."""
    if not np.isnan(values).any():
        return np.median(values, axis=axis)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN slice: its median is NaN
        return np.nanmedian(values, axis=axis)


def _window_median(windows: np.ndarray, has_nan: bool) -> np.ndarray:
    """Median over the last axis (odd length) of a sliding-window view, NaN ignored
    (``has_nan``: whether the windows hold any NaN; without, one partition does)."""
    width = windows.shape[-1]
    if not has_nan:
        return np.partition(windows, width // 2, axis=-1)[..., width // 2]
    ordered = np.sort(windows, axis=-1)  # NaN sort last
    valid = width - np.isnan(windows).sum(axis=-1)
    low = np.maximum((valid - 1) // 2, 0)[..., None]
    high = (valid // 2)[..., None]
    median = 0.5 * (np.take_along_axis(ordered, low, -1) + np.take_along_axis(ordered, high, -1))[..., 0]
    median[valid == 0] = np.nan
    return median


def _hampel_in_place(flat: np.ndarray, half_window: int, n_sigma: float) -> None:
    """Hampel filter along the last axis of ``flat`` (``(series, samples)`` float64), in place.

    Worked in cache-sized tiles of the sliding-window view, so neither a ``samples x
    window`` copy nor a full-size median array is ever made: each tile judges its own
    samples, and its replacements (few) are written once every tile of those series has
    read the original values.
    """
    n_series, length = flat.shape
    width = 2 * half_window + 1
    centres = length - 2 * half_window
    threshold = n_sigma * MAD_SCALE
    tile = max(1, min(centres, TILE_ELEMENTS // width))
    tile_series = max(1, TILE_ELEMENTS // (tile * width))
    for row in range(0, n_series, tile_series):
        row_stop = min(row + tile_series, n_series)
        found_rows, found_columns, found_values = [], [], []
        for first in range(0, centres, tile):
            stop = min(first + tile, centres)
            block = flat[row:row_stop, first:stop + 2 * half_window]
            has_nan = bool(np.isnan(block).any())
            view = sliding_window_view(block, width, axis=-1)
            median = _window_median(view, has_nan)
            mad = _window_median(np.abs(view - median[..., None]), has_nan)
            # The tile judges the samples at its centres; the samples within half_window
            # of an end of the series are judged on the first / last full window.
            before = half_window if first == 0 else 0
            after = half_window if stop == centres else 0
            if before or after:
                median = np.pad(median, ((0, 0), (before, after)), mode="edge")
                mad = np.pad(mad, ((0, 0), (before, after)), mode="edge")
            column = first + half_window - before
            values = flat[row:row_stop, column:column + median.shape[1]]
            with np.errstate(invalid="ignore"):  # NaN compares false: a NaN is never a spike
                spikes = np.nonzero(np.abs(values - median) > threshold * mad)
            found_rows.append(spikes[0] + row)
            found_columns.append(spikes[1] + column)
            found_values.append(median[spikes])
        flat[np.concatenate(found_rows), np.concatenate(found_columns)] = np.concatenate(found_values)


def _series_blocks(n_series: int, length: int) -> range:
    """Starts of blocks of whole series of about 8 MiB each, to keep temporaries small."""
    return range(0, n_series, max(1, (TILE_ELEMENTS * 8) // max(length, 1)))


def _diff_in_place(flat: np.ndarray) -> None:
    """First differences along the last axis, 0 first, block by block."""
    step = _series_blocks(*flat.shape).step
    for row in range(0, flat.shape[0], step):
        block = flat[row:row + step]
        block[:, 1:] = np.diff(block, axis=-1)
        block[:, 0] = 0.0


def _quiet_curve(series: np.ndarray, quiet_days: int) -> np.ndarray:
    """The zero-mean quiet-day curve ``(rows, channels, steps)`` of ``(rows, channels, days, steps)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN days and steps: handled below
        daily_range = np.nanmax(series, axis=-1) - np.nanmin(series, axis=-1)
        daily_range[np.isnan(daily_range)] = np.inf  # a day without data is never quiet
        quiet = np.argsort(daily_range, axis=-1, kind="stable")[..., :quiet_days]
        chosen = np.take_along_axis(series, quiet[..., None], axis=2)
        curve = np.nanmean(chosen, axis=2)
        curve -= np.nanmean(curve, axis=-1, keepdims=True)
    curve[np.isnan(curve)] = 0.0  # a step no quiet day has a value for: no correction
    return curve
