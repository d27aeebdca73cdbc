"""``seismag scan``: trained ensembles slid over continuous records day by day.

Two hand-written stations of 14 days (H, D, Z), one with a short and one with a long
gap; built into 2-day windows at 48 steps a day with a recipe (first-day baseline,
local hours 0-12) and the three activity indices; an MLP and an activity ensemble
trained on the build. Every day's score must be the ensemble's score of the row build
wrote for the same window: scan and build prepare a window identically.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from seismag.cli import main
from seismag.config import make_config, tiny_models
from seismag.dataset.build import build_dataset
from seismag.sources.catalog import Catalog
from seismag.sources.iaga import write_iaga2002
from seismag.sources.indices.dst import write_dst_wdc
from seismag.sources.indices.kp import write_kp_csv
from seismag.sources.indices.ssc import write_ssc_list
from seismag.dataset.loading import read_meta
from seismag.errors import ConfigError, DataError, OutputError
from seismag.inference import SCORE_COLUMNS, load_trained_ensemble, predict_array, scan_data, scan_records
from seismag.layout.forecast import EXTRA_SCORE_COLUMNS
from seismag.inference.ensemble import prepare_raw
from seismag.layout.dataset_info import read_label_settings
from seismag.layout.forecast import read_forecast_meta, scores_meta_path
from seismag.models import F1WeightedEnsemble
from seismag.training.pipeline import run_experiment

START = np.datetime64("2020-01-01T00:00", "m")
DAYS = 14
WINDOW = 2
SPD = 48
STATIONS = {"AAA": (35.0, 30.0), "BBB": (35.0, 45.0)}  # local-time offsets of 4 and 6 steps
LONG_GAP = (np.datetime64("2020-01-07T02:00", "m"), 1200)  # BBB: 20 hours without rows
SHORT_GAP = (np.datetime64("2020-01-03T10:00", "m"), 45)   # BBB: 45 minutes without rows
RECIPE = [{"step": "baseline", "reference": "first_day"}, {"step": "local_time", "start_hour": 0.0,
                                                            "end_hour": 12.0}]
#: A training period before the records (as if trained on earlier data): nothing is in-sample.
BEFORE = {"train_until": "2019-12-01", "first_window_start": "2019-10-01T00:00:00",
          "last_horizon_end": "2019-12-01T00:00:00"}


def write_station(folder: Path, code: str, seed: int) -> Path:
    latitude, longitude = STATIONS[code]
    rng = np.random.default_rng(seed)
    minutes = np.arange(DAYS * 1440)
    if code == "BBB":
        for start, length in (LONG_GAP, SHORT_GAP):
            first = int((start - START).astype(int))
            minutes = minutes[(minutes < first) | (minutes >= first + length)]
    daily = np.sin(2 * np.pi * (minutes / 1440.0 + longitude / 360.0))
    walk = np.cumsum(rng.normal(0.0, 0.3, minutes.size))
    h = 30000.0 + 20.0 * daily + walk
    if code == "AAA":
        h[3000:3010] = np.nan  # a few missing values (99999 in the file)
    return write_iaga2002(folder / f"{code.lower()}202001.min",
                          {"H": h, "D": 300.0 + 2.0 * daily + 0.1 * walk, "Z": 35000.0 - 5.0 * daily + walk},
                          times=START + minutes.astype("timedelta64[m]"), iaga_code=code, latitude=latitude,
                          longitude=longitude, station_name=code)


def write_indices(folder: Path, kp_days: np.ndarray) -> dict:
    rng = np.random.default_rng(7)
    days = np.arange(np.datetime64("2019-12-20"), np.datetime64("2020-01-25"))
    write_dst_wdc(folder / "dst.dat", days, rng.integers(-80, 10, (days.size, 24)).astype(float))
    write_ssc_list(folder / "ssc_2020_d.txt", [np.datetime64("2020-01-06T03:10")], ["SSC"], [20.0], year=2020)
    write_kp_csv(folder / "kp.csv", kp_days, rng.integers(0, 25, (kp_days.size, 8)) / 3.0)
    return {"kp": folder / "kp.csv", "dst": folder / "dst.dat", "ssc": folder / "ssc_2020_d.txt"}


def with_training_period(path: Path, period: dict, out: Path) -> Path:
    """A copy of an ensemble whose ``extra['training_period']`` is ``period`` (set by hand)."""
    ensemble = F1WeightedEnsemble.load(path)
    return ensemble.save(out, extra={**ensemble.extra, "training_period": dict(period)})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("scan")
    obs = root / "obs"
    obs.mkdir()
    for seed, code in enumerate(STATIONS):
        write_station(obs, code, seed)
    indices = write_indices(root, np.arange(np.datetime64("2019-12-20"), np.datetime64("2020-01-25")))
    catalog = Catalog.from_events([("2020-01-05T12:00:00", 35.0, 37.5, 10.0, 6.0, "E1"),
                                   ("2020-01-09T06:00:00", 35.0, 37.5, 10.0, 6.0, "E2"),
                                   ("2020-01-12T18:00:00", 35.0, 37.5, 10.0, 6.0, "E3")],
                                  start="2019-12-01", end="2020-02-01")
    data = root / "data"
    build_dataset([obs], catalog, data, windows=(WINDOW,), components="H,D,Z", radius_km=1000.0, lead_days=2,
                  steps_per_day=SPD, recipe=RECIPE, **indices)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        config = make_config("paper", epochs=2, num_folds=2, steps_per_day=SPD, windows=[WINDOW], batch_size=8,
                             models=("mlp", "activity"), model_overrides=tiny_models(), device="cpu")
        run_experiment(config, data, root / "results", progress=False)
    finally:
        torch.set_num_threads(threads)
    ensembles = {name: with_training_period(next((root / "results").glob(f"{name}_models/*_ensemble.pth")),
                                            BEFORE, root / f"{name}_ensemble.pth")
                 for name in ("mlp", "activity")}
    return {"root": root, "obs": obs, "data": data, "indices": indices, **ensembles}


def read_scores(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == SCORE_COLUMNS + EXTRA_SCORE_COLUMNS  # the uncalibrated value last
        return list(reader)


def built_rows(data: Path) -> tuple[np.ndarray, dict]:
    """Build's raw rows of the window folder (class 0 then class 1) and its meta.csv."""
    folder = data / f"window-{WINDOW}"
    rows = np.concatenate([np.load(folder / f"data_{label}.npy")[:, :-1] for label in (0, 1)])
    return rows, read_meta(folder / "meta.csv", rows.shape[0])


def test_every_station_and_day_is_scored_as_build_prepares_it(trained, tmp_path):
    out = tmp_path / "scores.csv"
    summary = scan_records([trained["mlp"]], [trained["obs"]], out)
    rows = read_scores(out)
    # Window ends Jan 3 .. Jan 15 (the day after the last day) at both stations: 13 each.
    ends = [str(np.datetime64("2020-01-03") + i) for i in range(DAYS - WINDOW + 1)]
    assert [(r["station"], r["window_end"]) for r in rows] == [(s, e) for s in STATIONS for e in ends]
    assert {r["model"] for r in rows} == {"mlp_2day"} and summary["rows"] == 26
    assert all(r["in_sample"] == "false" for r in rows)
    assert rows[0]["latitude"] == "35.000" and rows[13]["longitude"] == "45.000"

    ensemble = load_trained_ensemble(trained["mlp"])
    raw, meta = built_rows(trained["data"])
    by_window = {(s, e[:10]): i for i, (s, e) in enumerate(zip(meta["station"], meta["window_end"]))}
    assert len(by_window) == 26 - 2  # build drops BBB's two windows holding the long gap
    for row in rows:
        if (row["station"], row["window_end"]) not in by_window:
            continue
        i = by_window[(row["station"], row["window_end"])]
        expected = predict_array(ensemble, prepare_raw(ensemble.extra, raw[i:i + 1], station=row["station"]))
        assert float(row["prob_class1"]) == pytest.approx(float(expected["prob_class1"][0]), abs=1e-6)
        assert float(row["member_std"]) == pytest.approx(float(np.sqrt(expected["member_variance"][0])), abs=1e-6)
        assert float(row["missing_fraction"]) == pytest.approx(float(meta["missing_fraction"][i]), abs=1e-6)
    # The short gap (45 minutes of 2880) is interpolated and scored, as build fills it.
    short = [r for r in rows if r["station"] == "BBB" and r["window_end"] in ("2020-01-04", "2020-01-05")]
    assert [float(r["missing_fraction"]) for r in short] == [pytest.approx(45 / 2880)] * 2
    assert all(r["prob_class1"] != "" for r in short)


def test_scan_rows_are_builds_rows_exactly(trained):
    """The row itself, before any model: build's window_row on the station's minutes."""
    from seismag.dataset.stations import find_station_files, read_station, window_row

    groups, _ = find_station_files([trained["obs"]])
    raw, meta = built_rows(trained["data"])
    for code, files in groups.items():
        station = read_station(files, ("H", "D", "Z"))
        for i in np.flatnonzero(meta["station"] == code):
            first = int((np.datetime64(meta["window_start"][i], "m") - START).astype(int))
            assert np.array_equal(window_row(station.series, first, WINDOW, SPD).astype(np.float32), raw[i])


def test_a_long_gap_gets_an_empty_score_and_its_missing_fraction(trained, tmp_path):
    out = tmp_path / "scores.csv"
    scan_records([trained["mlp"]], [trained["obs"]], out)
    gap = {r["window_end"]: r for r in read_scores(out) if r["station"] == "BBB"}
    for end in ("2020-01-08", "2020-01-09"):  # the windows holding Jan 7
        assert gap[end]["prob_class1"] == "" and gap[end]["member_std"] == ""
        assert float(gap[end]["missing_fraction"]) == pytest.approx(1200 / 2880, abs=1e-6)
    # With a looser limit the same windows are scored.
    scan_records([trained["mlp"]], [trained["obs"]], out, max_missing=0.5)
    assert all(r["prob_class1"] != "" for r in read_scores(out))


def test_in_sample_days_are_refused_or_marked(trained, tmp_path):
    period = {"train_until": "2020-01-07", "first_window_start": "2020-01-01T00:00:00",
              "last_horizon_end": "2020-01-07T00:00:00"}
    ensemble = with_training_period(trained["mlp"], period, tmp_path / "MLPModel_2day_ensemble.pth")
    out = tmp_path / "scores.csv"
    with pytest.raises(ConfigError, match=r"windows ending 2020-01-03 to 2020-01-06 are in-sample.*"
                                          r"first in-sample day is 2020-01-03.*--start 2020-01-07") as error:
        scan_records([ensemble], [trained["obs"]], out)
    assert str(ensemble) in str(error.value) and "2020-01-07T00:00:00" in str(error.value)
    assert not out.exists()
    scan_records([ensemble], [trained["obs"]], out, allow_in_sample=True)
    marked = {r["window_end"] for r in read_scores(out) if r["in_sample"] == "true"}
    assert marked == {"2020-01-03", "2020-01-04", "2020-01-05", "2020-01-06"}
    scan_records([ensemble], [trained["obs"]], out, start="2020-01-07", end="2020-01-10")
    assert [r["window_end"] for r in read_scores(out)] == ["2020-01-07", "2020-01-08", "2020-01-09"] * 2


@pytest.mark.parametrize("period", [None, {"train_until": None, "first_window_start": None,
                                            "last_horizon_end": None}])
def test_an_ensemble_without_a_training_period_is_warned_about(trained, tmp_path, period):
    ensemble = F1WeightedEnsemble.load(trained["mlp"])
    extra = {k: v for k, v in ensemble.extra.items() if k != "training_period"}
    extra["protocol"] = {k: v for k, v in extra["protocol"].items() if k != "training_period"}
    if period is not None:  # trained on data without meta.csv times
        extra["training_period"] = period
    path = ensemble.save(tmp_path / "old_ensemble.pth", extra=extra)
    with pytest.warns(UserWarning, match="records no training period"):
        scan_records([path], [trained["obs"]], tmp_path / "scores.csv")
    assert all(r["in_sample"] == "false" for r in read_scores(tmp_path / "scores.csv"))


def test_activity_ensemble_needs_its_index_files(trained, tmp_path):
    indices = trained["indices"]
    with pytest.raises(ConfigError, match=r"activity_2day takes the activity column 'max_kp'; give its index "
                                          r"file \(--kp\)"):
        scan_records([trained["activity"]], [trained["obs"]], tmp_path / "s.csv", dst=indices["dst"],
                     ssc=indices["ssc"])
    # Kp without Jan 10: every window holding that day has no activity score.
    kp_days = np.array([d for d in np.arange(np.datetime64("2019-12-20"), np.datetime64("2020-01-25"))
                        if d != np.datetime64("2020-01-10")])
    short = write_indices(tmp_path, kp_days)
    out = tmp_path / "scores.csv"
    scan_records([trained["mlp"], trained["activity"]], [trained["obs"]], out, **short)
    rows = read_scores(out)
    assert [r["model"] for r in rows] == ["activity_2day"] * 26 + ["mlp_2day"] * 26
    empty = {(r["station"], r["window_end"]) for r in rows if r["model"] == "activity_2day" and not r["prob_class1"]}
    assert empty == {(s, e) for s in STATIONS for e in ("2020-01-11", "2020-01-12")}
    # Where covered, the score is the ensemble's on build's activity columns.
    ensemble = load_trained_ensemble(trained["activity"])
    _, meta = built_rows(trained["data"])
    i = int(np.flatnonzero((meta["station"] == "AAA") & (meta["window_end"] == "2020-01-05T00:00:00"))[0])
    table = np.array([[float(meta[c][i]) for c in ("max_kp", "min_dst", "n_ssc")]], dtype=np.float32)
    row = next(r for r in rows if r["model"] == "activity_2day" and r["station"] == "AAA"
               and r["window_end"] == "2020-01-05")
    assert float(row["prob_class1"]) == pytest.approx(float(predict_array(ensemble, table)["prob_class1"][0]),
                                                      abs=1e-6)


def test_data_mode_scores_the_folders_rows(trained, tmp_path):
    out = tmp_path / "scores.csv"
    scan_data([trained["mlp"], trained["activity"]], trained["data"], out)
    rows = read_scores(out)
    raw, meta = built_rows(trained["data"])
    assert len(rows) == 2 * raw.shape[0]
    mlp = load_trained_ensemble(trained["mlp"])
    for row in (r for r in rows if r["model"] == "mlp_2day"):
        i = int(np.flatnonzero((meta["station"] == row["station"])
                               & (meta["window_end"] == row["window_end"] + "T00:00:00"))[0])
        expected = predict_array(mlp, prepare_raw(mlp.extra, raw[i:i + 1], station=row["station"]))
        assert float(row["prob_class1"]) == pytest.approx(float(expected["prob_class1"][0]), abs=1e-6)
    records = tmp_path / "records.csv"
    scan_records([trained["mlp"]], [trained["obs"]], records)
    by_day = {(r["station"], r["window_end"]): float(r["prob_class1"])
              for r in read_scores(records) if r["prob_class1"]}
    for row in (r for r in rows if r["model"] == "mlp_2day"):
        assert float(row["prob_class1"]) == pytest.approx(by_day[(row["station"], row["window_end"])], abs=2e-6)
    with pytest.raises(DataError, match="window-2: not found: mlp_2day"):
        scan_data([trained["mlp"]], tmp_path, out)


def test_two_ensembles_of_one_name_are_refused(trained, tmp_path):
    with pytest.raises(ConfigError, match="both mlp_2day ensembles"):
        scan_records([trained["mlp"], trained["mlp"]], [trained["obs"]], tmp_path / "s.csv")


def test_cli_end_to_end(trained, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert main(["scan", "--ensemble", str(trained["mlp"]), "--observatory", str(trained["obs"]),
                 "--out", str(out), "--start", "2020-01-10"]) == 0
    captured = capsys.readouterr()
    assert "12 rows (2 stations)" in captured.out
    assert "seismag scan: AAA:" in captured.err and "seismag scan: BBB:" in captured.err
    assert len(read_scores(out)) == 12
    assert main(["scan", "--ensemble", str(trained["activity"]), "--observatory", str(trained["obs"]),
                 "--out", str(tmp_path / "a.csv")]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.startswith("seismag scan: error:") and "(--kp)" in line
    assert main(["scan", "--ensemble", str(trained["mlp"]), "--data", str(trained["data"]),
                 "--out", str(tmp_path / "d.csv")]) == 0
    assert "24 rows (2 stations)" in capsys.readouterr().out and len(read_scores(tmp_path / "d.csv")) == 24
    assert main(["scan", "--ensemble", str(trained["mlp"]), "--data", str(trained["data"]), "--kp", "k.csv",
                 "--out", str(tmp_path / "d.csv")]) == 2
    assert "not with --data" in capsys.readouterr().err


# ------------------------------------------------------------------ the companion: label settings

#: The label settings of the fixture's build (radius_km 1000, lead_days 2, the rest default).
BUILT_LABELS = {"min_magnitude": 5.5, "radius": "fixed", "radius_km": 1000.0, "lead_days": 2, "max_depth_km": None,
                "decluster": False}


def with_labels(path: Path, labels: dict | None, out: Path) -> Path:
    """A copy of an ensemble whose label settings are ``labels`` (None: an ensemble that predates them)."""
    ensemble = F1WeightedEnsemble.load(path)
    extra = {k: v for k, v in ensemble.extra.items() if k != "labels"}
    extra["protocol"] = {k: v for k, v in extra["protocol"].items() if k != "labels"}
    if labels is not None:
        extra["labels"] = labels
    return ensemble.save(out, extra=extra)


def test_scan_writes_each_models_label_settings_and_period_beside_the_scores(trained, tmp_path):
    assert read_label_settings(trained["data"]) == BUILT_LABELS  # build recorded them, training carried them
    out = tmp_path / "scores.csv"
    summary = scan_records([trained["mlp"], trained["activity"]], [trained["obs"]], out, **trained["indices"])
    assert summary["meta"] == str(tmp_path / "scores.meta.json") == str(scores_meta_path(out))
    meta = read_forecast_meta(out)
    assert meta["scores"] == "scores.csv" and set(meta["models"]) == {"mlp_2day", "activity_2day"}
    for name in ("mlp", "activity"):
        entry = meta["models"][f"{name}_2day"]
        calibration = entry.pop("calibration")
        assert entry == {"ensemble": str(trained[name]), "training_period": BEFORE, "labels": BUILT_LABELS}
        assert calibration.startswith("calibrated (platt scaling fitted on"), calibration


def test_the_companion_records_per_model_what_the_ensembles_say(trained, tmp_path):
    other = with_labels(trained["mlp"], {**BUILT_LABELS, "min_magnitude": 6.0, "decluster": True},
                        tmp_path / "MLPModel_2day_ensemble.pth")
    unknown = with_labels(trained["activity"], None, tmp_path / "ActivityModel_2day_ensemble.pth")
    out = tmp_path / "scores.csv"
    scan_records([other, unknown], [trained["obs"]], out, **trained["indices"])
    models = read_forecast_meta(out)["models"]
    assert models["mlp_2day"]["labels"] == {**BUILT_LABELS, "min_magnitude": 6.0, "decluster": True}
    assert models["activity_2day"]["labels"] is None
    scan_data([trained["mlp"]], trained["data"], tmp_path / "d.csv")  # --data: the ensemble's, too
    assert read_forecast_meta(tmp_path / "d.csv")["models"]["mlp_2day"]["labels"] == BUILT_LABELS


def test_a_companion_is_written_with_its_csv_or_not_at_all(trained, tmp_path):
    out = tmp_path / "scores.csv"
    assert read_forecast_meta(out) is None  # no companion: nothing recorded
    scores_meta_path(out).mkdir()  # the companion cannot be written: the CSV is not either
    with pytest.raises(OutputError):
        scan_records([trained["mlp"]], [trained["obs"]], out)
    assert not out.exists()
    scores_meta_path(out).rmdir()
    scan_records([trained["mlp"]], [trained["obs"]], out, start="2020-01-10")
    out.write_text(out.read_text() + out.read_text().splitlines()[-1] + "\n")  # another table beside it
    with pytest.raises(DataError, match="SHA-256"):
        read_forecast_meta(out)
