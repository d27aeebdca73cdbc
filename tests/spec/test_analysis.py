"""Tests for seismag.spec.analysis: the SPEC's Module 2 analyzer and its printed report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from seismag.errors import ConfigError, DataError
from seismag.spec.analysis import DatasetAnalyzer, WindowAnalysis, quick_analyze

STEPS = 8  # steps per day in the fixtures: keeps the files tiny

# The SPEC's sizes for window 7, and a window 14 at about 2.27:1 (SPEC summary).
SPEC_COUNTS = {"7": (1661, 999), "14": (1500, 660), "30": (1200, 700)}


def write_window(base: Path, days: int | str, counts, steps_per_day: int = STEPS, dtype=np.float32) -> Path:
    """Write window-{days}/data_0.npy and data_1.npy with the right labels."""
    window_dir = base / f"window-{days}"
    window_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(int(days))
    for label, n_rows in enumerate(counts):
        rows = rng.normal(size=(n_rows, int(days) * steps_per_day + 1)).astype(dtype)
        rows[:, -1] = label
        np.save(window_dir / f"data_{label}.npy", rows)
    return window_dir


@pytest.fixture
def spec_dataset(tmp_path: Path) -> Path:
    for days, counts in SPEC_COUNTS.items():
        write_window(tmp_path, days, counts)
    return tmp_path


# --------------------------------------------------------------------------- analyzer


def test_spec_example_access_pattern(spec_dataset):
    analyzer = DatasetAnalyzer(base_path=spec_dataset, steps_per_day=STEPS)
    results = analyzer.analyze_all_windows()
    assert list(results) == ["7", "14", "30"]
    window_7_analysis = results["7"]
    assert isinstance(window_7_analysis, WindowAnalysis)
    assert f"{window_7_analysis.imbalance_analysis.imbalance_ratio:.2f}:1" == "1.66:1"
    assert window_7_analysis.imbalance_analysis.severity == "mild"
    weights = results["7"].imbalance_analysis.suggested_weights
    assert [round(w, 3) for w in weights] == [0.801, 1.331]
    criterion = nn.CrossEntropyLoss(weight=torch.tensor(weights))
    assert criterion.weight.shape == (2,)


def test_window_analysis_fields(spec_dataset):
    result = DatasetAnalyzer(spec_dataset, steps_per_day=STEPS).analyze_window("7")
    assert result.window == "7" and result.window_days == 7
    assert result.n_samples == 2660
    assert result.n_features == 7 * STEPS
    assert result.class_counts == [1661, 999]
    assert result.class_proportions == pytest.approx([1661 / 2660, 999 / 2660])
    assert result.class_files == [str(spec_dataset / "window-7" / f"data_{c}.npy") for c in (0, 1)]
    assert result.window_dir == str(spec_dataset / "window-7")


def test_default_steps_per_day_1440(tmp_path):
    write_window(tmp_path, 7, (3, 2), steps_per_day=1440)
    result = DatasetAnalyzer(tmp_path, window_periods=["7"]).analyze_window(7)
    assert result.n_features == 10_080
    assert result.steps_per_day == 1440
    assert result.class_counts == [3, 2]


def test_integer_labels_and_window_keys(tmp_path):
    write_window(tmp_path, 14, (4, 4), dtype=np.int16)
    analyzer = DatasetAnalyzer(tmp_path, window_periods=[14, "014"], steps_per_day=STEPS)
    assert analyzer.window_periods == ("14",)
    assert analyzer.analyze_all_windows()["14"].imbalance_analysis.severity == "balanced"


def test_summary_names_the_most_imbalanced_window(spec_dataset):
    summary = DatasetAnalyzer(spec_dataset, steps_per_day=STEPS).summary()
    assert summary.n_windows_analyzed == 3
    assert summary.windows_analyzed == ["7", "14", "30"]
    assert summary.windows_missing == []
    assert summary.most_imbalanced_window == "14"
    assert f"{summary.max_imbalance_ratio:.2f}" == "2.27"
    assert summary.overall_severity == "mild"
    assert summary.assessment == "Mild imbalance"


def test_summary_assessment_follows_the_worst_window(tmp_path):
    write_window(tmp_path, 7, (12, 10))
    write_window(tmp_path, 14, (120, 10))
    summary = DatasetAnalyzer(tmp_path, window_periods=("7", "14"), steps_per_day=STEPS).summary()
    assert summary.most_imbalanced_window == "14"
    assert summary.overall_severity == "severe"
    assert summary.assessment == "Severe imbalance"


def test_format_report_contains_the_spec_lines(spec_dataset):
    report = DatasetAnalyzer(spec_dataset, steps_per_day=STEPS).format_report()
    expected_lines = [
        "=" * 70,
        "Dataset Distribution Analysis",
        f"Base Path: {spec_dataset}",
        "Analyzing window: 7 days",
        "-" * 40,
        "Total samples: 2,660",
        "Class distribution: [1661, 999]",
        "Class proportions: 62.4%, 37.6%",
        "Imbalance Analysis:",
        "  Ratio: 1.66:1",
        "  Severity: MILD",
        "  Strategy: Apply class weight adjustment",
        "  Weights: [0.801, 1.331]",
        "    inverse:   [0.801, 1.331]",
        "    sqrt:      [0.895, 1.154]",
        "    effective: [0.00123, 0.00158]  (beta = 0.999)",
        "    balanced:  [0.801, 1.331]",
        "Summary",
        "Windows analyzed: 3",
        "Most imbalanced: Window 14 (2.27:1)",
        "Assessment: Mild imbalance",
        "Implementation Guide",
        "# Window 7 days:",
        "weights = torch.tensor([0.801, 1.331])",
        "criterion = nn.CrossEntropyLoss(weight=weights)",
        "# Window 30 days:",
    ]
    lines = report.splitlines()
    for line in expected_lines:
        assert line in lines, line
    # Sections in the SPEC's order.
    assert lines.index("Summary") < lines.index("Implementation Guide")
    assert lines.index("Analyzing window: 7 days") < lines.index("Analyzing window: 14 days")


def test_guide_lines_run_as_python(spec_dataset):
    report = DatasetAnalyzer(spec_dataset, steps_per_day=STEPS).format_report()
    guide = report.split("Implementation Guide\n" + "=" * 70 + "\n", 1)[1]
    namespace = {"torch": torch, "nn": nn}
    exec(guide, namespace)  # noqa: S102 - our own generated snippet
    assert isinstance(namespace["criterion"], nn.CrossEntropyLoss)


def test_missing_window_is_none_with_a_note(tmp_path):
    write_window(tmp_path, 7, (20, 10))
    analyzer = DatasetAnalyzer(tmp_path, steps_per_day=STEPS)
    results = analyzer.analyze_all_windows()
    assert results["14"] is None and results["30"] is None
    assert str(tmp_path / "window-14") in analyzer.notes["14"]
    summary = analyzer.summary()
    assert summary.windows_missing == ["14", "30"]
    assert summary.n_windows_analyzed == 1
    report = analyzer.format_report()
    assert f"Skipped: {tmp_path / 'window-30'} not found" in report
    assert "Windows missing: 14, 30" in report


def test_strict_mode_and_analyze_window_raise_for_a_missing_window(tmp_path):
    write_window(tmp_path, 7, (20, 10))
    analyzer = DatasetAnalyzer(tmp_path, steps_per_day=STEPS)
    with pytest.raises(DataError, match="missing window directory") as error:
        analyzer.analyze_all_windows(strict=True)
    assert error.value.path == str(tmp_path / "window-14")
    with pytest.raises(DataError, match="window-30"):
        analyzer.analyze_window("30")


def test_no_windows_at_all_is_an_error(tmp_path):
    with pytest.raises(DataError, match="no window directories found") as error:
        DatasetAnalyzer(tmp_path, steps_per_day=STEPS).analyze_all_windows()
    assert error.value.path == str(tmp_path)
    with pytest.raises(DataError, match="data directory not found"):
        DatasetAnalyzer(tmp_path / "nowhere").analyze_all_windows()


def test_to_dict_is_json_serialisable(spec_dataset):
    analyzer = DatasetAnalyzer(spec_dataset, window_periods=("7", "14", "60"), steps_per_day=STEPS)
    data = analyzer.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["windows"]["60"] is None
    assert data["windows"]["7"]["imbalance_analysis"]["severity"] == "mild"
    assert data["summary"]["most_imbalanced_window"] == "14"
    assert data["summary"]["n_windows_analyzed"] == 2
    assert data["steps_per_day"] == STEPS


def test_quick_analyze_prints_and_returns(spec_dataset, capsys):
    results = quick_analyze(spec_dataset, window_periods=["7", "14", "30"], steps_per_day=STEPS)
    out = capsys.readouterr().out
    assert "Dataset Distribution Analysis" in out
    assert "weights = torch.tensor([0.801, 1.331])" in out
    assert results["7"].imbalance_analysis.severity == "mild"


def test_quick_analyze_defaults_to_data_folder(tmp_path, monkeypatch, capsys):
    write_window(tmp_path / "data", 7, (6, 3))
    monkeypatch.chdir(tmp_path)
    results = quick_analyze(steps_per_day=STEPS)
    assert results["7"].class_counts == [6, 3]
    assert "Base Path: data" in capsys.readouterr().out


@pytest.mark.parametrize("period", ["seven", "0", "-7", "7.5", True])
def test_bad_window_periods(period, tmp_path):
    with pytest.raises(ConfigError, match="window period"):
        DatasetAnalyzer(tmp_path, window_periods=[period])


@pytest.mark.parametrize("steps", [0, -5, 2.5, True])
def test_bad_steps_per_day(steps, tmp_path):
    with pytest.raises(ConfigError, match="steps_per_day"):
        DatasetAnalyzer(tmp_path, steps_per_day=steps)


# --------------------------------------------------------------------------- bad input


def _analyze(base: Path):
    return DatasetAnalyzer(base, window_periods=["7"], steps_per_day=STEPS).analyze_window("7")


def _assert_data_error(base: Path, path: Path, fragment: str):
    with pytest.raises(DataError) as error:
        _analyze(base)
    message = str(error.value)
    assert message.startswith(str(path)), message
    assert fragment in message, message


def test_missing_class_file(tmp_path):
    window_dir = write_window(tmp_path, 7, (5, 3))
    (window_dir / "data_1.npy").unlink()
    _assert_data_error(tmp_path, window_dir / "data_1.npy", "missing class file")


def test_not_two_dimensional(tmp_path):
    window_dir = write_window(tmp_path, 7, (5, 3))
    np.save(window_dir / "data_0.npy", np.zeros(7 * STEPS + 1, dtype=np.float32))
    _assert_data_error(tmp_path, window_dir / "data_0.npy", "expected a 2-D array")
    np.save(window_dir / "data_0.npy", np.zeros((2, 3, 4), dtype=np.float32))
    _assert_data_error(tmp_path, window_dir / "data_0.npy", "got shape (2, 3, 4)")


def test_empty_array_and_empty_file(tmp_path):
    window_dir = write_window(tmp_path, 7, (5, 3))
    np.save(window_dir / "data_1.npy", np.zeros((0, 7 * STEPS + 1), dtype=np.float32))
    _assert_data_error(tmp_path, window_dir / "data_1.npy", "empty file: no samples")
    (window_dir / "data_1.npy").write_bytes(b"")
    _assert_data_error(tmp_path, window_dir / "data_1.npy", "empty file (0 bytes)")


def test_wrong_feature_count(tmp_path):
    window_dir = write_window(tmp_path, 7, (5, 3))
    np.save(window_dir / "data_0.npy", np.zeros((5, 7 * STEPS), dtype=np.float32))  # label column missing
    _assert_data_error(tmp_path, window_dir / "data_0.npy", f"expected {7 * STEPS} = 7 days x {STEPS} steps per day")


def test_wrong_steps_per_day_setting_names_the_file(tmp_path):
    window_dir = write_window(tmp_path, 7, (5, 3), steps_per_day=STEPS)
    with pytest.raises(DataError, match="10080 = 7 days x 1440 steps per day") as error:
        DatasetAnalyzer(tmp_path, window_periods=["7"]).analyze_window("7")
    assert error.value.path == str(window_dir / "data_0.npy")


def test_label_not_matching_its_file(tmp_path):
    window_dir = write_window(tmp_path, 7, (5, 3))
    rows = np.load(window_dir / "data_0.npy")
    rows[3, -1] = 1
    np.save(window_dir / "data_0.npy", rows)
    _assert_data_error(tmp_path, window_dir / "data_0.npy", "must be 0 in data_0.npy, but 1 of 5 rows differ (first: row 3")


def test_label_nan_in_class_one_file(tmp_path):
    window_dir = write_window(tmp_path, 7, (5, 3))
    rows = np.load(window_dir / "data_1.npy")
    rows[:, -1] = np.nan
    np.save(window_dir / "data_1.npy", rows)
    _assert_data_error(tmp_path, window_dir / "data_1.npy", "must be 1 in data_1.npy, but 3 of 3 rows differ")


def test_non_numeric_and_unreadable_files(tmp_path):
    window_dir = write_window(tmp_path, 7, (5, 3))
    np.save(window_dir / "data_0.npy", np.full((5, 7 * STEPS + 1), "x"))
    _assert_data_error(tmp_path, window_dir / "data_0.npy", "non-numeric dtype")
    (window_dir / "data_0.npy").write_bytes(b"not an npy file at all")
    _assert_data_error(tmp_path, window_dir / "data_0.npy", "not a readable .npy array")
    np.save(window_dir / "data_0.npy", np.array([{"a": 1}], dtype=object))
    _assert_data_error(tmp_path, window_dir / "data_0.npy", "not a readable .npy array")


def test_window_path_is_a_file(tmp_path):
    (tmp_path / "window-7").write_text("oops")
    _assert_data_error(tmp_path, tmp_path / "window-7", "missing window directory")


def test_files_are_read_memory_mapped(spec_dataset, monkeypatch):
    calls = []
    real_load = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("mmap_mode"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    DatasetAnalyzer(spec_dataset, steps_per_day=STEPS).analyze_all_windows()
    assert calls == ["r"] * 6
