"""Two source trees side by side: the same training, timed with each in turn.

For a refactor that must not slow training down: check out the old commit somewhere
(``git worktree add /tmp/old <commit>``) and run

    python benchmarks/bench_versions.py --old /tmp/old/src --new src --repeats 3

Each repeat runs ``seismag train`` (quick preset, synthetic data, seed 7) once with each
tree, alternating old/new so that a change in machine load hits both alike, in a fresh
process with ``PYTHONPATH`` set to the tree. Reported: the whole-process wall time of
every run, the medians, and the ratio new / old of the medians (1.00 = no change).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def train(src: Path, data: Path, out: Path, models: str, windows: str, threads: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(src.resolve())}
    command = [sys.executable, "-m", "seismag.cli", "train", "--data", str(data), "--out", str(out),
               "--preset", "quick", "--models", models, "--windows", windows, "--quiet",
               "--threads", str(threads)]
    began = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, required=True, help="the old tree's src/ folder")
    parser.add_argument("--new", type=Path, default=Path("src"), help="the new tree's src/ folder")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="gru,lstm,rnn,mlp,transformer,features")
    parser.add_argument("--windows", default="7")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {"old": [], "new": []}
    with tempfile.TemporaryDirectory(prefix="seismag-versions-") as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "PYTHONPATH": str(args.new.resolve())}
        subprocess.run([sys.executable, "-m", "seismag.cli", "synth", "--out", str(tmp / "data"), "--preset",
                        "quick", "--seed", "7", "--windows", args.windows], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        for repeat in range(args.repeats):
            for name in ("old", "new") if repeat % 2 == 0 else ("new", "old"):
                src = args.old if name == "old" else args.new
                seconds = train(src, tmp / "data", tmp / f"{name}_{repeat}", args.models, args.windows, args.threads)
                times[name].append(seconds)
                print(f"repeat {repeat + 1}: {name} {seconds:.1f} s", flush=True)
    old, new = statistics.median(times["old"]), statistics.median(times["new"])
    print(f"median old {old:.1f} s, new {new:.1f} s: new / old = {new / old:.3f}")
    if args.json_out:
        args.json_out.write_text(json.dumps({"times": times, "median_old": old, "median_new": new,
                                             "ratio": new / old, "models": args.models,
                                             "windows": args.windows, "threads": args.threads}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
