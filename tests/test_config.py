import dataclasses
import json

import pytest

from seismag import config as config_module
from seismag.config import (FLAG_GROUPS, MODEL_FLAGS, PRESETS, TRAIN_FLAGS, RunConfig, make_config, quick_models,
                            read_config_file, small_models, tiny_models, write_config_toml)
from seismag.errors import ConfigError


def test_paper_defaults_are_the_spec_protocol():
    c = make_config("paper")
    assert (c.epochs, c.num_folds, c.batch_size, c.learning_rate, c.weight_decay, c.max_grad_norm) == \
        (100, 5, 32, 1e-3, 0.01, 1.0)
    assert c.class_weight_method == "sqrt" and c.seed == 42 and not c.early_stopping
    assert c.scheduler_for("transformer") == "cosine" and c.scheduler_for("gru") == "plateau"


def test_precedence_preset_file_flags(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('preset = "quick"\nepochs = 20\nmodels = ["gru"]\n[model]\ndropout_prob = 0.2\n'
                    '[model.gru]\nhidden_sizes = [8, 4]\n')
    c = make_config("paper", path, epochs=3, batch_size=None)
    assert c.epochs == 3  # flag beats file
    assert c.num_folds == PRESETS["quick"]["num_folds"]  # file's preset
    assert c.models == ("gru",)
    assert c.overrides_for("gru") == {"hidden_sizes": [8, 4], "dropout_prob": 0.2}
    assert c.overrides_for("transformer", fields={"d_model", "dropout_prob"}) == {
        **PRESETS["quick"]["model_overrides"]["transformer"], "dropout_prob": 0.2}


@pytest.mark.parametrize("text, message", [
    ("epoch = 3\n", "unknown key 'epoch'"),
    ("split = 'random'\n", "split: unknown value 'random'"),
    ("num_folds = 1\n", "num_folds must be at least 2"),
    ("[model.cnn]\nx = 1\n", "unknown model 'cnn'"),
    ("epochs = [\n", "not valid TOML"),
])
def test_bad_config_files(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        make_config("paper", path)


def test_unknown_preset_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="unknown preset"):
        make_config("huge")
    with pytest.raises(ConfigError, match="not found"):
        make_config("paper", tmp_path / "nope.toml")


def test_toml_round_trip_and_json(tmp_path):
    values = {"epochs": 7, "models": ["gru", "mlp"], "balanced_sampling": True,
              "model_overrides": {"*": {"dropout_prob": 0.1}, "gru": {"hidden_sizes": [16, 8]}}}
    path = write_config_toml(tmp_path / "c.toml", values)
    assert read_config_file(path) == values
    c = make_config("paper", path)
    assert json.loads(json.dumps(c.to_dict()))["model_overrides"]["gru"] == {"hidden_sizes": [16, 8]}


def test_bare_run_config_defaults_are_the_spec_tables():
    # SPEC Module 5 "Parameter | Default" table and Module 6 "Common Training Parameters".
    c = RunConfig()
    assert c.num_folds == 5 and c.epochs == 100 and c.batch_size == 32
    assert c.learning_rate == 1e-3 and c.weight_decay == 0.01 and c.max_grad_norm == 1.0
    assert c.seed == 42  # random_state
    # Module 6: "sqrt-scaled weights" on the cross-entropy loss
    assert c.class_weight_method == "sqrt" and c.loss == "cross_entropy"
    # Module 5 schedulers: ReduceLROnPlateau(patience=10, factor=0.1), CosineAnnealingLR for the Transformer
    assert (c.plateau_patience, c.plateau_factor) == (10, 0.1)
    assert c.scheduler_for("transformer") == "cosine" and c.scheduler_for("gru") == "plateau"
    # Module 2 windows 7, 14, 30 days of 1-minute data (input_size 1440)
    assert c.windows == (7, 14, 30) and c.steps_per_day == 1440
    assert c.split == "stratified"  # Module 5: stratified k-fold
    assert not c.early_stopping  # Module 5: "Early Stopping: Via learning rate schedulers"


def test_every_field_says_whether_it_is_a_flag():
    fields = {f.name: f for f in dataclasses.fields(RunConfig)}
    not_flags = {name for name, f in fields.items() if f.metadata["flag"] is None}
    assert set(TRAIN_FLAGS) | not_flags == set(fields) and not set(TRAIN_FLAGS) & not_flags
    assert {"model_overrides", "tf32", "optimizer_impl", "cache_features"} <= not_flags
    for name, flag in TRAIN_FLAGS.items():
        assert flag.dest == name and flag.group in (None, *FLAG_GROUPS)
    for name, flag in MODEL_FLAGS.items():
        assert flag.dest == name and flag.group in FLAG_GROUPS


@pytest.mark.parametrize("name, choices", [
    ("class_weight_method", "CLASS_WEIGHT_METHODS"), ("loss", "LOSSES"), ("scheduler", "SCHEDULERS"),
    ("split", "SPLITS"), ("scaling", "SCALINGS"), ("selection", "SELECTIONS"), ("precision", "PRECISIONS"),
    ("nan_policy", "NAN_POLICIES"),
])
def test_a_choice_flag_lists_the_choices_the_config_checks(name, choices):
    assert TRAIN_FLAGS[name].choices is getattr(config_module, choices)
    for note in TRAIN_FLAGS[name].notes:
        assert note in TRAIN_FLAGS[name].choices
    with pytest.raises(ConfigError, match=f"{name}: unknown value 'bogus'; choose from "
                                          + ", ".join(getattr(config_module, choices))):
        make_config("paper", **{name: "bogus"})


def test_optimizer_impls_are_owned_by_the_config():
    assert config_module.OPTIMIZER_IMPLS == ("auto", "fused", "foreach", "loop")
    with pytest.raises(ConfigError, match="optimizer_impl: unknown value 'x'; choose from auto, fused, foreach, loop"):
        make_config("paper", optimizer_impl="x")


def test_small_model_recipes_keep_their_sizes():
    assert quick_models() == PRESETS["quick"]["model_overrides"] == {
        "*": {"hidden_sizes": [64, 32]},
        "transformer": {"d_model": 32, "nhead": 4, "dim_feedforward": 64, "num_encoder_layers": 1}}
    assert tiny_models() == {
        "*": {"hidden_sizes": [16, 8]},
        "transformer": {"d_model": 16, "nhead": 2, "dim_feedforward": 32, "num_encoder_layers": 1}}
    assert small_models([8, 4], d_model=8, nhead=2)["transformer"]["dim_feedforward"] == 16
    first = tiny_models()
    first["*"]["hidden_sizes"].append(1)  # every call is a new dict: a caller's change stays its own
    assert tiny_models()["*"]["hidden_sizes"] == [16, 8]
