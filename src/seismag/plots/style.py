"""Publication style shared by every figure: colours, fonts, markers, saving.

Figures are built on :class:`matplotlib.figure.Figure` directly, never through
``pyplot``: no global figure registry, no backend to select, nothing left open
after a figure is saved, and it works the same headless or in a notebook.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
from pathlib import Path
from typing import Iterable, Iterator

import matplotlib
from matplotlib import font_manager
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from seismag.io import atomic_path

logger = logging.getLogger("seismag.plots")

#: The SPEC's colour scheme (ColorBrewer Set1), keyed by display name.
COLORS: dict[str, str] = {
    "GRU": "#E41A1C",  # red
    "LSTM": "#377EB8",  # blue
    "MLP": "#4DAF4A",  # green
    "RNN": "#984EA3",  # purple
    "Transformer": "#FF7F00",  # orange
}

#: Markers of the SPEC's models (scatter plots then also read in grey scale) ...
KNOWN_MARKERS = {"GRU": "o", "LSTM": "s", "MLP": "D", "RNN": "^", "Transformer": "v"}
#: ... and for any other model, in order.
MARKERS = ("P", "X", "*", "h", "<", ">", "p", "8", "d", "H")

#: Font preference: Arial as in the paper, then metric-compatible look-alikes,
#: then DejaVu Sans, which ships with matplotlib and is always present.
FONT_PREFERENCE = ("Arial", "Liberation Sans", "Helvetica", "Nimbus Sans", "DejaVu Sans")

#: Output formats :func:`save_figure` accepts.
FORMATS = ("png", "pdf", "svg")


def _fallback_palette() -> list[str]:
    """Qualitative colours for models outside the SPEC's five.

    Set1's remaining colours (without its pale yellow), then Dark2 and tab10;
    anything already used by :data:`COLORS` is left out.
    """
    used = {c.lower() for c in COLORS.values()}
    palette: list[str] = []
    for name, skip in (("Set1", {5}), ("Dark2", set()), ("tab10", set())):
        cmap = matplotlib.colormaps[name]
        for index, rgba in enumerate(cmap.colors):  # type: ignore[attr-defined]
            colour = to_hex(rgba).lower()
            if index in skip or colour in used or colour in palette:
                continue
            palette.append(colour)
    return palette


def model_colors(display_names: Iterable[str]) -> dict[str, str]:
    """Colour for each model, SPEC colours first, the rest from a qualitative map.

    Known names are matched case-insensitively (``"gru"`` gets GRU's red). New
    models get colours in the order given, so pass the full, stably ordered
    model list to keep a model's colour the same across figures.
    """
    known = {name.lower(): colour for name, colour in COLORS.items()}
    palette = _fallback_palette()
    colours: dict[str, str] = {}
    spare = 0
    for name in display_names:
        if name in colours:
            continue
        if name.lower() in known:
            colours[name] = known[name.lower()]
        else:
            colours[name] = palette[spare % len(palette)]
            spare += 1
    return colours


def curve_colors(names: list[str]) -> dict[str, str]:
    """A colour per ensemble name such as ``gru_7day`` (registry name + window).

    The SPEC colour of its registry name when only one window of that model is present,
    else the next colour of the qualitative palette (so two GRU windows differ).
    """
    bases = [re.sub(r"_\d+day$", "", name) for name in names]
    keys = [base if bases.count(base) == 1 else name for name, base in zip(names, bases)]
    colours = model_colors(keys)
    return {name: colours[key] for name, key in zip(names, keys)}


def model_markers(display_names: Iterable[str]) -> dict[str, str]:
    """One marker per model: fixed ones for the SPEC's five, the rest in the order given."""
    known = {name.lower(): marker for name, marker in KNOWN_MARKERS.items()}
    markers: dict[str, str] = {}
    spare = 0
    for name in dict.fromkeys(display_names):
        if name.lower() in known:
            markers[name] = known[name.lower()]
        else:
            markers[name] = MARKERS[spare % len(MARKERS)]
            spare += 1
    return markers


@functools.lru_cache(maxsize=None)
def font_family() -> str:
    """The first installed font of :data:`FONT_PREFERENCE`.

    Resolving it once, here, means matplotlib is only ever asked for a font that
    exists, so there is no ``findfont: Font family 'Arial' not found`` warning
    per text element when Arial is absent.
    """
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    for name in FONT_PREFERENCE:
        if name in installed:
            if name != FONT_PREFERENCE[0]:
                logger.debug("font %r not installed; using %r", FONT_PREFERENCE[0], name)
            return name
    return "DejaVu Sans"


def style_params() -> dict[str, object]:
    """rcParams of the publication style (used inside :func:`publication_style`)."""
    return {
        "font.family": [font_family()],
        "font.size": 12,
        "axes.titlesize": 14,
        "axes.titleweight": "bold",
        "axes.labelsize": 13,
        "axes.linewidth": 1.0,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "grid.linestyle": "--",
        "grid.linewidth": 0.6,
        "xtick.labelsize": 11,
        "ytick.labelsize": 11,
        "xtick.direction": "out",
        "ytick.direction": "out",
        "legend.fontsize": 11,
        "legend.frameon": True,
        # Transparent legend background with a visible border, as the SPEC asks
        # (framealpha would fade the border too, so the face colour is "none").
        "legend.facecolor": "none",
        "legend.framealpha": 1.0,
        "legend.edgecolor": "0.25",
        "legend.fancybox": False,
        "lines.linewidth": 2.0,
        "savefig.facecolor": "white",
        "savefig.bbox": None,
        # TrueType (not Type 3) fonts in PDF, so journals and editors accept them.
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
        "figure.max_open_warning": 0,
    }


@contextlib.contextmanager
def publication_style() -> Iterator[None]:
    """Apply the publication rcParams for the duration of a ``with`` block.

    Nothing leaks into the caller's matplotlib settings.
    """
    with matplotlib.rc_context(style_params()):
        yield


def new_figure(figsize: tuple[float, float], **kwargs) -> Figure:
    """A pyplot-free figure (call inside :func:`publication_style`)."""
    return Figure(figsize=figsize, **kwargs)


def check_format(fmt: str) -> str:
    """Normalise and validate an output format (``png``, ``pdf`` or ``svg``)."""
    from seismag.errors import ConfigError

    value = str(fmt).lower().lstrip(".")
    if value not in FORMATS:
        raise ConfigError(f"unsupported figure format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return value


def check_dpi(dpi: float) -> float:
    from seismag.errors import ConfigError

    try:
        value = float(dpi)
    except (TypeError, ValueError):
        raise ConfigError(f"dpi must be a positive number, not {dpi!r}") from None
    if not value > 0:
        raise ConfigError(f"dpi must be a positive number, not {dpi!r}")
    return value


def save_figure(
    fig: Figure, path: str | os.PathLike, *, dpi: float, fmt: str, tight: bool = True
) -> Path:
    """Save ``fig`` atomically to ``path`` and return the path.

    ``tight=True`` crops the page to the drawn content (``bbox_inches='tight'``);
    figures that must all share one fixed size (the confusion matrices) pass
    ``tight=False``.
    """
    target = Path(path)
    with atomic_path(target) as tmp:
        fig.savefig(
            tmp,
            format=fmt,
            dpi=dpi,
            bbox_inches="tight" if tight else None,
            pad_inches=0.05 if tight else 0.1,
            metadata=_metadata(fmt),
        )
    return target


def _metadata(fmt: str) -> dict[str, str | None]:
    # Fixed metadata: no creation date, so the same results give identical files.
    if fmt == "png":
        return {"Software": "seismag (matplotlib)"}
    if fmt == "pdf":
        return {"Creator": "seismag (matplotlib)", "CreationDate": None}
    if fmt == "svg":
        return {"Creator": "seismag (matplotlib)", "Date": None}
    return {}
