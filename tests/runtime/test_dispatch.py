"""supviz.runtime.dispatch: Ctrl-C is the parent's alone (issue 9 follow-up, 5).

A Ctrl-C reaches every process of the terminal's group. The parent printed "supviz: interrupted",
but each loky worker added a KeyboardInterrupt traceback of ~20 lines (from its start-up imports or
from the task). The interrupt is sent here at two moments: while the workers start (the window the
break test hit) and while they are busy.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent("""
    import sys, time
    from joblib import delayed
    from supviz.runtime.dispatch import parallel

    def slow(i):
        time.sleep(60)
        return i

    try:
        list(parallel(2)(delayed(slow)(i) for i in range(4)))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
""")


def _group(pgid: int) -> list[tuple[int, str]]:
    """Live processes of process group ``pgid``: (pid, command line)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append((int(d.name), cmd))
    return out


def _blocks_sigint(pid: int) -> bool:
    """Whether process ``pid`` has SIGINT blocked (``SigBlk`` of /proc/<pid>/status; True when gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:")), 16)
    return bool(mask & (1 << (signal.SIGINT - 1)))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("moment", ["starting", "busy"])
def test_ctrl_c_is_one_line_from_the_parent_and_no_worker_traceback(tmp_path, moment):
    script = tmp_path / "pool.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=dict(os.environ),
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            workers = [p for p, c in _group(proc.pid) if "popen_loky" in c]
            if workers and moment == "starting":
                # a worker exists and is still importing (the break test's moment): interrupt the
                # workers again and again through their start-up (~1 s of imports), then everyone
                t_end = time.time() + 1.5
                while time.time() < t_end:
                    for p in [p for p, c in _group(proc.pid) if "popen_loky" in c]:
                        _blocks_sigint(p)
                        try:
                            os.kill(p, signal.SIGINT)
                        except ProcessLookupError:
                            pass
                    time.sleep(0.02)
                break
            if len(workers) >= 2 and moment == "busy":
                # busy: the workers have imported and picked up their tasks (their CPU time stops growing)
                t0 = [_cpu_seconds(p) for p in workers]
                time.sleep(0.5)
                if [_cpu_seconds(p) for p in workers] == t0:
                    assert all(_blocks_sigint(p) for p in workers)
                    break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.02)
        else:
            pytest.fail("the pool did not start")
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        deadline = time.time() + 5
        while _group(proc.pid) and time.time() < deadline:
            time.sleep(0.1)
        survivors = _group(proc.pid)
    finally:
        if _group(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert err.strip() == "interrupted", err
    assert survivors == []


_HELD: list = []


def _grow_and_pid(nbytes: int) -> int:
    """Hold ``nbytes`` more in this worker for good (as a worker that moved on to torch work does), then pause past
    loky's leak-check delay (1 s) so that the next task of this worker runs its check."""
    import numpy as np

    _HELD.append(np.ones(nbytes // 8))
    time.sleep(1.2)
    return os.getpid()


def test_a_worker_that_grows_by_less_than_the_limit_is_kept():
    """loky replaces a worker that grew 300 MB over its size after its first task; supviz's workers grow that much
    without leaking (torch after layouts), so the pool raises the limit (WORKER_GROWTH_BYTES) and keeps them."""
    from joblib import delayed

    from supviz.runtime.dispatch import WORKER_GROWTH_BYTES, parallel

    grow = int(4.5e8)  # over loky's 300 MB, well under the raised limit
    assert grow < WORKER_GROWTH_BYTES
    pids = list(parallel(2, batch_size=1)(delayed(_grow_and_pid)(n) for n in (0, 0, grow, grow, 0, 0, 0, 0)))
    assert os.getpid() not in pids and len(set(pids)) == 2  # two workers did all eight tasks: never replaced


def _die_or_wait(i: int) -> int:
    """Task ``i``: the first kills its own worker process (as ``kill -9`` of a worker, or the kernel's out-of-memory
    killer); the others take a moment."""
    if i == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.5)
    return i


def test_a_worker_killed_under_a_task_is_one_line_and_exit_1(capsys):
    """A worker killed during training (``kill -9``) printed joblib's 30-line TerminatedWorkerError traceback and
    exited 1 by accident; now it is one SupvizError line that names the signal, with exit status 1 (not bad input)."""
    from supviz.errors import SupvizError
    from supviz.runtime.dispatch import LocalDispatcher, WorkerLost

    with pytest.raises(WorkerLost, match=r"a worker process died under a task \(exit codes \{SIGKILL\(-9\)\}") as info:
        list(LocalDispatcher(2).map(_die_or_wait, [(i,) for i in range(4)]))
    assert isinstance(info.value, SupvizError) and info.value.exit_status == 1
    assert "\n" not in str(info.value)
