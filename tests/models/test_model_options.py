"""Option spellings the SPEC uses: recurrent ``num_layers`` and MLP activation names."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from seismag.errors import ConfigError
from seismag.models import (
    GRUConfig,
    create_model,
    load_model_checkpoint,
    model_config,
    save_model_checkpoint,
)
from seismag.spec.classifiers import GRUClassifier, LSTMClassifier, MLPClassifier, RNNClassifier

RECURRENT = ("gru", "lstm", "rnn")
CLASSIFIERS = {"gru": GRUClassifier, "lstm": LSTMClassifier, "rnn": RNNClassifier}

# SPEC Module 6, "Model-Specific Parameters / Sequential Models (GRU/LSTM/RNN)".
MODULE6_SEQUENTIAL = {"hidden_sizes": [512, 256], "num_layers": 2, "dropout_prob": 0.3, "nonlinearity": "tanh"}


# --- num_layers --------------------------------------------------------------


@pytest.mark.parametrize("name", RECURRENT)
def test_num_layers_is_derived_from_hidden_sizes(name):
    assert model_config(name, 7).num_layers == 2
    assert model_config(name, 7, hidden_sizes=[16, 8, 4]).num_layers == 3
    assert model_config(name, 7, hidden_sizes=[16, 8], num_layers=2).hidden_sizes == (16, 8)


@pytest.mark.parametrize("name", RECURRENT)
def test_a_single_size_with_num_layers_repeats_it(name):
    config = model_config(name, 3, 32, hidden_sizes=12, num_layers=3)
    assert config.hidden_sizes == (12, 12, 12) and config.num_layers == 3
    model = create_model(name, 3, 32, hidden_sizes=12, num_layers=3)
    assert [layer.hidden_size for layer in model.recurrent_layers] == [12, 12, 12]
    assert model_config(name, 3, 32, hidden_sizes=12).hidden_sizes == (12,)


@pytest.mark.parametrize("name", RECURRENT)
@pytest.mark.parametrize("build", ["config", "constructor"])
def test_num_layers_contradicting_hidden_sizes_names_both(name, build):
    with pytest.raises(ConfigError) as info:
        if build == "config":
            model_config(name, 7, hidden_sizes=[512, 256], num_layers=3)
        else:
            CLASSIFIERS[name](hidden_sizes=[512, 256], num_layers=3)
    message = str(info.value)
    assert "num_layers=3" in message and "[512, 256]" in message
    with pytest.raises(ConfigError, match="num_layers must be a positive integer"):
        model_config(name, 7, num_layers=0)


@pytest.mark.parametrize("name", RECURRENT)
def test_keyword_constructors_accept_num_layers(name):
    with torch.device("meta"):
        model = CLASSIFIERS[name](hidden_sizes=[512, 256], num_layers=2, dropout_prob=0.3)
        preset = create_model(name, 7)
    assert model.config == preset.config
    assert model.config.num_layers == 2


def test_module6_sequential_config_builds_the_rnn_preset():
    with torch.device("meta"):
        model = RNNClassifier(**MODULE6_SEQUENTIAL)
        preset = create_model("rnn", 7)
    assert model.config == preset.config
    assert model.config.nonlinearity == "tanh" and model.config.num_layers == 2
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in preset.parameters())


@pytest.mark.parametrize("name", ["gru", "lstm"])
def test_nonlinearity_on_a_gated_cell_is_a_clear_config_error(name):
    gated_only = {k: v for k, v in MODULE6_SEQUENTIAL.items() if k != "nonlinearity"}
    with pytest.raises(ConfigError, match=r"'nonlinearity' applies to the vanilla RNN only"):
        CLASSIFIERS[name](**MODULE6_SEQUENTIAL)
    with pytest.raises(ConfigError, match=r"'nonlinearity' applies to the vanilla RNN only"):
        model_config(name, 7, nonlinearity="tanh")
    with torch.device("meta"):
        assert CLASSIFIERS[name](**gated_only).config == create_model(name, 7).config


@pytest.mark.parametrize("name", RECURRENT)
def test_config_with_num_layers_round_trips(name):
    config = model_config(name, 14, hidden_sizes=[32, 16])
    plain = config.to_dict()
    assert plain["num_layers"] == 2
    assert type(config).from_dict(plain) == config
    with torch.device("meta"):
        assert type(create_model(name, 14)).from_config(config).config == config


def test_replace_with_new_hidden_sizes_rederives_num_layers():
    config = model_config("gru", 7)
    assert config.replace(hidden_sizes=[8, 8, 8]).num_layers == 3
    assert config.replace(dropout_prob=0.5).num_layers == 2
    with pytest.raises(ConfigError, match="num_layers=3"):
        config.replace(num_layers=3)


@pytest.mark.parametrize("name", RECURRENT)
def test_checkpoint_without_num_layers_still_loads(name, make_model, tmp_path):
    # A checkpoint written before num_layers existed: the same file minus that key.
    model = make_model(name)
    path = save_model_checkpoint(model, tmp_path / "old.pth")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    del checkpoint["model_config"]["num_layers"]
    del checkpoint["metadata_sha256"]  # such a file predates metadata checksums too
    torch.save(checkpoint, path)

    loaded, _ = load_model_checkpoint(path)
    assert loaded.config == model.config and loaded.config.num_layers == 2
    x = torch.randn(2, 3, 32)
    model.eval()
    assert torch.equal(loaded(x), model(x))


def test_positional_config_fields_are_unchanged():
    # num_layers was appended after the existing fields, so positional use keeps its meaning.
    config = GRUConfig(16, (8, 4), 3)
    assert config.output_size == 3 and config.num_layers == 2


# --- MLP activation names ----------------------------------------------------


@pytest.mark.parametrize(
    "spelling, canonical, module",
    [
        ("ReLU", "relu", nn.ReLU),
        ("relu", "relu", nn.ReLU),
        ("Tanh", "tanh", nn.Tanh),
        ("GELU", "gelu", nn.GELU),
        ("ELU", "elu", nn.ELU),
        ("SELU", "selu", nn.SELU),
        ("LeakyReLU", "leaky_relu", nn.LeakyReLU),
        ("leaky_relu", "leaky_relu", nn.LeakyReLU),
        ("leakyrelu", "leaky_relu", nn.LeakyReLU),
        ("LEAKY_RELU", "leaky_relu", nn.LeakyReLU),
    ],
)
def test_activation_spellings_build_the_right_module(spelling, canonical, module):
    model = MLPClassifier(input_size=12, hidden_sizes=[6, 4], activation=spelling)
    assert model.config.activation == canonical
    activations = [layer for layer in model.layers if type(layer) in (nn.ReLU, nn.Tanh, nn.GELU, nn.ELU,
                                                                      nn.LeakyReLU, nn.SELU)]
    assert [type(layer) for layer in activations] == [module, module]
    assert model_config("mlp", 7, activation=spelling).activation == canonical


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ConfigError) as info:
        MLPClassifier(input_size=12, activation="swish")
    message = str(info.value)
    assert "'swish'" in message
    assert "relu, tanh, gelu, elu, leaky_relu, selu" in message


def test_rnn_nonlinearity_follows_the_same_spelling_rule():
    assert model_config("rnn", 7, nonlinearity="Tanh").nonlinearity == "tanh"
    model = create_model("rnn", 3, 32, hidden_sizes=[8], nonlinearity="ReLU")
    assert model.recurrent_layers[0].nonlinearity == "relu"
