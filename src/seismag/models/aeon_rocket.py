"""The ROCKET family's current best through aeon (optional extra ``seismag[aeon]``):
``multirocket_hydra`` and ``quant``.

- **MultiRocket+Hydra** (Dempster, Schmidt & Webb, "Hydra: competing convolutional
  kernels for fast and accurate time series classification", DMKD 2023; MultiRocket:
  Tan, Dempster, Bergmeir & Webb, DMKD 2022): Hydra's competing random kernels and
  MultiRocket's four pooling operators on the series and its first difference,
  concatenated.
- **QUANT** (Dempster, Schmidt & Webb, "QUANT: a minimalist interval method for time
  series classification", DMKD 2024): quantiles of dyadic intervals of the series, its
  smoothed first difference, its second difference and its Fourier magnitudes.

Both transforms are aeon's (``aeon.transformations.collection``); seismag wraps them
as :class:`~seismag.models.fixed_transform.FixedTransformClassifier` models, so they
train inside the same folds, selection, ensembles, ``scan`` and ``skill`` as every
other model: the transform is fitted once per fold on the training rows
(``fitted_transform=True``), then the papers' own head is fitted at once on the fit rows'
features (``fitted_head=True``): for MultiRocket+Hydra a ridge classifier on the
standardised features, its penalty chosen by leave-one-out among 10 values from 1e-3 to
1e3 (aeon's ``MultiRocketHydraClassifier``); for QUANT extra trees (200 trees, a tenth of
the features tried at each split, entropy; the QUANT paper's). Neither head has stages,
so the fold's selection rows have one candidate and choose nothing; the validation rows
score it as any other model's kept epoch. The fold's class weights are the heads' sample
weights.

Saved form: QUANT has no fitted state (its intervals follow from the series length).
MultiRocket+Hydra's random kernels and MultiRocket's channel choices follow from one
seed, drawn from torch's generator at fit (so each fold's seed gives it its own), and
MultiRocket's biases are fitted on the training rows; the seed and the biases are
buffers, so the checkpoint stays tensors only (``weights_only=True``) and the aeon
objects are rebuilt from them when a loaded model first transforms. The ridge's weights
and QUANT's trees (:class:`~seismag.models.trees.TreeEnsemble`) are buffers too.

Without aeon installed, building either model fails with one line saying what to install.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import types
from typing import Any, ClassVar

import numpy as np
import torch

from seismag.errors import ConfigError
from seismag.models.config import ModelConfig, check_flat_channels, check_positive_float, check_positive_int
from seismag.models.fixed_transform import FixedTransformClassifier
from seismag.models.registry import declare_unavailable_model, register_model
from seismag.models.trees import TreeEnsemble

INSTALL_HINT = 'pip install "seismag[aeon]"'
#: Whether aeon can be imported: without it the models are declared, not registered, so that
#: naming one says what to install and the registry (the CLI's choices, the tests) leaves them out.
AEON_AVAILABLE = importlib.util.find_spec("aeon") is not None
MIN_LENGTH = 10  # MultiRocket's and Hydra's kernels span 9 points, also of the first difference
#: MultiRocket+Hydra's ridge penalties (aeon's MultiRocketHydraClassifier, as Hydra's paper).
RIDGE_ALPHAS = np.logspace(-3, 3, 10)


def import_aeon_transforms(model_name: str) -> Any:
    """aeon's ``HydraTransformer``, ``MultiRocket`` and ``QUANTTransformer`` (as attributes of
    one namespace), or a one-line :class:`ConfigError` naming the extra."""
    try:
        from aeon.transformations.collection import convolution_based, interval_based
    except ImportError:
        raise ConfigError(f"{model_name} needs the optional package aeon: {INSTALL_HINT}") from None
    return types.SimpleNamespace(HydraTransformer=convolution_based.HydraTransformer,
                                 MultiRocket=convolution_based.MultiRocket,
                                 QUANTTransformer=interval_based.QUANTTransformer)


@dataclasses.dataclass(frozen=True)
class AeonTransformConfig(ModelConfig):
    """Options shared by the aeon-backed fixed-transform models.

    Attributes
    ----------
    input_size : int
        Values per window (``days * steps_per_day``, every channel); the model takes the flat window.
    channels : int, default 1
        Channels per day ("day, channel, step" order); the transforms see a multivariate series.
    n_days : int, default 0
        Days per window, set by the registry when ``channels > 1``.
    output_size : int, default 2
        Must be 2: the heads are binary.
    """

    input_size: int
    channels: int = 1
    n_days: int = 0
    output_size: int = 2

    def validate(self) -> None:
        check_positive_int(self, "input_size")
        check_flat_channels(self)
        if self.output_size != 2:
            raise ConfigError(f"{self.model_name}: output_size must be 2 (the head is binary), got {self.output_size}")


@dataclasses.dataclass(frozen=True)
class MultiRocketHydraConfig(AeonTransformConfig):
    """Options of MultiRocket+Hydra (aeon's defaults: Hydra 8 kernels x 64 groups,
    MultiRocket 6,250 kernels)."""

    model_name: ClassVar[str] = "multirocket_hydra"

    hydra_kernels: int = 8
    hydra_groups: int = 64
    multirocket_kernels: int = 6250

    def validate(self) -> None:
        super().validate()
        for name in ("hydra_kernels", "hydra_groups", "multirocket_kernels"):
            check_positive_int(self, name)


@dataclasses.dataclass(frozen=True)
class QuantConfig(AeonTransformConfig):
    """Options of QUANT (the paper's: interval depth 6, quantile divisor 4; extra trees: 200
    trees, ``max_features`` 0.1, entropy). ``max_leaf_nodes`` caps each tree (the paper grows
    them fully) so the saved head has a fixed size: 256 leaves a tree is about 5 MB of buffers
    a fold, and more than the UCR sets' trees reach (25 nodes on ItalyPowerDemand)."""

    model_name: ClassVar[str] = "quant"

    interval_depth: int = 6
    quantile_divisor: int = 4
    n_trees: int = 200
    max_features: float = 0.1
    max_leaf_nodes: int = 256

    def validate(self) -> None:
        super().validate()
        for name in ("interval_depth", "quantile_divisor", "n_trees", "max_leaf_nodes"):
            check_positive_int(self, name)
        check_positive_float(self, "max_features")
        if self.max_features > 1 or self.max_leaf_nodes < 2:
            raise ConfigError(f"quant: max_features must be in (0, 1] and max_leaf_nodes >= 2, got "
                              f"{self.max_features} and {self.max_leaf_nodes}")


class AeonTransformClassifier(FixedTransformClassifier):
    """An aeon collection transform on the window's channels, then its paper's head, fitted at once.

    Input ``(batch, input_size)`` (``(batch, days, steps_per_day)`` is flattened), output
    logits ``(batch, 2)``: ``(0, s)`` with ``s`` the head's score of class 1 (:meth:`score`).
    Series shorter than 10 values are zero-padded to 10. Before :meth:`fit_head` every
    window scores 0.
    """

    def __init__(self, config: AeonTransformConfig):
        super().__init__(config)
        self.transforms = import_aeon_transforms(config.model_name)
        self.length = max(config.input_size // config.channels, MIN_LENGTH)
        self.built: tuple | None = None  # (seed, aeon objects) of the last build

    def check_input(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() > 2:
            x = x.flatten(1)
        if x.dim() != 2 or x.shape[-1] != self.config.input_size:
            raise ConfigError(f"{self.model_name}: expected input (batch, {self.config.input_size}), "
                              f"got {tuple(x.shape)}")
        return x

    def series(self, x: torch.Tensor) -> np.ndarray:
        """``(batch, input_size)`` -> float32 ``(batch, channels, length)`` NumPy, as aeon takes it."""
        channels = self.config.channels
        if channels > 1:
            days = self.config.n_days
            steps = self.config.input_size // (channels * days)
            x = x.reshape(len(x), days, channels, steps).transpose(1, 2).reshape(len(x), channels, days * steps)
        else:
            x = x.reshape(len(x), 1, -1)
        if x.shape[-1] < MIN_LENGTH:
            x = torch.nn.functional.pad(x, (0, MIN_LENGTH - x.shape[-1]))
        return np.ascontiguousarray(x.detach().float().cpu().numpy())

    def zeros(self) -> np.ndarray:
        """Two all-zero series of the model's shape: what fixes a transform's layout without data."""
        return np.zeros((2, self.config.channels, self.length), dtype=np.float32)

    def score(self, raw: torch.Tensor) -> torch.Tensor:
        """The head's score of class 1 from raw features: ``(rows,)`` float64."""
        raise NotImplementedError

    def classify_features(self, raw: torch.Tensor) -> torch.Tensor:
        score = self.score(raw).float()
        return torch.stack([torch.zeros_like(score), score], dim=1)

    def staged_scores(self, features: torch.Tensor) -> torch.Tensor:
        """One stage, the head itself: ``(rows, 1)``."""
        return self.score(features).unsqueeze(1)

    def keep_stages(self, stages: int) -> None:
        if int(stages) != 1:
            raise ValueError(f"{self.model_name}'s head has one stage, not {stages}")


@contextlib.contextmanager
def aeon_call():
    """Around every call into aeon: its fits seed torch's and NumPy's global generators, so
    seismag's streams are restored after; its torch code runs on the CPU even where the
    caller set another default device (the model table builds models on ``meta``)."""
    numpy_state, torch_state = np.random.get_state(), torch.random.get_rng_state()
    try:
        with torch.device("cpu"):
            yield
    finally:
        np.random.set_state(numpy_state)
        torch.random.set_rng_state(torch_state)


def register_if_aeon(**policy: Any):
    """``register_model(**policy)`` when aeon is installed, else a declaration naming the extra."""
    if AEON_AVAILABLE:
        return register_model(**policy)

    def declare(cls):
        name = policy["config_cls"].model_name
        declare_unavailable_model(name, f"{name} needs the optional package aeon: {INSTALL_HINT}")
        return cls

    return declare


@register_if_aeon(display_name="QUANT", input_layout="flat", config_cls=QuantConfig, in_default_run=False,
                  fitted_transform=True, fitted_head=True)
class QuantClassifier(AeonTransformClassifier):
    """QUANT's interval quantiles (aeon's ``QUANTTransformer``), then extra trees (the paper's head)."""

    config_cls: ClassVar[type[ModelConfig]] = QuantConfig

    def __init__(self, config: QuantConfig):
        super().__init__(config)
        self.init_feature_statistics(int(self.transform_numpy(self.zeros()).shape[1]))
        self.trees = TreeEnsemble(config.n_trees, 2 * config.max_leaf_nodes - 1)

    def head_architecture(self) -> str:
        c = self.config
        return (f"extra trees ({c.n_trees} trees, max_features {c.max_features:g}, entropy, "
                f"<= {c.max_leaf_nodes} leaves each)")

    def score(self, raw: torch.Tensor) -> torch.Tensor:
        """Log-odds of the forest's P(class 1), clipped to [1e-3, 1 - 1e-3] (a forest's
        probability is often exactly 0 or 1)."""
        if int(self.trees.n_trees) == 0:
            return raw.new_zeros(len(raw), dtype=torch.float64)
        return torch.logit(self.trees.raw(raw).clamp(1e-3, 1 - 1e-3))

    @torch.no_grad()
    def fit_head(self, features: torch.Tensor, labels: torch.Tensor, sample_weight: np.ndarray,
                 seed: int) -> "QuantClassifier":
        """The QUANT paper's extra trees on the fit rows' raw features (trees need no scaling)."""
        from sklearn.ensemble import ExtraTreesClassifier

        c = self.config
        x, y = features.detach().float().cpu().numpy(), labels.detach().cpu().numpy().astype(np.int64)
        forest = ExtraTreesClassifier(n_estimators=c.n_trees, max_features=c.max_features, criterion="entropy",
                                      max_leaf_nodes=c.max_leaf_nodes, n_jobs=1, random_state=int(seed) % 2**32)
        forest.fit(x, y, sample_weight=np.asarray(sample_weight, dtype=np.float64))
        self.trees.load_forest(forest, x)
        return self

    def quant(self):
        if self.built is None:
            quant = self.transforms.QUANTTransformer(interval_depth=self.config.interval_depth,
                                                     quantile_divisor=self.config.quantile_divisor)
            with aeon_call():
                self.built = (None, quant.fit(self.zeros()))
        return self.built[1]

    def transform_numpy(self, series: np.ndarray) -> np.ndarray:
        quant = self.quant()
        with aeon_call():
            return np.asarray(quant.transform(series), dtype=np.float32)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.transform_numpy(self.series(x))).to(x.device)

    def architecture(self) -> str:
        return (f"QUANT (aeon; interval depth {self.config.interval_depth}, quantiles / "
                f"{self.config.quantile_divisor}, {self.num_features} features) -> " + self.head_architecture())


@register_if_aeon(display_name="MultiRocketHydra", input_layout="flat", config_cls=MultiRocketHydraConfig,
                  in_default_run=False, fitted_transform=True, fitted_head=True)
class MultiRocketHydraClassifier(AeonTransformClassifier):
    """Hydra and MultiRocket features (aeon's transformers) side by side, standardised, ridge classifier.

    Buffers: ``transform_seed`` (the seed of Hydra's kernels and MultiRocket's draws) and
    ``multirocket_{series}_{part}``: MultiRocket's fitted parameter arrays for the series
    (0) and its first difference (1), exactly as aeon holds them.
    """

    config_cls: ClassVar[type[ModelConfig]] = MultiRocketHydraConfig

    def __init__(self, config: MultiRocketHydraConfig):
        super().__init__(config)
        self.register_buffer("transform_seed", torch.tensor(0, dtype=torch.int64))
        hydra, multirocket = self.build(0, fit_rows=self.zeros())
        self.parameter_dtypes = []
        for series, parameter in enumerate((multirocket.parameter, multirocket.parameter1)):
            for part, values in enumerate(parameter):
                values = np.asarray(values)
                self.parameter_dtypes.append(values.dtype)
                self.register_buffer(f"multirocket_{series}_{part}", torch.from_numpy(values.copy()))
        self.built = (0, (hydra, multirocket))
        # The width from the objects themselves: the buffers may live on the meta device (the model table).
        self.init_feature_statistics(int(self.features_of(hydra, multirocket, self.zeros()).shape[1]))
        self.register_buffer("ridge_weight", torch.zeros(self.num_features, dtype=torch.float64))
        self.register_buffer("ridge_bias", torch.zeros((), dtype=torch.float64))
        self.register_buffer("ridge_alpha", torch.zeros((), dtype=torch.float64))

    def head_architecture(self) -> str:
        return f"standardise -> ridge classifier (penalty by leave-one-out among {len(RIDGE_ALPHAS)} values)"

    def score(self, raw: torch.Tensor) -> torch.Tensor:
        """The ridge's decision value on the standardised features (class 1 above 0)."""
        z = (raw.to(torch.float64) - self.feature_mean.to(torch.float64)) / self.feature_std.to(torch.float64)
        return z @ self.ridge_weight + self.ridge_bias

    @torch.no_grad()
    def fit_head(self, features: torch.Tensor, labels: torch.Tensor, sample_weight: np.ndarray,
                 seed: int) -> "MultiRocketHydraClassifier":
        """aeon's head: ``RidgeClassifierCV`` on the features standardised by the training rows'
        statistics (:meth:`fit_unsupervised`), the penalty chosen by leave-one-out."""
        from sklearn.linear_model import RidgeClassifierCV

        z = ((features.detach().to(torch.float64) - self.feature_mean.to(torch.float64))
             / self.feature_std.to(torch.float64)).cpu().numpy()
        y = labels.detach().cpu().numpy().astype(np.int64)
        ridge = RidgeClassifierCV(alphas=RIDGE_ALPHAS).fit(z, y, sample_weight=np.asarray(sample_weight, np.float64))
        self.ridge_weight.copy_(torch.from_numpy(np.asarray(ridge.coef_, np.float64).reshape(-1)))
        self.ridge_bias.fill_(float(np.asarray(ridge.intercept_).reshape(-1)[0]))
        self.ridge_alpha.fill_(float(ridge.alpha_))
        ours = self.score(features.detach().to(self.ridge_weight.device)).cpu().numpy()
        if not np.allclose(ours, ridge.decision_function(z), rtol=1e-6, atol=1e-6):
            raise ConfigError("multirocket_hydra: the ridge head as held disagrees with scikit-learn's scores")
        return self

    def parameter_names(self) -> list[str]:
        return [name for name, _ in self.named_buffers() if name.startswith("multirocket_")]

    def build(self, seed: int, fit_rows: np.ndarray):
        """aeon's Hydra and MultiRocket for ``seed``, MultiRocket fitted on ``fit_rows``."""
        if len(fit_rows) == 1:  # aeon squeezes a single univariate row to 1-D; two copies fit the same
            fit_rows = np.repeat(fit_rows, 2, axis=0)
        with aeon_call():
            hydra = self.transforms.HydraTransformer(n_kernels=self.config.hydra_kernels,
                                                     n_groups=self.config.hydra_groups, n_jobs=1,
                                                     random_state=seed).fit(self.zeros())
            multirocket = self.transforms.MultiRocket(n_kernels=self.config.multirocket_kernels, n_jobs=1,
                                                      random_state=seed).fit(fit_rows)
        return hydra, multirocket

    def fit_transform_buffers(self, x: torch.Tensor) -> None:
        """A new seed from torch's generator (the fold's stream), then MultiRocket's biases from
        the training rows; both into the buffers."""
        seed = int(torch.randint(0, 2**31 - 1, ()))
        hydra, multirocket = self.build(seed, fit_rows=self.series(x))
        self.transform_seed.fill_(seed)
        names = iter(self.parameter_names())
        for parameter in (multirocket.parameter, multirocket.parameter1):
            for values in parameter:
                setattr(self, next(names), torch.from_numpy(np.asarray(values).copy()))
        self.built = (seed, (hydra, multirocket))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # MultiRocket's channel choices (several channels) vary in size with the seed: take the saved shapes.
        for name in self.parameter_names():
            if prefix + name in state_dict:
                setattr(self, name, torch.empty_like(state_dict[prefix + name]))
        self.built = None
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def aeon_objects(self):
        seed = int(self.transform_seed)
        if self.built is None or self.built[0] != seed:
            hydra, multirocket = self.build(seed, fit_rows=self.zeros())
            self.built = (seed, (hydra, multirocket))
        hydra, multirocket = self.built[1]
        values = [getattr(self, name).cpu().numpy().astype(dtype, copy=False)
                  for name, dtype in zip(self.parameter_names(), self.parameter_dtypes)]
        half = len(values) // 2
        multirocket.parameter, multirocket.parameter1 = tuple(values[:half]), tuple(values[half:])
        return hydra, multirocket

    @staticmethod
    def features_of(hydra, multirocket, series: np.ndarray) -> np.ndarray:
        """``(rows, num_features)`` float32: Hydra's features, then MultiRocket's."""
        with aeon_call():
            parts = [np.asarray(hydra.transform(series)), np.asarray(multirocket.transform(series))]
        return np.concatenate(parts, axis=1).astype(np.float32)

    def transform_numpy(self, series: np.ndarray) -> np.ndarray:
        return self.features_of(*self.aeon_objects(), series)

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.transform_numpy(self.series(x))).to(x.device)

    def architecture(self) -> str:
        return (f"Hydra ({self.config.hydra_kernels} kernels x {self.config.hydra_groups} groups) + MultiRocket "
                f"({self.config.multirocket_kernels} kernels) via aeon, {self.num_features} features -> "
                + self.head_architecture())
