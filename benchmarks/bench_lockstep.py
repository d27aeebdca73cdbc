"""Would training the five folds in lockstep pay? The matrix products, measured.

Lockstep training keeps one set of weights per fold, so a step of five folds is
five different products, not one five-times-larger product with shared weights.
This times, for the largest training products of each paper-size model, the
forward and backward of

- ``separate``: five batch-32 products one after the other (training fold by fold),
- ``batched``: one ``torch.bmm`` over the five folds' stacked batches and weights (lockstep),
- ``shared``: one product of the five batches against a single weight (what a
  five-times-larger product would cost; not a valid way to train five folds),

in fp32 and in bf16, with one thread by default, and prints batched/separate and
shared/separate speedups. Lockstep can only pay where ``batched`` beats
``separate``.

    python benchmarks/bench_lockstep.py
    python benchmarks/bench_lockstep.py --threads 2 --repeats 20
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

FOLDS = 5
BATCH = 32
# (label, rows per fold-batch, inner dim, output dim): the training products that
# dominate each paper-size model on the 7-day window (1440 steps a day).
SHAPES = [
    ("gru input proj", BATCH * 7, 1440, 3 * 512),
    ("gru recurrence", BATCH, 512, 3 * 512),
    ("lstm recurrence", BATCH, 512, 4 * 512),
    ("rnn input proj", BATCH * 7, 1440, 512),
    ("mlp layer 1", BATCH, 7 * 1440, 512),
    ("transformer ffn", BATCH * 7, 256, 1024),
]


def best_time(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def step_fns(rows: int, inner: int, out: int, dtype: torch.dtype):
    xs = torch.randn(FOLDS, rows, inner, dtype=dtype)
    ws = torch.randn(FOLDS, inner, out, dtype=dtype, requires_grad=True)
    w_one = torch.randn(inner, out, dtype=dtype, requires_grad=True)
    grad = torch.randn(FOLDS, rows, out, dtype=dtype)
    # Fold by fold, each fold has its own weight tensor (as five separate models do).
    w_list = [ws[k].detach().clone().requires_grad_() for k in range(FOLDS)]
    x_list, g_list = list(xs.unbind(0)), list(grad.unbind(0))

    def separate():
        for x, w, g in zip(x_list, w_list, g_list):
            (x @ w).backward(g)

    def batched():
        torch.bmm(xs, ws).backward(grad)

    def shared():
        (xs.reshape(FOLDS * rows, inner) @ w_one).backward(grad.reshape(FOLDS * rows, out))

    return separate, batched, shared


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); forward + backward of {FOLDS} folds, "
          f"best of {args.repeats}")
    head = f"{'product':<18}{'dtype':>6}{'separate ms':>13}{'batched ms':>12}{'shared ms':>11}{'batched x':>11}{'shared x':>10}"
    print(head + "\n" + "-" * len(head))
    for label, rows, inner, out in SHAPES:
        for dtype in (torch.float32, torch.bfloat16):
            separate, batched, shared = (best_time(fn, args.repeats) for fn in step_fns(rows, inner, out, dtype))
            print(f"{label:<18}{str(dtype).split('.')[1][:6]:>6}{separate * 1e3:>13.2f}{batched * 1e3:>12.2f}"
                  f"{shared * 1e3:>11.2f}{separate / batched:>10.2f}x{separate / shared:>9.2f}x")
    print("\nbatched x: lockstep's gain on that product (separate / batched); shared x: the gain the issue "
          "expected,\nwhich needs one weight for all folds.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
