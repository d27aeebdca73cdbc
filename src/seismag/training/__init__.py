"""Training: one epoch loop, one fold trainer, one k-fold driver, one artifact writer (SPEC Modules 3, 5, 6).

Along the flow of a run: ``pipeline`` (run_experiment: one ``prepared`` window each, loaded,
cut, its folds and model configs decided; record the run; one ``job`` per window, one ``unit`` per model) -> ``kfold`` (the folds of one model:
``FoldTask`` s for the ``parallel`` runner, the ensemble and the summary) -> ``fold`` (one
fold: optimizer, scheduler, loss, epoch selection) -> ``loop`` (one pass over rows) on
``tensors`` (the window on the device, per-fold scaling). Beside them: ``splits``,
``metrics``, ``losses``, ``evaluation`` (intervals, baselines, permutations, proper scores),
``calibration`` (the ensembles' Platt calibrator, fitted on out-of-fold rows),
``artifacts`` (the results files), ``preflight`` (what a run checks in its results folder
before writing: the output location, and on ``--resume`` the recorded run and every kept file),
``executors`` (Ray).

May import: errors, io, defaults, scores, layout, lock, dataset, models, config, runtime. Never
inference, evaluation, plots, tune or cli.
"""
