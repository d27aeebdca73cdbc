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


# (y_true, y_class, P(class 1)): every degenerate corner the two implementations must agree on.
DEGENERATE_CASES = {
    "all-0 labels": ([0, 0, 0, 0], [0, 1, 0, 0], [0.1, 0.7, 0.2, 0.3]),
    "all-1 labels": ([1, 1, 1], [1, 0, 1], [0.9, 0.4, 0.8]),
    "all-0 predictions": ([0, 1, 0, 1, 1], [0, 0, 0, 0, 0], [0.1, 0.4, 0.2, 0.3, 0.45]),
    "all-1 predictions": ([0, 1, 0, 1, 1], [1, 1, 1, 1, 1], [0.6, 0.9, 0.7, 0.8, 0.95]),
    "single sample": ([1], [0], [0.3]),
    "perfect predictions": ([0, 1, 1, 0, 1], [0, 1, 1, 0, 1], [0.2, 0.8, 0.9, 0.1, 0.7]),
    "all wrong": ([0, 1, 1, 0, 1], [1, 0, 0, 1, 0], [0.8, 0.2, 0.1, 0.9, 0.3]),
}


@pytest.mark.parametrize("case", list(DEGENERATE_CASES))
def test_fast_metrics_equal_full_metrics_on_degenerate_inputs(case):
    from seismag.training.metrics import fast_binary_metrics

    y, pred, prob = (np.asarray(a) for a in DEGENERATE_CASES[case])
    full = calculate_binary_metrics(y, pred, prob)
    fast = fast_binary_metrics(y.astype(np.int64), pred.astype(np.int64), prob.astype(np.float64))
    shared = set(full) & set(fast)
    assert {"f1", "precision", "recall", "specificity", "mcc", "accuracy", "balanced_accuracy",
            "roc_auc"} <= shared
    for key in sorted(shared):
        if full[key] is None or fast[key] is None:
            assert full[key] is None and fast[key] is None, key
        else:
            assert fast[key] == pytest.approx(full[key], abs=1e-12), key


def test_degenerate_metrics_match_hand_computation():
    # all-1 labels, y_class [1, 0, 1]: tp 2, fn 1, no class-0 samples.
    m = calculate_binary_metrics(*DEGENERATE_CASES["all-1 labels"])
    assert m["specificity"] is None and m["class_acc"] == [None, pytest.approx(2 / 3)]
    assert m["balanced_accuracy"] == pytest.approx(2 / 3)  # only class 1 is present
    assert m["accuracy"] == pytest.approx(2 / 3)
    # weighted over support (0 class-0, 3 class-1): precision 1, recall 2/3, F1 0.8
    assert m["precision"] == pytest.approx(1.0) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(0.8)
    assert m["mcc"] == 0.0 and m["roc_auc"] is None
    # all-0 predictions on [0, 1, 0, 1, 1]: tn 2, fn 3.
    m = calculate_binary_metrics(*DEGENERATE_CASES["all-0 predictions"])
    assert m["specificity"] == 1.0 and m["class_acc"] == [1.0, 0.0]
    assert m["balanced_accuracy"] == pytest.approx(0.5) and m["accuracy"] == pytest.approx(0.4)
    # class 0: precision 2/5, recall 1, F1 4/7 (support 2); class 1: all 0 (support 3)
    assert m["precision"] == pytest.approx(2 / 5 * 2 / 5) and m["recall"] == pytest.approx(2 / 5)
    assert m["f1"] == pytest.approx(4 / 7 * 2 / 5)
    # probabilities rank every positive above every negative
    assert m["roc_auc"] == pytest.approx(1.0)
    # single sample, wrong: class 1 present only, its recall 0
    m = calculate_binary_metrics(*DEGENERATE_CASES["single sample"])
    assert m["specificity"] is None and m["balanced_accuracy"] == 0.0 and m["f1"] == 0.0


def test_y_class_keyword_and_y_pred_alias():
    y, pred, prob = [0, 1, 1, 0, 1], [0, 1, 0, 0, 1], [0.2, 0.8, 0.4, 0.1, 0.7]
    positional = calculate_binary_metrics(y, pred, prob)
    assert calculate_binary_metrics(y_true=y, y_class=pred, y_prob=prob) == positional
    assert calculate_binary_metrics(y, y_pred=pred, y_prob=prob) == positional
    with pytest.raises(ValueError, match="exactly once"):
        calculate_binary_metrics(y, pred, y_pred=pred)
    with pytest.raises(ValueError, match="exactly once"):
        calculate_binary_metrics(y)
