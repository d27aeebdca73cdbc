"""seismag.io and the output paths of the CLI: every OS error on an output path is one line
naming the path and the cause (exit 2, no traceback), and nothing is left behind."""

import errno
import os
from pathlib import Path

import numpy as np
import pytest

from seismag import io
from seismag.cli import main
from seismag.errors import OutputError, SeismagError

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) -> its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def one_error_line(capsys, *words: str, progress: bool = False) -> str:
    """The one stderr line of a failed command; with ``progress`` the log lines of a
    training before it are allowed, the error being the last line and the only one."""
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    if progress:
        assert [line for line in lines if ": error: " in line] == lines[-1:], err
        lines = lines[-1:]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# ------------------------------------------------------------------------------ seismag.io


def test_a_file_where_the_folder_should_be_is_named(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(OutputError) as info:
        io.write_json(tmp_path / "out" / "mlp_models" / "x.json", {"a": 1})
    assert str(info.value) == f"{tmp_path / 'out'}: cannot write (exists and is not a folder)"


def test_a_directory_where_the_file_should_be(tmp_path):
    (tmp_path / "preds.csv").mkdir()
    with pytest.raises(OutputError, match=r"preds\.csv: cannot write \(is a directory\)$"):
        io.write_text(tmp_path / "preds.csv", "x")
    assert snapshot(tmp_path) == {}


@pytest.mark.parametrize("code, words", [
    (errno.EACCES, "permission denied"), (errno.EPERM, "permission denied"),
    (errno.EROFS, "read-only file system"), (errno.ENOSPC, "no space left on the device"),
])
def test_os_errors_while_writing_become_one_line_and_leave_nothing(tmp_path, monkeypatch, code, words):
    target = tmp_path / "x.npy"
    io.write_npy(target, np.arange(3))
    before = snapshot(tmp_path)

    def failing_save(handle, array):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(np, "save", failing_save)
    with pytest.raises(OutputError) as info:
        io.write_npy(target, np.arange(5))
    assert str(info.value) == f"{target}: cannot write ({words})"
    assert snapshot(tmp_path) == before  # the old file kept, no temporary left


def test_torch_write_failure_reads_as_a_full_disk(tmp_path, monkeypatch):
    import shutil

    import torch

    def failing_save(obj, handle):  # save_torch hands torch an open file
        handle.write(b"PK partial")
        raise RuntimeError("[enforce fail at inline_container.cc:626] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", failing_save)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10, 10, 0))
    with pytest.raises(OutputError) as info:
        io.save_torch(tmp_path / "m.pth", {"a": 1})
    assert str(info.value) == f"{tmp_path / 'm.pth'}: cannot write (no space left on the device)"
    assert snapshot(tmp_path) == {}


def test_other_errors_are_not_reworded(tmp_path):
    with pytest.raises(TypeError):
        io.write_json(tmp_path / "x.json", {"a": object()})
    assert snapshot(tmp_path) == {}


@pytest.mark.skipif(IS_ROOT, reason="root writes into read-only folders")
def test_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="permission denied"):
            io.write_text(folder / "x.txt", "x")
    finally:
        folder.chmod(0o700)


def test_output_error_is_a_seismag_error_and_pickles():
    import pickle

    error = OutputError("/out/x.json", "permission denied")
    assert isinstance(error, SeismagError)
    assert str(pickle.loads(pickle.dumps(error))) == "/out/x.json: cannot write (permission denied)"


# ------------------------------------------------------------------------------- the CLI

SYNTH = ["--preset", "quick", "--windows", "7", "--seed", "3"]


def test_synth_out_a_file(tmp_path, capsys):
    target = tmp_path / "data"
    target.write_text("not a folder")
    assert main(["synth", "--out", str(target), *SYNTH]) == 2
    one_error_line(capsys, str(target), "not a folder")
    assert target.read_text() == "not a folder"
    assert main(["synth", "--out", str(target / "sub"), *SYNTH]) == 2
    one_error_line(capsys, f"{target}: cannot write (exists and is not a folder)")


def test_synth_refuses_an_existing_dataset_unless_overwrite(tmp_path, capsys, monkeypatch):
    from seismag.synth import windows as synthetic

    # Small sizes keep the test quick; the rule does not depend on them.
    monkeypatch.setitem(synthetic.PRESETS, "quick", {7: (6, 4), 14: (6, 4)})
    out = tmp_path / "data"
    assert main(["synth", "--out", str(out), *SYNTH]) == 0
    capsys.readouterr()
    before = snapshot(out)
    assert main(["synth", "--out", str(out), "--preset", "quick", "--windows", "7,14", "--seed", "4"]) == 2
    one_error_line(capsys, str(out), "window-7", "--overwrite")
    assert snapshot(out) == before
    assert main(["synth", "--out", str(out), *SYNTH[:-1], "4", "--overwrite"]) == 0
    assert snapshot(out) != before
    # a window not there yet is added without --overwrite
    assert main(["synth", "--out", str(out), "--preset", "quick", "--windows", "14"]) == 0
    assert (out / "window-14" / "data_0.npy").is_file()


def test_train_with_unwritable_log_dir_and_out(tmp_path, capsys, monkeypatch):
    data = tmp_path / "data"
    from seismag.synth.windows import generate_dataset

    generate_dataset(data, windows=(7,), steps_per_day=8)
    args = ["train", "--data", str(data), "--models", "mlp", "--windows", "7", "--steps-per-day", "8",
            "--epochs", "1", "--folds", "2", "--quiet", "--preset", "quick"]
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    monkeypatch.setenv("LOG_DIR", str(blocker))
    assert main([*args, "--out", str(tmp_path / "r1")]) == 2
    one_error_line(capsys, f"{blocker}: cannot write (exists and is not a folder)")
    monkeypatch.setenv("LOG_DIR", str(tmp_path / "logs"))
    assert main([*args, "--out", str(blocker)]) == 2
    one_error_line(capsys, str(blocker), "not a folder")
    results = tmp_path / "r2"
    results.mkdir()
    (results / "mlp_models").write_text("x")
    assert main([*args, "--out", str(results)]) == 2
    one_error_line(capsys, f"{results / 'mlp_models'}: cannot write (exists and is not a folder)", progress=True)
    assert not (tmp_path / "r1").exists()


def test_main_words_an_os_error_the_library_did_not(monkeypatch, capsys):
    from seismag import cli

    def boom(args):
        raise PermissionError(errno.EACCES, "Permission denied", "/somewhere/tune.db")

    monkeypatch.setitem(cli.COMMANDS, "env", boom)
    assert main(["env"]) == 2
    assert one_error_line(capsys) == "seismag env: error: /somewhere/tune.db: permission denied"


@pytest.mark.skipif(not hasattr(os, "posix_fallocate"), reason="no posix_fallocate")
def test_synth_on_a_full_disk_is_one_line_not_a_bus_error(tmp_path, capsys, monkeypatch):
    # The class files are filled through a memory map: unreserved, a full disk kills the
    # process with SIGBUS. The space is reserved first, so ENOSPC arrives as an error.
    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full)
    out = tmp_path / "data"
    assert main(["synth", "--out", str(out), *SYNTH]) == 2
    one_error_line(capsys, f"{out / 'window-7' / 'data_0.npy'}: cannot write (no space left on the device)")
    assert snapshot(tmp_path) == {}


def test_a_log_dir_that_cannot_take_the_log_file(tmp_path, monkeypatch):
    import logging

    from seismag.training.pipeline import setup_logging

    def refused(self, filename, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", filename)

    monkeypatch.setattr(logging.FileHandler, "__init__", refused)
    with pytest.raises(OutputError) as info:
        setup_logging(log_dir=tmp_path / "logs", console=False)
    assert str(info.value).startswith(f"{tmp_path / 'logs'}{os.sep}training_")
    assert str(info.value).endswith(".log: cannot write (permission denied)")
