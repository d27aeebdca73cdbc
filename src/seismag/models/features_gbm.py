"""``features_gbm``: the ``features`` baseline's per-day statistics with a gradient-boosted head.

The same fixed transform as ``features`` (:mod:`seismag.models.features`: octave band powers,
range, spread, first differences, spikes and level of every day, summarised over the
window), but instead of a linear head, gradient-boosted trees (scikit-learn's
HistGradientBoostingClassifier), which can use interactions a linear head cannot (a band
power that matters only on a quiet day, say).

The head is not trained by gradient steps: the training engine fits it once per fold on
the fit rows' features (class weights as sample weights), then the fold's selection rows
choose how many boosting stages to keep, by the rule that chooses every other model's
epoch (highest selection F1, ties to the lowest selection loss): a stage is this model's
epoch, so its epoch log has one line per stage. The trees are held as tensors
(:class:`~seismag.models.trees.TreeEnsemble`), so checkpoints and ensembles load with
``weights_only=True`` like every other model's. Each fold writes
``..._fold_{k}_feature_importance.csv`` beside its other files (see :meth:`FeaturesGBMClassifier.feature_importance`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import ClassVar

import numpy as np
import torch

from seismag.errors import ConfigError
from seismag.models.config import ModelConfig, check_positive_float, check_positive_int
from seismag.models.features import DayFeaturesConfig, FeaturesClassifier
from seismag.models.registry import register_model
from seismag.models.trees import TreeEnsemble

@dataclasses.dataclass(frozen=True)
class FeaturesGBMConfig(DayFeaturesConfig):
    """Options of the boosted head (the transform's are :class:`DayFeaturesConfig`'s).

    The defaults are scikit-learn's for HistGradientBoostingClassifier, except that
    early stopping is the fold's own stage selection.

    Attributes
    ----------
    max_iter : int, default 100
        Boosting stages fitted; the fold's selection rows choose how many are kept.
    shrinkage : float, default 0.1
        Learning rate of the boosting (scikit-learn's ``learning_rate``; renamed so as not
        to be read as the run's optimizer learning rate, which this model does not use).
    max_leaf_nodes : int, default 31
    min_samples_leaf : int, default 20
    l2_regularization : float, default 0.0
    max_bins : int, default 255
        Bins per feature (2..255) the histograms split on.
    """

    model_name: ClassVar[str] = "features_gbm"

    max_iter: int = 100
    shrinkage: float = 0.1
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 20
    l2_regularization: float = 0.0
    max_bins: int = 255

    def validate(self) -> None:
        super().validate()
        for name in ("max_iter", "max_leaf_nodes", "min_samples_leaf", "max_bins"):
            check_positive_int(self, name)
        check_positive_float(self, "shrinkage")
        if self.output_size != 2:
            raise ConfigError(f"features_gbm: output_size must be 2 (the boosted head is binary), "
                              f"got {self.output_size}")
        if self.max_leaf_nodes < 2:
            raise ConfigError(f"features_gbm: max_leaf_nodes must be at least 2, got {self.max_leaf_nodes}")
        if not 2 <= self.max_bins <= 255:
            raise ConfigError(f"features_gbm: max_bins must be in 2..255, got {self.max_bins}")
        if not (math.isfinite(self.l2_regularization) and self.l2_regularization >= 0):
            raise ConfigError(f"features_gbm: l2_regularization must be >= 0, got {self.l2_regularization}")


@register_model(display_name="FeaturesGBM", input_layout="sequence", config_cls=FeaturesGBMConfig,
                in_default_run=False, fitted_transform=True, fitted_head=True, importances=True)
class FeaturesGBMClassifier(FeaturesClassifier):
    """Per-day statistics summarised over the window, then gradient-boosted trees.

    Input ``(batch, days, steps_per_day)``, output logits ``(batch, 2)``: ``(0, s)`` where
    ``s`` is the trees' log-odds of class 1, so the softmax gives P(class 1) = sigmoid(s).
    Before :meth:`fit_head` the trees are empty and every window scores 0.5.
    """

    config_cls: ClassVar[type[ModelConfig]] = FeaturesGBMConfig

    def init_head(self, num_features: int) -> None:
        self.init_feature_statistics(num_features)  # kept for the record; trees need no scaling
        self.trees = TreeEnsemble(self.config.max_iter, 2 * self.config.max_leaf_nodes - 1)

    def head_architecture(self) -> str:
        c = self.config
        return (f"gradient-boosted trees (up to {c.max_iter} stages of <= {c.max_leaf_nodes} leaves, "
                f"shrinkage {c.shrinkage:g}; stages kept chosen on the selection rows)")

    def classify_features(self, raw: torch.Tensor) -> torch.Tensor:
        score = self.trees.raw(raw).float()
        return torch.stack([torch.zeros_like(score), score], dim=1)

    # --- the fitted head (the registry's ``fitted_head`` contract) --------------------
    @torch.no_grad()
    def fit_head(self, features: torch.Tensor, labels: torch.Tensor, sample_weight: np.ndarray,
                 seed: int) -> "FeaturesGBMClassifier":
        """Fit the trees on raw features ``(rows, num_features)`` of the fit rows, all stages.

        ``sample_weight``: one weight per row (the fold's class weights). scikit-learn's
        threads follow torch's thread count (the run's ``num_threads``).
        """
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        c = self.config
        x = features.detach().to(torch.float64).cpu().numpy()
        y = labels.detach().cpu().numpy().astype(np.int64)
        if len(np.unique(y)) < 2:
            raise ConfigError("features_gbm: the rows its head is fitted on hold one class only")
        estimator = HistGradientBoostingClassifier(
            learning_rate=c.shrinkage, max_iter=c.max_iter, max_leaf_nodes=c.max_leaf_nodes,
            min_samples_leaf=c.min_samples_leaf, l2_regularization=c.l2_regularization, max_bins=c.max_bins,
            early_stopping=False, random_state=int(seed) % 2**32)
        with threadpool_limits(limits=torch.get_num_threads(), user_api="openmp"):
            estimator.fit(x, y, sample_weight=np.asarray(sample_weight, dtype=np.float64))
            self.trees.load_fitted(estimator, x)
        return self

    def staged_scores(self, features: torch.Tensor) -> torch.Tensor:
        """Log-odds of class 1 after each stage: ``(rows, stages)`` float64."""
        return self.trees.staged_raw(features)

    def keep_stages(self, stages: int) -> None:
        """Score with the first ``stages`` boosting stages from now on."""
        self.trees.keep(stages)

    @torch.no_grad()
    def feature_importance(self, features: torch.Tensor, labels: torch.Tensor, seed: int) -> list[dict]:
        """One row per feature (the columns of ``layout.results.FEATURE_IMPORTANCE_COLUMNS``), in
        :attr:`feature_names` order.

        ``gain_share``: the feature's share of the kept trees' total split gain, measured on
        the rows the trees were fitted on (it favours features with many distinct values).
        ``permutation_log_loss``: how much the log loss on ``features`` (the fold's validation
        rows, which neither fitted the trees nor chose the stages) rises when that feature's
        column is shuffled (seeded); near 0 or below for a feature the scores do not use.
        """
        gains, splits = self.trees.split_importance(self.num_features)
        shares = gains / gains.sum() if gains.sum() > 0 else np.zeros_like(gains)
        x = features.detach().to(torch.float64).cpu()
        y = labels.detach().cpu().to(torch.float64)
        base = _log_loss(self.trees.raw(x), y)
        generator = torch.Generator().manual_seed(int(seed))
        rises = []
        for column in range(self.num_features):
            shuffled = x.clone()
            shuffled[:, column] = x[torch.randperm(len(x), generator=generator), column]
            rises.append(_log_loss(self.trees.raw(shuffled), y) - base)
        return [{"feature": name, "gain_share": round(float(share), 6), "splits": int(count),
                 "permutation_log_loss": round(float(rise), 6)}
                for name, share, count, rise in zip(self.feature_names, shares, splits, rises)]


def _log_loss(score: torch.Tensor, y: torch.Tensor) -> float:
    """Mean log loss of log-odds ``score`` against 0/1 labels ``y``."""
    return float(torch.nn.functional.binary_cross_entropy_with_logits(score, y)) if len(y) else 0.0
