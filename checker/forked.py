"""Independent jobs on forked processes, their results in order.

Used where a command runs many whole searches that share nothing (`check
--swarm`, `mutate`, the scenarios of `doc` and `diff`): job i is one call
`job(i)` in one of `jobs` children forked after `job` is set, so they start with the job (a closure over the
parsed spec, the compiled kernels, the imports): nothing crosses between
the processes but the number i and what the job returns or raises, which
comes back through the child's pipe, pickled, or as the text of its
traceback. A child runs job after job, so what a job loads once (numba, a
compiled kernel) serves the next ones.

Every failure ends the run instead of waiting forever, where
`multiprocessing.Pool` would: a job that raises (its own exception,
raised again in the parent from a `JobFailed` that holds the child's
traceback; `JobFailed` itself for an exception that pickle cannot rebuild),
and a child that dies without an answer, killed by the OOM killer or a
signal (`ChildDied`). Ctrl-C goes to the parent alone (the
children ignore SIGINT); the parent waits in short slices, so that the
interrupt reaches it at once. At the end, on an interrupt, a failure, or a
caller that stops reading, the children are killed; and Linux kills them
when the parent dies unawares (SIGTERM, SIGKILL: `_die_with`), so none
outlives the run. The children forget the parent's process-wide limits (`--max-memory`'s
watchdog thread is not in them); each search sets its own.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Generator
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from checker.explore.limits import stop_process_limits

Result = TypeVar("Result")

_WAIT_S = 0.2
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_job: Callable[[int], Any] | None = None  # the running pool's job, inherited by its children


class JobFailed(RuntimeError):
    """A job raised in its child; the message ends with the child's traceback."""


class ChildDied(RuntimeError):
    """A child ended without an answer (killed: by the OOM killer, a signal)."""


def _answer(job: Callable[[int], Any], i: int) -> tuple[bool, Any]:
    """(True, result) or (False, (traceback text, the exception if it
    crosses whole: `_whole`)), never an exception."""
    try:
        return True, job(i)
    except BaseException as e:  # every failure goes back, as text at least
        return False, (traceback.format_exc(), _whole(e))


def _whole(e: BaseException) -> BaseException | None:
    """`e` if a pickle rebuilds it as it is (its type and message), so that
    the parent raises the job's own exception (a spec's error keeps its
    exit code, as in one process); None for one that pickle cannot rebuild
    (the parent then raises `JobFailed` with the traceback's text)."""
    try:
        back = pickle.loads(pickle.dumps(e))
    except Exception:
        return None
    return e if type(back) is type(e) and str(back) == str(e) else None


def _die_with(parent: int) -> None:
    """Ask Linux to kill this child when its parent dies, however it dies
    (SIGTERM, SIGKILL, the OOM killer: no `finally` of the parent's runs
    then), and end at once if the parent is already gone. Elsewhere, and if
    prctl is missing, the parent's own cleanup is all there is."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request
        os._exit(1)


def _worker(conn: Connection, parent: int) -> None:
    """A forked child: runs the job numbers it receives until it gets None,
    sending back each answer (`_answer`)."""
    global _job
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's
    stop_process_limits()
    job, _job = _job, None  # the parent's, not this process's
    assert job is not None
    while (i := conn.recv()) is not None:
        answer = _answer(job, i)
        try:
            conn.send(answer)
        except Exception:  # a result that does not pickle
            conn.send((False, (traceback.format_exc(), None)))
    conn.close()


def in_order(job: Callable[[int], Result], count: int,
             jobs: int) -> Generator[Result, None, None]:
    """`job(i)` for i in 0..count-1 on `jobs` processes (one: in this
    process, one after another), yielded in order as each is ready, while
    the later ones run."""
    global _job
    if jobs <= 1 or count <= 1:
        for i in range(count):
            yield job(i)
        return
    if _job is not None:
        raise RuntimeError("one pool of forked jobs at a time")
    ctx = multiprocessing.get_context("fork")
    workers: list[tuple[BaseProcess, Connection]] = []
    busy: dict[int, int] = {}  # worker -> the job it runs
    answers: dict[int, Any] = {}
    given = 0
    _job = job  # set while the children are forked: each starts with it
    try:
        for w in range(min(jobs, count)):
            mine, theirs = ctx.Pipe()
            proc: BaseProcess = ctx.Process(target=_worker, args=(theirs, os.getpid()),
                                            daemon=True, name=f"migcheck-job-{w}")
            proc.start()
            theirs.close()
            workers.append((proc, mine))
        for want in range(count):
            while want not in answers:
                for w, (_, conn) in enumerate(workers):
                    if w not in busy and given < count:
                        conn.send(given)
                        busy[w] = given
                        given += 1
                wait([workers[w][1] for w in busy], timeout=_WAIT_S)
                for w, i in list(busy.items()):
                    proc, conn = workers[w]
                    if not conn.poll():
                        continue
                    try:
                        ok, value = conn.recv()
                    except EOFError:
                        proc.join()
                        raise ChildDied(f"job {i}: its process ended without an answer "
                                        f"(exit status {proc.exitcode}; killed for memory?)"
                                        ) from None
                    del busy[w]
                    if not ok:
                        text, own = value
                        failed = JobFailed(f"job {i} failed in its process:\n{text}")
                        if own is not None:
                            raise own from failed  # the child's traceback, chained
                        raise failed
                    answers[i] = value
            yield answers.pop(want)
    finally:
        _job = None
        for proc, conn in workers:  # the end, Ctrl-C, a failure, or a reader that stopped
            if proc.is_alive():
                proc.kill()
            proc.join()
            conn.close()
