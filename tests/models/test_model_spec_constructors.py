"""The SPEC's keyword constructors, all derived from their config classes by SpecConstructor."""

from __future__ import annotations

import dataclasses
import re

import pytest

from seismag.errors import ConfigError
from seismag.models import (
    GRUClassifier,
    LSTMClassifier,
    MLPClassifier,
    RNNClassifier,
    TransformerClassifier,
    get_model_entry,
    list_models,
)
from seismag.models.base import SpecConstructor

SPEC_CLASSES = [GRUClassifier, LSTMClassifier, RNNClassifier, MLPClassifier, TransformerClassifier]
SMALL = {"hidden_sizes": [6, 4], "d_model": 8, "nhead": 2, "dim_feedforward": 16}


def _small(cls) -> dict:
    fields = cls.config_cls.field_names()
    return {"input_size": 12, **{key: value for key, value in SMALL.items() if key in fields}}


def test_the_spec_classes_are_the_registered_ones():
    spec_names = {"gru", "lstm", "rnn", "mlp", "transformer"}
    by_name = {name: get_model_entry(name).builder.__self__ for name in list_models()}
    assert {name for name, cls in by_name.items() if issubclass(cls, SpecConstructor)} == spec_names
    assert [by_name[name] for name in ("gru", "lstm", "rnn", "mlp", "transformer")] == SPEC_CLASSES


@pytest.mark.parametrize("cls", SPEC_CLASSES, ids=lambda cls: cls.__name__)
def test_defaults_are_the_config_defaults(cls):
    model = cls(**_small(cls))
    assert model.config == cls.config_cls.from_dict(_small(cls))
    assert type(cls.from_config(model.config).config) is cls.config_cls


@pytest.mark.parametrize("cls", SPEC_CLASSES, ids=lambda cls: cls.__name__)
def test_positional_arguments_fill_the_fields_in_order(cls):
    options = _small(cls)
    names = cls.config_cls.field_names()
    positional = [options.get(name, field.default)
                  for name, field in zip(names, dataclasses.fields(cls.config_cls))][:3]
    assert cls(*positional).config == cls(**dict(zip(names, positional))).config
    with pytest.raises(TypeError, match="multiple values for argument 'input_size'"):
        cls(12, input_size=12)
    with pytest.raises(TypeError, match="positional arguments"):
        cls(*range(len(names) + 1))


@pytest.mark.parametrize("cls", SPEC_CLASSES, ids=lambda cls: cls.__name__)
def test_unknown_options_are_refused(cls):
    with pytest.raises(ConfigError, match="'colour'"):
        cls(**_small(cls), colour="red")


def test_input_size_defaults_only_where_it_does_not_depend_on_the_window():
    assert TransformerClassifier.default_input_size == GRUClassifier.default_input_size == 1440
    with pytest.raises(ConfigError, match="input_size"):
        MLPClassifier(hidden_sizes=[4])


@pytest.mark.parametrize("cls", SPEC_CLASSES, ids=lambda cls: cls.__name__)
def test_every_option_is_documented(cls):
    # The class docstring or its config class's (or a base config's) names every option.
    text = " ".join(klass.__doc__ or "" for klass in (cls, *cls.config_cls.__mro__))
    undocumented = [name for name in cls.config_cls.field_names() if not re.search(rf"\b{name}\b", text)]
    assert not undocumented
