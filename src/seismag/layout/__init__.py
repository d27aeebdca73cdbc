"""The on-disk contracts: one module per file contract, each owning its writer and its reader.

- ``seed``: the seed layout's window folders (``window-{N}/data_0.npy``,
  ``data_1.npy``, ``meta.csv``): names, fingerprint, the checks a class file must pass and
  the one writer (``seismag synth`` and ``seismag build`` write through it).
- ``dataset_info``: ``dataset.json`` beside the window folders, its label
  settings, and what a folder without it holds (one raw channel, H in nT).
- ``results``: the results layout (``{model}_models/`` fold files, epoch
  logs, summaries, ensemble configs) that training and ``seismag evaluate`` write and the
  plots read.
- ``forecast``: ``scores.csv`` and ``scores.meta.json`` (``seismag scan``
  writes them, ``seismag skill`` and the figures read them) and ``skill.json``'s names.
- ``explain``: ``explain.json`` and ``explain.csv`` (``seismag explain`` writes them, its
  figures and the report's "What drives the scores" section read them).

Importers name the module that owns what they use (``from seismag.layout.results import
ArtifactPaths``); this package re-exports nothing.

May import: numpy, the standard library, :mod:`seismag.errors` and :mod:`seismag.io`; never
torch, the models, training or plots, so that the data layer and the plots use these
contracts without pulling them in.
"""
