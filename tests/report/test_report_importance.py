"""The report's "What the trees used" section: the folds' feature-importance tables summarised
(values worked out by hand), shown only where a fold wrote one; a damaged table is a line."""

from __future__ import annotations

import pytest

from seismag.errors import DataError
from seismag.layout.results import feature_importance_text, read_feature_importance
from seismag.report import write_report
from seismag.report.importance import importance_summary


def _table(rises, gains):
    return [{"feature": name, "gain_share": gains[i], "splits": i, "permutation_log_loss": rises[i]}
            for i, name in enumerate(("last:band_3", "mean:log_range", "trend:mean"))]


FOLD_1 = _table([0.10, 0.02, -0.01], [0.5, 0.3, 0.2])
FOLD_2 = _table([0.30, 0.00, 0.01], [0.7, 0.1, 0.2])


def test_a_table_round_trips_and_a_bad_one_names_its_file_and_line(tmp_path):
    path = tmp_path / "GRUModel_7day_fold_1_feature_importance.csv"
    path.write_text(feature_importance_text(FOLD_1))
    assert read_feature_importance(path) == FOLD_1
    path.write_text("feature,gain,splits\n")
    with pytest.raises(DataError, match=f"{path}: is not a feature-importance table"):
        read_feature_importance(path)
    path.write_text(feature_importance_text(FOLD_1).replace("0.02", "lots"))
    with pytest.raises(DataError, match=f"{path}: line 3: expected a feature name and three numbers"):
        read_feature_importance(path)


def test_the_summary_by_hand():
    rows = importance_summary([FOLD_1, FOLD_2])
    assert [row["feature"] for row in rows] == ["last:band_3", "mean:log_range", "trend:mean"]
    first, second, third = rows
    assert first["mean_rise"] == pytest.approx(0.20) and first["std_rise"] == pytest.approx(0.10)
    assert first["folds_rising"] == 2 and first["mean_gain"] == pytest.approx(0.6) and first["folds"] == 2
    assert second["mean_rise"] == pytest.approx(0.01) and second["folds_rising"] == 1
    assert third["mean_rise"] == pytest.approx(0.0) and third["std_rise"] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="different features"):
        importance_summary([FOLD_1, FOLD_2[:2]])


def test_the_section_appears_only_where_folds_wrote_tables(small_copy, tmp_path):
    html = write_report(small_copy, out=tmp_path / "plain.html").read_text()
    assert "What the trees used" not in html and "href='#importance'" not in html
    for fold, table in ((1, FOLD_1), (2, FOLD_2)):
        (small_copy / "gru_models" / f"GRUModel_7day_fold_{fold}_feature_importance.csv").write_text(
            feature_importance_text(table))
    html = write_report(small_copy, out=tmp_path / "page.html").read_text()
    assert "<h2 id='importance'>What the trees used</h2>" in html and "href='#importance'" in html
    section = html[html.index("id='importance'"):html.index("id='protocol'")]
    assert section.index("last:band_3") < section.index("mean:log_range") < section.index("trend:mean")
    assert "0.2000 ± 0.1000" in section and "2 of 2" in section and "over 2 folds" in section
    assert "activity reference" in section  # what the table cannot tell apart


def test_a_damaged_table_is_one_line_not_a_failed_report(small_copy, tmp_path):
    target = small_copy / "gru_models" / "GRUModel_7day_fold_1_feature_importance.csv"
    target.write_text("not a table\n")
    html = write_report(small_copy, out=tmp_path / "page.html").read_text()
    assert "Not shown:" in html and target.name in html and "is not a feature-importance table" in html
