"""Dataset: observatory records and a catalog turned into windows, and windows read back.

``build`` (records + catalog -> windows: plan, channels, label, report, write),
``recipe`` (the preprocessing steps from raw windows to model input), ``loading`` (the
seed layout read and checked, NaN gaps), ``analysis`` (class balance and weights),
``seed_writer`` (the one writer of the seed layout).

May import: errors, io, defaults, layout, sources and NumPy; never torch, models or training.
"""
