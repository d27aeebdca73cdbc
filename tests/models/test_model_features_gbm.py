"""``features_gbm``: gradient-boosted trees held as tensors, their stages chosen like epochs,
their importances beside the fold files.

The registry-wide checks (shapes, no NaN, checkpoints, any window) run on it from the other
files in this folder, and ``test_model_baselines.py`` checks that it learns the synthetic
signal and sits at chance without one; these tests cover the boosted head itself.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
from typing import ClassVar

import numpy as np
import pytest
import torch
from sklearn.ensemble import HistGradientBoostingClassifier

from seismag.cli import main
from seismag.errors import ConfigError
from seismag.layout.results import FEATURE_IMPORTANCE_COLUMNS
from seismag.models import create_model, list_models, load_model_checkpoint, save_model_checkpoint
from seismag.models.registry import register_model
from seismag.models.trees import TreeEnsemble
from seismag.tune.space import search_space

from helpers import SPD, write_synthetic


def _planted(n=300, width=91, informative=(3, 40), seed=0):
    """Raw features where class 1 depends on two columns together (an interaction, AND)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, width)).astype(np.float32)
    a, b = informative
    y = ((x[:, a] > 0) & (x[:, b] > 0)).astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def _fitted(seed=0, **overrides):
    model = create_model("features_gbm", 3, 32, **overrides)
    x, y = _planted(seed=seed)
    return model.fit_head(x, y, np.ones(len(y)), seed=seed), x, y


def test_held_trees_give_scikit_learns_scores_stage_by_stage():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 6))
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values take the side the fit chose
    y = (np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) ** 2 > 1).astype(int)
    estimator = HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=7, early_stopping=False,
                                               random_state=0).fit(x, y)
    trees = TreeEnsemble(40, 13)
    trees.load_fitted(estimator, x)
    staged = trees.staged_raw(torch.from_numpy(x)).numpy()
    for stage, expected in enumerate(estimator.staged_decision_function(x)):
        np.testing.assert_allclose(staged[:, stage], expected, rtol=0, atol=1e-9)
    trees.keep(12)
    np.testing.assert_allclose(trees.raw(torch.from_numpy(x)).numpy(), staged[:, 11], rtol=0, atol=1e-12)
    assert int(trees.n_trees) == 30 and int(trees.kept) == 12


def test_a_held_forest_gives_scikit_learns_probabilities():
    # QUANT's head (extra trees, aeon extra) through the same tensors, checked without aeon.
    from sklearn.ensemble import ExtraTreesClassifier

    x, y = _planted(n=200, width=12, informative=(1, 7))
    x = x.numpy()
    weights = np.where(y.numpy() == 1, 2.0, 1.0)  # class weights, as a fold passes them
    forest = ExtraTreesClassifier(n_estimators=30, max_features=0.3, criterion="entropy", max_leaf_nodes=16,
                                  random_state=0).fit(x, y.numpy(), sample_weight=weights)
    trees = TreeEnsemble(30, 31)
    trees.load_forest(forest, x)
    new = np.random.default_rng(4).normal(size=(50, 12)).astype(np.float32)
    np.testing.assert_allclose(trees.raw(torch.from_numpy(new)).numpy(), forest.predict_proba(new)[:, 1],
                               rtol=0, atol=1e-9)
    with pytest.raises(ConfigError, match="holds 10 trees, the fit made 30"):
        TreeEnsemble(10, 31).load_forest(forest, x)


def test_a_changed_scikit_learn_is_refused_not_misread():
    x, y = _planted()
    estimator = HistGradientBoostingClassifier(max_iter=5, early_stopping=False).fit(x.numpy(), y.numpy())
    x = x.numpy().astype(np.float64)
    TreeEnsemble(5, 61).load_fitted(estimator, x)  # as scikit-learn stores them: agrees
    real = estimator.decision_function
    estimator.decision_function = lambda rows: real(rows) + 0.5  # as if the trees meant something else
    with pytest.raises(ConfigError, match="disagree with scikit-learn's own scores"):
        TreeEnsemble(5, 61).load_fitted(estimator, x)


def test_too_many_or_too_large_trees_are_refused():
    x, y = _planted()
    estimator = HistGradientBoostingClassifier(max_iter=5, early_stopping=False).fit(x.numpy(), y.numpy())
    with pytest.raises(ConfigError, match="holds 3 trees, the fit made 5"):
        TreeEnsemble(3, 61).load_fitted(estimator, x.numpy())
    with pytest.raises(ConfigError, match="nodes, the head holds 3"):
        TreeEnsemble(5, 3).load_fitted(estimator, x.numpy())


def test_an_unfitted_head_scores_one_half_and_a_fitted_one_finds_the_interaction():
    model = create_model("features_gbm", 3, 32).eval()
    with torch.no_grad():
        assert torch.equal(model(torch.randn(4, 3, 32)), torch.zeros(4, 2))
    model, _, _ = _fitted()
    x, y = _planted(seed=9)  # new rows from the same rule
    probs = torch.softmax(model.classify_features(x), 1)[:, 1]
    assert ((probs > 0.5).long() == y).float().mean() > 0.9  # a linear head cannot draw an AND this well
    rows = model.feature_importance(x, y, seed=0)
    assert [row["feature"] for row in rows] == model.feature_names
    by_gain = sorted(rows, key=lambda row: -row["gain_share"])
    assert {by_gain[0]["feature"], by_gain[1]["feature"]} == {model.feature_names[3], model.feature_names[40]}
    assert by_gain[0]["gain_share"] + by_gain[1]["gain_share"] > 0.6
    shuffled = {row["feature"]: row["permutation_log_loss"] for row in rows}
    assert min(shuffled[model.feature_names[3]], shuffled[model.feature_names[40]]) > 0.1
    others = [value for name, value in shuffled.items() if name not in (model.feature_names[3], model.feature_names[40])]
    assert max(others) < 0.05


def test_the_fit_is_deterministic_given_the_seed_and_survives_a_weights_only_checkpoint(tmp_path):
    first, x, _ = _fitted(seed=3)
    second, _, _ = _fitted(seed=3)
    for (key, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(a, b), key
    first.keep_stages(17)
    path = save_model_checkpoint(first, tmp_path / "gbm.pth")
    raw = torch.load(path, map_location="cpu", weights_only=True)  # tensors only, never a pickle
    assert {"trees.feature", "trees.threshold", "trees.value", "trees.kept"} <= set(raw["state_dict"])
    loaded, _ = load_model_checkpoint(path)
    assert int(loaded.trees.kept) == 17
    windows = torch.randn(5, 3, 32)
    with torch.no_grad():
        assert torch.equal(loaded.eval()(windows), first.eval()(windows))
        assert torch.equal(loaded.classify_features(x[:9]), first.classify_features(x[:9]))


def test_options_are_checked():
    with pytest.raises(ConfigError, match="output_size must be 2"):
        create_model("features_gbm", 3, 32, output_size=3)
    with pytest.raises(ConfigError, match="max_bins must be in 2..255"):
        create_model("features_gbm", 3, 32, max_bins=300)
    with pytest.raises(ConfigError, match="max_leaf_nodes must be at least 2"):
        create_model("features_gbm", 3, 32, max_leaf_nodes=1)


def test_a_fitted_head_needs_a_fitted_transform_and_its_methods():
    from seismag.models.features import FeaturesClassifier, FeaturesConfig

    @dataclasses.dataclass(frozen=True)
    class PolicyConfig(FeaturesConfig):
        model_name: ClassVar[str] = "policy_fitted_head"

    with pytest.raises(ValueError, match="declare fitted_transform too"):
        register_model(display_name="X", input_layout="sequence", config_cls=PolicyConfig, fitted_head=True)

    class NoHead(FeaturesClassifier):  # a linear head: none of the fitted head's methods
        pass

    with pytest.raises(TypeError, match="feature_importance, fit_head, keep_stages, staged_scores"):
        register_model(display_name="X", input_layout="sequence", config_cls=PolicyConfig,
                       fitted_transform=True, fitted_head=True, importances=True)(NoHead)
    with pytest.raises(ValueError, match="declare fitted_head too"):
        register_model(display_name="X", input_layout="sequence", config_cls=PolicyConfig,
                       fitted_transform=True, importances=True)
    assert "policy_fitted_head" not in list_models()


def test_a_search_varies_the_trees_not_the_optimizer():
    space = search_space("features_gbm")
    assert {"shrinkage", "max_leaf_nodes", "min_samples_leaf"} <= set(space)
    assert not {"learning_rate", "weight_decay", "batch_size"} & set(space)
    assert "learning_rate" in search_space("features")


# --------------------------------------------------------------------------- through the command line
def _train(work, *extra):
    config = work / "gbm.toml"
    # Its own options, from a TOML file: 40 stages, leaves of 5 rows (the default 20 leaves a
    # fold's 37 fit rows no split to make).
    config.write_text("[model.features_gbm]\nmax_iter = 40\nmin_samples_leaf = 5\n")
    return main(["train", "--data", str(work / "data"), "--out", str(work / "results"), "--models", "features_gbm",
                 "--windows", "4", "--steps-per-day", str(SPD), "--folds", "3", "--threads", "1", "--quiet",
                 "--config", str(config), *extra])


@pytest.fixture
def trained(tmp_path, monkeypatch):
    write_synthetic(tmp_path / "data", n0=40, n1=30)
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logs"))
    assert _train(tmp_path) == 0
    return tmp_path


def _folder(work):
    return work / "results" / "features_gbm_models"


def test_each_fold_keeps_the_stage_its_selection_rows_chose_and_writes_its_importances(trained):
    folder = _folder(trained)
    for fold in (1, 2, 3):
        metrics = json.loads((folder / f"FeaturesGBMModel_4day_fold_{fold}_metrics.json").read_text())
        log = (folder / f"FeaturesGBMModel_4day_fold_{fold}_logs.txt").read_text().splitlines()
        stages = [line for line in log if not line.startswith("#")]
        assert len(stages) == metrics["epochs_run"] == 40  # one log line per boosting stage
        records = [dict(part.split("=") for part in line.split()) for line in stages]
        chosen = max(range(40), key=lambda i: (float(records[i]["sel_f1"]), -float(records[i]["sel_loss"]), -i))
        assert metrics["best_epoch"] == chosen + 1
        model, checkpoint = load_model_checkpoint(folder / f"FeaturesGBMModel_4day_fold_{fold}.pth")
        assert int(model.trees.kept) == metrics["best_epoch"] and int(model.trees.n_trees) == 40
        with open(folder / f"FeaturesGBMModel_4day_fold_{fold}_feature_importance.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert tuple(rows[0]) == FEATURE_IMPORTANCE_COLUMNS
        assert [row["feature"] for row in rows] == model.feature_names
        assert abs(sum(float(row["gain_share"]) for row in rows) - 1) < 1e-4
        assert "feature_importance" in checkpoint["extra"]["fold_files"]
    summary = json.loads((folder / "FeaturesGBMModel_4day_summary.json").read_text())
    assert summary["mean"]["f1"] > 0.75  # the synthetic signal is learned (see test_model_baselines)


def test_the_same_seed_gives_the_same_files(trained, tmp_path_factory, monkeypatch):
    again = tmp_path_factory.mktemp("again")
    write_synthetic(again / "data", n0=40, n1=30)
    monkeypatch.setenv("LOG_DIR", str(again / "logs"))
    assert _train(again) == 0
    for name in ("fold_2_test_probs.npy", "fold_2_feature_importance.csv", "fold_2_logs.txt"):
        first = (_folder(trained) / f"FeaturesGBMModel_4day_{name}").read_bytes()
        assert (_folder(again) / f"FeaturesGBMModel_4day_{name}").read_bytes() == first, name


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("damage", ["edited", "deleted"])
def test_resume_retrains_a_fold_whose_importances_were_changed_or_lost(damage, trained, caplog):
    target = _folder(trained) / "FeaturesGBMModel_4day_fold_2_feature_importance.csv"
    original = _digest(target)
    if damage == "edited":
        target.write_text(target.read_text().replace("\n", "\n", 1) + "extra,1,1,1\n")
    else:
        os.remove(target)
    assert _train(trained, "--resume") == 0
    warnings = [record.getMessage() for record in caplog.records if "kept aside" in record.getMessage()]
    if damage == "edited":  # set aside and retrained; a lost one is an unfinished fold, retrained
        assert len(warnings) == 1 and "fold 2 trains again" in warnings[0] and target.name in warnings[0]
    else:
        assert not warnings
    assert _digest(target) == original  # the fold trained again wrote the very same table
