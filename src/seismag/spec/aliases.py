"""The SPEC's data-shaping helpers, kept so its documented usage keeps working.

The original notebooks each defined ``reshape_data_for_<model>``; they all do
the same thing, so here they are one function under several names. New code
can use :func:`seismag.models.to_model_input`, which picks the layout from the
registry.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

from seismag.errors import ConfigError
from seismag.models.transformer import sinusoidal_encoding

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def reshape_to_sequence(X: ArrayT, seq_length: int) -> ArrayT:
    """Split flat windows into ``seq_length`` equal time steps.

    Parameters
    ----------
    X : numpy.ndarray or torch.Tensor
        ``(n, features)``, e.g. ``(n, 10080)`` for 7 days of 1-minute data.
    seq_length : int
        Number of time steps (days), e.g. 7.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same type as ``X``, ``(n, seq_length, features // seq_length)``; a
        view when ``X`` is contiguous.

    Raises
    ------
    ConfigError
        ``X`` is not 2-D, or ``features`` is not a multiple of ``seq_length``.
    """
    if isinstance(seq_length, bool) or not isinstance(seq_length, (int, np.integer)) or seq_length <= 0:
        raise ConfigError(f"seq_length must be a positive integer, got {seq_length!r}")
    if X.ndim != 2:
        raise ConfigError(f"expected flat windows of shape (n, features), got {tuple(X.shape)}")
    n_samples, n_features = X.shape
    if n_features % seq_length:
        raise ConfigError(
            f"{n_features} features per window do not split into {seq_length} equal steps "
            f"({n_features} is not a multiple of {seq_length})"
        )
    return X.reshape(n_samples, int(seq_length), n_features // int(seq_length))


reshape_data_for_gru = reshape_to_sequence
reshape_data_for_lstm = reshape_to_sequence
reshape_data_for_rnn = reshape_to_sequence
reshape_data_for_transformer = reshape_to_sequence


def prepare_mlp_data(X: ArrayT, flatten: bool = True) -> ArrayT:
    """Give the MLP its flat input.

    Parameters
    ----------
    X : numpy.ndarray or torch.Tensor
        ``(n, features)`` or ``(n, days, steps_per_day)``.
    flatten : bool, default True
        Flatten every axis after the first; ``False`` returns ``X`` unchanged.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same type as ``X``, ``(n, days * steps_per_day)`` when flattened.
    """
    if not flatten or X.ndim <= 2:
        return X
    return X.reshape(X.shape[0], -1)


def add_positional_encoding(X: ArrayT, d_model: int) -> ArrayT:
    """Add the sinusoidal positional encoding to a batch of sequences.

    Parameters
    ----------
    X : numpy.ndarray or torch.Tensor
        ``(batch, seq, d_model)`` (or ``(seq, d_model)``).
    d_model : int
        Width of the last axis.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Same type, shape and dtype as ``X``: ``X + pe[:seq]``.

    Raises
    ------
    ConfigError
        The last axis of ``X`` is not ``d_model`` wide.
    """
    if X.ndim < 2 or X.shape[-1] != d_model:
        raise ConfigError(f"expected (batch, seq, {d_model}), got {tuple(X.shape)}")
    seq_length = X.shape[-2]
    if isinstance(X, torch.Tensor):
        return X + sinusoidal_encoding(seq_length, d_model, device=X.device, dtype=X.dtype)
    return X + sinusoidal_encoding(seq_length, d_model, dtype=torch.float64).numpy().astype(X.dtype, copy=False)
