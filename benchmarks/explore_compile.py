"""Exploration for issue 19: does torch.compile (Inductor, CPU) speed up one training step?

Times a training step (forward, loss, backward, AdamW step) of each paper-size model on
the 7-day window, batch 32, one thread, in fp32, bf16 autocast, and bf16 autocast with
the model wrapped in torch.compile (compile time reported apart). Median of the steps
after warm-up. Run on an idle machine:

    .venv/bin/python benchmarks/explore_compile.py --models gru,lstm,mlp --steps 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from seismag.models import create_model, to_model_input


def step_times(model, x, y, precision: str, steps: int) -> tuple[float, float]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    first = None
    for i in range(steps + 3):
        began = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = model(x)
        loss = loss_fn(logits.float(), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        elapsed = time.perf_counter() - began
        if i == 0:
            first = elapsed
        elif i >= 3:
            times.append(elapsed)
    return statistics.median(times), first


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="gru,lstm,rnn,mlp,transformer")
    parser.add_argument("--window", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name in args.models.split(","):
        torch.manual_seed(0)
        x_flat = torch.randn(32, args.window * 1440)
        y = torch.randint(0, 2, (32,))
        row = {"model": name}
        for variant in ("fp32", "bf16", "bf16+compile"):
            torch.manual_seed(0)
            model = create_model(name, args.window).train()
            x = to_model_input(model, x_flat, args.window, 1440)
            net = torch.compile(model) if variant.endswith("compile") else model
            try:
                median, first = step_times(net, x, y, "bf16" if variant.startswith("bf16") else "fp32", args.steps)
            except Exception as exc:  # noqa: BLE001 (an exploration: report what failed)
                row[variant] = f"failed: {type(exc).__name__}: {str(exc)[:120]}"
                continue
            row[variant] = {"step_s": round(median, 4), "first_step_s": round(first, 2)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json_out:
        with open(args.json_out, "w") as handle:
            json.dump({"threads": args.threads, "window": args.window, "rows": rows}, handle, indent=1)


if __name__ == "__main__":
    main()
