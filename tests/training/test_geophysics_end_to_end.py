"""The geophysical path end to end: raw observatory records (real and synthetic) with indices ->
build (channels, recipe, activity columns) -> every model trains -> predict reproduces training."""
import csv
from pathlib import Path

import numpy as np
import pytest

from seismag.config import make_config, tiny_models
from seismag.dataset.build import build_dataset
from seismag.dataset.loading import load_window
from seismag.synth.records import generate_records
from seismag.inference import load_trained_ensemble, predict_file
from seismag.inference.ensemble import prepare_raw
from seismag.inference.predict import predict_array
from seismag.models import get_model_entry, list_models
from seismag.training.pipeline import run_experiment

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MMB = SHARED / "observatory" / "mmb_2011_march.txt"
RECIPE = [{"step": "despike", "half_window": 7, "n_sigma": 3.0}, {"step": "baseline", "reference": "first_day"}]


@pytest.mark.skipif(not MMB.is_file(), reason="../shared/data is not available")
def test_memambetsu_three_channels_with_indices_train_and_predict_reproduces(tmp_path):
    data_dir = tmp_path / "mmb"
    build_dataset([MMB], SHARED / "catalog" / "usgs_significant_1965_2016.csv", data_dir, windows=(7,),
                  components="H,D,Z", kp=SHARED / "indices" / "kp_gfz_2006_2022.csv",
                  dst=SHARED / "indices" / "dst_kyoto_2006_2022.dat", recipe=RECIPE)
    data = load_window(data_dir, 7)
    assert data.channels == ("H", "D", "Z") and data.features.shape[1] == 7 * 3 * 1440
    assert set(data.meta) >= {"max_kp", "min_dst"}
    models = list_models()  # every registered model, the activity reference included
    config = make_config("paper", models=models, windows=[7], epochs=2, num_folds=2, batch_size=8,
                         selection="outer", model_overrides=tiny_models())
    results = run_experiment(config, data_dir, tmp_path / "results", progress=False)
    assert set(results) == set(models)
    raw = {label: np.load(data_dir / "window-7" / f"data_{label}.npy")[:, :-1] for label in (0, 1)}
    for model in models:
        display = get_model_entry(model).display_name
        path = tmp_path / "results" / f"{model}_models" / f"{display}Model_7day_ensemble.pth"
        ensemble = load_trained_ensemble(path)
        if ensemble.extra["inputs"]["kind"] == "table":
            continue  # the activity reference scores meta.csv's columns, not the series
        assert ensemble.extra["inputs"]["recipe"] == RECIPE  # the recipe came from the data, travels in the model
        training_time = predict_array(ensemble, data.features)["prob_class1"]
        for label in (0, 1):
            # raw rows as the build wrote them, prepared by the ensemble's own recipe: identical input
            prepared = prepare_raw(ensemble.extra, raw[label].astype(np.float32))
            np.testing.assert_array_equal(prepared, data.features[data.labels == label])
            np.testing.assert_array_equal(predict_array(ensemble, prepared)["prob_class1"],
                                          predict_array(ensemble, data.features[data.labels == label])["prob_class1"])
            np.testing.assert_allclose(predict_array(ensemble, prepared)["prob_class1"],
                                       training_time[data.labels == label], atol=1e-6)  # other batches
        out = tmp_path / f"{model}.csv"
        predict_file(path, data_dir / "window-7" / "data_1.npy", out=out)
        with open(out) as handle:
            written = np.array([float(row["prob_class1"]) for row in csv.DictReader(handle)])
        np.testing.assert_allclose(written, training_time[data.labels == 1], atol=5e-7)


def test_storms_coinciding_with_events_are_learned_by_the_activity_reference_not_beaten(tmp_path):
    """Records with no precursor at all (effect 0) where every event follows a storm by 12 h to
    2 days: 3-day windows labelled by an event in the next day (any station within 3000 km) differ
    from class 0 only by storms. The activity reference scores well above chance, and the deep
    models, which see the same storms in the series, do not beat it: they learned storms.
    (With longer windows and leads a deep model can beat the reference by learning when in the
    window the storm falls, which the reference's window maxima do not see; still no precursor.)"""
    records = tmp_path / "records"
    generate_records(records, days=240, n_stations=3, effect=0.0, storm_coincidence=1.0, seed=3, lead_days=2)
    data_dir = tmp_path / "data"
    build_dataset([records / "observatory"], records / "catalog.csv", data_dir, windows=(3,), lead_days=1,
                  radius_km=3000.0, kp=records / "indices" / "kp.csv", dst=records / "indices" / "dst.dat")
    config = make_config("quick", models=["activity", "mlp", "gru"], windows=[3], split="group",
                         group_by="event_id")
    results = run_experiment(config, data_dir, tmp_path / "results", progress=False)
    auc = {model: results[model][3]["mean"]["roc_auc"] for model in results}
    assert auc["activity"] > 0.7, auc
    for deep in ("mlp", "gru"):
        assert auc[deep] < auc["activity"] + 0.05, auc
