import dataclasses
import json
import re
from pathlib import Path

import numpy as np
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
        "transformer": {"d_model": 32, "nhead": 4, "dim_feedforward": 64, "num_encoder_layers": 1},
        "inception": {"num_filters": 8, "bottleneck_size": 8, "depth": 3}, "resnet": {"num_filters": 8}}
    assert tiny_models() == {
        "*": {"hidden_sizes": [16, 8]},
        "transformer": {"d_model": 16, "nhead": 2, "dim_feedforward": 32, "num_encoder_layers": 1},
        "inception": {"num_filters": 4, "bottleneck_size": 4, "depth": 3}, "resnet": {"num_filters": 4}}
    assert small_models([8, 4], d_model=8, nhead=2)["transformer"]["dim_feedforward"] == 16
    first = tiny_models()
    first["*"]["hidden_sizes"].append(1)  # every call is a new dict: a caller's change stays its own
    assert tiny_models()["*"]["hidden_sizes"] == [16, 8]


# A bad value of every kind: field, its TOML text, the same value from Python, the
# CLI flag's text (None: no flag form), and what the one-line message says.
BAD_VALUES = [
    ("balanced_sampling", '"no"', "no", None, "balanced_sampling must be true or false, got 'no'"),
    ("early_stopping", '"false"', "false", None, "early_stopping must be true or false, got 'false'"),
    ("early_stopping", "1", 1, None, "early_stopping must be true or false, got 1"),
    ("tf32", "0", 0, None, "tf32 must be true or false, got 0"),
    ("epochs", '"ten"', "ten", "ten", "epochs must be an integer, got 'ten'"),
    ("epochs", "2.7", 2.7, "2.7", "epochs must be an integer, got 2.7"),
    ("epochs", "true", True, None, "epochs must be an integer, got True"),
    ("num_folds", "1", 1, "1", "num_folds must be at least 2, got 1"),
    ("batch_size", "1", 1, "1", "batch_size must be at least 2 (BatchNorm needs two samples), got 1"),
    ("windows", '"7"', "7", None, "windows must be a list of day counts, e.g. windows = [7, 14], got '7'"),
    ("windows", "7", 7, None, "windows must be a list of day counts, e.g. windows = [7, 14], got 7"),
    ("windows", '["7"]', ["7"], "7,x", "windows must be a list of day counts, e.g. windows = [7, 14], got ["),
    ("windows", "[7, 0]", [7, 0], "7,0", "windows: every item must be at least 1, got [7, 0]"),
    ("models", '"mlp"', "mlp", None, 'models must be a list of model names, e.g. models = ["mlp"], got \'mlp\''),
    ("models", "[]", [], None, "models must not be empty"),
    ("models", '["cnn"]', ["cnn"], "cnn", "models: unknown value 'cnn'; choose from gru"),
    ("seed", "-1", -1, "-1", "seed must be in [0, 4294967295]"),
    ("seed", str(2**32), 2**32, str(2**32), "seed must be in [0, 4294967295]"),
    ("embargo_days", "-5", -5, "-5", "embargo_days must be at least 0, got -5"),
    ("learning_rate", '"1e-3"', "1e-3", "abc", "learning_rate must be a number, got '"),
    ("learning_rate", "inf", float("inf"), "inf", "learning_rate must be a finite number, got inf"),
    ("learning_rate", "0", 0, "0", "learning_rate must be positive, got 0"),
    ("weight_decay", "-0.1", -0.1, "-0.1", "weight_decay must be at least 0, got -0.1"),
    ("focal_gamma", "true", True, None, "focal_gamma must be a number, got True"),
    ("plateau_factor", "1.0", 1.0, None, "plateau_factor must be in (0, 1), got 1.0"),
    ("inner_fraction", "0.9", 0.9, "0.9", "inner_fraction must be in [0.05, 0.5], got 0.9"),
    ("max_missing", "1.5", 1.5, "1.5", "max_missing must be in [0, 1], got 1.5"),
    ("permutation_control", "-1", -1, "-1", "permutation_control must be at least 0"),
    ("num_threads", "-1", -1, "-1", "num_threads must be at least 0"),
    ("fold_workers", "0", 0, "0", "fold_workers must be at least 1, got 0"),
    ("device", "3", 3, None, "device must be a string, got 3"),
    ("split", '"random"', "random", "random", "split: unknown value 'random'"),
    ("model_overrides", "3", 3, None, "model_overrides must map model names"),
]


@pytest.mark.parametrize("name, toml_text, value, flag_text, message", BAD_VALUES)
def test_a_bad_toml_value_is_one_line_naming_the_file_and_key(tmp_path, name, toml_text, value, flag_text,
                                                               message):
    path = tmp_path / "bad.toml"
    path.write_text(f"{name} = {toml_text}\n")
    with pytest.raises(ConfigError) as info:
        make_config("paper", path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text and len(text.splitlines()) == 1, text


@pytest.mark.parametrize("name, toml_text, value, flag_text, message", BAD_VALUES)
def test_a_bad_python_value_is_one_line_naming_the_key(name, toml_text, value, flag_text, message):
    with pytest.raises(ConfigError) as info:
        make_config("paper", **{name: value})
    text = str(info.value)
    assert text.startswith(name) and message in text and len(text.splitlines()) == 1, text
    if name != "model_overrides":  # RunConfig itself refuses it too (make_config adds nothing)
        with pytest.raises(ConfigError, match=re.escape(message)):
            RunConfig(**{name: value})


def test_bad_model_tables_are_refused(tmp_path):
    for value, message in [({"gru": 3}, "model_overrides must map model names"),
                           ({"cnn": {}}, "model overrides for unknown model 'cnn'")]:
        with pytest.raises(ConfigError, match=message):
            make_config("paper", model_overrides=value)
    path = tmp_path / "both.toml"
    path.write_text("model_overrides = {gru = {dropout_prob = 0.1}}\n[model]\ndropout_prob = 0.2\n")
    with pytest.raises(ConfigError, match="model_overrides and \\[model\\] both given"):
        make_config("paper", path)
    path.write_text("preset = 3\n")
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: preset must be a string"):
        make_config("paper", path)


def test_every_numeric_field_has_a_range():
    numeric = {name for name, kind in config_module.FIELD_TYPES.items() if kind in (int, float, tuple[int, ...])}
    assert numeric == set(config_module.RANGES)


def test_valid_values_are_stored_as_plain_python():
    c = make_config("paper", models=["gru"], windows=[np.int64(7), 14], epochs=np.int32(3),
                    learning_rate=np.float32(0.5), weight_decay=0, embargo_days=2, seed=0)
    assert c.models == ("gru",) and c.windows == (7, 14) and type(c.windows[0]) is int
    assert type(c.epochs) is int and c.epochs == 3
    assert type(c.learning_rate) is float and c.weight_decay == 0.0 and type(c.embargo_days) is float
    assert json.loads(json.dumps(c.to_dict()))["windows"] == [7, 14]
    assert RunConfig(models=["mlp"], windows=[7]).models == ("mlp",)  # lists from Python become tuples
    assert make_config("paper", seed=2**32 - 1).seed == 2**32 - 1


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_loads_and_round_trips(tmp_path, preset):
    c = make_config(preset)
    for spec in dataclasses.fields(RunConfig):  # what a run writes is a config that loads again
        assert config_module.check_setting(spec.name, getattr(c, spec.name)) == getattr(c, spec.name)
    values = {k: v for k, v in c.to_dict().items() if v != {}}
    assert make_config("paper", write_config_toml(tmp_path / "c.toml", values)) == c


def test_the_readme_config_loads(tmp_path):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    path = tmp_path / "readme.toml"
    path.write_text(re.search(r"```toml\n(.*?)```", readme, flags=re.DOTALL).group(1))
    c = make_config("paper", path)
    assert c.models == ("gru", "lstm") and c.windows == (7, 14) and c.balanced_sampling is True
