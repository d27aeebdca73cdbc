"""Dataset: observatory records and a catalog turned into windows, and windows read back.

``build`` (records + catalog -> windows: plan, label, report, write), ``stations`` (a
station's records on whole UTC days and the row of one window: what build writes and
``seismag scan`` scores), ``channels`` (the channels a build may ask for: names, units,
derivations), ``recipe`` (the preprocessing from raw windows to model input) and its
steps ``recipe_steps``, ``loading`` (the seed layout read and checked, NaN gaps),
``balance`` (class balance and the class weights training uses).

May import: errors, io, defaults, layout, sources and NumPy; never torch, models or training.
"""
