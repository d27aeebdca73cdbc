"""The random parts both generators share: seeded streams, red ULF noise, node interpolation,
spikes and gaps.

Every random draw of :mod:`seismag.synth` comes from :func:`random_stream`, a
:func:`numpy.random.default_rng` seeded by a :class:`numpy.random.SeedSequence` keyed by
``(seed, purpose, ...)``: each generator owns its table of purposes, so a new purpose never
shifts the draws of an old one.

ULF (Pc5-band) noise is unit-RMS red noise (power ~ f^-1.7 above a 3-hour corner, flat
below it) that :mod:`seismag.synth.field` scales by the ULF envelope (``ULF_QUIET_RMS_NT``
on quiet days, more in storms). Random walks and day-to-day factors are drawn at nodes
and interpolated linearly (:func:`interp_nodes`). Instrument faults are single-sample
spikes and short NaN gaps (1-10 minutes); a gap stops every channel (:func:`add_instrument_faults`).
"""

from __future__ import annotations

import math

import numpy as np

from seismag.synth.stations import MINUTES_PER_DAY

__all__ = ["ULF_QUIET_RMS_NT", "add_instrument_faults", "interp_nodes", "random_stream", "red_noise"]

ULF_SPECTRAL_EXPONENT = 1.7  # power ~ f^-a
ULF_CORNER_PERIOD_S = 3.0 * 3600.0  # flat below this frequency; drift covers slower change
ULF_QUIET_RMS_NT = 2.5

SPIKE_RANGE_NT = (30.0, 400.0)  # size of a spike in H and Z, either sign
D_SPIKE_RANGE_ARCMIN = (3.0, 40.0)


def random_stream(seed: int, *key: int) -> np.random.Generator:
    """The random stream of ``(seed, *key)``: the same key, the same draws."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), *map(int, key)]))


def interp_nodes(nodes: np.ndarray, position: np.ndarray) -> np.ndarray:
    """Linear interpolation of per-row ``nodes`` (n, m) at fractional node ``position`` (L,)."""
    index = np.minimum(np.floor(position).astype(np.int64), nodes.shape[1] - 2)
    frac = position - index
    return nodes[:, index] * (1.0 - frac) + nodes[:, index + 1] * frac


def red_noise(rng: np.random.Generator, n: int, n_steps: int, steps_per_day: int) -> np.ndarray:
    """Unit-RMS noise (n, n_steps) with power ~ f^-a above the corner frequency, flat below it.

    The spectrum is defined in physical frequency, so at coarser sampling the
    series holds what an anti-aliased (averaged) record would.
    """
    dt_s = 86_400.0 / steps_per_day
    freq = np.fft.rfftfreq(n_steps, d=dt_s)
    corner = 1.0 / ULF_CORNER_PERIOD_S
    shape = np.maximum(freq, corner) ** (-ULF_SPECTRAL_EXPONENT / 2.0)
    shape[0] = 0.0
    # Expected variance of irfft(shape * (a + ib)/sqrt(2)) per sample, to normalise to unit RMS.
    weight = np.full(freq.size, 2.0)
    weight[0] = 1.0
    if n_steps % 2 == 0:
        weight[-1] = 1.0
    variance = np.sum(weight * shape**2) / n_steps**2
    coeffs = rng.standard_normal((n, freq.size)) + 1j * rng.standard_normal((n, freq.size))
    coeffs *= shape / (math.sqrt(2.0) * math.sqrt(variance) if variance > 0 else 1.0)
    if n_steps % 2 == 0:
        coeffs[:, -1] = coeffs[:, -1].real * math.sqrt(2.0)  # the Nyquist bin is real
    return np.fft.irfft(coeffs, n=n_steps, axis=1)


def add_instrument_faults(channels: dict[str, np.ndarray], steps_per_day: int, h_rng: np.random.Generator,
                          other_rng: np.random.Generator | None, *, spike_share: float, gap_share: float) -> None:
    """In place: spikes in every channel but F, gaps in H that stop every channel.

    ``channels`` holds ``"H"`` alone or ``"H", "D", "Z", "F"``, each ``(rows, samples)`` with
    ``steps_per_day`` samples a day. One to three single-sample spikes (H and Z
    ``SPIKE_RANGE_NT`` nT, D ``D_SPIKE_RANGE_ARCMIN`` arc-minutes, either sign) go into a
    ``spike_share`` of the rows of each channel; one to three NaN gaps of 1-10 minutes into a
    ``gap_share`` of H's rows, and then into D, Z and F at the same samples. F gets no spikes
    of its own (a separate instrument). H draws from ``h_rng``, D and Z from ``other_rng``.
    """
    _add_spikes_and_gaps(h_rng, channels["H"], steps_per_day, spike_share, gap_share, SPIKE_RANGE_NT)
    if len(channels) == 1:
        return
    _add_spikes_and_gaps(other_rng, channels["D"], steps_per_day, spike_share, 0.0, D_SPIKE_RANGE_ARCMIN)
    _add_spikes_and_gaps(other_rng, channels["Z"], steps_per_day, spike_share, 0.0, SPIKE_RANGE_NT)
    gaps = np.isnan(channels["H"])  # an outage stops every channel
    for name in ("D", "Z", "F"):
        channels[name][gaps] = np.nan


def _add_spikes_and_gaps(rng: np.random.Generator, values: np.ndarray, steps_per_day: int, spike_share: float,
                         gap_share: float, spike_range: tuple[float, float]) -> None:
    """In place: one to three single-sample spikes (sizes in ``spike_range``, either sign) in a
    ``spike_share`` of the rows, one to three NaN gaps of 1-10 minutes in a ``gap_share``."""
    n, n_steps = values.shape
    spiky = rng.uniform(size=n) < spike_share
    n_spikes = rng.integers(1, 4, n)
    gappy = rng.uniform(size=n) < gap_share
    n_gaps = rng.integers(1, 4, n)
    for row in np.flatnonzero(spiky):
        where = rng.integers(0, n_steps, n_spikes[row])
        values[row, where] += rng.choice([-1.0, 1.0], where.size) * rng.uniform(*spike_range, where.size)
    for row in np.flatnonzero(gappy):
        for _ in range(n_gaps[row]):
            length = max(1, int(round(rng.integers(1, 11) * steps_per_day / MINUTES_PER_DAY)))
            begin = int(rng.integers(0, max(1, n_steps - length)))
            values[row, begin : begin + length] = np.nan
