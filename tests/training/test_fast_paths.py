"""Fast paths of the training engine: same results as the plain paths, and each can be switched off.

Timings live in benchmarks/bench_training.py; these tests check correctness only.
"""
import dataclasses
import platform

import numpy as np
import pytest
import torch

from seismag.synth.windows import generate_window
from seismag.errors import ConfigError
from seismag.models import create_model, get_model_entry, list_models, model_config, recurrent, to_model_input
from seismag import runtime
from seismag.training import fold, loop, tensors
from seismag.training.tensors import WindowTensors
from seismag.training.fold import train_fold
from seismag.training.splits import fold_rows, stratified_kfold

from helpers import SPD, tiny_config

CPU = torch.device("cpu")
DAYS = 4


@pytest.fixture(scope="module")
def window():
    X, y, _ = generate_window(DAYS, 40, 24, seed=3, steps_per_day=SPD)
    X = np.nan_to_num(X, nan=float(np.nanmean(X)))
    tensors = WindowTensors(torch.from_numpy(X), torch.from_numpy(y), DAYS, SPD)
    train_rows, val_rows = stratified_kfold(y, 3, seed=0)[0]
    return tensors, train_rows, val_rows


def fit(model, window, config, precision="fp32"):
    tensors, train_rows, val_rows = window
    params = model_config(model, DAYS, SPD, **tiny_overrides(model))
    rows = fold_rows(train_rows, val_rows, tensors.labels.numpy(), config, seed=7)
    return train_fold(model, params, tensors, rows, config, fold=1, seed=7, device=CPU, precision=precision)


# --------------------------------------------------------------------------- optimizer implementation
@pytest.mark.parametrize("impl, fused, foreach", [("loop", None, False), ("foreach", None, True)])
def test_each_optimizer_path_can_be_chosen(impl, fused, foreach):
    config = tiny_config(optimizer_impl=impl)
    optimizer = fold.make_optimizer(torch.nn.Linear(3, 2).parameters(), config, CPU)
    assert optimizer.defaults["foreach"] is foreach and not optimizer.defaults.get("fused")
    assert optimizer.defaults["lr"] == config.learning_rate
    assert optimizer.defaults["weight_decay"] == config.weight_decay


def test_auto_uses_the_fused_kernel_where_there_is_one(monkeypatch):
    config = tiny_config(optimizer_impl="auto")
    optimizer = fold.make_optimizer(torch.nn.Linear(3, 2).parameters(), config, CPU)
    assert bool(optimizer.defaults.get("fused")) == fold.fused_adamw_supported(CPU)
    monkeypatch.setattr(fold, "fused_adamw_supported", lambda device: False)
    plain = fold.make_optimizer(torch.nn.Linear(3, 2).parameters(), config, CPU)
    assert not plain.defaults.get("fused")  # falls back to PyTorch's default


def test_fused_where_unsupported_or_an_unknown_path_is_an_error(monkeypatch):
    monkeypatch.setattr(fold, "fused_adamw_supported", lambda device: False)
    with pytest.raises(ConfigError, match="fused"):
        fold.make_optimizer(torch.nn.Linear(3, 2).parameters(), tiny_config(optimizer_impl="fused"), CPU)
    with pytest.raises(ConfigError, match="optimizer_impl"):
        tiny_config(optimizer_impl="adam9")


@pytest.mark.skipif(not fold.fused_adamw_supported(CPU), reason="no fused AdamW for CPU in this PyTorch")
@pytest.mark.parametrize("model", ["gru", "mlp"])
def test_fused_optimizer_trains_the_fold_the_loop_trains(window, model):
    results = {impl: fit(model, window, tiny_config(optimizer_impl=impl, epochs=3))
               for impl in ("loop", "fused")}
    loop, fused = results["loop"], results["fused"]
    # Same seed, same batches, same dropout masks: only floating-point reordering differs.
    np.testing.assert_allclose(fused.val_probs, loop.val_probs, atol=1e-4)
    assert [h["train_loss"] for h in fused.history] == pytest.approx([h["train_loss"] for h in loop.history], abs=1e-4)
    for a, b in zip(fused.model.state_dict().values(), loop.model.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


# --------------------------------------------------------------------------- precision
@pytest.mark.parametrize("model", list_models())
def test_bf16_forward_gives_valid_probabilities_close_to_fp32(model):
    torch.manual_seed(0)
    net = create_model(model, DAYS, SPD, **tiny_overrides(model)).eval()
    x = to_model_input(net, torch.randn(16, get_model_entry(model).input_width(DAYS, SPD)), DAYS, SPD)
    with torch.no_grad():
        fp32 = torch.softmax(net(x).float(), dim=1)[:, 1]
        with runtime.autocast_context(CPU, "bf16"):
            bf16_logits = net(x)
        bf16 = torch.softmax(bf16_logits.float(), dim=1)[:, 1]
    assert torch.isfinite(bf16).all() and ((bf16 >= 0) & (bf16 <= 1)).all()
    assert (bf16 - fp32).abs().max() < 0.05


def test_bf16_training_gives_valid_probabilities_close_to_fp32(window):
    config = tiny_config(epochs=3)
    fp32, bf16 = fit("gru", window, config, "fp32"), fit("gru", window, config, "bf16")
    assert np.isfinite(bf16.val_probs).all() and ((bf16.val_probs >= 0) & (bf16.val_probs <= 1)).all()
    assert np.abs(bf16.val_probs - fp32.val_probs).mean() < 0.05
    assert abs(bf16.metrics["f1"] - fp32.metrics["f1"]) <= 0.1


def test_fp32_switches_mixed_precision_off():
    with runtime.autocast_context(CPU, "fp32"):
        assert not torch.is_autocast_enabled("cpu")
    with runtime.autocast_context(CPU, "bf16"):
        assert torch.is_autocast_enabled("cpu")


# --------------------------------------------------------------------------- threads
def test_thread_setting_zero_leaves_pytorch_alone_and_n_sets_n():
    before = torch.get_num_threads()
    try:
        assert runtime.configure_threads(0) == before
        assert runtime.configure_threads(1) == 1 == torch.get_num_threads()
    finally:
        torch.set_num_threads(before)


def tiny_overrides(model):
    overrides = tiny_config().overrides_for(model)
    fields = {f.name for f in dataclasses.fields(type(model_config(model, DAYS, SPD)))}
    return {k: v for k, v in overrides.items() if k in fields}


# --------------------------------------------------------------------------- process settings
def test_process_settings_can_be_switched_off(monkeypatch):
    calls = []
    monkeypatch.setattr(runtime, "keep_freed_memory", lambda: calls.append("mallopt") or True)
    monkeypatch.setattr(runtime, "configure_threads", lambda n: calls.append(("threads", n)) or 1)
    off = dict(num_threads=0, keep_freed_memory=False)
    config = tiny_config(**off)
    assert runtime.configure_process(config) == {"num_threads": 1, "keep_freed_memory": False}
    assert calls == [("threads", 0)]  # 0 threads: PyTorch's own choice is left alone
    calls.clear()
    config = tiny_config(num_threads=1, keep_freed_memory=True)
    assert runtime.configure_process(config) == {"num_threads": 1, "keep_freed_memory": True}
    assert calls == [("threads", 1), "mallopt"]


def test_tf32_is_set_for_cuda_runs_only_and_can_be_switched_off(monkeypatch):
    monkeypatch.setattr(runtime, "keep_freed_memory", lambda: False)
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cuda.matmul.allow_tf32 = False
        assert "tf32" not in runtime.configure_process(tiny_config(tf32=True), CPU)
        assert torch.backends.cuda.matmul.allow_tf32 is False  # CPU runs leave the flags alone
        cuda = torch.device("cuda", 0)
        assert runtime.configure_process(tiny_config(tf32=True), cuda)["tf32"] is True
        assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
        assert runtime.configure_process(tiny_config(tf32=False), cuda)["tf32"] is False
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt settings are glibc's")
def test_keeping_freed_memory_takes_effect_with_glibc():
    assert runtime.keep_freed_memory()
    buffer = torch.ones(64 * 2**20 // 4)  # a block glibc would otherwise have mmapped
    assert buffer.sum() == buffer.numel()


# --------------------------------------------------------------------------- memory
@pytest.mark.parametrize("kind", ["standard", "sample", "none"])
def test_in_place_scaling_equals_scaling_a_copy(kind):
    features = torch.randn(40, 12) * 50 + 3
    original = features.clone()
    scaler = tensors.Scaler.fit(kind, features, np.arange(30))
    batch = features[torch.tensor([1, 5, 7])]
    expected = scaler.apply(batch.clone())
    scaled = scaler.apply(batch, inplace=True)
    torch.testing.assert_close(scaled, expected)
    if kind != "none":
        assert scaled.data_ptr() == batch.data_ptr()  # no new buffer for the scaled batch
    assert torch.equal(features, original)  # the gathered batch was a copy: the window is untouched


def test_scaler_statistics_do_not_depend_on_the_chunk_size(monkeypatch):
    features = torch.randn(500, 64, dtype=torch.float32) * 1000 + 5000
    rows = np.arange(0, 500, 2)
    whole = tensors.Scaler.fit("standard", features, rows)
    monkeypatch.setattr(tensors, "SCALER_CHUNK_BYTES", 8 * 64 * 7)  # 7 rows a chunk
    chunked = tensors.Scaler.fit("standard", features, rows)
    torch.testing.assert_close(chunked.mean, whole.mean)
    torch.testing.assert_close(chunked.std, whole.std)
    torch.testing.assert_close(whole.mean, features[rows].double().mean(0).float())


def test_evaluation_batches_are_bounded_by_bytes():
    assert loop.eval_batch_size(32, torch.empty(0, 7 * 1440)) == loop.EVAL_BATCH_SIZE  # 40 KB rows
    rows_30 = loop.eval_batch_size(32, torch.empty(0, 30 * 1440))
    assert rows_30 * 30 * 1440 * 4 <= loop.EVAL_BATCH_BYTES < (rows_30 + 1) * 30 * 1440 * 4
    assert loop.eval_batch_size(64, torch.empty(0, 10**7)) == 64  # never below the training batch


def test_the_best_state_is_overwritten_in_place_and_stays_a_copy():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    kept = fold.keep_state(model, None)
    pointers = {k: v.data_ptr() for k, v in kept.items()}
    with torch.no_grad():
        model[0].weight.add_(1.0)
    assert not torch.equal(kept["0.weight"], model[0].weight)  # a copy, not the live weights
    again = fold.keep_state(model, kept)
    assert again is kept and {k: v.data_ptr() for k, v in again.items()} == pointers
    for key, value in model.state_dict().items():
        assert torch.equal(again[key], value)


# --------------------------------------------------------------------------- cached fixed features
@pytest.mark.parametrize("model", ["features", "minirocket"])
def test_cached_features_train_the_fold_the_per_batch_transform_trains(window, model, monkeypatch):
    calls = []
    real_features = fold.cached_features
    monkeypatch.setattr(fold, "cached_features", lambda *a: calls.append(1) or real_features(*a))
    cached = fit(model, window, tiny_config(epochs=3, cache_features=True))
    assert calls == [1]  # once per fold
    plain = fit(model, window, tiny_config(epochs=3, cache_features=False))
    assert calls == [1]  # switched off: never
    np.testing.assert_allclose(cached.val_probs, plain.val_probs, atol=1e-5)
    np.testing.assert_allclose(cached.train_probs, plain.train_probs, atol=1e-5)
    assert [h["train_loss"] for h in cached.history] == pytest.approx([h["train_loss"] for h in plain.history],
                                                                       abs=1e-5)
    # the fold's model and scaler still take raw windows: they reproduce the kept validation probabilities
    tensors, _, val_rows = window
    x = cached.scaler.apply(tensors.features[torch.as_tensor(cached.val_rows)])
    with torch.no_grad():
        probs = torch.softmax(cached.model(to_model_input(cached.model, x, DAYS, SPD)), dim=1)[:, 1]
    np.testing.assert_allclose(probs.numpy(), cached.val_probs, atol=1e-5)
    assert cached.scaler.kind == "standard"


# --------------------------------------------------------------------------- recurrent implementation

def recurrent_net(cell, bidirectional=False, **options):
    torch.manual_seed(0)
    return create_model(cell, 3, 20, hidden_sizes=[12, 6], bidirectional=bidirectional, **options)


@pytest.mark.parametrize("cell, options", [("lstm", {}), ("gru", {}), ("rnn", {}),
                                           ("rnn", {"nonlinearity": "relu"})])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_unrolled_layers_compute_what_the_library_computes(cell, options, bidirectional):
    net = recurrent_net(cell, bidirectional, **options).train()
    x = torch.randn(5, 3, 20)
    outputs, grads = {}, {}
    for impl in ("library", "unrolled"):
        net.set_recurrent_impl(impl)
        net.zero_grad(set_to_none=True)
        torch.manual_seed(1)  # the same dropout masks
        logits = net(x)
        (logits * torch.arange(1.0, 3.0)).sum().backward()
        outputs[impl] = logits.detach()
        grads[impl] = {name: p.grad.clone() for name, p in net.named_parameters()}
    torch.testing.assert_close(outputs["unrolled"], outputs["library"], atol=1e-5, rtol=1e-5)
    assert grads["unrolled"].keys() == grads["library"].keys()
    for name, grad in grads["library"].items():
        torch.testing.assert_close(grads["unrolled"][name], grad, atol=1e-5, rtol=1e-4, msg=name)
    # One layer's output sequence, every step (not only the last the head reads).
    layer = net.recurrent_layers[0]
    torch.testing.assert_close(recurrent.unrolled_layer(layer, x), layer(x)[0], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_unrolled_layers_under_bf16_autocast_match_the_library(cell):
    net = recurrent_net(cell).eval()
    x = torch.randn(8, 3, 20)
    out = {}
    with torch.no_grad(), runtime.autocast_context(CPU, "bf16"):
        for impl in ("library", "unrolled"):
            net.set_recurrent_impl(impl)
            out[impl] = net(x).float()
    assert (out["unrolled"] - out["library"]).abs().max() < 0.05


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_unrolled_layers_run_a_model_cast_to_bf16(cell):
    net = recurrent_net(cell).eval().to(torch.bfloat16)
    x = torch.randn(4, 3, 20, dtype=torch.bfloat16)
    with torch.no_grad():
        net.set_recurrent_impl("library")
        library = net(x)
        net.set_recurrent_impl("unrolled")
        unrolled = net(x)
    assert unrolled.dtype == library.dtype == torch.bfloat16
    assert (unrolled.float() - library.float()).abs().max() < 0.05


def test_auto_unrolls_the_lstm_on_the_cpu_only_when_training():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert recurrent.uses_unrolled("auto", "lstm", cpu, grad=True)
    assert not recurrent.uses_unrolled("auto", "lstm", cpu, grad=False)  # oneDNN's forward is faster
    assert not recurrent.uses_unrolled("auto", "gru", cpu, True) and not recurrent.uses_unrolled("auto", "rnn", cpu, True)
    assert not recurrent.uses_unrolled("auto", "lstm", cuda, True)  # cuDNN's fused kernel stays
    for impl in ("plain", "library"):
        assert not recurrent.uses_unrolled(impl, "lstm", cpu, True)
    assert recurrent.uses_unrolled("unrolled", "gru", cuda, False)


@pytest.mark.parametrize("impl, grad, library_calls", [("plain", True, 2), ("library", True, 2),
                                                      ("unrolled", True, 0), ("unrolled", False, 0),
                                                      ("auto", True, 0), ("auto", False, 2)])
def test_recurrent_impl_decides_which_path_runs(monkeypatch, impl, grad, library_calls):
    calls = []
    original = torch.nn.LSTM.forward
    monkeypatch.setattr(torch.nn.LSTM, "forward", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    net = recurrent_net("lstm").train()
    net.set_recurrent_impl(impl)
    with torch.set_grad_enabled(grad):
        net(torch.randn(2, 3, 20))
    assert len(calls) == library_calls  # two layers


def test_an_unknown_recurrent_impl_is_refused():
    from seismag.config import RECURRENT_IMPLS

    for impl in RECURRENT_IMPLS:  # the model interprets every name the configuration allows
        recurrent_net("gru").set_recurrent_impl(impl)
    with pytest.raises(ConfigError, match="recurrent_impl must be one of auto, plain, library, unrolled, got 'fast'"):
        recurrent_net("gru").set_recurrent_impl("fast")
    with pytest.raises(ConfigError, match="recurrent_impl: unknown value 'fast'"):
        tiny_config(recurrent_impl="fast")


def test_the_fold_trainer_runs_the_configured_path_and_both_train_the_same_fold(window):
    results = {impl: fit("lstm", window, tiny_config(recurrent_impl=impl, epochs=3))
               for impl in ("library", "unrolled")}
    library, unrolled = results["library"], results["unrolled"]
    assert library.model.recurrent_impl == "library" and unrolled.model.recurrent_impl == "unrolled"
    # Same seed, batches and dropout masks: only floating-point reordering differs.
    np.testing.assert_allclose(unrolled.val_probs, library.val_probs, atol=1e-4)
    assert [h["train_loss"] for h in unrolled.history] == pytest.approx(
        [h["train_loss"] for h in library.history], abs=1e-4)
    # The same parameters under the same names: checkpoints serve either path.
    assert unrolled.model.state_dict().keys() == library.model.state_dict().keys()


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_batch_norm_of_the_flattened_sequence_is_batch_norm_over_batch_and_time(cell):
    # 'library' normalises (batch * time, channels) rows; 'plain', the network as first
    # written, BatchNorm1d of a transposed (batch, channels, time) view and dropout of
    # that view. Same outputs, gradients and running statistics, dropout masks included.
    x = torch.randn(6, 3, 20)
    results = {}
    for impl in ("plain", "library"):
        net = recurrent_net(cell).train()
        net.set_recurrent_impl(impl)
        torch.manual_seed(1)
        logits = net(x)
        (logits * torch.arange(1.0, 3.0)).sum().backward()
        results[impl] = (logits.detach(), {n: p.grad for n, p in net.named_parameters()},
                         {n: b.clone() for n, b in net.named_buffers()})
    (out, grads, buffers), (out_ref, grads_ref, buffers_ref) = results["library"], results["plain"]
    torch.testing.assert_close(out, out_ref)
    for name in grads_ref:
        torch.testing.assert_close(grads[name], grads_ref[name], msg=name)
    for name in buffers_ref:  # running mean and variance (unbiased over batch x time), batches tracked
        torch.testing.assert_close(buffers[name], buffers_ref[name], msg=name)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_the_fast_recurrent_paths_train_the_fold_the_plain_path_trains(window, cell):
    tensors, train_rows, val_rows = window
    params = model_config(cell, DAYS, SPD, **tiny_overrides(cell))
    assert params.dropout_prob > 0  # the same masks, not merely no masks
    configs = {impl: tiny_config(recurrent_impl=impl, epochs=3) for impl in ("plain", "auto")}
    results = {impl: train_fold(cell, params, tensors, fold_rows(train_rows, val_rows, tensors.labels.numpy(), config, 7),
                                config, fold=1, seed=7, device=CPU)
               for impl, config in configs.items()}
    np.testing.assert_allclose(results["auto"].val_probs, results["plain"].val_probs, atol=1e-4)
    assert results["auto"].best_epoch == results["plain"].best_epoch


@pytest.mark.parametrize("p", [0.3, 0.0, 1.0])
def test_dropout_draws_the_masks_of_the_plain_networks_transposed_view(p):
    x = torch.randn(4, 3, 6)
    dropout = torch.nn.Dropout(p).train()
    torch.manual_seed(5)
    plain = dropout(x.transpose(1, 2).contiguous().transpose(1, 2))  # the plain network's view
    torch.manual_seed(5)
    assert torch.equal(recurrent.dropout_as_plain(x, dropout), plain)
    assert torch.equal(recurrent.dropout_as_plain(x, dropout.eval()), x)
