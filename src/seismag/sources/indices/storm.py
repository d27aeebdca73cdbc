"""The storm rule: which days are disturbed, and which windows hold one.

The one owner of what "storm" means: :data:`KP_STORM` and :data:`DST_STORM` (the storm that
summaries and figures mean, :data:`STORM_RULE` as a rule) and the rules a user writes
(``--exclude-storms "kp>=5,dst<=-50"``), parsed by :func:`parse_storm_rule` into a
:class:`StormRule` that decides day by day on a
:class:`~seismag.sources.indices.activity.DailyActivity`, with an explicit third answer,
*undecided*, for days whose data cannot settle the rule (see :class:`StormRule`).
:func:`windows_with_disturbed_days` turns that into the windows to drop.

May import numpy, the standard library, :mod:`seismag.errors` and
:mod:`seismag.sources.indices.activity`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from seismag.errors import ConfigError
from seismag.sources.indices.activity import DailyActivity, window_activity

__all__ = [
    "DST_STORM",
    "KP_STORM",
    "STORM_RULE",
    "StormClause",
    "StormRule",
    "parse_storm_rule",
    "windows_with_disturbed_days",
]

#: What "a storm" means where a summary or a figure says so without a rule of the user's:
#: a day (or window) whose largest 3-hourly Kp reaches 5 (NOAA's G1, a minor storm) or whose
#: lowest hourly Dst reaches -50 nT (a moderate storm).
KP_STORM = 5.0
DST_STORM = -50.0
#: The same storm as a rule for :func:`parse_storm_rule`: ``"kp>=5,dst<=-50"``.
STORM_RULE = f"kp>={KP_STORM:g},dst<={DST_STORM:g}"

_CLAUSE = re.compile(r"^\s*([A-Za-z_]+)\s*(>=|<=|>|<)\s*([-+]?[0-9.eE+-]+)\s*$")
_RULE_KEYS = ("kp", "dst", "ssc")
_OPERATORS = {">=": np.greater_equal, "<=": np.less_equal, ">": np.greater, "<": np.less}


@dataclass(frozen=True)
class StormClause:
    """One test of a storm rule: ``key op threshold`` (``kp >= 5``)."""

    key: str
    op: str
    threshold: float

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.threshold:g}"


@dataclass(frozen=True)
class StormRule:
    """Which days count as disturbed: any clause holding makes a day disturbed (OR).

    ``kp`` is the day's largest 3-hourly Kp, ``dst`` its lowest hourly Dst (nT), ``ssc``
    its number of sudden commencements (see
    :func:`~seismag.sources.indices.activity.daily_activity`).

    Days without full data are not guessed at. Each clause is true, false or undecided:

    - no value of the index that day: undecided;
    - all values present: true or false;
    - some values missing: the extreme of the values present bounds the true one (the
      true daily Kp maximum can only be higher, the true Dst minimum only lower), so
      ``kp>=5`` holding on the values present is true, failing is undecided; ``kp<3``
      failing is false, holding is undecided; likewise ``dst<=-50`` (true if it holds)
      and ``dst>-30`` (false if it fails).

    A day is disturbed when some clause is true, quiet when all are false, otherwise
    undecided. Undecided days are reported (``undecided_days`` of
    :func:`~seismag.sources.indices.activity.window_activity`), never silently counted as
    quiet; whether they drop a window is the caller's choice
    (:func:`windows_with_disturbed_days`). A rule naming an index that was not loaded
    therefore leaves every day it does not find disturbed undecided: load every index in
    :attr:`keys`.
    """

    clauses: tuple
    text: str

    def __str__(self) -> str:
        return ",".join(str(clause) for clause in self.clauses)

    @property
    def keys(self) -> frozenset:
        """The indices the rule reads (``{'kp', 'dst'}`` for ``kp>=5,dst<=-50``)."""
        return frozenset(clause.key for clause in self.clauses)

    def evaluate(self, activity: DailyActivity) -> tuple[np.ndarray, np.ndarray]:
        """``(disturbed, undecided)`` bool arrays, one entry per day of ``activity``."""
        n = len(activity)
        any_true = np.zeros(n, dtype=bool)
        any_undecided = np.zeros(n, dtype=bool)
        for clause in self.clauses:
            truth, undecided = _clause_truth(clause, activity)
            any_true |= truth
            any_undecided |= undecided
        return any_true, any_undecided & ~any_true

    def disturbed(self, activity: DailyActivity) -> np.ndarray:
        """True for the days known to be disturbed, shape (n_days,)."""
        return self.evaluate(activity)[0]

    def undecided(self, activity: DailyActivity) -> np.ndarray:
        """True for the days the data cannot settle, shape (n_days,)."""
        return self.evaluate(activity)[1]


def parse_storm_rule(text: str) -> StormRule:
    """Parse a storm rule such as ``"kp>=5,dst<=-50"`` (clauses joined by commas: OR).

    Keys ``kp``, ``dst``, ``ssc`` (case-insensitive); operators ``>=``, ``<=``, ``>``, ``<``;
    a finite number. Spaces are allowed around each part.

    Raises
    ------
    ConfigError
        One line naming the rule text and the problem (empty rule or clause, unknown key
        or operator, a threshold that is not a finite number).
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"storm rule {text!r}: empty; write clauses like 'kp>=5,dst<=-50'")
    clauses = []
    for part in text.split(","):
        if not part.strip():
            raise ConfigError(f"storm rule {text!r}: an empty clause (two commas, or a comma at an end)")
        match = _CLAUSE.match(part)
        if match is None:
            raise ConfigError(
                f"storm rule {text!r}: clause {part.strip()!r} is not KEY OP NUMBER "
                f"(keys {', '.join(_RULE_KEYS)}; operators {', '.join(_OPERATORS)})"
            )
        key, op, number = match.group(1).lower(), match.group(2), match.group(3)
        if key not in _RULE_KEYS:
            raise ConfigError(f"storm rule {text!r}: unknown key {match.group(1)!r} (keys {', '.join(_RULE_KEYS)})")
        try:
            threshold = float(number)
        except ValueError:
            raise ConfigError(f"storm rule {text!r}: threshold {number!r} is not a number") from None
        if not math.isfinite(threshold):
            raise ConfigError(f"storm rule {text!r}: threshold {number!r} is not a finite number")
        clauses.append(StormClause(key, op, threshold))
    return StormRule(clauses=tuple(clauses), text=text)


def windows_with_disturbed_days(
    activity: DailyActivity,
    window_start_days,
    window_days: int,
    rule: StormRule,
    *,
    undecided: str = "keep",
) -> np.ndarray:
    """True for the windows to drop because they contain a disturbed day.

    Parameters
    ----------
    undecided
        What a day the data cannot settle does to its window: ``'keep'`` (the default:
        the window stays, and ``undecided_days`` of
        :func:`~seismag.sources.indices.activity.window_activity` counts such days for the
        report) or ``'drop'`` (treated as disturbed: the cautious choice when the indices
        do not cover the whole record).

    Returns
    -------
    ndarray of bool, shape (n_windows,)

    Raises
    ------
    ConfigError
        ``undecided`` not ``'keep'`` or ``'drop'``, or ``window_days`` below 1.
    """
    if undecided not in ("keep", "drop"):
        raise ConfigError(f"undecided must be 'keep' or 'drop', got {undecided!r}")
    columns = window_activity(activity, window_start_days, window_days, rule)
    drop = columns["disturbed_days"] > 0
    if undecided == "drop":
        drop |= columns["undecided_days"] > 0
    return drop


def _clause_truth(clause: StormClause, activity: DailyActivity) -> tuple[np.ndarray, np.ndarray]:
    """``(true, undecided)`` of one clause for every day (see :class:`StormRule`)."""
    if clause.key == "ssc":
        values, complete, bound = activity.n_ssc, np.isfinite(activity.n_ssc), None
    elif clause.key == "kp":
        values, complete, bound = activity.max_kp, activity.kp_complete.astype(bool), "lower"
    else:
        values, complete, bound = activity.min_dst, activity.dst_complete.astype(bool), "upper"
    present = np.isfinite(values)
    holds = np.zeros(values.shape, dtype=bool)
    holds[present] = _OPERATORS[clause.op](values[present], clause.threshold)
    partial = present & ~complete
    # On a partial day the value present is a bound of the day's true value. A test in the
    # direction the true value can still move cannot be settled by the bound.
    rising = clause.op in (">=", ">")
    settled_if_holds = (bound == "lower") == rising
    if settled_if_holds:
        true = holds & present
        undecided = ~present | (partial & ~holds)
    else:
        true = holds & complete
        undecided = ~present | (partial & holds)
    return true, undecided
