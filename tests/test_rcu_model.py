"""models/rcu.mig: read-side sections, synchronize_rcu(), call_rcu() as a
callback thread after a grace period, and the misuse the kernel reports.
Each rule has a program that breaks it and one that keeps it."""

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

# A reader's empty section against synchronize_rcu(). The reader's steps
# are r1 (rcu_read_lock(): rcu_readers = 2) and r2 (rcu_read_unlock(), the
# thread's end); the updater's u1 (the snapshot rcu_holdouts[2] =
# rcu_readers, with the asserts fused into it) and u2 (the wait, its end).
SECTION_VS_SYNC = """
    // Linux 5.10
    const NR_TASKS = 2;
    import "rcu";
    thread reader() { rcu_read_lock(); rcu_read_unlock(); }
    thread updater() { synchronize_rcu(); }
    scenario s { run reader(); run updater(); expect verified; }
"""


def test_grace_period_state_count(spec_file: Spec) -> None:
    """(reader pc, updater pc, rcu_readers, rcu_holdouts[2]), by hand:
    (0,0,0,0) (1,0,2,0) (0,1,0,0) (2,0,0,0) (1,1,2,2) (1,1,2,0) (0,2,0,0)
    (2,1,0,0) (1,2,2,0) (2,2,0,0): 10 states; 13 transitions (u2 is blocked
    in (1,1,2,2) until the reader leaves, which also clears the holdout)."""
    result = run(spec_file(SECTION_VS_SYNC))
    assert result.verdict == "verified", result.violation
    assert (result.stats.states, result.stats.transitions) == (10, 13)


def test_synchronize_rcu_waits_for_a_reader_inside_its_section(spec_file: Spec) -> None:
    """A reader that waits, inside its section, for the updater's
    synchronize_rcu() to return deadlocks with it, when it entered before the
    updater's snapshot; entering after it is not waited for (the other
    interleavings finish)."""
    text = SECTION_VS_SYNC.replace(
        "thread reader() { rcu_read_lock(); rcu_read_unlock(); }",
        "bool done = false;\n"
        "    thread reader() { rcu_read_lock(); await done; rcu_read_unlock(); }",
    ).replace("thread updater() { synchronize_rcu(); }",
              "thread updater() { synchronize_rcu(); done = true; }").replace(
        "expect verified", "expect deadlock")
    result = run(spec_file(text))
    assert result.met and result.violation is not None
    assert result.violation.kind == "deadlock"
    assert result.violation.steps == 2


# The classic RCU update: unpublish, wait, free; the reader dereferences.
UPDATE = """
    // Linux 5.10
    const NR_TASKS = 3;
    option wait = true;
    option deferred = false;
    import "rcu";
    struct obj { int[0..3] val; struct rcu_head rcu; };
    pool struct obj objs[1];
    struct obj *gp;
    init { gp = alloc(objs); gp->val = 1; }
    thread reader() {
        rcu_read_lock();
        struct obj *p = gp;                 // rcu_dereference(gp)
        if (p != null)
            assert(p->val == 1, "reader saw a reused object");
        rcu_read_unlock();
    }
    thread obj_free_rcu(struct obj *obj) {
        rcu_callback_begin(&obj->rcu);
        free(obj);                          // kfree(obj)
    }
    thread updater() {
        struct obj *old = gp;
        gp = null;                          // rcu_assign_pointer(gp, NULL)
        if (deferred) {
            call_rcu(&old->rcu);            // kfree_rcu(old, rcu)
            start obj_free_rcu(old);
        } else {
            if (wait)
                synchronize_rcu();
            free(old);
        }
    }
    scenario sync { run reader(); run updater(); expect verified; }
    scenario no_wait { option wait = false; run reader(); run updater(); expect use_after_free; }
    scenario kfree_rcu { option deferred = true; run reader(); run updater();
                         max obj_free_rcu 1; expect verified; }
"""


def test_free_after_synchronize_rcu_verifies(spec_file: Spec) -> None:
    result = run(spec_file(UPDATE), "sync")
    assert result.verdict == "verified", result.violation
    assert result.stats.states == 32


def test_free_without_a_grace_period_is_a_use_after_free(spec_file: Spec) -> None:
    """rcu_read_lock(), p = gp, then the updater unpublishes and frees, and
    the reader's p->val reads freed memory: 6 steps."""
    result = run(spec_file(UPDATE), "no_wait")
    assert result.met and result.violation is not None
    assert result.violation.kind == "use_after_free"
    assert result.violation.steps == 6
    assert "objs[0]" in result.violation.message


def test_kfree_rcu_callback_runs_after_the_grace_period(spec_file: Spec) -> None:
    result = run(spec_file(UPDATE), "kfree_rcu")
    assert result.verdict == "verified", result.violation


def test_callback_without_the_grace_period_is_a_use_after_free(spec_file: Spec) -> None:
    """A callback that frees before rcu_callback_begin() has waited."""
    text = UPDATE.replace("""        rcu_callback_begin(&obj->rcu);
        free(obj);""", """        free(obj);""").replace(
        "max obj_free_rcu 1; expect verified;", "max obj_free_rcu 1; expect use_after_free;")
    result = run(spec_file(text), "kfree_rcu")
    assert result.met and result.violation is not None
    assert result.violation.kind == "use_after_free"


def test_call_rcu_twice_on_one_head(spec_file: Spec) -> None:
    text = UPDATE.replace("""            call_rcu(&old->rcu);            // kfree_rcu(old, rcu)""",
                          """            call_rcu(&old->rcu);
            call_rcu(&old->rcu);""").replace(
        "max obj_free_rcu 1; expect verified;",
        'max obj_free_rcu 1; expect assert "duplicate call_rcu: the rcu_head is already queued";')
    result = run(spec_file(text), "kfree_rcu")
    assert result.met


MISUSE = """
    // Linux 5.10
    const NR_TASKS = 1;
    import "rcu";
    import "mutex";
    struct mutex m;
    thread sync_inside() { rcu_read_lock(); synchronize_rcu(); rcu_read_unlock(); }
    thread sync_after_nested() {
        rcu_read_lock(); rcu_read_lock(); rcu_read_unlock(); rcu_read_unlock();
        synchronize_rcu();
    }
    thread unbalanced_unlock() { rcu_read_unlock(); }
    thread leaks_a_section() { rcu_read_lock(); rcu_read_lock(); rcu_read_unlock(); }
    thread sleeps_inside() { rcu_read_lock(); mutex_lock(&m); mutex_unlock(&m); rcu_read_unlock(); }
    scenario a { run sync_inside();
                 expect assert "synchronize_rcu() in an RCU read-side critical section"; }
    scenario b { run sync_after_nested(); expect verified; }
    scenario c { run unbalanced_unlock(); expect assert "rcu_read_unlock() without rcu_read_lock()"; }
    scenario d { run leaks_a_section(); expect on_exit lock_held_at_exit; }
    scenario e { run sleeps_inside(); expect assert "sleeping in atomic context"; }
"""


def test_synchronize_rcu_inside_a_section_is_reported(spec_file: Spec) -> None:
    result = run(spec_file(MISUSE), "a")
    assert result.met and result.violation is not None
    assert result.violation.steps == 1


def test_synchronize_rcu_after_nested_sections_verifies(spec_file: Spec) -> None:
    """Nesting: only the outermost unlock leaves the section. Four
    rcu_read_lock/unlock steps, the snapshot, the wait: 7 states."""
    result = run(spec_file(MISUSE), "b")
    assert result.verdict == "verified", result.violation
    assert (result.stats.states, result.stats.transitions) == (7, 6)


def test_rcu_read_unlock_without_lock_is_reported(spec_file: Spec) -> None:
    assert run(spec_file(MISUSE), "c").met


def test_a_thread_ending_inside_a_section_leaked_it(spec_file: Spec) -> None:
    result = run(spec_file(MISUSE), "d")
    assert result.met and result.violation is not None
    assert result.violation.kind == "on_exit"


def test_sleeping_inside_a_section_is_sleeping_in_atomic_context(spec_file: Spec) -> None:
    assert run(spec_file(MISUSE), "e").met


@pytest.mark.parametrize("scenario", ["sync", "no_wait", "kfree_rcu"])
def test_the_vm_agrees(spec_file: Spec, scenario: str) -> None:
    """The bytecode machine finds the same states, verdicts and traces as
    the Python engine on the module's loops and tid-indexed arrays."""
    ts = system(spec_file(UPDATE), scenario)
    want = _figures(check(ts, CheckOptions()))
    assert _figures(check(ts, CheckOptions(), engine=vm_bfs)) == want
