"""Cost of one training epoch of ``inception`` and ``resnet`` at paper size on a 7-day
window of 1-minute data (10,080 steps), measured on a few batches and projected.

Each model is built at its paper preset (InceptionTime: depth 6, 32 filters, kernels
40/20/10; ResNet: 64/128/128 filters) and trained with AdamW on random float32
batches of 32 windows, shape ``(32, 7, 1440)``; the first batch is a warm-up, the
next ``--batches`` are timed (forward, backward, optimiser step). The seconds per
epoch are projected for the training rows of one fold of the paper's data
(``--rows``, default 1,000 windows: 32 batches); the data loading and the validation
pass (about a third of a training pass) are not included.

Examples
--------
    python benchmarks/bench_epoch_cost.py                         # CPU, both models
    python benchmarks/bench_epoch_cost.py --device cuda --batches 20
    python benchmarks/bench_epoch_cost.py --json-out benchmarks/results/epoch_cost_cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))  # run from a checkout without installing

import torch  # noqa: E402

from seismag.models import create_model  # noqa: E402

WINDOW_DAYS, STEPS_PER_DAY, BATCH = 7, 1440, 32


def seconds_per_batch(name: str, device: torch.device, batches: int) -> tuple[float, int]:
    torch.manual_seed(0)
    model = create_model(name, WINDOW_DAYS, STEPS_PER_DAY).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    x = torch.randn(BATCH, WINDOW_DAYS, STEPS_PER_DAY, device=device)
    y = torch.randint(0, 2, (BATCH,), device=device)
    times = []
    for step in range(batches + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step:  # the first batch is a warm-up
            times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2], sum(p.numel() for p in model.parameters())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="inception,resnet")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1000, help="training rows of one fold (default 1000)")
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    records = []
    for name in args.models.split(","):
        per_batch, params = seconds_per_batch(name, device, args.batches)
        batches = -(-args.rows // BATCH)
        record = {"model": name, "params": params, "device": str(device), "threads": torch.get_num_threads(),
                  "seconds_per_batch_median": round(per_batch, 3), "batch": BATCH, "rows": args.rows,
                  "seconds_per_epoch_projected": round(per_batch * batches, 1), "timed_batches": args.batches}
        records.append(record)
        print(f"{name:10s} {params:>9,} params  {per_batch:.2f} s per batch of {BATCH}  -> "
              f"{record['seconds_per_epoch_projected']:.0f} s per epoch of {args.rows} windows ({device})", flush=True)
    if args.json_out:
        meta = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                "torch": torch.__version__, "window": f"{WINDOW_DAYS} days x {STEPS_PER_DAY} steps"}
        Path(args.json_out).write_text(json.dumps({"meta": meta, "records": records}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
