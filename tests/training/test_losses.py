"""The focal loss: known answers, and that the run configuration reaches the training loss."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from seismag.cli import build_parser, config_from_args
from seismag.config import make_config
from seismag.errors import ConfigError
from seismag.training.fold import TrainingObjects, fold_loss
from seismag.training.losses import FocalLoss


def test_focal_loss_known_values():
    # Equal logits: p_t = 0.5, so each window costs 0.5**gamma * ln 2.
    logits, target = torch.zeros(2, 2), torch.tensor([0, 1])
    assert float(FocalLoss(gamma=2.0)(logits, target)) == pytest.approx(0.25 * math.log(2))
    assert float(FocalLoss(gamma=1.0)(logits, target)) == pytest.approx(0.5 * math.log(2))
    # A confident right answer costs far less than under cross-entropy: (1 - p_t)**2 with p_t = 0.9.
    confident = torch.tensor([[math.log(9.0), 0.0]])
    assert float(FocalLoss(gamma=2.0)(confident, torch.tensor([0]))) == pytest.approx(0.01 * -math.log(0.9))
    # alpha weights the mean like nn.CrossEntropyLoss's weight: sum(w * loss) / sum(w).
    alpha = torch.tensor([3.0, 1.0])
    mixed = torch.tensor([[math.log(9.0), 0.0], [0.0, 0.0]])
    expected = (3 * 0.01 * -math.log(0.9) + 1 * 0.25 * math.log(2)) / 4
    assert float(FocalLoss(alpha=alpha, gamma=2.0)(mixed, torch.tensor([0, 1]))) == pytest.approx(expected)
    assert FocalLoss(gamma=2.0, reduction="none")(logits, target).shape == (2,)


def test_gamma_zero_is_the_weighted_cross_entropy_with_its_gradients():
    torch.manual_seed(0)
    logits, target = torch.randn(32, 2, requires_grad=True), torch.randint(0, 2, (32,))
    weight = torch.tensor([0.8, 1.3])
    focal = FocalLoss(alpha=weight, gamma=0.0)(logits, target)
    (grad_focal,) = torch.autograd.grad(focal, logits)
    ce = nn.CrossEntropyLoss(weight=weight)(logits, target)
    (grad_ce,) = torch.autograd.grad(ce, logits)
    assert focal.item() == pytest.approx(ce.item(), rel=1e-6)
    assert torch.allclose(grad_focal, grad_ce, atol=1e-7)


def test_bad_gamma_is_refused():
    with pytest.raises(ConfigError, match="gamma"):
        FocalLoss(gamma=-1)
    with pytest.raises(ConfigError, match="focal_gamma"):
        make_config("paper", loss="focal", focal_gamma=-0.5)
    with pytest.raises(ConfigError, match="loss"):
        make_config("paper", loss="hinge")


def test_the_configured_loss_is_the_one_trained_with():
    counts = np.array([30, 10])
    loss = fold_loss(make_config("paper", loss="focal", focal_gamma=1.5), counts, torch.device("cpu"))
    assert isinstance(loss, FocalLoss) and loss.gamma == 1.5
    assert loss.alpha.tolist() == pytest.approx([math.sqrt(40 / 60), math.sqrt(40 / 20)])  # sqrt weights
    plain = fold_loss(make_config("paper", class_weight_method="none"), counts, torch.device("cpu"))
    assert isinstance(plain, nn.CrossEntropyLoss) and plain.weight is None
    given = nn.CrossEntropyLoss(weight=torch.tensor([100.0, 0.01]))
    assert fold_loss(make_config("paper"), counts, torch.device("cpu"), TrainingObjects(loss_fn=given)) is given
    args = build_parser().parse_args(["train", "--data", "d", "--loss", "focal", "--focal-gamma", "3"])
    config = config_from_args(args)
    assert (config.loss, config.focal_gamma) == ("focal", 3.0)
