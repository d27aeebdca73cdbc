"""The label settings skill judges by: recorded ones as defaults, contradictions refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seismag.cli import main
from seismag import defaults
from seismag.dataset.build.plan import default_label_settings
from seismag.sources.catalog import Catalog, write_comcat_csv
from seismag.errors import ConfigError, DataError
from seismag.layout.dataset_info import LABEL_KEYS
from seismag.layout.forecast import read_forecast_meta, scores_meta_path, write_forecast_scores
from seismag.evaluation.skill.labels import recorded_labels, resolve_label_settings

SOURCE = "scores.meta.json"
BUILT = {"min_magnitude": 5.5, "radius": "dobrovolsky", "radius_km": None, "lead_days": 7, "max_depth_km": None,
         "decluster": False}
FIXED = {"min_magnitude": 6.0, "radius": "fixed", "radius_km": 300.0, "lead_days": 3, "max_depth_km": 70.0,
         "decluster": True}


def resolve(recorded, override=False, **given):
    return resolve_label_settings(recorded, given, override=override, source=SOURCE)


def test_nothing_recorded_takes_the_builds_defaults_and_the_flags():
    settings, notes = resolve(None)
    assert settings == default_label_settings()
    assert settings["min_magnitude"] == defaults.MIN_MAGNITUDE and settings["lead_days"] == defaults.LEAD_DAYS
    assert list(settings) == list(LABEL_KEYS)
    assert len(notes) == 1 and "no label settings recorded in scores.meta.json" in notes[0]
    # models whose ensembles predate label settings: the same
    assert resolve({"gru_7day": None, "mlp_7day": None})[0] == default_label_settings()
    settings, notes = resolve(None, min_magnitude=6, radius_km=100, lead_days=3, max_depth_km=70, decluster=True)
    assert settings == {"min_magnitude": 6.0, "radius": "fixed", "radius_km": 100.0, "lead_days": 3,
                        "max_depth_km": 70.0, "decluster": True}
    assert "the flags and the build's defaults" in notes[0]


def test_the_recorded_settings_are_the_defaults():
    settings, notes = resolve({"gru_7day": FIXED, "mlp_7day": dict(FIXED)})
    assert settings == FIXED
    assert notes == ["targets as the training windows were labelled (recorded in scores.meta.json): M >= 6, "
                     "within 300 km, 3-day lead, depth <= 70 km, causal Gardner-Knopoff mainshocks"]
    # flags that agree are fine, --radius fixed takes the recorded radius
    agreeing = resolve({"gru_7day": FIXED}, min_magnitude=6, radius="fixed", lead_days=3, max_depth_km=70.0,
                       decluster=True)
    assert agreeing[0] == FIXED


@pytest.mark.parametrize("given, words, overridden", [
    ({"min_magnitude": 6}, "--min-magnitude 6 contradicts the labels of the training windows (min_magnitude 5.5, "
                           "recorded in scores.meta.json); pass --override-labels to judge with other targets",
     {"min_magnitude": 6.0}),
    ({"lead_days": 14}, "--lead-days 14 contradicts the labels of the training windows (lead_days 7,",
     {"lead_days": 14}),
    ({"radius_km": 100}, "--radius-km 100 contradicts the labels of the training windows (radius dobrovolsky,",
     {"radius": "fixed", "radius_km": 100.0}),
    ({"max_depth_km": 70}, "--max-depth-km 70 contradicts the labels of the training windows (max_depth_km none,",
     {"max_depth_km": 70.0}),
    ({"decluster": True}, "--decluster contradicts the labels of the training windows (decluster false,",
     {"decluster": True}),
])
def test_a_flag_that_contradicts_the_record_is_refused_in_one_line(given, words, overridden):
    with pytest.raises(ConfigError) as caught:
        resolve({"gru_7day": BUILT}, **given)
    message = str(caught.value)
    assert message.startswith(words) and "\n" not in message and "--override-labels" in message
    settings, notes = resolve({"gru_7day": BUILT}, override=True, **given)
    assert settings == {**BUILT, **overridden}
    assert any(note.startswith("--override-labels: " + words.split(" (")[0]) for note in notes)


def test_the_recorded_fixed_radius_and_the_dobrovolsky_flag():
    with pytest.raises(ConfigError, match=r"--radius dobrovolsky contradicts .*\(radius fixed, radius_km 300,"):
        resolve({"gru_7day": FIXED}, radius="dobrovolsky")
    with pytest.raises(ConfigError, match=r"--no-decluster contradicts .*\(decluster true,"):
        resolve({"gru_7day": FIXED}, decluster=False)
    with pytest.raises(ConfigError, match="give one radius rule"):
        resolve(None, radius="dobrovolsky", radius_km=100)
    with pytest.raises(ConfigError, match="--radius fixed needs --radius-km"):
        resolve({"gru_7day": BUILT}, radius="fixed")
    with pytest.raises(ConfigError, match="unknown label setting"):
        resolve(None, magnitude=6)


def test_models_trained_on_different_labels_are_refused_unless_overridden():
    recorded = {"gru_7day": BUILT, "mlp_7day": {**BUILT, "min_magnitude": 6.0}, "rnn_7day": None}
    with pytest.raises(ConfigError) as caught:
        resolve(recorded)
    assert str(caught.value) == ("the models of scores.meta.json were trained on different labels (gru_7day "
                                 "min_magnitude 5.5; mlp_7day min_magnitude 6); judge them apart, or pass "
                                 "--override-labels to judge all with one set of targets")
    settings, notes = resolve(recorded, override=True)
    assert settings == BUILT  # the setting they disagree on: the default; the rest as recorded
    assert any("disagree on min_magnitude" in note for note in notes)
    assert any(note.startswith("rnn_7day: no label settings recorded") for note in notes)
    assert resolve(recorded, override=True, min_magnitude=6.5)[0]["min_magnitude"] == 6.5


def test_read_recorded_labels_from_the_companion(tmp_path):
    scores = tmp_path / "scores.csv"
    assert recorded_labels(read_forecast_meta(scores)) is None  # no companion: nothing recorded
    row = ["AAA", "35.000", "30.000", "2020-01-10", "gru_7day", "0.5", "0.1", "0.0", "false"]
    write_forecast_scores(scores, [row, [*row[:4], "mlp_7day", *row[5:]]], {
        "gru_7day": {"ensemble": "gru.pth", "training_period": None, "labels": FIXED},
        "mlp_7day": {"ensemble": "mlp.pth", "training_period": None, "labels": None}})
    assert scores_meta_path(scores).name == "scores.meta.json"
    recorded = recorded_labels(read_forecast_meta(scores))
    assert recorded == {"gru_7day": FIXED, "mlp_7day": None}
    assert resolve(recorded)[0] == FIXED
    scores_meta_path(scores).write_text('{"format": "seismag-scores-meta", "version": 1, "models": {"gru_7day": '
                                        '{"labels": {"min_magnitude": 5.5}}}}')
    with pytest.raises(DataError, match="scores.meta.json"):
        recorded_labels(read_forecast_meta(scores))


def test_the_cli_judges_by_the_recorded_labels_and_refuses_a_contradicting_flag(tmp_path, capsys):
    days = np.datetime64("2020-01-01") + np.arange(90)
    rng = np.random.default_rng(3)
    rows = [["AAA", "40.000", "140.000", str(day), "gru_7day", f"{rng.random():.3f}", "0.1", "0.0", "false"]
            for day in days]
    recorded = {**BUILT, "min_magnitude": 6.0, "lead_days": 5}
    scores = write_forecast_scores(tmp_path / "scores.csv", rows,
                                   {"gru_7day": {"ensemble": "gru.pth", "training_period": None, "labels": recorded}})
    catalog = write_comcat_csv(tmp_path / "catalog.csv", Catalog.from_events(
        [("2020-01-20T03:00:00", 40.1, 140.1, 10.0, 6.2, "a"), ("2020-02-25T03:00:00", 40.1, 140.1, 10.0, 5.7, "b")],
        start="2019-12-01", end="2020-06-01"))
    base = ["skill", "--scores", str(scores), "--catalog", str(catalog), "--surrogates", "0", "--dpi", "30"]
    assert main([*base, "--out", str(tmp_path / "refused"), "--lead-days", "7"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "--lead-days 7 contradicts the labels of the training windows (lead_days 5" in error
    assert not (tmp_path / "refused" / "skill.json").exists()
    assert main([*base, "--out", str(tmp_path / "judged"), "--min-magnitude", "6"]) == 0
    assert "targets as the training windows were labelled" in capsys.readouterr().out
    settings = json.loads((tmp_path / "judged" / "skill.json").read_text())["settings"]
    assert {key: settings[key] for key in recorded} == recorded  # the M5.7 is no target
