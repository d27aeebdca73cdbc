"""The registry decides about models: each entry's declared policy, and what the rest of the
package reads from it instead of a model's name, class or layout string."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from seismag.config import make_config
from seismag.errors import CheckpointError, ConfigError
from seismag.models import (
    MLPNetwork,
    ModelConfig,
    RecurrentNetwork,
    build_model,
    get_model_entry,
    list_models,
    load_model_checkpoint,
    model_name_of_class,
    reference_models,
    register_model,
)
from seismag.models.aeon_rocket import AEON_AVAILABLE
from seismag.models.registry import SCALINGS, SCHEDULERS


@pytest.mark.parametrize("name", list_models())
def test_every_entry_declares_a_policy_its_class_honours(name):
    entry = get_model_entry(name)
    assert entry.scheduler in SCHEDULERS and entry.scaling in SCALINGS
    cls = entry.model_class
    assert hasattr(cls, "fit_unsupervised") == entry.fitted_transform
    assert hasattr(cls, "set_recurrent_impl") == entry.recurrent
    assert hasattr(cls, "fit_head") == entry.fitted_head
    assert entry.per_window_table == (entry.input_layout == "table")


def test_the_declared_policies():
    table = {name: (get_model_entry(name).scheduler, get_model_entry(name).fitted_transform,
                    get_model_entry(name).recurrent, get_model_entry(name).scaling) for name in list_models()}
    assert table == {
        "gru": ("plateau", False, True, "series"), "lstm": ("plateau", False, True, "series"),
        "rnn": ("plateau", False, True, "series"), "mlp": ("plateau", False, False, "series"),
        "transformer": ("cosine", False, False, "series"), "features": ("plateau", True, False, "series"),
        "minirocket": ("plateau", True, False, "series"), "activity": ("plateau", True, False, "columns"),
        "inception": ("plateau", False, False, "series"), "resnet": ("plateau", False, False, "series"),
        "features_gbm": ("plateau", True, False, "series"),
        **({"quant": ("plateau", True, False, "series"), "multirocket_hydra": ("plateau", True, False, "series")}
           if AEON_AVAILABLE else {}),
    }
    # Heads fitted at once: the boosted one (with its importances) and the aeon models' paper heads.
    assert {name for name in list_models() if get_model_entry(name).fitted_head} == (
        {"features_gbm"} | ({"quant", "multirocket_hydra"} if AEON_AVAILABLE else set()))
    assert [name for name in list_models() if get_model_entry(name).importances] == ["features_gbm"]
    assert reference_models() == ["activity"]


def test_scaling_for_keeps_every_request_but_sample_of_a_table():
    series, columns = get_model_entry("mlp"), get_model_entry("activity")
    assert [series.scaling_for(s) for s in ("standard", "sample", "none")] == ["standard", "sample", "none"]
    assert [columns.scaling_for(s) for s in ("standard", "sample", "none")] == ["standard", "standard", "none"]


def test_the_run_config_takes_its_auto_schedule_from_the_entry():
    config = make_config("quick")
    assert config.scheduler == "auto"
    assert {name: config.scheduler_for(name) for name in list_models()} == {
        name: get_model_entry(name).scheduler for name in list_models()}
    assert make_config("quick", scheduler="none").scheduler_for("transformer") == "none"


def test_a_declared_capability_the_class_lacks_is_refused():
    class Config(ModelConfig):
        model_name = "policy_test_model"

    class Plain(nn.Module):
        config_cls = Config

    with pytest.raises(TypeError, match="fit_unsupervised"):
        register_model("policy_test_model", display_name="X", input_layout="flat", config_cls=Config,
                       fitted_transform=True)(Plain)
    with pytest.raises(ValueError, match="scheduler"):
        register_model("policy_test_model", display_name="X", input_layout="flat", config_cls=Config,
                       scheduler="step")
    assert "policy_test_model" not in list_models()


def test_one_network_class_per_model_and_the_name_of_a_class():
    assert {get_model_entry(name).model_class for name in ("gru", "lstm", "rnn")} == {RecurrentNetwork}
    assert model_name_of_class(MLPNetwork) == "mlp"
    assert model_name_of_class(RecurrentNetwork) is None  # it builds three models
    assert model_name_of_class(nn.Linear) is None


def test_a_checkpoint_loads_as_the_registered_class_or_a_subclass_for_its_model(make_model, tmp_path):
    path = make_model("gru").save_checkpoint(tmp_path / "gru.pth")
    model, _ = load_model_checkpoint(path)
    assert type(model) is RecurrentNetwork and model.model_name == "gru"
    with pytest.raises(CheckpointError, match="'gru' model \\(RecurrentNetwork\\).*MLPNetwork.load_checkpoint"):
        load_model_checkpoint(path, model_class=MLPNetwork)
    with pytest.raises(ConfigError, match="does not build the 'gru' model"):
        build_model("gru", model.config, MLPNetwork)
    torch.manual_seed(0)
    assert type(build_model("gru", model.config, RecurrentNetwork)) is RecurrentNetwork
