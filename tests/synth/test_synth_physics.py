"""The shared physics of the two synthetic generators: the promises each piece makes to both."""
from __future__ import annotations

import numpy as np

from seismag.synth.noise import add_instrument_faults, random_stream, red_noise
from seismag.synth.stations import MINUTES_PER_DAY, draw_channel_baselines, draw_stations
from seismag.synth.storms import draw_storms, render_storms


def test_any_slice_of_the_storm_grid_is_the_whole_grid_rendered_at_once():
    total = 60 * MINUTES_PER_DAY
    storms = draw_storms(random_stream(3, 1), total, 0.0)
    assert storms  # 60 days at ~24 storms a year
    whole = render_storms(storms, 0, total)
    pieces = [render_storms(storms, first, 7919) for first in range(0, total, 7919)]
    np.testing.assert_array_equal(np.concatenate(pieces)[:total], whole)
    assert whole.min() < -50.0  # a main phase of at least 50 nT


def test_red_noise_has_unit_rms_and_is_seeded():
    noise = red_noise(random_stream(1, 2), 64, 4 * MINUTES_PER_DAY, MINUTES_PER_DAY)
    assert noise.shape == (64, 4 * MINUTES_PER_DAY)
    assert abs(float(np.sqrt(np.mean(noise**2))) - 1.0) < 0.1
    np.testing.assert_array_equal(noise, red_noise(random_stream(1, 2), 64, 4 * MINUTES_PER_DAY, MINUTES_PER_DAY))


def test_a_gap_in_h_stops_every_channel_and_f_gets_no_spikes():
    rows, n = 200, 2 * MINUTES_PER_DAY
    channels = {name: np.zeros((rows, n)) for name in ("H", "D", "Z", "F")}
    add_instrument_faults(channels, MINUTES_PER_DAY, random_stream(5, 1), random_stream(5, 2),
                          spike_share=0.5, gap_share=0.5)
    gaps = np.isnan(channels["H"])
    assert gaps.any()
    for name in ("D", "Z", "F"):
        np.testing.assert_array_equal(np.isnan(channels[name]), gaps)
    spikes = {name: np.abs(np.nan_to_num(channels[name])) for name in channels}
    assert spikes["H"].max() >= 30.0 and spikes["Z"].max() >= 30.0
    assert 3.0 <= spikes["D"][spikes["D"] > 0].min() and spikes["D"].max() <= 40.0  # arc-minutes
    assert spikes["F"].max() == 0.0


def test_h_alone_draws_only_from_its_own_stream():
    alone = {"H": np.zeros((50, MINUTES_PER_DAY))}
    add_instrument_faults(alone, MINUTES_PER_DAY, random_stream(5, 1), None, spike_share=0.5, gap_share=0.5)
    every = {name: np.zeros((50, MINUTES_PER_DAY)) for name in ("H", "D", "Z", "F")}
    add_instrument_faults(every, MINUTES_PER_DAY, random_stream(5, 1), random_stream(5, 2),
                          spike_share=0.5, gap_share=0.5)
    np.testing.assert_array_equal(alone["H"], every["H"])


def test_a_dense_array_differs_by_tens_of_nt_a_regional_network_by_hundreds():
    codes = tuple(f"S{i}" for i in range(30))
    local = draw_stations(random_stream(0, 1), codes, 10.0)
    regional = draw_stations(random_stream(0, 1), codes, 150.0)
    assert np.ptp(local.baseline_nt) < 150.0 < np.ptp(regional.baseline_nt)
    assert np.all(np.abs(local.latitude_deg - 35.0) < 0.1)
    baselines = draw_channel_baselines(random_stream(0, 2), regional)
    assert np.all(np.abs(baselines.d_baseline_arcmin + 438.0) < 30.0)  # about 7.3 degrees west
    assert np.all(np.abs(baselines.z_baseline_nt - 35_000.0) < 2_000.0)
