"""The attribution figures read only explain.json; a missing or damaged one is one clear error."""

from __future__ import annotations

import json

import pytest

from seismag.errors import DataError
from seismag.layout.explain import EXPLAIN_CSV, read_explain
from seismag.plots.explain import plot_explain

from plots.explain_folder import write_explain_folder


def test_every_figure_is_drawn_from_the_file(tmp_path):
    folder = write_explain_folder(tmp_path / "explain")
    paths = plot_explain(folder, dpi=40)
    assert sorted(p.name for p in paths) == ["explain_hourly.png", "explain_integrated_gradients.png",
                                             "explain_occlusion.png"]
    assert all(p.parent == folder / "figures" and p.stat().st_size > 1000 for p in paths)
    assert (folder / EXPLAIN_CSV).read_text().startswith("window,group,label,prob_class1,method")


def test_a_model_without_gradients_draws_occlusion_and_says_so(tmp_path):
    folder = write_explain_folder(tmp_path / "explain", gradients=False, activity=False, model="features")
    paths = plot_explain(folder, dpi=40)
    assert [p.name for p in paths] == ["explain_occlusion.png"]
    assert any("features" in note and "integrated gradients" in note for note in paths.notes)


def test_a_damaged_explain_json_is_refused_naming_it(tmp_path):
    with pytest.raises(DataError, match="no such file.*seismag explain"):
        plot_explain(tmp_path / "nothing")
    folder = write_explain_folder(tmp_path / "explain")
    data = json.loads((folder / "explain.json").read_text())
    data["groups"][0]["methods"]["occlusion"]["mean"] = [[0.0, 0.0]]
    (folder / "explain.json").write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"explain.json.*'mean' is not a 5 x 3"):
        read_explain(folder)
    (folder / "explain.json").write_text("{}")
    with pytest.raises(DataError, match="not an explain file"):
        read_explain(folder)
