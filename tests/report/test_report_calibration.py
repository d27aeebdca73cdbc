"""The report's "Calibration and proper scores" section: the summaries' numbers, both sides of calibration."""
from __future__ import annotations

import json

from seismag.report import write_report


def test_calibration_section_shows_the_summaries_proper_scores(small_results, tmp_path):
    out = write_report(small_results, tmp_path / "report.html", figure_dpi=30)
    text = out.read_text(encoding="utf-8")
    assert "<h2 id='calibration'>Calibration and proper scores</h2>" in text and "href='#calibration'" in text
    record = json.loads((small_results / "gru_models" / "GRUModel_7day_summary.json").read_text())["calibration"]
    before, after = record["uncalibrated"]["brier"], record["calibrated"]["brier"]
    cell = (f"<td data-score='brier' data-uncalibrated='{before!r}' data-calibrated='{after!r}'>"
            f"{before:.4f} → {after:.4f}</td>")
    assert cell in text
    section = text[text.index("<h2 id='calibration'>"):text.index("<h2 ", text.index("<h2 id='calibration'>") + 1)]
    assert section.count("<img src='data:image/png;base64,") == 1  # the reliability diagrams
    assert "cross-fitted" in section and "Platt a = " in section


def test_results_without_calibration_records_have_no_section(small_results, tmp_path):
    import shutil

    copy = tmp_path / "results"
    shutil.copytree(small_results, copy)
    path = copy / "gru_models" / "GRUModel_7day_summary.json"
    summary = json.loads(path.read_text())
    del summary["calibration"]
    path.write_text(json.dumps(summary))
    text = write_report(copy, tmp_path / "old.html", figure_dpi=30).read_text(encoding="utf-8")
    assert "id='calibration'" not in text and "href='#calibration'" not in text
    assert "no summary with a calibration record" in text  # the note says why
