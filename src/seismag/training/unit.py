"""A unit of work: one model's k-fold cross-validation on one window, with its log lines
and progress bar. The local pipeline and the Ray executor both run units through here."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from seismag import models as model_registry
from seismag.config import RunConfig
from seismag.runtime import prepare_training
from seismag.training.job import WindowJob
from seismag.training.kfold import run_kfold
from seismag.training.prepared import prepare_window

logger = logging.getLogger("seismag")


def epoch_progress(model: str, window_days: int, epochs: int, enabled: bool = True):
    """A tqdm bar per fold: epochs, current loss and validation F1, ETA."""
    from tqdm.auto import tqdm

    def start(fold: int, num_folds: int):
        bar = tqdm(total=epochs, desc=f"{model} {window_days}d fold {fold}/{num_folds}", unit="epoch",
                   leave=False, disable=not enabled, file=sys.stderr)

        def on_epoch(record: dict[str, float]) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{record['train_loss']:.3f}", val_f1=f"{record['val_f1']:.3f}")
            if record["epoch"] >= epochs:
                bar.close()

        on_epoch.close = bar.close
        return on_epoch

    return start


def train_model(job: WindowJob, model: str, out_dir, *, resume: bool = False,
                progress: bool = False) -> dict[str, Any]:
    """One unit of work: a model's k-fold cross-validation on the job's window; returns its summary."""
    data = job.data
    began = time.perf_counter()
    logger.info("training %s on the %d-day window: %d samples %s, %d folds, device %s, %s",
                model, data.window_days, data.n_samples, data.class_counts, len(job.splits), job.device,
                job.precision)
    # A fitted head's epochs are its stages (its config's max_iter; one for a head without stages).
    epochs = (getattr(job.prepared.model_config(model), "max_iter", 1)
              if model_registry.get_model_entry(model).fitted_head else job.config.epochs)
    summary = run_kfold(model, job, out_dir, resume=resume,
                        progress=epoch_progress(model, data.window_days, epochs, progress))
    logger.info("%s %dday: F1 %.4f +/- %.4f  (%.1f s)", summary["model_name"], data.window_days,
                summary["mean"]["f1"], summary["std"]["f1"], time.perf_counter() - began)
    return summary


def train_unit(config: RunConfig, data_dir, out_dir, model: str, window_days: int, *,
               resume: bool = False) -> dict[str, Any]:
    """A unit on its own (a Ray task, another machine): the same job, made for one model.

    Prepares its window (:func:`~seismag.training.prepared.prepare_window`, the pipeline's
    own: the same ``--train-until`` cut, so the same rows and folds) and sets up its
    process itself, so it can run wherever ``data_dir`` and ``out_dir`` are seen.
    Per-fold seeds derive from the run seed, so where a unit runs does not change
    its numbers.
    """
    device, precision = prepare_training(config)
    with WindowJob(prepare_window(config, data_dir, window_days), device, precision) as job:
        return train_model(job, model, out_dir, resume=resume)
