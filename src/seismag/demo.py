"""``seismag demo``: synthetic data -> every model on every window -> figures -> report.

The whole pipeline a researcher runs on real data, on a built-in synthetic
dataset small enough for a laptop CPU.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from .config import make_config, tiny_models
from .data.synthetic import generate_dataset
from .layout import FIGURE_FOLDER
from .training.pipeline import format_summary_table, run_experiment, setup_logging

logger = logging.getLogger("seismag")

# --tiny: the same stages at a toy size (a 48-sample "day"), for tests and smoke checks.
TINY = {
    "synth_preset": "quick",
    "steps_per_day": 48,
    "config": {"epochs": 2, "num_folds": 2, "batch_size": 16, "model_overrides": tiny_models()},
}


def run_demo(out: str | Path = "demo", *, seed: int = 42, models=None, windows=None, tiny: bool = False,
             progress: bool = True, dpi: int = 150) -> Path:
    """Run the demo into ``out`` (``data/``, ``results/``, ``logs/``); return the report's path."""
    out = Path(out)
    began = time.perf_counter()
    steps_per_day = TINY["steps_per_day"] if tiny else 1440
    settings = dict(TINY["config"]) if tiny else {}
    # the configuration first: a bad --models / --windows is refused before anything is written
    config = make_config("quick", models=models, windows=windows or (7, 14, 30), seed=seed,
                         steps_per_day=steps_per_day, **settings)
    setup_logging(log_dir=out / "logs")
    data_dir = out / "data"
    logger.info("1/4 synthetic data -> %s", data_dir)
    generate_dataset(data_dir, preset=TINY["synth_preset"] if tiny else "quick", seed=seed,
                     windows=config.windows, steps_per_day=steps_per_day,
                     overwrite=True)  # the demo's own folder: a rerun replaces its data

    logger.info("2/4 training %s on %s-day windows (preset quick)", ", ".join(config.models),
                ", ".join(map(str, config.windows)))
    results_dir = out / "results"
    results = run_experiment(config, data_dir, results_dir, progress=progress)
    print(format_summary_table(results))

    from .plots import plot_all, write_report

    logger.info("3/4 figures -> %s", results_dir / FIGURE_FOLDER)
    plot_all(results_dir, dpi=dpi)
    logger.info("4/4 report")
    report = write_report(results_dir)
    logger.info("demo finished in %.0f s", time.perf_counter() - began)
    return report
