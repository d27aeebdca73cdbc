"""Synth: known-answer data from one set of physics.

Two generators: ``windows`` (synthetic windows in the seed layout) and ``records``
(continuous synthetic observatory records with their catalog and Kp/Dst/SSC files). The
physics both draw from, each module the owner of its names: ``stations`` (the clock and the
station table with its H, D, Z baselines), ``storms`` (the solar cycle and the global
storm disturbance), ``field`` (Sq, the storm field and the ULF envelope at a station; the
H, D, Z channels and the precursor), ``noise`` (seeded random streams, red ULF noise,
spikes and gaps) and ``earthquakes`` (the records' events and catalog).

Order inside the package: stations <- storms, noise <- field <- earthquakes; the two
generators import these and not each other.

May import: errors, io, defaults, layout, lock, sources, dataset and NumPy; never torch or models.
"""
