"""Fingerprint a results folder: the SHA-256 of every fold's metrics and probability files.

A refactor that must not change behaviour is checked by training the same data with the
same seed and settings before and after it and comparing the two fingerprints:

    python benchmarks/fingerprint_run.py record --out /tmp/before.json      # synth + train + fingerprint
    ... change the code ...
    python benchmarks/fingerprint_run.py record --out /tmp/after.json
    python benchmarks/fingerprint_run.py compare /tmp/before.json /tmp/after.json

``record`` writes the quick synthetic dataset (seed 7), trains every registered model (or
``--models``) on the 7- and 14-day windows twice (in this process, and with ``--fold-workers 2``), and hashes
``*_fold_*_metrics.json`` and ``*_fold_*_{train,test}_probs.npy`` of both runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

PATTERNS = ("*_models/*_fold_*_metrics.json", "*_models/*_fold_*_test_probs.npy",
            "*_models/*_fold_*_train_probs.npy", "*_models/*_fold_*_test_indices.npy")


def fingerprint(results: Path) -> dict[str, str]:
    files = sorted({p for pattern in PATTERNS for p in results.glob(pattern)})
    return {str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def seismag(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "seismag.cli", *args], check=True, stdout=subprocess.DEVNULL)


def record(out: Path, models: str | None = None) -> None:
    from seismag.models import get_model_entry, list_models

    # every model of the windows (the 'table' activity reference needs activity columns synth does not write)
    models = models or ",".join(m for m in list_models() if get_model_entry(m).input_layout != "table")
    with tempfile.TemporaryDirectory(prefix="seismag-fingerprint-") as tmp:
        tmp = Path(tmp)
        seismag("synth", "--out", str(tmp / "data"), "--preset", "quick", "--seed", "7", "--windows", "7,14")
        runs = {"local": [], "fold_workers_2": ["--fold-workers", "2", "--threads", "1"]}
        prints = {}
        for name, extra in runs.items():
            seismag("train", "--data", str(tmp / "data"), "--out", str(tmp / name), "--preset", "quick",
                    "--models", models, "--windows", "7,14", "--quiet", *extra)
            prints[name] = fingerprint(tmp / name)
    out.write_text(json.dumps(prints, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{sum(len(v) for v in prints.values())} files fingerprinted -> {out}")


def compare(before: Path, after: Path) -> int:
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (before, after))
    differing = [f"{run}/{name}" for run in sorted(set(a) | set(b))
                 for name in sorted(set(a.get(run, {})) | set(b.get(run, {})))
                 if a.get(run, {}).get(name) != b.get(run, {}).get(name)]
    total = sum(len(v) for v in a.values())
    if differing:
        print(f"{len(differing)} of {total} files differ:")
        print("\n".join(f"  {name}" for name in differing))
        return 1
    print(f"identical: {total} files (fold metrics and probabilities) byte for byte")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("record")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--models", default=None, help="comma list (default: every model of the windows; the "
                                                  "convolutional networks take most of the time)")
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "record":
        record(args.out, args.models)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
