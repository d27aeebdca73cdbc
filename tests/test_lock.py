"""One writer per output folder (seismag.lock)."""
import json
import logging
import os
import subprocess
import sys

import pytest

from seismag.cli import main
from seismag.errors import ConfigError
from seismag.layout import LOCK_FILE
from seismag.lock import folder_lock

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
    from seismag.data.build.write import write_build

    out, process = holder
    with pytest.raises(ConfigError, match=f"in use by seismag train \\(pid {process.pid}"):
        write_build(out, None, [], {}, None, {})  # refused at the lock, before the report is read
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]
