"""The fake results folders of :mod:`plots.results_folders` as fixtures of the plot tests."""

from plots.results_folders import (  # noqa: F401
    fresh_results, full_results, partial_results, plotted_full, small_results,
)
