"""Sources: what observatories and agencies publish, read and written.

``records`` (the one record model and the entry that reads either format), ``iaga``
(IAGA-2002) and ``imagcdf`` (INTERMAGNET ImagCDF) observatory files, ``catalog``
(earthquake catalogs), ``decluster`` (Gardner-Knopoff mainshocks and aftershock regions),
``indices`` (Kp, Dst and sudden-commencement files, daily activity, the storm rule).

May import: errors, io, defaults, layout and NumPy; never torch, dataset, models or training.
"""
