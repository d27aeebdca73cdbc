"""A window's data on the training device and the per-fold scaling applied to it.

The window's features are held once as a contiguous float32 tensor; batches are
gathered by index and scaled on the fly with the fold's statistics, so no fold
copies the data set. Imports torch and numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

# Float64 chunk size for the scaler's statistics.
SCALER_CHUNK_BYTES = 8 << 20


@dataclass
class WindowTensors:
    """A window's data on the training device. ``features``: (n, days*steps) float32."""

    features: torch.Tensor
    labels: torch.Tensor
    window_days: int
    steps_per_day: int
    # True: ``features`` are already what the model takes (e.g. cached fixed features).
    model_input: bool = False

    @classmethod
    def from_window(cls, data, device: torch.device) -> "WindowTensors":
        features = torch.from_numpy(data.features)
        labels = torch.from_numpy(data.labels)
        return cls(features.to(device), labels.to(device), data.window_days, data.steps_per_day)



@dataclass
class Scaler:
    """Input scaling fitted on a fold's training rows only.

    kind 'standard': per-feature (x - mean) / std with training-row statistics;
    'sample': each window standardised by its own mean and std (nothing fitted);
    'none': identity.
    """

    kind: str
    mean: torch.Tensor | None = None
    std: torch.Tensor | None = None

    @classmethod
    def fit(cls, kind: str, features: torch.Tensor, rows: np.ndarray) -> "Scaler":
        if kind != "standard":
            return cls(kind)
        total = torch.zeros(features.shape[1], dtype=torch.float64, device=features.device)
        total_sq = torch.zeros_like(total)
        index = torch.as_tensor(rows, device=features.device)
        # Chunked float64 sums (SCALER_CHUNK_BYTES a chunk): exact enough, never a full copy of the rows.
        step = max(1, SCALER_CHUNK_BYTES // (8 * max(1, features.shape[1])))
        for start in range(0, len(index), step):
            chunk = features[index[start:start + step]].double()
            total += chunk.sum(0)
            total_sq += (chunk * chunk).sum(0)
        n = float(len(index))
        mean = total / n
        var = (total_sq / n - mean * mean).clamp_min(0.0)
        std = var.sqrt()
        std = torch.where(std < 1e-6, torch.ones_like(std), std)  # constant features stay finite
        return cls(kind, mean.float(), std.float())

    def apply(self, batch: torch.Tensor, inplace: bool = False) -> torch.Tensor:
        """Scaled ``batch``; ``inplace=True`` overwrites it (for a freshly gathered copy)."""
        if self.kind == "standard":
            mean, std = self.mean, self.std
        elif self.kind == "sample":
            mean = batch.mean(dim=1, keepdim=True)
            std = batch.std(dim=1, keepdim=True).clamp_min(1e-6)
        else:
            return batch
        if inplace:
            return batch.sub_(mean).div_(std)
        return (batch - mean) / std

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind,
                "mean": None if self.mean is None else self.mean.detach().cpu(),
                "std": None if self.std is None else self.std.detach().cpu()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], device: torch.device | str = "cpu") -> "Scaler":
        mean, std = data.get("mean"), data.get("std")
        return cls(data["kind"], None if mean is None else mean.to(device),
                   None if std is None else std.to(device))
