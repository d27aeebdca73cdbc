"""Time and peak memory of ``seismag build`` on station-years of daily IAGA-2002 files.

    python benchmarks/bench_build.py                                # the README's numbers
    python benchmarks/bench_build.py --cases 1x1 --components H     # one station-year, H only
    python benchmarks/bench_build.py --compare-src /tmp/old/src     # the same builds with another tree

A case ``SxY`` is S stations of Y years of 1-minute data from 2010-01-01, written as daily
IAGA-2002 files (one per station and UTC day; D H Z F columns) into a temporary folder.
The values are synthetic and cheap to write (a daily variation plus noise; F =
sqrt(H^2 + Z^2)); about one minute in a thousand is ``99999.00`` and the 100th day of each
year has no file, so the build interpolates gaps and reports missing days. The catalog
(ComCat layout) holds an M6.2 111 km north of each station every 45 days, which makes
both classes, and two far events a month before and after the records, which set its span.

Each build runs ``seismag build --windows 7,14,30`` (and ``--components`` unless it is
H, the default) in a fresh process; its wall time and peak resident memory
(``ru_maxrss`` of that child, from ``os.wait4``) are reported, with the peak of a process
that only imports the build (interpreter, numpy), the bytes the build wrote, and two
sizes the memory should follow (MiB):

``series``
    what the build keeps of every station: float32 per minute per channel.
``record``
    twice the float64 record of the longest station (one per minute per component read;
    the reader holds its files' segments and the assembled grid at once). Finding the
    record's gaps takes another 16 bytes a minute for a moment (int64 edges,
    ``seismag.sources.station_record._find_gaps``), about 85 MiB for ten years, not counted here.

What a build writes is streamed to disk; a peak that grew with the output (a 10-year
window-30 class file is about 600 MB per channel) would show here. The machine may be
shared: wall times vary with the load, peak memory much less.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

START = np.datetime64("2010-01-01", "D")
WINDOWS = "7,14,30"
COLUMNS = "DHZF"
_TIMES = [f"{h:02d}:{m:02d}:00.000" for h in range(24) for m in range(60)]


def station_code(index: int) -> str:
    return f"S{index:02d}"


def write_station(folder: Path, index: int, days: int, rng: np.random.Generator) -> None:
    """One station's daily files: ``folder/{code}/{code}YYYYMMDDdmin.min``."""
    code = station_code(index)
    latitude, longitude = 35.0 + index, 140.0
    header = [("Format", "IAGA-2002"), ("Source of Data", "seismag benchmark"),
              ("Station Name", f"Bench {index}"), ("IAGA CODE", code),
              ("Geodetic Latitude", f"{latitude:.3f}"), ("Geodetic Longitude", f"{longitude:.3f}"),
              ("Elevation", "0"), ("Reported", COLUMNS), ("Data Interval Type", "1-minute"),
              ("Data Type", "variation")]
    head = "".join(f" {k:<23}{v:<44}|\n" for k, v in header)
    head += "DATE       TIME         DOY     " + "".join(f"{code}{c:<6}" for c in COLUMNS) + "   |\n"
    out = folder / code
    out.mkdir(parents=True)
    daily = np.sin(2 * np.pi * np.arange(1440) / 1440.0)
    for offset in range(days):
        day = START + np.timedelta64(offset, "D")
        day_of_year = int((day - day.astype("datetime64[Y]")).astype(int)) + 1
        if day_of_year == 100:
            continue  # a day without a file: a missing day in the report
        noise = rng.normal(size=(1440, 3))
        d = -500.0 + 2.0 * daily + 0.1 * noise[:, 0]
        h = 30000.0 + 25.0 * daily + 0.5 * noise[:, 1] + 0.01 * offset
        z = 40000.0 - 10.0 * daily + 0.5 * noise[:, 2]
        f = np.hypot(h, z)
        h[rng.random(1440) < 0.001] = 99999.0
        stamp = str(day)
        prefix = [f"{stamp} {t} {day_of_year:03d} " for t in _TIMES]
        rows = np.stack([d, h, z, f], axis=1).tolist()
        body = "\n".join(f"{p}{a:10.2f}{b:10.2f}{c:10.2f}{e:10.2f}" for p, (a, b, c, e) in zip(prefix, rows))
        (out / f"{code.lower()}{stamp.replace('-', '')}dmin.min").write_text(head + body + "\n")


def write_catalog(path: Path, stations: int, days: int) -> None:
    lines = ["time,latitude,longitude,depth,mag,id,type"]
    first, last = START - np.timedelta64(30, "D"), START + np.timedelta64(days + 30, "D")
    lines.append(f"{first}T00:00:00.000Z,-60.0,0.0,10.0,5.0,far_first,earthquake")
    for index in range(stations):
        for offset in range(20, days, 45):
            moment = START + np.timedelta64(offset, "D")
            lines.append(f"{moment}T06:00:00.000Z,{36.0 + index:.1f},140.0,10.0,6.2,e{index}_{offset},earthquake")
    lines.append(f"{last}T00:00:00.000Z,-60.0,0.0,10.0,5.0,far_last,earthquake")
    path.write_text("\n".join(lines) + "\n")


def run_child(command: list[str], src: Path) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS (MiB) and exit status of one child, and its stderr's tail."""
    env = {**os.environ, "PYTHONPATH": str(src.resolve()), "OMP_NUM_THREADS": "1"}
    began = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = child.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    child.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss / 1024.0, child.returncode, err[-2000:]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="1x1,1x10,10x1",
                        help="STATIONSxYEARS, comma-separated (default 1x1,1x10,10x1)")
    parser.add_argument("--components", default="H;H,D,Z",
                        help="channel lists to build, separated by ';' (default 'H;H,D,Z')")
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    parser.add_argument("--compare-src", type=Path, default=None,
                        help="another tree's src/ to run the H builds with too (e.g. an older commit)")
    parser.add_argument("--days-per-year", type=int, default=365)
    parser.add_argument("--tmp", type=Path, default=None, help="where the files go (default: system temp)")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args(argv)
    cases = [tuple(int(x) for x in case.split("x")) for case in args.cases.split(",")]
    channel_lists = [c.strip() for c in args.components.split(";") if c.strip()]

    trees = [("new", args.src)] + ([("compare", args.compare_src)] if args.compare_src else [])
    results = []
    _, import_peak, _, _ = run_child([sys.executable, "-c", "import seismag.cli, seismag.dataset.build"], args.src)
    print(f"peak RSS of a process that only imports the build: {import_peak:.0f} MiB", flush=True)
    print(f"{'case':>6} {'tree':>8} {'components':>10} {'gen s':>6} {'build s':>8} {'peak MiB':>9} "
          f"{'series':>7} {'record':>7} {'written MiB':>12}", flush=True)
    with tempfile.TemporaryDirectory(prefix="seismag-bench-build-", dir=args.tmp) as tmp:
        tmp = Path(tmp)
        for stations, years in cases:
            days = years * args.days_per_year
            observatory, catalog = tmp / "obs", tmp / "catalog.csv"
            shutil.rmtree(observatory, ignore_errors=True)
            began = time.perf_counter()
            rng = np.random.default_rng(stations * 100 + years)
            for index in range(stations):
                write_station(observatory, index, days, rng)
            write_catalog(catalog, stations, days)
            generated = time.perf_counter() - began
            for components in channel_lists:
                channels = components.split(",")
                sources = len(set("".join(channels).replace("/", "")))
                for tree, src in trees:
                    if tree == "compare" and components != "H":
                        continue  # an older tree may not know --components
                    out = tmp / "out"
                    command = [sys.executable, "-m", "seismag", "build", "--observatory", str(observatory),
                               "--catalog", str(catalog), "--out", str(out), "--windows", WINDOWS]
                    if components != "H":
                        command += ["--components", components]
                    seconds, peak, status, err = run_child(command, src)
                    if status != 0:
                        print(err, file=sys.stderr)
                        raise SystemExit(f"build failed ({status}) for {stations}x{years} {components} ({tree})")
                    written = folder_bytes(out) / 2**20
                    shutil.rmtree(out)
                    series = stations * days * 1440 * 4 * len(channels) / 2**20
                    record = 2 * days * 1440 * 8 * sources / 2**20
                    row = {"stations": stations, "years": years, "station_years": stations * years,
                           "tree": tree, "src": str(src), "components": components, "generate_s": generated,
                           "build_s": seconds, "peak_rss_mib": peak, "import_peak_mib": import_peak,
                           "series_mib": series, "record_mib": record, "written_mib": written}
                    results.append(row)
                    print(f"{stations}x{years:<4} {tree:>8} {components:>10} {generated:6.1f} {seconds:8.1f} "
                          f"{peak:9.0f} {series:7.0f} {record:7.0f} {written:12.0f}", flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps({"windows": WINDOWS, "cpus": os.cpu_count(),
                                             "load_average": os.getloadavg(), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
