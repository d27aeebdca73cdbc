"""seismag: geomagnetic earthquake-precursor classification.

The public face, for notebooks and scripts::

    import seismag

    seismag.list_models()                         # ['gru', 'lstm', ..., 'features', 'minirocket']
    model = seismag.create_model("gru", window_days=7)
    config = seismag.RunConfig(models=("gru", "mlp"), windows=(7,))   # or seismag.make_config("quick", ...)
    results = seismag.run_experiment(config, "data/", "results/")
    ensemble = seismag.load_ensemble("results/gru_models/GRUModel_7day_ensemble.pth")
    scores = seismag.predict(ensemble, windows)   # raw windows (n, days * steps_per_day)

The flow of data, one package per stage (each imports only the stages before it):
``data`` (windows in, validated) -> ``models`` (the registry) -> ``training`` (one
epoch loop, one fold trainer, one k-fold driver, the artifact writer) -> ``inference``
(predict, evaluate) -> ``plots`` (figures and the report, reading ``results/`` only).
``layout`` names the files on disk, ``runtime`` the device, precision and process
settings, ``config`` the run configuration, ``compat`` the SPEC notebooks' names.

The names below are loaded on first use, so ``import seismag`` (and torch-free
modules such as ``seismag.config``) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> (module, attribute)
_PUBLIC = {
    "create_model": ("seismag.models", "create_model"),
    "list_models": ("seismag.models", "list_models"),
    "RunConfig": ("seismag.config", "RunConfig"),
    "make_config": ("seismag.config", "make_config"),
    "run_experiment": ("seismag.training.pipeline", "run_experiment"),
    "load_ensemble": ("seismag.inference", "load_trained_ensemble"),
    "predict": ("seismag.inference", "predict_array"),
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        module, attribute = _PUBLIC[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'seismag' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
