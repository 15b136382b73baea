"""The kernel library modules of issue 13: models/atomic.mig,
models/refcount.mig, models/kref.mig, models/completion.mig and wait_event()
in models/waitqueue.mig. Each rule is checked both ways on small specs: the
correct use verifies, the misuse is found with the kernel's message. State
counts are worked out by hand in the docstrings."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from checker.cli import main
from tests.conftest import run

Spec = Callable[[str], Path]


def _found(path: Path, message: str) -> None:
    """The scenario's expected violation is found, with this message."""
    result = run(path)
    assert result.met and result.violation is not None, result.verdict
    assert message in result.violation.message, result.violation.message


# ---------------------------------------------------------------- atomic_t

ATOMIC_INC = """
    const ATOMIC_MIN = -2;
    const ATOMIC_MAX = 3;
    import "atomic";
    atomic_t v;
    thread t() {
        atomic_inc(&v);
    }
    final both_counted: v.counter == 2;
    scenario s { run t(); run t(); expect verified; }
"""


def test_atomic_inc_is_one_step(spec_file: Spec) -> None:
    """Each thread takes one step: (t1 done?, t2 done?) with v their sum,
    4 states and 4 transitions."""
    result = run(spec_file(ATOMIC_INC))
    assert result.verdict == "verified"
    assert (result.stats.states, result.stats.transitions) == (4, 4)


def test_read_then_set_loses_an_update(spec_file: Spec) -> None:
    """atomic_set(v, atomic_read(v) + 1) is two steps: both threads read 0."""
    text = ATOMIC_INC.replace("atomic_inc(&v);", "atomic_set(&v, atomic_read(&v) + 1);").replace(
        "expect verified", "expect final both_counted")
    result = run(spec_file(text))
    assert result.met and result.violation is not None
    assert result.violation.name == "both_counted"


DEC_AND_TEST = """
    const ATOMIC_MIN = -2;
    const ATOMIC_MAX = 3;
    import "atomic";
    atomic_t v;
    int[0..2] zeros = 0;
    init { atomic_set(&v, 2); }
    thread t() {
        if (atomic_dec_and_test(&v))
            zeros++;
    }
    final one_saw_zero: zeros == 1 && v.counter == 0;
    scenario s { run t(); run t(); expect verified; }
"""


def test_atomic_dec_and_test_tells_exactly_one_thread(spec_file: Spec) -> None:
    """The first decrement (either thread) ends its thread; the second
    sees 0 and counts in one more step: 1 + 2 + 2 + 1 = 6 states, and
    2 + 1 + 1 + 1 + 1 = 6 transitions."""
    result = run(spec_file(DEC_AND_TEST))
    assert result.verdict == "verified"
    assert (result.stats.states, result.stats.transitions) == (6, 6)


def test_decrement_then_read_lets_both_threads_see_zero(spec_file: Spec) -> None:
    text = DEC_AND_TEST.replace("if (atomic_dec_and_test(&v))", """atomic_dec(&v);
        if (atomic_read(&v) == 0)""").replace("expect verified", "expect final one_saw_zero")
    result = run(spec_file(text))
    assert result.met and result.violation is not None
    assert result.violation.name == "one_saw_zero"


INC_NOT_ZERO = """
    const ATOMIC_MIN = -2;
    const ATOMIC_MAX = 3;
    import "atomic";
    atomic_t refs;
    bool freed = false;
    init { atomic_set(&refs, 1); }
    thread owner() {
        if (atomic_dec_and_test(&refs))
            freed = true;
    }
    thread lookup() {
        if (atomic_inc_not_zero(&refs)) {
            assert(!freed, "a reference taken to a freed object");
            if (atomic_dec_and_test(&refs))
                freed = true;
        }
    }
    final freed_once: freed && refs.counter == 0;
    scenario s { run owner(); run lookup(); expect verified; }
"""


def test_atomic_inc_not_zero_refuses_a_dead_count(spec_file: Spec) -> None:
    assert run(spec_file(INC_NOT_ZERO)).verdict == "verified"


def test_a_test_then_increment_revives_a_dead_count(spec_file: Spec) -> None:
    text = INC_NOT_ZERO.replace("if (atomic_inc_not_zero(&refs)) {", """if (atomic_read(&refs) != 0) {
            atomic_inc(&refs);""").replace(
        "expect verified", 'expect assert "a reference taken to a freed object"')
    _found(spec_file(text), "a reference taken to a freed object")


CMPXCHG = """
    const ATOMIC_MIN = 0;
    const ATOMIC_MAX = 3;
    import "atomic";
    atomic_t v;
    thread t() {
        int[0..3] old;
        do {
            old = atomic_read(&v);
        } while (atomic_cmpxchg(&v, old, old + 1) != old);
    }
    final both_counted: v.counter == 2;
    scenario s { run t(); run t(); expect verified; }
"""


def test_a_cmpxchg_loop_increments(spec_file: Spec) -> None:
    assert run(spec_file(CMPXCHG)).verdict == "verified"


def test_a_cmpxchg_without_its_retry_loses_an_update(spec_file: Spec) -> None:
    text = CMPXCHG.replace("""        do {
            old = atomic_read(&v);
        } while (atomic_cmpxchg(&v, old, old + 1) != old);""", """        old = atomic_read(&v);
        atomic_cmpxchg(&v, old, old + 1);""").replace("expect verified", "expect final both_counted")
    assert run(spec_file(text)).met


XCHG = """
    const ATOMIC_MIN = 0;
    const ATOMIC_MAX = 1;
    import "atomic";
    atomic_t token;
    int[0..2] taken = 0;
    init { atomic_set(&token, 1); }
    thread t() {
        if (atomic_xchg(&token, 0) == 1)
            taken++;
    }
    final one_taker: taken == 1;
    scenario s { run t(); run t(); expect verified; }
"""


def test_atomic_xchg_hands_the_token_to_one_thread(spec_file: Spec) -> None:
    assert run(spec_file(XCHG)).verdict == "verified"


def test_a_read_then_set_hands_the_token_to_both(spec_file: Spec) -> None:
    text = XCHG.replace("if (atomic_xchg(&token, 0) == 1)", """if (atomic_read(&token) == 1) {
            atomic_set(&token, 0);""").replace("taken++;", "taken++;\n        }").replace(
        "expect verified", "expect final one_taker")
    assert run(spec_file(text)).met


VALUES = """
    const ATOMIC_MIN = -1;
    const ATOMIC_MAX = 3;
    import "atomic";
    atomic_t v;
    thread t() {
        atomic_add(3, &v);
        atomic_sub(1, &v);
        assert(atomic_inc_return(&v) == 3, "atomic_inc_return");
        assert(atomic_dec_return(&v) == 2, "atomic_dec_return");
        assert(atomic_fetch_add(-2, &v) == 2, "atomic_fetch_add");
        assert(!atomic_add_unless(&v, 1, 0), "atomic_add_unless on u");
        assert(atomic_add_unless(&v, -1, 1), "atomic_add_unless");
        assert(atomic_inc_and_test(&v), "atomic_inc_and_test from -1");
        assert(!atomic_inc_not_zero(&v), "atomic_inc_not_zero of 0");
        assert(atomic_cmpxchg(&v, 1, 2) == 0, "atomic_cmpxchg that fails");
        assert(atomic_cmpxchg(&v, 0, 1) == 0, "atomic_cmpxchg that stores");
        assert(atomic_read(&v) == 1, "atomic_read");
        atomic_dec(&v);
    }
    scenario s { run t(); expect verified; }
"""


def test_atomic_operations_compute_the_kernels_values(spec_file: Spec) -> None:
    """One thread, one step per operation: 13 steps, 14 states."""
    result = run(spec_file(VALUES))
    assert result.verdict == "verified", result.violation
    assert (result.stats.states, result.stats.transitions) == (14, 13)


def test_a_count_past_the_models_bound_is_a_range_violation(spec_file: Spec) -> None:
    """The kernel's atomic_t wraps at 2^31; the model reports its own bound
    instead of wrapping at it."""
    text = ATOMIC_INC.replace("const ATOMIC_MAX = 3;", "const ATOMIC_MAX = 1;").replace(
        "expect verified", "expect range")
    assert run(spec_file(text)).met


# ---------------------------------------------------------------- refcount_t

REFCOUNT = """
    const REFCOUNT_MAX = 2;
    import "refcount";
    refcount_t r;
    init { refcount_set(&r, 1); }
    thread t() {
        BODY
    }
    scenario s { EXPECT }
"""


@pytest.mark.parametrize(("body", "message"), [
    ("refcount_inc(&r); refcount_dec(&r); if (refcount_dec_and_test(&r)) r.refs = 0;", None),
    ("if (refcount_dec_and_test(&r)) refcount_inc(&r);",
     "refcount_t: addition on 0; use-after-free."),
    ("if (refcount_dec_and_test(&r)) refcount_add(1, &r);",
     "refcount_t: addition on 0; use-after-free."),
    ("if (refcount_dec_and_test(&r)) refcount_dec_and_test(&r);",
     "refcount_t: underflow; use-after-free."),
    ("if (refcount_sub_and_test(2, &r)) r.refs = 0;", "refcount_t: underflow; use-after-free."),
    ("refcount_dec(&r);", "refcount_t: decrement hit 0; leaking memory."),
    ("refcount_inc(&r); refcount_inc(&r);", "refcount_t: saturated; leaking memory."),
    ("refcount_inc_not_zero(&r); refcount_inc_not_zero(&r);", "refcount_t: saturated; leaking memory."),
    ("if (refcount_dec_and_test(&r)) refcount_dec_not_one(&r);",
     "refcount_t: underflow; use-after-free."),
])
def test_refcount_events_are_violations_with_the_kernels_message(
        spec_file: Spec, body: str, message: str | None) -> None:
    """refcount_warn_saturate()'s five events (lib/refcount.c), each from the
    operation that raises it in the kernel; the first body is the balanced
    use that raises none."""
    expect = "run t(); expect verified;" if message is None else \
        f'run t(); expect assert "{message}";'
    path = spec_file(REFCOUNT.replace("BODY", body).replace("EXPECT", expect))
    if message is None:
        assert run(path).verdict == "verified"
    else:
        _found(path, message)


def test_refcount_operations_return_the_kernels_values(spec_file: Spec) -> None:
    """One thread, one step per operation (an if's step is its call's): 9
    steps, 10 states."""
    body = """
        assert(!refcount_dec_not_one(&r), "dec_not_one of 1");
        assert(refcount_dec_if_one(&r), "dec_if_one of 1");
        assert(!refcount_inc_not_zero(&r), "inc_not_zero of 0");
        assert(!refcount_add_not_zero(1, &r), "add_not_zero of 0");
        refcount_set(&r, 1);
        refcount_add(1, &r);
        assert(refcount_dec_not_one(&r), "dec_not_one of 2");
        assert(refcount_read(&r) == 1, "read");
        assert(refcount_dec_and_test(&r), "dec_and_test of 1");"""
    result = run(spec_file(REFCOUNT.replace("BODY", body).replace("EXPECT", "run t();")))
    assert result.verdict == "verified", result.violation
    assert (result.stats.states, result.stats.transitions) == (10, 9)


DEC_AND_LOCK = """
    const REFCOUNT_MAX = 2;
    import "refcount";
    refcount_t r;
    spinlock_t lock;
    bool published = true;
    init { refcount_set(&r, 2); }
    thread put() {
        if (refcount_dec_and_lock(&r, &lock)) {
            assert(published, "unpublished twice");
            published = false;
            spin_unlock(&lock);
        }
    }
    final gone: !published && r.refs == 0 && lock.owner == 0;
    scenario s { run put(); run put(); expect verified; }
"""


def test_refcount_dec_and_lock_returns_the_last_put_holding_the_lock(spec_file: Spec) -> None:
    assert run(spec_file(DEC_AND_LOCK)).verdict == "verified"


def test_refcount_dec_for_a_put_that_may_be_the_last_leaks(spec_file: Spec) -> None:
    text = DEC_AND_LOCK.replace("""        if (refcount_dec_and_lock(&r, &lock)) {
            assert(published, "unpublished twice");
            published = false;
            spin_unlock(&lock);
        }""", "        refcount_dec(&r);").replace(
        "expect verified", 'expect assert "refcount_t: decrement hit 0; leaking memory."')
    _found(spec_file(text), "refcount_t: decrement hit 0; leaking memory.")


# ---------------------------------------------------------------- kref

KREF_PUTS = """
    const REFCOUNT_MAX = 2;
    import "kref";
    struct kref ref;
    int[0..2] released = 0;
    void release(struct kref *kref) {
        released++;
    }
    init { kref_init(&ref); kref_get(&ref); }
    thread t() {
        if (kref_put(&ref))
            release(&ref);
    }
    final released_once: released == 1 && ref.refcount.refs == 0;
    scenario s { run t(); run t(); expect verified; }
"""


def test_kref_put_releases_once(spec_file: Spec) -> None:
    """Two references, two putters: as atomic_dec_and_test(), 6 states and
    6 transitions, the putter that drops the last one releasing."""
    result = run(spec_file(KREF_PUTS))
    assert result.verdict == "verified"
    assert (result.stats.states, result.stats.transitions) == (6, 6)


def test_kref_put_twice_underflows(spec_file: Spec) -> None:
    """One putter too many: whichever runs last takes the count below 0."""
    text = KREF_PUTS.replace("init { kref_init(&ref); kref_get(&ref); }",
                             "init { kref_init(&ref); }").replace(
        "expect verified", 'expect assert "refcount_t: underflow; use-after-free."')
    path = spec_file(text)
    _found(path, "refcount_t: underflow; use-after-free.")
    result = run(path)
    assert result.violation is not None and result.violation.steps == 2


def test_kref_put_twice_on_a_freed_object_is_a_use_after_free(spec_file: Spec) -> None:
    """When the release frees the object, the second put reads freed memory
    before the count can underflow."""
    result = run(spec_file("""
        const REFCOUNT_MAX = 2;
        import "kref";
        struct obj { struct kref ref; };
        pool struct obj objs[1];
        void obj_release(struct obj *o) {
            free(o);
        }
        thread t() {
            struct obj *o = alloc(objs);
            kref_init(&o->ref);
            if (kref_put(&o->ref))
                obj_release(o);
            if (kref_put(&o->ref))
                obj_release(o);
        }
        scenario s { run t(); expect use_after_free; }
    """))
    assert result.met


LOOKUP = """
    const REFCOUNT_MAX = 3;
    option safe = true;
    import "kref";
    struct obj { struct kref ref; int[0..1] data; };
    pool struct obj objs[1];
    struct obj *table;
    spinlock_t table_lock;
    init { table = alloc(objs); kref_init(&table->ref); }

    // The release: unpublish, then free.
    void obj_release(struct obj *o) {
        spin_lock(&table_lock);
        if (table == o)
            table = null;
        spin_unlock(&table_lock);
        free(o);
    }

    // A lookup takes its own reference under the table's lock.
    thread lookup() {
        struct obj *o;
        spin_lock(&table_lock);
        o = table;
        if (o != null) {
            if (safe) {
                if (!kref_get_unless_zero(&o->ref))
                    o = null;
            } else {
                kref_get(&o->ref);
            }
        }
        spin_unlock(&table_lock);
        if (o != null) {
            o->data = 1;
            if (kref_put(&o->ref))
                obj_release(o);
        }
    }

    // The owner drops the table's reference without the lock.
    thread owner() {
        if (kref_put(&objs[0].ref))
            obj_release(&objs[0]);
    }
    final freed: table == null && count(o in objs: true) == 0;
    scenario get_unless_zero { run lookup(); run owner(); expect verified; }
    scenario plain_get {
        option safe = false;
        run lookup(); run owner();
        expect assert "refcount_t: addition on 0; use-after-free.";
    }
"""


def test_kref_get_unless_zero_races_safely_with_the_final_put(spec_file: Spec) -> None:
    result = run(spec_file(LOOKUP), "get_unless_zero")
    assert result.verdict == "verified"


def test_kref_get_racing_with_the_final_put_is_addition_on_zero(spec_file: Spec) -> None:
    """The shortest run: the owner's put reaches 0, the lookup locks the
    table, still finds the object there, and kref_get()s it: 4 steps."""
    result = run(spec_file(LOOKUP), "plain_get")
    assert result.met and result.violation is not None
    assert result.violation.message == ("assertion 'refcount_t: addition on 0; "
                                        "use-after-free.' failed")
    assert result.violation.steps == 4


def test_kref_put_lock_releases_under_the_lock(spec_file: Spec) -> None:
    """kref_put_lock(): the release runs holding the lock and drops it."""
    text = """
        const REFCOUNT_MAX = 2;
        import "kref";
        struct kref ref;
        spinlock_t lock;
        bool released = false;
        void release_locked(struct kref *kref) {
            assert(lock.owner == current, "release called without the lock");
            released = true;
            spin_unlock(&lock);
        }
        init { kref_init(&ref); kref_get(&ref); }
        thread t() {
            if (kref_put_lock(&ref, &lock))
                release_locked(&ref);
        }
        final done: released && lock.owner == 0;
        scenario s { run t(); run t(); EXPECT }
    """
    assert run(spec_file(text.replace("EXPECT", "expect verified;"))).verdict == "verified"
    # A release that forgets the unlock leaves the lock held at the thread's end.
    leaky = text.replace("            spin_unlock(&lock);\n", "").replace(
        "EXPECT", "expect on_exit lock_held_at_exit;")
    assert run(spec_file(leaky)).met


# ---------------------------------------------------------------- completion

COMPLETE_FIRST = """
    const NR_TASKS = 2;
    import "completion";
    struct completion c;
    thread completer() {
        complete(&c);
    }
    thread waiter() {
        await c.done == 1;
        wait_for_completion(&c);
    }
    final consumed: c.done == 0 && c.wait.tasks == 0 && task_not_running == 0;
    scenario s { run completer(); run waiter(); expect verified; }
"""


def test_complete_before_the_wait_is_not_lost(spec_file: Spec) -> None:
    """The waiter starts only once complete() has counted (`await`), and
    passes without sleeping. (completer pc 0..4: lock, count, wake, unlock;
    waiter pc 0..5: the await, lock, test, take, unlock): (0,0) (1,0) (2,0)
    (2,1) (3,0) (3,1) (4,0) (4,1) (4,2) (4,3) (4,4) (4,5): 12 states, the
    waiter's lock blocked until the completer's unlock, 13 transitions."""
    result = run(spec_file(COMPLETE_FIRST))
    assert result.verdict == "verified"
    assert (result.stats.states, result.stats.transitions) == (12, 13)


def test_a_flag_tested_before_sleeping_loses_the_same_wake_up(spec_file: Spec) -> None:
    """The waiter of a completion without its lock: test the flag, then
    sleep; complete() in between wakes nobody."""
    result = run(spec_file("""
        const NR_TASKS = 2;
        import "waitqueue";
        bool done = false;
        wait_queue_head_t wq;
        thread completer() {
            done = true;
            wake_up(&wq);
        }
        thread waiter() {
            if (!done) {
                prepare_to_wait(&wq, TASK_UNINTERRUPTIBLE);
                schedule();
            }
        }
        scenario s { run completer(); run waiter(); expect deadlock; }
    """))
    assert result.met and result.violation is not None
    assert "waiter() at line" in result.violation.message


WAITERS = """
    const NR_TASKS = 3;
    import "completion";
    struct completion c;
    int[0..2] passed = 0;
    thread waiter() {
        wait_for_completion(&c);
        passed++;
    }
    thread completer() {
        COMPLETE
    }
    final all_passed: passed == 2 && c.wait.tasks == 0 && task_not_running == 0;
    scenario s { run waiter(); run waiter(); run completer(); EXPECT }
"""


def test_two_complete_calls_let_two_waiters_through(spec_file: Spec) -> None:
    text = WAITERS.replace("COMPLETE", "complete(&c); complete(&c);").replace("EXPECT", "")
    result = run(spec_file(text))
    assert result.verdict == "verified", result.violation


def test_complete_all_lets_every_waiter_through(spec_file: Spec) -> None:
    text = WAITERS.replace("COMPLETE", "complete_all(&c);").replace("EXPECT", "")
    result = run(spec_file(text))
    assert result.verdict == "verified", result.violation


def test_one_complete_lets_one_waiter_through(spec_file: Spec) -> None:
    """The other sleeps for good: a deadlock in wait_for_completion()."""
    text = WAITERS.replace("COMPLETE", "complete(&c);").replace("EXPECT", "expect deadlock;")
    result = run(spec_file(text))
    assert result.met and result.violation is not None
    assert re.search(r"waiter\(\) at line \d+: wait_for_completion\(&c\)", result.violation.message)


TRY_WAIT = """
    const NR_TASKS = 1;
    import "completion";
    struct completion c;
    thread t() {
        assert(!try_wait_for_completion(&c), "try_wait before complete()");
        complete(&c);
        assert(completion_done(&c), "completion_done after complete()");
        assert(try_wait_for_completion(&c), "try_wait after complete()");
        assert(!completion_done(&c), "completion_done once consumed");
        COMPLETE_ALL
    }
    scenario s { run t(); }
"""


def test_try_wait_for_completion_takes_a_count_without_sleeping(spec_file: Spec) -> None:
    """Steps: the lockless test (1), complete() (4: lock, count, wake,
    unlock), completion_done() (3: test, lock, unlock), try_wait (4: test,
    lock, take, unlock), completion_done() (1): 13 steps, 14 states."""
    result = run(spec_file(TRY_WAIT.replace("COMPLETE_ALL", "")))
    assert result.verdict == "verified", result.violation
    assert (result.stats.states, result.stats.transitions) == (14, 13)


def test_after_complete_all_try_wait_always_succeeds(spec_file: Spec) -> None:
    text = TRY_WAIT.replace("COMPLETE_ALL", """complete_all(&c);
        assert(try_wait_for_completion(&c), "complete_all");
        assert(try_wait_for_completion(&c), "complete_all, again");
        reinit_completion(&c);
        assert(!try_wait_for_completion(&c), "reinit_completion");""")
    assert run(spec_file(text)).verdict == "verified"


def test_a_second_try_wait_after_one_complete_fails(spec_file: Spec) -> None:
    text = TRY_WAIT.replace("COMPLETE_ALL", """assert(try_wait_for_completion(&c), "second try");""").replace(
        "run t(); }", 'run t(); expect assert "second try"; }')
    assert run(spec_file(text)).met


def test_wait_for_completion_under_a_spinlock_sleeps_in_atomic_context(spec_file: Spec) -> None:
    result = run(spec_file("""
        const NR_TASKS = 2;
        import "completion";
        struct completion c;
        spinlock_t lock;
        thread waiter() {
            spin_lock(&lock);
            wait_for_completion(&c);
            spin_unlock(&lock);
        }
        thread completer() { complete(&c); }
        scenario s { run waiter(); run completer(); expect assert "sleeping in atomic context"; }
    """))
    assert result.met


# ---------------------------------------------------------------- wait_event

WAIT_EVENT = """
    const NR_TASKS = 2;
    import "waitqueue";
    wait_queue_head_t wq;
    bool done = false;
    thread waiter() {
        wait_event(&wq, &done);
    }
    thread waker() {
        done = true;
        wake_up(&wq);
    }
    final nobody_queued: wq.tasks == 0 && task_not_running == 0;
    scenario s { run waiter(); run waker(); expect verified; }
"""


def test_wait_event_state_count(spec_file: Spec) -> None:
    """(waiter pc, waker pc, done, queued, sleeping), the waiter's pcs a: the
    fast-path test, b: prepare_to_wait(), c: the test, d: schedule(), e:
    finish_wait(), x: ended; by hand: (a,0,0,0,0) (b,0,0,0,0) (a,1,1,0,0)
    (c,0,0,1,1) (b,1,1,0,0) (x,1,1,0,0) (a,2,1,0,0) (d,0,0,1,1) (c,1,1,1,1)
    (b,2,1,0,0) (x,2,1,0,0) (d,1,1,1,1) (e,1,1,1,1) (c,2,1,0,0) (c,2,1,1,1)
    (d,2,1,0,0) (e,2,1,0,0) (e,2,1,1,1): 18 states, 24 transitions."""
    result = run(spec_file(WAIT_EVENT))
    assert result.verdict == "verified"
    assert (result.stats.states, result.stats.transitions) == (18, 24)


def test_wait_event_with_the_wake_up_before_the_condition_deadlocks(spec_file: Spec) -> None:
    text = WAIT_EVENT.replace("""        done = true;
        wake_up(&wq);""", """        wake_up(&wq);
        done = true;""").replace("expect verified", "expect deadlock")
    result = run(spec_file(text))
    assert result.met and result.violation is not None
    assert "wait_event(&wq, &done)" in result.violation.message


def test_wait_event_without_a_wake_up_deadlocks(spec_file: Spec) -> None:
    text = WAIT_EVENT.replace("        wake_up(&wq);\n", "").replace("expect verified", "expect deadlock")
    assert run(spec_file(text)).met


def test_wait_event_in_atomic_context(spec_file: Spec) -> None:
    """might_sleep() first, even when the condition already holds."""
    text = WAIT_EVENT.replace("wait_event(&wq, &done);", """spin_lock(&wq.lock);
        wait_event(&wq, &done);
        spin_unlock(&wq.lock);""").replace(
        "expect verified", 'expect assert "sleeping in atomic context"')
    assert run(spec_file(text)).met


# ---------------------------------------------------------------- the library's table

def test_migcheck_models_lists_the_new_modules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name, start in [("atomic", "atomic_t: include/linux/atomic.h"),
                        ("refcount", "refcount_t: include/linux/refcount.h"),
                        ("kref", "struct kref: include/linux/kref.h"),
                        ("completion", "struct completion: include/linux/completion.h")]:
        assert re.search(rf"^  {name} +{re.escape(start)}", out, re.M), name
    assert "needs: const REFCOUNT_MAX" in out
    assert "needs: const ATOMIC_MIN, ATOMIC_MAX" in out
