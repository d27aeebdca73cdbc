"""seismag.layout.dataset_info: dataset.json, and the one statement of what a folder without it holds."""

import json

import numpy as np
import pytest

from seismag.errors import DataError
from seismag.layout.dataset_info import (DATASET_FILE, DatasetInfo, assumed_dataset_info, dataset_info_or_assumed,
                                         read_dataset_info)
from seismag.layout.seed import CLASS_FILES, window_dir

DAYS, SPD = 2, 6


def write_window(root, n_features):
    folder = window_dir(root, DAYS)
    folder.mkdir(parents=True)
    for label, name in enumerate(CLASS_FILES):
        rows = np.random.default_rng(label).normal(size=(3, n_features + 1)).astype(np.float32)
        rows[:, -1] = label
        np.save(folder / name, rows)
    return root


def test_a_folder_without_dataset_json_holds_one_raw_h_channel_in_nt(tmp_path):
    info = dataset_info_or_assumed(tmp_path, 60)
    assert info.assumed and read_dataset_info(tmp_path) is None
    assert (info.channels, info.units, info.steps_per_day) == (("H",), ("nT",), 60)
    assert info.recipe == () and info.stations == {} and info.activity_columns == () and info.labels is None
    assert dataset_info_or_assumed(tmp_path).steps_per_day == 1440  # one a minute unless told
    assert assumed_dataset_info(60) == info


def test_a_recorded_description_wins_and_the_assumed_one_is_never_written(tmp_path):
    recorded = DatasetInfo(("H", "Z"), ("nT", "nT"), 24)
    (tmp_path / DATASET_FILE).write_text(json.dumps(recorded.to_dict()))
    info = dataset_info_or_assumed(tmp_path, 60)
    assert not info.assumed and info == recorded and info.steps_per_day == 24
    assert "assumed" not in assumed_dataset_info().to_dict()
    (tmp_path / DATASET_FILE).write_text("{not json")
    with pytest.raises(DataError, match=DATASET_FILE):
        dataset_info_or_assumed(tmp_path)


def test_loading_and_old_ensembles_take_the_assumed_description(tmp_path):
    from seismag.dataset.loading import load_window
    from seismag.inference.ensemble import input_record

    data = load_window(write_window(tmp_path, DAYS * SPD), DAYS, SPD)
    assert data.dataset is None and data.channels == ("H",)
    record = data.input_record()
    assert (record["channels"], record["units"], record["steps_per_day"]) == (["H"], ["nT"], SPD)
    old = input_record({"steps_per_day": SPD, "window_days": DAYS})  # an ensemble saved before 'inputs'
    assert old == {"kind": "window", "n_channels": 1, "channels": ["H"], "units": ["nT"], "steps_per_day": SPD,
                   "recipe": [], "stations": {}}


def test_a_recorded_folder_is_read_with_its_channels(tmp_path):
    from seismag.dataset.loading import load_window

    write_window(tmp_path, DAYS * SPD * 2)
    (tmp_path / DATASET_FILE).write_text(json.dumps(DatasetInfo(("H", "Z"), ("nT", "nT"), SPD).to_dict()))
    data = load_window(tmp_path, DAYS, SPD)
    assert data.dataset is not None and data.channels == ("H", "Z") and data.n_features == DAYS * SPD * 2
    with pytest.raises(DataError, match="records steps_per_day 6, but 12 was asked for"):
        load_window(tmp_path, DAYS, 12)
