"""The preprocessing recipe: raw magnetometer windows in, model input out.

Windows are stored raw on disk (nT, gaps already interpolated), each row holding
``days x channels x steps`` values in the order "day, channel, step"
(:data:`seismag.layout.dataset_info.FEATURE_ORDER`). A :class:`Recipe` is a tuple of steps
(:mod:`seismag.dataset.recipe_steps`: despike, baseline, sq, diff, local_time, always run
in the order :data:`STEP_ORDER`, each at most once); its :meth:`Recipe.apply` turns such
rows into model input, and its :meth:`Recipe.to_dicts` is what ``DatasetInfo.recipe`` and
the checkpoints record.

This module is the one owner of the recipe as a whole: its record (written into
``dataset.json`` and every checkpoint), its command-line text and the one function that
applies it, so the builder and the predictor never keep their own copy of a rule, and a
model is never fed data prepared differently from its training data.

Errors: a bad recipe record is a :class:`~seismag.errors.DataError` naming where it was
read from; bad command-line text and a recipe that cannot run on the window's settings
(too few quiet days, a slice that keeps no step, longitudes given to a recipe that has
no use for them) are a :class:`~seismag.errors.ConfigError`; rows that do not fit the
settings (wrong length or dtype) and longitudes that are missing, NaN or out of range
are a ``DataError`` naming ``where`` (the file the rows came from): the data, not the
settings, are what the user has to fix there. No ``ValueError`` reaches the caller.

May import numpy, the standard library, :mod:`seismag.errors` and
:mod:`seismag.dataset.recipe_steps`; never torch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seismag.dataset.recipe_steps import (
    MAD_SCALE,
    STEP_CLASSES,
    STEP_ORDER,
    Baseline,
    Despike,
    Diff,
    LocalTime,
    Sq,
    Step,
    is_int,
)
from seismag.errors import ConfigError, DataError

# The steps are re-exported: a recipe is written with them (``Recipe((Despike(), Diff()))``).
__all__ = [
    "STEP_ORDER", "OPTION_NAMES", "MAD_SCALE",
    "Despike", "Baseline", "Sq", "Diff", "LocalTime", "Step", "Recipe",
]

#: :meth:`Recipe.parse` keyword -> the command-line option its errors name.
OPTION_NAMES = {"despike": "--despike", "baseline": "--baseline", "sq_quiet_days": "--sq-quiet-days",
                "diff": "--diff", "local_time": "--local-time"}


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
            if not isinstance(step, tuple(STEP_CLASSES.values())):
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
            if name not in STEP_CLASSES:
                raise DataError(where, f"recipe step {number}: unknown step {name!r} "
                                       f"(known: {', '.join(STEP_ORDER)})")
            step_class = STEP_CLASSES[name]
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
            raise ConfigError(f"the local-time slice {local.hours_text()} "
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
        for step in self.steps:
            series = step.run(series, longitudes)
        return series


# ============================================================================ the checks


def _positive_int(value: Any, name: str) -> int:
    if not is_int(value) or value < 1:
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
