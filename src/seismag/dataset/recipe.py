"""The preprocessing recipe: raw magnetometer windows in, model input out.

Why this module is long: it is the one owner of the recipe (its steps, their order, the
record written into ``dataset.json`` and every checkpoint, its command-line text and the
one function that applies it); split up, the builder and the predictor would again each
keep their own copy of a rule, and a model could be fed data prepared differently from
its training data.

Windows are stored raw on disk (nT, gaps already interpolated), each row holding
``days x channels x steps`` values in the order "day, channel, step"
(:data:`seismag.layout.FEATURE_ORDER`). A :class:`Recipe` is a tuple of steps; its
:meth:`Recipe.apply` turns such rows into model input, and its :meth:`Recipe.to_dicts`
is what ``DatasetInfo.recipe`` and the checkpoints record.

The steps always run in one fixed order, :data:`STEP_ORDER`, whatever order they are
written in, and each at most once::

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

Errors: a bad recipe record is a :class:`~seismag.errors.DataError` naming where it was
read from; bad command-line text and a recipe that cannot run on the window's settings
(too few quiet days, a slice that keeps no step, longitudes given to a recipe that has
no use for them) are a :class:`~seismag.errors.ConfigError`; rows that do not fit the
settings (wrong length or dtype) and longitudes that are missing, NaN or out of range
are a ``DataError`` naming ``where`` (the file the rows came from): the data, not the
settings, are what the user has to fix there. No ``ValueError`` reaches the caller.

May import numpy, the standard library and :mod:`seismag.errors`; never torch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar, Union

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from seismag.errors import ConfigError, DataError

__all__ = [
    "STEP_ORDER", "OPTION_NAMES", "MAD_SCALE",
    "Despike", "Baseline", "Sq", "Diff", "LocalTime", "Step", "Recipe",
]

#: The order the steps run in, whatever order they are written in.
STEP_ORDER = ("despike", "baseline", "sq", "diff", "local_time")
#: :meth:`Recipe.parse` keyword -> the command-line option its errors name.
OPTION_NAMES = {"despike": "--despike", "baseline": "--baseline", "sq_quiet_days": "--sq-quiet-days",
                "diff": "--diff", "local_time": "--local-time"}
#: MAD -> standard deviation of a normal distribution (1 / Phi^-1(3/4)).
MAD_SCALE = 1.4826
#: float64 elements one tile of the rolling median works on (1 MiB): small enough to stay
#: in cache, which makes the partitions about five times faster than on a whole chunk.
_TILE_ELEMENTS = 1 << 17


# ============================================================================ the steps


def _is_int(value: Any) -> bool:
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
        if not _is_int(self.half_window) or self.half_window < 1:
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
        if not _is_int(self.quiet_days) or self.quiet_days < 1:
            raise ConfigError(f"quiet_days must be an integer >= 1, got {self.quiet_days!r}")
        object.__setattr__(self, "quiet_days", int(self.quiet_days))

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.name, "quiet_days": self.quiet_days}

    def describe(self) -> str:
        days = "day" if self.quiet_days == 1 else f"{self.quiet_days} days"
        return f"sq (mean of the quietest {days} removed)"


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
        return f"local time ({_hours_text(self.start_hour)}-{_hours_text(self.end_hour)} local mean solar time)"


Step = Union[Despike, Baseline, Sq, Diff, LocalTime]
_STEP_CLASSES: dict[str, type] = {cls.name: cls for cls in (Despike, Baseline, Sq, Diff, LocalTime)}


# ========================================================================= the recipe


@dataclass(frozen=True)
class Recipe:
    """The preprocessing steps that turn raw windows into model input.

    ``steps`` are kept in :data:`STEP_ORDER` whatever order they are given in (so two
    recipes with the same steps are equal), and each step may appear once. ``Recipe()``
    is the identity and is false in a boolean context.

    Examples
    --------
    >>> Recipe((Diff(), Despike())).describe()
    'despike (Hampel, +/-7 steps, 3 sigma) -> diff (first differences per step)'
    """

    steps: tuple[Step, ...] = ()

    def __post_init__(self) -> None:
        steps = tuple(self.steps)
        for step in steps:
            if not isinstance(step, tuple(_STEP_CLASSES.values())):
                raise ConfigError(f"not a recipe step: {step!r}")
        names = [step.name for step in steps]
        twice = sorted({name for name in names if names.count(name) > 1}, key=STEP_ORDER.index)
        if twice:
            raise ConfigError(f"recipe step '{twice[0]}' given more than once; each step may appear once")
        object.__setattr__(self, "steps", tuple(sorted(steps, key=lambda step: STEP_ORDER.index(step.name))))

    def __bool__(self) -> bool:
        return bool(self.steps)

    def step(self, name: str) -> Step | None:
        """The step called ``name`` (a :data:`STEP_ORDER` entry), or None when absent."""
        return next((step for step in self.steps if step.name == name), None)

    @property
    def needs_longitude(self) -> bool:
        """True when :meth:`apply` needs one longitude per row (a ``local_time`` step)."""
        return self.step("local_time") is not None

    # ------------------------------------------------------------------ serialisation

    def to_dicts(self) -> list[dict[str, Any]]:
        """The steps as plain dicts in run order, every setting spelt out (``dataset.json``)."""
        return [step.to_dict() for step in self.steps]

    @classmethod
    def from_dicts(cls, dicts: Sequence[Mapping[str, Any]], where: str) -> "Recipe":
        """The recipe a record describes, every key and value checked.

        Every key of a step must be present: a record says every setting, so it reads the
        same under a later version with other defaults.

        Parameters
        ----------
        dicts : sequence of mappings
            As :meth:`to_dicts` writes them (``DatasetInfo.recipe``, a checkpoint's record).
        where : str
            Where the record was read from (a ``dataset.json`` path, a checkpoint); errors
            name it.

        Raises
        ------
        DataError
            ``where`` and the first problem: not a list, an unknown step, a missing or
            unknown key, a wrong type or a value out of range, a step given twice.
        """
        if isinstance(dicts, (str, bytes, Mapping)) or not isinstance(dicts, Sequence):
            raise DataError(where, f"the recipe must be a list of steps, got {type(dicts).__name__}")
        steps = []
        for number, record in enumerate(dicts, start=1):
            if not isinstance(record, Mapping):
                raise DataError(where, f"recipe step {number} must be a mapping, got {type(record).__name__}")
            name = record.get("step")
            if name not in _STEP_CLASSES:
                raise DataError(where, f"recipe step {number}: unknown step {name!r} "
                                       f"(known: {', '.join(STEP_ORDER)})")
            step_class = _STEP_CLASSES[name]
            label = f"recipe step {number} ('{name}')"
            unknown = [key for key in record if key != "step" and key not in step_class.keys]
            if unknown:
                known = ", ".join(step_class.keys) or "none"
                raise DataError(where, f"{label}: unknown key {unknown[0]!r} (known: {known})")
            missing = [key for key in step_class.keys if key not in record]
            if missing:
                raise DataError(where, f"{label}: missing key {missing[0]!r}")
            try:
                steps.append(step_class(**{key: record[key] for key in step_class.keys}))
            except ConfigError as error:
                raise DataError(where, f"{label}: {error}") from None
        try:
            return cls(tuple(steps))
        except ConfigError as error:
            raise DataError(where, str(error)) from None

    @classmethod
    def parse(cls, *, despike: str | None = None, baseline: str | None = None,
              sq_quiet_days: int | None = None, diff: bool = False, local_time: str | None = None) -> "Recipe":
        """The recipe the command-line options ask for (:data:`OPTION_NAMES`).

        Parameters
        ----------
        despike : str, optional
            ``"default"`` (+/-7 steps, 3 sigma) or ``"HALF_WINDOW,N_SIGMA"`` (``"7,3"``).
        baseline : str, optional
            ``"first-day"`` or ``"window"``.
        sq_quiet_days : int, optional
            Quiet days averaged into the Sq curve.
        diff : bool
            First differences.
        local_time : str, optional
            ``"START-END"`` in local hours, decimals allowed (``"0-4"``, ``"22-2"``, ``"21.5-3"``).

        Raises
        ------
        ConfigError
            Naming the option, the text and the problem.
        """
        steps: list[Step] = []

        def fail(option: str, text: Any, problem: str) -> ConfigError:
            return ConfigError(f"{OPTION_NAMES[option]} {text!r}: {problem}")

        if despike is not None:
            text = str(despike).strip()
            if text.lower() == "default":
                steps.append(Despike())
            else:
                parts = [part.strip() for part in text.split(",")]
                if len(parts) != 2:
                    raise fail("despike", despike, "expected 'default' or HALF_WINDOW,N_SIGMA (e.g. '7,3')")
                try:
                    half_window = int(parts[0])
                except ValueError:
                    raise fail("despike", despike, f"half window {parts[0]!r} is not an integer") from None
                try:
                    n_sigma = float(parts[1])
                except ValueError:
                    raise fail("despike", despike, f"n_sigma {parts[1]!r} is not a number") from None
                try:
                    steps.append(Despike(half_window, n_sigma))
                except ConfigError as error:
                    raise fail("despike", despike, str(error)) from None
        if baseline is not None:
            reference = {"first-day": "first_day", "first_day": "first_day", "window": "window"}.get(
                str(baseline).strip().lower())
            if reference is None:
                raise fail("baseline", baseline, "expected 'first-day' or 'window'")
            steps.append(Baseline(reference))
        if sq_quiet_days is not None:
            try:
                steps.append(Sq(sq_quiet_days))
            except ConfigError as error:
                raise fail("sq_quiet_days", sq_quiet_days, str(error)) from None
        if not isinstance(diff, (bool, np.bool_)):
            raise fail("diff", diff, "expected true or false")
        if diff:
            steps.append(Diff())
        if local_time is not None:
            parts = str(local_time).strip().split("-")
            if len(parts) != 2:
                raise fail("local_time", local_time, "expected START-END in local hours (e.g. '0-4' or '22-2')")
            hours = []
            for what, part in zip(("start", "end"), parts):
                try:
                    hours.append(float(part))
                except ValueError:
                    raise fail("local_time", local_time, f"{what} hour {part.strip()!r} is not a number") from None
            try:
                steps.append(LocalTime(*hours))
            except ConfigError as error:
                raise fail("local_time", local_time, str(error)) from None
        return cls(tuple(steps))

    def describe(self) -> str:
        """One readable line for reports: the steps in run order, or that there are none."""
        if not self.steps:
            return "none (raw values)"
        return " -> ".join(step.describe() for step in self.steps)

    # -------------------------------------------------------------------------- shapes

    def output_steps(self, steps_per_day: int) -> int:
        """Steps per day and channel of the model input (``steps_per_day`` stored).

        Raises
        ------
        ConfigError
            When a ``local_time`` slice keeps no step at this ``steps_per_day``.
        """
        steps_per_day = _positive_int(steps_per_day, "steps_per_day")
        local = self.step("local_time")
        if local is None:
            return steps_per_day
        kept = len(local.local_steps(steps_per_day))
        if kept == 0:
            raise ConfigError(f"the local-time slice {_hours_text(local.start_hour)}-{_hours_text(local.end_hour)} "
                              f"keeps no step at {steps_per_day} steps per day")
        return kept

    def check(self, *, window_days: int, steps_per_day: int) -> None:
        """Refuse a recipe that cannot run on windows of these settings (ConfigError).

        ``sq`` needs ``quiet_days <= window_days``; ``despike`` needs a series of at least
        ``2 * half_window + 1`` samples; ``local_time`` must keep a step.
        """
        window_days = _positive_int(window_days, "window_days")
        steps_per_day = _positive_int(steps_per_day, "steps_per_day")
        sq = self.step("sq")
        if sq is not None and sq.quiet_days > window_days:
            raise ConfigError(f"the sq step averages {sq.quiet_days} quiet days but the window has only "
                              f"{window_days} day{'s' if window_days != 1 else ''}")
        despike = self.step("despike")
        if despike is not None and despike.window > window_days * steps_per_day:
            raise ConfigError(f"the despike step's window of {despike.window} samples is longer than the "
                              f"series ({window_days} days x {steps_per_day} steps)")
        self.output_steps(steps_per_day)

    # --------------------------------------------------------------------------- apply

    def apply(self, windows: np.ndarray, *, window_days: int, channels: int, steps_per_day: int,
              longitudes: Sequence[float] | np.ndarray | None = None, chunk_rows: int = 256,
              where: str = "windows") -> np.ndarray:
        """Turn raw windows into model input.

        Parameters
        ----------
        windows : ndarray
            ``(n, days * channels * steps)`` in the order "day, channel, step", or
            ``(n, days, channels, steps)``; raw values (nT), any integer or float dtype,
            may be a memory map. Never modified.
        window_days, channels, steps_per_day : int
            Days per window, channels per day (``DatasetInfo.n_channels``) and samples per
            day and channel as stored.
        longitudes : sequence of float, optional
            One station longitude per row (degrees, east positive, in [-180, 360]); given
            exactly when :attr:`needs_longitude`.
        chunk_rows : int
            Rows processed at a time: peak memory is one chunk in float64 plus the float32
            output (the other temporaries are cache-sized tiles or blocks of ~8 MiB).
        where : str
            What the rows are (their file), named in errors.

        Returns
        -------
        ndarray
            float32 ``(n, days * channels * output_steps(steps_per_day))``, order "day,
            channel, step". An empty recipe returns the input as float32, which is the
            input itself (a view, not to be written into) when it is already float32.

        Raises
        ------
        ConfigError
            Settings that are not positive integers, a recipe that cannot run on them
            (:meth:`check`), longitudes given to a recipe without ``local_time``.
        DataError
            ``where`` and the problem: rows of the wrong shape or dtype, longitudes
            missing, of the wrong count, NaN or out of range.
        """
        days = _positive_int(window_days, "window_days")
        n_channels = _positive_int(channels, "channels")
        steps = _positive_int(steps_per_day, "steps_per_day")
        chunk_rows = _positive_int(chunk_rows, "chunk_rows")
        self.check(window_days=days, steps_per_day=steps)
        windows = windows if isinstance(windows, np.ndarray) else np.asarray(windows)
        _check_windows(windows, days, n_channels, steps, where)
        n_rows = windows.shape[0]
        lons = self._check_longitudes(longitudes, n_rows, where)
        if not self.steps:
            return np.asarray(windows, dtype=np.float32).reshape(n_rows, days * n_channels * steps)
        kept = self.output_steps(steps)
        out = np.empty((n_rows, days * n_channels * kept), dtype=np.float32)
        for start in range(0, n_rows, chunk_rows):
            stop = min(start + chunk_rows, n_rows)
            rows = stop - start
            # One float64 copy, laid out per channel as one continuous series (the
            # despike, diff and the medians run along it); the input is only read.
            series = np.empty((rows, n_channels, days, steps), dtype=np.float64)
            series[...] = np.asarray(windows[start:stop]).reshape(rows, days, n_channels, steps).transpose(0, 2, 1, 3)
            series = self._process(series, None if lons is None else lons[start:stop])
            out[start:stop].reshape(rows, days, n_channels, kept)[...] = series.transpose(0, 2, 1, 3)
        return out

    def _check_longitudes(self, longitudes: Any, n_rows: int, where: str) -> np.ndarray | None:
        if not self.needs_longitude:
            if longitudes is not None:
                raise ConfigError("longitudes were given but the recipe has no local_time step; pass None")
            return None
        if longitudes is None:
            raise DataError(where, "the local_time step needs one station longitude per row; none were given")
        try:
            lons = np.asarray(longitudes, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(where, "longitudes must be numbers (degrees east)") from None
        if lons.shape != (n_rows,):
            raise DataError(where, f"the local_time step needs one longitude per row: {n_rows} rows, "
                                   f"longitudes of shape {lons.shape}")
        bad = np.flatnonzero(~np.isfinite(lons))
        if bad.size:
            raise DataError(where, f"row {int(bad[0])} has no longitude ({lons[bad[0]]}); the local_time step "
                                   "needs each row's station longitude")
        bad = np.flatnonzero((lons < -180) | (lons > 360))
        if bad.size:
            raise DataError(where, f"row {int(bad[0])}: longitude {lons[bad[0]]:g} is outside [-180, 360] degrees")
        return lons

    def _process(self, series: np.ndarray, longitudes: np.ndarray | None) -> np.ndarray:
        """All steps on ``(rows, channels, days, steps)`` float64, worked in place where possible.

        Returns ``(rows, channels, days, kept)``.
        """
        rows, n_channels, days, steps = series.shape
        flat = series.reshape(rows * n_channels, days * steps)  # a view: each channel's series
        for step in self.steps:
            if isinstance(step, Despike):
                _hampel_in_place(flat, step.half_window, step.n_sigma)
            elif isinstance(step, Baseline):
                reference = series[:, :, :1] if step.reference == "first_day" else series
                reference = reference.reshape(rows * n_channels, -1)
                step_rows = _series_blocks(*reference.shape).step
                for row in range(0, rows * n_channels, step_rows):
                    level = _median(reference[row:row + step_rows], axis=-1)
                    flat[row:row + step_rows] -= level[:, None]
            elif isinstance(step, Sq):
                series -= _quiet_curve(series, step.quiet_days)[:, :, None, :]
            elif isinstance(step, Diff):
                _diff_in_place(flat)
            elif isinstance(step, LocalTime):
                index = step.utc_steps(longitudes, steps)
                series = np.take_along_axis(series, index[:, None, None, :], axis=3)
        return series


# ============================================================================ the work


def _positive_int(value: Any, name: str) -> int:
    if not _is_int(value) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_windows(windows: np.ndarray, days: int, n_channels: int, steps: int, where: str) -> None:
    if windows.dtype.kind not in "iuf":
        raise DataError(where, f"windows have dtype {windows.dtype}; expected integer or float values")
    expected = days * n_channels * steps
    layout = f"{days} days x {n_channels} channel{'s' if n_channels != 1 else ''} x {steps} steps"
    if windows.ndim == 2:
        if windows.shape[1] != expected:
            raise DataError(where, f"rows hold {windows.shape[1]} values, expected {layout} = {expected}")
    elif windows.ndim == 4:
        if windows.shape[1:] != (days, n_channels, steps):
            raise DataError(where, f"windows of shape {windows.shape}, expected (rows, {days}, {n_channels}, {steps}) "
                                   f"= (rows, days, channels, steps)")
    else:
        raise DataError(where, f"windows must be 2-D (rows, values) or 4-D (rows, days, channels, steps), "
                               f"got shape {windows.shape}")


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
    tile = max(1, min(centres, _TILE_ELEMENTS // width))
    tile_series = max(1, _TILE_ELEMENTS // (tile * width))
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
    return range(0, n_series, max(1, (_TILE_ELEMENTS * 8) // max(length, 1)))


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
