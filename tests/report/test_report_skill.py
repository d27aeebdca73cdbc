"""The report's "Forecast skill" section, from the hand-made skill folder of :mod:`plots.skill_folder`."""

from __future__ import annotations

import html
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from plots.skill_folder import skill_dict, skill_dir  # noqa: F401  (skill_dir: a fixture)
from seismag.cli import main
from seismag.errors import SeismagError
from seismag.report import write_report


class SkillTable(HTMLParser):
    """Rows of the skill table: model -> list of cell texts."""

    def __init__(self):
        super().__init__()
        self.rows, self._row, self._in_table, self._cell = {}, None, False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "skill-table":
            self._in_table = True
        elif self._in_table and tag == "tr" and "data-model" in attrs:
            self._row = self.rows.setdefault(attrs["data-model"], [])
        elif self._row is not None and tag == "td":
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr":
            self._row = None
        elif tag == "table":
            self._in_table = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _copy_results(small_results: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "results"
    shutil.copytree(small_results, target)
    return target


def test_report_has_the_skill_section(small_results, skill_dir, tmp_path):
    results = _copy_results(small_results, tmp_path)
    skill_dir.rename(results / "skill")
    page = write_report(results, tmp_path / "report.html", figure_dpi=30).read_text(encoding="utf-8")
    assert "<h2 id='skill'>Forecast skill</h2>" in page and "href='#skill'" in page
    table = SkillTable()
    table.feed(page)
    assert list(table.rows) == ["gru_7day", "lstm_7day", "reference:random", "reference:rate", "reference:kp",
                                "reference:dst"]
    # Model, kind, ASS, p, adjusted p, G(0.05), G(0.1), G(0.2), N events, N pairs, N station-days, verdict
    verdict = skill_dict()["models"]["gru_7day"]["verdict"]
    assert table.rows["gru_7day"] == ["gru_7day", "model", "0.825", "0.031", "0.045", "5.00", "5.00", "4.00", "3",
                                      "4", "24", verdict]
    assert "<th>Surrogate p</th><th>Adjusted p</th>" in page
    assert table.rows["reference:random"][3:5] == ["—", "—"]  # no surrogates for the analytic reference
    assert table.rows["reference:kp"][3:5] == ["0.200", "—"]  # a reference is not in the adjusted family
    assert table.rows["reference:dst"][5:8] == ["1.67", "1.67", "1.67"]
    assert "indistinguishable from alarms raised by geomagnetic storms" in page
    # Weak: a model whose adjusted p is not significant; gru's is.
    assert "<tr class='model weak' data-model='lstm_7day'>" in page
    assert "<tr class='model' data-model='gru_7day'>" in page
    assert "In-sample" not in page and "(in-sample)" not in page
    # τ, ν, ASS and G explained; five skill figures embedded (molchan, gain, reliability, two stations).
    assert "<b>τ</b>" in page and "<b>area skill score</b>" in page and "<b>probability gain</b>" in page
    start = page.index("<h2 id='skill'>")
    section = page[start:page.index("<h2 ", start + 1)]  # up to the next section, wherever that stands
    assert section.count("<img src='data:image/png;base64,") == 5
    # the daily probabilities' reliability: a row for gru_7day (the one model with a record)
    assert "<table id='skill-reliability'" in section and "<tr data-model='gru_7day'><td class='name'>gru_7day</td>" \
        "<td>20</td><td>0.1500</td>" in section and "<td>0.210</td>" in section
    text = html.unescape(section)
    assert "alarms last 3 days" in text and "M ≥ 6" in text and "3 target events (4 event-station pairs)" in text
    # The explanation of version 2: pairs, timing within each station, the diagonal, surrogate and
    # adjusted p, timing-only comparisons, a pointwise contour; no analytic sd of the ASS.
    for words in ("<b>(event, station) pairs</b>", "ranked within its station", "any forecast without timing "
                  "skill, lie on the diagonal", "circular-shift surrogates", "<b>adjusted p</b>",
                  "family-wise", "of timing only", "is pointwise", "pointwise 95 %"):
        assert words in text, words
    assert "√(1/12N)" not in text and "standard deviation" not in text


def test_report_says_in_sample_in_bold(small_results, tmp_path):
    results = _copy_results(small_results, tmp_path)
    (results / "skill").mkdir()
    (results / "skill" / "skill.json").write_text(json.dumps(skill_dict(in_sample=True)))
    page = write_report(results, tmp_path / "report.html", figure_dpi=30).read_text(encoding="utf-8")
    assert "<p class='caveat' id='skill-in-sample'><strong>In-sample: some scored days lie inside the " \
           "training period of lstm_7day" in page
    assert "lstm_7day <b>(in-sample)</b>" in page
    # The scores file it names is not there: the section still stands, with a note.
    assert "no station score figures" in page


def test_no_skill_json_no_section(small_results, tmp_path):
    page = write_report(small_results, tmp_path / "report.html", figure_dpi=30).read_text(encoding="utf-8")
    assert "id='skill'" not in page and "Forecast skill" not in page


def test_unreadable_skill_json_is_reported_not_raised(small_results, tmp_path):
    results = _copy_results(small_results, tmp_path)
    (results / "skill").mkdir()
    broken = results / "skill" / "skill.json"
    broken.write_text(json.dumps({**skill_dict(), "format": "seismag-scores"}))
    page = write_report(results, tmp_path / "report.html", figure_dpi=30).read_text(encoding="utf-8")
    assert "<strong>The skill results are unreadable:</strong>" in page
    assert html.escape(f"{broken}: not a seismag skill file (format 'seismag-scores'", quote=True) in page


def test_cli_report_skill_flag(small_results, skill_dir, tmp_path, capsys):
    out = tmp_path / "page.html"
    assert main(["report", "--results", str(small_results), "--out", str(out), "--skill", str(skill_dir)]) == 0
    assert "<h2 id='skill'>Forecast skill</h2>" in out.read_text(encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", "--results", str(small_results), "--out", str(out), "--skill", str(empty)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(empty / "skill.json") in err[0]
    with pytest.raises(SeismagError):
        write_report(small_results, out, skill_dir=empty)
