"""One writer per output folder (seismag.lock)."""
import json
import logging
import os
import subprocess
import sys

import pytest

from seismag.cli import main
from seismag.errors import ConfigError
from seismag.lock import LOCK_FILE, folder_lock

HOLD = ("import sys, time\n"
        "from seismag.lock import folder_lock\n"
        "with folder_lock(sys.argv[1], command='train'):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(60)\n")


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of ``tmp_path / 'out'``."""
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout.readline().strip() == "held"
    yield out, process
    process.kill()
    process.wait()


def test_lock_is_created_and_released(tmp_path):
    with folder_lock(tmp_path / "out", command="synth") as path:
        assert path == tmp_path / "out" / LOCK_FILE
        record = json.loads(path.read_text())
        assert record["pid"] == os.getpid() and record["command"] == "synth"
        assert {"started_at", "host"} <= set(record)
    assert not path.exists()


def test_lock_is_released_on_error(tmp_path):
    with pytest.raises(RuntimeError), folder_lock(tmp_path, command="train"):
        raise RuntimeError("boom")
    assert not (tmp_path / LOCK_FILE).exists()


def test_a_second_writer_is_refused_naming_the_holder(holder):
    out, process = holder
    with pytest.raises(ConfigError, match=f"pid {process.pid}.*started 20"), folder_lock(out, command="synth"):
        pass
    assert (out / LOCK_FILE).exists()  # the holder's lock is left alone


def test_a_stale_lock_is_taken_over_with_a_note(tmp_path, caplog):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / LOCK_FILE).write_text(json.dumps({"pid": dead.pid, "started_at": "2026-01-01T00:00:00+00:00",
                                                  "command": "train", "host": os.uname().nodename}))
    with caplog.at_level(logging.WARNING, logger="seismag"):
        logging.getLogger("seismag").propagate = True
        try:
            with folder_lock(tmp_path, command="train") as path:
                assert json.loads(path.read_text())["pid"] == os.getpid()
        finally:
            logging.getLogger("seismag").propagate = False
    assert f"stale lock of seismag train (pid {dead.pid}" in caplog.text
    assert not (tmp_path / LOCK_FILE).exists()


def test_synth_into_a_locked_folder_exits_2_with_one_line(holder, capsys):
    out, process = holder
    assert main(["synth", "--out", str(out), "--preset", "quick", "--windows", "7"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"pid {process.pid}" in err and "seismag train" in err
    assert not (out / "window-7").exists()



def test_build_into_a_locked_folder_is_refused_before_writing(holder):
    from seismag.dataset.build.write import write_build

    out, process = holder
    with pytest.raises(ConfigError, match=f"in use by seismag train \\(pid {process.pid}"):
        write_build(out, None, [], {}, None, {})  # refused at the lock, before the report is read
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]


SHARED_HOLD = ("import sys, time\n"
               "from seismag.lock import folder_lock\n"
               "with folder_lock(sys.argv[1], command='tune', share='study s in sqlite'):\n"
               "    print('held', flush=True)\n"
               "    sys.stdin.readline()\n")


def test_writers_of_one_study_share_the_lock_and_the_last_one_removes_it(tmp_path):
    out = tmp_path / "tuning"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    first = subprocess.Popen([sys.executable, "-c", SHARED_HOLD, str(out)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert first.stdout.readline().strip() == "held"
        # Another study, or another command, is refused while the study runs.
        with pytest.raises(ConfigError, match=f"in use by seismag tune \\(pid {first.pid}"):
            with folder_lock(out, command="tune", share="study other in sqlite"):
                pass
        with pytest.raises(ConfigError, match=f"pid {first.pid}"):
            with folder_lock(out, command="train"):
                pass
        # A second process of the same study joins; the lock lists both.
        with folder_lock(out, command="tune", share="study s in sqlite") as path:
            holders = json.loads(path.read_text())["holders"]
            assert {h["pid"] for h in holders} == {first.pid, os.getpid()}
            first.stdin.write("\n")
            first.stdin.flush()
            first.wait(timeout=30)
            # The first one left: the lock stays, held by this process alone.
            assert [h["pid"] for h in json.loads(path.read_text())["holders"]] == [os.getpid()]
        assert not path.exists()  # the last holder removed it
        assert not (out / (LOCK_FILE + ".mutex")).exists()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


def test_a_study_folder_is_locked_against_a_training_run(tmp_path, monkeypatch):
    pytest.importorskip("optuna")
    from seismag.tune import study

    seen = {}

    def during_the_search(*args, **kwargs):
        lock = json.loads((tmp_path / "t" / LOCK_FILE).read_text())
        seen.update(command=lock["command"], share=lock["share"])
        raise ConfigError("stop here")

    monkeypatch.setattr(study, "tuning_split", during_the_search)
    from helpers import SPD, write_synthetic

    data = write_synthetic(tmp_path / "data", n0=20, n1=14)
    with pytest.raises(ConfigError, match="stop here"):
        study.run_study(data, "mlp", 4, trials=1, out_dir=tmp_path / "t", steps_per_day=SPD, epochs=1,
                        num_folds=2, device="cpu")
    assert seen["command"] == "tune" and seen["share"].startswith("study seismag-mlp-4d")
    assert not (tmp_path / "t" / LOCK_FILE).exists()  # released on the error too
