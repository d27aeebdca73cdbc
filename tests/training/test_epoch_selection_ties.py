"""Which epoch a fold keeps when the selection F1 ties (issue 28: MiniRocket kept its
one-epoch head on GunPoint because every epoch scored its 8 selection rows perfectly)."""

import torch
from torch import nn

from seismag.training.fold import EpochSelection


def _offer(selection: EpochSelection, model: nn.Linear, epoch: int, f1: float, loss: float) -> None:
    with torch.no_grad():
        model.weight.fill_(epoch)
    selection.update(epoch, f1, loss, val=f"val {epoch}", model=model)


def test_ties_on_f1_keep_the_epoch_with_the_lowest_selection_loss():
    model, selection = nn.Linear(2, 2), EpochSelection()
    for epoch, (f1, loss) in enumerate([(1.0, 0.30), (1.0, 0.05), (1.0, 0.01), (0.9, 0.001), (1.0, 0.02)], 1):
        _offer(selection, model, epoch, f1, loss)
    assert selection.epoch == 3 and selection.val == "val 3"
    assert torch.all(selection.state["weight"] == 3)


def test_a_higher_f1_wins_over_a_lower_loss_and_equal_ties_keep_the_first():
    model, selection = nn.Linear(2, 2), EpochSelection()
    for epoch, (f1, loss) in enumerate([(0.8, 0.01), (0.9, 0.50), (0.9, 0.50), (0.85, 0.001)], 1):
        _offer(selection, model, epoch, f1, loss)
    assert selection.epoch == 2 and selection.f1 == 0.9
