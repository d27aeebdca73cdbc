"""Which targets ``seismag skill`` judges by: the label settings of the models' training windows.

A model learnt to tell the windows before events of one kind (``min_magnitude``, the radius
rule, ``lead_days``, a depth cut, declustering) from the rest. Judged on other targets, its
skill answers another question. ``seismag build`` records those settings in
``dataset.json``, every ensemble trained on the windows carries them, and ``seismag scan``
writes them per model beside ``scores.csv`` (``scores.meta.json``, owned by
:mod:`seismag.layout`). Here they become the evaluation's settings:

- a flag the user gave that agrees with the recorded value is used as is;
- a flag that contradicts it is refused in one line naming both values, unless
  ``override`` (``--override-labels``): then the flag wins, and a note says so;
- a setting not given takes the recorded value, or, when nothing is recorded (no
  companion, or ensembles that predate label settings), the build's default
  (:func:`seismag.dataset.build.plan.default_label_settings`);
- models of one scores.csv that were trained on different labels are refused unless
  ``override``; with it, each setting they disagree on is the flag's, else the default.

May import :mod:`seismag.errors`, :mod:`seismag.layout` and :mod:`seismag.dataset.build.plan`
(the defaults).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from seismag.dataset.build.plan import default_label_settings
from seismag.errors import ConfigError
from seismag.layout.dataset_info import LABEL_KEYS, RADIUS_RULES

__all__ = ["recorded_labels", "resolve_label_settings"]

#: The settings compared one by one; the radius rule and its fixed radius are one setting.
_PARTS = (("min_magnitude",), ("radius", "radius_km"), ("lead_days",), ("max_depth_km",), ("decluster",))
OVERRIDE_FLAG = "--override-labels"


def recorded_labels(meta: Mapping[str, Any] | None) -> dict[str, dict[str, Any] | None] | None:
    """The label settings per model of a scores companion (:func:`seismag.layout.forecast.read_forecast_meta`).

    Returns ``{model: settings or None}`` (the ``model`` column's names; None for a model
    whose ensemble does not know its labels), or None when there is no companion (``meta`` None).
    """
    return None if meta is None else {name: entry["labels"] for name, entry in meta["models"].items()}


def resolve_label_settings(recorded: Mapping[str, Mapping[str, Any] | None] | None, given: Mapping[str, Any], *,
                           override: bool, source: str) -> tuple[dict[str, Any], list[str]]:
    """The label settings to judge by, and notes in words.

    Parameters
    ----------
    recorded
        :func:`recorded_labels`'s answer: per model its recorded settings (None:
        unknown), or None when nothing is recorded.
    given
        The user's flags by :data:`~seismag.layout.dataset_info.LABEL_KEYS` (``min_magnitude``,
        ``radius``, ``radius_km``, ``lead_days``, ``max_depth_km``, ``decluster``); a key
        absent or None was not given. ``radius_km`` given means a fixed radius.
    override
        Judge with the flags even where they contradict the recorded settings, or where
        the models disagree (``--override-labels``).
    source
        Where the settings were recorded (the companion's name), for the messages.

    Returns
    -------
    (settings, notes)
        ``settings``: every key of :data:`~seismag.layout.dataset_info.LABEL_KEYS` (``radius``
        ``'dobrovolsky'`` or ``'fixed'``, ``radius_km`` None unless fixed), ready to pass to
        :func:`~seismag.evaluation.skill.evaluate_skill` as keywords.

    Raises
    ------
    ConfigError
        One line: a flag that contradicts a recorded value, or models trained on different
        labels, without ``override``; an unknown key or a radius given two ways.
    """
    unknown = sorted(set(given) - set(LABEL_KEYS))
    if unknown:
        raise ConfigError(f"unknown label setting(s) {', '.join(unknown)}; known: {', '.join(LABEL_KEYS)}")
    wanted = _given_parts(given)
    known = {name: settings for name, settings in (recorded or {}).items() if settings is not None}
    silent = sorted(name for name, settings in (recorded or {}).items() if settings is None)
    defaults = default_label_settings()
    notes: list[str] = []
    if silent and known:
        notes.append(f"{', '.join(silent)}: no label settings recorded in {source} (trained on windows whose "
                     "dataset.json records none); judged by the other models' labels")

    settings: dict[str, Any] = {}
    for part in _PARTS:
        values = {name: tuple(labels[key] for key in part) for name, labels in known.items()}
        flag = wanted.get(part)
        distinct = _distinct(values.values())
        if len(distinct) > 1:
            if not override:
                raise ConfigError(f"the models of {source} were trained on different labels ("
                                  + "; ".join(f"{name} {_recorded_words(part, value)}" for name, value in
                                              sorted(values.items()))
                                  + f"); judge them apart, or pass {OVERRIDE_FLAG} to judge all with one set of "
                                    "targets")
            chosen = _complete(part, flag, None) if flag is not None else _default(part, defaults)
            notes.append(f"{OVERRIDE_FLAG}: the models disagree on {_names(part)} (recorded in {source}); all "
                         f"judged with {_recorded_words(part, chosen)}")
        elif distinct:
            (recorded_value,) = distinct
            chosen = recorded_value if flag is None else _complete(part, flag, recorded_value)
            if not _same(chosen, recorded_value):
                words = (f"{_flag_words(part, flag)} contradicts the labels of the training windows "
                         f"({_recorded_words(part, recorded_value)}, recorded in {source})")
                if not override:
                    raise ConfigError(f"{words}; pass {OVERRIDE_FLAG} to judge with other targets")
                notes.append(f"{OVERRIDE_FLAG}: {words}; judged with the flag")
        else:
            chosen = _complete(part, flag, None) if flag is not None else _default(part, defaults)
        settings.update(zip(part, chosen))
    if not known:
        notes.append(f"no label settings recorded in {source}: targets by {'the flags and ' if wanted else ''}"
                     f"the build's defaults: {describe(settings)}")
    elif override:
        notes.append(f"targets: {describe(settings)}")
    else:
        notes.append(f"targets as the training windows were labelled (recorded in {source}): {describe(settings)}")
    return {key: settings[key] for key in LABEL_KEYS}, notes


def describe(settings: Mapping[str, Any]) -> str:
    """Label settings in words: ``M >= 5.5, Dobrovolsky radius, 7-day lead, no depth cut, not declustered``."""
    radius = ("Dobrovolsky radius" if settings["radius"] == "dobrovolsky"
              else f"within {settings['radius_km']:g} km")
    depth = "no depth cut" if settings["max_depth_km"] is None else f"depth <= {settings['max_depth_km']:g} km"
    decluster = "causal Gardner-Knopoff mainshocks" if settings["decluster"] else "not declustered"
    return f"M >= {settings['min_magnitude']:g}, {radius}, {settings['lead_days']}-day lead, {depth}, {decluster}"


def _given_parts(given: Mapping[str, Any]) -> dict[tuple[str, ...], tuple]:
    """The flags given, by part; the radius part is ``(rule, km)``, ``km`` None when only
    ``--radius fixed`` was given (its radius then comes from the record)."""
    parts: dict[tuple[str, ...], tuple] = {}
    for part in _PARTS:
        if part == ("radius", "radius_km"):
            rule, km = given.get("radius"), given.get("radius_km")
            if rule is not None and rule not in RADIUS_RULES:
                raise ConfigError(f"radius must be one of {', '.join(RADIUS_RULES)}, got {rule!r}")
            if km is not None and rule == "dobrovolsky":
                raise ConfigError("--radius dobrovolsky and --radius-km: give one radius rule")
            if km is not None:
                parts[part] = ("fixed", float(km))
            elif rule is not None:
                parts[part] = (rule, None)
        elif given.get(part[0]) is not None:
            parts[part] = (given[part[0]],)
    return parts


def _complete(part: tuple[str, ...], flag: tuple, recorded: tuple | None) -> tuple:
    """A flag's value, with ``--radius fixed``'s missing radius taken from the record."""
    if part == ("radius", "radius_km") and flag == ("fixed", None):
        if recorded is None or recorded[0] != "fixed":
            raise ConfigError("--radius fixed needs --radius-km (no fixed radius is recorded)")
        return recorded
    if part == ("decluster",):
        return (bool(flag[0]),)
    if part in (("min_magnitude",), ("max_depth_km",)):
        return (float(flag[0]),)
    return flag


def _default(part: tuple[str, ...], defaults: Mapping[str, Any]) -> tuple:
    return tuple(defaults[key] for key in part)


def _same(a: tuple, b: tuple) -> bool:
    def one(x, y) -> bool:
        if isinstance(x, float) or isinstance(y, float):
            return x is not None and y is not None and math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9)
        return x == y

    return len(a) == len(b) and all(one(x, y) for x, y in zip(a, b))


def _distinct(values) -> list[tuple]:
    out: list[tuple] = []
    for value in values:
        if not any(_same(value, seen) for seen in out):
            out.append(value)
    return out


def _names(part: tuple[str, ...]) -> str:
    return "radius" if part == ("radius", "radius_km") else part[0]


def _recorded_words(part: tuple[str, ...], value: tuple) -> str:
    """A recorded value as ``min_magnitude 5.5``, ``radius fixed, radius_km 100``, ``max_depth_km none``."""
    if part == ("radius", "radius_km"):
        return "radius dobrovolsky" if value[0] == "dobrovolsky" else f"radius fixed, radius_km {value[1]:g}"
    (key,), (item,) = part, value
    if item is None:
        return f"{key} none"
    if isinstance(item, bool):
        return f"{key} {str(item).lower()}"
    return f"{key} {item:g}" if isinstance(item, float) else f"{key} {item}"


def _flag_words(part: tuple[str, ...], flag: tuple) -> str:
    """A given flag as the user typed it: ``--min-magnitude 6``, ``--radius-km 100``, ``--no-decluster``."""
    if part == ("radius", "radius_km"):
        return f"--radius-km {flag[1]:g}" if flag[1] is not None else f"--radius {flag[0]}"
    (key,), (item,) = part, flag
    if key == "decluster":
        return "--decluster" if item else "--no-decluster"
    option = "--" + key.replace("_", "-")
    return f"{option} {item:g}" if isinstance(item, float) else f"{option} {item}"
