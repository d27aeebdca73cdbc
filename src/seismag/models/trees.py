"""Tree heads held as tensors: trees that save as weights and evaluate in torch.

scikit-learn fits the trees (:class:`~sklearn.ensemble.HistGradientBoostingClassifier`
for a boosted head: fast, histogram based; ``ExtraTreesClassifier`` for QUANT's forest),
in scikit-learn, which seismag already needs; :class:`TreeEnsemble`
then keeps them as fixed-size buffers (one row of nodes per tree, padded), so a checkpoint
holds tensors only and still loads with ``torch.load(weights_only=True)``: never a pickle.
Prediction walks the trees in torch, one level at a time for every row and tree at once.

Reading boosted trees uses two of scikit-learn's private attributes (``_predictors``,
``_baseline_prediction``; a forest's ``tree_`` arrays are public); each loader therefore
checks, on the rows just fitted, that the trees it holds give scikit-learn's own scores (to
1e-9), and refuses with one line if a scikit-learn release ever changes them.

May import: torch, numpy, scikit-learn, :mod:`seismag.errors`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from seismag.errors import ConfigError

#: Largest difference between the held trees' raw scores and scikit-learn's allowed at load.
_AGREEMENT = 1e-9


class TreeEnsemble(nn.Module):
    """Up to ``max_trees`` binary regression trees of up to ``max_nodes`` nodes, summed.

    The raw score of a row is ``baseline + sum(leaf value of the row in tree t)`` over the
    first ``kept`` trees (boosting stages); ``kept`` is what the training engine's epoch
    selection chose (stages play the role of epochs). A node is a split on
    ``feature <= threshold`` (left when true; a NaN goes where ``missing_left`` says) or a
    leaf carrying ``value`` (the learning rate already applied, as scikit-learn stores it).

    Buffers (all in the ``state_dict``)
    ----------------------------------
    feature, left, right : int64 ``(max_trees, max_nodes)``
    threshold, value, gain : float64 ``(max_trees, max_nodes)``
        ``gain``: the split's reduction of the boosting loss on the rows it was fitted on.
    leaf, missing_left : bool ``(max_trees, max_nodes)``
    baseline : float64 scalar
    n_trees, kept : int64 scalars (trees fitted, trees used)
    """

    def __init__(self, max_trees: int, max_nodes: int):
        super().__init__()
        shape = (int(max_trees), int(max_nodes))
        for name in ("feature", "left", "right"):
            self.register_buffer(name, torch.zeros(shape, dtype=torch.int64))
        for name in ("threshold", "value", "gain"):
            self.register_buffer(name, torch.zeros(shape, dtype=torch.float64))
        # Padding rows are single leaves of value 0, so an unused tree adds nothing.
        self.register_buffer("leaf", torch.ones(shape, dtype=torch.bool))
        self.register_buffer("missing_left", torch.zeros(shape, dtype=torch.bool))
        self.register_buffer("baseline", torch.zeros((), dtype=torch.float64))
        self.register_buffer("n_trees", torch.zeros((), dtype=torch.int64))
        self.register_buffer("kept", torch.zeros((), dtype=torch.int64))

    @torch.no_grad()
    def load_fitted(self, estimator, x: np.ndarray) -> None:
        """Hold a fitted binary ``HistGradientBoostingClassifier``'s trees; ``x``: rows it was fitted on.

        Raises
        ------
        ConfigError
            It has more trees or larger trees than this ensemble holds, is not binary, uses
            categorical splits, or its trees as held here disagree with its own scores.
        """
        stages = list(estimator._predictors)
        if any(len(predictors) != 1 for predictors in stages):
            raise ConfigError("the boosted head is binary: one tree per boosting stage")
        max_trees, max_nodes = self.feature.shape
        if len(stages) > max_trees:
            raise ConfigError(f"the boosted head holds {max_trees} trees, the fit made {len(stages)}")
        self._reset()
        for t, (predictor,) in enumerate(stages):
            nodes = predictor.nodes
            if len(nodes) > max_nodes:
                raise ConfigError(f"a boosted tree has {len(nodes)} nodes, the head holds {max_nodes}")
            if nodes["is_categorical"].any():
                raise ConfigError("the boosted head holds numeric splits only")
            n = len(nodes)
            self.feature[t, :n] = torch.from_numpy(nodes["feature_idx"].astype(np.int64))
            self.left[t, :n] = torch.from_numpy(nodes["left"].astype(np.int64))
            self.right[t, :n] = torch.from_numpy(nodes["right"].astype(np.int64))
            self.threshold[t, :n] = torch.from_numpy(nodes["num_threshold"].astype(np.float64))
            self.value[t, :n] = torch.from_numpy(nodes["value"].astype(np.float64))
            self.gain[t, :n] = torch.from_numpy(np.where(nodes["is_leaf"], 0.0, nodes["gain"]).astype(np.float64))
            self.leaf[t, :n] = torch.from_numpy(nodes["is_leaf"].astype(bool))
            self.missing_left[t, :n] = torch.from_numpy(nodes["missing_go_to_left"].astype(bool))
        self.baseline.fill_(float(np.asarray(estimator._baseline_prediction).reshape(-1)[0]))
        self.n_trees.fill_(len(stages))
        self.kept.fill_(len(stages))
        self._check(self.raw(torch.as_tensor(x, dtype=torch.float64, device=self.feature.device)).cpu().numpy(),
                    estimator.decision_function(x))

    @torch.no_grad()
    def load_forest(self, estimator, x: np.ndarray) -> None:
        """Hold a fitted binary forest's trees (``ExtraTreesClassifier``, ``RandomForestClassifier``),
        each leaf's P(class 1) divided by the number of trees, so that :meth:`raw` is the forest's
        P(class 1) (the mean over its trees, as scikit-learn's ``predict_proba``); ``x``: rows
        it was fitted on, to check that.

        Raises
        ------
        ConfigError
            More or larger trees than this ensemble holds, not two classes, or disagreement
            with the forest's own ``predict_proba``.
        """
        trees = [tree.tree_ for tree in estimator.estimators_]
        max_trees, max_nodes = self.feature.shape
        if len(trees) > max_trees:
            raise ConfigError(f"the forest head holds {max_trees} trees, the fit made {len(trees)}")
        if len(estimator.classes_) != 2:
            raise ConfigError("the forest head is binary: two classes")
        self._reset()
        for t, tree in enumerate(trees):
            n = tree.node_count
            if n > max_nodes:
                raise ConfigError(f"a forest tree has {n} nodes, the head holds {max_nodes}")
            leaf = tree.children_left == -1
            counts = tree.value[:, 0, :]
            share = counts[:, 1] / np.maximum(counts.sum(1), np.finfo(np.float64).tiny)
            self.feature[t, :n] = torch.from_numpy(np.where(leaf, 0, tree.feature).astype(np.int64))
            self.left[t, :n] = torch.from_numpy(np.where(leaf, 0, tree.children_left).astype(np.int64))
            self.right[t, :n] = torch.from_numpy(np.where(leaf, 0, tree.children_right).astype(np.int64))
            self.threshold[t, :n] = torch.from_numpy(tree.threshold.astype(np.float64))
            self.value[t, :n] = torch.from_numpy(np.where(leaf, share / len(trees), 0.0))
            self.leaf[t, :n] = torch.from_numpy(leaf)
            self.missing_left[t, :n] = torch.from_numpy(np.asarray(tree.missing_go_to_left, dtype=bool))
        self.n_trees.fill_(len(trees))
        self.kept.fill_(len(trees))
        self._check(self.raw(torch.as_tensor(x, device=self.feature.device)).cpu().numpy(),
                    estimator.predict_proba(x)[:, 1])

    def _check(self, ours: np.ndarray, theirs: np.ndarray) -> None:
        theirs = np.asarray(theirs, dtype=np.float64).reshape(-1)
        if not np.allclose(ours, theirs, rtol=0.0, atol=_AGREEMENT):
            raise ConfigError("the trees as held by seismag disagree with scikit-learn's own scores "
                              f"(largest difference {np.abs(ours - theirs).max():.3g}); this scikit-learn "
                              "release stores its trees differently: please report it")

    def _reset(self) -> None:
        """Every tree a single leaf of value 0 (the padding), nothing fitted."""
        for name, buffer in self.named_buffers():
            buffer.fill_(name == "leaf")

    def leaves(self, x: torch.Tensor) -> torch.Tensor:
        """The leaf value each row reaches in each fitted tree: ``(rows, n_trees)`` float64.

        All rows and trees descend one level per step, so the cost is rows x trees x depth.
        """
        n = int(self.n_trees)
        x = x.to(torch.float64)
        if n == 0:
            return x.new_zeros(len(x), 0)
        feature, threshold = self.feature[:n], self.threshold[:n]
        left, right, leaf, missing_left = self.left[:n], self.right[:n], self.leaf[:n], self.missing_left[:n]
        trees = torch.arange(n, device=x.device).expand(len(x), n)
        node = torch.zeros(len(x), n, dtype=torch.int64, device=x.device)
        while True:
            at_leaf = leaf[trees, node]
            if bool(at_leaf.all()):
                return self.value[trees, node]
            values = x.gather(1, feature[trees, node])
            go_left = torch.where(torch.isnan(values), missing_left[trees, node], values <= threshold[trees, node])
            step = torch.where(go_left, left[trees, node], right[trees, node])
            node = torch.where(at_leaf, node, step)

    def staged_raw(self, x: torch.Tensor) -> torch.Tensor:
        """The raw score after each boosting stage: ``(rows, n_trees)`` float64 (column k: k + 1 trees)."""
        return self.baseline + self.leaves(x).cumsum(1)

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """The raw score (log-odds of class 1) with the first ``kept`` trees: ``(rows,)`` float64."""
        return self.baseline + self.leaves(x)[:, :int(self.kept)].sum(1)

    def keep(self, stages: int) -> None:
        """Use the first ``stages`` trees from now on (1 <= stages <= the trees fitted)."""
        if not 1 <= int(stages) <= int(self.n_trees):
            raise ValueError(f"stages must be in 1..{int(self.n_trees)}, got {stages}")
        self.kept.fill_(int(stages))

    def split_importance(self, num_features: int) -> tuple[np.ndarray, np.ndarray]:
        """Per feature over the kept trees: the total split gain and the number of splits."""
        kept = int(self.kept)
        splits = ~self.leaf[:kept]
        features = self.feature[:kept][splits].cpu().numpy()
        gains = self.gain[:kept][splits].cpu().numpy()
        return (np.bincount(features, weights=gains, minlength=num_features).astype(np.float64),
                np.bincount(features, minlength=num_features).astype(np.int64))
