"""Exact state counts of small programs, computed by hand.

Each docstring derives the count; a change in the atomicity rule, the
fusion of local statements, or the search shows up here first.
"""

from __future__ import annotations

from checker.explore.options import CheckOptions
from tests.conftest import run


def test_one_thread_three_shared_steps(spec_file):
    """pc 1, 2, 3 and finished: the thread's three stores are three steps,
    and the final state (pc 0, locals reset) is the fourth state."""
    p = spec_file("""
        int[0..3] x = 0;
        thread t() { x = 1; x = 2; x = 3; }
        scenario s { run t(); }
    """)
    r = run(p)
    assert r.verdict == "verified"
    assert (r.stats.states, r.stats.transitions, r.stats.depth) == (4, 3, 3)


def test_local_statements_take_no_step(spec_file):
    """The local computations fuse into the shared store before them (or,
    at the start, after them): still one step per shared statement."""
    p = spec_file("""
        int[0..7] x = 0;
        thread t() {
            int[0..7] a = 1;
            a = a + 1;
            x = a;
            a = a + 2;
            a = a - 1;
            x = a;
        }
        scenario s { run t(); }
    """)
    r = run(p)
    # states: start; after first store (x=2, a=4 after the fused suffix... )
    # the suffix a+2, a-1 runs with the first store: a=3 then; second store.
    assert (r.stats.states, r.stats.transitions) == (3, 2)


def test_two_independent_threads_interleave(spec_file):
    """Two threads with one store each: 2 x 2 combinations of done/not done."""
    p = spec_file("""
        bool a = false;
        bool b = false;
        thread ta() { a = true; }
        thread tb() { b = true; }
        scenario s { run ta(); run tb(); }
    """)
    r = run(p)
    assert (r.stats.states, r.stats.transitions) == (4, 4)


def test_lock_protected_increments(spec_file):
    """Two threads: lock, t = x, x = t + 1, unlock (which ends the thread).
    Each thread is at pc 1 (before the lock), 2, 3, 4 (holding it) or
    finished: 5 x 5 = 25 pairs, minus the 9 with both holding the lock.
    Everything else (x, t, the owner, preempt_count) follows from the pcs:
    t is live only inside the section, reset when the thread ends: 16."""
    p = spec_file("""
        import "spinlock";
        spinlock_t l;
        int[0..2] x = 0;
        thread inc() {
            int[0..2] t;
            spin_lock(&l);
            t = x;
            x = t + 1;
            spin_unlock(&l);
        }
        final both_counted: x == 2;
        scenario two { run inc(); run inc(); }
    """)
    r = run(p)
    assert r.verdict == "verified"
    assert r.stats.states == 16


def test_either_branches_are_separate_steps_from_one_state(spec_file):
    """either: two first steps from the initial state, then the join.
    States: start, x=1 (done), x=2 (done) = 3."""
    p = spec_file("""
        int[0..2] x = 0;
        thread t() { either { x = 1; } or { x = 2; } }
        scenario s { run t(); }
    """)
    r = run(p)
    assert (r.stats.states, r.stats.transitions) == (3, 2)


def test_choose_of_a_local_fuses_into_the_store(spec_file):
    """v = choose(0..3) is local, so the four choices fuse into x = v:
    four successors of the start, all finished: 5 states."""
    p = spec_file("""
        int[0..3] x = 0;
        thread t() { int[0..3] v = choose(0..3); x = v; }
        scenario s { run t(); }
    """)
    r = run(p)
    assert (r.stats.states, r.stats.transitions) == (5, 4)


def test_atomic_block_is_one_step(spec_file):
    """Three stores in an atomic block: one step; start and end: 2 states."""
    p = spec_file("""
        int[0..3] x = 0;
        int[0..3] y = 0;
        thread t() { atomic { x = 1; y = 2; x = 3; } }
        scenario s { run t(); }
    """)
    r = run(p)
    assert (r.stats.states, r.stats.transitions) == (2, 1)


def test_await_orders_threads(spec_file):
    """The waiter can only move after the setter: states are
    (set pending, wait pending), (set done, wait pending), (both done) = 3."""
    p = spec_file("""
        bool flag = false;
        thread setter() { flag = true; }
        thread waiter() { await flag; }
        scenario s { run setter(); run waiter(); }
    """)
    r = run(p)
    assert r.verdict == "verified"
    assert (r.stats.states, r.stats.transitions) == (3, 2)


def test_bfs_and_dfs_visit_the_same_states(spec_file):
    p = spec_file("""
        import "spinlock";
        spinlock_t l;
        int[0..3] x = 0;
        thread inc() { int[0..3] t; spin_lock(&l); t = x; x = t + 1; spin_unlock(&l); }
        scenario three { run inc(); run inc(); run inc(); }
    """)
    bfs = run(p, opts=CheckOptions().strategy("bfs"))
    dfs = run(p, opts=CheckOptions().strategy("dfs"))
    assert bfs.verdict == dfs.verdict == "verified"
    assert bfs.stats.states == dfs.stats.states
    assert bfs.stats.transitions == dfs.stats.transitions


def test_a_choice_commits_before_an_await(spec_file):
    """either { await never; } or { x = 1; }: the thread may choose the
    branch that waits forever, so the run can deadlock. Fusing the choice
    into the await would let the thread take only the branch that can run."""
    p = spec_file("""
        bool never = false;
        int[0..1] x = 0;
        thread t() { either { await never; } or { x = 1; } }
        scenario s { run t(); expect deadlock; }
    """)
    r = run(p)
    assert r.verdict == "violation" and r.violation is not None
    assert r.violation.kind == "deadlock"
    assert r.met


def test_a_loop_of_only_local_statements_takes_a_step_per_pass(spec_file):
    """README, atomicity rule 2: the fuser does not unroll a local loop.
    Steps: [l = 0, l < 5, l++] (the thread's start), then four passes
    [l < 5, l++] (l = 2..5), then [!(l < 5), g = l, exit]: 6 steps in one
    line, so 7 states, 6 transitions, depth 6."""
    p = spec_file("""
        int[0..9] g = 0;
        thread t() { int[0..9] l = 0; while (l < 5) { l++; } g = l; }
        scenario s { run t(); }
    """)
    r = run(p)
    assert r.verdict == "verified"
    assert (r.stats.states, r.stats.transitions, r.stats.depth) == (7, 6, 6)


def test_free_of_the_null_literal_does_nothing(spec_file):
    """README: `free(null)` does nothing, not even a step: g = 1 is the
    thread's one step."""
    p = spec_file("""
        struct o { int[0..1] v; };
        pool struct o os[1];
        int[0..1] g = 0;
        thread t() { free(null); g = 1; free(null); }
        scenario s { run t(); }
    """)
    r = run(p)
    assert r.verdict == "verified"
    assert (r.stats.states, r.stats.transitions) == (2, 1)


def test_free_of_a_null_reference_does_nothing(spec_file):
    """README: `free(p)` with p null does nothing: no fault, the pool
    untouched. Two shared steps (free(p) reads the global p; g = 1): 3
    states."""
    p = spec_file("""
        struct o { int[0..1] v; };
        pool struct o os[1];
        struct o *p = null;
        int[0..1] g = 0;
        thread t() { free(p); g = 1; }
        scenario s { run t(); }
    """)
    r = run(p)
    assert r.verdict == "verified"
    assert (r.stats.states, r.stats.transitions) == (3, 2)


def test_threads_restarting_each_other_spin_forever(spec_file):
    """No thread body loops, yet the run does: a worker stores g, starts a
    worker in the other free slot and finishes. States: t0 about to start
    (1); worker#2 at `g = a` (2); at `start` (3); worker#3 at `g = a` with
    #2 free (4); #3 at `start` (5); #2 restarted at `g = a` (6); its store
    leads back to state 3. Six states, six transitions, and states 3-6 are
    a bottom component where no thread finishes: spinning forever. Found by
    hypothesis: the livelock pass was skipped because no thread's own pc
    graph had a cycle (a started slot's return to its entry pc was missing)."""
    p = spec_file("""
        int[0..3] g = 0;
        thread worker(int[0..3] a) { g = a; start worker(a); }
        thread t0() { start worker(1); }
        scenario s { run t0(); max worker 2; }
    """)
    r = run(p)
    assert (r.stats.states, r.stats.transitions) == (6, 6)
    assert r.verdict == "violation"
    assert r.violation is not None and r.violation.kind == "deadlock"
    assert r.violation.cycle, "a spinning run, not a stuck state"
