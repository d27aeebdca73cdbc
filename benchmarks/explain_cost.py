"""What ``seismag explain`` costs on a station-year scan, and what it shows when storms coincide with events.

One synthetic network (``synth --records``: 1-minute H, D, Z) whose events all have a storm in
the lead window before them (``--storm-coincidence 1``) and no precursor (``--effect 0``): a
model that learns anything learns the storms. Steps:

1. records (``--days`` days, ``--stations`` stations), build 7-day windows with Kp/Dst, train
   ``--model`` (quick preset) until the record's middle day;
2. explain the training windows (class 1 vs class 0) with ``--kp/--dst``: the attribution per day
   of class-1 windows against their mean daily max Kp (the storm days should carry it);
3. scan one station-year after the cutoff and explain its ``--top`` alarm days and as many quiet
   days from the records, timed (the number the README quotes).

Usage::

    .venv/bin/python benchmarks/explain_cost.py --out /tmp/explain-bench --json-out explain_cost.json

Prints the timings and the per-day attribution beside Kp; writes a JSON with both.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/seismag-explain-bench")
    parser.add_argument("--days", type=int, default=730, help="record length; the second half (a year) is scanned")
    parser.add_argument("--stations", type=int, default=3)
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json-out", default=None)
    parser.add_argument("--reuse", action="store_true", help="keep the records, build and training of an earlier "
                                                             "call into --out")
    parser.add_argument("--cost-models", default="gru,transformer",
                        help="networks whose explain cost is also timed on the same scan, as untrained ensembles "
                             "of the quick preset (the cost does not depend on the weights)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from seismag.config import make_config
    from seismag.dataset.build import build_dataset
    from seismag.inference import scan_records
    from seismag.inference.explain import explain
    from seismag.layout.results import ensemble_files
    from seismag.plots.explain import plot_explain
    from seismag.synth.records import generate_records
    from seismag.training.pipeline import run_experiment

    out = Path(args.out)
    records, data, results = out / "records", out / "data", out / f"results_{args.model}"
    start = "2020-01-01"
    cutoff = (dt.date.fromisoformat(start) + dt.timedelta(days=args.days // 2)).isoformat()
    timings = {}
    kp, dst = records / "indices" / "kp.csv", records / "indices" / "dst.dat"
    config = make_config("quick", models=[args.model], windows=(7,), seed=args.seed, train_until=cutoff)
    if not (args.reuse and (data / "window-7").is_dir()):  # --reuse: the records and build of an earlier call
        t = time.perf_counter()
        generate_records(records, days=args.days, n_stations=args.stations, start=start, effect=0.0,
                         storm_coincidence=1.0, seed=args.seed, overwrite=True)
        build_dataset(records / "observatory", records / "catalog.csv", data, windows=(7,), components="H,D,Z",
                      kp=kp, dst=dst, overwrite=True)
        timings["records_and_build_s"] = time.perf_counter() - t
    if not (args.reuse and ensemble_files(results)):  # --reuse: and its training
        t = time.perf_counter()
        run_experiment(config, data, results, progress=False)
        timings["train_s"] = time.perf_counter() - t
        print(timings, flush=True)
    summary = json.loads(next((results / f"{args.model}_models").glob("*_summary.json")).read_text())
    (ensemble,) = ensemble_files(results)

    t = time.perf_counter()
    storm = explain(ensemble, out / "explain_windows", data_dir=data, kp=kp, dst=dst)
    timings["explain_training_windows_s"] = time.perf_counter() - t
    print(timings, flush=True)
    plot_explain(out / "explain_windows")
    by_day = {}
    for group in storm["groups"]:
        occlusion = np.asarray(group["methods"]["occlusion"]["mean"]).sum(1)
        kp_days = group["activity"]["max_kp"]
        by_day[group["name"]] = {"occlusion_per_day": occlusion.round(4).tolist(), "mean_max_kp": kp_days,
                                 "corr_with_kp": None if kp_days is None or None in kp_days else
                                 float(np.corrcoef(occlusion, np.asarray(kp_days, dtype=float))[0, 1])}

    scores = out / "scores.csv"
    t = time.perf_counter()
    files = sorted((records / "observatory").iterdir())
    first_station = [f for f in files if f.name[:3] == files[0].name[:3]]  # one station's monthly files
    scan_records([ensemble], first_station, scores, kp=kp, dst=dst, start=cutoff)
    timings["scan_station_year_s"] = time.perf_counter() - t
    print(timings, flush=True)
    t = time.perf_counter()
    scan = explain(ensemble, out / "explain_scan", scores=scores, observatory=first_station, top=args.top,
                   kp=kp, dst=dst)
    timings["explain_top_alarms_s"] = time.perf_counter() - t
    plot_explain(out / "explain_scan")

    for name in [m for m in args.cost_models.split(",") if m]:
        timings[f"explain_top_alarms_{name}_s"] = _untrained_cost(name, ensemble, scores, first_station, out,
                                                                  args.top, config)
        print(timings, flush=True)

    report = {"model": args.model, "cv_roc_auc": summary["mean"].get("roc_auc"), "threads": args.threads,
              "n_windows_explained_from_scan": scan["n_windows"], "timings": {k: round(v, 1) for k, v in timings.items()},
              "storm_coincidence_by_day": by_day, "n_training_windows": storm["n_windows"]}
    print(json.dumps(report, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n")


def _untrained_cost(name: str, trained_path: Path, scores: Path, observatory, out: Path, top: int, config) -> float:
    """Seconds to explain the scan's top days with an untrained ``name`` ensemble of the quick preset
    (three members behind the trained ensemble's scalers, its extra renamed)."""
    from seismag.inference.explain import explain
    from seismag.models import F1WeightedEnsemble, build_model, get_model_entry, model_config

    trained = F1WeightedEnsemble.load(trained_path)
    extra = {**trained.extra, "model": name}
    days, steps = int(extra["window_days"]), int(extra["steps_per_day"])
    fields = {f.name for f in dataclasses.fields(get_model_entry(name).config_cls)}
    settings = model_config(name, days, steps, channels=len(extra["inputs"]["channels"]),
                            **config.overrides_for(name, fields))
    members = [build_model(name, settings) for _ in trained.models]
    path = F1WeightedEnsemble(members, list(trained.f1_scores)).save(out / f"untrained_{name}.pth", extra=extra)
    renamed = out / f"scores_{name}.csv"
    renamed.write_text(scores.read_text().replace(f"{trained.extra['model']}_{days}day", f"{name}_{days}day"))
    t = time.perf_counter()
    explain(path, out / f"explain_scan_{name}", scores=renamed, observatory=observatory, top=top)
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
