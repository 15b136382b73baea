"""models/waitqueue.mig and the flush/cancel part of models/workqueue.mig:
hand-derived state counts of the kernel's sleep/wake pattern, the lost
wake-up when the condition is tested first, scheduling while atomic, and
flush_work()/cancel_work_sync() waiting for a handler."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import run

Spec = Callable[[str], Path]

# set_current_state(); if (!flag) schedule(); __set_current_state(RUNNING):
# the sleeper's steps are s1 (set its bit), s2 (read flag), s3 (the await in
# schedule(), only when flag was false) and s4 (clear its bit); the waker's
# are w1 (flag = true) and w2 (wake_up_process(1), one atomic step).
SLEEP_WAKE = """
    const NR_TASKS = 2;
    import "waitqueue";
    bool flag = false;
    thread sleeper() {
        set_current_state(TASK_UNINTERRUPTIBLE);
        if (!flag)
            schedule();
        set_current_state(TASK_RUNNING);
    }
    thread waker() {
        flag = true;
        wake_up_process(1);
    }
    scenario s { run sleeper(); run waker(); expect verified; }
"""


def test_sleep_and_wake_process_state_count(spec_file: Spec) -> None:
    """(sleeper pc, waker pc, flag, bit 1 of task_not_running), enumerated by
    hand: (a,0,0,0) (b,0,0,1) (a,1,1,0) (c,0,0,1) (b,1,1,1) (a,2,1,0)
    (c,1,1,1) (d,1,1,1) (b,2,1,0) (b,2,1,1) (c,2,1,0) (e,1,1,0) (d,2,1,0)
    (d,2,1,1) (e,2,1,0): 15 states, and 19 transitions between them (the
    sleeper blocked in schedule() while its bit is set)."""
    result = run(spec_file(SLEEP_WAKE))
    assert result.verdict == "verified"
    assert (result.stats.states, result.stats.transitions) == (15, 19)


def test_condition_tested_before_sleeping_loses_the_wake_up(spec_file: Spec) -> None:
    """Test the flag, then set the state: the waker can run in between, wake
    nobody, and leave the sleeper asleep for good."""
    text = SLEEP_WAKE.replace("""        set_current_state(TASK_UNINTERRUPTIBLE);
        if (!flag)
            schedule();""", """        if (!flag) {
            set_current_state(TASK_UNINTERRUPTIBLE);
            schedule();
        }""").replace("expect verified", "expect deadlock")
    result = run(spec_file(text))
    assert result.met and result.violation is not None
    assert "sleeper() at line" in result.violation.message
    assert "schedule()" in result.violation.message


WAIT_EVENT = """
    const NR_TASKS = 2;
    import "waitqueue";
    wait_queue_head_t wq;
    bool done = false;
    thread waiter() {
        for (;;) {
            prepare_to_wait(&wq, TASK_UNINTERRUPTIBLE);
            if (done)
                break;
            schedule();
        }
        finish_wait(&wq);
        assert(wq.tasks == 0, "finish_wait() left the entry queued");
    }
    thread waker() {
        done = true;
        wake_up(&wq);
    }
    final nobody_queued: wq.tasks == 0 && task_not_running == 0;
    scenario s { run waiter(); run waker(); expect verified; }
"""


def test_wait_event_with_a_wait_queue_verifies(spec_file: Spec) -> None:
    result = run(spec_file(WAIT_EVENT))
    assert result.verdict == "verified", result.violation


def test_wait_event_checked_before_queueing_deadlocks(spec_file: Spec) -> None:
    text = WAIT_EVENT.replace("""        for (;;) {
            prepare_to_wait(&wq, TASK_UNINTERRUPTIBLE);
            if (done)
                break;
            schedule();
        }""", """        if (!done) {
            prepare_to_wait(&wq, TASK_UNINTERRUPTIBLE);
            schedule();
        }""").replace("expect verified", "expect deadlock")
    result = run(spec_file(text))
    assert result.met


def test_wake_up_leaves_a_queued_running_task_queued(spec_file: Spec) -> None:
    """try_to_wake_up() fails on a running task, so autoremove_wake_function()
    keeps its entry: the waiter queued itself and is running again before
    the wake-up, and only its own finish_wait() takes the entry off."""
    result = run(spec_file("""
        const NR_TASKS = 2;
        import "waitqueue";
        wait_queue_head_t wq;
        bool woke = false;
        thread waiter() {
            prepare_to_wait(&wq, TASK_UNINTERRUPTIBLE);
            set_current_state(TASK_RUNNING);
            await woke;
            assert(wq.tasks == 2, "wake_up() dequeued a running task");
            finish_wait(&wq);
        }
        thread waker() {
            await wq.tasks == 2 && task_not_running == 0;
            wake_up(&wq);
            woke = true;
        }
        scenario s { run waiter(); run waker(); expect verified; }
    """))
    assert result.verdict == "verified", result.violation


def test_schedule_with_a_spinlock_held_is_scheduling_while_atomic(spec_file: Spec) -> None:
    result = run(spec_file("""
        const NR_TASKS = 1;
        import "waitqueue";
        spinlock_t lock;
        thread t() {
            spin_lock(&lock);
            schedule();
            spin_unlock(&lock);
        }
        scenario s { run t(); expect assert "scheduling while atomic"; }
    """))
    assert result.met


FLUSH = """
    import "workqueue";
    struct work_struct w;
    int[0..1] x = 0;
    thread handler() {
        if (!work_begin(&w))
            return;
        x = 1;
        work_end(&w);
    }
    thread queuer() {
        if (queue_work(&w))
            start handler();
        flush_work(&w);
        assert(x == 1, "flush_work() returned before the handler ran");
    }
    scenario s { run queuer(); max handler 1; expect verified; }
"""


def test_flush_work_waits_for_the_handler(spec_file: Spec) -> None:
    assert run(spec_file(FLUSH)).verdict == "verified"


def test_without_flush_work_the_handler_may_not_have_run(spec_file: Spec) -> None:
    text = FLUSH.replace("        flush_work(&w);\n", "").replace(
        "expect verified", 'expect assert "flush_work() returned before the handler ran"')
    assert run(spec_file(text)).met


CANCEL = """
    import "workqueue";
    struct work_struct w;
    bool cancelled = false;
    thread handler() {
        if (!work_begin(&w))
            return;
        assert(!cancelled, "the handler ran after cancel_work_sync() returned");
        work_end(&w);
    }
    thread queuer() {
        if (queue_work(&w))
            start handler();
        cancel_work_sync(&w);
        cancelled = true;
    }
    scenario s { run queuer(); max handler 1; expect verified; }
"""


def test_cancel_work_sync_stops_a_queued_handler_or_waits_for_it(spec_file: Spec) -> None:
    """Both ways happen: the handler is cancelled before it runs (its early
    return executes) and it runs before the cancel (its assert executes)."""
    path = spec_file(CANCEL)
    result = run(path)
    assert result.verdict == "verified"
    assert [o for o in result.unexecuted if o.span.file == str(path)] == []


def test_a_handler_that_ignores_cancellation_runs_after_it(spec_file: Spec) -> None:
    """work_started() is for items nobody cancels: it cannot see that the
    item was taken off the queue."""
    text = CANCEL.replace("""        if (!work_begin(&w))
            return;
        assert(!cancelled, "the handler ran after cancel_work_sync() returned");
        work_end(&w);""", """        work_started(&w);
        assert(!cancelled, "the handler ran after cancel_work_sync() returned");""").replace(
        "expect verified", 'expect assert "the handler ran after cancel_work_sync() returned"')
    assert run(spec_file(text)).met
