"""Data: windows in, validated (SPEC Module 2 and the seed layout).

``loading`` (the seed layout read and checked, NaN gaps), ``analysis`` (class balance,
weights), ``synthetic`` (known-answer windows) and ``synthetic_records`` (known-answer
continuous records, catalog and indices from the same physics), ``iaga``, ``imagcdf`` and ``records``
(observatory records: IAGA-2002, ImagCDF, and the one entry that reads either), ``catalog``
(earthquake catalogs), ``indices`` (Kp, Dst and sudden-commencement files read and
written, daily activity, the storm rule), ``decluster`` (Gardner-Knopoff mainshocks and
aftershock regions), ``recipe`` (the preprocessing steps from raw windows to model input),
``build`` (records + catalog -> windows: plan, label, report,
write), ``seed_writer`` (the one writer of the seed layout, for build and synthetic).

May import: errors, io, layout and NumPy; never torch, models or training.
"""
