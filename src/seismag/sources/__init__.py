"""Sources: what observatories and agencies publish, read and written.

Observatory records: ``station_record`` (the one record model, :class:`StationRecord`, and
the gridding, overlap and gap rules both formats share), ``iaga`` (IAGA-2002 text) and
``imagcdf`` (INTERMAGNET ImagCDF, over the CDF container of ``cdf``), and ``records`` (the
entry that reads a station's files of either format). Then ``catalog`` (earthquake
catalogs), ``decluster`` (Gardner-Knopoff mainshocks and aftershock regions) and the
``indices`` package (Kp, Dst and sudden-commencement files, daily activity, the storm
rule). Importers import from the module that owns a name.

May import: errors, io, defaults, layout and NumPy; never torch, dataset, models or training.
"""
