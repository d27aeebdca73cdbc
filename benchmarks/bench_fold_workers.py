"""Folds in parallel processes against one process using every core, side by side.

Runs seismag's k-fold driver (``run_kfold``: 5 folds, the paper preset, the
models at paper size) on the same synthetic paper-scale window in three ways,
each in a fresh subprocess, one after the other:

- ``1proc-Nthreads``: one process, torch threads = all CPUs (what a plain run does),
- ``1proc-1thread``: one process, one thread,
- ``Nworkers-1thread``: ``fold_workers`` = CPUs, one thread each.

It reports wall time, CPU time, the speedup over the first, peak memory (the
parent's VmHWM and the largest worker's), and the fold F1s, which must agree
between the one-thread variants (same seeds, same thread count).

Examples
--------
    python benchmarks/bench_fold_workers.py --quick
    python benchmarks/bench_fold_workers.py --models gru,mlp --windows 7,30 --epochs 2 --rows 0
    python benchmarks/bench_fold_workers.py --models gru --epochs 1 --permutations 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from bench_training import (STEPS_PER_DAY, ensure_data, load_average, machine_description,  # noqa: E402
                            spawn, vm_kib)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="gru and mlp on the 7-day window, 600 rows, 2 epochs")
    parser.add_argument("--models", default="gru,lstm,rnn,mlp,transformer")
    parser.add_argument("--windows", default="7")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rows", type=int, default=0, help="stratified subset of the window's rows (0: all)")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--permutations", type=int, default=0,
                        help="also run the permutation control with N permutations (N x 5 more folds)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json-out", default=None)
    parser.add_argument("--report", default=None, metavar="JSON", help="print the table of a saved --json-out file")
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.models, args.windows, args.rows, args.epochs = "gru,mlp", "7", 600, 2
    return args


def run_case(case: dict) -> dict:
    import torch

    from seismag.config import make_config
    from seismag.dataset.loading import WindowData
    from seismag.runtime import configure_process
    from seismag.training.job import WindowJob
    from seismag.training.prepared import PreparedWindow
    from seismag.training.kfold import run_kfold

    X = np.load(case["x_path"], mmap_mode="r")
    y = np.load(case["y_path"])
    rows = np.arange(len(y))
    if case["rows"]:
        rng = np.random.default_rng(case["seed"])
        rows = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), round(case["rows"] * np.mean(y == c)),
                                                  replace=False) for c in (0, 1)]))
    data = WindowData(case["window"], STEPS_PER_DAY, np.ascontiguousarray(X[rows], dtype=np.float32),
                      y[rows].astype(np.int64), rows)
    config = make_config("paper", models=[case["model"]], windows=[case["window"]], epochs=case["epochs"],
                         precision=case["precision"], num_threads=case["threads"],
                         fold_workers=case["workers"], seed=case["seed"],
                         permutation_control=case["permutations"])
    configure_process(config)
    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as out, \
            WindowJob(PreparedWindow.from_data(config, data), torch.device("cpu"), case["precision"]) as job:
        summary = run_kfold(case["model"], job, out)
    wall = time.perf_counter() - wall
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {**case, "wall_s": wall, "cpu_s": time.process_time() - cpu + children.ru_utime + children.ru_stime,
            "peak_rss_mib": vm_kib("VmHWM") / 1024, "worker_peak_rss_mib": children.ru_maxrss / 1024,
            "val_f1s": summary["val_f1s"], "n_samples": int(len(rows)), "data_mib": data.features.nbytes / 2**20}


def report(results: list[dict], machine: dict, load: dict) -> str:
    first = results[0]
    lines = [f"\nmachine: {machine.get('cpu', '?')}, {machine['cpus']} CPUs, torch {machine['torch']}; load before "
             f"{load.get('before')}, after {load.get('after')}",
             f"run_kfold, 5 folds x {first['epochs']} epochs (+ {first.get('permutations', 0)} permutations x 5 "
             f"folds), {first['precision']}, {'all rows' if not first['rows'] else str(first['rows']) + ' rows'} "
             "per window", ""]
    head = (f"{'model':<12}{'win':>4} {'variant':<18}{'wall s':>8}{'x':>7}{'cpu s':>8}"
            f"{'peakMiB':>9}{'workerMiB':>10}  val F1 per fold")
    lines += [head, "-" * len(head)]
    for r in results:
        base = next(b for b in results if (b["model"], b["window"]) == (r["model"], r["window"]))
        lines.append(f"{r['model']:<12}{r['window']:>4} {r['label']:<18}{r['wall_s']:>8.1f}"
                     f"{base['wall_s'] / r['wall_s']:>6.2f}x{r['cpu_s']:>8.1f}{r['peak_rss_mib']:>9.0f}"
                     f"{r['worker_peak_rss_mib']:>10.0f}  " + " ".join(f"{f:.3f}" for f in r["val_f1s"]))
    lines += ["", "x: the first variant's wall time over this one's. The one-thread variants must show the same F1s.",
              "workerMiB: the largest child's peak RSS (without workers: a helper the process forked, not a worker)."]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return 0
    if args.report:
        saved = json.loads(Path(args.report).read_text())
        print(report(saved["results"], saved["machine"], saved.get("load", {})))
        return 0
    cpus = os.cpu_count() or 1
    variants = [("1proc-%dthreads" % cpus, cpus, 1), ("1proc-1thread", 1, 1), ("%dworkers-1thread" % cpus, 1, cpus)]
    machine, load_before = machine_description(), load_average()
    results = []
    for window in [int(w) for w in args.windows.split(",")]:
        x_path, y_path = ensure_data(window, args.seed)
        for model in args.models.split(","):
            for label, threads, workers in variants:
                case = {"label": label, "model": model, "window": window, "threads": threads, "workers": workers,
                        "epochs": args.epochs, "rows": args.rows, "precision": args.precision, "seed": args.seed,
                        "permutations": args.permutations,
                        "x_path": str(x_path), "y_path": str(y_path)}
                results.append(spawn(case, __file__))
                r = results[-1]
                print(f"  {model:<12}{window:>3}d {label:<18} wall {r['wall_s']:7.1f} s  cpu {r['cpu_s']:7.1f} s  "
                      f"load {load_average()}", flush=True)
    print(report(results, machine, {"before": load_before, "after": load_average()}))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"machine": machine, "load": {"before": load_before,
                                                                               "after": load_average()},
                                                   "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
