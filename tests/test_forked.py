"""`checker.forked`: jobs on forked processes, their results in order, and
every failure ending the run (never a wait without end)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from checker import forked
from checker.forked import ChildDied, JobFailed
from tests.conftest import ROOT


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail, rather than hang, if the block takes longer than `seconds`."""
    def expire(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"still waiting after {seconds} s")

    before = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)


def _pid_after(i: int, count: int) -> tuple[int, int]:
    time.sleep(0.05 * (count - i))  # the first jobs end last
    return i, os.getpid()


def test_results_come_in_order_from_other_processes() -> None:
    with within(30):
        got = list(forked.in_order(lambda i: _pid_after(i, 6), 6, jobs=3))
    assert [i for i, _ in got] == list(range(6))
    pids = {pid for _, pid in got}
    assert os.getpid() not in pids and 1 < len(pids) <= 3
    assert not multiprocessing.active_children()


def test_one_job_runs_in_this_process() -> None:
    assert list(forked.in_order(lambda i: (i, os.getpid()), 3, jobs=1)) == \
        [(i, os.getpid()) for i in range(3)]


class _TwoArgs(Exception):
    """An exception pickle cannot rebuild (`cls(*args)` lacks an argument):
    it made `multiprocessing.Pool` wait forever."""

    def __init__(self, what: str, where: int) -> None:
        super().__init__(f"{what} at {where}")


def _fails(i: int) -> int:
    if i == 2:
        raise _TwoArgs("job 2 failed", 7)
    return i


def _fails_plainly(i: int) -> int:
    if i == 2:
        raise KeyError("job 2")
    return i


@pytest.mark.parametrize("job, kind, text", [
    (_fails, JobFailed, "_TwoArgs: job 2 failed at 7"),
    (_fails_plainly, KeyError, "job 2"),  # whole through a pickle: raised as it was
    (lambda i: threading.Lock() if i == 1 else i, JobFailed, "pickle"),  # the result
    (lambda i: os.kill(os.getpid(), signal.SIGKILL) if i == 1 else i, ChildDied,
     "ended without an answer"),
], ids=["raises", "raises-whole", "unpicklable-result", "killed"])
def test_a_failure_ends_the_run_and_the_next_starts(job: object, kind: type[Exception],
                                                    text: str) -> None:
    with within(30), pytest.raises(kind, match=text) as raised:
        list(forked.in_order(job, 4, jobs=2))  # type: ignore[arg-type]
    if kind is KeyError:  # the child's traceback, chained
        assert isinstance(raised.value.__cause__, JobFailed)
        assert "_fails_plainly" in str(raised.value.__cause__)
    assert forked._job is None and not multiprocessing.active_children()
    assert list(forked.in_order(lambda i: i * i, 3, jobs=2)) == [0, 1, 4]


def test_a_reader_that_stops_kills_the_rest() -> None:
    with within(30):
        gen = forked.in_order(lambda i: time.sleep(0 if i == 0 else 60) or i, 3, jobs=3)
        assert next(gen) == 0
        gen.close()
    assert not multiprocessing.active_children()


def test_a_job_closes_over_what_cannot_be_pickled() -> None:
    lock = threading.Lock()  # no pickle takes it: it reaches the children by fork

    def job(i: int) -> int:
        with lock:
            return 7 + i

    assert list(forked.in_order(job, 2, jobs=2)) == [7, 8]


PARENT = """
import sys, time
from checker import forked
for _ in forked.in_order(lambda i: time.sleep(120) or i, 2, jobs=2):
    pass
"""


def _children_of(pid: int) -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:  # the parent pid: field 4 of stat
                found.append(int(d.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux only")
def test_children_die_with_a_parent_killed_unawares() -> None:
    """SIGKILL runs no `finally`: the children go because Linux kills them
    when their parent dies (prctl PR_SET_PDEATHSIG)."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while len(children := _children_of(parent.pid)) < 2:
            assert time.monotonic() < deadline, "the children did not start"
            time.sleep(0.05)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{c}").exists() and "Z" not in _state(c) for c in children):
        assert time.monotonic() < deadline, f"children {children} outlived their parent"
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"
