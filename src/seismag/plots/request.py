"""One call of a figure module: what it is asked to draw, where, and what it wrote.

The four SPEC figure modules (training curves, model comparison, ROC curves, confusion
matrices) take the same arguments: a results folder, a resolution and format, optional
model and window filters, and an optional output folder. :meth:`FigureRequest.open`
checks those arguments, opens the results folder and selects the models and windows once;
:meth:`FigureRequest.save` writes each figure into the module's sub-folder and records
its path, so every module saves its figures the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from matplotlib.figure import Figure

from seismag.plots.results import ModelEntry, PlotResult, ResultsFolder, figure_root, note, window_name
from seismag.plots.style import check_dpi, check_format, save_figure

#: A path given as text or as a path object.
PathLike = str | os.PathLike
#: Window filter of a figure module (``[7, "14day"]``); every window found when ``None``.
WindowFilter = Iterable[int | str] | None
#: Model filter of a figure module (registry or display names); every model found when ``None``.
ModelFilter = Iterable[str] | None
#: What a figure module computes per model and window (curves, a matrix, statistics).
T = TypeVar("T")


@dataclass
class FigureRequest:
    """The checked arguments of one figure module call, and the paths it has written.

    ``entries`` and ``days`` are the models and windows selected (in the results'
    order); ``folder`` is where this module's figures go; ``out`` collects the paths
    written and the notes on what was skipped.
    """

    results: ResultsFolder
    entries: list[ModelEntry]
    days: list[int]
    folder: Path
    dpi: float
    fmt: str
    out: PlotResult = field(default_factory=PlotResult)

    @classmethod
    def open(cls, results_dir: PathLike, subfolder: str, *, dpi: float, fmt: str, windows: WindowFilter = None,
             models: ModelFilter = None, out_dir: PathLike | None = None) -> FigureRequest:
        """Check ``fmt`` and ``dpi``, open ``results_dir`` and select ``windows`` and ``models``.

        The figures go to ``out_dir/subfolder`` when ``out_dir`` is given, else to
        ``results_dir/performance_visualization/subfolder``. Unknown models or windows
        are notes in ``out.notes``.

        Raises
        ------
        ConfigError
            An unsupported format or a dpi that is not a positive number.
        SeismagError
            The results folder is missing or holds no model folder.
        """
        fmt, dpi = check_format(fmt), check_dpi(dpi)
        results = ResultsFolder(results_dir)
        out = PlotResult()
        entries, days = results.select(windows, models, out.notes)
        return cls(results, entries, days, figure_root(results, out_dir) / subfolder, dpi, fmt, out)

    @property
    def notes(self) -> list[str]:
        """What was skipped and why (the notes of :attr:`out`)."""
        return self.out.notes

    def collect(self, window: int, compute: Callable[[ResultsFolder, ModelEntry, int, list[str]], T | None],
                consequence: str, missing: str | None = None) -> list[T]:
        """``compute(results, entry, window, notes)`` for each selected model, in order.

        A model without results for ``window`` is left out with the note ``"{Model}: no
        results for {N}day; {consequence}"``; one whose ``compute`` gives ``None`` is left
        out too, with the note ``"{Model} {N}day: {missing}; {consequence}"`` when
        ``missing`` is given (else ``compute`` has said why).
        """
        found = []
        for entry in self.entries:
            if window not in self.results.windows(entry):
                note(self.notes, f"{entry.display_name}: no results for {window_name(window)}; {consequence}")
                continue
            item = compute(self.results, entry, window, self.notes)
            if item is None:
                if missing is not None:
                    note(self.notes, f"{entry.display_name} {window_name(window)}: {missing}; {consequence}")
                continue
            found.append(item)
        return found

    def panels(self, compute: Callable[[ResultsFolder, ModelEntry, int, list[str]], T | None], consequence: str,
               missing: str | None = None, empty: str | None = None) -> list[tuple[int, list[T]]]:
        """``(window, items)`` of :meth:`collect` for every selected window with at least one item, in
        order (one panel each); a window without any gets the note ``"{N}day: {empty}"`` when given."""
        found = []
        for window in self.days:
            items = self.collect(window, compute, consequence, missing)
            if items:
                found.append((window, items))
            elif empty is not None:
                note(self.notes, f"{window_name(window)}: {empty}")
        return found

    def save(self, fig: Figure, stem: str, *, tight: bool = True) -> Path:
        """Save ``fig`` as ``folder/{stem}.{fmt}`` (see :func:`~seismag.plots.style.save_figure`) and record it."""
        path = save_figure(fig, self.folder / f"{stem}.{self.fmt}", dpi=self.dpi, fmt=self.fmt, tight=tight)
        self.out.append(path)
        return path
