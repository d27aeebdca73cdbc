"""The model-size table behind ``seismag models --window N``."""

from __future__ import annotations

import pytest
import torch

from seismag.errors import ConfigError
from seismag.models import create_model, format_model_table, get_model_entry, list_models


@pytest.mark.parametrize("window_days", [7, 14, 30])
def test_table_lists_every_model_with_its_sizes(window_days):
    table = format_model_table(window_days)
    assert f"{window_days}-day window" in table
    for name in list_models():
        with torch.device("meta"):
            info = create_model(name, window_days).get_model_info()
        row = next(line for line in table.splitlines() if line.startswith(f"{name} ("))
        assert get_model_entry(name).input_layout in row
        assert f"{info['total_params']:,}" in row
        assert f"  {name}: {info['architecture']}" in table
    assert f"(batch, {window_days}, 1440)" in table
    assert f"(batch, {window_days * 1440})" in table  # the MLP's flat input


def test_table_follows_steps_per_day_and_verbose_lists_layers():
    table = format_model_table(8, steps_per_day=64, verbose=True)
    assert "(batch, 8, 64)" in table and "(batch, 512)" in table
    assert "recurrent_layers.0" in table and "encoder_layers.1.linear2" in table
    assert "recurrent_layers.0" not in format_model_table(8, steps_per_day=64)


def test_table_rejects_a_bad_window():
    with pytest.raises(ConfigError, match="window_days"):
        format_model_table(0)
