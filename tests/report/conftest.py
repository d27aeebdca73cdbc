"""The fake results folders of :mod:`plots.results_folders` as fixtures of the report tests."""

from plots.results_folders import fresh_results, full_results, partial_results, small_results  # noqa: F401
