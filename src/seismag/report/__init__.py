"""The HTML report (``seismag report``): one self-contained page describing a results folder.

Like :mod:`seismag.plots`, it reads only the files on disk: the results folder written
by training (``docs/artifacts.md``) and, when there is one, the skill folder written by
``seismag skill``. Its figures are drawn afresh by :mod:`seismag.plots` and embedded.

Modules
-------
``page``     ``write_report``: the page, its head and style, its sections in order
``skill``    the "Forecast skill" section (Molchan diagram, verdicts, station figures)
``tables``   metrics per model and window, the evaluation protocol, the dataset
``chance``   scores against chance: intervals, the majority baseline, the permutation control
``calibration`` proper scores before and after calibration, the reliability diagrams
``figures``  the four SPEC figure modules, drawn afresh and embedded
``markup``   escaping, numbers and embedded PNGs, which every section writes with
``explain``  the "What drives the scores" section, from ``seismag explain`` folders
``importance`` the "What the trees used" section, from the folds' feature-importance tables

May import: errors, io, layout, plots, sources (the storm definition), NumPy and matplotlib; never training, models,
inference, evaluation or torch, so a page can be written from results made on another
machine.

Public API
----------
write_report(results_dir, out=None, *, figure_dpi=100, skill_dir=None)
    one HTML page (default ``results_dir/report.html``), with a "Forecast skill" section
    when ``results_dir/skill/skill.json`` (or ``skill_dir``) exists
"""

from seismag.report.page import write_report

__all__ = ["write_report"]
