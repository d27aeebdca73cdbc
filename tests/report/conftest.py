"""The fake results folders of :mod:`plots.results_folders` as fixtures of the report tests."""

import shutil

import pytest

from plots.results_folders import fresh_results, full_results, partial_results, small_results  # noqa: F401


@pytest.fixture
def small_copy(small_results, tmp_path):
    """A copy of ``small_results`` a test may add files to."""
    copy = tmp_path / "results"
    shutil.copytree(small_results, copy)
    return copy
