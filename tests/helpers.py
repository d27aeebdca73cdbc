"""The one shared test helper module: tiny synthetic datasets and configs (import it as ``helpers``)."""
import csv
import importlib.util
from pathlib import Path

import numpy as np

from seismag.config import make_config, tiny_models
from seismag.synth.windows import generate_window

SPD = 48  # steps per day: small, so sequence models train in seconds


def write_synthetic(root, days=(4,), n0=60, n1=40, effect=None, seed=0, spd=SPD):
    """A seed-layout dataset from the synthetic generator, at a low sampling rate."""
    for window in days:
        X, y, meta = generate_window(window, n0, n1, seed=seed, effect=effect, steps_per_day=spd)
        folder = root / f"window-{window}"
        folder.mkdir(parents=True, exist_ok=True)
        for label in (0, 1):
            rows = X[y == label]
            np.save(folder / f"data_{label}.npy", np.hstack([rows, np.full((len(rows), 1), float(label))]))
        with open(folder / "meta.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(meta[0]))
            writer.writeheader()
            writer.writerows(meta)
    return root


def tiny_config(**overrides):
    values = dict(epochs=2, num_folds=2, steps_per_day=SPD, windows=[4], batch_size=16,
                  model_overrides=tiny_models())
    values.update(overrides)
    return make_config("paper", **values)


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str):
    """The script ``benchmarks/{name}.py`` imported as a module (benchmarks are not a package)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
