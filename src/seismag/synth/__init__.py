"""Synth: known-answer data from one set of physics.

``windows`` (synthetic windows in the seed layout) and ``records`` (continuous synthetic
observatory records with their catalog and Kp/Dst/SSC files).

May import: errors, io, defaults, layout, sources, dataset and NumPy; never torch or models.
"""
