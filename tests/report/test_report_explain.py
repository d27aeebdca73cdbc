"""The report's "What drives the scores" section: shown when RESULTS/explain holds explain output
(one folder or several), named by --explain, absent otherwise; a damaged file is a line, not a crash."""

from __future__ import annotations

import pytest

from seismag.errors import SeismagError
from seismag.report import write_report

from plots.explain_folder import write_explain_folder


def test_the_section_appears_only_with_explain_output(small_copy, tmp_path):
    html = write_report(small_copy, out=tmp_path / "plain.html").read_text()
    assert "What drives the scores" not in html
    write_explain_folder(small_copy / "explain" / "gru_7day")
    write_explain_folder(small_copy / "explain" / "features_7day", gradients=False, model="features")
    html = write_report(small_copy, out=tmp_path / "page.html").read_text()
    assert "<h2 id='explain'>What drives the scores</h2>" in html and "href='#explain'" in html
    assert html.count("<h3>gru, 5-day windows") == 1 and html.count("<h3>features, 5-day windows") == 1
    assert "Z, day -1" in html and "not a cause" in html  # the top cell; what it cannot show


def test_explain_names_a_folder_and_a_damaged_file_is_one_line(small_copy, tmp_path):
    folder = write_explain_folder(tmp_path / "elsewhere")
    html = write_report(small_copy, out=tmp_path / "page.html", explain_dir=folder).read_text()
    assert "What drives the scores" in html
    (folder / "explain.json").write_text("not json")
    html = write_report(small_copy, out=tmp_path / "page.html", explain_dir=folder).read_text()
    assert "not valid JSON" in html
    with pytest.raises(SeismagError, match="no explain.json"):
        write_report(small_copy, out=tmp_path / "page.html", explain_dir=tmp_path / "missing")
