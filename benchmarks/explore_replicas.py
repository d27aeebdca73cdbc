"""Exploration for issue 19: train the N + 1 replicas of a permutation control as one batched model?

Times one training step of R copies of a paper-size model on the same batch of rows (the
permutation control trains R models on the same windows with different labels): R
sequential steps against one step of the R models stacked with ``torch.func``
(``stack_module_state`` + ``vmap(functional_call)``, gradients by ``torch.func.grad``,
AdamW on the stacked parameters). BatchNorm running statistics cannot be updated inside
``vmap``; the batched variant runs BatchNorm on batch statistics only
(``torch.func.replace_all_batch_norm_modules_``), so the comparison is of arithmetic,
not a drop-in replacement. Run on an idle machine:

    .venv/bin/python benchmarks/explore_replicas.py --models mlp,gru --replicas 20 --steps 5
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time

import torch
from torch.func import functional_call, grad, replace_all_batch_norm_modules_, stack_module_state, vmap

from seismag.models import create_model, to_model_input


def sequential(models, x, labels, steps):
    optimizers = [torch.optim.AdamW(m.parameters(), lr=1e-3, fused=False, foreach=True) for m in models]
    loss_fn = torch.nn.CrossEntropyLoss()
    times = []
    for _ in range(steps + 1):
        began = time.perf_counter()
        for model, optimizer, y in zip(models, optimizers, labels):
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            optimizer.step()
        times.append(time.perf_counter() - began)
    return statistics.median(times[1:])


def batched(models, x, labels, steps):
    for model in models:
        replace_all_batch_norm_modules_(model)
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")
    loss_fn = torch.nn.CrossEntropyLoss()

    def loss(p, b, y):
        return loss_fn(functional_call(base, (p, b), (x,)), y)

    grads_of = vmap(grad(loss), in_dims=(0, 0, 0), randomness="different")  # dropout per replica
    flat = [torch.nn.Parameter(v) for v in params.values()]
    optimizer = torch.optim.AdamW(flat, lr=1e-3, foreach=True)
    y = torch.stack(labels)
    times = []
    for _ in range(steps + 1):
        began = time.perf_counter()
        current = dict(zip(params, flat))
        grads = grads_of(current, buffers, y)
        for parameter, name in zip(flat, params):
            parameter.grad = grads[name]
        optimizer.step()
        times.append(time.perf_counter() - began)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="mlp,gru")
    parser.add_argument("--replicas", type=int, default=20)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json-out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name in args.models.split(","):
        torch.manual_seed(0)
        x = torch.randn(32, 7 * 1440)
        labels = [torch.randint(0, 2, (32,)) for _ in range(args.replicas)]
        models = [create_model(name, 7).train() for _ in range(args.replicas)]
        xin = to_model_input(models[0], x, 7, 1440)
        row = {"model": name, "replicas": args.replicas,
               "sequential_s": round(sequential(models, xin, labels, args.steps), 4)}
        try:
            row["batched_s"] = round(batched([copy.deepcopy(m) for m in models], xin, labels, args.steps), 4)
            row["speedup"] = round(row["sequential_s"] / row["batched_s"], 2)
        except Exception as exc:  # noqa: BLE001 (an exploration: report what failed)
            row["batched_s"] = f"failed: {type(exc).__name__}: {str(exc)[:160]}"
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json_out:
        with open(args.json_out, "w") as handle:
            json.dump({"threads": args.threads, "rows": rows}, handle, indent=1)


if __name__ == "__main__":
    main()
