"""Checkpoints: plain dicts, weights_only-loadable, clear errors for bad files."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from seismag.errors import CheckpointError
from seismag.models import (
    F1WeightedEnsemble,
    get_model_entry,
    RecurrentNetwork,
    list_models,
    load_model_checkpoint,
    save_model_checkpoint,
    to_model_input,
)
from seismag.models.checkpoint import to_plain
from seismag.spec.classifiers import GRUClassifier

WINDOW_DAYS, STEPS_PER_DAY = 3, 32
ALL_MODELS = list_models()


def _outputs(model, flat_batch):
    model.eval()
    with torch.no_grad():
        return model(to_model_input(model, flat_batch, WINDOW_DAYS, STEPS_PER_DAY))


@pytest.mark.parametrize("name", ALL_MODELS)
def test_round_trip_gives_identical_outputs(name, make_model, flat_batch, tmp_path):
    model = make_model(name)
    # Move BatchNorm running statistics away from their initial values so the
    # round trip must carry buffers as well as parameters.
    model.train()(to_model_input(model, flat_batch, WINDOW_DAYS, STEPS_PER_DAY))
    expected = _outputs(model, flat_batch)
    path = save_model_checkpoint(model, tmp_path / "sub" / f"{name}.pth")

    loaded, checkpoint = load_model_checkpoint(path)
    assert type(loaded) is type(model)
    assert loaded.config == model.config
    assert not loaded.training
    assert torch.equal(_outputs(loaded, flat_batch), expected)
    assert checkpoint["model_name"] == name
    # Nothing but the checkpoint is left in the folder (atomic write).
    assert [p.name for p in path.parent.iterdir()] == [f"{name}.pth"]


@pytest.mark.parametrize("name", [name for name in ALL_MODELS if not get_model_entry(name).fitted_head])
def test_checkpoint_is_a_plain_dict_loadable_with_weights_only(name, make_model, flat_batch, tmp_path):
    model = make_model(name)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss = model.train()(to_model_input(model, flat_batch, WINDOW_DAYS, STEPS_PER_DAY)).sum()
    loss.backward()
    optimizer.step()
    extra = {
        "fold_index": 2,
        "scaler_mean": np.arange(4, dtype=np.float32),
        "scaler_std": torch.ones(4),
        "data_dir": Path("/data/window-7"),
        "threshold": np.float64(0.5),
    }
    path = tmp_path / "model.pth"
    metrics = {"f1": np.float64(0.87), "accuracy": 0.9}
    model.save_checkpoint(path, optimizer=optimizer, epoch=np.int64(12), metrics=metrics, extra=extra)

    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert raw["format"] == "seismag-checkpoint" and raw["format_version"] == 1
    assert isinstance(raw["seismag_version"], str)
    assert raw["model_name"] == name
    assert raw["model_config"] == model.config.to_dict()
    assert raw["epoch"] == 12
    assert raw["metrics"] == {"f1": 0.87, "accuracy": 0.9} and type(raw["metrics"]["f1"]) is float
    assert type(raw["epoch"]) is int
    assert raw["extra"]["fold_index"] == 2
    assert torch.equal(raw["extra"]["scaler_mean"], torch.arange(4, dtype=torch.float32))
    assert torch.equal(raw["extra"]["scaler_std"], torch.ones(4))
    assert raw["extra"]["data_dir"] == "/data/window-7"
    assert set(raw["state_dict"]) == set(model.state_dict())

    # The optimizer state resumes training of a fresh model.
    loaded, checkpoint = load_model_checkpoint(path, device=torch.device("cpu"))
    fresh_optimizer = torch.optim.AdamW(loaded.parameters(), lr=1e-3)
    fresh_optimizer.load_state_dict(checkpoint["optimizer_state"])
    assert fresh_optimizer.state_dict()["state"][0]["step"] == 1


def test_classmethod_wrappers(make_model, flat_batch, tmp_path):
    gru = make_model("gru")
    gru.save_checkpoint(tmp_path / "gru.pth", epoch=50, metrics={"f1": 0.87, "accuracy": 0.92})
    loaded = GRUClassifier.load_checkpoint(tmp_path / "gru.pth")
    assert isinstance(loaded, GRUClassifier)
    assert torch.equal(_outputs(loaded, flat_batch), _outputs(gru, flat_batch))
    # The network class loads it as itself; the SPEC class as the SPEC class.
    assert type(RecurrentNetwork.load_checkpoint(tmp_path / "gru.pth")) is RecurrentNetwork

    make_model("lstm").save_checkpoint(tmp_path / "lstm.pth")
    with pytest.raises(CheckpointError, match="lstm"):
        GRUClassifier.load_checkpoint(tmp_path / "lstm.pth")


def test_spec_constructor_and_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = GRUClassifier(input_size=16, hidden_sizes=[8, 4], output_size=2, dropout_prob=0.3, use_batch_norm=True)
    model.save_checkpoint(filepath=tmp_path / "model_best.pth", epoch=50, metrics={"f1": 0.87})
    loaded = GRUClassifier.load_checkpoint(str(tmp_path / "model_best.pth"))
    x = torch.randn(2, 5, 16)
    model.eval()
    assert torch.equal(loaded(x), model(x))


def test_data_parallel_wrapper_is_unwrapped(make_model, tmp_path):
    model = make_model("mlp")
    save_model_checkpoint(torch.nn.DataParallel(model), tmp_path / "dp.pth")
    loaded, _ = load_model_checkpoint(tmp_path / "dp.pth")
    assert set(loaded.state_dict()) == set(model.state_dict())  # no "module." prefix


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


class _Foreign:
    pass


def _bad_files(tmp_path: Path, make_model) -> dict[str, Path]:
    good = save_model_checkpoint(make_model("gru"), tmp_path / "good.pth")
    whole = good.read_bytes()
    ensemble = F1WeightedEnsemble([make_model("gru")], [1.0])
    files = {
        "missing": tmp_path / "missing.pth",
        "random bytes": _write_bytes(tmp_path / "random.pth", bytes(range(256)) * 4),
        "empty": _write_bytes(tmp_path / "empty.pth", b""),
        "text": _write_bytes(tmp_path / "notes.pth", b"epoch,f1\n1,0.8\n"),
        "truncated": _write_bytes(tmp_path / "truncated.pth", whole[: len(whole) // 2]),
        "plain pickle": _write_bytes(tmp_path / "pickle.pth", pickle.dumps({"state_dict": {}})),
        "pickled object": tmp_path / "object.pth",
        "foreign dict": tmp_path / "foreign.pth",
        "bare state dict": tmp_path / "state.pth",
        "ensemble": ensemble.save(tmp_path / "ensemble.pth"),
        "newer format": tmp_path / "newer.pth",
        "wrong weights": tmp_path / "wrong.pth",
        "bad config": tmp_path / "config.pth",
    }
    torch.save({"obj": _Foreign()}, files["pickled object"])
    torch.save({"model": "x", "epoch": 3}, files["foreign dict"])
    torch.save(make_model("gru").state_dict(), files["bare state dict"])
    checkpoint = torch.load(good, weights_only=True)
    torch.save({**checkpoint, "format_version": 99}, files["newer format"])
    torch.save({**checkpoint, "state_dict": make_model("gru", hidden_sizes=[4]).state_dict()}, files["wrong weights"])
    torch.save({**checkpoint, "model_config": {**checkpoint["model_config"], "dropout": 0.1}}, files["bad config"])
    return files


def test_bad_files_give_one_line_errors_naming_the_file(make_model, tmp_path):
    for label, path in _bad_files(tmp_path, make_model).items():
        with pytest.raises(CheckpointError) as info:
            load_model_checkpoint(path)
        message = str(info.value)
        assert message.startswith(str(path)), label
        assert "\n" not in message, label
    # The bad-file errors also reach the class-level loader.
    with pytest.raises(CheckpointError):
        GRUClassifier.load_checkpoint(tmp_path / "foreign.pth")
    with pytest.raises(CheckpointError, match="F1WeightedEnsemble.load"):
        load_model_checkpoint(tmp_path / "ensemble.pth")


def test_unstorable_extra_is_rejected(make_model, tmp_path):
    with pytest.raises(TypeError, match="extra\\['scaler'\\]"):
        save_model_checkpoint(make_model("gru"), tmp_path / "x.pth", extra={"scaler": object()})
    assert not (tmp_path / "x.pth").exists()
    assert to_plain({"a": (1, np.float32(2.0)), "b": [np.bool_(True)]}) == {"a": (1, 2.0), "b": [True]}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", ALL_MODELS)
def test_checkpoint_saved_on_gpu_loads_on_cpu(name, make_model, flat_batch, tmp_path):
    model = make_model(name).cuda().eval()
    x = to_model_input(model, flat_batch, WINDOW_DAYS, STEPS_PER_DAY)
    with torch.no_grad():
        expected = model(x.cuda()).cpu()
    path = model.save_checkpoint(tmp_path / "gpu.pth")
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert all(tensor.device.type == "cpu" for tensor in raw["state_dict"].values())
    loaded = type(model).load_checkpoint(path, device="cpu")
    assert next(loaded.parameters()).device.type == "cpu"
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), expected, rtol=1e-4, atol=1e-5)


# --- damage: a checksum over the tensors, and finite weights -------------------------

def _marked(model: torch.nn.Module) -> tuple[torch.nn.Module, bytes]:
    """``model`` with its first parameter set to a distinctive ramp; returns the ramp's bytes,
    so a test can find that tensor's storage inside a saved file."""
    with torch.no_grad():
        first = next(model.parameters())
        first.copy_(torch.arange(first.numel(), dtype=first.dtype).reshape(first.shape) * 0.001 + 7.25)
    return model, first.detach().reshape(-1)[:32].numpy().tobytes()


def _flip_bytes(path: Path, needle: bytes, count: int = 64) -> Path:
    """Invert ``count`` bytes of ``path`` where ``needle`` (inside one tensor's storage) starts."""
    data = bytearray(path.read_bytes())
    start = data.find(needle)
    assert start >= 0 and data.find(needle, start + 1) < 0, "the marked tensor must occur once in the file"
    for offset in range(count):
        data[start + offset] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _one_line_error(load, path: Path, match: str) -> str:
    with pytest.raises(CheckpointError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: damaged:") and "\n" not in message, message
    assert match in message, message
    return message


def test_a_checkpoint_records_a_checksum_and_round_trips(make_model, flat_batch, tmp_path):
    model = make_model("gru")
    path = save_model_checkpoint(model, tmp_path / "gru.pth", extra={"scaler": {"mean": torch.ones(3)}})
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert isinstance(raw["tensor_sha256"], str) and len(raw["tensor_sha256"]) == 64
    loaded, _ = load_model_checkpoint(path)
    assert torch.equal(_outputs(loaded, flat_batch), _outputs(model, flat_batch))


@pytest.mark.parametrize("name", ["mlp", "gru"])
def test_flipped_bytes_inside_a_tensor_are_one_line_error(name, make_model, tmp_path):
    model, needle = _marked(make_model(name))
    path = _flip_bytes(save_model_checkpoint(model, tmp_path / "flipped.pth"), needle)
    _one_line_error(load_model_checkpoint, path, "do not match their checksum")


def test_a_tensor_changed_and_saved_back_is_detected(make_model, tmp_path):
    path = save_model_checkpoint(make_model("mlp"), tmp_path / "edited.pth",
                                 extra={"scaler": {"kind": "standard", "mean": torch.zeros(96), "std": torch.ones(96)}})
    for where in ("weights", "scaler"):
        raw = torch.load(path, map_location="cpu", weights_only=True)
        if where == "weights":
            next(iter(raw["state_dict"].values()))[0] += 1e-3
        else:
            raw["extra"]["scaler"]["std"][5] = 2.0
        torch.save(raw, tmp_path / f"{where}.pth")  # the stored checksum is left as it was
        _one_line_error(load_model_checkpoint, tmp_path / f"{where}.pth", "do not match their checksum")


def test_non_finite_weights_are_one_line_error_naming_the_tensor(make_model, tmp_path):
    model = make_model("mlp")
    name = next(iter(model.state_dict()))
    with torch.no_grad():
        model.state_dict()[name].view(-1)[3] = float("nan")
    path = save_model_checkpoint(model, tmp_path / "nan.pth")  # the checksum matches: NaN on purpose
    message = _one_line_error(load_model_checkpoint, path, f"state_dict.{name} holds 1 non-finite value")
    assert "NaN" in message
    # and infinite scaling statistics beside the weights
    path = save_model_checkpoint(make_model("mlp"), tmp_path / "inf.pth",
                                 extra={"scaler": {"std": torch.tensor([1.0, float("inf")])}})
    _one_line_error(load_model_checkpoint, path, "extra.scaler.std holds 1 non-finite value")


def test_a_checkpoint_from_before_checksums_loads_unverified(make_model, flat_batch, tmp_path, recwarn):
    model = make_model("gru")
    path = save_model_checkpoint(model, tmp_path / "old.pth")
    raw = torch.load(path, map_location="cpu", weights_only=True)
    del raw["tensor_sha256"]
    next(iter(raw["state_dict"].values())).view(-1)[0] += 1.0  # no checksum, so nothing to notice
    torch.save(raw, path)
    loaded, _ = load_model_checkpoint(path)
    assert not torch.equal(_outputs(loaded, flat_batch), _outputs(model, flat_batch))
    assert not recwarn.list  # quiet
    # but NaN weights are refused even without a checksum
    next(iter(raw["state_dict"].values())).view(-1)[0] = float("nan")
    torch.save(raw, path)
    _one_line_error(load_model_checkpoint, path, "non-finite")


def test_a_damaged_ensemble_is_one_line_error(make_model, flat_batch, tmp_path):
    members = [make_model("mlp", seed=seed) for seed in range(2)]
    members[1], needle = _marked(members[1])
    ensemble = F1WeightedEnsemble(members, [0.8, 0.7])
    path = ensemble.save(tmp_path / "ensemble.pth", extra={"scaler_mean": torch.arange(4.0)})
    loaded = F1WeightedEnsemble.load(path)
    assert torch.equal(loaded.predict_proba(flat_batch), ensemble.predict_proba(flat_batch))

    _flip_bytes(path, needle)
    _one_line_error(F1WeightedEnsemble.load, path, "do not match their checksum")

    raw = torch.load(ensemble.save(tmp_path / "nan.pth"), map_location="cpu", weights_only=True)
    name = next(iter(raw["members"][1]["state_dict"]))
    raw["members"][1]["state_dict"][name].view(-1)[0] = float("nan")
    del raw["tensor_sha256"]  # as if written before checksums
    torch.save(raw, tmp_path / "nan.pth")
    _one_line_error(F1WeightedEnsemble.load, tmp_path / "nan.pth", f"members[1].state_dict.{name} holds 1 non-finite")


# --- recorded metadata under a checksum, and the creation time (SPEC Module 3) ----------

def test_an_edited_entry_is_named_when_loaded(make_model, tmp_path):
    path = save_model_checkpoint(make_model("mlp"), tmp_path / "m.pth",
                                 extra={"window_days": 7, "inputs": {"channels": ["H"], "steps_per_day": 1440}})
    for where, edit in {"extra.window_days (14)": lambda raw: raw["extra"].update(window_days=14),
                        "extra.inputs": lambda raw: raw["extra"]["inputs"].update(channels=["H", "Z"]),
                        "model_config": lambda raw: raw["model_config"].update(dropout_prob=0.5),
                        "created_at": lambda raw: raw.update(created_at="2020-01-01T00:00:00+00:00"),
                        "extra.calibrator was added": lambda raw: raw["extra"].update(calibrator=[1.0, 0.0])}.items():
        raw = torch.load(path, map_location="cpu", weights_only=True)
        edit(raw)
        torch.save(raw, tmp_path / "edited.pth")  # the checksums left as they were
        _one_line_error(load_model_checkpoint, tmp_path / "edited.pth", where)
    loaded, checkpoint = load_model_checkpoint(path)  # the file as saved loads
    assert checkpoint["extra"]["window_days"] == 7


def test_an_ensemble_checksum_covers_whatever_its_metadata_holds(make_model, tmp_path):
    ensemble = F1WeightedEnsemble([make_model("mlp", seed=s) for s in range(2)], [0.8, 0.7])
    path = ensemble.save(tmp_path / "e.pth", extra={"window_days": 3, "calibration": {"slope": 1.2, "bias": 0.1}})
    raw = torch.load(path, map_location="cpu", weights_only=True)
    raw["extra"]["calibration"]["slope"] = 0.5
    torch.save(raw, path)
    _one_line_error(F1WeightedEnsemble.load, path, "extra.calibration")


def test_a_checkpoint_records_its_creation_time_in_utc(make_model, tmp_path):
    from datetime import datetime, timezone

    before = datetime.now(timezone.utc).replace(microsecond=0)
    _, checkpoint = load_model_checkpoint(save_model_checkpoint(make_model("gru"), tmp_path / "g.pth"))
    created = datetime.fromisoformat(checkpoint["created_at"])
    assert checkpoint["created_at"].endswith("+00:00")
    assert before <= created <= datetime.now(timezone.utc)


def test_save_checkpoint_names_the_file_by_its_creation_time(make_model, tmp_path):
    import re
    from datetime import datetime

    from seismag.spec.compat import save_checkpoint

    path = save_checkpoint(make_model("mlp"), epoch=3, loss=0.25, checkpoint_dir=tmp_path)
    match = re.fullmatch(r"checkpoint_epoch3_(\d{8}T\d{6}Z)\.pth", path.name)
    assert match, path.name
    _, checkpoint = load_model_checkpoint(path)
    assert datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%dT%H:%M:%S+00:00") == \
        checkpoint["created_at"]
    named = save_checkpoint(make_model("mlp"), epoch=3, checkpoint_dir=tmp_path, filename="best_model.pth")
    assert named.name == "best_model.pth"  # a name given is kept as given
