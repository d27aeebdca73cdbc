"""A printable table of every registered model's paper preset (``seismag models``)."""

from __future__ import annotations

import torch

from seismag import defaults
from seismag.models.registry import create_model, get_model_entry, list_models


def format_model_table(window_days: int, steps_per_day: int = defaults.STEPS_PER_DAY, verbose: bool = False) -> str:
    """Sizes of the paper presets for one window, as a text table.

    The models are built on PyTorch's ``meta`` device, so no memory is
    allocated and even the 30-day MLP (22 M parameters) is listed instantly.

    Parameters
    ----------
    window_days : int
        Days per window.
    steps_per_day : int, default 1440
    verbose : bool, default False
        Also list every layer of every model with its parameter count.

    Returns
    -------
    str
        A table with one row per model (name, input layout, input shape,
        total and trainable parameters, float32 size in MiB), then one line
        per model describing its architecture.

    Raises
    ------
    ConfigError
        ``window_days`` or ``steps_per_day`` is not a positive integer.
    """
    rows = []
    architectures = []
    details = []
    for name in list_models():
        entry = get_model_entry(name)
        with torch.device("meta"):
            model = create_model(name, window_days, steps_per_day)
        info = model.get_model_info()
        shape = ", ".join(["batch", *map(str, entry.input_shape(window_days, steps_per_day))])
        rows.append(
            [
                f"{name} ({entry.display_name})",
                entry.input_layout,
                f"({shape})",
                f"{info['total_params']:,}",
                f"{info['trainable_params']:,}",
                f"{info['size_mb']:.1f}",
            ]
        )
        architectures.append(f"  {name}: {info['architecture']}\n")
        if verbose:
            layer_rows = [[layer["name"], layer["type"], f"{layer['params']:,}"] for layer in info["layers"]]
            layer_table = _table(["layer", "type", "params"], layer_rows, "<<>")
            details.append(f"\n{name} ({entry.display_name})\n{layer_table}")

    header = ["model", "layout", "input shape", "total params", "trainable", "MiB"]
    title = f"Paper presets for a {window_days}-day window ({steps_per_day} steps per day)\n\n"
    return title + _table(header, rows, "<<<>>>") + "\n" + "".join(architectures) + "".join(details)


def _table(header: list[str], rows: list[list[str]], align: str) -> str:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [
            str(cell).rjust(width) if how == ">" else str(cell).ljust(width)
            for cell, width, how in zip(cells, widths, align)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)]) + "\n"
