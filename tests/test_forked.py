"""`checker.forked`: jobs on forked processes, their results in order."""

from __future__ import annotations

import os
import threading
import time

import pytest

from checker import forked


def _pid_after(i: int, count: int) -> tuple[int, int]:
    time.sleep(0.05 * (count - i))  # the first jobs end last
    return i, os.getpid()


def test_results_come_in_order_from_other_processes() -> None:
    got = list(forked.in_order(lambda i: _pid_after(i, 6), 6, jobs=3))
    assert [i for i, _ in got] == list(range(6))
    pids = {pid for _, pid in got}
    assert os.getpid() not in pids and 1 < len(pids) <= 3


def test_one_job_runs_in_this_process() -> None:
    assert list(forked.in_order(lambda i: (i, os.getpid()), 3, jobs=1)) == \
        [(i, os.getpid()) for i in range(3)]


def test_a_failed_job_raises_in_the_parent_and_the_pool_ends() -> None:
    def job(i: int) -> int:
        if i == 2:
            raise ValueError("job 2 failed")
        return i

    with pytest.raises(ValueError, match="job 2 failed"):
        list(forked.in_order(job, 4, jobs=2))
    assert forked._job is None  # the next pool may start
    assert list(forked.in_order(lambda i: i * i, 3, jobs=2)) == [0, 1, 4]


def test_a_job_closes_over_what_cannot_be_pickled() -> None:
    lock = threading.Lock()  # no pickle takes it: it reaches the children by fork

    def job(i: int) -> int:
        with lock:
            return 7 + i

    assert list(forked.in_order(job, 2, jobs=2)) == [7, 8]
