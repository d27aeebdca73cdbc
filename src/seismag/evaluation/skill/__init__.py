"""Alarm-based forecast evaluation: daily scores against an earthquake catalog.

``seismag skill`` reads the scores.csv of ``seismag scan`` and judges each model the way
the field judges forecasts (Molchan 1990, 1991; Zechar & Jordan 2008): alarms raised when
a score passes a threshold, the Molchan trajectory of missed events against time under
alarm, its area skill score (ASS) and probability gain, the binomial significance of each
point, a circular-shift surrogate null, and references scored on the same station-days
and events (random alarms, Kp, Dst).

Modules, along the flow of a run (scores.csv itself is read and checked by
:func:`seismag.layout.forecast.read_scores`):

- ``labels``      the target settings: recorded beside the scores, or given, never contradicted
- ``alarms``      rows -> scored station-days and each day's alarm level (its rank within its station)
- ``events``      target events and the (event, station) pairs that can catch each
- ``molchan``     trajectory, ASS, gain, binomial alpha, pointwise 95 % contour (plain arrays)
- ``surrogates``  the circular-shift null and its p-values
- ``family``      p-values adjusted over every model and window of a run (Westfall-Young max-T)
- ``reliability`` each row's outcome, the proper scores and reliability table of the daily probabilities,
                  Brier skill against the per-station event rate of the training period
- ``references``  random, rate, Kp, Dst and activity references
- ``run``         one evaluation, its verdicts in words, skill.json and skill.csv

Torch-free (NumPy only).

May import: errors, io, defaults, scores, layout, lock, sources (catalog, indices, decluster); never
torch, models, training or inference: it reads scores.csv files.
"""

from seismag.evaluation.skill.molchan import area_skill_score, molchan_trajectory, probability_gain
from seismag.evaluation.skill.run import SKILL_CSV, SKILL_JSON, evaluate_skill, format_skill_report
from seismag.layout.forecast import SCORE_COLUMNS, read_scores

__all__ = ["SCORE_COLUMNS", "SKILL_CSV", "SKILL_JSON", "area_skill_score", "evaluate_skill",
           "format_skill_report", "molchan_trajectory", "probability_gain", "read_scores"]
