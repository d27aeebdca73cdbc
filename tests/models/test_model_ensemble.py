"""F1WeightedEnsemble against hand computations on fixed member outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from seismag.errors import CheckpointError, ConfigError
from seismag.models import STRATEGIES, F1WeightedEnsemble, list_models, save_model_checkpoint, to_model_input


class FixedMember(nn.Module):
    """Returns logits whose softmax is exactly the given probabilities, whatever the input.

    Records the mode and grad state it was called in.
    """

    def __init__(self, probabilities):
        super().__init__()
        self.register_buffer("logits", torch.log(torch.tensor(probabilities, dtype=torch.float64)).float())
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled()))
        return self.logits[: x.shape[0]]


# Three members, two samples; P(class 0), P(class 1) per sample.
PROBS_A = [[0.9, 0.1], [0.4, 0.6]]
PROBS_B = [[0.3, 0.7], [0.2, 0.8]]
PROBS_C = [[0.6, 0.4], [0.45, 0.55]]
F1_SCORES = [0.8, 0.6, 0.6]  # normalised: 0.4, 0.3, 0.3
X = torch.zeros(2, 5)


def _ensemble(strategy, weights=F1_SCORES):
    return F1WeightedEnsemble([FixedMember(PROBS_A), FixedMember(PROBS_B), FixedMember(PROBS_C)], weights, strategy)


def test_weights_are_normalised_and_scores_kept():
    ensemble = _ensemble("weighted_mean")
    np.testing.assert_allclose(ensemble.weights, [0.4, 0.3, 0.3])
    assert ensemble.weights.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(ensemble.f1_scores, F1_SCORES)


def test_weighted_mean_by_hand():
    # sample 0: P1 = 0.4*0.1 + 0.3*0.7 + 0.3*0.4 = 0.37
    # sample 1: P1 = 0.4*0.6 + 0.3*0.8 + 0.3*0.55 = 0.645
    ensemble = _ensemble("weighted_mean")
    expected = torch.tensor([[0.63, 0.37], [0.355, 0.645]])
    torch.testing.assert_close(ensemble.predict_proba(X), expected)
    torch.testing.assert_close(ensemble(X), expected)
    classes, confidence, _ = ensemble.classify_with_confidence(X)
    assert classes.tolist() == [0, 1]
    torch.testing.assert_close(confidence, torch.tensor([0.63, 0.645]))


def test_voting_by_hand():
    # sample 0: A votes 0, B votes 1, C votes 0 -> shares 0.4 + 0.3 = 0.7 vs 0.3
    # sample 1: everyone votes 1 -> 0 vs 1
    ensemble = _ensemble("voting")
    torch.testing.assert_close(ensemble.predict_proba(X), torch.tensor([[0.7, 0.3], [0.0, 1.0]]))
    classes, confidence, _ = ensemble.classify_with_confidence(X)
    assert classes.tolist() == [0, 1]
    torch.testing.assert_close(confidence, torch.tensor([0.7, 1.0]))


def test_voting_tie_is_broken_by_mean_probability():
    # Two equal-weight members disagree on sample 0: 0.5 / 0.5 vote. Mean P1 = (0.45 + 0.9) / 2 > 0.5 -> class 1.
    ensemble = F1WeightedEnsemble([FixedMember([[0.55, 0.45]]), FixedMember([[0.1, 0.9]])], [0.7, 0.7], "voting")
    torch.testing.assert_close(ensemble.predict_proba(X[:1]), torch.tensor([[0.5, 0.5]]))
    classes, confidence, _ = ensemble.classify_with_confidence(X[:1])
    assert classes.tolist() == [1]
    assert confidence.tolist() == [0.5]


def test_max_confidence_by_hand():
    # sample 0: top probabilities A 0.9, B 0.7, C 0.6 -> A's [0.9, 0.1]
    # sample 1: top probabilities A 0.6, B 0.8, C 0.55 -> B's [0.2, 0.8]
    ensemble = _ensemble("max_confidence")
    torch.testing.assert_close(ensemble.predict_proba(X), torch.tensor([[0.9, 0.1], [0.2, 0.8]]))
    classes, confidence, _ = ensemble.classify_with_confidence(X)
    assert classes.tolist() == [0, 1]
    torch.testing.assert_close(confidence, torch.tensor([0.9, 0.8]))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_variance_is_the_weighted_variance_of_p1(strategy):
    # sample 0: mean 0.37; 0.4*0.27^2 + 0.3*0.33^2 + 0.3*0.03^2 = 0.0621
    # sample 1: mean 0.645; 0.4*0.045^2 + 0.3*0.155^2 + 0.3*0.095^2 = 0.010725
    _, _, variance = _ensemble(strategy).classify_with_confidence(X)
    torch.testing.assert_close(variance, torch.tensor([0.0621, 0.010725]))
    agreeing = F1WeightedEnsemble([FixedMember(PROBS_A), FixedMember(PROBS_A)], [0.5, 0.9], strategy)
    torch.testing.assert_close(agreeing.classify_with_confidence(X)[2], torch.zeros(2))


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_probabilities_are_distributions(strategy):
    probabilities = _ensemble(strategy).predict_proba(X)
    assert probabilities.shape == (2, 2) and probabilities.dtype == torch.float32
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(2))


def test_members_run_in_eval_mode_without_grad_and_keep_their_mode():
    members = [FixedMember(PROBS_A), FixedMember(PROBS_B)]
    ensemble = F1WeightedEnsemble(members, [1.0, 1.0]).train()
    members[1].eval()
    ensemble.classify_with_confidence(X)
    ensemble(X)
    for member in members:
        assert member.calls and all(call == (False, False) for call in member.calls)
    assert members[0].training and not members[1].training


@pytest.mark.parametrize(
    "weights, strategy, match",
    [
        ([0.5, -0.1, 0.4], "weighted_mean", "non-negative"),
        ([0.0, 0.0, 0.0], "weighted_mean", "all zero"),
        ([0.5, 0.5], "weighted_mean", "3 ensemble members but 2 weights"),
        ([0.5, float("nan"), 0.4], "weighted_mean", "finite"),
        (F1_SCORES, "median", "weighted_mean, voting, max_confidence"),
    ],
)
def test_invalid_configuration(weights, strategy, match):
    with pytest.raises(ConfigError, match=match):
        _ensemble(strategy, weights)


def test_empty_and_mixed_members_are_rejected(make_model):
    with pytest.raises(ConfigError, match="at least one"):
        F1WeightedEnsemble([], [])
    with pytest.raises(ConfigError, match="one model type"):
        F1WeightedEnsemble([make_model("gru"), make_model("lstm")], [1, 1])


def test_a_zero_weight_member_is_ignored_by_weighted_mean():
    ensemble = _ensemble("weighted_mean", [1.0, 0.0, 0.0])
    torch.testing.assert_close(ensemble.predict_proba(X), torch.tensor(PROBS_A))


@pytest.mark.parametrize("name", list_models())
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_save_load_round_trip(name, strategy, make_model, flat_batch, tmp_path):
    members = [make_model(name, seed=seed) for seed in range(3)]
    for member in members:  # give BatchNorm running statistics non-initial values
        member.train()(to_model_input(member, flat_batch, 3, 32))
    ensemble = F1WeightedEnsemble(members, [0.85, 0.87, 0.86], strategy)
    x = to_model_input(name, flat_batch, 3, 32)
    expected = ensemble.classify_with_confidence(x)
    extra = {"window_days": 3, "scaler_mean": torch.arange(3.0), "fold_f1": np.array([0.85, 0.87, 0.86])}
    path = ensemble.save(tmp_path / "GRUModel_3day_ensemble.pth", extra=extra)

    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert raw["format"] == "seismag-ensemble" and len(raw["members"]) == 3

    loaded = F1WeightedEnsemble.load(path)
    assert loaded.strategy == strategy and loaded.model_name == name
    np.testing.assert_allclose(loaded.weights, ensemble.weights)
    np.testing.assert_allclose(loaded.f1_scores, [0.85, 0.87, 0.86])
    assert loaded.extra["window_days"] == 3
    assert torch.equal(loaded.extra["scaler_mean"], torch.arange(3.0))
    for got, want in zip(loaded.classify_with_confidence(x), expected):
        assert torch.equal(got, want)


def test_config_dict_is_json_and_describes_the_members(make_model):
    members = [make_model("gru", seed=seed) for seed in range(2)]
    ensemble = F1WeightedEnsemble(members, [0.8, 0.6], "voting")
    config = json.loads(json.dumps(ensemble.config_dict()))
    assert config["model_name"] == "gru" and config["display_name"] == "GRU"
    assert config["strategy"] == "voting" and config["n_members"] == 2
    assert config["weights"] == pytest.approx([0.8 / 1.4, 0.6 / 1.4])
    assert config["f1_scores"] == pytest.approx([0.8, 0.6])
    assert config["model_config"] == members[0].config.to_dict()
    assert "member_model_configs" not in config
    different = F1WeightedEnsemble([members[0], make_model("gru", hidden_sizes=[4])], [1, 1])
    assert len(different.config_dict()["member_model_configs"]) == 2


def test_saving_unregistered_members_is_refused(tmp_path):
    with pytest.raises(TypeError, match="not a seismag model"):
        _ensemble("weighted_mean").save(tmp_path / "stub.pth")
    assert not (tmp_path / "stub.pth").exists()


def test_loading_a_model_checkpoint_as_an_ensemble_is_a_clear_error(make_model, tmp_path):
    path = save_model_checkpoint(make_model("gru"), tmp_path / "GRUModel_3day_fold_1.pth")
    with pytest.raises(CheckpointError, match="load_model_checkpoint"):
        F1WeightedEnsemble.load(path)
    (tmp_path / "junk.pth").write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError, match="junk.pth"):
        F1WeightedEnsemble.load(tmp_path / "junk.pth")


@pytest.mark.parametrize(
    "spelling, canonical",
    [
        ("max confidence", "max_confidence"),  # the SPEC's spelling
        ("max-confidence", "max_confidence"),
        ("Max_Confidence", "max_confidence"),
        ("MAX CONFIDENCE", "max_confidence"),
        ("Weighted Mean", "weighted_mean"),
        ("weighted-mean", "weighted_mean"),
        ("Voting", "voting"),
    ],
)
def test_strategy_spellings_are_normalised(spelling, canonical, make_model, tmp_path):
    ensemble = _ensemble(spelling)
    assert ensemble.strategy == canonical
    torch.testing.assert_close(ensemble.predict_proba(X), _ensemble(canonical).predict_proba(X))
    saved = F1WeightedEnsemble([make_model("gru")], [0.8], spelling)
    assert saved.config_dict()["strategy"] == canonical
    assert F1WeightedEnsemble.load(saved.save(tmp_path / "e.pth")).strategy == canonical


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_score_runs_each_member_once_and_matches_the_other_methods(strategy):
    ensemble = _ensemble(strategy)
    scores = ensemble.score(X)
    assert [len(member.calls) for member in ensemble.models] == [1, 1, 1]

    torch.testing.assert_close(scores.probabilities, ensemble.predict_proba(X), rtol=0, atol=0)
    for got, want in zip(scores[1:], ensemble.classify_with_confidence(X)):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert scores.probabilities.shape == (2, 2)
    assert scores.classes.dtype == torch.int64
    # Hand values (see the by-hand tests above) so score is checked on its own too.
    expected = {"weighted_mean": [[0.63, 0.37], [0.355, 0.645]], "voting": [[0.7, 0.3], [0.0, 1.0]],
                "max_confidence": [[0.9, 0.1], [0.2, 0.8]]}[strategy]
    torch.testing.assert_close(scores.probabilities, torch.tensor(expected))
    torch.testing.assert_close(scores.variance, torch.tensor([0.0621, 0.010725]))
    assert scores.classes.tolist() == [0, 1]


def test_score_breaks_voting_ties_like_classify_with_confidence():
    ensemble = F1WeightedEnsemble([FixedMember([[0.55, 0.45]]), FixedMember([[0.1, 0.9]])], [0.7, 0.7], "voting")
    scores = ensemble.score(X[:1])
    assert scores.classes.tolist() == [1] and scores.confidence.tolist() == [0.5]
    torch.testing.assert_close(scores.probabilities, torch.tensor([[0.5, 0.5]]))
