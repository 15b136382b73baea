"""The workqueue part of models/workqueue.mig: flush_workqueue() waits for
every item queued on the workqueue, destroy_workqueue() drains it and frees
it, so that a later queue_work() on it is a use-after-free, and queueing
while it drains is the kernel's WARN."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.vm.search import vm_bfs
from tests.conftest import run, system
from tests.test_vm import _figures

Spec = Callable[[str], Path]

FLUSH = """
    // Linux 5.10
    option flush = true;
    import "workqueue";
    struct work_struct w;
    struct workqueue_struct *wq;
    bool ran = false;
    thread fn(struct workqueue_struct *q) {
        if (!wq_work_begin(q, &w))
            return;
        ran = true;
        wq_work_end(q, &w);
    }
    thread submitter() {
        if (wq_queue_work(wq, &w))
            start fn(wq);
        if (flush)
            flush_workqueue(wq);
        assert(ran, "the item has not run");
        destroy_workqueue(wq);
    }
    init { wq = alloc(workqueues); }
    scenario s { run submitter(); max fn 1; expect verified; }
    scenario no_flush { option flush = false; run submitter(); max fn 1;
                        expect assert "the item has not run"; }
"""


def test_flush_workqueue_waits_for_the_queued_item(spec_file: Spec) -> None:
    result = run(spec_file(FLUSH), "s")
    assert result.verdict == "verified", result.violation
    assert (result.stats.states, result.stats.transitions) == (16, 18)


def test_without_the_flush_the_item_may_not_have_run(spec_file: Spec) -> None:
    """Read wq, queue the item, start its handler, test `ran`: 4 steps."""
    result = run(spec_file(FLUSH), "no_flush")
    assert result.met and result.violation is not None
    assert result.violation.steps == 4


DESTROY = """
    // Linux 5.10
    import "workqueue";
    struct work_struct w;
    struct workqueue_struct *wq;
    thread fn(struct workqueue_struct *q) {
        if (!wq_work_begin(q, &w))
            return;
        wq_work_end(q, &w);
    }
    thread destroyer() { destroy_workqueue(wq); }
    thread owner() {
        if (wq_queue_work(wq, &w))
            start fn(wq);
        destroy_workqueue(wq);
    }
    thread owner_cancels() {
        if (wq_queue_work(wq, &w))
            start fn(wq);
        cancel_work_sync(&w);
        destroy_workqueue(wq);
    }
    thread queue_after_destroy() {
        struct workqueue_struct *q = wq;
        destroy_workqueue(q);
        wq_queue_work(q, &w);
    }
    thread submitter() {
        if (wq_queue_work(wq, &w))
            start fn(wq);
    }
    init { wq = alloc(workqueues); }
    scenario alone { run destroyer(); expect verified; }
    scenario drains { run owner(); max fn 1; expect verified; }
    scenario cancelled { run owner_cancels(); max fn 1; expect verified; }
    scenario uaf { run queue_after_destroy(); expect use_after_free; }
    scenario while_draining { run destroyer(); run submitter(); max fn 1;
                              expect assert "queue_work on a draining workqueue"; }
"""


def test_destroy_workqueue_state_count(spec_file: Spec) -> None:
    """Read wq, set __WQ_DRAINING, then wait for the empty workqueue and
    free it in one step: 4 states, 3 transitions, and workqueues[0] freed."""
    result = run(spec_file(DESTROY), "alone")
    assert result.verdict == "verified", result.violation
    assert (result.stats.states, result.stats.transitions) == (4, 3)


def test_destroy_workqueue_waits_for_the_running_item(spec_file: Spec) -> None:
    """The handler's wq_work_end() touches the workqueue: had destroy not
    drained it first, that would be a use-after-free."""
    result = run(spec_file(DESTROY), "drains")
    assert result.verdict == "verified", result.violation


def test_an_item_cancelled_before_it_ran_leaves_the_workqueue(spec_file: Spec) -> None:
    result = run(spec_file(DESTROY), "cancelled")
    assert result.verdict == "verified", result.violation


def test_queue_work_after_destroy_workqueue_is_a_use_after_free(spec_file: Spec) -> None:
    result = run(spec_file(DESTROY), "uaf")
    assert result.met and result.violation is not None
    assert result.violation.kind == "use_after_free"
    assert "workqueues[0]" in result.violation.message


def test_queue_work_while_destroy_workqueue_drains(spec_file: Spec) -> None:
    """The destroyer sets __WQ_DRAINING, then the submitter's queue_work()
    comes from outside the workqueue: read wq, set draining, read wq, queue."""
    result = run(spec_file(DESTROY), "while_draining")
    assert result.met and result.violation is not None
    assert result.violation.kind == "assert"
    assert result.violation.steps == 4


@pytest.mark.parametrize("scenario", ["drains", "cancelled", "uaf", "while_draining"])
def test_the_vm_agrees(spec_file: Spec, scenario: str) -> None:
    ts = system(spec_file(DESTROY), scenario)
    want = _figures(check(ts, CheckOptions()))
    assert _figures(check(ts, CheckOptions(), engine=vm_bfs)) == want
