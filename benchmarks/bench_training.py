"""Training speed: seismag's engine against a notebook-style loop, side by side.

For every model (paper size) and window, each case runs in a fresh subprocess
on the same synthetic paper-scale data and the same fold-1 rows of the SPEC's
5-fold stratified split, and reports:

- training samples/s over steady-state epochs (the first epoch is a warm-up),
- seconds per epoch (training pass + validation pass + per-epoch bookkeeping),
  projected to the full fold when ``--quick`` trains on a subset,
- peak memory (the child's RSS high-water mark, VmHWM) and its RSS before any
  data was loaded,
- validation F1 of the kept epoch,
- achieved training FLOP/s as a share of this machine's measured fp32 and
  bf16 matmul peaks (model FLOPs counted analytically, see ``train_flops``).

(a) ``notebook``: the loop the SPEC's Modules 3/5 describe -- a DataLoader over
a TensorDataset of the globally scaled data (batch 32, shuffle), fp32,
per-batch ``.to(device)``, AdamW (lr 1e-3, wd 0.01), the recurrent networks
as first written (``recurrent_impl='plain'``: PyTorch's kernels), class-weighted
cross-entropy, clipping at 1.0, ReduceLROnPlateau on the validation loss
(cosine for the Transformer), scikit-learn metrics on every epoch's
validation predictions, best state by validation F1.
(b) ``engine``: ``seismag.training.fold.train_fold`` on ``WindowTensors``.

Both build the model with the same seed from the same registry, so the
architecture and the initial weights are identical.

Examples
--------
    python benchmarks/bench_training.py --quick
    python benchmarks/bench_training.py --models gru,mlp --windows 7 --precision fp32,bf16
    python benchmarks/bench_training.py --epochs 3 --json-out bench.json   # full folds
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))  # run from a checkout without installing

ALL_MODELS = ("gru", "lstm", "rnn", "mlp", "transformer")
ALL_WINDOWS = (7, 14, 30)
STEPS_PER_DAY = 1440
NUM_FOLDS = 5
PROTOCOL_EPOCHS = 100
SEED = 42
QUICK_FIT_ROWS = 256     # 8 batches of 32 per training pass
QUICK_VAL_ROWS = 128
QUICK_EPOCHS = 3         # 1 warm-up + 2 measured


# --------------------------------------------------------------------------- machine
def machine_description() -> dict:
    info = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        text = Path("/proc/cpuinfo").read_text()
        model = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                      if line.startswith("model name")), "?")
        flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                      if line.startswith("flags")), [])
        info["cpu"] = model
        info["bf16_flags"] = sorted(f for f in flags if f in ("avx512_bf16", "amx_bf16", "amx_tile", "amx_int8"))
    except OSError:
        pass
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["memory_gib"] = round(int(mem) / 2**20, 1)
    except (OSError, IndexError, ValueError):
        pass
    import torch

    info["torch"] = torch.__version__
    info["torch_threads"] = torch.get_num_threads()
    return info


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def matmul_peak(dtype_name: str, size: int = 4096, repeats: int = 3) -> float:
    """GFLOP per CPU second of a (size x size) @ (size x size) torch.matmul (best of ``repeats``).

    Per CPU second rather than per wall second, so other processes on the
    machine do not lower it; training rates are reported the same way.
    """
    import torch

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype_name]
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    torch.matmul(a, b)  # warm-up: thread pool, kernel selection
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        torch.matmul(a, b)
        best = min(best, time.process_time() - start)
    return 2.0 * size ** 3 / best / 1e9


# --------------------------------------------------------------------------- model FLOPs
def forward_macs(model_name: str, window_days: int, steps_per_day: int = STEPS_PER_DAY) -> tuple[float, float]:
    """Multiply-accumulates of one sample's forward pass at paper size.

    Returns ``(total, first_layer_input)``; the second is the part whose input
    gradient is never needed (the data does not require grad).
    """
    from seismag import models as registry

    config = registry.model_config(model_name, window_days, steps_per_day)
    days = window_days
    if model_name in ("gru", "lstm", "rnn"):
        gates = {"gru": 3, "lstm": 4, "rnn": 1}[model_name]
        total, first, width = 0.0, None, steps_per_day
        for hidden in config.hidden_sizes:
            input_part = days * gates * hidden * width
            total += input_part + days * gates * hidden * hidden
            first = input_part if first is None else first
            width = hidden
        return total + width * config.output_size, first
    if model_name == "mlp":
        total, first, width = 0.0, None, window_days * steps_per_day
        for hidden in config.hidden_sizes:
            total += width * hidden
            first = width * hidden if first is None else first
            width = hidden
        return total + width * config.output_size, first
    if model_name == "transformer":
        d, ff = config.d_model, config.dim_feedforward
        first = days * steps_per_day * d
        layer = 4 * days * d * d + 2 * days * days * d + 2 * days * d * ff
        return first + config.num_encoder_layers * layer + d * config.output_size, first
    raise ValueError(model_name)


def train_flops(model_name: str, window_days: int) -> float:
    """FLOPs of one training sample: forward, weight gradients, input gradients
    (none for the first layer's input), i.e. slightly under 3x the forward."""
    total, first = forward_macs(model_name, window_days)
    return 2.0 * (3 * total - first)


# --------------------------------------------------------------------------- data
def cache_dir() -> Path:
    return Path(os.environ.get("SEISMAG_BENCH_CACHE", "/tmp/seismag-bench-cache"))


def ensure_data(window_days: int, seed: int) -> tuple[Path, Path]:
    """Paper-size synthetic window, NaN gaps interpolated, cached as .npy."""
    from seismag.dataset.loading import fill_gaps
    from seismag.synth.windows import PRESETS, generate_window

    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    x_path = folder / f"w{window_days}_s{seed}_X.npy"
    y_path = folder / f"w{window_days}_s{seed}_y.npy"
    if not (x_path.exists() and y_path.exists()):
        n0, n1 = PRESETS["paper"][window_days]
        X, y, _ = generate_window(window_days, n0, n1, seed=seed, steps_per_day=STEPS_PER_DAY)
        keep, _ = fill_gaps(X, 0.1)
        X, y = np.ascontiguousarray(X[keep], dtype=np.float32), y[keep].astype(np.int64)
        np.save(str(x_path) + ".tmp.npy", X)
        np.save(str(y_path) + ".tmp.npy", y)
        os.replace(str(x_path) + ".tmp.npy", x_path)
        os.replace(str(y_path) + ".tmp.npy", y_path)
    return x_path, y_path


def fold_rows(y: np.ndarray, quick: bool, seed: int) -> dict:
    """Fold 1 of the SPEC's split; with ``quick`` a fixed random subset of it."""
    from seismag.training.splits import stratified_kfold

    train_rows, val_rows = stratified_kfold(y, NUM_FOLDS, SEED)[0]
    full = {"n_fit_full": int(len(train_rows)), "n_val_full": int(len(val_rows))}
    if quick:
        rng = np.random.default_rng(seed)
        train_rows = np.sort(rng.choice(train_rows, min(QUICK_FIT_ROWS, len(train_rows)), replace=False))
        val_rows = np.sort(rng.choice(val_rows, min(QUICK_VAL_ROWS, len(val_rows)), replace=False))
    return {"train_rows": train_rows, "val_rows": val_rows, **full}


def vm_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------- (a) notebook loop
def sklearn_metrics(labels, preds) -> dict:
    """What the notebooks' calculate_binary_metrics computes each epoch."""
    from sklearn.metrics import confusion_matrix, f1_score, matthews_corrcoef, precision_score, recall_score

    cm = confusion_matrix(labels, preds, labels=[0, 1])
    tn, fp = cm[0, 0], cm[0, 1]
    return {"f1": f1_score(labels, preds, average="weighted", zero_division=0),
            "precision": precision_score(labels, preds, average="weighted", zero_division=0),
            "recall": recall_score(labels, preds, average="weighted", zero_division=0),
            "specificity": tn / (tn + fp) if tn + fp else 0.0,
            "mcc": matthews_corrcoef(labels, preds),
            "class_acc": (cm.diagonal() / np.maximum(cm.sum(1), 1)).tolist()}


def notebook_run_epoch(model, loader, device, loss_fn, optimizer=None, max_grad_norm=1.0):
    """The SPEC's run_epoch: batches from a DataLoader, .to(device), sklearn metrics."""
    import torch

    training = optimizer is not None
    model.train(training)
    total_loss, all_preds, all_labels, n = 0.0, [], [], 0
    with torch.set_grad_enabled(training):
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            if training and inputs.size(0) == 1:  # BatchNorm cannot normalise one sample
                continue
            outputs = model(inputs)
            loss = loss_fn(outputs, labels)
            if training:
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                optimizer.step()
            total_loss += loss.item() * inputs.size(0)
            n += inputs.size(0)
            all_preds.extend(outputs.argmax(dim=1).cpu().numpy())
            all_labels.extend(labels.cpu().numpy())
    metrics = sklearn_metrics(np.array(all_labels), np.array(all_preds))
    metrics["loss"] = total_loss / max(n, 1)
    return metrics


def run_notebook_case(case: dict, X: np.ndarray, y: np.ndarray, rows: dict, timings: dict) -> dict:
    import torch
    from sklearn.preprocessing import StandardScaler
    from torch.utils.data import DataLoader, Subset, TensorDataset

    from seismag.dataset.balance import compute_class_weights
    from seismag.models import create_model, get_model_entry

    device = torch.device("cpu")
    name, days = case["model"], case["window"]
    # The notebooks scale the whole array before the k-fold loop and reshape it
    # for the model (reshape_data_for_gru & co., prepare_mlp_data).
    X_scaled = StandardScaler().fit_transform(X)
    if get_model_entry(name).input_layout == "sequence":
        X_scaled = X_scaled.reshape(len(X_scaled), days, STEPS_PER_DAY)
    dataset = TensorDataset(torch.FloatTensor(X_scaled), torch.LongTensor(y))
    del X_scaled
    train_loader = DataLoader(Subset(dataset, rows["train_rows"].tolist()), batch_size=32, shuffle=True)
    val_loader = DataLoader(Subset(dataset, rows["val_rows"].tolist()), batch_size=32, shuffle=False)

    torch.manual_seed(case["seed"])
    model = create_model(name, days).to(device)
    if hasattr(model, "set_recurrent_impl"):
        model.set_recurrent_impl("plain")  # the recurrent network as the notebooks ran it (nn kernels)
    counts = np.bincount(y[rows["train_rows"]], minlength=2)
    weight = torch.tensor(compute_class_weights(counts, method="sqrt"), dtype=torch.float32)
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight.to(device))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    if name == "transformer":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=case["epochs"])
    else:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", patience=10, factor=0.1)

    best_f1, best_state = -1.0, None
    for epoch in range(case["epochs"]):
        start, start_cpu = time.perf_counter(), time.process_time()
        notebook_run_epoch(model, train_loader, device, loss_fn, optimizer)
        mid, mid_cpu = time.perf_counter(), time.process_time()
        val = notebook_run_epoch(model, val_loader, device, loss_fn)
        end_eval, end_eval_cpu = time.perf_counter(), time.process_time()
        if val["f1"] > best_f1:
            best_f1, best_state = val["f1"], copy.deepcopy(model.state_dict())
        if name == "transformer":
            scheduler.step()
        else:
            scheduler.step(val["loss"])
        end, end_cpu = time.perf_counter(), time.process_time()
        timings["epochs"].append({"train_s": mid - start, "eval_s": end_eval - mid, "epoch_s": end - start,
                                  "train_cpu": mid_cpu - start_cpu, "eval_cpu": end_eval_cpu - mid_cpu,
                                  "epoch_cpu": end_cpu - start_cpu})
    model.load_state_dict(best_state)
    return {"val_f1": float(best_f1)}


# --------------------------------------------------------------------------- (b) seismag engine
def run_engine_case(case: dict, X: np.ndarray, y: np.ndarray, rows: dict, timings: dict) -> dict:
    import dataclasses

    import torch

    from seismag import models as registry
    from seismag.config import FIELD_NAMES, make_config
    from seismag import runtime
    from seismag.training import fold as engine  # the fold trainer; its run_epoch is timed below
    from seismag.training import splits
    from seismag.training.tensors import WindowTensors

    device = torch.device("cpu")
    name, days = case["model"], case["window"]
    tensors = WindowTensors(torch.from_numpy(X), torch.from_numpy(y), days, STEPS_PER_DAY)
    overrides = dict(epochs=case["epochs"], precision=case["precision"])
    # The notebooks choose the epoch on the validation rows; compare like with like.
    if "selection" in FIELD_NAMES:
        overrides["selection"] = "outer"
    for key, value in case.get("engine_options", {}).items():
        if key in FIELD_NAMES:
            overrides[key] = value
    config = make_config("paper", **overrides)
    entry = registry.get_model_entry(name)
    fields = {f.name for f in dataclasses.fields(entry.config_cls)}
    model_config = registry.model_config(name, days, STEPS_PER_DAY, **config.overrides_for(name, fields))
    for key, value in case.get("module_switches", {}).items():  # temporary switches under measurement
        module_name, attribute = key.rsplit(".", 1)
        setattr(importlib.import_module(module_name), attribute, value)

    timings["process"] = runtime.configure_process(config)  # what seismag's pipeline does before the first fold

    # Time every pass through the engine's run_epoch; on_epoch closes an epoch.
    original = engine.run_epoch
    zero = {"train_s": 0.0, "eval_s": 0.0, "train_cpu": 0.0, "eval_cpu": 0.0}
    current = {**zero, "start": None, "start_cpu": None}

    def timed_run_epoch(*args, **kwargs):
        start, start_cpu = time.perf_counter(), time.process_time()
        if current["start"] is None:
            current.update(start=start, start_cpu=start_cpu)
        result = original(*args, **kwargs)
        kind = "train" if kwargs.get("optimizer") is not None else "eval"
        current[kind + "_s"] += time.perf_counter() - start
        current[kind + "_cpu"] += time.process_time() - start_cpu
        return result

    def on_epoch(record):
        end, end_cpu = time.perf_counter(), time.process_time()
        timings["epochs"].append({**{k: current[k] for k in zero}, "epoch_s": end - current["start"],
                                  "epoch_cpu": end_cpu - current["start_cpu"]})
        current.update(zero, start=end, start_cpu=end_cpu)

    engine.run_epoch = timed_run_epoch
    try:
        fold_rows = splits.fold_rows(rows["train_rows"], rows["val_rows"], tensors.labels.cpu().numpy(), config,
                                     case["seed"])
        result = engine.train_fold(name, model_config, tensors, fold_rows, config, fold=1, seed=case["seed"],
                                   device=device, precision=case["precision"], on_epoch=on_epoch)
    finally:
        engine.run_epoch = original
    # The fold's epoch is chosen on the epoch-closing callback; anything after the
    # last callback (reload of the best state, one scoring pass over the training
    # rows) happens once per fold.
    return {"val_f1": float(result.metrics["f1"])}


# --------------------------------------------------------------------------- one case (child)
def run_case(case: dict) -> dict:
    import torch

    if case.get("threads"):
        torch.set_num_threads(int(case["threads"]))
    # Everything either loop imports, before the baseline RSS is read. That includes
    # torch._dynamo: the first torch.optim optimizer of a process imports it (with
    # sympy and mpmath, about 100 MiB of modules) from Optimizer.add_param_group.
    import sklearn.metrics, sklearn.preprocessing, torch.utils.data  # noqa: E401,F401
    import seismag.training.fold, seismag.training.kfold  # noqa: E401,F401
    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
    rss_start_kib = vm_kib("VmRSS")
    x_path, y_path = case["x_path"], case["y_path"]
    X = np.load(x_path)
    y = np.load(y_path)
    rows = fold_rows(y, case["quick"], case["seed"])
    timings = {"epochs": []}
    wall = time.perf_counter()
    runner = run_notebook_case if case["impl"] == "notebook" else run_engine_case
    out = runner(case, X, y, rows, timings)
    wall = time.perf_counter() - wall

    from seismag.models import create_model

    model = create_model(case["model"], case["window"])
    steady = timings["epochs"][1:] or timings["epochs"]  # skip the warm-up epoch
    n_fit, n_val = len(rows["train_rows"]), len(rows["val_rows"])
    mean = {key: float(np.mean([e[key] for e in steady])) for key in steady[0]}
    train_s, eval_s, epoch_s = mean["train_s"], mean["eval_s"], mean["epoch_s"]
    other_s = max(epoch_s - train_s - eval_s, 0.0)
    other_cpu = max(mean["epoch_cpu"] - mean["train_cpu"] - mean["eval_cpu"], 0.0)
    # Projected to the full fold: passes scale with their rows, bookkeeping does not.
    full_epoch_s = (train_s * rows["n_fit_full"] / n_fit + eval_s * rows["n_val_full"] / n_val + other_s)
    full_epoch_cpu = (mean["train_cpu"] * rows["n_fit_full"] / n_fit + mean["eval_cpu"] * rows["n_val_full"] / n_val
                      + other_cpu)
    return {**{k: case[k] for k in ("impl", "label", "model", "window", "precision")},
            **out,
            "n_fit": n_fit, "n_val": n_val, "n_fit_full": rows["n_fit_full"], "n_val_full": rows["n_val_full"],
            "epochs": len(timings["epochs"]), "epoch_timings": timings["epochs"],
            "train_samples_per_s": n_fit / train_s, "eval_samples_per_s": n_val / eval_s,
            "train_s": train_s, "eval_s": eval_s, "other_s": other_s, "measured_epoch_s": epoch_s,
            "full_epoch_s": full_epoch_s, "case_wall_s": wall,
            "train_cpu": mean["train_cpu"], "eval_cpu": mean["eval_cpu"], "other_cpu": other_cpu,
            "full_epoch_cpu": full_epoch_cpu, "train_samples_per_cpu_s": n_fit / mean["train_cpu"],
            "rss_start_mib": rss_start_kib / 1024, "peak_rss_mib": vm_kib("VmHWM") / 1024,
            "data_mib": X.nbytes / 2**20,
            "model_mib": sum(p.numel() * p.element_size() for p in model.parameters()) / 2**20,
            "threads": torch.get_num_threads(), "process_settings": timings.get("process"),
            "load_after": load_average()}


# --------------------------------------------------------------------------- parent
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_EPOCHS} epochs of {QUICK_FIT_ROWS} training / {QUICK_VAL_ROWS} validation "
                             "rows per case, projected to full folds")
    parser.add_argument("--models", default=",".join(ALL_MODELS))
    parser.add_argument("--windows", default=",".join(map(str, ALL_WINDOWS)))
    parser.add_argument("--precision", default="fp32",
                        help="engine precision(s): fp32, bf16 or a comma list (one engine column each)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per case (first is warm-up); default 3 (quick) or 3 over full folds")
    parser.add_argument("--threads", type=int, default=None, help="torch threads in each case (default: torch's)")
    parser.add_argument("--engine-options", default="",
                        help="extra RunConfig fields for the engine, e.g. 'fused_optimizer=true' (JSON values)")
    parser.add_argument("--switch", action="append", default=[],
                        help="LABEL:KEY=JSON[,KEY=JSON]: an extra engine variant; KEY is precision, a "
                             "RunConfig field (recurrent_impl=library) or a module-level switch module.attr "
                             "(for measuring fast paths)")
    parser.add_argument("--no-notebook", action="store_true", help="skip the notebook-style baseline")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json-out", default=None)
    parser.add_argument("--report", default=None, metavar="JSON", help="print the table of a saved --json-out file")
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)  # internal: run one case
    return parser.parse_args(argv)


def parse_options(text: str) -> dict:
    options = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, value = item.split("=", 1)
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def variants(args) -> list[dict]:
    out = [] if args.no_notebook else [{"impl": "notebook", "label": "notebook", "precision": "fp32"}]
    engine_options = parse_options(args.engine_options)
    for precision in args.precision.split(","):
        out.append({"impl": "engine", "label": f"engine-{precision}", "precision": precision,
                    "engine_options": engine_options})
    for spec in args.switch:
        label, _, assignments = spec.partition(":")
        options = parse_options(assignments)
        precision = options.pop("precision", "fp32")
        # module.attr keys are module switches; plain keys are RunConfig fields of this variant
        fields = {k: v for k, v in options.items() if "." not in k}
        switches = {k: v for k, v in options.items() if "." in k}
        out.append({"impl": "engine", "label": label, "precision": precision,
                    "engine_options": {**engine_options, **fields}, "module_switches": switches})
    return out


def spawn(case: dict, script: str = __file__) -> dict:
    """Run one case as ``script --case JSON`` in a fresh process; its last stdout line is the result."""
    env = dict(os.environ)
    process = subprocess.run([sys.executable, str(Path(script).resolve()), "--case", json.dumps(case)],
                             capture_output=True, text=True, env=env)
    if process.returncode != 0:
        raise RuntimeError(f"case {case['label']} {case['model']} {case['window']}d failed:\n{process.stderr[-4000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def case_flops(r: dict) -> float:
    """FLOPs of one full-fold epoch of a case: training on its fit rows, a forward pass on its validation rows."""
    return r["train_flops_per_sample"] * r["n_fit_full"] + 2 * forward_macs(r["model"], r["window"])[0] * r["n_val_full"]


def fmt_hms(seconds: float) -> str:
    hours, rest = divmod(int(round(seconds)), 3600)
    return f"{hours}h{rest // 60:02d}m"


def memory_budget(r: dict) -> float:
    """MiB a case may use beyond the libraries: twice the window's float32 data plus the
    model's training state (weights, gradients, AdamW's two moments, the best epoch's copy)."""
    return 2 * r["data_mib"] + 5 * r["model_mib"]


def report(results: list[dict], peaks: dict, labels: list[str], machine: dict, load: dict, threads) -> str:
    lines = [f"machine: {machine.get('cpu', '?')}, {machine['cpus']} CPUs, {machine.get('memory_gib', '?')} GiB, "
             f"bf16 flags {machine.get('bf16_flags')}, torch {machine['torch']}, "
             f"{threads or machine['torch_threads']} torch thread(s) per case",
             f"matmul peak per CPU second (4096^3, best of 3, {threads or machine['torch_threads']} thread(s)): fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} "
             f"GFLOP/s (bf16/fp32 {peaks['bf16'] / peaks['fp32']:.2f}x)",
             f"load average (1/5/15 min) before {load['before']} after {load['after']}", ""]
    base = labels[0]
    head = (f"{'model':<12}{'win':>4} {'variant':<16}{'train/s':>8}{'s/ep':>8}{'x':>6}"
            f"{'cpu/s':>8}{'cpu-s/ep':>9}{'x':>6}{'peakMiB':>8}{'xd+m':>6}{'/bud':>6}{'valF1':>6}{'%fp32':>6}{'%bf16':>6}")
    lines += [head, "-" * len(head)]
    by_key = {(r["model"], r["window"], r["label"]): r for r in results}
    for model in dict.fromkeys(r["model"] for r in results):
        for window in dict.fromkeys(r["window"] for r in results if r["model"] == model):
            reference = by_key.get((model, window, base))
            for label in labels:
                r = by_key.get((model, window, label))
                if r is None:
                    continue
                wall_x = reference["full_epoch_s"] / r["full_epoch_s"] if reference else float("nan")
                cpu_x = reference["full_epoch_cpu"] / r["full_epoch_cpu"] if reference else float("nan")
                extra = r["peak_rss_mib"] - r["rss_start_mib"]
                gflops = r["train_flops_per_sample"] * r["train_samples_per_cpu_s"] / 1e9
                lines.append(f"{model:<12}{window:>4} {label:<16}{r['train_samples_per_s']:>8.1f}"
                             f"{r['full_epoch_s']:>8.2f}{wall_x:>5.2f}x{r['train_samples_per_cpu_s']:>8.1f}"
                             f"{r['full_epoch_cpu']:>9.2f}{cpu_x:>5.2f}x{r['peak_rss_mib']:>8.0f}"
                             f"{extra / (r['data_mib'] + r['model_mib']):>6.2f}{extra / memory_budget(r):>6.2f}"
                             f"{r['val_f1']:>6.3f}"
                             f"{gflops / peaks['fp32'] * 100:>5.0f}%{gflops / peaks['bf16'] * 100:>5.0f}%")
    lines.append("")
    lines.append(f"projected protocol over the cases run ({NUM_FOLDS} folds x {PROTOCOL_EPOCHS} epochs each, "
                 "from fold 1's sizes):")
    totals = {label: (sum(NUM_FOLDS * PROTOCOL_EPOCHS * r["full_epoch_s"] for r in results if r["label"] == label),
                      sum(NUM_FOLDS * PROTOCOL_EPOCHS * r["full_epoch_cpu"] for r in results if r["label"] == label))
              for label in labels}
    for label in labels:
        wall, cpu = totals[label]
        lines.append(f"  {label:<16} wall {fmt_hms(wall):>7} ({totals[base][0] / wall:5.2f}x)   "
                     f"CPU time {fmt_hms(cpu):>7} ({totals[base][1] / cpu:5.2f}x)")
    # The arithmetic floor: every FLOP of the protocol at the matmul peak.
    protocol_flops = sum(NUM_FOLDS * PROTOCOL_EPOCHS * case_flops(r) for r in results if r["label"] == base)
    floors = {dtype: protocol_flops / (peaks[dtype] * 1e9) for dtype in ("fp32", "bf16")}
    lines.append(f"  arithmetic floor ({protocol_flops / 1e15:.2f} PFLOP at the matmul peak): "
                 f"fp32 {fmt_hms(floors['fp32'])}, bf16 {fmt_hms(floors['bf16'])} CPU time; the largest possible "
                 f"speedup over {base} is {totals[base][1] / floors['fp32']:.2f}x (fp32), "
                 f"{totals[base][1] / floors['bf16']:.2f}x (bf16)")
    # The same bound model by model: the most any variant of that model can gain.
    for model in dict.fromkeys(r["model"] for r in results if r["label"] == base):
        cpu = {label: sum(r["full_epoch_cpu"] for r in results if r["label"] == label and r["model"] == model)
               for label in labels}
        flops = sum(case_flops(r) for r in results if r["label"] == base and r["model"] == model)
        speedups = "   ".join(f"{label} {cpu[base] / cpu[label]:.2f}x" for label in labels[1:])
        lines.append(f"  {model:<12} {speedups}   largest possible (bf16 floor) "
                     f"{cpu[base] / (flops / (peaks['bf16'] * 1e9)):.2f}x")
    lines += ["",
              "train/s, cpu/s: training samples per wall second / per CPU second of this process (steady-state",
              "  epochs, training pass only); s/ep, cpu-s/ep: wall / CPU seconds of one full-fold epoch (training +",
              "  validation pass + per-epoch bookkeeping; projected from the subset with --quick);",
              "x: the first variant's time over this one's (speedup);",
              "xd+m: (peak RSS - RSS before loading data) / (window's float32 data + model parameters);",
              "/bud: the same extra over the budget 2 x data + the model's training state (5 x parameters:",
              "  weights, gradients, AdamW's two moments, the best epoch's copy); at most 1 meets the target;",
              "%fp32 / %bf16: training FLOP per CPU second as a share of the matmul FLOP per CPU second",
              "  measured with the cases' thread count (with --threads 1: one core's peak).",
              "On a loaded machine wall time depends on what else runs; CPU time with --threads 1 is the",
              "  load-robust measure (it is what the run would take on one idle core)."]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))))
        return 0
    if args.report:
        saved = json.loads(Path(args.report).read_text())
        threads = saved["results"][0]["threads"] if saved["results"] else None
        print(report(saved["results"], saved["matmul_peak_gflops"], [v["label"] for v in saved["variants"]],
                     saved["machine"], saved["load"], threads))
        return 0
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    windows = [int(w) for w in args.windows.split(",") if w.strip()]
    epochs = args.epochs or QUICK_EPOCHS
    machine = machine_description()
    load = {"before": load_average()}
    peaks = {"fp32": matmul_peak("fp32"), "bf16": matmul_peak("bf16")}
    print(f"matmul peak: fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} GFLOP/s; load {load['before']}",
          flush=True)
    specs = variants(args)
    results = []
    for window in windows:
        x_path, y_path = ensure_data(window, args.seed)
        for model in models:
            flops = train_flops(model, window)
            for spec in specs:  # interleaved, so a change in load hits every variant alike
                case = {**spec, "model": model, "window": window, "epochs": epochs, "quick": args.quick,
                        "seed": args.seed, "threads": args.threads, "x_path": str(x_path), "y_path": str(y_path)}
                r = spawn(case)
                r["train_flops_per_sample"] = flops
                r["train_gflops"] = flops * r["train_samples_per_s"] / 1e9
                results.append(r)
                print(f"  {model:<12}{window:>3}d {spec['label']:<16} {r['train_samples_per_s']:8.1f} samples/s  "
                      f"{r['full_epoch_s']:7.2f} s/epoch  peak {r['peak_rss_mib']:.0f} MiB  "
                      f"valF1 {r['val_f1']:.3f}  load {r['load_after']}", flush=True)
    load["after"] = load_average()
    labels = [s["label"] for s in specs]
    text = report(results, peaks, labels, machine, load, args.threads)
    print("\n" + text)
    if args.json_out:
        payload = {"machine": machine, "load": load, "matmul_peak_gflops": peaks, "quick": args.quick,
                   "epochs": epochs, "variants": specs, "results": results}
        Path(args.json_out).write_text(json.dumps(payload, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
