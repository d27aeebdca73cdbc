"""Checks every registered model must pass (a new model is tested by registering it)."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from seismag.config import make_config
from seismag.errors import ConfigError
from seismag.models import create_model, get_model_entry, list_models, model_config, to_model_input
from seismag.models.aeon_rocket import AEON_AVAILABLE
from seismag.spec.classifiers import GRUClassifier

WINDOW_DAYS, STEPS_PER_DAY = 3, 32
ALL_MODELS = list_models()
#: Models trained by gradient steps: every one but a head fitted at once (registry ``fitted_head``),
#: whose own checks (fit, stages, determinism, checkpoint) are in test_model_features_gbm.py.
GRADIENT_TRAINED = [name for name in ALL_MODELS if not get_model_entry(name).fitted_head]


def test_registry_order_and_entries():
    optional = ["quant", "multirocket_hydra"] if AEON_AVAILABLE else []  # registered where aeon is installed
    assert list_models() == ["gru", "lstm", "rnn", "mlp", "transformer", "features", "minirocket", "activity",
                             "inception", "resnet", "features_gbm"] + optional
    display = {name: get_model_entry(name).display_name for name in list_models()}
    assert display == {"gru": "GRU", "lstm": "LSTM", "rnn": "RNN", "mlp": "MLP", "transformer": "Transformer",
                       "features": "Features", "minirocket": "MiniRocket", "activity": "Activity",
                       "inception": "Inception", "resnet": "ResNet", "features_gbm": "FeaturesGBM",
                       **({"quant": "QUANT", "multirocket_hydra": "MultiRocketHydra"} if AEON_AVAILABLE else {})}
    layouts = {name: get_model_entry(name).input_layout for name in list_models()}
    assert layouts == {
        "gru": "sequence", "lstm": "sequence", "rnn": "sequence", "mlp": "flat", "transformer": "sequence",
        "features": "sequence", "minirocket": "flat", "activity": "table", "inception": "sequence",
        "resnet": "sequence", "features_gbm": "sequence", **({"quant": "flat", "multirocket_hydra": "flat"} if AEON_AVAILABLE else {}),
    }
    assert not {"inception", "resnet", "features_gbm", "quant", "multirocket_hydra"} & set(list_models(default_run=True))
    assert "activity" not in list_models(default_run=True)  # joins the default run when the data carry activity
    assert get_model_entry("GRU").name == "gru"


def test_unknown_model_lists_valid_names():
    with pytest.raises(ConfigError, match="unknown model 'cnn'.*gru, lstm, rnn, mlp, transformer"):
        get_model_entry("cnn")
    with pytest.raises(ConfigError):
        create_model("cnn", 7)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_output_shape_dtype_and_finite(name, make_model, flat_batch):
    model = make_model(name)
    x = to_model_input(model, flat_batch, WINDOW_DAYS, STEPS_PER_DAY)
    for mode in (True, False):
        model.train(mode)
        logits = model(x)
        assert logits.shape == (flat_batch.shape[0], 2)
        assert logits.dtype == torch.float32
        assert torch.isfinite(logits).all()


@pytest.mark.parametrize("name", GRADIENT_TRAINED)
def test_every_parameter_gets_a_gradient(name, make_model, flat_batch):
    model = make_model(name).train()
    labels = torch.tensor([0, 1] * (flat_batch.shape[0] // 2))
    loss = nn.functional.cross_entropy(model(to_model_input(model, flat_batch, WINDOW_DAYS, STEPS_PER_DAY)), labels)
    loss.backward()
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad is not None, parameter_name
        assert torch.isfinite(parameter.grad).all(), parameter_name
        assert parameter.grad.abs().sum() > 0, f"{parameter_name} got an all-zero gradient"


WITH_DROPOUT = [n for n in ALL_MODELS if model_config(n, WINDOW_DAYS, STEPS_PER_DAY).to_dict().get("dropout_prob", 0)]


def test_only_the_plain_logistic_regression_and_the_papers_without_dropout_have_none():
    # InceptionTime and the FCN ResNet have no dropout in their papers (batch norm only).
    # Nor have the heads fitted at once (boosted trees; the aeon models' ridge and extra trees).
    fitted = {"features_gbm"} | ({"quant", "multirocket_hydra"} if AEON_AVAILABLE else set())
    assert set(ALL_MODELS) - set(WITH_DROPOUT) == {"activity", "inception", "resnet"} | fitted


@pytest.mark.parametrize("name", WITH_DROPOUT)
def test_eval_is_deterministic_and_train_uses_dropout(name, make_model, flat_batch):
    model = make_model(name)
    x = to_model_input(model, flat_batch, WINDOW_DAYS, STEPS_PER_DAY)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))
    model.train()
    with torch.no_grad():
        assert not torch.allclose(model(x), model(x)), "dropout should make two training passes differ"


@pytest.mark.parametrize("name", GRADIENT_TRAINED)
def test_construction_is_deterministic_given_seed(name, make_model):
    first, second, other = make_model(name, seed=7), make_model(name, seed=7), make_model(name, seed=8)
    for (key, a), b, c in zip(first.state_dict().items(), second.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b), key
    pairs = zip(first.state_dict().values(), other.state_dict().values())
    assert any(not torch.equal(a, c) for a, c in pairs if a.is_floating_point())


@pytest.mark.parametrize("name", ALL_MODELS)
def test_model_attributes(name, make_model):
    model = make_model(name)
    entry = get_model_entry(name)
    assert model.model_name == name
    assert isinstance(model.config, entry.config_cls)
    assert model.input_layout == entry.input_layout
    assert model.config == model_config(name, WINDOW_DAYS, STEPS_PER_DAY, **_overrides_of(model))
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.config.output_size = 3


def _overrides_of(model):
    return {k: v for k, v in model.config.to_dict().items() if k != "input_size"}


@pytest.mark.parametrize("name", ALL_MODELS)
@pytest.mark.parametrize("window_days, steps_per_day", [(8, 64), (1, 5), (30, 3)])
def test_any_window_and_steps_per_day(name, make_model, window_days, steps_per_day):
    model = make_model(name, window_days=window_days, steps_per_day=steps_per_day).eval()
    width = get_model_entry(name).input_width(window_days, steps_per_day)
    x_flat = torch.randn(3, width)
    x = to_model_input(model, x_flat, window_days, steps_per_day)
    expected = (3, window_days, steps_per_day) if model.input_layout == "sequence" else (3, width)
    assert tuple(x.shape) == expected
    assert model(x).shape == (3, 2)


@pytest.mark.parametrize("name", [n for n in ALL_MODELS if get_model_entry(n).input_layout == "sequence"])
def test_sequence_models_take_any_number_of_days(name, make_model):
    model = make_model(name).eval()  # built for a 3-day window
    for days in (1, 3, 40):
        assert model(torch.randn(2, days, STEPS_PER_DAY)).shape == (2, 2)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_to_model_input_is_a_view(name, make_model, flat_batch):
    model = make_model(name)
    x = to_model_input(model, flat_batch, WINDOW_DAYS, STEPS_PER_DAY)
    assert x.data_ptr() == flat_batch.data_ptr()
    assert to_model_input(name, flat_batch, WINDOW_DAYS, STEPS_PER_DAY).shape == x.shape
    assert to_model_input(nn.DataParallel(model), flat_batch, WINDOW_DAYS, STEPS_PER_DAY).shape == x.shape
    with pytest.raises(ConfigError, match=rf"\(batch, {flat_batch.shape[1]}\)"):
        to_model_input(model, flat_batch[:, :-1], WINDOW_DAYS, STEPS_PER_DAY)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_wrong_input_shape_is_a_clear_error(name, make_model):
    model = make_model(name)
    with pytest.raises(ConfigError, match=name):
        model(torch.randn(2, WINDOW_DAYS, STEPS_PER_DAY + 1))


@pytest.mark.parametrize("name", ALL_MODELS)
def test_unknown_override_names_the_key_and_valid_keys(name):
    with pytest.raises(ConfigError) as info:
        create_model(name, WINDOW_DAYS, STEPS_PER_DAY, hiden_size=3)
    message = str(info.value)
    assert "'hiden_size'" in message
    assert "output_size" in message  # valid keys are listed


@pytest.mark.parametrize("name", ALL_MODELS)
@pytest.mark.parametrize("bad", [{"dropout_prob": 1.5}, {"output_size": 0}, {"input_size": 999}])
def test_bad_values_are_rejected(name, bad):
    with pytest.raises(ConfigError):
        model_config(name, WINDOW_DAYS, STEPS_PER_DAY, **bad)


@pytest.mark.parametrize("bad", [{"window_days": 0}, {"steps_per_day": -1}, {"window_days": 2.5}])
def test_bad_window_is_rejected(bad):
    arguments = {"window_days": 7, "steps_per_day": 1440, **bad}
    with pytest.raises(ConfigError):
        model_config("gru", **arguments)


def test_model_specific_options():
    with pytest.raises(ConfigError, match="'nonlinearity'"):
        model_config("gru", 7, nonlinearity="relu")  # only the vanilla RNN has one
    with pytest.raises(ConfigError, match="'nonlinearity'"):
        GRUClassifier(input_size=1440, nonlinearity="relu")
    assert model_config("rnn", 7, nonlinearity="ReLU").nonlinearity == "relu"
    with pytest.raises(ConfigError, match="tanh, relu"):
        model_config("rnn", 7, nonlinearity="sigmoid")
    for activation in ("relu", "tanh", "gelu", "elu", "leaky_relu", "selu"):
        assert model_config("mlp", 7, activation=activation).activation == activation
    with pytest.raises(ConfigError, match="activation"):
        model_config("mlp", 7, activation="swish")
    with pytest.raises(ConfigError, match="multiple of nhead"):
        model_config("transformer", 7, d_model=30, nhead=8)
    with pytest.raises(ConfigError, match="hidden_sizes"):
        model_config("lstm", 7, hidden_sizes=[])


def test_config_round_trips_through_plain_dict():
    config = model_config("gru", 14, hidden_sizes=[32, 16], bidirectional=True)
    plain = config.to_dict()
    assert plain["hidden_sizes"] == [32, 16] and plain["input_size"] == 1440
    assert type(config).from_dict(plain) == config
    assert config.replace(dropout_prob=0.5).dropout_prob == 0.5
    with pytest.raises(ConfigError, match="'typo'"):
        config.replace(typo=1)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_get_model_info(name, make_model):
    model = make_model(name)
    info = model.get_model_info()
    total = sum(p.numel() for p in model.parameters())
    assert info["model_name"] == name
    assert info["total_params"] == info["trainable_params"] == total
    assert sum(layer["params"] for layer in info["layers"]) == total
    assert info["config"] == model.config.to_dict()
    assert isinstance(info["architecture"], str) and info["architecture"]
    if not total:
        assert get_model_entry(name).fitted_head  # only a head fitted at once has no parameter
        return
    next(model.parameters()).requires_grad_(False)
    frozen = next(model.parameters()).numel()
    assert model.get_model_info()["trainable_params"] == total - frozen


@pytest.mark.parametrize("name", ALL_MODELS)
def test_monitor_batch_norm_stats(name, make_model, flat_batch):
    model = make_model(name)
    norms = [n for n, m in model.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    before = model.monitor_batch_norm_stats()
    assert sorted(before) == sorted(norms)
    model.train()(to_model_input(model, flat_batch, WINDOW_DAYS, STEPS_PER_DAY))
    after = model.monitor_batch_norm_stats()
    for layer in norms:
        assert before[layer]["running_var"] == {"mean": 1.0, "std": 0.0, "min": 1.0, "max": 1.0}
        assert after[layer]["num_batches_tracked"] == 1
        stats = after[layer]["running_mean"]
        assert set(stats) == {"mean", "std", "min", "max"}
        assert stats["min"] <= stats["mean"] <= stats["max"]
        assert all(isinstance(v, float) for v in stats.values())
        assert after[layer]["running_mean"] != before[layer]["running_mean"]


def test_paper_models_use_batch_norm_where_the_spec_says():
    for name in ("gru", "lstm", "rnn", "mlp"):
        with torch.device("meta"):
            model = create_model(name, 7)
        assert sum(isinstance(m, nn.BatchNorm1d) for m in model.modules()) == 2
    with torch.device("meta"):
        assert create_model("transformer", 7).monitor_batch_norm_stats() == {}


def test_recurrent_initialisation():
    torch.manual_seed(0)
    model = create_model("lstm", 2, 8, hidden_sizes=[6])
    layer = model.recurrent_layers[0]
    # orthogonal rows: W W^T = I for the (4h x h) recurrent matrix's transpose
    w_hh = layer.weight_hh_l0
    assert torch.allclose(w_hh.T @ w_hh, torch.eye(6), atol=1e-5)
    assert torch.count_nonzero(layer.bias_ih_l0) == 0 and torch.count_nonzero(layer.bias_hh_l0) == 0
    bound = (6 / (8 + 24)) ** 0.5  # Xavier-uniform bound for a (24 x 8) matrix
    assert layer.weight_ih_l0.abs().max() <= bound


def test_transformer_layers_start_from_different_weights():
    torch.manual_seed(0)
    model = create_model("transformer", 3, 8, d_model=8, nhead=2, dim_feedforward=16)
    first, second = model.encoder_layers
    assert not torch.equal(first.linear1.weight, second.linear1.weight)


@pytest.mark.skipif(AEON_AVAILABLE, reason="aeon is installed: the models are registered")
@pytest.mark.parametrize("name", ["quant", "multirocket_hydra", "QUANT"])
def test_aeon_models_without_aeon_say_what_to_install(name):
    with pytest.raises(ConfigError, match=r'^model .* is not available here: .* needs the optional package aeon: '
                                          r'pip install "seismag\[aeon\]"$'):
        create_model(name, 1, 24)
    with pytest.raises(ConfigError, match=r'^model .* is not available here: .*pip install "seismag\[aeon\]"$'):
        make_config("quick", models=["mlp", name])  # the run config refuses it before anything is written
