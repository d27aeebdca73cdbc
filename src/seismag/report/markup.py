"""The HTML pieces every section of the report writes with: escaped text, numbers, embedded figures.

Every text taken from a results or skill folder goes through :func:`escape`; figures are
embedded as base64 PNG data URIs (:func:`embed_figure`), so the page needs nothing but
itself.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class EmbeddedFigure:
    """A PNG drawn for the page: ``section`` is its figure folder (or a section name)."""

    section: str
    path: Path
    caption: str


def escape(value: Any) -> str:
    """``value`` as text, with ``& < > " '`` escaped."""
    return html.escape(str(value), quote=True)


def number(value: float | None, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals, or a dash for ``None``."""
    return "—" if value is None else f"{value:.{digits}f}"


def embed_figure(fig: EmbeddedFigure, cls: str = "") -> str:
    """A ``<figure>`` holding the PNG as a data URI, with its caption."""
    data = base64.b64encode(fig.path.read_bytes()).decode("ascii")
    return (f"<figure class='{cls}'><img src='data:image/png;base64,{data}' alt='{escape(fig.caption)}'>"
            f"<figcaption>{escape(fig.caption)}</figcaption></figure>")
