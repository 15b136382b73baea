"""Independent jobs on forked worker processes, their results in order.

Used where a command runs many whole searches that share nothing (`check
--swarm`, `mutate`): job i is one call `job(i)` in a child of this process.
The children are forked after `job` is set, so they start with it (a
closure over the parsed spec, the compiled kernels, the imports): nothing
crosses between the processes but the number i and the job's result,
which must pickle.

Ctrl-C goes to the parent alone (the children ignore SIGINT); the parent
waits in short slices so that the interrupt reaches it at once, and then,
as after a failed job, the pool is terminated: no child outlives the run.
The children forget the parent's process-wide limits (`--max-memory`'s
watchdog thread is not in them); each search sets its own.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from checker.explore.limits import stop_process_limits

Result = TypeVar("Result")

_WAIT_S = 0.2
_job: Callable[[int], Any] | None = None  # the pool's job, inherited by its children


def _child() -> None:
    """A worker leaves Ctrl-C to the parent, which ends the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop_process_limits()


def _call(i: int) -> Any:
    assert _job is not None
    return _job(i)


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
    _job = job  # set while the pool lives: a child started again reads it too
    try:
        pool = multiprocessing.get_context("fork").Pool(min(jobs, count), initializer=_child)
        try:
            waiting = [pool.apply_async(_call, (i,)) for i in range(count)]
            for w in waiting:
                while not w.ready():  # a short wait, so that Ctrl-C reaches this thread
                    w.wait(_WAIT_S)
                yield w.get()
        finally:
            pool.terminate()  # on Ctrl-C, a failed job, or a caller that stops reading
            pool.join()
    finally:
        _job = None
