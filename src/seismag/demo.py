"""``seismag demo``: the forecast path, then every model on every window, figures and the report.

The whole pipeline a researcher runs on real data, on built-in synthetic data small
enough for a laptop CPU:

- the forecast path (``OUT/forecast/``): continuous synthetic records (``synth
  --records``) -> training windows with the Kp / Dst activity columns (``build``) ->
  models trained on the first half only (``train --train-until``) -> every later day
  scored (``scan --start``) -> alarms against the catalog with the random and Kp / Dst
  references (``skill``), written to ``OUT/results/skill/`` where the report finds it;
- cross-validation of every model on every window of a synthetic window dataset
  (``OUT/data/``, ``OUT/results/``), its figures, and the HTML report, which opens with
  the forecast verdicts.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from seismag import defaults
from seismag.config import make_config, tiny_models
from seismag.synth.windows import generate_dataset
from seismag.layout.forecast import SKILL_FOLDER
from seismag.layout.results import FIGURE_FOLDER, ensemble_files
from seismag.training.pipeline import format_summary_table, run_experiment, setup_logging

logger = logging.getLogger("seismag")

# --tiny: the same stages at a toy size (a 48-sample "day"), for tests and smoke checks.
TINY = {
    "synth_preset": "quick",
    "steps_per_day": 48,
    "config": {"epochs": 2, "num_folds": 2, "batch_size": 16, "model_overrides": tiny_models()},
}
# The forecast path: records of 1-minute data (1440 a day, also with --tiny), trained up to
# the record's middle day and scored after it; `models` when --models leaves them open.
FORECAST = {"days": 240, "stations": 4, "start": "2020-01-01", "window": 7, "models": ("features", "mlp"),
            "surrogates": 200}
TINY_FORECAST = {**FORECAST, "days": 90, "stations": 2, "models": ("features",), "surrogates": 50}


def run_demo(out: str | Path = "demo", *, seed: int = 42, models=None, windows=None, tiny: bool = False,
             progress: bool = True, dpi: int = 150) -> Path:
    """Run the demo into ``out`` (``data/``, ``results/``, ``logs/``); return the report's path."""
    out = Path(out)
    began = time.perf_counter()
    steps_per_day = TINY["steps_per_day"] if tiny else defaults.STEPS_PER_DAY
    settings = dict(TINY["config"]) if tiny else {}
    # the configuration first: a bad --models / --windows is refused before anything is written
    config = make_config("quick", models=models, windows=windows or defaults.WINDOWS, seed=seed,
                         steps_per_day=steps_per_day, **settings)
    setup_logging(log_dir=out / "logs")
    results_dir = out / "results"
    run_forecast(out / "forecast", results_dir / SKILL_FOLDER, TINY_FORECAST if tiny else FORECAST, seed=seed,
                 models=models, settings=settings, progress=progress, dpi=dpi)
    data_dir = out / "data"
    logger.info("2/5 synthetic data -> %s", data_dir)
    generate_dataset(data_dir, preset=TINY["synth_preset"] if tiny else "quick", seed=seed,
                     windows=config.windows, steps_per_day=steps_per_day,
                     overwrite=True)  # the demo's own folder: a rerun replaces its data

    logger.info("3/5 training %s on %s-day windows (preset quick)", ", ".join(config.models),
                ", ".join(map(str, config.windows)))
    results = run_experiment(config, data_dir, results_dir, progress=progress)
    print(format_summary_table(results))

    from seismag.plots import plot_all
    from seismag.report import write_report

    logger.info("4/5 figures -> %s", results_dir / FIGURE_FOLDER)
    plot_all(results_dir, dpi=dpi)
    logger.info("5/5 report")
    report = write_report(results_dir)
    logger.info("demo finished in %.0f s", time.perf_counter() - began)
    return report


def run_forecast(folder: Path, skill_dir: Path, sizes: dict, *, seed: int, models=None, settings: dict,
                 progress: bool, dpi: int) -> dict:
    """The forecast path into ``folder`` (records, data, results, scores.csv) and ``skill_dir``.

    Trains ``models`` (``sizes["models"]`` when None) on the windows that end before the
    record's middle day, scores every day after it and judges the scores against the
    catalog with the Kp / Dst references; returns what ``skill.json`` holds.
    """
    import datetime as dt

    from seismag.dataset.build import build_dataset
    from seismag.synth.records import generate_records
    from seismag.inference import scan_records
    from seismag.plots import plot_skill
    from seismag.evaluation.skill import evaluate_skill, format_skill_report

    cutoff = (dt.date.fromisoformat(sizes["start"]) + dt.timedelta(days=sizes["days"] // 2)).isoformat()
    config = make_config("quick", models=models or sizes["models"], windows=(sizes["window"],), seed=seed,
                         train_until=cutoff, **settings)
    records, data_dir, results_dir = folder / "records", folder / "data", folder / "results"
    logger.info("1/5 forecast path: %d days of records at %d stations -> %s; %s trained until %s, scored after",
                sizes["days"], sizes["stations"], folder, ", ".join(config.models), cutoff)
    generate_records(records, days=sizes["days"], n_stations=sizes["stations"], start=sizes["start"], seed=seed,
                     overwrite=True)  # the demo's own folders: a rerun replaces them
    kp, dst = records / "indices" / "kp.csv", records / "indices" / "dst.dat"
    build_dataset(records / "observatory", records / "catalog.csv", data_dir, windows=(sizes["window"],),
                  kp=kp, dst=dst, overwrite=True)
    run_experiment(config, data_dir, results_dir, progress=progress)
    ensembles = ensemble_files(results_dir)
    scores = folder / "scores.csv"
    scan_records(ensembles, records / "observatory", scores, kp=kp, dst=dst, start=cutoff)
    # judged by the targets the training windows were labelled with (scores.meta.json)
    result = evaluate_skill(scores, records / "catalog.csv", skill_dir, kp=kp, dst=dst,
                            surrogates=sizes["surrogates"], seed=seed)
    print(format_skill_report(result))
    plot_skill(skill_dir, scores=scores, kp=kp, dst=dst, dpi=dpi)
    return result
