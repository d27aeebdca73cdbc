"""The synthetic generator: layout, determinism, physical plausibility, and that
``effect`` is the only thing that tells the classes apart."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from seismag.synth.windows import DEFAULT_EFFECT, PRESETS, generate_dataset, generate_window
from seismag.errors import ConfigError, DataError

SMALL_SPD = 48  # half-hourly values: layout and determinism do not need 1-minute data


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_meta(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), list(reader)


def _fill_gaps(X: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN gaps, row by row (what the loader does)."""
    X = X.astype(np.float64)
    index = np.arange(X.shape[1])
    for row in np.flatnonzero(np.isnan(X).any(axis=1)):
        bad = np.isnan(X[row])
        X[row, bad] = np.interp(index[bad], index[~bad], X[row, ~bad])
    return X


def _band_power_features(X: np.ndarray, window_days: int) -> np.ndarray:
    """Log power per day in the Pc5 band (150-600 s) and in 10-60 min periods."""
    days = _fill_gaps(X).reshape(len(X), window_days, 1440)
    days -= days.mean(axis=2, keepdims=True)
    power = np.abs(np.fft.rfft(days, axis=2)) ** 2  # bin k = k cycles a day
    pc5 = power[:, :, 144:577].sum(axis=2)  # periods 600 s ... 150 s
    slow = power[:, :, 24:144].sum(axis=2)  # periods 60 min ... 10 min
    return np.log(np.concatenate([pc5, slow], axis=1))


def _grouped_auc(X: np.ndarray, y: np.ndarray, meta: list[dict], window_days: int) -> float:
    groups = np.array([m["event_id"] for m in meta])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    cv = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0)
    scores = cross_val_score(model, _band_power_features(X, window_days), y, groups=groups, cv=cv, scoring="roc_auc")
    return float(scores.mean())


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth")
    summary = generate_dataset(out, preset="quick", seed=3, windows=(7, 14), steps_per_day=SMALL_SPD)
    return out, summary


@pytest.fixture(scope="module")
def minute_window():
    """One-minute data with enough rows for spectral and distribution checks."""
    return generate_window(7, 240, 160, seed=11)


# --- layout -----------------------------------------------------------------------------


def test_layout_shapes_labels_and_summary(small_dataset):
    out, summary = small_dataset
    assert summary["preset"] == "quick" and summary["seed"] == 3
    assert summary["effect"] == DEFAULT_EFFECT
    assert set(summary["windows"]) == {"7", "14"}
    for window_days in (7, 14):
        folder = out / f"window-{window_days}"
        info = summary["windows"][str(window_days)]
        assert Path(info["path"]) == folder
        n_features = window_days * SMALL_SPD
        assert info["n_features"] == n_features
        for label, expected_rows in enumerate(PRESETS["quick"][window_days]):
            data = np.load(folder / f"data_{label}.npy")
            assert data.dtype == np.float32
            assert data.shape == (expected_rows, n_features + 1)
            assert np.all(data[:, -1] == float(label))
            assert not np.isnan(data[:, -1]).any()
        assert (info["n_class0"], info["n_class1"]) == PRESETS["quick"][window_days]
    # No temporary files left behind by the atomic writers.
    assert not [p for p in out.rglob("*") if p.name.startswith(".")]


def test_meta_rows_follow_file_order(small_dataset):
    out, summary = small_dataset
    for window_days in (7, 14):
        n_class0, n_class1 = PRESETS["quick"][window_days]
        header, rows = read_meta(out / f"window-{window_days}" / "meta.csv")
        assert header == ["station", "event_id", "window_start"]
        assert len(rows) == n_class0 + n_class1
        class0, class1 = rows[:n_class0], rows[n_class0:]
        assert all(r["event_id"].startswith("EQ-") for r in class1)
        assert all(r["event_id"].startswith("REF-") for r in class0)
        for r in rows:
            start = dt.datetime.fromisoformat(r["window_start"])
            assert (start.hour, start.minute, start.second) == (0, 0, 0)
            assert r["station"].startswith("ST")
        # Several stations recorded one event: ids repeat, on one date, at distinct stations.
        per_event = Counter(r["event_id"] for r in class1)
        assert max(per_event.values()) >= 2
        assert summary["windows"][str(window_days)]["n_events"] == len(per_event) < n_class1
        for event_id in per_event:
            members = [r for r in class1 if r["event_id"] == event_id]
            assert len({r["window_start"] for r in members}) == 1
            assert len({r["station"] for r in members}) == len(members)
        # Chronological within a class.
        starts = [r["window_start"] for r in class1]
        assert starts == sorted(starts)


def test_generate_window_matches_the_files(small_dataset):
    out, _ = small_dataset
    n_class0, n_class1 = PRESETS["quick"][7]
    X, y, meta = generate_window(7, n_class0, n_class1, seed=3, steps_per_day=SMALL_SPD)
    assert X.dtype == np.float32 and X.shape == (n_class0 + n_class1, 7 * SMALL_SPD)
    assert y.dtype == np.int64 and y.tolist() == [0] * n_class0 + [1] * n_class1
    on_disk = np.concatenate([np.load(out / "window-7" / f"data_{c}.npy")[:, :-1] for c in (0, 1)])
    assert on_disk.tobytes() == X.tobytes()
    _, rows = read_meta(out / "window-7" / "meta.csv")
    assert rows == [{k: str(v) for k, v in m.items()} for m in meta]


# --- determinism --------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(small_dataset, tmp_path):
    out, _ = small_dataset
    again = generate_dataset(tmp_path / "again", preset="quick", seed=3, windows=(7, 14), steps_per_day=SMALL_SPD)
    other = generate_dataset(tmp_path / "other", preset="quick", seed=4, windows=(7,), steps_per_day=SMALL_SPD)
    for window_days in (7, 14):
        for name in ("data_0.npy", "data_1.npy", "meta.csv"):
            first = out / f"window-{window_days}" / name
            assert _sha256(first) == _sha256(Path(again["windows"][str(window_days)]["path"]) / name)
    for name in ("data_0.npy", "data_1.npy"):
        assert _sha256(out / "window-7" / name) != _sha256(Path(other["windows"]["7"]["path"]) / name)


def test_windows_are_independent_of_each_other(small_dataset, tmp_path):
    """Generating window 7 alone gives the same bytes as generating it with window 14."""
    out, _ = small_dataset
    alone = generate_dataset(tmp_path, preset="quick", seed=3, windows=(7,), steps_per_day=SMALL_SPD)
    assert _sha256(out / "window-7" / "data_1.npy") == _sha256(Path(alone["windows"]["7"]["path"]) / "data_1.npy")


def test_effect_changes_only_class1_rows():
    X0, y, meta0 = generate_window(7, 20, 20, seed=5, effect=0.0, steps_per_day=SMALL_SPD)
    X2, _, meta2 = generate_window(7, 20, 20, seed=5, effect=2.0, steps_per_day=SMALL_SPD)
    assert meta0 == meta2
    assert np.array_equal(X0[y == 0], X2[y == 0], equal_nan=True)
    assert not np.array_equal(X0[y == 1], X2[y == 1], equal_nan=True)


# --- physical plausibility ------------------------------------------------------------------


def test_values_are_plausible_nanotesla(minute_window):
    X, _, _ = minute_window
    assert 25_000 < np.nanmin(X) and np.nanmax(X) < 35_000  # absolute H at mid-latitudes
    excursion = X - np.nanmedian(X, axis=1, keepdims=True)
    assert np.nanmax(np.abs(excursion)) < 1_000
    # Short gaps in a minority of rows.
    rows_with_gaps = np.isnan(X).any(axis=1).mean()
    assert 0.0 < rows_with_gaps < 0.3
    assert np.isnan(X).mean() < 1e-3
    # Not white noise: neighbouring minutes are almost the same.
    filled = _fill_gaps(X)
    step = np.diff(filled, axis=1)
    assert np.median(np.abs(step)) < 0.2 * np.median(np.std(filled, axis=1))


def test_daily_variation_shows_in_the_spectrum(minute_window):
    X, _, _ = minute_window
    filled = _fill_gaps(X)
    filled -= filled.mean(axis=1, keepdims=True)
    filled *= np.hanning(filled.shape[1])  # keep the storms' low-frequency power from leaking
    power = (np.abs(np.fft.rfft(filled, axis=1)) ** 2).mean(axis=0)
    cycles_per_day = np.fft.rfftfreq(X.shape[1], d=1.0 / 1440)
    for harmonic in (1, 2):
        peak = power[np.argmin(np.abs(cycles_per_day - harmonic))]
        near = (np.abs(cycles_per_day - harmonic) > 0.2) & (np.abs(cycles_per_day - harmonic) < 0.6)
        # A clear line above the storms' red continuum.
        assert peak > 3 * np.median(power[near])
    # ULF noise: red, i.e. falling power towards higher frequencies.
    assert power[(cycles_per_day > 100) & (cycles_per_day < 200)].mean() > power[cycles_per_day > 500].mean()


def test_storms_hit_all_stations_on_the_same_dates(minute_window):
    X, y, meta = minute_window
    # Class 0 only: the class-1 precursor (a level drop at the end) would correlate across dates.
    X, meta = X[y == 0], [m for m, label in zip(meta, y) if label == 0]
    hourly = _fill_gaps(X).reshape(len(X), 7, 24, 60).mean(axis=3)
    hourly -= hourly.mean(axis=1, keepdims=True)  # remove the daily variation, which every date shares
    hourly = hourly.reshape(len(X), -1)
    starts = np.array([m["window_start"] for m in meta])
    same_date, other_date = [], []
    for i in range(len(X)):
        if hourly[i].min() > -60:  # only windows with a clear storm
            continue
        for j in range(len(X)):
            if i != j and meta[i]["station"] != meta[j]["station"]:
                r = np.corrcoef(hourly[i], hourly[j])[0, 1]
                (same_date if starts[i] == starts[j] else other_date).append(r)
    assert len(same_date) >= 5
    assert np.median(same_date) > 0.8
    assert np.median(other_date) < 0.3


# --- the classes differ only by the precursor -------------------------------------------------


def test_effect_zero_is_indistinguishable_large_effect_is_easy():
    X, y, meta = generate_window(7, 600, 600, seed=21, effect=0.0)
    assert 0.4 < _grouped_auc(X, y, meta, 7) < 0.6
    X, y, meta = generate_window(7, 150, 150, seed=21, effect=2.0)
    assert _grouped_auc(X, y, meta, 7) > 0.9


def test_effect_zero_same_station_mix_dates_and_gaps():
    X, y, meta = generate_window(7, 600, 600, seed=8, effect=0.0, steps_per_day=SMALL_SPD)
    counts = [Counter(m["station"] for m, label in zip(meta, y) if label == c) for c in (0, 1)]
    assert set(counts[0]) == set(counts[1])
    for station in counts[0]:
        assert abs(counts[0][station] - counts[1][station]) < 0.35 * counts[0][station] + 10
    years = [np.array([dt.datetime.fromisoformat(m["window_start"]).year for m, lab in zip(meta, y) if lab == c])
             for c in (0, 1)]
    assert abs(years[0].mean() - years[1].mean()) < 0.4
    gaps = [np.isnan(X[y == c]).any(axis=1).mean() for c in (0, 1)]
    assert abs(gaps[0] - gaps[1]) < 0.06


# --- bad arguments ------------------------------------------------------------------------------


def test_unknown_preset_lists_the_presets(tmp_path):
    with pytest.raises(ConfigError, match="quick") as info:
        generate_dataset(tmp_path, preset="huge")
    assert "paper" in str(info.value) and "huge" in str(info.value)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("effect", [-0.1, float("nan"), float("inf"), "strong"])
def test_bad_effect_is_refused(tmp_path, effect):
    with pytest.raises(ConfigError, match="effect"):
        generate_dataset(tmp_path, effect=effect)
    with pytest.raises(ConfigError, match="effect"):
        generate_window(7, 2, 2, effect=effect)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"windows": (5,)}, "5-day"),
        ({"windows": ()}, "windows"),
        ({"steps_per_day": 0}, "steps_per_day"),
        ({"stations_per_event": (0, 3)}, "stations_per_event"),
        ({"stations_per_event": (2, 9)}, "stations_per_event"),
    ],
)
def test_bad_dataset_arguments_are_refused(tmp_path, kwargs, word):
    with pytest.raises(ConfigError, match=word):
        generate_dataset(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


def test_bad_window_arguments_are_refused():
    with pytest.raises(ConfigError, match="n_class1"):
        generate_window(7, 3, -1)
    with pytest.raises(ConfigError, match="window_days"):
        generate_window(0, 3, 3)


def test_empty_class_is_allowed_in_memory():
    X, y, meta = generate_window(3, 4, 0, seed=1, steps_per_day=24)
    assert X.shape == (4, 72) and y.tolist() == [0, 0, 0, 0] and len(meta) == 4


# --- several channels ----------------------------------------------------------------------------


def _channel(X: np.ndarray, window_days: int, n_channels: int, index: int) -> np.ndarray:
    """Channel ``index`` of rows in "day, channel, step" order, as (rows, window_days * spd)."""
    by_day = X.reshape(len(X), window_days, n_channels, -1)
    return by_day[:, :, index, :].reshape(len(X), -1)


def test_default_rows_are_those_of_earlier_versions():
    """Values the generator wrote before it learnt D, Z and F (same seed, same sizes)."""
    X, y, meta = generate_window(7, 3, 3, seed=9, steps_per_day=48)
    pinned = [[29996.945, 29985.654, 30004.516, 29998.902], [30025.355, 30004.824, 30039.721, 30028.309],
              [30080.871, 30047.602, 30080.047, 30072.297], [30004.861, 29996.963, 30013.023, 29923.314],
              [30011.805, 30002.535, 30023.787, 29930.719], [30035.035, 30026.463, 30043.877, 29944.285]]
    assert X.shape == (6, 336)
    np.testing.assert_allclose(X[:, [0, 17, 100, 335]], pinned, atol=2e-3, rtol=0)
    assert meta[0] == {"station": "ST02", "event_id": "REF-7d-0001", "window_start": "2016-12-05T00:00:00"}
    assert meta[3] == {"station": "ST01", "event_id": "EQ-7d-0001", "window_start": "2015-12-22T00:00:00"}


def test_channels_in_day_channel_step_order_keep_h_and_share_gaps():
    X1, y1, meta1 = generate_window(7, 30, 30, seed=5, steps_per_day=SMALL_SPD)
    X4, y4, meta4 = generate_window(7, 30, 30, seed=5, steps_per_day=SMALL_SPD, components=["h", "D", "z", "F"])
    assert X4.dtype == np.float32 and X4.shape == (60, 7 * 4 * SMALL_SPD)
    assert meta4 == meta1 and y4.tolist() == y1.tolist()
    H, D, Z, F = (_channel(X4, 7, 4, c) for c in range(4))
    # The first SMALL_SPD columns are day 1 of H, the next day 1 of D: "day, channel, step".
    assert np.array_equal(X4[:, :SMALL_SPD], X1[:, :SMALL_SPD], equal_nan=True)
    assert np.array_equal(H, X1, equal_nan=True)  # H does not depend on the other channels
    # A channel does not depend on which others are asked for, nor on their order.
    XDZ = generate_window(7, 30, 30, seed=5, steps_per_day=SMALL_SPD, components="Z,D")[0]
    assert np.array_equal(_channel(XDZ, 7, 2, 0), Z, equal_nan=True)
    assert np.array_equal(_channel(XDZ, 7, 2, 1), D, equal_nan=True)
    gaps = np.isnan(H)
    assert gaps.any() and all(np.array_equal(np.isnan(c), gaps) for c in (D, Z, F))
    # Units: D in arc-minutes (about 7.3 degrees west), Z and F in nT.
    assert -470 < np.nanpercentile(D, 0.1) and np.nanpercentile(D, 99.9) < -405  # spikes aside
    assert 34_500 < np.nanpercentile(Z, 0.1) and np.nanpercentile(Z, 99.9) < 35_500
    valid = ~gaps
    spikes = np.abs(F - np.hypot(H, Z)) > 1.0  # H and Z carry spikes, F does not
    assert 0 < spikes[valid].mean() < 5e-3
    np.testing.assert_allclose(F[valid & ~spikes], np.hypot(H, Z)[valid & ~spikes], rtol=1e-6)


def test_d_and_z_daily_variation_and_storm_signature():
    X, y, meta = generate_window(7, 300, 0, seed=12, effect=0.0, steps_per_day=24, components="H,D,Z")
    H, D, Z = (_channel(X, 7, 3, c).reshape(len(X), 7, 24) for c in range(3))
    H, D, Z = (np.where(np.isnan(a), np.nanmean(a, axis=2, keepdims=True), a) for a in (H, D, Z))
    # Sq: the stations are at 139 E, local time = UT + 9.3 h; UT 23 h ~ 08:18, UT 5 h ~ 14:18.
    morning, afternoon = 23, 5
    swing_d = np.median(D[:, :, morning] - D[:, :, afternoon])
    swing_z = np.median(Z[:, :, morning] - Z[:, :, afternoon])
    assert 3.0 < swing_d < 9.0  # arc-minutes: east in the morning, west in the afternoon
    assert -30.0 < swing_z < -10.0  # nT: the opposite sign, smaller than H's ~30 nT
    # Storms: day means off the window mean, Z against H, slope = Z_STORM_RATIO (-0.25).
    dh = (H.mean(axis=2) - H.mean(axis=(1, 2))[:, None]).ravel()
    dz = (Z.mean(axis=2) - Z.mean(axis=(1, 2))[:, None]).ravel()
    stormy = dh < -30
    assert stormy.sum() > 20
    slope = np.polyfit(dh, dz, 1)[0]
    assert -0.35 < slope < -0.15
    dd = (D.mean(axis=2) - D.mean(axis=(1, 2))[:, None]).ravel()
    assert np.abs(dd[stormy]).mean() > 2 * np.abs(dd[np.abs(dh) < 5]).mean()  # storms turn D too


def test_precursor_acts_on_h_and_z_not_d():
    X0 = generate_window(7, 0, 30, seed=6, effect=0.0, steps_per_day=SMALL_SPD, components="H,D,Z")[0]
    X1 = generate_window(7, 0, 30, seed=6, effect=1.0, steps_per_day=SMALL_SPD, components="H,D,Z")[0]
    (H0, D0, Z0), (H1, D1, Z1) = ([_channel(X, 7, 3, c) for c in range(3)] for X in (X0, X1))
    assert np.array_equal(D0, D1, equal_nan=True)
    last_day, first_day = slice(-SMALL_SPD, None), slice(0, SMALL_SPD)
    # The level: H sinks by ~100 nT x strength (0.7 ... 1 x event size), Z rises by half that.
    dh = np.nanmean(H1[:, last_day] - H0[:, last_day], axis=1)
    dz = np.nanmean(Z1[:, last_day] - Z0[:, last_day], axis=1)
    assert np.all(dh < -40) and np.all(dz > 20)
    np.testing.assert_allclose(dz / dh, -0.5, atol=0.1)
    assert np.nanmax(np.abs(H1[:, first_day] - H0[:, first_day])) < 0.5


def test_dataset_json_describes_the_channels(tmp_path):
    from seismag.layout.dataset_info import read_dataset_info

    summary = generate_dataset(tmp_path, preset="quick", seed=3, windows=(7,), steps_per_day=SMALL_SPD,
                               n_stations=4, stations_per_event=(1, 3), components="H,D,Z")
    assert summary["channels"] == ["H", "D", "Z"]
    data = np.load(tmp_path / "window-7" / "data_1.npy")
    assert data.shape == (PRESETS["quick"][7][1], 7 * 3 * SMALL_SPD + 1)
    info = read_dataset_info(tmp_path)
    assert info.channels == ("H", "D", "Z") and info.units == ("nT", "arcmin", "nT")
    assert info.steps_per_day == SMALL_SPD and info.recipe == () and info.activity_columns == ()
    assert sorted(info.stations) == ["ST01", "ST02", "ST03", "ST04"]
    for place in info.stations.values():  # the local array: within 10 km of 35 N 139 E
        assert abs(place["latitude"] - 35.0) < 0.1 and abs(place["longitude"] - 139.0) < 0.12
    assert info.build["components"] == ["H", "D", "Z"] and info.build["seed"] == 3
    assert info.build["windows"] == [7] and info.build["stations_per_event"] == [1, 3]
    # Stations of meta.csv are in the table.
    _, rows = read_meta(tmp_path / "window-7" / "meta.csv")
    assert {r["station"] for r in rows} <= set(info.stations)
    # The loader reads the folder as three channels of SMALL_SPD steps a day.
    from seismag.dataset.loading import load_window

    window = load_window(tmp_path, 7)
    assert window.features.shape == (sum(PRESETS["quick"][7]), 7 * 3 * SMALL_SPD)
    whole = ~np.isnan(data[:, :-1]).any(axis=1)
    assert np.array_equal(window.features[-len(data):][whole], data[whole, :-1])


def test_dataset_json_only_when_components_are_given(tmp_path):
    plain = generate_dataset(tmp_path / "plain", preset="quick", seed=3, windows=(7,), steps_per_day=SMALL_SPD)
    named = generate_dataset(tmp_path / "named", preset="quick", seed=3, windows=(7,), steps_per_day=SMALL_SPD,
                             components=["H"])
    assert plain["channels"] == named["channels"] == ["H"]
    assert not (tmp_path / "plain" / "dataset.json").exists()
    assert (tmp_path / "named" / "dataset.json").is_file()
    for name in ("data_0.npy", "data_1.npy", "meta.csv"):
        assert _sha256(tmp_path / "plain" / "window-7" / name) == _sha256(tmp_path / "named" / "window-7" / name)
    # dataset.json belongs to the dataset: kept unless overwrite, then replaced or removed.
    with pytest.raises(DataError, match="dataset.json"):
        generate_dataset(tmp_path / "named", preset="quick", seed=3, windows=(14,), steps_per_day=SMALL_SPD)
    generate_dataset(tmp_path / "named", preset="quick", seed=3, windows=(7,), steps_per_day=SMALL_SPD,
                     overwrite=True)
    assert not (tmp_path / "named" / "dataset.json").exists()


@pytest.mark.parametrize("components", ["H,X", "", "H,H", ["Q"]])
def test_bad_components_are_refused(tmp_path, components):
    with pytest.raises(ConfigError, match="components"):
        generate_dataset(tmp_path, components=components)
    assert not any(tmp_path.iterdir())


def test_cli_synth_components(tmp_path, capsys):
    from seismag.cli import main
    from seismag.layout.dataset_info import read_dataset_info

    out = tmp_path / "data"
    assert main(["synth", "--out", str(out), "--windows", "7", "--seed", "2", "--components", "H,D,Z"]) == 0
    assert "channels H,D,Z" in capsys.readouterr().out
    assert np.load(out / "window-7" / "data_0.npy", mmap_mode="r").shape == (120, 7 * 3 * 1440 + 1)
    assert read_dataset_info(out).channels == ("H", "D", "Z")
    assert main(["synth", "--out", str(tmp_path / "bad"), "--components", "H,Q"]) == 2
    assert "components" in capsys.readouterr().err


def test_the_precursor_can_be_planted_in_z_alone():
    """``precursor_in=["Z"]``: class 1's H and D are exactly those of no precursor, its Z is not."""
    kwargs = dict(seed=3, steps_per_day=SMALL_SPD, components=["H", "D", "Z"])
    z_only, y, _ = generate_window(7, 4, 6, effect=1.0, precursor_in=["z"], **kwargs)
    none, _, _ = generate_window(7, 4, 6, effect=0.0, **kwargs)
    both, _, _ = generate_window(7, 4, 6, effect=1.0, **kwargs)
    grid = lambda x: x.reshape(len(x), 7, 3, SMALL_SPD)  # noqa: E731
    ones = y == 1
    np.testing.assert_array_equal(grid(z_only)[ones][:, :, :2], grid(none)[ones][:, :, :2])  # H, D untouched
    np.testing.assert_array_equal(grid(z_only)[ones][:, :, 2], grid(both)[ones][:, :, 2])  # Z as by default
    assert not np.allclose(grid(z_only)[ones][:, -1, 2], grid(none)[ones][:, -1, 2])
    np.testing.assert_array_equal(z_only[~ones], none[~ones])  # class 0 carries none


def test_a_precursor_in_no_channel_of_the_rows_is_refused():
    with pytest.raises(ConfigError, match="planted in H, Z"):
        generate_window(7, 2, 2, steps_per_day=SMALL_SPD, components=["H", "D", "Z"], precursor_in=["D"])
    with pytest.raises(ConfigError, match="do not hold"):
        generate_window(7, 2, 2, steps_per_day=SMALL_SPD, components=["H", "D"], precursor_in=["Z"])
