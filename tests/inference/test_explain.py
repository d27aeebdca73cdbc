"""``seismag explain``: known answers on synthetic windows (a precursor planted in Z alone, and
none), integrated gradients' completeness, every registered model, the CLI and its bad input."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from seismag.cli import main
from seismag.errors import ConfigError
from seismag.inference import load_trained_ensemble
from seismag.inference.attribution import (ensemble_probability, integrated_gradients, member_class1, neutral_windows,
                                           takes_gradients)
from seismag.inference.explain import STAND_OUT_MINIMUM, explain, explain_windows, load_explain_input
from seismag.layout.dataset_info import DatasetInfo, dataset_info_path
from seismag.layout.explain import EXPLAIN_COLUMNS, read_explain
from seismag.models import list_models
from seismag.synth.windows import generate_dataset
from seismag.training.pipeline import run_experiment

from helpers import SPD, tiny_config

DAYS = 7  # the quick preset's smallest window: 120 class-0 and 72 class-1 windows
Z = 2  # column of Z in H, D, Z
LAST_DAYS = (DAYS - 3, DAYS - 2, DAYS - 1)  # the precursor's days (it starts about 3 days before the end)


def _trained(root, effect: float, models=("mlp",), epochs: int = 8, folds: int = 3):
    data = root / "data"
    generate_dataset(data, seed=1, effect=effect, windows=(DAYS,), steps_per_day=SPD,
                     components=["H", "D", "Z"], precursor_in=["Z"])
    results = run_experiment(tiny_config(models=list(models), windows=[DAYS], epochs=epochs, num_folds=folds),
                             data, root / "results", progress=False)
    return data, root / "results", results


@pytest.fixture(scope="module")
def z_precursor(tmp_path_factory):
    return _trained(tmp_path_factory.mktemp("z"), effect=1.0)


@pytest.fixture(scope="module")
def no_precursor(tmp_path_factory):
    return _trained(tmp_path_factory.mktemp("none"), effect=0.0)


def _ensemble(results, model="mlp", display="MLP"):
    return results / f"{model}_models" / f"{display}Model_{DAYS}day_ensemble.pth"


def _group(record, name):
    return next(g for g in record["groups"] if g["name"] == name)


def test_a_precursor_in_z_alone_is_found_on_its_days_of_z(z_precursor, tmp_path):
    data, results, summary = z_precursor
    assert summary["mlp"][DAYS]["mean"]["roc_auc"] > 0.9  # the model learned it
    record = explain(_ensemble(results), tmp_path / "explain", data_dir=data)
    ones = _group(record, "class 1")
    for method in ("occlusion", "integrated_gradients"):
        values = ones["methods"][method]
        share = np.asarray(values["top_share"])
        # the largest attribution of a clear majority of class-1 windows lies on the last days of Z
        assert share[list(LAST_DAYS), Z].sum() > 0.6, (method, share)
        assert share[:, :Z].sum() < 0.2, (method, share)  # H and D carry no precursor
        row, column = values["stands_out"][0]
        assert column == Z and row in LAST_DAYS, (method, values["stands_out"])
        assert all(c == Z for _, c in values["stands_out"]), values["stands_out"]
    zeros = _group(record, "class 0")["methods"]["occlusion"]
    assert np.abs(zeros["mean"]).max() < np.abs(ones["methods"]["occlusion"]["mean"]).max() / 4


def test_without_a_precursor_no_day_or_channel_stands_out(no_precursor, tmp_path):
    data, results, _ = no_precursor
    record = explain(_ensemble(results), tmp_path / "explain", data_dir=data)
    for group in record["groups"]:
        for method, values in group["methods"].items():
            assert values["stands_out"] == [], (group["name"], method, values["stands_out"])
            mean, fold_std = np.abs(values["mean"]), np.asarray(values["fold_std"])
            assert (mean < STAND_OUT_MINIMUM).all() or (mean <= 2 * fold_std).all()


def test_integrated_gradients_add_up_to_the_change_of_probability(z_precursor):
    data, results, _ = z_precursor
    ensemble = load_trained_ensemble(_ensemble(results))
    windows = load_explain_input(ensemble, data_dir=data, rows=[0, 1, 150, 170])
    x = windows.features
    baseline = neutral_windows(x, DAYS, 3)
    ig = integrated_gradients(ensemble, x, baseline, steps=64)
    with torch.no_grad():
        def p(v):
            return ensemble_probability(ensemble, member_class1(ensemble, torch.as_tensor(v)).double()).numpy()
        expected = p(x) - p(baseline)
    np.testing.assert_allclose(ig["ensemble"].sum(1), expected, atol=0.02)
    np.testing.assert_allclose(np.einsum("m,mn->n", ensemble.weights, ig["members"].sum(2)), ig["ensemble"].sum(1))


@pytest.fixture(scope="module")
def every_model(tmp_path_factory):
    """One tiny run of every registered model, on windows that also carry activity columns."""
    root = tmp_path_factory.mktemp("all")
    data = root / "data"
    generate_dataset(data, seed=2, effect=1.0, windows=(DAYS,), steps_per_day=SPD, components=["H", "D", "Z"])
    meta = data / f"window-{DAYS}" / "meta.csv"
    with open(meta, newline="") as handle:
        rows = list(csv.DictReader(handle))
    rng = np.random.default_rng(0)
    with open(meta, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*rows[0], "max_kp", "min_dst"])
        writer.writeheader()
        for row in rows:
            kp = rng.uniform(0, 8)
            writer.writerow({**row, "max_kp": f"{kp:.2f}", "min_dst": f"{-12 * kp:.1f}"})
    info = DatasetInfo.from_dict(json.loads(dataset_info_path(data).read_text()))
    dataset_info_path(data).write_text(json.dumps({**info.to_dict(), "activity_columns": ["max_kp", "min_dst"]}))
    run_experiment(tiny_config(models=list_models(), windows=[DAYS], epochs=1, num_folds=2), data, root / "results",
                   progress=False)
    return data, root / "results"


@pytest.mark.parametrize("model", list_models())
def test_explain_runs_on_a_saved_ensemble_of_every_model(every_model, model, tmp_path):
    data, results = every_model
    (path,) = (results / f"{model}_models").glob("*_ensemble.pth")
    ensemble = load_trained_ensemble(path)
    windows = load_explain_input(ensemble, data_dir=data, rows=[0, 1, 2, 130, 131])
    record, rows = explain_windows(ensemble, windows, ig_steps=2)
    methods = {m for g in record["groups"] for m in g["methods"]}
    table = model == "activity"
    assert record["rows"] == (["window"] if table else [f"day -{DAYS - d}" for d in range(DAYS)])
    assert record["channels"] == (["max_kp", "min_dst"] if table else ["H", "D", "Z"])
    neural = takes_gradients(model)  # the registry says which models have per-minute gradients
    assert methods == ({"occlusion", "integrated_gradients"} if neural else {"occlusion"})
    assert len(rows) == 5 * len(methods) * len(record["rows"]) * len(record["channels"])
    for group in record["groups"]:
        for values in group["methods"].values():
            assert np.isfinite(values["mean"]).all()


def test_the_cli_writes_the_files_and_the_report_shows_them(z_precursor, tmp_path, capsys):
    data, results, _ = z_precursor
    out = results / "explain"
    assert main(["explain", "--ensemble", str(_ensemble(results)), "--data", str(data), "--out", str(out),
                 "--rows", "0,1,2,150,151,152", "--dpi", "40"]) == 0
    assert "class 1 (3 windows)" in capsys.readouterr().out
    record = read_explain(out)
    assert record["n_windows"] == 6 and record["source"].endswith(f"window-{DAYS}")
    with open(out / "explain.csv", newline="") as handle:
        lines = list(csv.reader(handle))
    assert tuple(lines[0]) == EXPLAIN_COLUMNS and len(lines) == 1 + 6 * 2 * DAYS * 3
    assert {p.name for p in (out / "figures").iterdir()} == {"explain_occlusion.png",
                                                             "explain_integrated_gradients.png",
                                                             "explain_hourly.png"}
    assert main(["report", "--results", str(results), "--out", str(tmp_path / "report.html")]) == 0
    html = (tmp_path / "report.html").read_text()
    assert "What drives the scores" in html and "href='#explain'" in html
    assert html.count("data:image/png;base64") >= 3 and "correlation" in html


def _fails_in_one_line(capsys, argv, *expected):
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    for text in expected:
        assert text in err[0], err[0]


def test_bad_input_is_one_line_and_writes_nothing(z_precursor, tmp_path, capsys):
    data, results, _ = z_precursor
    ensemble = str(_ensemble(results))
    out = tmp_path / "out"
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((3, 10)))
    _fails_in_one_line(capsys, ["explain", "--ensemble", ensemble, "--input", str(wrong), "--out", str(out)],
                       str(wrong), "expects rows of 1008 features")
    _fails_in_one_line(capsys, ["explain", "--ensemble", ensemble, "--data", str(data), "--rows", "5000",
                                "--out", str(out)], "has no row 5000")
    _fails_in_one_line(capsys, ["explain", "--ensemble", ensemble, "--scores", str(tmp_path / "s.csv"),
                                "--out", str(out)], "--scores and --observatory go together")
    _fails_in_one_line(capsys, ["report", "--results", str(results), "--explain", str(tmp_path / "nothing")],
                       "no explain.json")
    assert not out.exists()
    with pytest.raises(ConfigError, match="one of --input"):
        load_explain_input(load_trained_ensemble(ensemble))


def test_a_labelled_npy_is_grouped_by_its_labels(z_precursor, tmp_path):
    data, results, _ = z_precursor
    rows = np.load(data / f"window-{DAYS}" / "data_1.npy")[:3]
    np.save(tmp_path / "rows.npy", rows)
    record = explain(_ensemble(results), tmp_path / "out", input_path=tmp_path / "rows.npy", ig_steps=4)
    assert [g["name"] for g in record["groups"]] == ["class 1"] and record["n_windows"] == 3
    np.save(tmp_path / "plain.npy", rows[:, :-1])
    record = explain(_ensemble(results), tmp_path / "out2", input_path=tmp_path / "plain.npy", ig_steps=4)
    assert [g["name"] for g in record["groups"]] == ["all windows"]


def test_integrated_gradients_go_to_the_networks_the_registry_names():
    assert all(takes_gradients(m) for m in ("gru", "lstm", "rnn", "mlp", "transformer"))
    assert not any(takes_gradients(m) for m in ("features", "minirocket", "activity"))


def test_a_scans_alarm_and_quiet_days_are_explained_from_the_records(tmp_path):
    """The windows explain rebuilds from the records are the ones scan scored: same days, same scores."""
    from inference.test_scan import STATIONS, write_station
    from seismag.dataset.build import build_dataset
    from seismag.inference import scan_records
    from seismag.sources.catalog import Catalog

    obs = tmp_path / "obs"
    obs.mkdir()
    for seed, code in enumerate(STATIONS):
        write_station(obs, code, seed)
    catalog = Catalog.from_events([("2020-01-05T12:00:00", 35.0, 37.5, 10.0, 6.0, "E1"),
                                   ("2020-01-09T06:00:00", 35.0, 37.5, 10.0, 6.0, "E2"),
                                   ("2020-01-12T18:00:00", 35.0, 37.5, 10.0, 6.0, "E3")],
                                  start="2019-12-01", end="2020-02-01")
    build_dataset([obs], catalog, tmp_path / "data", windows=(2,), components="H,D,Z", radius_km=1000.0,
                  lead_days=2, steps_per_day=SPD)
    run_experiment(tiny_config(models=["mlp"], windows=[2], epochs=1), tmp_path / "data", tmp_path / "results",
                   progress=False)
    ensemble = tmp_path / "results" / "mlp_models" / "MLPModel_2day_ensemble.pth"
    scan_records([ensemble], [obs], tmp_path / "scores.csv", allow_in_sample=True)
    record = explain(ensemble, tmp_path / "explain", scores=tmp_path / "scores.csv", observatory=[obs], top=3)
    assert [(g["name"], g["n_windows"]) for g in record["groups"]] == [("alarm days", 3), ("quiet days", 3)]
    with open(tmp_path / "scores.csv", newline="") as handle:
        scored = [r for r in csv.DictReader(handle) if r["prob_class1"]]
    column = "prob_class1_uncalibrated" if "prob_class1_uncalibrated" in scored[0] else "prob_class1"
    by_day = {f"{r['station']} {r['window_end'][:10]}": float(r[column]) for r in scored}
    ranked = sorted(scored, key=lambda r: -float(r["prob_class1"]))
    with open(tmp_path / "explain" / "explain.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    alarms = {r["window"] for r in rows if r["group"] == "alarm days"}
    assert alarms == {f"{r['station']} {r['window_end'][:10]}" for r in ranked[:3]}
    for row in rows:  # the score explained is the score scan gave that day
        assert abs(float(row["prob_class1"]) - by_day[row["window"]]) < 1e-4, row


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (cuDNN's recurrent kernels)")
def test_integrated_gradients_of_a_recurrent_ensemble_run_on_cuda_as_on_the_cpu(every_model):
    """cuDNN's RNN has no backward in eval mode: attribution turns cuDNN off for the pass."""
    data, results = every_model
    (path,) = (results / "gru_models").glob("*_ensemble.pth")
    on = {}
    for device in ("cpu", "cuda"):
        ensemble = load_trained_ensemble(path, device=device)
        x = load_explain_input(ensemble, data_dir=data, rows=[0, 130]).features
        on[device] = integrated_gradients(ensemble, x, neutral_windows(x, DAYS, 3), steps=4)["ensemble"]
    np.testing.assert_allclose(on["cuda"], on["cpu"], atol=1e-4)
