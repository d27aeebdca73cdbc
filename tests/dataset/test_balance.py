"""Tests for seismag.dataset.balance: class weights, imbalance ratio and severity (SPEC Modules 2-3)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from seismag.dataset.balance import (
    SEVERITY_LEVELS,
    WEIGHT_METHODS,
    ImbalanceAnalysis,
    analyze_imbalance,
    compute_class_weights,
    imbalance_ratio,
    imbalance_severity,
    severity_recommendations,
    severity_strategy,
)
from seismag.errors import ConfigError


# --------------------------------------------------------------------------- weights


def test_inverse_weights_match_the_spec_output():
    # n = 2660, k = 2: 2660 / (2 * 1661) = 0.80072, 2660 / (2 * 999) = 1.33133
    weights = compute_class_weights([1661, 999], method="inverse")
    np.testing.assert_allclose(weights, [0.800722, 1.331331], atol=1e-6)
    assert [round(w, 3) for w in weights] == [0.801, 1.331]
    assert weights.dtype == np.float64


def test_balanced_is_the_inverse_formula_like_sklearn():
    from sklearn.utils.class_weight import compute_class_weight

    labels = np.array([0] * 1661 + [1] * 999)
    sklearn_weights = compute_class_weight("balanced", classes=np.array([0, 1]), y=labels)
    np.testing.assert_allclose(compute_class_weights([1661, 999], method="balanced"), sklearn_weights)
    np.testing.assert_allclose(
        compute_class_weights([1661, 999], method="balanced"), compute_class_weights([1661, 999], method="inverse")
    )


def test_sqrt_weights_hand_computed():
    # sqrt(0.800722) = 0.894831, sqrt(1.331331) = 1.153833
    np.testing.assert_allclose(compute_class_weights([1661, 999], method="sqrt"), [0.894831, 1.153833], atol=1e-6)
    assert compute_class_weights([1661, 999]).tolist() == compute_class_weights([1661, 999], "sqrt").tolist()


def test_effective_number_weights_beta_0999():
    # (1 - 0.999) / (1 - 0.999**1661) = 0.00123425, (1 - 0.999) / (1 - 0.999**999) = 0.00158244
    # (unscaled, the SPEC formula); normalize=True rescales to sum to k = 2: 0.876384, 1.123616
    weights = compute_class_weights([1661, 999], method="effective", beta=0.999)
    np.testing.assert_allclose(weights, [0.00123425, 0.00158244], rtol=1e-5)
    normalized = compute_class_weights([1661, 999], method="effective", beta=0.999, normalize=True)
    np.testing.assert_allclose(normalized, [0.876384, 1.123616], atol=1e-6)


def test_effective_number_weights_small_beta():
    # beta = 0.9, counts [10, 1]: 0.1 / (1 - 0.9**10) = 0.153534, 0.1 / 0.1 = 1;
    # normalized: sum 1.153534 -> * 2 / sum = [0.266198, 1.733802]
    weights = compute_class_weights([10, 1], method="effective", beta=0.9)
    np.testing.assert_allclose(weights, [0.153534, 1.0], atol=1e-6)
    normalized = compute_class_weights([10, 1], method="effective", beta=0.9, normalize=True)
    np.testing.assert_allclose(normalized, [0.266198, 1.733802], atol=1e-6)
    # beta = 0 gives (1 - 0) / (1 - 0**c) = 1 for every class
    np.testing.assert_allclose(compute_class_weights([10, 1], method="effective", beta=0.0), [1.0, 1.0])


# Hand-computed weights, (normalize=False, normalize=True), per method and counts.
# [30, 10]: n = 40, k = 2. inverse 40/60 = 2/3, 40/20 = 2 (sum 8/3 -> x 3/4: 1/2, 3/2);
# sqrt sqrt(2/3), sqrt(2) (x 2 / sum: 2/(1+sqrt 3) = sqrt 3 - 1, 3 - sqrt 3);
# effective 0.001/(1 - 0.999**30) = 0.0338192, 0.001/(1 - 0.999**10) = 0.1004508
# (x 2 / sum: 0.503749, 1.496251).
# [1661, 999]: n = 2660. inverse 2660/3322 = 0.800722, 2660/1998 = 1.331331 (the SPEC's
# "Weights: [0.801, 1.331]"; x 2 / sum: 999/1330 = 0.751128, 1661/1330 = 1.248872);
# sqrt 0.894831, 1.153833 (normalized 0.873575, 1.126425);
# effective 0.00123425, 0.00158244 (normalized 0.876384, 1.123616).
HAND_WEIGHTS = {
    (30, 10): {
        "inverse": ([2 / 3, 2.0], [0.5, 1.5]),
        "sqrt": ([math.sqrt(2 / 3), math.sqrt(2)], [math.sqrt(3) - 1, 3 - math.sqrt(3)]),
        "effective": ([0.0338192, 0.1004508], [0.503749, 1.496251]),
    },
    (1661, 999): {
        "inverse": ([0.800722, 1.331331], [999 / 1330, 1661 / 1330]),
        "sqrt": ([0.894831, 1.153833], [0.873575, 1.126425]),
        "effective": ([0.00123425, 0.00158244], [0.876384, 1.123616]),
    },
}


@pytest.mark.parametrize("counts", list(HAND_WEIGHTS))
def test_every_method_is_the_spec_formula_unless_normalized(counts):
    for method in WEIGHT_METHODS:
        raw, normalized = HAND_WEIGHTS[counts]["inverse" if method == "balanced" else method]
        np.testing.assert_allclose(compute_class_weights(counts, method, normalize=False), raw, rtol=1e-5)
        np.testing.assert_allclose(compute_class_weights(counts, method, normalize=True), normalized, rtol=1e-5)
        assert sum(normalized) == pytest.approx(2.0)
    spec = compute_class_weights([1661, 999], "inverse", normalize=False)
    assert [round(w, 3) for w in spec] == [0.801, 1.331]


def test_three_classes_and_normalize():
    # n = 100, k = 3: 100 / 30, 100 / 60, 100 / 210
    weights = compute_class_weights([10, 20, 70], method="inverse")
    np.testing.assert_allclose(weights, [3.333333, 1.666667, 0.476190], atol=1e-6)
    normalized = compute_class_weights([10, 20, 70], method="inverse", normalize=True)
    assert normalized.sum() == pytest.approx(3.0)
    np.testing.assert_allclose(normalized / normalized[0], weights / weights[0])
    for method in WEIGHT_METHODS:
        assert compute_class_weights([1661, 999], method, normalize=True).sum() == pytest.approx(2.0)


def test_minority_class_always_gets_the_larger_weight():
    for method in WEIGHT_METHODS:
        weights = compute_class_weights([1661, 999], method)
        assert weights[1] > weights[0]
        equal = compute_class_weights([500, 500], method)
        assert equal[0] == equal[1]
        np.testing.assert_allclose(compute_class_weights([500, 500], method, normalize=True), [1.0, 1.0])
    # inverse and sqrt give 1 for equal counts unscaled; effective gives 0.001 / (1 - 0.999**500)
    np.testing.assert_allclose(compute_class_weights([500, 500], "sqrt"), [1.0, 1.0])
    np.testing.assert_allclose(compute_class_weights([500, 500], "effective"), [0.00254051] * 2,
                               rtol=1e-5)


@pytest.mark.parametrize("counts", [[1661, 0], [0, 5], [-3, 5], [5], [], [[1, 2], [3, 4]], [1.0, float("nan")], ["a", "b"]])
def test_bad_counts_are_a_clear_error(counts):
    with pytest.raises(ConfigError, match="class|count"):
        compute_class_weights(counts, method="inverse")


def test_zero_count_message_names_the_class():
    with pytest.raises(ConfigError, match="class 1 has 0 samples"):
        compute_class_weights([1661, 0])


def test_bad_method_and_beta():
    with pytest.raises(ConfigError, match="unknown class-weight method"):
        compute_class_weights([10, 5], method="focal")
    for beta in (1.0, -0.1, 1.5):
        with pytest.raises(ConfigError, match="beta"):
            compute_class_weights([10, 5], method="effective", beta=beta)


def test_weights_work_with_cross_entropy_as_in_the_spec():
    analysis = analyze_imbalance([1661, 999])
    weights_tensor = torch.tensor(analysis.suggested_weights)
    assert weights_tensor.dtype == torch.float32
    criterion = nn.CrossEntropyLoss(weight=weights_tensor)
    loss = criterion(torch.zeros(4, 2), torch.tensor([0, 1, 1, 0]))
    assert math.isfinite(loss.item())


# --------------------------------------------------------------------------- severity


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (1.0, "balanced"),
        (1.4999, "balanced"),
        (1.5, "mild"),
        (2.27, "mild"),
        (2.9999, "mild"),
        (3.0, "moderate"),
        (9.9999, "moderate"),
        (10.0, "moderate"),
        (10.0001, "severe"),
        (250.0, "severe"),
        (3, "moderate"),
        (np.float32(1.5), "mild"),
    ],
)
def test_severity_boundaries(ratio, expected):
    assert imbalance_severity(ratio) == expected


@pytest.mark.parametrize("ratio", [0.5, float("nan"), float("inf"), -2.0, "2", None, True])
def test_severity_rejects_bad_ratios(ratio):
    with pytest.raises(ConfigError, match="ratio"):
        imbalance_severity(ratio)


def test_imbalance_ratio_from_counts():
    assert imbalance_ratio([1661, 999]) == pytest.approx(1661 / 999)
    assert imbalance_ratio([999, 1661]) == pytest.approx(1661 / 999)
    assert imbalance_severity(imbalance_ratio([30, 10])) == "moderate"  # exactly 3:1
    assert imbalance_severity(imbalance_ratio([15, 10])) == "mild"  # exactly 1.5:1
    assert imbalance_severity(imbalance_ratio([100, 10])) == "moderate"  # exactly 10:1


def test_strategy_and_recommendations_per_severity():
    assert severity_strategy("balanced").startswith("Standard training")
    assert severity_strategy("mild") == "Apply class weight adjustment"  # SPEC sample output
    assert "sampling" in severity_strategy("moderate")
    assert "focal loss" in severity_strategy("severe")
    for severity in SEVERITY_LEVELS:
        topics = [line.split(":")[0] for line in severity_recommendations(severity)]
        assert topics == ["Loss", "Sampling", "Metrics"]
    assert "WeightedRandomSampler" in " ".join(severity_recommendations("moderate"))
    assert "gamma = 2.0" in " ".join(severity_recommendations("severe"))
    with pytest.raises(ConfigError):
        severity_strategy("extreme")


def test_analyze_imbalance_fields():
    analysis = analyze_imbalance([1661, 999])
    assert isinstance(analysis, ImbalanceAnalysis)
    assert analysis.imbalance_ratio == pytest.approx(1.662663, abs=1e-6)
    assert analysis.severity == "mild"
    assert analysis.strategy == "Apply class weight adjustment"
    assert (analysis.majority_class, analysis.minority_class) == (0, 1)
    assert [round(w, 3) for w in analysis.suggested_weights] == [0.801, 1.331]
    assert set(analysis.weights_by_method) == set(WEIGHT_METHODS)
    assert analysis.weights_by_method["inverse"] == analysis.suggested_weights
    # every method as compute_class_weights gives it, unscaled (effective: the SPEC formula)
    for method in WEIGHT_METHODS:
        assert analysis.weights_by_method[method] == compute_class_weights([1661, 999], method).tolist()
    np.testing.assert_allclose(analysis.weights_by_method["effective"], [0.00123425, 0.00158244], rtol=1e-5)
    assert json.loads(json.dumps(analysis.to_dict()))["severity"] == "mild"
