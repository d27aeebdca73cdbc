"""Plan: which windows exist, before any label is known.

Lives here: the build's settings (checked once, read by every step) and the candidate
windows of one length at one station (:class:`~seismag.dataset.stations.StationMinutes`):
their days (``window_start`` .. ``window_end``), the stride between them, their missing
minutes and their label horizons (``window_end`` .. ``horizon_end``).

May import numpy, the standard library, :mod:`seismag.errors`, :mod:`seismag.layout` (the
label settings' record), :mod:`seismag.dataset.stations` (the station's day grid) and
:mod:`seismag.dataset.channels`; nothing of the catalog (that is :mod:`.label`) and
nothing that writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from seismag import defaults
from seismag.dataset.channels import parse_components
from seismag.dataset.stations import MINUTES_PER_DAY, StationMinutes, window_missing_fraction
from seismag.errors import ConfigError, DataError
from seismag.layout.dataset_info import label_settings

__all__ = [
    "CandidateWindows",
    "candidate_windows",
    "check_recipe",
    "check_settings",
    "default_label_settings",
    "label_record",
    "plan_station",
]


# --------------------------------------------------------------------------- settings


def check_settings(*, windows, component, min_magnitude, radius_km, radius, lead_days,
                   stride_days, max_missing, steps_per_day, components=None, max_depth_km=None) -> dict:
    """Check the build's settings; return them as the plain dict every step reads.

    Window lengths come back sorted and without repeats; ``radius_mode`` is ``'fixed'``
    (``radius_km`` given) or ``'dobrovolsky'``; ``max_depth_km`` is there only when given
    (so a build without a depth cut reports its settings as before). ``component`` (one letter) and
    ``components`` (several channels, :func:`parse_components`) are two spellings of the
    channels; give at most one (neither: H). ``channels`` is the tuple of channels and
    ``component`` their names joined by commas, as the report and ``meta.csv`` write them.
    Raises ConfigError naming the setting.
    """
    if isinstance(windows, (int, np.integer)):
        windows = (windows,)
    try:
        windows = list(windows)
        window_list = [int(n) for n in windows]
    except (TypeError, ValueError):
        raise ConfigError(f"windows must be positive whole numbers of days, got {windows!r}") from None
    if not window_list or any(n < 1 for n in window_list) or any(n != w for n, w in zip(window_list, windows)):
        raise ConfigError(f"windows must be positive whole numbers of days, got {windows!r}")
    window_list = sorted(set(window_list))
    if component is not None and components is not None:
        raise ConfigError("give component (one channel) or components (several), not both")
    if components is not None:
        channels = parse_components(components)
    else:
        component = "H" if component is None else component
        if not isinstance(component, str) or len(component.strip()) != 1 or not component.strip().isalpha():
            raise ConfigError(f"component must be one IAGA component letter (H, D, Z, F, X, Y, E, ...), "
                              f"got {component!r}")
        channels = (component.strip().upper(),)
    if not _is_number(min_magnitude) or not np.isfinite(min_magnitude):
        raise ConfigError(f"min_magnitude must be a number, got {min_magnitude!r}")
    if radius_km is not None:
        if radius not in ("dobrovolsky", "fixed"):
            raise ConfigError(f"radius must be 'dobrovolsky' or 'fixed', got {radius!r}")
        if not (_is_number(radius_km) and np.isfinite(radius_km) and radius_km > 0):
            raise ConfigError(f"radius_km must be a positive number, got {radius_km!r}")
        mode = "fixed"
    elif radius == "dobrovolsky":
        mode = "dobrovolsky"
    elif radius == "fixed":
        raise ConfigError("radius='fixed' needs radius_km")
    else:
        raise ConfigError(f"radius must be 'dobrovolsky' or 'fixed', got {radius!r}")
    for name, value in (("lead_days", lead_days), ("stride_days", stride_days)):
        if not _is_number(value) or int(value) != value or value < 1:
            raise ConfigError(f"{name} must be a whole number of days >= 1, got {value!r}")
    if max_depth_km is not None and not (_is_number(max_depth_km) and np.isfinite(max_depth_km) and max_depth_km >= 0):
        raise ConfigError(f"max_depth_km must be a number of km, 0 or more, got {max_depth_km!r}")
    if not _is_number(max_missing) or not 0.0 <= max_missing < 1.0:
        raise ConfigError(f"max_missing must be in [0, 1), got {max_missing!r}")
    if (not _is_number(steps_per_day) or int(steps_per_day) != steps_per_day or steps_per_day < 1
            or MINUTES_PER_DAY % int(steps_per_day)):
        raise ConfigError(
            f"steps_per_day must divide 1440 (the records are 1-minute), got {steps_per_day!r}"
        )
    settings = {
        "windows": window_list,
        "component": ",".join(channels),
        "min_magnitude": float(min_magnitude),
        "radius_mode": mode,
        "radius_km": float(radius_km) if radius_km is not None else None,
        "lead_days": int(lead_days),
        "stride_days": int(stride_days),
        "max_missing": float(max_missing),
        "steps_per_day": int(steps_per_day),
        "channels": channels,
    }
    if max_depth_km is not None:
        settings["max_depth_km"] = float(max_depth_km)
    return settings


def label_record(settings: Mapping) -> dict:
    """What ``dataset.json`` records of checked settings' labels (:data:`seismag.layout.dataset_info.LABEL_KEYS`):
    the events that made a window class 1. ``decluster`` is the build's (set after the check)."""
    return label_settings({"min_magnitude": settings["min_magnitude"], "radius": settings["radius_mode"],
                         "radius_km": settings["radius_km"], "lead_days": settings["lead_days"],
                         "max_depth_km": settings.get("max_depth_km"),
                         "decluster": bool(settings.get("decluster", False))}, "the build's settings")


def default_label_settings() -> dict:
    """The label settings of a build with every default: M >= :data:`seismag.defaults.MIN_MAGNITUDE`
    within :data:`~seismag.defaults.RADIUS`, :data:`~seismag.defaults.LEAD_DAYS` days ahead, no depth cut, no
    declustering. What ``seismag skill`` judges by when nothing is recorded."""
    return label_settings({"min_magnitude": defaults.MIN_MAGNITUDE, "radius": defaults.RADIUS, "radius_km": None,
                         "lead_days": defaults.LEAD_DAYS, "max_depth_km": None, "decluster": False},
                        "the default label settings")


def check_recipe(recipe, settings: dict | None = None) -> list[dict]:
    """The preprocessing recipe ``dataset.json`` records, as a list of plain dicts.

    A :class:`~seismag.dataset.recipe.Recipe` or its dicts, checked by the recipe module
    (every step known, every value in range) and, with ``settings``, against the
    shortest window and the steps per day (e.g. ``sq`` needs as many days as its quiet
    days). The build records it; training, predict and evaluate apply it. Raises
    ConfigError (or DataError naming the recipe) otherwise.
    """
    from seismag.dataset.recipe import Recipe

    if isinstance(recipe, Recipe):
        prepared = recipe
    else:
        if isinstance(recipe, (str, bytes, Mapping)):
            raise ConfigError(f"recipe must be a list of steps (mappings with a 'step' name), got {recipe!r}")
        try:
            steps = [dict(step) for step in recipe]
        except (TypeError, ValueError):
            raise ConfigError(f"recipe must be a list of steps (mappings with a 'step' name), got {recipe!r}") from None
        try:
            prepared = Recipe.from_dicts(steps, "recipe")
        except DataError as error:  # a setting here, not a file
            raise ConfigError(str(error)) from None
    if settings is not None and prepared:
        prepared.check(window_days=min(settings["windows"]), steps_per_day=settings["steps_per_day"])
    return prepared.to_dicts()


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- windows


@dataclass(frozen=True)
class CandidateWindows:
    """Every window of one length at one station that the days allow, in time order.

    All arrays have shape ``(n_candidates,)``.

    Attributes
    ----------
    station : str
    window_days : int
    window_start, window_end, horizon_end : ndarray of datetime64[s]
        The window is ``[window_start, window_end)``; its label horizon is
        ``[window_end, horizon_end)``, ``lead_days`` long.
    missing_fraction : ndarray of float64
        Share of the window's minutes with no value.
    """

    station: str
    window_days: int
    window_start: np.ndarray
    window_end: np.ndarray
    horizon_end: np.ndarray
    missing_fraction: np.ndarray


def plan_station(station: StationMinutes, settings: dict) -> dict[int, CandidateWindows]:
    """The candidate windows of every window length of ``settings``, by length."""
    return {n: candidate_windows(station, n, settings) for n in settings["windows"]}


def candidate_windows(station: StationMinutes, window_days: int, settings: dict) -> CandidateWindows:
    """Windows of ``window_days`` whole days ending every ``stride_days`` days.

    The first ends on the first day a full window fits; the window of ``N`` days ending on
    day ``D`` covers ``[D - N + 1 00:00, D + 1 00:00)``.
    """
    n_days = station.missing_per_day.shape[0]
    last_index = np.arange(window_days - 1, n_days, settings["stride_days"])  # window's last day
    day = np.timedelta64(1, "D")
    window_end = (station.first_day + (last_index + 1) * day).astype("datetime64[s]")
    window_start = (station.first_day + (last_index + 1 - window_days) * day).astype("datetime64[s]")
    horizon_end = window_end + np.timedelta64(settings["lead_days"], "D").astype("timedelta64[s]")
    return CandidateWindows(
        station=station.code,
        window_days=window_days,
        window_start=window_start,
        window_end=window_end,
        horizon_end=horizon_end,
        missing_fraction=window_missing_fraction(station.missing_per_day, last_index, window_days),
    )
