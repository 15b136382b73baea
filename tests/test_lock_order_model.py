"""models/lock_order.mig: lock order checked by assertion, per thread.

The bookkeeping is thread-local, so it adds no step: a ranked lock costs
the step of the lock itself. The check runs where the atomicity rule puts
local statements, with the shared step before them.
"""

from __future__ import annotations

from tests.conftest import run

HEADER = """
const NR_LOCK_RANKS = 2;
import "lock_order";
spinlock_t a;       // rank 0
spinlock_t b;       // rank 1
"""

MESSAGE = "lock order: a lock taken while holding one that comes after it"


def test_acquisitions_down_the_order_verify_with_one_step_per_lock(spec_file):
    """lock a, lock b, unlock b, unlock a: four steps, five states."""
    p = spec_file(HEADER + """
        thread t() {
            ranked_spin_lock(&a, 0);
            ranked_spin_lock(&b, 1);
            ranked_spin_unlock(&b, 1);
            ranked_spin_unlock(&a, 0);
        }
        scenario s { run t(); }
    """)
    r = run(p)
    assert r.verdict == "verified"
    assert (r.stats.states, r.stats.transitions) == (5, 4)


def test_acquisition_against_the_order_is_reported_without_a_deadlock(spec_file):
    """b then a in one thread: the check fused into the first step (the
    lock of b, then the local test before the lock of a) fails."""
    p = spec_file(HEADER + """
        thread t() {
            ranked_spin_lock(&b, 1);
            ranked_spin_lock(&a, 0);
            ranked_spin_unlock(&a, 0);
            ranked_spin_unlock(&b, 1);
        }
        scenario s { run t(); expect assert "MESSAGE"; }
    """.replace("MESSAGE", MESSAGE))
    r = run(p)
    assert r.met and r.violation is not None
    assert r.violation.name == MESSAGE
    assert r.violation.steps == 1


def test_a_trylock_against_the_order_is_allowed(spec_file):
    """A trylock never waits: recorded, not checked (as lockdep does)."""
    p = spec_file(HEADER + """
        thread t() {
            ranked_spin_lock(&b, 1);
            if (spin_trylock(&a)) {
                lock_rank_hold(0);
                spin_unlock(&a);
                lock_rank_release(0);
            }
            ranked_spin_unlock(&b, 1);
        }
        scenario s { run t(); }
    """)
    r = run(p)
    assert r.verdict == "verified"
    assert r.stats.states == 5


def test_locks_of_one_rank_may_nest(spec_file):
    p = spec_file(HEADER + """
        spinlock_t c;   // rank 0, like a second page lock
        thread t() {
            ranked_spin_lock(&a, 0);
            ranked_spin_lock(&c, 0);
            ranked_spin_unlock(&c, 0);
            ranked_spin_unlock(&a, 0);
        }
        scenario s { run t(); }
    """)
    assert run(p).verdict == "verified"


def test_an_abba_pair_is_reported_before_it_deadlocks(spec_file):
    """The shortest counterexample is the one-step order violation, not the
    four-step deadlock of the two threads."""
    p = spec_file(HEADER + """
        thread ab() { ranked_spin_lock(&a, 0); ranked_spin_lock(&b, 1);
                      ranked_spin_unlock(&b, 1); ranked_spin_unlock(&a, 0); }
        thread ba() { ranked_spin_lock(&b, 1); ranked_spin_lock(&a, 0);
                      ranked_spin_unlock(&a, 0); ranked_spin_unlock(&b, 1); }
        scenario s { run ab(); run ba(); expect assert "MESSAGE"; }
    """.replace("MESSAGE", MESSAGE))
    r = run(p)
    assert r.met and r.violation is not None and r.violation.steps == 1
