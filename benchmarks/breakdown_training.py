"""Where a training step's time goes, and how far below it the matrix products allow (issue 19).

For each paper-size model on one window, batch 32, one thread, this times a
training step three ways in one process, side by side:

- ``notebook``: fp32, PyTorch's default AdamW (its per-parameter loop on the
  CPU), the recurrent networks as first written (``recurrent_impl='plain'``), as
  the notebook-style loop of ``bench_training.py`` runs it;
- ``engine-fp32`` and ``engine-bf16``: the operations of the engine's step
  (``training.loop.batch_step``: autocast, fused AdamW, clipping, the model's default
  recurrent implementation), written out here so each phase can be timed;
- ``bf16-params``: the engine's step on the model cast to bf16, without autocast, an
  upper bound of what keeping bf16 copies of the weights (no casts of weights or of
  their gradients in the step) could gain. Not a training mode: AdamW on bf16 weights
  loses small updates.

For the bf16 engine step it then reports

- phases: forward, backward, gradient clipping, optimizer step (wall, median);
- operator categories from ``torch.profiler`` (self CPU time): matrix products,
  attention kernel, casts and copies, dropout masks, normalisation, other
  element-wise work, the optimizer kernel;
- ``gemm@shape``: every matrix product the step ran (shapes recorded by the
  profiler), replayed alone on fresh tensors of the same shapes and dtypes, summed:
  the time of the step's matrix products with nothing around them;
- the floor: the step's FLOPs at the 4096^3 bf16 matmul peak.

``best x`` is the notebook step over ``gemm@shape``: the largest speedup of the
training step over the notebook loop if everything but the products cost nothing,
with the products as fast as this PyTorch runs them at these shapes. Where it is
below the target, the target cannot be reached by removing overhead alone.

    .venv/bin/python benchmarks/breakdown_training.py --window 7 --json-out breakdown.json

Run on an idle machine; about 2 minutes for all five models.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from bench_training import matmul_peak, train_flops  # noqa: E402  (one owner of FLOPs and the peak)

BATCH = 32
GEMM_OPS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"}
CATEGORIES = (
    ("matmul", lambda n: n in GEMM_OPS or "mkldnn_rnn" in n or n.startswith("aten::mkldnn_")),
    ("attention", lambda n: "scaled_dot_product" in n or "flash_attention" in n),
    ("optimizer", lambda n: "adamw" in n.lower() or n.startswith("aten::_foreach")),
    ("casts/copies", lambda n: n in {"aten::copy_", "aten::_to_copy", "aten::clone", "aten::cat",
                                     "aten::stack", "aten::contiguous", "aten::fill_", "aten::zero_"}),
    ("dropout", lambda n: "bernoulli" in n or "dropout" in n),
    ("normalisation", lambda n: "batch_norm" in n or "layer_norm" in n),
)


def category(name: str) -> str:
    for label, test in CATEGORIES:
        if test(name):
            return label
    return "element-wise/other"


def make_step(model_name: str, window: int, variant: str):
    """The training step of one variant, as a function returning its phase times."""
    from seismag import models as registry
    from seismag.runtime import autocast_context

    torch.manual_seed(0)
    model = registry.create_model(model_name, window).train()
    x = registry.to_model_input(model, torch.randn(BATCH, window * 1440), window, 1440)
    y = torch.randint(0, 2, (BATCH,))
    loss_fn = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 1.5]))
    if variant == "notebook" and hasattr(model, "set_recurrent_impl"):
        model.set_recurrent_impl("plain")  # as bench_training.py's notebook loop
    if variant == "bf16-params":
        model, x = model.to(torch.bfloat16), x.to(torch.bfloat16)
    notebook = variant == "notebook"
    fused = {} if notebook else {"fused": True}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01, **fused)
    precision = "bf16" if variant == "engine-bf16" else "fp32"
    cpu = torch.device("cpu")

    def step() -> dict:
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=not notebook)
        with autocast_context(cpu, precision):
            logits = model(x)
        loss = loss_fn(logits.float(), y)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        t3 = time.perf_counter()
        optimizer.step()
        t4 = time.perf_counter()
        return {"forward": t1 - t0, "backward": t2 - t1, "clip": t3 - t2, "optimizer": t4 - t3, "step": t4 - t0}

    return step


def timed(step, steps: int) -> dict:
    for _ in range(3):
        step()
    runs = [step() for _ in range(steps)]
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def gemm_calls(events) -> dict:
    """How often each matrix product (op, input shapes) ran in the profiled steps."""
    calls = defaultdict(int)
    for event in events:
        if event.name in GEMM_OPS and event.input_shapes:
            # Shapes only: the products of a bf16 step run in bf16, the dtype replay_seconds uses.
            calls[(event.name, tuple(tuple(s) for s in event.input_shapes if s))] += 1
    return calls


def replay_seconds(calls: dict, dtype: torch.dtype, steps: int, repeats: int = 5) -> float:
    """Seconds per step of ``calls``' products, each replayed alone on fresh tensors (best of ``repeats``)."""
    total = 0.0
    for (name, shapes), count in calls.items():
        tensors = [torch.randn(*shape).to(dtype) for shape in shapes]
        op = {"aten::mm": torch.mm, "aten::bmm": torch.bmm,
              "aten::addmm": torch.addmm, "aten::baddbmm": torch.baddbmm}[name]
        op(*tensors)  # warm-up
        best = float("inf")
        for _ in range(repeats):
            began = time.perf_counter()
            op(*tensors)
            best = min(best, time.perf_counter() - began)
        total += best * count
    return total / steps


def breakdown(model_name: str, window: int, steps: int) -> dict:
    from torch.profiler import ProfilerActivity, profile

    row = {"model": model_name, "window": window}
    for variant in ("notebook", "engine-fp32", "engine-bf16", "bf16-params"):
        row[variant] = timed(make_step(model_name, window, variant), steps)
    step = make_step(model_name, window, "engine-bf16")
    timed(step, 2)
    profiled = 5
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(profiled):
            step()
    shares = defaultdict(float)
    for item in prof.key_averages():
        shares[category(item.key)] += item.self_cpu_time_total / 1e6 / profiled
    total = sum(shares.values())
    row["categories"] = {k: v / total for k, v in sorted(shares.items(), key=lambda kv: -kv[1])}
    calls = gemm_calls(prof.events())
    row["gemm_at_shape_s"] = replay_seconds(calls, torch.bfloat16, profiled)
    row["floor_s"] = train_flops(model_name, window) * BATCH / (matmul_peak("bf16") * 1e9)
    return row


def report(rows: list[dict]) -> str:
    lines = ["ms per training step (batch 32, one thread, median); phases and categories of engine-bf16",
             f"{'model':<12}{'win':>4}{'notebook':>9}{'fp32':>7}{'bf16':>7}{'x':>6}{'bf16p':>7}"
             f"{'fwd':>6}{'bwd':>6}{'clip':>5}{'opt':>5}{'gemm@shape':>11}{'floor':>7}{'best x':>7}  categories"]
    for r in rows:
        nb, bf = r["notebook"]["step"], r["engine-bf16"]
        gemm = r["gemm_at_shape_s"]
        cats = ", ".join(f"{k} {v * 100:.0f}%" for k, v in r["categories"].items() if v >= 0.02)
        lines.append(f"{r['model']:<12}{r['window']:>4}{nb * 1e3:>9.1f}{r['engine-fp32']['step'] * 1e3:>7.1f}"
                     f"{bf['step'] * 1e3:>7.1f}{nb / bf['step']:>5.2f}x{r['bf16-params']['step'] * 1e3:>7.1f}"
                     f"{bf['forward'] * 1e3:>6.1f}{bf['backward'] * 1e3:>6.1f}{bf['clip'] * 1e3:>5.1f}"
                     f"{bf['optimizer'] * 1e3:>5.1f}{gemm * 1e3:>11.1f}{r['floor_s'] * 1e3:>7.1f}"
                     f"{nb / gemm if gemm else float('nan'):>6.2f}x  {cats}")
    lines += ["", "x: notebook step / engine-bf16 step; bf16p: the step on bf16 weights (no casts);",
              "gemm@shape: the step's matrix products replayed alone (bf16); floor: the step's FLOPs at the",
              "  4096^3 bf16 matmul peak;",
              "best x: notebook step / gemm@shape, the speedup left if nothing but the products cost time."]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="gru,lstm,rnn,mlp,transformer")
    parser.add_argument("--window", type=int, default=7)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for name in args.models.split(","):
        rows.append(breakdown(name.strip(), args.window, args.steps))
        print(report(rows[-1:]).splitlines()[2], flush=True)
    print()
    print(report(rows))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"threads": 1, "batch": BATCH, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
