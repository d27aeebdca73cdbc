"""Surrogate shifts are distinct: every possible one when fewer exist than asked for."""
import numpy as np

from seismag.evaluation.skill.alarms import StationDays
from seismag.evaluation.skill.surrogates import draw_shifts


def days_of(n_rows: int, lead: int = 7) -> StationDays:
    window_end = np.datetime64("2020-01-01") + np.arange(n_rows)
    return StationDays.from_rows(1, np.zeros(n_rows, dtype=np.int64), window_end, lead)


def test_fewer_possible_shifts_than_asked_for_uses_each_once():
    shifts = draw_shifts(1000, days_of(120), seed=1)
    np.testing.assert_array_equal(shifts, np.arange(7, 114))  # [lead, T - lead]: 107 shifts, each once


def test_more_possible_shifts_than_asked_for_are_drawn_without_repeats():
    shifts = draw_shifts(50, days_of(400), seed=1)
    assert len(shifts) == 50 == len(set(shifts.tolist())) and shifts.min() >= 7 and shifts.max() <= 393
    np.testing.assert_array_equal(shifts, draw_shifts(50, days_of(400), seed=1))  # one seed, same shifts
