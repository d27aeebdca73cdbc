import numpy as np
import pytest
from sklearn.metrics import f1_score, matthews_corrcoef, roc_auc_score

from seismag.training.metrics import calculate_binary_metrics


def test_metrics_match_hand_computation():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 0, 1, 0])
    p = np.array([0, 0, 1, 0, 1, 0, 1, 0, 1, 1])
    prob = np.array([.1, .2, .7, .3, .9, .4, .8, .2, .6, .55])
    m = calculate_binary_metrics(y, p, prob)
    tn, fp, fn, tp = 4, 2, 1, 3
    assert m["specificity"] == pytest.approx(tn / (tn + fp))
    assert m["class_acc"] == pytest.approx([tn / (tn + fp), tp / (tp + fn)])
    assert m["accuracy"] == pytest.approx((tp + tn) / 10)
    assert m["balanced_accuracy"] == pytest.approx((tn / 6 + tp / 4) / 2)
    assert m["f1"] == pytest.approx(f1_score(y, p, average="weighted"))
    assert m["mcc"] == pytest.approx(matthews_corrcoef(y, p))
    assert m["norm_mcc"] == pytest.approx((m["mcc"] + 1) / 2)
    assert m["roc_auc"] == pytest.approx(roc_auc_score(y, prob))
    assert 0 < m["pr_auc"] <= 1
    assert m["confusion"] == [[tn, fp], [fn, tp]]


def test_degenerate_inputs_do_not_crash():
    # one class predicted
    m = calculate_binary_metrics([0, 1, 0, 1], [0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4])
    assert m["mcc"] == 0 and m["specificity"] == 1.0 and m["class_acc"] == [1.0, 0.0]
    # one class present: AUC undefined, class-1 accuracy undefined
    m = calculate_binary_metrics([0, 0, 0], [0, 1, 0], [0.1, 0.9, 0.2])
    assert m["roc_auc"] is None and m["pr_auc"] is None
    assert m["class_acc"][1] is None and m["balanced_accuracy"] == pytest.approx(2 / 3)
    # no probabilities
    assert calculate_binary_metrics([0, 1], [0, 1])["roc_auc"] is None
    with pytest.raises(ValueError):
        calculate_binary_metrics([], [])
