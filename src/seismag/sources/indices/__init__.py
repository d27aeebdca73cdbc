"""Geomagnetic activity indices: the files agencies publish and the storm rule built on them.

One module per concern, each the owner of its names (import from the module, not from
this package): ``kp`` (3-hourly Kp, the CSV re-export and GFZ's text; :class:`KpSeries`,
read and written), ``dst`` (hourly Dst in the WDC exchange format), ``ssc`` (the ISGI
sudden-commencement lists), ``activity`` (the indices on one row per UTC day,
:class:`DailyActivity`, and their summary over windows), ``storm`` (the storm thresholds
and the storm rule: which days are disturbed, which windows hold one) and ``days`` (the
day and line rules the three file modules share).

Order inside the package: days <- kp, dst, ssc <- activity <- storm.

May import: errors, io, NumPy and the standard library; never torch, dataset, models or
training.
"""
