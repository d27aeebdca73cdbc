"""The SPEC's reshape helpers and positional encoding."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from seismag.errors import ConfigError
from seismag.models import sinusoidal_encoding
from seismag.spec.classifiers import MLPClassifier, RNNClassifier, TransformerClassifier
from seismag.spec.aliases import (
    add_positional_encoding,
    prepare_mlp_data,
    reshape_data_for_gru,
    reshape_data_for_lstm,
    reshape_data_for_rnn,
    reshape_data_for_transformer,
)

RESHAPERS = [reshape_data_for_gru, reshape_data_for_lstm, reshape_data_for_rnn, reshape_data_for_transformer]


@pytest.mark.parametrize("reshape", RESHAPERS)
def test_reshape_keeps_type_and_day_order(reshape):
    flat = np.arange(2 * 7 * 4, dtype=np.float32).reshape(2, 28)
    out = reshape(flat, 7)
    assert isinstance(out, np.ndarray) and out.shape == (2, 7, 4)
    np.testing.assert_array_equal(out[1, 2], flat[1, 8:12])  # day 3 of sample 2
    assert np.shares_memory(out, flat)
    tensor_out = reshape(torch.from_numpy(flat), 7)
    assert isinstance(tensor_out, torch.Tensor) and tensor_out.shape == (2, 7, 4)
    assert torch.equal(tensor_out, torch.from_numpy(out))


@pytest.mark.parametrize("bad_input, seq_length, match", [
    (np.zeros((2, 10)), 7, "not a multiple of 7"),
    (np.zeros((2, 7, 2)), 7, "shape"),
    (np.zeros((2, 14)), 0, "seq_length"),
])
def test_reshape_errors(bad_input, seq_length, match):
    with pytest.raises(ConfigError, match=match):
        reshape_data_for_gru(bad_input, seq_length)


def test_prepare_mlp_data():
    sequence = torch.randn(3, 7, 4)
    assert prepare_mlp_data(sequence).shape == (3, 28)
    assert prepare_mlp_data(sequence, flatten=False) is sequence
    flat = np.zeros((3, 28))
    assert prepare_mlp_data(flat) is flat


def test_positional_encoding_values():
    pe = sinusoidal_encoding(50, 6)
    assert pe.shape == (50, 6) and pe.dtype == torch.float32
    torch.testing.assert_close(pe[0], torch.tensor([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]))
    pos, i = 13, 1  # column 2i and 2i+1
    angle = pos / 10000 ** (2 * i / 6)
    torch.testing.assert_close(pe[pos, 2:4], torch.tensor([math.sin(angle), math.cos(angle)]))
    assert sinusoidal_encoding(4, 5).shape == (4, 5)  # odd width


def test_add_positional_encoding_numpy_and_torch():
    x = np.zeros((2, 5, 8), dtype=np.float32)
    out = add_positional_encoding(x, 8)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_allclose(out[1], sinusoidal_encoding(5, 8).numpy(), rtol=1e-6)
    t = torch.ones(2, 5, 8, dtype=torch.float64)
    expected = sinusoidal_encoding(5, 8, dtype=torch.float64).expand(2, 5, 8)
    torch.testing.assert_close(add_positional_encoding(t, 8) - 1, expected)
    with pytest.raises(ConfigError, match="8"):
        add_positional_encoding(np.zeros((2, 5, 7)), 8)


def test_spec_classes_on_their_data():
    torch.manual_seed(0)
    flat = torch.randn(4, 8 * 64)  # 8 steps of 64 values
    rnn = RNNClassifier(input_size=64, hidden_sizes=[12], nonlinearity="relu").eval()
    assert rnn(reshape_data_for_rnn(flat, 8)).shape == (4, 2)
    mlp = MLPClassifier(input_size=512, hidden_sizes=[16, 8], activation="selu").eval()
    assert mlp(prepare_mlp_data(flat)).shape == (4, 2)
    transformer = TransformerClassifier(input_size=8, d_model=8, nhead=2, dim_feedforward=16).eval()
    assert transformer(reshape_data_for_transformer(flat, 64)).shape == (4, 2)  # 64 steps of 8
    long = TransformerClassifier(input_size=2, d_model=8, nhead=2, dim_feedforward=16).eval()
    assert long(torch.randn(1, 5000, 2)).shape == (1, 2)  # positional encoding has no maximum length
