"""Several channels and the activity reference, from dataset.json through training to predict."""
import csv
import json

import numpy as np
import pytest
import torch

from seismag.dataset.loading import fill_gaps, load_window
from seismag.errors import DataError
from seismag.inference import load_trained_ensemble, predict_file
from seismag.inference.predict import predict_array
from seismag.layout.dataset_info import DatasetInfo
from seismag.models import load_model_checkpoint
from seismag.training.pipeline import run_experiment

from helpers import SPD, tiny_config

DAYS = 4
CHANNELS = ("H", "D", "Z")


def write_channels(root, *, signal_channel=2, n0=48, n1=32, seed=0, activity=False, channels=CHANNELS):
    """A 3-channel folder: noise everywhere, and in class 1 a burst on the last day of one channel."""
    rng = np.random.default_rng(seed)
    n = n0 + n1
    labels = np.array([0] * n0 + [1] * n1)
    grid = rng.normal(0.0, 1.0, size=(n, DAYS, len(channels), SPD))
    grid += np.array([40000.0, 300.0, 35000.0])[: len(channels)].reshape(1, 1, -1, 1)  # baselines per channel
    if signal_channel is not None:
        grid[labels == 1, -1, signal_channel, :] += 4.0 * np.sin(np.arange(SPD) / 3.0)
    folder = root / f"window-{DAYS}"
    folder.mkdir(parents=True)
    rows = grid.reshape(n, -1)
    for label in (0, 1):
        part = rows[labels == label]
        np.save(folder / f"data_{label}.npy", np.hstack([part, np.full((len(part), 1), float(label))]))
    columns = ["station", "event_id", "window_start"]
    if activity:
        columns += ["max_kp", "min_dst", "n_ssc"]
    with open(folder / "meta.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for i in range(n):
            row = ["AAA", f"e{i}" if labels[i] else "", f"2020-01-{1 + i % 28:02d}T00:00:00"]
            if activity:  # class 1 under storms: Kp high, Dst low
                kp = rng.uniform(5, 8) if labels[i] else rng.uniform(0, 4)
                row += [f"{kp:.3f}", f"{-10 * kp:.1f}", str(int(kp > 6))]
            writer.writerow(row)
    info = DatasetInfo(channels, ("nT", "arcmin", "nT")[: len(channels)], SPD,
                       {"AAA": {"latitude": 40.0, "longitude": 140.0}},
                       activity_columns=("max_kp", "min_dst", "n_ssc") if activity else ())
    (root / "dataset.json").write_text(json.dumps(info.to_dict()))
    return root


def test_loader_reads_channels_from_dataset_json(tmp_path):
    data = load_window(write_channels(tmp_path), DAYS, nan_policy="refuse")
    assert data.channels == CHANNELS and data.n_channels == 3
    assert data.steps_per_day == 3 * SPD and data.features.shape == (80, DAYS * 3 * SPD)
    record = data.input_record()
    assert record["channels"] == list(CHANNELS) and record["steps_per_day"] == SPD and record["recipe"] == []


def test_a_folder_that_says_another_steps_per_day_is_refused(tmp_path):
    write_channels(tmp_path)
    with pytest.raises(DataError, match="dataset.json.*steps_per_day 48"):
        load_window(tmp_path, DAYS, steps_per_day=60)


def test_gaps_are_filled_from_their_own_channel():
    days, channels, steps = 2, 2, 4
    grid = np.zeros((1, days, channels, steps), dtype=np.float32)
    grid[0, :, 0, :] = 100.0  # channel 1 constant 100
    grid[0, :, 1, :] = np.arange(days * steps, dtype=np.float32).reshape(days, steps) + 7.0  # channel 2 a ramp
    grid[0, 0, 1, 0] = np.nan  # the first sample of channel 2: its neighbour in the row is channel 1's 100
    grid[0, 1, 1, 1] = np.nan  # inside channel 2, across a day boundary of the row
    rows = grid.reshape(1, -1)
    keep, filled = fill_gaps(rows, 0.5, channels=channels, steps_per_day=steps)
    assert keep.tolist() == [True] and filled == 1
    out = rows.reshape(days, channels, steps)
    assert out[0, 1, 0] == 8.0  # the nearest valid value of channel 2 (an edge), not 100
    assert out[1, 1, 1] == pytest.approx(12.0)  # the ramp continues: (11 + 13) / 2
    assert (out[:, 0, :] == 100.0).all()


def test_a_row_with_one_channel_empty_is_dropped():
    grid = np.ones((2, 2, 2, 4), dtype=np.float32)
    grid[1, :, 1, :] = np.nan  # row 2: channel 2 has no value at all (half the row)
    keep, _ = fill_gaps(grid.reshape(2, -1), 0.6, channels=2, steps_per_day=4)
    assert keep.tolist() == [True, False]


@pytest.fixture(scope="module")
def three_channel_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("channels")
    data_dir = write_channels(root / "data", activity=True)
    config = tiny_config(windows=[DAYS], models=["gru", "lstm", "rnn", "mlp", "transformer", "features",
                                                 "minirocket", "activity"], epochs=2)
    results = run_experiment(config, data_dir, root / "results", progress=False)
    return data_dir, root / "results", results


def test_every_model_trains_on_three_channels(three_channel_run):
    data_dir, out, results = three_channel_run
    for model, by_window in results.items():
        assert np.isfinite(by_window[DAYS]["mean"]["f1"]), model
    ensemble = load_trained_ensemble(out / "gru_models" / f"GRUModel_{DAYS}day_ensemble.pth")
    inputs = ensemble.extra["inputs"]
    assert inputs["kind"] == "window" and inputs["channels"] == list(CHANNELS) and inputs["n_channels"] == 3
    assert ensemble.extra["steps_per_day"] == 3 * SPD  # a day token holds every channel
    _, checkpoint = load_model_checkpoint(out / "gru_models" / f"GRUModel_{DAYS}day_fold_1.pth")
    assert checkpoint["extra"]["inputs"] == inputs  # every fold model carries it too
    activity = load_trained_ensemble(out / "activity_models" / f"ActivityModel_{DAYS}day_ensemble.pth")
    assert activity.extra["inputs"] == {"kind": "table", "columns": ["max_kp", "min_dst", "n_ssc"]}


def test_predict_on_raw_rows_reproduces_the_training_time_probabilities(three_channel_run, tmp_path):
    data_dir, out, _ = three_channel_run
    data = load_window(data_dir, DAYS)
    for model, display in (("features", "Features"), ("mlp", "MLP"), ("gru", "GRU")):
        path = out / f"{model}_models" / f"{display}Model_{DAYS}day_ensemble.pth"
        expected = predict_array(load_trained_ensemble(path), data.features)["prob_class1"]
        csv_path = tmp_path / f"{model}.csv"
        predict_file(path, data_dir / f"window-{DAYS}" / "data_1.npy", out=csv_path)
        with open(csv_path) as handle:
            got = np.array([float(row["prob_class1"]) for row in csv.DictReader(handle)])
        np.testing.assert_allclose(got, expected[data.labels == 1], atol=1e-6)


def test_predict_names_the_channels_when_the_width_is_wrong(three_channel_run, tmp_path):
    _, out, _ = three_channel_run
    rows = tmp_path / "one_channel.npy"
    np.save(rows, np.zeros((3, DAYS * SPD), dtype=np.float32))
    with pytest.raises(DataError, match=r"3 channel\(s\) \(H, D, Z\)"):
        predict_file(out / "mlp_models" / f"MLPModel_{DAYS}day_ensemble.pth", rows)


def test_a_signal_in_one_channel_is_learned_and_absent_without_it(tmp_path):
    config = tiny_config(windows=[DAYS], models=["features"], epochs=6, num_folds=3)
    with_signal = run_experiment(config, write_channels(tmp_path / "a", signal_channel=2), tmp_path / "ra",
                                 progress=False)
    without = run_experiment(config, write_channels(tmp_path / "b", signal_channel=None), tmp_path / "rb",
                             progress=False)
    assert with_signal["features"][DAYS]["mean"]["roc_auc"] > 0.9
    assert without["features"][DAYS]["mean"]["roc_auc"] < 0.75


def test_the_activity_reference_learns_storm_labels_and_joins_default_runs(tmp_path):
    data_dir = write_channels(tmp_path / "data", signal_channel=None, activity=True)
    config = tiny_config(windows=[DAYS], epochs=8)  # the default model list
    results = run_experiment(config, data_dir, tmp_path / "r", progress=False)
    assert "activity" in results  # the default models gained it: the data carry activity columns
    assert results["activity"][DAYS]["mean"]["roc_auc"] > 0.9
    assert results["features"][DAYS]["mean"]["roc_auc"] < 0.75  # the series carry nothing here


def test_the_activity_model_without_activity_columns_is_one_clear_line(tmp_path):
    data_dir = write_channels(tmp_path / "data")
    with pytest.raises(DataError, match=r"meta.csv.*no geomagnetic-activity columns.*--kp"):
        run_experiment(tiny_config(windows=[DAYS], models=["activity"]), data_dir, tmp_path / "r", progress=False)
    assert not (tmp_path / "r").exists()


def test_empty_activity_values_are_refused_naming_the_column(tmp_path):
    data_dir = write_channels(tmp_path / "data", activity=True)
    meta = data_dir / f"window-{DAYS}" / "meta.csv"
    lines = meta.read_text().splitlines()
    cells = lines[3].split(",")
    cells[3] = ""
    lines[3] = ",".join(cells)
    meta.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"column 'max_kp' is empty.*1 windows.*first at line 4"):
        run_experiment(tiny_config(windows=[DAYS], models=["activity"]), data_dir, tmp_path / "r", progress=False)


def test_channels_reach_models_as_one_token_per_day():
    from seismag.models import create_model, to_model_input

    net = create_model("gru", DAYS, 3 * SPD, channels=3, hidden_sizes=[8])
    x = torch.zeros(2, DAYS * 3 * SPD)
    assert to_model_input(net, x, DAYS, 3 * SPD).shape == (2, DAYS, 3 * SPD)


def test_the_report_shows_components_and_activity_by_class(three_channel_run):
    from seismag.report import write_report

    _, out, _ = three_channel_run
    summary = json.loads((out / "dataset_summary.json").read_text())["windows"][str(DAYS)]
    assert summary["channels"] == list(CHANNELS) and summary["units"] == ["nT", "arcmin", "nT"]
    kp0, kp1 = summary["activity"]["columns"]["max_kp"]
    assert kp0["max"] <= 4.0 < 5.0 <= kp1["min"]  # as written: class 1 under storms
    assert summary["activity"]["storm_share"] == [0.0, 1.0]
    html = write_report(out, out / "report.html").read_text()
    assert "components H (nT), D (arcmin), Z (nT)" in html and "recipe: none" in html
    assert "geomagnetic activity by class" in html and "100.0%" in html


RECIPE = [{"step": "despike", "half_window": 3, "n_sigma": 3.0}, {"step": "baseline", "reference": "first_day"},
          {"step": "diff"}, {"step": "local_time", "start_hour": 0.0, "end_hour": 12.0}]


def with_recipe(root, recipe=RECIPE):
    info = json.loads((root / "dataset.json").read_text())
    info["recipe"] = recipe
    (root / "dataset.json").write_text(json.dumps(info))
    return root


def test_the_loader_applies_the_folders_recipe(tmp_path):
    raw = load_window(write_channels(tmp_path / "raw"), DAYS)
    prepared = load_window(with_recipe(write_channels(tmp_path / "prepared")), DAYS)
    assert prepared.steps_per_day == 3 * (SPD // 2)  # 12 of 24 hours kept, every channel
    assert prepared.features.shape == (raw.n_samples, DAYS * 3 * (SPD // 2))
    assert prepared.recipe == tuple(RECIPE) and prepared.input_record()["recipe"] == RECIPE
    from seismag.dataset.recipe import Recipe

    expected = Recipe.from_dicts(RECIPE, "test").apply(raw.features, window_days=DAYS, channels=3, steps_per_day=SPD,
                                                       longitudes=np.full(raw.n_samples, 140.0))
    np.testing.assert_array_equal(prepared.features, expected)


def test_predict_prepares_raw_rows_with_the_ensembles_recipe(tmp_path):
    data_dir = with_recipe(write_channels(tmp_path / "data"))
    run_experiment(tiny_config(windows=[DAYS], models=["features", "gru"], epochs=2), data_dir, tmp_path / "r",
                   progress=False)
    data = load_window(data_dir, DAYS)
    for model, display in (("features", "Features"), ("gru", "GRU")):
        path = tmp_path / "r" / f"{model}_models" / f"{display}Model_{DAYS}day_ensemble.pth"
        ensemble = load_trained_ensemble(path)
        assert ensemble.extra["inputs"]["recipe"] == RECIPE
        expected = predict_array(ensemble, data.features)["prob_class1"]
        predict_file(path, data_dir / f"window-{DAYS}" / "data_0.npy", out=tmp_path / "p.csv")
        with open(tmp_path / "p.csv") as handle:
            got = np.array([float(row["prob_class1"]) for row in csv.DictReader(handle)])
        np.testing.assert_allclose(got, expected[data.labels == 0], atol=1e-6)  # the CSV keeps 6 decimals


def test_evaluate_uses_the_ensembles_recipe_not_the_test_folders(tmp_path):
    from seismag.inference import evaluate_results

    data_dir = with_recipe(write_channels(tmp_path / "data"))
    run_experiment(tiny_config(windows=[DAYS], models=["features"], epochs=2), data_dir, tmp_path / "r",
                   progress=False)
    same = evaluate_results(tmp_path / "r", data_dir, out_dir=tmp_path / "e1")
    other = with_recipe(write_channels(tmp_path / "other"), recipe=[{"step": "diff"}])  # same rows, other recipe
    again = evaluate_results(tmp_path / "r", other, out_dir=tmp_path / "e2")
    assert same["features"][DAYS]["mean"] == again["features"][DAYS]["mean"]
    probs = [np.load(tmp_path / e / "features_models" / f"FeaturesModel_{DAYS}day_fold_1_test_probs.npy")
             for e in ("e1", "e2")]
    np.testing.assert_array_equal(*probs)
