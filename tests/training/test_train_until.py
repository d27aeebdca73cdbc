"""--train-until: training strictly before a date, and the training period every ensemble carries."""
import csv

import numpy as np
import pytest

from seismag.config import make_config
from seismag.dataset.loading import load_window
from seismag.errors import ConfigError, DataError
from seismag.inference.ensemble import in_sample, load_trained_ensemble, training_period
from seismag.training.pipeline import run_experiment

from helpers import SPD, tiny_config

DAYS = 2


def write_dated(root, n=40):
    """Daily 2-day windows from 2020-01-01, class 1 every third one; horizon 3 days after the end."""
    rng = np.random.default_rng(0)
    folder = root / f"window-{DAYS}"
    folder.mkdir(parents=True)
    starts = np.datetime64("2020-01-01T00:00:00") + np.arange(n) * np.timedelta64(1, "D")
    labels = (np.arange(n) % 3 == 0).astype(int)
    X = rng.normal(size=(n, DAYS * SPD))
    rows = {0: [], 1: []}
    for i in range(n):
        rows[labels[i]].append(i)
    with open(folder / "meta.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["station", "window_start", "window_end", "label_horizon_end"])
        for label in (0, 1):
            for i in rows[label]:
                end = starts[i] + np.timedelta64(DAYS, "D")
                writer.writerow(["AAA", str(starts[i]), str(end), str(end + np.timedelta64(3, "D"))])
    for label in (0, 1):
        part = X[rows[label]]
        np.save(folder / f"data_{label}.npy", np.hstack([part, np.full((len(part), 1), float(label))]))
    return root


def test_until_keeps_windows_whose_horizon_ends_by_the_date(tmp_path):
    data = load_window(write_dated(tmp_path), DAYS, SPD)
    kept = data.until("2020-01-20")
    horizon = kept.meta["label_horizon_end"]
    # window i ends Jan (i + 3), its horizon Jan (i + 6): ends <= Jan 20 for i <= 14: 15 windows
    assert kept.n_samples == 15 and max(horizon) == "2020-01-20T00:00:00"
    assert kept.features.shape == (15, DAYS * SPD)
    np.testing.assert_array_equal(kept.features, data.features[data.meta["label_horizon_end"] <= "2020-01-20T00:00:00"])
    period = kept.training_period("2020-01-20")
    assert period == {"train_until": "2020-01-20", "first_window_start": "2020-01-01T00:00:00",
                      "last_horizon_end": "2020-01-20T00:00:00"}


def test_every_ensemble_records_its_training_period(tmp_path):
    data_dir = write_dated(tmp_path / "data")
    config = tiny_config(windows=[DAYS], models=["features"], train_until="2020-01-20", selection="outer")
    summary = run_experiment(config, data_dir, tmp_path / "r", progress=False)["features"][DAYS]
    assert summary["protocol"]["training_period"]["last_horizon_end"] == "2020-01-20T00:00:00"
    test_rows = sum(len(np.load(path)) for path in (tmp_path / "r" / "features_models").glob("*_test_labels.npy"))
    assert test_rows == 15  # every fold's validation rows together: the 15 windows before the date
    ensemble = load_trained_ensemble(tmp_path / "r" / "features_models" / f"FeaturesModel_{DAYS}day_ensemble.pth")
    assert training_period(ensemble.extra)["train_until"] == "2020-01-20"
    ends = np.array(["2020-01-19", "2020-01-20", "2020-02-01"], dtype="datetime64[s]")
    assert in_sample(ensemble.extra, ends).tolist() == [True, False, False]


def test_a_bad_date_and_data_without_horizons_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="train_until must be a date YYYY-MM-DD, got '2020-02-30'"):
        make_config("paper", train_until="2020-02-30")
    from helpers import write_synthetic

    data_dir = write_synthetic(tmp_path / "synth", days=(4,))
    with pytest.raises(DataError, match="meta.csv.*no column 'label_horizon_end'"):
        run_experiment(tiny_config(train_until="2020-01-01", models=["features"]), data_dir, tmp_path / "r",
                       progress=False)
    with pytest.raises(DataError, match="no window's label horizon ends by 2019-01-01"):
        run_experiment(tiny_config(windows=[DAYS], models=["features"], train_until="2019-01-01"),
                       write_dated(tmp_path / "dated"), tmp_path / "r2", progress=False)
    assert not (tmp_path / "r").exists() and not (tmp_path / "r2").exists()
