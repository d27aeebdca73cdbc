"""SPEC Module 4: the networks, their registry, checkpoints and the F1-weighted ensemble.

>>> from seismag.models import create_model, list_models
>>> list_models()
['gru', 'lstm', 'rnn', 'mlp', 'transformer', 'features', 'minirocket', 'activity', 'inception', 'resnet', 'features_gbm']
>>> model = create_model("gru", window_days=7)   # paper preset, input (batch, 7, 1440)

Importing this package registers the models, in the order of :func:`list_models`.

What lives where, each module importing only modules listed above it:

``config``
    :class:`ModelConfig`, the frozen base of every model config,
    :class:`HiddenLayersConfig` (the MLP's and the recurrent networks' shared
    options) and the field validators (``check_positive_int``, ``check_choice``,
    ...). A leaf: it imports no other module of this package, and not torch.
``registry``
    Name -> config class, builder and policy (input layout, default schedule,
    scaling, fitted transform, fitted head, recurrent implementation): ``register_model``,
    ``create_model``, ``build_model``, ``to_model_input``. Imports ``config``.
``checkpoint``
    Weights-only checkpoint files: ``save_model_checkpoint``,
    ``load_model_checkpoint``, the format header. Imports ``registry``.
``base``
    :class:`ModelMixin` (``get_model_info``, ``save_checkpoint``,
    ``load_checkpoint``...). Imports ``config``, ``registry``, ``checkpoint``.
``recurrent``, ``mlp``, ``transformer``
    The networks, one class each (one for the three recurrent cells), each
    registered by its decorator. Import ``config``, ``base``, ``registry``.
``fixed_transform``, ``features``, ``minirocket``, ``activity``
    The fixed-transform classifier and the baselines built on it: the per-day
    features, MiniRocket, and the geomagnetic-activity reference.
``series_conv``, ``inception``, ``resnet``
    The convolutional series classifiers of time-series classification
    (InceptionTime, the FCN ResNet): opt-in, on the full-resolution window.
``trees``, ``features_gbm``
    Gradient-boosted trees held as tensors (fitted by scikit-learn, saved as weights) and
    the per-day features with that boosted head: opt-in.
``aeon_rocket``
    MultiRocket+Hydra and QUANT through the optional aeon package (registered
    only where aeon is installed; elsewhere naming them says what to install).
``ensemble``, ``summary``
    The F1-weighted ensemble and the model table.

The SPEC's classifier classes (``GRUClassifier``, ``MLPClassifier``, ...: these
networks with keyword constructors) live in :mod:`seismag.spec.classifiers`, its
reshape helpers in :mod:`seismag.spec.aliases`.

Outside this package the modules import only ``seismag`` (its version),
``seismag.errors`` and ``seismag.io``: models come before training, inference
and plots in the flow of data and never import them. No submodule imports this
``__init__`` (which imports them all); ``tests/models/test_model_imports.py``
checks these rules and that the imports have no cycle.

May import: seismag (its version), seismag.errors, seismag.io.
"""

from seismag.models.registry import (
    ModelEntry,
    build_model,
    create_model,
    get_model_entry,
    list_models,
    model_config,
    model_name_of_class,
    module_device,
    reference_models,
    register_model,
    to_model_input,
    unwrap_model,
)
from seismag.models.config import HiddenLayersConfig, ModelConfig
from seismag.models.base import ModelMixin

# Import order is registration order: gru, lstm, rnn, mlp, transformer, then the
# baselines features and minirocket, then the activity reference.
from seismag.models.recurrent import GRUConfig, LSTMConfig, RecurrentConfig, RecurrentNetwork, RNNConfig
from seismag.models.mlp import MLPConfig, MLPNetwork
from seismag.models.transformer import TransformerConfig, TransformerNetwork, sinusoidal_encoding
from seismag.models.fixed_transform import FixedTransformClassifier
from seismag.models.features import FeaturesClassifier, FeaturesConfig
from seismag.models.minirocket import MiniRocketClassifier, MiniRocketConfig
from seismag.models.activity import ActivityClassifier, ActivityConfig
from seismag.models.inception import InceptionConfig, InceptionNetwork
from seismag.models.resnet import ResNetConfig, ResNetNetwork
from seismag.models.features_gbm import FeaturesGBMClassifier, FeaturesGBMConfig
from seismag.models.aeon_rocket import MultiRocketHydraClassifier, MultiRocketHydraConfig, QuantClassifier, QuantConfig
from seismag.models.checkpoint import load_model_checkpoint, save_model_checkpoint
from seismag.models.ensemble import STRATEGIES, EnsembleScores, F1WeightedEnsemble
from seismag.models.summary import format_model_table

__all__ = [
    "ModelEntry",
    "unwrap_model",
    "module_device",
    "ModelConfig",
    "HiddenLayersConfig",
    "ModelMixin",
    "register_model",
    "reference_models",
    "list_models",
    "get_model_entry",
    "model_config",
    "model_name_of_class",
    "create_model",
    "build_model",
    "to_model_input",
    "RecurrentConfig",
    "GRUConfig",
    "LSTMConfig",
    "RNNConfig",
    "RecurrentNetwork",
    "MLPConfig",
    "MLPNetwork",
    "TransformerConfig",
    "TransformerNetwork",
    "sinusoidal_encoding",
    "FixedTransformClassifier",
    "FeaturesConfig",
    "FeaturesClassifier",
    "MiniRocketConfig",
    "MiniRocketClassifier",
    "ActivityConfig",
    "ActivityClassifier",
    "InceptionConfig",
    "InceptionNetwork",
    "ResNetConfig",
    "ResNetNetwork",
    "FeaturesGBMConfig",
    "FeaturesGBMClassifier",
    "QuantConfig",
    "QuantClassifier",
    "MultiRocketHydraConfig",
    "MultiRocketHydraClassifier",
    "save_model_checkpoint",
    "load_model_checkpoint",
    "F1WeightedEnsemble",
    "EnsembleScores",
    "STRATEGIES",
    "format_model_table",
]
