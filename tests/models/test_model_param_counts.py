"""Parameter counts of the paper presets equal the analytic formulas.

Models are built on the meta device: shapes only, no memory, no forward pass.
"""

from __future__ import annotations

import pytest
import torch

from seismag.models import (
    create_model,
    list_models,
)
from seismag.spec.classifiers import GRUClassifier, LSTMClassifier, MLPClassifier, RNNClassifier, TransformerClassifier

STEPS_PER_DAY = 1440
HIDDEN = [512, 256]
GATES = {"gru": 3, "lstm": 4, "rnn": 1}


def recurrent_count(cell, input_size, hidden_sizes, bidirectional=False, output_size=2):
    directions = 2 if bidirectional else 1
    total, in_features = 0, input_size
    for h in hidden_sizes:
        # per direction: gates * (W_ih + W_hh + b_ih + b_hh)
        total += directions * GATES[cell] * (in_features * h + h * h + 2 * h)
        total += 2 * h * directions  # BatchNorm weight + bias
        in_features = h * directions
    return total + in_features * output_size + output_size


def mlp_count(input_size, hidden_sizes, output_size=2):
    total, in_features = 0, input_size
    for h in hidden_sizes:
        total += in_features * h + 2 * h  # bias-free Linear + BatchNorm weight/bias
        in_features = h
    return total + in_features * output_size + output_size


def transformer_count(input_size, d_model=512, layers=2, ff=2048, output_size=2):
    projection = input_size * d_model + d_model
    attention = 3 * d_model * d_model + 3 * d_model + d_model * d_model + d_model
    feed_forward = d_model * ff + ff + ff * d_model + d_model
    norms = 2 * 2 * d_model
    head = d_model * output_size + output_size
    return projection + layers * (attention + feed_forward + norms) + head


def inception_count(channels=1, filters=32, bottleneck=32, kernels=(40, 20, 10), depth=6, output_size=2):
    width = 4 * filters
    total, in_channels, residual = 0, channels, channels
    for index in range(depth):
        reduced = bottleneck if in_channels > 1 else in_channels
        total += in_channels * bottleneck if in_channels > 1 else 0  # bias-free 1x1 bottleneck
        total += sum(reduced * filters * k for k in kernels) + in_channels * filters  # + max-pool branch's 1x1
        total += 2 * width  # BatchNorm
        in_channels = width
        if index % 3 == 2:
            total += residual * width + 2 * width  # shortcut: bias-free 1x1 + BatchNorm
            residual = width
    return total + width * output_size + output_size


def resnet_count(channels=1, filters=64, output_size=2):
    total, in_channels = 0, channels
    for width in (filters, 2 * filters, 2 * filters):
        previous = in_channels
        for k in (8, 5, 3):
            total += previous * width * k + width + 2 * width  # convolution with bias + BatchNorm
            previous = width
        total += (0 if in_channels == width else in_channels * width + width) + 2 * width  # shortcut
        in_channels = width
    return total + in_channels * output_size + output_size


def expected_count(name, window_days):
    if name in GATES:
        return recurrent_count(name, STEPS_PER_DAY, HIDDEN)
    if name == "mlp":
        return mlp_count(window_days * STEPS_PER_DAY, HIDDEN)
    if name == "transformer":
        return transformer_count(STEPS_PER_DAY)
    if name == "features":
        return 7 * (8 + 5) * 2 + 2  # linear head on 7 summaries x (8 bands + 5 day statistics)
    if name == "minirocket":
        return 84 * (2000 // 84) * 2 + 2  # linear head on 1932 MiniRocket features
    if name == "activity":
        return STEPS_PER_DAY * 2 + 2  # logistic regression on STEPS_PER_DAY "columns" (the table layout)
    if name == "inception":
        return inception_count()
    if name == "resnet":
        return resnet_count()
    if name == "features_gbm":
        return 0  # the boosted trees are buffers fitted at once, not parameters trained by steps
    pytest.fail(f"no analytic parameter count for newly registered model {name!r}; add one here")


def _count(model):
    return sum(p.numel() for p in model.parameters())


# The aeon models' transforms run in NumPy and cannot be built on the meta device; their
# only parameters are the linear head on their features (tests/models/test_aeon_rocket.py).
@pytest.mark.parametrize("name", [n for n in list_models() if n not in ("quant", "multirocket_hydra")])
@pytest.mark.parametrize("window_days", [7, 14, 30])
def test_paper_preset_parameter_count(name, window_days):
    with torch.device("meta"):
        model = create_model(name, window_days)
    info = model.get_model_info()
    assert info["total_params"] == expected_count(name, window_days)
    assert info["trainable_params"] == info["total_params"]


def test_known_values():
    # Written out once so a formula slip in this file cannot hide a model change.
    with torch.device("meta"):
        assert _count(create_model("gru", 7)) == 3_594_754
        assert _count(create_model("mlp", 30)) == 22_251_522
        assert _count(create_model("transformer", 14)) == 7_043_586


def test_mlp_input_sizes_follow_the_window():
    with torch.device("meta"):
        sizes = {days: create_model("mlp", days).config.input_size for days in (7, 14, 30)}
    assert sizes == {7: 10080, 14: 20160, 30: 43200}


@pytest.mark.parametrize("cell", sorted(GATES))
def test_bidirectional_and_single_layer_counts(cell):
    for hidden, bidirectional in (([32, 16], True), ([24], False), ([8, 8, 8], True)):
        model = create_model(cell, 4, 20, hidden_sizes=hidden, bidirectional=bidirectional)
        assert _count(model) == recurrent_count(cell, 20, hidden, bidirectional)


def test_spec_constructors_match_the_registry_presets():
    with torch.device("meta"):
        pairs = [
            (
                GRUClassifier(
                    input_size=1440, hidden_sizes=[512, 256], output_size=2, dropout_prob=0.3, use_batch_norm=True
                ),
                create_model("gru", 7),
            ),
            (LSTMClassifier(input_size=1440), create_model("lstm", 14)),
            (RNNClassifier(input_size=1440, nonlinearity="relu"), create_model("rnn", 30, nonlinearity="relu")),
            (
                MLPClassifier(
                    input_size=10080, hidden_sizes=[512, 256], output_size=2, dropout_prob=0.3, use_batch_norm=True
                ),
                create_model("mlp", 7),
            ),
            (
                TransformerClassifier(
                    input_size=1440, d_model=512, nhead=8, num_encoder_layers=2, dim_feedforward=2048
                ),
                create_model("transformer", 7),
            ),
        ]
    for spec_model, registry_model in pairs:
        # The SPEC class is the registered network with a keyword constructor.
        assert isinstance(spec_model, type(registry_model))
        assert spec_model.config == registry_model.config
        assert _count(spec_model) == _count(registry_model)
