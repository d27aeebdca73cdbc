"""The Molchan diagram from plain arrays: hand-worked trajectories, ASS, gain, binomial alpha,
the pointwise 95 % contour, random alarms on the diagonal when events are scored as pairs,
and pyCSEP's formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seismag.evaluation.skill.molchan import (area_skill_score, binomial_tail, event_alarm_fractions, molchan_trajectory,
                                   probability_gain, significance_contour)

# Five cells (one never under alarm), two events: at the 0.9 cell and at the 0.5 cell.
LEVELS = np.array([0.9, 0.8, 0.8, 0.5, np.nan])
EVENTS = np.array([0.9, 0.5])


def test_hand_worked_trajectory():
    t = molchan_trajectory(LEVELS, EVENTS)
    # theta 0.9: 1 cell, 1 hit; 0.8: 3 cells (a tie), 1 hit; 0.5: 4 cells, 2 hits; "always": 5 of 5.
    assert t.tau.tolist() == pytest.approx([0.0, 0.2, 0.6, 0.8, 1.0])
    assert t.nu.tolist() == pytest.approx([1.0, 0.5, 0.5, 0.0, 0.0])
    assert t.hits.tolist() == [0, 1, 1, 2, 2]
    assert np.isnan(t.threshold[[0, -1]]).all() and t.threshold[1:-1].tolist() == [0.9, 0.8, 0.5]
    assert (t.n_events, t.n_cells) == (2, 5)
    # area = 0.2 * 0.75 + 0.4 * 0.5 + 0.2 * 0.25 + 0 = 0.4
    assert area_skill_score(t.tau, t.nu) == pytest.approx(0.6)


def test_ass_is_one_minus_the_mean_event_alarm_fraction():
    # event 0.9: tau goes 0 -> 1/5 as it is caught, mid-point 0.1; event 0.5: 3/5 -> 4/5, 0.7.
    fractions = event_alarm_fractions(LEVELS, EVENTS)
    assert fractions.tolist() == pytest.approx([0.1, 0.7])
    assert 1 - fractions.mean() == pytest.approx(0.6)
    # an event no cell can catch is caught by "always": between 4/5 and 1
    assert event_alarm_fractions(LEVELS, [np.nan]).tolist() == pytest.approx([0.9])
    rng = np.random.default_rng(5)
    levels = np.round(rng.random(300), 2)  # many ties
    levels[rng.random(300) < 0.1] = np.nan
    events = levels[rng.choice(300, 12)]
    t = molchan_trajectory(levels, events)
    assert area_skill_score(t.tau, t.nu) == pytest.approx(1 - event_alarm_fractions(levels, events).mean(), abs=1e-12)


def test_thinning_drops_only_points_inside_a_horizontal_run():
    levels = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    full = molchan_trajectory(levels, EVENTS, thin=False)
    thin = molchan_trajectory(levels, EVENTS)
    # thresholds 0.9 .. 0.5 catch 1, 1, 1, 1, 2 events; the last reaches tau 1 before "always" does
    assert full.tau.tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.0])
    assert full.hits.tolist() == [0, 1, 1, 1, 1, 2, 2]
    # 0.4 and 0.6 lie on nu = 0.5 between 0.2 and 0.8
    assert thin.tau.tolist() == pytest.approx([0, 0.2, 0.8, 1.0, 1.0])
    assert thin.threshold[1:-1].tolist() == [0.9, 0.6, 0.5]
    assert area_skill_score(thin.tau, thin.nu) == pytest.approx(area_skill_score(full.tau, full.nu))


def test_extremes():
    perfect = molchan_trajectory([1.0, 0.0, 0.0, 0.0], [1.0])
    assert area_skill_score(perfect.tau, perfect.nu) == pytest.approx(1 - 0.25 / 2)
    wrong = molchan_trajectory([1.0, 1.0, 1.0, 0.0], [0.0])
    assert area_skill_score(wrong.tau, wrong.nu) == pytest.approx(1 - (0.75 + 0.25 / 2))
    with pytest.raises(ValueError):
        molchan_trajectory(LEVELS, [])


def test_probability_gain_interpolates_on_the_trajectory():
    t = molchan_trajectory(LEVELS, EVENTS)
    # between (0, 1) and (0.2, 0.5): nu(0.1) = 0.75 -> G = 0.25 / 0.1; at 0.2 exactly nu = 0.5 -> G = 2.5
    assert probability_gain(t.tau, t.nu, 0.1) == pytest.approx(2.5)
    assert probability_gain(t.tau, t.nu, 0.2) == pytest.approx(2.5)
    assert probability_gain(t.tau, t.nu, 0.7) == pytest.approx((1 - 0.25) / 0.7)
    # a vertical drop at tau = at takes the point after it
    assert probability_gain([0, 0.5, 0.5, 1], [1, 1, 0, 0], 0.5) == pytest.approx(2.0)
    assert probability_gain([0, 1], [1, 0], 0.05) == pytest.approx(1.0)
    assert probability_gain(t.tau, t.nu, 0.0) is None


def test_binomial_tail_known_values():
    # P(X >= 1), X ~ B(2, 0.2) = 1 - 0.8^2; P(X >= 8), X ~ B(10, 1/2) = (45 + 10 + 1) / 1024
    assert binomial_tail(2, 1, 0.2) == pytest.approx(0.36)
    assert binomial_tail(10, 8, 0.5) == pytest.approx(56 / 1024)
    assert binomial_tail(5, [0, 6, 3, 3], [0.3, 0.3, 0.0, 1.0]).tolist() == [1.0, 0.0, 0.0, 1.0]
    stats = pytest.importorskip("scipy.stats")
    hits, tau = np.array([1, 17, 40, 3]), np.array([0.01, 0.2, 0.5, 0.9])
    assert binomial_tail(60, hits, tau) == pytest.approx(stats.binom.sf(hits - 1, 60, tau), rel=1e-9)


def test_contour_for_two_events():
    # N = 2: one hit is significant while 1 - (1 - tau)^2 <= 0.05, i.e. tau <= 1 - sqrt(0.95) = 0.0253;
    # two hits while tau^2 <= 0.05, tau <= 0.2236; beyond that no nu is significant.
    tau, nu = significance_contour(2, taus=np.array([0.0, 0.02, 0.03, 0.1, 0.22, 0.23, 0.5, 1.0]))
    assert tau.tolist() == [0.0, 0.02, 0.03, 0.1, 0.22]
    assert nu.tolist() == [0.5, 0.5, 0.0, 0.0, 0.0]
    default_tau, default_nu = significance_contour(20)
    assert default_tau[0] == 0.0 and np.all(np.diff(default_tau) > 0) and np.all(np.diff(default_nu) <= 0)


def test_contour_of_one_event_is_the_binomial_of_one_trial():
    # N = 1: the hit is significant while tau <= 0.05
    tau, nu = significance_contour(1, taus=np.array([0.01, 0.049, 0.051]))
    assert tau.tolist() == [0.01, 0.049] and nu.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError):
        significance_contour(0)


@pytest.mark.parametrize("shared", [False, True])
def test_random_alarms_scored_as_pairs_lie_on_the_diagonal_however_stations_correlate(shared):
    # 200 days x 3 stations; 20 events, each within reach of all three (three pairs). Alarm levels
    # drawn per station-day, or one series shared by the stations: pairs keep ASS at 0.5 either way,
    # where scoring each event by its best station gives about 0.75 for independent levels.
    rng = np.random.default_rng(23)
    asses, event_level = [], []
    for _ in range(300):
        levels = np.tile(rng.random(200), (3, 1)) if shared else rng.random((3, 200))
        days = rng.choice(200, 20, replace=False)
        pairs = levels[:, days].T.ravel()
        t = molchan_trajectory(levels.ravel(), pairs)
        asses.append(area_skill_score(t.tau, t.nu))
        t = molchan_trajectory(levels.ravel(), levels[:, days].max(axis=0))
        event_level.append(area_skill_score(t.tau, t.nu))
    assert np.mean(asses) == pytest.approx(0.5, abs=0.01)
    assert np.mean(event_level) == pytest.approx(0.5 if shared else 0.75, abs=0.02)
def test_random_alarms_ass_lies_within_two_sd_about_95_percent_of_the_time():
    # 400 draws of 20 events among 500 cells with independent uniform alarm levels.
    rng = np.random.default_rng(17)
    n_events, inside = 20, 0
    for _ in range(400):
        levels = rng.random(500)
        events = levels[rng.choice(500, n_events, replace=False)]
        t = molchan_trajectory(levels, events)
        inside += abs(area_skill_score(t.tau, t.nu) - 0.5) <= 2 * math.sqrt(1 / (12 * n_events))
    assert 0.90 * 400 <= inside <= 0.99 * 400


def _pycsep_molchan(rate: np.ndarray, obs_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """pyCSEP 0.8.0 ``csep.plots.plot_Molchan_diagram``, transcribed without pandas or plotting:
    cells in descending rate, each normalised rate tried as a threshold, tau = alarmed cells
    / cells, nu = unalarmed active cells / active cells, the trajectory framed by (0, 1) and
    (1, 0), ``ASS = cumtrapz(1 - nu) / (cumtrapz(1) + 1e-10)`` at its end (not yet clamped
    to >= 0.5 and rounded to 0.01, as pyCSEP then does)."""
    order = np.flip(np.argsort(rate))
    thresholds = rate[order] / rate.sum()
    obs = obs_counts[order]
    taus, nus = [0.0], [1.0]
    for threshold in thresholds:
        alarm = thresholds >= threshold
        taus.append(alarm.sum() / alarm.size)
        nus.append(np.count_nonzero(~alarm & (obs > 0)) / np.count_nonzero(obs > 0))
    taus.append(1.0)
    nus.append(0.0)
    tau, nu = np.array(taus), np.array(nus)
    band = np.trapezoid(np.ones_like(tau), tau) - np.trapezoid(nu, tau)
    return tau, nu, band / (np.trapezoid(np.ones_like(tau), tau) + 1e-10)


@pytest.mark.parametrize("flip", [False, True])
def test_agrees_with_pycsep_on_a_gridded_forecast(flip):
    # 12 spatial cells of one time window, rates with ties; 4 cells with one event each
    # (pyCSEP counts active cells, this module counts events: equal when no cell has two).
    rate = np.array([5.0, 1.0, 3.0, 3.0, 0.5, 2.0, 4.0, 0.5, 1.0, 6.0, 2.0, 0.2])
    if flip:
        rate = 7.0 - rate  # an anti-skilled forecast
    observed = np.zeros(12, dtype=int)
    observed[[0, 2, 6, 7]] = 1
    tau_csep, nu_csep, ass_csep = _pycsep_molchan(rate, observed)
    ours = molchan_trajectory(rate, rate[observed > 0], thin=False)
    distinct = sorted(set(zip(tau_csep.round(12), nu_csep.round(12))))
    assert sorted(set(zip(ours.tau.round(12), ours.nu.round(12)))) == distinct
    ass = area_skill_score(ours.tau, ours.nu)
    assert ass == pytest.approx(ass_csep, abs=1e-9)
    # pyCSEP then reports max(0.5, ASS) rounded to 0.01: the anti-skilled forecast shows as 0.5.
    reported = round(max(0.5, ass_csep), 2)
    assert (reported == 0.5) == flip and (ass < 0.5) == flip
