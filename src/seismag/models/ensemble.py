"""F1-weighted ensemble of the k-fold models of one architecture.

Each member's softmax probabilities are combined with weights proportional
to its validation F1 score. The ensemble is inference-only: members always
run in eval mode (BatchNorm uses running statistics, dropout is off) and
without autograd, whatever mode the caller left them in.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from seismag import __version__
from seismag.errors import CheckpointError, ConfigError
from seismag.io import save_torch
from seismag.models.config import canonical_choice
from seismag.models.checkpoint import (
    ENSEMBLE_FORMAT,
    FORMAT_VERSION,
    cpu_state_dict,
    model_from_parts,
    read_seismag_file,
    to_plain,
    with_checksum,
)
from seismag.models.registry import get_model_entry, unwrap_model

STRATEGIES = ("weighted_mean", "voting", "max_confidence")


class EnsembleScores(NamedTuple):
    """Everything one pass over the members gives (see :meth:`F1WeightedEnsemble.score`).

    Attributes
    ----------
    probabilities : torch.Tensor
        ``(n, n_classes)`` float32, as :meth:`F1WeightedEnsemble.predict_proba`.
    classes : torch.Tensor
        ``(n,)`` int64, as ``classify_with_confidence(x)[0]``.
    confidence : torch.Tensor
        ``(n,)`` float32, as ``classify_with_confidence(x)[1]``.
    variance : torch.Tensor
        ``(n,)`` float32, as ``classify_with_confidence(x)[2]``.
    """

    probabilities: torch.Tensor
    classes: torch.Tensor
    confidence: torch.Tensor
    variance: torch.Tensor


class F1WeightedEnsemble(nn.Module):
    """Combine member classifiers by F1-weighted probabilities.

    Parameters
    ----------
    models : sequence of nn.Module
        Members returning logits ``(n, n_classes)``. All take the same input
        layout (members of one ensemble share a model name).
    weights : sequence of float
        One non-negative score per member, typically validation F1. They are
        normalised to sum to 1 and stored in :attr:`weights`; the scores as
        given are kept in :attr:`f1_scores`.
    strategy : {'weighted_mean', 'voting', 'max_confidence'}
        Case does not matter and spaces or hyphens may replace underscores
        (the SPEC's "max confidence"); the canonical name is stored.

        - ``weighted_mean``: sum over members of ``weight * softmax(logits)``.
        - ``voting``: each member votes for its arg-max class with its weight;
          the "probability" of a class is its share of the weighted vote.
        - ``max_confidence``: per sample, the probabilities of the member
          whose top probability is highest (weights not used; ties go to the
          earlier member).

    Attributes
    ----------
    models : nn.ModuleList
    weights : numpy.ndarray
        ``(n_members,)`` float64, sums to 1.
    f1_scores : numpy.ndarray
        The weights as given.
    strategy : str
        One of :data:`STRATEGIES`.
    extra : dict
        Plain data stored with :meth:`save` and restored by :meth:`load`.

    The inference methods take ``x``, a batch of ``n`` samples in the members'
    input layout (e.g. ``(n, days, steps_per_day)``).

    Raises
    ------
    ConfigError
        No members, members of different models, an unknown strategy, or
        weights that are negative, not finite, all zero or of the wrong length.
    """

    def __init__(self, models: Sequence[nn.Module], weights: Sequence[float], strategy: str = "weighted_mean"):
        super().__init__()
        models = list(models)
        if not models:
            raise ConfigError("an ensemble needs at least one model")
        canonical = canonical_choice(strategy, STRATEGIES)
        if canonical is None:
            raise ConfigError(f"unknown ensemble strategy {strategy!r}; valid strategies: {', '.join(STRATEGIES)}")
        names = {getattr(unwrap_model(m), "model_name", None) for m in models} - {None}
        if len(names) > 1:
            raise ConfigError(f"ensemble members must be one model type, got {', '.join(sorted(names))}")
        scores = np.asarray(weights, dtype=np.float64).reshape(-1) if weights is not None else np.empty(0)
        if scores.shape[0] != len(models):
            raise ConfigError(f"{len(models)} ensemble members but {scores.shape[0]} weights")
        if not np.all(np.isfinite(scores)) or np.any(scores < 0):
            raise ConfigError(f"ensemble weights must be finite and non-negative, got {scores.tolist()}")
        if scores.sum() <= 0:
            raise ConfigError("ensemble weights are all zero; at least one member needs a positive F1 score")
        self.models = nn.ModuleList(models)
        self.f1_scores = scores
        self.weights = scores / scores.sum()
        self.strategy = canonical
        self.model_name: str | None = names.pop() if names else None
        self.extra: dict[str, Any] = {}

    # --- inference -------------------------------------------------------

    def member_probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax probabilities ``(n_members, n, n_classes)`` of every member for ``x``."""
        probabilities = []
        with torch.no_grad():
            for member in self.models:
                was_training = member.training
                member.eval()
                try:
                    probabilities.append(torch.softmax(member(x).float(), dim=-1))
                finally:
                    # Restore the caller's mode: a member may still be a fold
                    # model that its trainer goes on using.
                    member.train(was_training)
        return torch.stack(probabilities)

    def _weights_like(self, tensor: torch.Tensor) -> torch.Tensor:
        return torch.as_tensor(self.weights, dtype=tensor.dtype, device=tensor.device)

    def score(self, x: torch.Tensor) -> EnsembleScores:
        """Probabilities, classes, confidence and variance of ``x`` from one pass over the members.

        Each member runs once; :meth:`predict_proba` and
        :meth:`classify_with_confidence` return parts of this, so a caller that
        needs both should call this instead of running the members twice.
        Returns :class:`EnsembleScores` ``(probabilities, classes, confidence,
        variance)``; see :meth:`predict_proba` and :meth:`classify_with_confidence`.
        """
        return self._scores(self.member_probabilities(x))

    def _scores(self, member_probs: torch.Tensor) -> EnsembleScores:
        """The one place member probabilities ``(members, n, n_classes)`` are combined."""
        weights = self._weights_like(member_probs)
        mean_probs = torch.einsum("m,mnc->nc", weights, member_probs)
        if self.strategy == "weighted_mean":
            probabilities = mean_probs
        elif self.strategy == "voting":
            votes = nn.functional.one_hot(member_probs.argmax(dim=-1), member_probs.shape[-1]).to(member_probs.dtype)
            probabilities = torch.einsum("m,mnc->nc", weights, votes)
        else:  # max_confidence
            best_member = member_probs.max(dim=-1).values.argmax(dim=0)  # (n,)
            probabilities = member_probs[best_member, torch.arange(member_probs.shape[1], device=member_probs.device)]

        confidence, classes = probabilities.max(dim=-1)
        if self.strategy == "voting":
            # Vote shares tie easily (two equal-weight members that disagree);
            # the weighted mean probability decides those samples.
            tied = (probabilities == confidence.unsqueeze(-1)).sum(dim=-1) > 1
            if bool(tied.any()):
                classes = torch.where(tied, mean_probs.argmax(dim=-1), classes)
                confidence = probabilities.gather(1, classes.unsqueeze(1)).squeeze(1)

        positive = member_probs[..., 1]  # (members, n)
        mean_positive = torch.einsum("m,mn->n", weights, positive)
        variance = torch.einsum("m,mn->n", weights, (positive - mean_positive) ** 2)
        return EnsembleScores(probabilities, classes, confidence, variance)

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities of the ensemble for ``x``: ``(n, n_classes)`` float32, rows
        summing to 1 (weighted vote shares for ``voting``)."""
        return self.score(x).probabilities

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`predict_proba`: probabilities ``(n, n_classes)``, not logits."""
        return self.predict_proba(x)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Class index per sample, ``(n,)`` int64; see :meth:`classify_with_confidence`."""
        return self.score(x).classes

    def classify_with_confidence(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Classes, their probability, and the members' disagreement for ``x``.

        Returns
        -------
        classes : torch.Tensor
            ``(n,)`` int64, arg-max of :meth:`predict_proba`. Under ``voting``
            an exact tie of vote shares is broken by the weighted mean
            probability.
        confidence : torch.Tensor
            ``(n,)`` float32, the probability (vote share for ``voting``) of
            the chosen class.
        variance : torch.Tensor
            ``(n,)`` float32, the weighted variance across members of
            P(class 1): ``sum_m w_m (p_m - sum_k w_k p_k)**2`` with the
            normalised weights ``w``. The same for every strategy; 0 when
            the members agree exactly.

        See Also
        --------
        score : these and the probabilities from one pass over the members.
        """
        scores = self.score(x)
        return scores.classes, scores.confidence, scores.variance

    # --- persistence ---------------------------------------------------------

    def config_dict(self) -> dict[str, Any]:
        """JSON-able description: model, strategy, weights and member config.

        Returns
        -------
        dict
            ``model_name``, ``display_name``, ``ensemble_method``
            (``'f1_weighted'``), ``strategy``, ``n_members``, ``weights``
            (normalised), ``f1_scores`` (as given), ``model_config`` (the
            first member's config, ``None`` for unregistered members) and,
            only when members differ, ``member_model_configs``.
        """
        configs = [_member_config(m) for m in self.models]
        info: dict[str, Any] = {
            "model_name": self.model_name,
            "display_name": get_model_entry(self.model_name).display_name if self.model_name else None,
            "ensemble_method": "f1_weighted",
            "strategy": self.strategy,
            "n_members": len(self.models),
            "weights": [float(w) for w in self.weights],
            "f1_scores": [float(s) for s in self.f1_scores],
            "model_config": configs[0],
        }
        if any(config != configs[0] for config in configs):
            info["member_model_configs"] = configs
        return info

    def save(self, path: str | os.PathLike, extra: Mapping[str, Any] | None = None) -> Path:
        """Write the whole ensemble to one ``.pth`` file, atomically.

        The file holds each member's config and CPU weights, the F1 scores,
        the strategy, ``extra`` (plain data and tensors; defaults to
        :attr:`extra`) and a checksum of all its tensors (verified by
        :meth:`load`), and loads with ``torch.load(weights_only=True)``.

        Raises
        ------
        TypeError
            A member is not a registered seismag model, or ``extra`` holds an
            object that is neither a tensor nor plain data.
        """
        members = []
        for index, member in enumerate(self.models):
            member = unwrap_model(member)
            if not hasattr(member, "config") or not hasattr(member, "model_name"):
                raise TypeError(
                    f"ensemble member {index} ({type(member).__name__}) is not a seismag model; cannot save"
                )
            members.append({"model_config": member.config.to_dict(), "state_dict": cpu_state_dict(member)})
        payload = {
            "format": ENSEMBLE_FORMAT,
            "format_version": FORMAT_VERSION,
            "seismag_version": __version__,
            "torch_version": str(torch.__version__),
            "model_name": self.model_name,
            "strategy": self.strategy,
            "weights": [float(w) for w in self.weights],
            "f1_scores": [float(s) for s in self.f1_scores],
            "members": members,
            "extra": to_plain(dict(self.extra if extra is None else extra), "extra"),
        }
        return save_torch(path, with_checksum(payload))

    @classmethod
    def load(cls, path: str | os.PathLike, device: str | torch.device = "cpu") -> "F1WeightedEnsemble":
        """Rebuild an ensemble written by :meth:`save`, on ``device``, in eval mode.

        Raises
        ------
        CheckpointError
            One line naming the file: missing, corrupt, foreign, not an
            ensemble file, tensors that do not match the stored checksum, or
            non-finite weights.
        """
        data = read_seismag_file(path, ENSEMBLE_FORMAT)
        members_data = data["members"]
        if not isinstance(members_data, list) or not members_data:
            raise CheckpointError(f"{path}: damaged ensemble file: no members")
        models = []
        for index, member in enumerate(members_data):
            try:
                config, state = member["model_config"], member["state_dict"]
            except (TypeError, KeyError):
                raise CheckpointError(
                    f"{path}: damaged ensemble file: member {index} lacks config or weights"
                ) from None
            models.append(model_from_parts(path, data["model_name"], config, state))
        scores = data.get("f1_scores", data["weights"])
        try:
            ensemble = cls(models, scores, strategy=data["strategy"])
        except ConfigError as exc:
            raise CheckpointError(f"{path}: damaged ensemble file: {exc}") from exc
        ensemble.extra = dict(data.get("extra") or {})
        return ensemble.to(device).eval()


def _member_config(member: nn.Module) -> dict[str, Any] | None:
    config = getattr(unwrap_model(member), "config", None)
    return config.to_dict() if hasattr(config, "to_dict") else None

