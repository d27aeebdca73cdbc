"""Evaluation: how forecasts and classifiers are judged.

``skill`` (alarms against the catalog: Molchan diagram, area skill score, probability
gain, surrogate significance, references).

May import: errors, io, defaults, scores, layout, sources, dataset; never torch, models or training.
"""
