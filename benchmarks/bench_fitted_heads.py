"""Cost of a fold of the models whose head is fitted at once, beside the linear-head baseline.

``features_gbm`` (boosted trees on the per-day features) against ``features`` (the same
features, a linear head trained for the run's epochs), and, where aeon is installed,
``quant`` (extra trees) and ``multirocket_hydra`` (ridge): each trained in turn, in this
process, by the normal protocol (paper preset: 5 stratified folds, inner selection, 100
epochs for the linear head) on the same synthetic 7-day window of 1-minute data (``seismag
synth``'s quick or paper preset). Reported:
seconds per fold (the whole run over the number of folds, data loading included), the
cross-validated F1 and pooled-validation AUC.

Examples
--------
    python benchmarks/bench_fitted_heads.py                       # 192 windows
    python benchmarks/bench_fitted_heads.py --preset paper --models features,features_gbm \
        --json-out benchmarks/results/fitted_heads_w7_paper.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))  # run from a checkout without installing

MODELS = ("features", "features_gbm") + (("quant", "multirocket_hydra") if importlib.util.find_spec("aeon") else ())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--preset", default="quick", help="synth preset: quick (192 windows) or paper (2,660)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args(argv)
    from sklearn.metrics import roc_auc_score

    from seismag.config import make_config
    from seismag.synth.windows import generate_dataset
    from seismag.training.pipeline import run_experiment

    records = []
    with tempfile.TemporaryDirectory(prefix="seismag-heads-") as tmp:
        data = Path(tmp) / "data"
        generate_dataset(data, preset=args.preset, seed=args.seed, windows=(7,))
        os.environ.setdefault("LOG_DIR", str(Path(tmp) / "logs"))
        for model in args.models.split(","):
            config = make_config("paper", models=[model], windows=[7])
            started = time.perf_counter()
            summary = run_experiment(config, data, Path(tmp) / model, progress=False)[model][7]
            seconds = time.perf_counter() - started
            folder = Path(tmp) / model / f"{model}_models"
            probs = np.concatenate([np.load(p) for p in sorted(folder.glob("*_test_probs.npy"))])
            labels = np.concatenate([np.load(p) for p in sorted(folder.glob("*_test_labels.npy"))])
            record = {"model": model, "preset": args.preset, "folds": config.num_folds,
                      "seconds_per_fold": round(seconds / config.num_folds, 2), "f1": round(summary["mean"]["f1"], 4),
                      "pooled_auc": round(float(roc_auc_score(labels, probs)), 4)}
            records.append(record)
            print(f"{model:18s} {record['seconds_per_fold']:7.2f} s/fold  F1 {record['f1']:.3f}  "
                  f"AUC {record['pooled_auc']:.3f}", flush=True)
            if args.json_out:  # after every model, so a run stopped early keeps what it measured
                meta = {"machine": f"{os.cpu_count()} CPUs", "load_average": os.getloadavg(),
                        "window": f"7 days x 1440 steps, synthetic ({args.preset} preset)"}
                Path(args.json_out).write_text(json.dumps({"meta": meta, "records": records}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
