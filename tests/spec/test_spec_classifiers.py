"""The SPEC's keyword constructors, all derived from their config classes by SpecConstructor."""

from __future__ import annotations

import dataclasses
import re

import pytest
import torch

from seismag.errors import ConfigError
from seismag.models import get_model_entry, list_models, model_name_of_class
from seismag.spec.classifiers import (
    GRUClassifier,
    LSTMClassifier,
    MLPClassifier,
    RNNClassifier,
    SpecConstructor,
    TransformerClassifier,
)

SPEC_CLASSES = [GRUClassifier, LSTMClassifier, RNNClassifier, MLPClassifier, TransformerClassifier]
SMALL = {"hidden_sizes": [6, 4], "d_model": 8, "nhead": 2, "dim_feedforward": 16}


def _small(cls) -> dict:
    fields = cls.config_cls.field_names()
    return {"input_size": 12, **{key: value for key, value in SMALL.items() if key in fields}}


def test_the_spec_classes_are_the_registered_networks_with_keyword_constructors():
    # The registry builds the networks themselves; each SPEC class is its model's network
    # with a keyword constructor, and names that model.
    names = ("gru", "lstm", "rnn", "mlp", "transformer")
    for name, cls in zip(names, SPEC_CLASSES):
        entry = get_model_entry(name)
        assert issubclass(cls, SpecConstructor) and issubclass(cls, entry.model_class)
        assert not issubclass(entry.model_class, SpecConstructor)
        assert model_name_of_class(cls) == name and cls.config_cls is entry.config_cls
    assert not any(issubclass(get_model_entry(name).model_class, SpecConstructor) for name in list_models())


@pytest.mark.parametrize("cls", SPEC_CLASSES, ids=lambda cls: cls.__name__)
def test_a_spec_class_starts_from_the_weights_the_registry_builds(cls):
    options = _small(cls)
    torch.manual_seed(0)
    spec = cls(**options)
    torch.manual_seed(0)
    network = get_model_entry(cls.config_cls.model_name).builder(cls.config_cls.from_dict(options))
    assert spec.config == network.config
    assert list(spec.state_dict()) == list(network.state_dict())
    assert all(torch.equal(value, network.state_dict()[key]) for key, value in spec.state_dict().items())


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
