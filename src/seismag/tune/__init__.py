"""Hyperparameter search with Optuna (``seismag tune``, ``main_gru(optimize=True)``).

A study maximises the weighted F1 of one model on one window, measured on an
*inner* split carved from the training rows of one outer cross-validation
fold, and prunes trials whose per-epoch F1 on those rows falls below the
median of earlier trials.

What lives where
----------------
``space``    search-space dimensions (:class:`Param`), each model's default space
``split``    which rows a trial may see (:func:`tuning_split`)
``storage``  where a study lives (SQLite default, or a URL) and the door to Optuna
``spec``     one search's options, resolved and checked once (:class:`StudySpec`)
``summary``  best_config.toml, trials.csv, tuning_rows.npz, tune_summary.json,
             the results and :func:`format_tune_result`
``study``    the Optuna loop, the objective, pruning, the nested protocol
             (:func:`run_study`, :func:`tuned_config`)

The modules import each other in that order (a later one from earlier ones,
never back).

May import: from the rest of seismag only what a run of ``seismag train`` is made of:
errors, io, defaults, layout, lock, dataset (loading), models, config, runtime, training
(prepared, fold, tensors, kfold, splits) -- never the CLI, spec, the pipeline or plots. Optuna is an optional extra (``pip install
'seismag[tune]'``), imported only inside functions through
:func:`~seismag.tune.storage.import_optuna`: ``import seismag.tune`` works
without it.

Honest numbers: which rows the search sees
------------------------------------------
The outer folds are the ones ``seismag train`` will use with the written
configuration (same seed, split and number of folds, see :func:`tuning_split`),
cut from the same window: ``train_until`` (``--train-until``) keeps only the
windows whose label horizon ends by that date, as in ``seismag train``
(:func:`~seismag.training.prepared.prepare_window`). ``best_config.toml`` records
the cutoff in its ``[tuned]`` table, and ``seismag train`` refuses it for a run
whose cutoff is earlier, or when the search had none
(:func:`~seismag.config.check_tuned_cutoff`).

``protocol='fold'`` (default)
    The search sees only the training rows of outer fold ``outer_fold``
    (default 1): trials train on part of them and are scored on the rest (a
    stratified, or grouped with ``split='group'``, share ``inner_fraction``).
    That fold's validation rows are never read by any trial, so fold
    ``outer_fold``'s score in a later ``seismag train --config best_config.toml``
    is clean. The other folds' validation rows lie inside fold
    ``outer_fold``'s training rows, which the search did see: their scores are
    (mildly) optimistic. ``tune_summary.json`` says so and names the clean fold.
``protocol='nested'``
    One study per outer fold, each on that fold's training rows only; then each
    fold is trained with its own best parameters and scored on its validation
    rows. The mean over folds is a nested cross-validation estimate of the
    whole procedure (search + training), clean on every fold. It costs one
    study per fold and yields one configuration per fold (``fold_{k}/``), not
    one configuration to deploy.

Several processes share one study
---------------------------------
Every process given the same ``storage`` URL and study name works on one
study (Optuna's RDB storage): the default is an SQLite file ``tune.db`` in
``out_dir``; a PostgreSQL or MySQL URL works for many machines. With
``trials=N`` the processes together finish exactly N trials (completed or
pruned): a trial number is claimed before it runs, and a process that finds N
trials already claimed stops. A process killed outright (SIGKILL) leaves its
trial RUNNING, and that trial still counts.
"""

from seismag.tune.space import (MODEL_SPACE, RUN_SPACE, TUNABLE_RUN_FIELDS, Param, choice, integer, log_uniform, model_fields,
                    search_space, uniform)
from seismag.tune.spec import PROTOCOLS, StudySpec, parse_duration
from seismag.tune.split import TuningSplit, tuning_split
from seismag.tune.storage import import_optuna, open_storage, redact_url, storage_lock
from seismag.tune.study import run_study, run_trials, tuned_config
from seismag.tune.summary import (OBJECTIVE, PROTOCOL_NOTES, StudyResult, TuneResult, format_params, format_tune_result,
                      write_trials_csv)

__all__ = [
    "MODEL_SPACE", "OBJECTIVE", "PROTOCOLS", "PROTOCOL_NOTES", "RUN_SPACE", "TUNABLE_RUN_FIELDS", "Param",
    "StudyResult", "StudySpec", "TuneResult", "TuningSplit", "choice", "format_params", "format_tune_result",
    "import_optuna", "integer", "log_uniform", "model_fields", "open_storage", "parse_duration", "redact_url",
    "run_study", "run_trials", "search_space", "storage_lock", "tuned_config", "tuning_split", "uniform",
    "write_trials_csv",
]
