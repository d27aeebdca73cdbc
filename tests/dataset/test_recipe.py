"""Tests for seismag.dataset.recipe and its steps (seismag.dataset.recipe_steps): each step
on series whose answer is worked out by hand, the fixed step order, the record and the
command-line text, and apply's contract (chunks, memory maps, shapes, NaN, errors)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seismag.dataset.recipe import (
    OPTION_NAMES,
    STEP_ORDER,
    Baseline,
    Despike,
    Diff,
    LocalTime,
    Recipe,
    Sq,
)
from seismag.errors import ConfigError, DataError
from seismag.layout.dataset_info import DatasetInfo

FULL = Recipe((Despike(), Baseline(), Sq(), Diff(), LocalTime(0.0, 4.0)))
FULL_DICTS = [
    {"step": "despike", "half_window": 7, "n_sigma": 3.0},
    {"step": "baseline", "reference": "first_day"},
    {"step": "sq", "quiet_days": 3},
    {"step": "diff"},
    {"step": "local_time", "start_hour": 0.0, "end_hour": 4.0},
]


def run(recipe: Recipe, windows4: np.ndarray, longitudes=None, **kw) -> np.ndarray:
    """Apply to ``(n, days, channels, steps)`` rows given flat; the answer back as 4-D."""
    n, days, channels, steps = windows4.shape
    out = recipe.apply(windows4.reshape(n, -1), window_days=days, channels=channels, steps_per_day=steps,
                       longitudes=longitudes, **kw)
    assert out.dtype == np.float32
    return out.reshape(n, days, channels, -1)


def one_series(values: np.ndarray, days: int = 1) -> np.ndarray:
    """One row, one channel: a continuous series cut into ``days`` days."""
    return np.asarray(values, dtype=np.float64).reshape(1, days, 1, -1)


def ramp(length: int, slope: float = 0.5) -> np.ndarray:
    return slope * np.arange(length, dtype=np.float64)


# ============================================================================ despike


def test_a_single_spike_is_replaced_by_the_local_median_and_nothing_else_changes():
    # On a ramp x_i = 0.5 i the window 93..107 around the spike at 100 holds x93..x99,
    # x101..x107 and the spike (the largest): its 8th value of 15 is x101 = 50.5. The
    # MAD of a ramp window is 4 steps (2.0), so every other sample deviates by at most
    # one step (0.5) from its median, far under 3 x 1.4826 x 2.0.
    series = ramp(200)
    spiked = series.copy()
    spiked[100] += 1000.0
    out = run(Recipe((Despike(),)), one_series(spiked)).ravel()
    expected = series.copy()
    expected[100] = 50.5
    np.testing.assert_array_equal(out, expected)


def test_a_negative_spike_is_replaced_too():
    series = ramp(200)
    spiked = series.copy()
    spiked[60] -= 500.0
    out = run(Recipe((Despike(),)), one_series(spiked)).ravel()
    expected = series.copy()
    expected[60] = 29.5  # spike now the smallest of 53..67: the 8th value is x59 = 29.5
    np.testing.assert_array_equal(out, expected)


def test_a_spike_near_the_start_is_judged_on_the_first_full_window():
    # Sample 2 uses the window 0..14: x0, x1, x3..x14 and the spike; its 8th value is x8.
    # The samples 0..6 around it deviate by at most 8 steps (4.0) from that median, under
    # 3 x 1.4826 x MAD (MAD = 4 steps = 2.0): unchanged.
    series = ramp(200)
    spiked = series.copy()
    spiked[2] += 1000.0
    out = run(Recipe((Despike(),)), one_series(spiked)).ravel()
    expected = series.copy()
    expected[2] = 4.0
    np.testing.assert_array_equal(out, expected)


def test_a_spike_near_the_end_is_judged_on_the_last_full_window():
    series = ramp(200)
    spiked = series.copy()
    spiked[197] -= 1000.0
    out = run(Recipe((Despike(),)), one_series(spiked)).ravel()
    expected = series.copy()
    expected[197] = 0.5 * 191  # window 185..199 without x197, spike smallest: 8th value x191
    np.testing.assert_array_equal(out, expected)


def test_two_adjacent_spikes_are_both_judged_on_the_original_values():
    # Spikes at 100 and 101: the window of 100 holds 93..99, 102..107 and both spikes, its
    # 8th value x102; that of 101 holds 94..99, 102..108, its 8th value x103. The filter is
    # not recursive: 100's replacement does not enter 101's window.
    series = ramp(200)
    spiked = series.copy()
    spiked[100:102] += 1000.0
    out = run(Recipe((Despike(),)), one_series(spiked)).ravel()
    expected = series.copy()
    expected[100:102] = [51.0, 51.5]
    np.testing.assert_array_equal(out, expected)


def test_adjacent_spikes_on_both_sides_of_a_tile_boundary_are_judged_on_the_original_values():
    # The rolling median runs in tiles; the last sample the first tile judges and the
    # first the second judges carry a spike each. As above, they become x(b+1) and
    # x(b+2); a tile writing its replacement before the next tile read the original
    # would give x(b+1) twice.
    from seismag.dataset.recipe_steps import TILE_ELEMENTS

    boundary = TILE_ELEMENTS // 15 + 7  # first sample of the second tile
    series = ramp(3 * boundary)
    spiked = series.copy()
    spiked[boundary - 1:boundary + 1] += 1000.0
    out = run(Recipe((Despike(),)), one_series(spiked)).ravel()
    expected = series.copy()
    expected[boundary - 1:boundary + 1] = 0.5 * np.array([boundary + 1, boundary + 2])
    np.testing.assert_array_equal(out, expected)


def test_despike_runs_along_the_series_across_day_boundaries():
    # Two days of 50 steps, one continuous ramp. The spike on the first step of day 2 is
    # judged on the window 43..57 (x51 replaces it); day by day it would sit at an edge
    # and get the first full window's x58.
    series = ramp(100)
    spiked = series.copy()
    spiked[50] += 1000.0
    out = run(Recipe((Despike(),)), one_series(spiked, days=2)).ravel()
    expected = series.copy()
    expected[50] = 25.5
    np.testing.assert_array_equal(out, expected)


def test_n_sigma_sets_what_counts_as_a_spike():
    # A bump of 10 steps (5.0) at 100: the window 93..107 holds 93..99, 101..107 and 110
    # (in steps), median 101; the deviations from it sort 0,1,2,2,3,3,4,4,... so the MAD
    # is 4 steps and the scale 1.4826 x 4 = 5.93 steps. The bump deviates 9 steps: 1.52
    # scales, kept at 1.6 sigma (every sample unchanged), replaced by the median
    # (101 steps = 50.5) at 1.5 sigma, and nothing else changes.
    series = ramp(200)
    bumped = series.copy()
    bumped[100] += 5.0
    kept = run(Recipe((Despike(7, 1.6),)), one_series(bumped)).ravel()
    np.testing.assert_array_equal(kept, bumped)
    replaced = run(Recipe((Despike(7, 1.5),)), one_series(bumped)).ravel()
    expected = series.copy()
    expected[100] = 50.5
    np.testing.assert_array_equal(replaced, expected)


def test_half_window_sets_the_window():
    # +/-2 steps: the window 98..102 around the spike holds x98, x99, x101, x102 and the
    # spike, its 3rd value x101; at the edge, sample 0 uses the window 0..4.
    series = ramp(50)
    spiked = series.copy()
    spiked[20] += 100.0
    spiked[0] += 100.0
    out = run(Recipe((Despike(2, 3.0),)), one_series(spiked)).ravel()
    expected = series.copy()
    expected[20] = 10.5
    expected[0] = 1.5  # window 0..4 = x1, x2, x3, x4, spike: 3rd value x3
    np.testing.assert_array_equal(out, expected)


def test_each_channel_is_despiked_on_its_own():
    # Row 0: a spike in channel 2 only; row 1: a spike in channel 1 only.
    days, steps = 2, 60
    base = np.stack([ramp(days * steps, 0.5), ramp(days * steps, -0.25) + 100]).reshape(2, days, steps)
    rows = np.stack([base, base]).transpose(0, 2, 1, 3).copy()  # (2 rows, days, 2 channels, steps)
    rows[0, 1, 1, 10] += 1000.0  # row 0, day 2, channel 2, step 10 (series index 70)
    rows[1, 0, 0, 30] += 1000.0  # row 1, day 1, channel 1, step 30
    out = run(Recipe((Despike(),)), rows)
    expected = np.stack([base, base]).transpose(0, 2, 1, 3).copy()
    expected[0, 1, 1, 10] = -0.25 * 69 + 100  # the descending ramp: spike largest, 8th value x69
    expected[1, 0, 0, 30] = 0.5 * 31
    np.testing.assert_array_equal(out, expected)


def test_despike_ignores_nan_in_the_medians_and_keeps_the_nan():
    # NaN at 98: the window 93..107 holds 14 valid samples, 93..97, 99, 101..107 and the
    # spike; their median is the mean of the 7th and 8th, (101 + 102) / 2 steps = 50.75.
    series = ramp(200)
    spiked = series.copy()
    spiked[98] = np.nan
    spiked[100] += 1000.0
    out = run(Recipe((Despike(),)), one_series(spiked)).ravel()
    expected = series.copy()
    expected[98] = np.nan
    expected[100] = 50.75
    np.testing.assert_array_equal(out, expected)


def hampel_by_the_definition(series: np.ndarray, half_window: int, n_sigma: float) -> np.ndarray:
    """The Hampel filter sample by sample, as the docstring defines it (slow, plain)."""
    width = 2 * half_window + 1
    out = series.copy()
    for i in range(len(series)):
        first = min(max(i - half_window, 0), len(series) - width)
        window = series[first:first + width]
        median = np.nanmedian(window)
        mad = np.nanmedian(np.abs(window - median))
        if abs(series[i] - median) > n_sigma * 1.4826 * mad:
            out[i] = median
    return out


@pytest.mark.parametrize("rows, days, steps", [(2, 2, 9000), (7, 2, 40)])
def test_the_tiled_filter_is_the_definition_across_tiles_and_series(rows, days, steps):
    # 18000 samples span three tiles of the rolling median; 80-sample series share one.
    # A random walk with spikes (some at tile edges, some adjacent) and one NaN.
    rng = np.random.default_rng(8)
    walk = np.cumsum(rng.normal(size=(rows, days * steps)), axis=1)
    length = days * steps
    spikes = [where for where in (3, 8744, 8745, 8760, 17482, 17483, length // 2, length - 2) if where < length]
    for where in spikes:
        walk[:, where] += rng.choice([-1, 1]) * 50.0
    walk[0, length // 3] = np.nan
    out = run(Recipe((Despike(7, 3.0),)), walk.reshape(rows, days, 1, steps)).reshape(rows, -1)
    for row in range(rows):
        expected = hampel_by_the_definition(walk[row], 7, 3.0).astype(np.float32)
        np.testing.assert_array_equal(out[row], expected)
    assert (out[:, spikes] != walk[:, spikes].astype(np.float32)).all()  # every spike replaced


# =========================================================================== baseline


def test_a_constant_baseline_is_removed():
    rows = np.full((2, 3, 2, 24), 40_000.0)
    for reference in ("first_day", "window"):
        np.testing.assert_array_equal(run(Recipe((Baseline(reference),)), rows), np.zeros_like(rows))


def test_first_day_reference_keeps_a_step_on_day_two():
    # Days at 40000, 40100, 40100 nT: the first day's median is 40000.
    rows = np.full((1, 3, 1, 24), 40_000.0)
    rows[:, 1:] += 100.0
    out = run(Recipe((Baseline("first_day"),)), rows)
    np.testing.assert_array_equal(out[0, :, 0, 0], [0.0, 100.0, 100.0])
    assert np.all(out == out[..., :1])


def test_window_reference_subtracts_the_median_of_the_whole_window():
    # Two of three days at 40100: the window's median is 40100.
    rows = np.full((1, 3, 1, 24), 40_000.0)
    rows[:, 1:] += 100.0
    out = run(Recipe((Baseline("window"),)), rows)
    np.testing.assert_array_equal(out[0, :, 0, 0], [-100.0, 0.0, 0.0])


def test_the_baseline_is_a_median_per_channel():
    # One outlier sample on day 1 leaves the median at 40000; channel 2 has its own level.
    rows = np.empty((1, 2, 2, 25))
    rows[:, :, 0] = 40_000.0
    rows[:, :, 1] = -2_000.0
    rows[0, 0, 0, 3] = 41_000.0
    out = run(Recipe((Baseline("first_day"),)), rows)
    expected = np.zeros_like(rows)
    expected[0, 0, 0, 3] = 1_000.0
    np.testing.assert_array_equal(out, expected)


def test_a_first_day_of_only_nan_gives_nan_for_that_channel_only():
    rows = np.full((1, 2, 2, 10), 5.0)
    rows[0, 0, 0] = np.nan
    out = run(Recipe((Baseline("first_day"),)), rows)
    assert np.isnan(out[0, :, 0]).all()
    np.testing.assert_array_equal(out[0, :, 1], 0.0)


# ================================================================================= sq


def daily_curve(steps: int = 24) -> np.ndarray:
    return 2.0 * np.arange(steps)  # 0, 2, ..., 46: mean 23


def test_sq_of_a_repeated_daily_curve_plus_a_constant_is_the_constant_plus_the_curves_mean():
    # Every day is 40000 + c(t): every day is equally quiet, their mean is 40000 + c(t),
    # less its own mean 40023 the curve is c(t) - 23, and each day becomes 40023.
    rows = np.tile(40_000.0 + daily_curve(), (1, 5, 1, 1))
    out = run(Recipe((Sq(3),)), rows)
    np.testing.assert_array_equal(out, np.full_like(rows, 40_023.0))


def test_sq_chooses_the_quiet_days_around_a_disturbed_one():
    # Day 3 of 4 carries a bump (range 46 + 50): days 1, 2 and 4 are the quiet ones, the
    # curve is theirs, and the bump is all that remains of day 3.
    bump = np.zeros(24)
    bump[10:13] = [20.0, 50.0, 20.0]
    rows = np.tile(40_000.0 + daily_curve(), (1, 4, 1, 1))
    rows[0, 2, 0] += bump
    out = run(Recipe((Sq(3),)), rows)
    expected = np.full_like(rows, 40_023.0)
    expected[0, 2, 0] += bump
    np.testing.assert_array_equal(out, expected)


def test_sq_chooses_quiet_days_per_channel_and_keeps_each_days_level():
    # Channel 1: day 1 disturbed; channel 2: day 4 disturbed and day 2 shifted by +1000 nT
    # (a level, not a range: still quiet). Each channel averages its own quiet days.
    bump = np.zeros(24)
    bump[5] = 100.0
    curve = daily_curve()
    rows = np.empty((1, 4, 2, 24))
    rows[0, :, 0] = 40_000.0 + curve
    rows[0, :, 1] = -500.0 - curve
    rows[0, 0, 0] += bump
    rows[0, 3, 1] += bump
    rows[0, 1, 1] += 1_000.0
    out = run(Recipe((Sq(3),)), rows)
    expected = np.empty_like(rows)
    expected[0, :, 0] = 40_023.0
    expected[0, 0, 0] += bump
    expected[0, :, 1] = -523.0
    expected[0, 3, 1] += bump
    expected[0, 1, 1] += 1_000.0
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-9)


def test_sq_with_one_quiet_day_uses_the_quietest_day_alone():
    # Day 2 has the smaller range (curve c/2): its curve c/2 - 11.5 is removed from both.
    rows = np.empty((1, 2, 1, 24))
    rows[0, 0, 0] = daily_curve()
    rows[0, 1, 0] = daily_curve() / 2
    out = run(Recipe((Sq(1),)), rows)
    np.testing.assert_array_equal(out[0, 1, 0], np.full(24, 11.5))
    np.testing.assert_array_equal(out[0, 0, 0], daily_curve() / 2 + 11.5)


def test_sq_needs_no_more_quiet_days_than_the_window_has():
    with pytest.raises(ConfigError, match="averages 3 quiet days but the window has only 2 days"):
        run(Recipe((Sq(3),)), np.zeros((1, 2, 1, 24)))


# =============================================================================== diff


def test_diff_of_a_ramp_is_its_slope_with_zero_first_across_day_boundaries():
    # Channel 1 rises 3 nT a step, channel 2 falls 2, continuously over 3 days.
    days, steps = 3, 20
    rows = np.empty((1, days, 2, steps))
    rows[0, :, 0] = ramp(days * steps, 3.0).reshape(days, steps)
    rows[0, :, 1] = ramp(days * steps, -2.0).reshape(days, steps) + 7.0
    out = run(Recipe((Diff(),)), rows)
    expected = np.empty_like(rows)
    expected[0, :, 0] = 3.0
    expected[0, :, 1] = -2.0
    expected[0, 0, :, 0] = 0.0  # only the window's first sample, not each day's
    np.testing.assert_array_equal(out, expected)


# ========================================================================= local time


def day_stamped(days: int, steps: int = 1440, rows: int = 1) -> np.ndarray:
    """Each sample is 10000 * day + its UTC step, so the kept steps can be read off."""
    day = np.arange(days)[:, None] * 10_000.0
    values = day + np.arange(steps)[None, :]
    return np.tile(values[None, :, None, :], (rows, 1, 1, 1))


@pytest.mark.parametrize("longitude, first", [(144.0, 864), (-105.0, 420)])
def test_local_midnight_to_four_keeps_the_utc_minutes_of_the_station(longitude, first):
    # 144 E: offset round(144 / 360 * 1440) = 576; local 0..239 is UTC (l - 576) mod 1440
    # = 864..1103. Boulder, -105: offset -420, UTC 420..659.
    recipe = Recipe((LocalTime(0, 4),))
    assert recipe.output_steps(1440) == 240
    out = run(recipe, day_stamped(3), longitudes=[longitude])
    for day in range(3):
        np.testing.assert_array_equal(out[0, day, 0], 10_000 * day + np.arange(first, first + 240))


def test_a_slice_through_midnight_keeps_both_ends_of_the_utc_day_in_utc_order():
    out = run(Recipe((LocalTime(22, 2),)), day_stamped(2), longitudes=[0.0])
    kept = np.concatenate([np.arange(0, 120), np.arange(1320, 1440)])
    for day in range(2):
        np.testing.assert_array_equal(out[0, day, 0], 10_000 * day + kept)


def test_longitudes_east_of_180_are_the_same_as_west_ones():
    # Boulder's IAGA header says 254.764 E = -105.236: offset round(1019.06 ...) = 1019
    # either way, so local 00:00 is UTC minute 421.
    recipe = Recipe((LocalTime(0, 4),))
    out = run(recipe, day_stamped(1, rows=2), longitudes=[254.764, -105.236])
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0, 0, 0], np.arange(421, 661))


def test_each_row_is_sliced_at_its_own_longitude():
    out = run(Recipe((LocalTime(0, 4),)), day_stamped(2, rows=2), longitudes=[144.0, -105.0])
    np.testing.assert_array_equal(out[0, 1, 0], 10_000 + np.arange(864, 1104))
    np.testing.assert_array_equal(out[1, 1, 0], 10_000 + np.arange(420, 660))


def test_every_longitude_keeps_the_same_number_of_steps_and_exactly_the_slice():
    # The kept local steps are one fixed set; an integer offset only rotates which UTC
    # steps they are, so the count never depends on the longitude. Checked against the
    # definition, step by step, for awkward settings (97 steps a day, 1.3-7.9 h).
    steps, start, end = 97, 1.3, 7.9
    recipe = Recipe((LocalTime(start, end),))
    longitudes = np.arange(-180.0, 360.0, 0.37)
    width = recipe.output_steps(steps)
    out = run(recipe, day_stamped(1, steps, rows=len(longitudes)), longitudes=longitudes)
    assert out.shape == (len(longitudes), 1, 1, width)
    for row, longitude in enumerate(longitudes):
        offset = int(np.floor(longitude * steps / 360 + 0.5))
        wanted = [k for k in range(steps) if start <= ((k + offset) % steps) * 24 / steps < end]
        np.testing.assert_array_equal(out[row, 0, 0], wanted)
    assert width == len([k for k in range(steps) if start <= k * 24 / steps < end]) == 26


def test_a_slice_through_midnight_also_keeps_the_same_count_everywhere():
    recipe = Recipe((LocalTime(21.5, 3.25),))
    assert recipe.output_steps(1440) == 150 + 195
    out = run(recipe, day_stamped(1, rows=3), longitudes=[-77.7, 12.3, 171.0])
    assert out.shape == (3, 1, 1, 345)


def test_local_time_keeps_channels_in_their_order():
    rows = np.concatenate([day_stamped(2), -day_stamped(2)], axis=2)  # channel 2 = -channel 1
    out = run(Recipe((LocalTime(0, 4),)), rows, longitudes=[144.0])
    assert out.shape == (1, 2, 2, 240)
    np.testing.assert_array_equal(out[0, :, 1], -out[0, :, 0])
    np.testing.assert_array_equal(out[0, 1, 0], 10_000 + np.arange(864, 1104))


def test_a_slice_that_keeps_no_step_is_refused():
    # Hourly steps start at whole hours: none lies in [0.5, 1).
    recipe = Recipe((LocalTime(0.5, 1.0),))
    assert recipe.output_steps(1440) == 30
    with pytest.raises(ConfigError, match="keeps no step at 24 steps per day"):
        recipe.output_steps(24)


def test_diff_comes_before_the_slice_so_no_difference_straddles_a_removed_stretch():
    # A ramp of 1 nT a step: every kept difference is 1, the first kept step of each day
    # included (differencing after the slice would give 1 - 1440 + 240 there).
    rows = ramp(3 * 1440, 1.0).reshape(1, 3, 1, 1440)
    out = run(Recipe((LocalTime(0, 4), Diff())), rows, longitudes=[144.0])
    np.testing.assert_array_equal(out, np.ones((1, 3, 1, 240)))


# ============================================================== order and composition


def test_steps_run_in_the_fixed_order_whatever_order_they_are_written_in():
    written = Recipe((LocalTime(0, 4), Diff(), Sq(), Baseline(), Despike()))
    assert [step.name for step in written.steps] == list(STEP_ORDER)
    assert written == FULL
    assert Recipe((Diff(), Despike())) == Recipe((Despike(), Diff()))


def test_despike_runs_before_diff():
    # Spike at 100 on a 0.5-a-step ramp: despiked to 50.5, so the differences are 0.5
    # except 0 first, 1.0 into the replaced sample and 0 out of it (diff first would
    # leave +1000 and -1000).
    spiked = ramp(200)
    spiked[100] += 1000.0
    out = run(Recipe((Diff(), Despike())), one_series(spiked)).ravel()
    expected = np.full(200, 0.5)
    expected[[0, 100, 101]] = [0.0, 1.0, 0.0]
    np.testing.assert_array_equal(out, expected)


def test_the_full_recipe_is_its_steps_one_after_another():
    rng = np.random.default_rng(3)
    rows = rng.normal(0.0, 20.0, size=(4, 5, 2, 96)) + 1_000.0
    rows[0, 2, 1, 40] += 500.0
    longitudes = [144.0, -105.0, 0.0, 33.3]
    recipe = Recipe((Despike(), Baseline("window"), Sq(2), Diff(), LocalTime(22, 2)))
    step_by_step = rows
    for step in recipe.steps:
        lons = longitudes if step.name == "local_time" else None
        step_by_step = run(Recipe((step,)), step_by_step.astype(np.float64), longitudes=lons)
    np.testing.assert_allclose(run(recipe, rows, longitudes=longitudes), step_by_step, rtol=0, atol=1e-3)


def test_one_nan_stays_one_nan_through_the_recipe_and_two_after_diff():
    rng = np.random.default_rng(4)
    rows = rng.normal(0.0, 5.0, size=(2, 4, 2, 48)) + 40_000.0
    rows[1, 2, 0, 17] = np.nan
    without_diff = run(Recipe((Despike(), Baseline(), Sq(2))), rows)
    assert np.argwhere(np.isnan(without_diff)).tolist() == [[1, 2, 0, 17]]
    with_diff = run(Recipe((Despike(), Baseline(), Sq(2), Diff())), rows)
    assert np.argwhere(np.isnan(with_diff)).tolist() == [[1, 2, 0, 17], [1, 2, 0, 18]]


# ============================================================================ records


def test_to_dicts_spells_out_every_setting_in_run_order():
    assert FULL.to_dicts() == FULL_DICTS
    assert Recipe().to_dicts() == []


def test_the_record_round_trips_through_json_and_dataset_info():
    recipe = Recipe((Despike(5, 2.5), Baseline("window"), Sq(4), Diff(), LocalTime(22.5, 2.0)))
    text = json.dumps(recipe.to_dicts())
    assert Recipe.from_dicts(json.loads(text), "x.json") == recipe
    info = DatasetInfo(recipe=tuple(recipe.to_dicts()))
    again = DatasetInfo.from_dict(json.loads(json.dumps(info.to_dict())))
    assert Recipe.from_dicts(again.recipe, "dataset.json") == recipe
    assert Recipe.from_dicts([], "x.json") == Recipe()


def test_from_dicts_accepts_an_integer_n_sigma_and_hours():
    recipe = Recipe.from_dicts([{"step": "despike", "half_window": 7, "n_sigma": 3},
                                {"step": "local_time", "start_hour": 22, "end_hour": 2}], "x")
    assert recipe.to_dicts() == [{"step": "despike", "half_window": 7, "n_sigma": 3.0},
                                 {"step": "local_time", "start_hour": 22.0, "end_hour": 2.0}]


@pytest.mark.parametrize("record, problem", [
    ({"step": "despike"}, "the recipe must be a list of steps, got dict"),
    ("despike", "the recipe must be a list of steps, got str"),
    (["despike"], "recipe step 1 must be a mapping, got str"),
    ([{"half_window": 7}], "recipe step 1: unknown step None (known: despike, baseline, sq, diff, local_time)"),
    ([{"step": "diff"}, {"step": "smooth"}], "recipe step 2: unknown step 'smooth' (known: "),
    ([{"step": "sq", "quietdays": 3}], "recipe step 1 ('sq'): unknown key 'quietdays' (known: quiet_days)"),
    ([{"step": "diff", "order": 2}], "recipe step 1 ('diff'): unknown key 'order' (known: none)"),
    ([{"step": "despike", "half_window": 7}], "recipe step 1 ('despike'): missing key 'n_sigma'"),
    ([{"step": "local_time", "start_hour": 0}], "recipe step 1 ('local_time'): missing key 'end_hour'"),
    ([{"step": "despike", "half_window": "7", "n_sigma": 3.0}],
     "recipe step 1 ('despike'): half_window must be an integer >= 1, got '7'"),
    ([{"step": "despike", "half_window": 7.0, "n_sigma": 3.0}], "half_window must be an integer >= 1, got 7.0"),
    ([{"step": "despike", "half_window": True, "n_sigma": 3.0}], "half_window must be an integer >= 1, got True"),
    ([{"step": "despike", "half_window": 0, "n_sigma": 3.0}], "half_window must be an integer >= 1, got 0"),
    ([{"step": "despike", "half_window": 7, "n_sigma": 0}], "n_sigma must be a number > 0, got 0"),
    ([{"step": "despike", "half_window": 7, "n_sigma": float("inf")}], "n_sigma must be a number > 0, got inf"),
    ([{"step": "despike", "half_window": 7, "n_sigma": "3"}], "n_sigma must be a number > 0, got '3'"),
    ([{"step": "baseline", "reference": "median"}],
     "recipe step 1 ('baseline'): reference must be 'first_day' or 'window', got 'median'"),
    ([{"step": "sq", "quiet_days": 0}], "recipe step 1 ('sq'): quiet_days must be an integer >= 1, got 0"),
    ([{"step": "sq", "quiet_days": 2.5}], "quiet_days must be an integer >= 1, got 2.5"),
    ([{"step": "local_time", "start_hour": 24, "end_hour": 2}], "start_hour must lie in [0, 24), got 24"),
    ([{"step": "local_time", "start_hour": -1, "end_hour": 2}], "start_hour must lie in [0, 24), got -1"),
    ([{"step": "local_time", "start_hour": 0, "end_hour": 24.5}], "end_hour must lie in [0, 24], got 24.5"),
    ([{"step": "local_time", "start_hour": 3, "end_hour": 3}],
     "start_hour and end_hour are both 3: the slice keeps nothing"),
    ([{"step": "local_time", "start_hour": "0", "end_hour": 4}], "start_hour must be a number of hours, got '0'"),
    ([{"step": "local_time", "start_hour": 0, "end_hour": None}], "end_hour must be a number of hours, got None"),
    ([{"step": "diff"}, {"step": "diff"}], "recipe step 'diff' given more than once; each step may appear once"),
])
def test_from_dicts_names_where_and_the_problem(record, problem):
    with pytest.raises(DataError) as caught:
        Recipe.from_dicts(record, "DATA/dataset.json")
    message = str(caught.value)
    assert message.startswith("DATA/dataset.json: ")
    assert problem in message
    assert "\n" not in message


# ===================================================================== command line


def test_parse_builds_the_recipe_the_options_ask_for():
    assert Recipe.parse() == Recipe()
    assert Recipe.parse(despike="default", baseline="first-day", sq_quiet_days=3, diff=True,
                        local_time="0-4") == FULL
    parsed = Recipe.parse(despike=" 5, 2.5 ", baseline="window", local_time="21.5-3.25")
    assert parsed.to_dicts() == [{"step": "despike", "half_window": 5, "n_sigma": 2.5},
                                 {"step": "baseline", "reference": "window"},
                                 {"step": "local_time", "start_hour": 21.5, "end_hour": 3.25}]
    assert Recipe.parse(local_time="22-2").step("local_time") == LocalTime(22.0, 2.0)
    assert set(OPTION_NAMES) == {"despike", "baseline", "sq_quiet_days", "diff", "local_time"}


@pytest.mark.parametrize("options, message", [
    ({"despike": "7"}, "--despike '7': expected 'default' or HALF_WINDOW,N_SIGMA (e.g. '7,3')"),
    ({"despike": "7,3,1"}, "--despike '7,3,1': expected 'default' or HALF_WINDOW,N_SIGMA"),
    ({"despike": "a,3"}, "--despike 'a,3': half window 'a' is not an integer"),
    ({"despike": "7.5,3"}, "--despike '7.5,3': half window '7.5' is not an integer"),
    ({"despike": "7,x"}, "--despike '7,x': n_sigma 'x' is not a number"),
    ({"despike": "0,3"}, "--despike '0,3': half_window must be an integer >= 1, got 0"),
    ({"despike": "7,-1"}, "--despike '7,-1': n_sigma must be a number > 0, got -1.0"),
    ({"baseline": "median"}, "--baseline 'median': expected 'first-day' or 'window'"),
    ({"sq_quiet_days": 0}, "--sq-quiet-days 0: quiet_days must be an integer >= 1, got 0"),
    ({"sq_quiet_days": "3"}, "--sq-quiet-days '3': quiet_days must be an integer >= 1, got '3'"),
    ({"diff": "yes"}, "--diff 'yes': expected true or false"),
    ({"local_time": "4"}, "--local-time '4': expected START-END in local hours (e.g. '0-4' or '22-2')"),
    ({"local_time": "-1-4"}, "--local-time '-1-4': expected START-END in local hours"),
    ({"local_time": "a-4"}, "--local-time 'a-4': start hour 'a' is not a number"),
    ({"local_time": "0-"}, "--local-time '0-': end hour '' is not a number"),
    ({"local_time": "25-2"}, "--local-time '25-2': start_hour must lie in [0, 24), got 25"),
    ({"local_time": "0-30"}, "--local-time '0-30': end_hour must lie in [0, 24], got 30"),
    ({"local_time": "3-3"}, "--local-time '3-3': start_hour and end_hour are both 3: the slice keeps nothing"),
])
def test_parse_names_the_option_and_the_problem(options, message):
    with pytest.raises(ConfigError) as caught:
        Recipe.parse(**options)
    assert str(caught.value) == message or str(caught.value).startswith(message)


# ================================================================== description, shapes


def test_describe_reads_as_one_line():
    assert FULL.describe() == ("despike (Hampel, +/-7 steps, 3 sigma) -> baseline (first-day median) -> "
                               "sq (mean of the quietest 3 days removed) -> diff (first differences per step) -> "
                               "local time (00:00-04:00 local mean solar time)")
    assert Recipe((Baseline("window"), LocalTime(21.5, 2))).describe() == (
        "baseline (window median) -> local time (21:30-02:00 local mean solar time)")
    assert Recipe((Sq(1),)).describe() == "sq (mean of the quietest day removed)"
    assert Recipe().describe() == "none (raw values)"


def test_truth_longitude_and_output_steps():
    assert not Recipe()
    assert Recipe((Diff(),))
    assert FULL.needs_longitude and not Recipe((Despike(), Diff())).needs_longitude
    assert Recipe().output_steps(1440) == 1440
    assert FULL.output_steps(1440) == 240
    assert FULL.output_steps(24) == 4
    assert Recipe((LocalTime(22, 2),)).output_steps(1440) == 240


def test_a_step_given_twice_or_a_foreign_step_is_refused():
    with pytest.raises(ConfigError, match="recipe step 'sq' given more than once"):
        Recipe((Sq(2), Diff(), Sq(3)))
    with pytest.raises(ConfigError, match="not a recipe step: 'diff'"):
        Recipe(("diff",))


# ============================================================================== apply


def test_chunked_apply_equals_unchunked():
    rng = np.random.default_rng(5)
    rows = (rng.normal(0.0, 10.0, size=(11, 4, 3, 144)) + 30_000.0).reshape(11, -1)
    rows[::3, 100] += 400.0
    longitudes = rng.uniform(-180, 180, size=11)
    whole = FULL.apply(rows, window_days=4, channels=3, steps_per_day=144, longitudes=longitudes,
                       chunk_rows=256)
    assert whole.shape == (11, 4 * 3 * 24)
    for chunk_rows in (1, 3, 10):
        chunked = FULL.apply(rows, window_days=4, channels=3, steps_per_day=144, longitudes=longitudes,
                             chunk_rows=chunk_rows)
        np.testing.assert_array_equal(chunked, whole)


def test_a_memory_mapped_input_is_read_and_never_written(tmp_path):
    rng = np.random.default_rng(6)
    rows = (rng.normal(0.0, 10.0, size=(5, 3 * 2 * 96)) + 40_000.0).astype(np.float32)
    rows[2, 50] += 1_000.0
    path = tmp_path / "data_0.npy"
    np.save(path, rows)
    mapped = np.load(path, mmap_mode="r+")  # writable: a write would land in the file
    out = Recipe((Despike(), Baseline(), Sq(2), Diff())).apply(mapped, window_days=3, channels=2,
                                                               steps_per_day=96, chunk_rows=2)
    assert out.shape == rows.shape and not np.shares_memory(out, mapped)
    del mapped
    np.testing.assert_array_equal(np.load(path), rows)


def test_four_d_input_integer_input_and_two_d_input_agree():
    rng = np.random.default_rng(7)
    rows4 = rng.integers(-300, 300, size=(3, 2, 2, 60)).astype(np.int16)
    recipe = Recipe((Despike(), Baseline("window"), Diff()))
    settings = {"window_days": 2, "channels": 2, "steps_per_day": 60}
    flat = recipe.apply(rows4.reshape(3, -1).astype(np.float64), **settings)
    np.testing.assert_array_equal(recipe.apply(rows4, **settings), flat)
    np.testing.assert_array_equal(recipe.apply(rows4.reshape(3, -1), **settings), flat)


def test_the_empty_recipe_returns_the_input_as_float32():
    rows = np.arange(2 * 2 * 3 * 4, dtype=np.float64).reshape(2, -1)
    settings = {"window_days": 2, "channels": 3, "steps_per_day": 4}
    out = Recipe().apply(rows, **settings)
    assert out.dtype == np.float32 and not np.shares_memory(out, rows)
    np.testing.assert_array_equal(out, rows)
    as_float32 = rows.astype(np.float32)
    assert np.shares_memory(Recipe().apply(as_float32, **settings), as_float32)
    np.testing.assert_array_equal(Recipe().apply(as_float32.reshape(2, 2, 3, 4), **settings), rows)
    with pytest.raises(DataError):
        Recipe().apply(rows[:, :-1], **settings)


def test_no_rows_give_no_rows():
    out = FULL.apply(np.zeros((0, 3 * 1440)), window_days=3, channels=1, steps_per_day=1440, longitudes=[])
    assert out.shape == (0, 3 * 240) and out.dtype == np.float32


SETTINGS = {"window_days": 3, "channels": 2, "steps_per_day": 24}


@pytest.mark.parametrize("windows, problem", [
    (np.zeros((2, 143)), "rows hold 143 values, expected 3 days x 2 channels x 24 steps = 144"),
    (np.zeros((2, 3, 48)), "windows must be 2-D (rows, values) or 4-D (rows, days, channels, steps), "
                           "got shape (2, 3, 48)"),
    (np.zeros((2, 3, 1, 48)), "windows of shape (2, 3, 1, 48), expected (rows, 3, 2, 24)"),
    (np.array([["a"] * 144]), "windows have dtype <U1; expected integer or float values"),
])
def test_rows_that_do_not_fit_the_settings_are_a_data_error_naming_where(windows, problem):
    with pytest.raises(DataError) as caught:
        Recipe((Diff(),)).apply(windows, **SETTINGS, where="DATA/window-3/data_0.npy")
    assert str(caught.value).startswith(f"DATA/window-3/data_0.npy: {problem}")


@pytest.mark.parametrize("longitudes, problem", [
    (None, "the local_time step needs one station longitude per row; none were given"),
    ([144.0], "the local_time step needs one longitude per row: 2 rows, longitudes of shape (1,)"),
    ([144.0, float("nan")], "row 1 has no longitude (nan); the local_time step needs each row's station longitude"),
    ([144.0, -181.0], "row 1: longitude -181 is outside [-180, 360] degrees"),
    ([361.0, 0.0], "row 0: longitude 361 is outside [-180, 360] degrees"),
    (["east", "west"], "longitudes must be numbers (degrees east)"),
])
def test_bad_longitudes_are_a_data_error(longitudes, problem):
    with pytest.raises(DataError) as caught:
        Recipe((LocalTime(0, 4),)).apply(np.zeros((2, 144)), **SETTINGS, longitudes=longitudes, where="meta.csv")
    assert str(caught.value) == f"meta.csv: {problem}"


def test_longitudes_without_a_local_time_step_are_refused():
    with pytest.raises(ConfigError, match="longitudes were given but the recipe has no local_time step"):
        Recipe((Diff(),)).apply(np.zeros((2, 144)), **SETTINGS, longitudes=[0.0, 0.0])


@pytest.mark.parametrize("change, message", [
    ({"window_days": 0}, "window_days must be a positive integer, got 0"),
    ({"channels": 2.0}, "channels must be a positive integer, got 2.0"),
    ({"steps_per_day": True}, "steps_per_day must be a positive integer, got True"),
    ({"chunk_rows": 0}, "chunk_rows must be a positive integer, got 0"),
])
def test_settings_that_are_not_positive_integers_are_a_config_error(change, message):
    with pytest.raises(ConfigError) as caught:
        Recipe((Diff(),)).apply(np.zeros((2, 144)), **{**SETTINGS, **change})
    assert str(caught.value) == message


def test_a_despike_window_longer_than_the_series_is_refused():
    with pytest.raises(ConfigError, match="despike step's window of 15 samples is longer than the series "
                                          r"\(1 days x 10 steps\)"):
        Recipe((Despike(),)).apply(np.zeros((1, 10)), window_days=1, channels=1, steps_per_day=10)
