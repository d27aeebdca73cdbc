"""Shared fixtures for the model tests: small versions of every registered model.

Shrinking is by option name, not by model name, so a newly registered model
that uses the usual option names is tested small automatically; one that
does not is tested at its preset size on a 3-day, 32-step window.
"""

from __future__ import annotations

import pytest
import torch

from seismag.models import create_model, get_model_entry

WINDOW_DAYS = 3
STEPS_PER_DAY = 32
BATCH = 6

SMALL_OPTIONS = {
    "hidden_sizes": [16, 8],
    "d_model": 16,
    "nhead": 2,
    "dim_feedforward": 32,
    "num_filters": 4,
    "depth": 3,
    "bottleneck_size": 4,
    "kernel_size": 8,
    "hydra_groups": 8,
    "multirocket_kernels": 336,
}


def small_overrides(name: str) -> dict:
    fields = get_model_entry(name).config_cls.field_names()
    return {key: value for key, value in SMALL_OPTIONS.items() if key in fields}


@pytest.fixture(autouse=True)
def single_thread():
    """Run the tiny test models on one thread, restoring the setting afterwards.

    Their ops are far too small to gain from intra-op parallelism, and on a
    busy 2-core machine two spinning threads per op make them many times slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def make_model():
    """``make_model(name, window_days=3, steps_per_day=32, seed=0, **overrides)`` -> small model."""

    def build(name, window_days=WINDOW_DAYS, steps_per_day=STEPS_PER_DAY, seed=0, **overrides):
        torch.manual_seed(seed)
        return create_model(name, window_days, steps_per_day, **{**small_overrides(name), **overrides})

    return build


@pytest.fixture
def flat_batch(request):
    """``(BATCH, WINDOW_DAYS * STEPS_PER_DAY)`` float32, standard normal, fixed seed; for a
    test parametrised by a ``'table'`` model's ``name``, ``(BATCH, STEPS_PER_DAY)`` columns."""
    generator = torch.Generator().manual_seed(1234)
    name = getattr(getattr(request.node, "callspec", None), "params", {}).get("name")
    width = get_model_entry(name).input_width(WINDOW_DAYS, STEPS_PER_DAY) if name else WINDOW_DAYS * STEPS_PER_DAY
    return torch.randn(BATCH, width, generator=generator)
