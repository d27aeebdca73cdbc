"""How often the whole forecast pipeline calls skill where there is none, and finds it where there is.

    python benchmarks/skill_calibration.py --out calibration/                  # 3 settings x 40 seeds
    python benchmarks/skill_calibration.py --settings storm --seeds 10 --out calibration/
    python benchmarks/skill_calibration.py --quick --out /tmp/calibration/    # 3 seeds, short records

Every seed runs the forecast path of the README on its own synthetic year, in a fresh
process and a temporary folder (deleted afterwards): ``seismag synth --records`` (``--days``
days, ``--stations`` stations) -> ``build --windows 7`` with the synthetic Kp and Dst ->
``train --train-until`` the middle of the record (``--models``, preset quick) -> ``scan
--start`` that day -> ``skill --kp --dst`` (``--surrogates``). Only the skill verdicts are
kept. The settings plant what the generator knows and the verdicts must find:

``null``    ``--effect 0``: no precursor, storms independent of the earthquakes.
``storm``   ``--effect 0 --storm-coincidence 1``: no precursor, but a storm starts in the lead
            window before every event, so storm-driven alarms catch events. A model that reads
            the storms is then "better than random" honestly; being called *ahead of the Kp / Dst
            references* is the false positive that matters.
``effect``  ``--effect 2``: a strong planted precursor (power).

Per seed, over the trained models (``kind`` "model"; references excluded):

``raw_significant``   any model's raw surrogate p (``ass_p_value``) <= 0.05,
``significant``       any model called significant by the verdict (``significant``: the
                      family-wise adjusted p at 0.05; empty when skill.json does not say),
``ahead_storm``       any model "ahead" of a storm reference (``reference:kp*``, ``reference:dst*``,
                      a trained ``activity_{N}day`` ensemble),
``ahead_all_storms``  any model ahead of every storm reference it was compared with: what the
                      verdict words call "ahead of alarms raised by geomagnetic storms".

The shares over seeds come with exact (Clopper-Pearson) binomial 95 % intervals. Under
``null`` every share is a false-positive rate (the adjusted one should be at most 0.05), under
``storm`` ``ahead_storm`` and ``ahead_all_storms`` are, under ``effect`` the shares are the power. Seeds that fail (a
stage exits non-zero, e.g. no target event after the cutoff) are listed and left out of the
shares.

Writes into ``--out``: ``seeds.csv`` (one row per setting and seed, :data:`SEED_COLUMNS`,
appended as each seed finishes), ``forecasts.csv`` (one row per setting, seed and forecast,
:data:`FORECAST_COLUMNS`) and ``summary.json`` (command line, seeds, options, package version,
machine load, shares and intervals per setting).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))  # run from a checkout without installing

from seismag.layout.forecast import SKILL_OUTCOMES  # noqa: E402  (torch-free: the words skill.json's comparisons use)

#: name -> what ``seismag synth --records`` plants.
SETTINGS = {
    "null": {"effect": 0.0, "storm_coincidence": 0.0},
    "storm": {"effect": 0.0, "storm_coincidence": 1.0},
    "effect": {"effect": 2.0, "storm_coincidence": 0.0},
}
#: What each share means under each setting (the summary and the table say it in words).
READS_AS = {
    "null": {"raw_significant": "false positives", "significant": "false positives",
             "ahead_storm": "false positives", "ahead_all_storms": "false positives"},
    "storm": {"raw_significant": "storm-driven (expected)", "significant": "storm-driven (expected)",
              "ahead_storm": "false positives", "ahead_all_storms": "false positives"},
    "effect": {"raw_significant": "power", "significant": "power", "ahead_storm": "power",
               "ahead_all_storms": "power"},
}
MEASURES = ("raw_significant", "significant", "ahead_storm", "ahead_all_storms")
ALPHA = 0.05
START = dt.date(2020, 1, 1)
WINDOW_DAYS = 7
#: The outcome that calls a model ahead of a reference (skill.json's ``versus``).
AHEAD = SKILL_OUTCOMES[0]
#: Name prefixes of the storm references (alarms raised by geomagnetic activity alone).
STORM_REFERENCES = ("reference:kp", "reference:dst", "activity_")
STAGES = ("synth", "build", "train", "scan", "skill")

SEED_COLUMNS = ("setting", "seed", "effect", "storm_coincidence", "status", "n_events", "n_models",
                "min_p_raw", "min_p_adjusted", "best_ass", *MEASURES, "significant_models", "ahead_models",
                "seconds", *(f"seconds_{stage}" for stage in STAGES))
FORECAST_COLUMNS = ("setting", "seed", "forecast", "kind", "ass", "ass_p_value", "ass_p_adjusted",
                    "significant", "versus")
#: The measurement's sizes, and --quick's (a smoke check, not a measurement); flags override either.
FULL = {"seeds": 40, "days": 365, "stations": 6, "surrogates": 500}
QUICK = {"seeds": 3, "days": 120, "stations": 3, "surrogates": 200}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="folder for seeds.csv, forecasts.csv, summary.json (required)")
    parser.add_argument("--settings", default=",".join(SETTINGS), help=f"comma list of {', '.join(SETTINGS)}")
    parser.add_argument("--seeds", type=int, help="seeds per setting (40)")
    parser.add_argument("--first-seed", type=int, default=1, help="seeds are FIRST .. FIRST + N - 1 (1)")
    parser.add_argument("--days", type=int, help="record length in days (365)")
    parser.add_argument("--stations", type=int, help="stations of the synthetic network (6)")
    parser.add_argument("--models", default="features,mlp", help="models trained (features,mlp)")
    parser.add_argument("--surrogates", type=int, help="skill's circular-shift surrogates (500)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK['seeds']} seeds, {QUICK['days']} days, {QUICK['stations']} stations, "
                             f"{QUICK['surrogates']} surrogates (a smoke check, not a measurement)")
    parser.add_argument("--keep", action="store_true", help="keep each seed's folder (under --out/runs/)")
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.case is not None:
        return args
    if args.out is None:
        parser.error("--out is required")
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    unknown = [s for s in args.settings if s not in SETTINGS]
    if unknown or not args.settings:
        parser.error(f"--settings: unknown {', '.join(unknown) or '(none)'}; choose among {', '.join(SETTINGS)}")
    if args.seeds < 1 or args.days < 4 * WINDOW_DAYS or args.stations < 1:
        parser.error("--seeds must be at least 1, --days at least 28, --stations at least 1")
    return args


# --------------------------------------------------------------------------- one seed (child process)
def run_case(case: dict) -> dict:
    """The forecast path for one setting and seed in ``case["folder"]``; the per-stage seconds."""
    from seismag.cli import main

    folder = Path(case["folder"])
    rec, data, results = folder / "rec", folder / "data", folder / "results"
    kp, dst = rec / "indices" / "kp.csv", rec / "indices" / "dst.dat"
    cutoff = (START + dt.timedelta(days=case["days"] // 2)).isoformat()
    seed = str(case["seed"])

    def ensembles() -> list[str]:
        return sorted(str(p) for p in results.glob("*_models/*_ensemble.pth"))

    stages = {
        "synth": lambda: ["synth", "--records", "--out", rec, "--days", case["days"], "--stations", case["stations"],
                          "--start", START.isoformat(), "--effect", case["effect"],
                          "--storm-coincidence", case["storm_coincidence"], "--seed", seed],
        "build": lambda: ["build", "--observatory", rec / "observatory", "--catalog", rec / "catalog.csv",
                          "--out", data, "--windows", WINDOW_DAYS, "--kp", kp, "--dst", dst],
        "train": lambda: ["train", "--data", data, "--out", results, "--models", case["models"], "--windows",
                          WINDOW_DAYS, "--preset", "quick", "--train-until", cutoff, "--seed", seed, "--quiet"],
        "scan": lambda: ["scan", "--ensemble", *ensembles(), "--observatory", rec / "observatory",
                         "--out", folder / "scores.csv", "--start", cutoff],
        "skill": lambda: ["skill", "--scores", folder / "scores.csv", "--catalog", rec / "catalog.csv",
                          "--out", folder / "skill", "--kp", kp, "--dst", dst, "--surrogates", case["surrogates"],
                          "--seed", seed, "--dpi", 30],
    }
    seconds = {}
    for stage in STAGES:
        began = time.perf_counter()
        code = main([str(a) for a in stages[stage]()])
        seconds[stage] = round(time.perf_counter() - began, 2)
        if code != 0:
            return {"status": f"{stage} exited {code}", "seconds": seconds}
    return {"status": "ok", "seconds": seconds}


def spawn(case: dict, log: Path) -> dict:
    """Run one case as ``this script --case JSON`` in a fresh process, its output into ``log``."""
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")  # two shared cores: one thread is the steadier clock
    with open(log, "w") as out:
        process = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--case", json.dumps(case)],
                                 stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
    lines = log.read_text(errors="replace").splitlines()
    if process.returncode != 0:
        return {"status": f"crashed: {lines[-1] if lines else process.returncode}", "seconds": {}}
    result = json.loads(lines[-1])
    if result["status"] != "ok":
        # the stage's own one-line error is the last line it printed before the result
        errors = [line for line in lines[:-1] if ": error: " in line]
        result["status"] += f": {errors[-1]}" if errors else ""
    return result


# --------------------------------------------------------------------------- verdicts -> rows
def is_storm_reference(name: str) -> bool:
    return name.startswith(STORM_REFERENCES)


def seed_rows(setting: str, seed: int, skill: dict) -> tuple[dict, list[dict]]:
    """The seed's row (the three measures) and one row per forecast, from its skill.json."""
    forecasts = []
    for name, entry in skill["models"].items():
        versus = entry.get("versus") or {}
        forecasts.append({
            "setting": setting, "seed": seed, "forecast": name, "kind": entry["kind"], "ass": entry["ass"],
            "ass_p_value": entry.get("ass_p_value"), "ass_p_adjusted": entry.get("ass_p_adjusted"),
            "significant": entry.get("significant"),
            "versus": ";".join(f"{ref}={result.get('outcome')}" for ref, result in versus.items()),
        })
    models = {name: entry for name, entry in skill["models"].items() if entry["kind"] == "model"}
    raw = [e["ass_p_value"] for e in models.values() if e.get("ass_p_value") is not None]
    adjusted = [e["ass_p_adjusted"] for e in models.values() if e.get("ass_p_adjusted") is not None]
    called = [e.get("significant") for e in models.values()]
    significant = [name for name, e in models.items() if e.get("significant")]
    storm_outcomes = {name: {ref: result.get("outcome") for ref, result in (e.get("versus") or {}).items()
                             if is_storm_reference(ref)} for name, e in models.items()}
    ahead = sorted(f"{name}>{ref}" for name, outcomes in storm_outcomes.items()
                   for ref, outcome in outcomes.items() if outcome == AHEAD)
    row = {
        "n_events": len(skill.get("events") or []), "n_models": len(models),
        "min_p_raw": min(raw, default=None), "min_p_adjusted": min(adjusted, default=None),
        "best_ass": max((e["ass"] for e in models.values()), default=None),
        "raw_significant": any(p <= ALPHA for p in raw) if raw else None,
        # null when no model carries a verdict on it (--surrogates 0)
        "significant": bool(significant) if any(c is not None for c in called) else None,
        "ahead_storm": bool(ahead),
        "ahead_all_storms": any(outcomes and all(o == AHEAD for o in outcomes.values())
                                for outcomes in storm_outcomes.values()),
        "significant_models": ";".join(significant), "ahead_models": ";".join(ahead),
    }
    return row, forecasts


def run_seed(setting: str, seed: int, args, root: Path) -> tuple[dict, list[dict]]:
    folder = Path(tempfile.mkdtemp(prefix=f"seismag-calibration-{setting}-{seed}-"))
    case = {"folder": str(folder), "seed": seed, "days": args.days, "stations": args.stations,
            "models": args.models, "surrogates": args.surrogates, **SETTINGS[setting]}
    row = {"setting": setting, "seed": seed, **SETTINGS[setting]}
    began = time.perf_counter()
    try:
        result = spawn(case, folder / "log.txt")
        row["status"] = result["status"]
        row.update({f"seconds_{stage}": s for stage, s in result["seconds"].items()})
        forecasts = []
        if result["status"] == "ok":
            measures, forecasts = seed_rows(setting, seed, json.loads((folder / "skill" / "skill.json").read_text()))
            row.update(measures)
    finally:
        row["seconds"] = round(time.perf_counter() - began, 1)
        if args.keep:
            shutil.copytree(folder, root / "runs" / f"{setting}-{seed}", dirs_exist_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
    return row, forecasts


# --------------------------------------------------------------------------- summary
def binomial_interval(k: int, n: int) -> list[float] | None:
    """Exact (Clopper-Pearson) 95 % interval of a share k / n."""
    if n == 0:
        return None
    from scipy.stats import binomtest

    interval = binomtest(k, n).proportion_ci(0.95, method="exact")
    return [round(float(interval.low), 4), round(float(interval.high), 4)]


def shares(rows: list[dict]) -> dict:
    out = {}
    for measure in MEASURES:
        values = [row[measure] for row in rows if row.get("status") == "ok" and row.get(measure) is not None]
        k, n = sum(bool(v) for v in values), len(values)
        out[measure] = {"k": k, "n": n, "share": round(k / n, 4) if n else None, "ci95": binomial_interval(k, n)}
    return out


def summarise(rows: list[dict], args, seeds: list[int], argv: list[str], began: str) -> dict:
    from seismag import __version__

    settings = {}
    for setting in args.settings:
        mine = [row for row in rows if row["setting"] == setting]
        settings[setting] = {
            **SETTINGS[setting], "seeds": [row["seed"] for row in mine],
            "failed": {str(row["seed"]): row["status"] for row in mine if row["status"] != "ok"},
            "shares": shares(mine), "reads_as": READS_AS[setting],
        }
    seconds = sorted(row["seconds"] for row in rows if row["status"] == "ok")
    return {
        "format": "seismag-skill-calibration", "version": 1,
        "command": " ".join(["python", f"{HERE.name}/{Path(__file__).name}", *argv]), "argv": argv,
        "seismag_version": __version__, "started": began,
        "finished": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "options": {"days": args.days, "stations": args.stations, "models": args.models,
                    "surrogates": args.surrogates, "window_days": WINDOW_DAYS, "alpha": ALPHA,
                    "train_until": (START + dt.timedelta(days=args.days // 2)).isoformat(), "quick": args.quick},
        "seeds": seeds,
        "seconds_per_seed": {"median": seconds[len(seconds) // 2] if seconds else None,
                             "min": seconds[0] if seconds else None, "max": seconds[-1] if seconds else None},
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "settings": settings,
    }


def format_table(summary: dict) -> str:
    header = f"{'setting':<8} {'seeds':>5}  " + "  ".join(f"{m:<31}" for m in MEASURES)
    lines = [header, "-" * len(header)]
    for setting, info in summary["settings"].items():
        cells = []
        for measure in MEASURES:
            s = info["shares"][measure]
            text = "n/a" if s["share"] is None else (
                f"{s['k']}/{s['n']} = {s['share']:.3f} [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}]")
            cells.append(f"{text:<31}")
        lines.append(f"{setting:<8} {len(info['seeds']):>5}  " + "  ".join(cells))
        lines.append(f"{'':<8} {'':>5}  " + "  ".join(f"({info['reads_as'][m]})".ljust(31) for m in MEASURES))
        for seed, status in info["failed"].items():
            lines.append(f"  seed {seed} failed: {status}")
    per_seed = summary["seconds_per_seed"]
    if per_seed["median"] is not None:
        lines.append(f"seconds per seed: median {per_seed['median']:.1f} (min {per_seed['min']:.1f}, "
                     f"max {per_seed['max']:.1f}); load average {summary['load_average']}")
    return "\n".join(lines)


class CsvAppender:
    """A CSV written row by row, so an interrupted run keeps the seeds it finished."""

    def __init__(self, path: Path, columns):
        self.file = open(path, "w", newline="")
        self.writer = csv.DictWriter(self.file, fieldnames=columns, extrasaction="raise")
        self.writer.writeheader()

    def write(self, rows):
        self.writer.writerows(rows)
        self.file.flush()

    def close(self):
        self.file.close()


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if args.case is not None:
        print(json.dumps(run_case(json.loads(args.case))))
        return 0
    began = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    seed_csv, forecast_csv = CsvAppender(out / "seeds.csv", SEED_COLUMNS), CsvAppender(out / "forecasts.csv",
                                                                                         FORECAST_COLUMNS)
    rows = []
    try:
        for setting in args.settings:
            for seed in seeds:
                row, forecasts = run_seed(setting, seed, args, out)
                rows.append(row)
                seed_csv.write([row])
                forecast_csv.write(forecasts)
                print(f"{setting} seed {seed}: {row['status']}, {row['seconds']:.0f} s; "
                      + ", ".join(f"{m} {row.get(m)}" for m in MEASURES), flush=True)
    finally:
        seed_csv.close()
        forecast_csv.close()
    summary = summarise(rows, args, seeds, argv, began)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(format_table(summary))
    print(f"written: {out / 'seeds.csv'}, {out / 'forecasts.csv'}, {out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
