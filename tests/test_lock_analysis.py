"""The lock analyses (checker.locks): each thread's lockset in every
reachable state, lock-order edges and cycles, declared orders, Eraser-style
locksets per field, lock kinds, __must_hold, checked on hand-written specs
whose answers are worked out by hand in each test."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from checker.explore.run import check
from checker.ir.lockkind import MIGHT_SLEEP, LockOp, lock_annotation
from checker.locks.explore import explore_locks
from checker.locks.summary import classes_for_name, summarize
from checker.sema.check import LOCK_ANNOTATIONS
from tests.conftest import ROOT, systems
from tests.heap_programs import heap_programs

LOCKED_INC = """
    import "spinlock";
    spinlock_t l;
    int[0..3] x = 0;
    thread t() { spin_lock(&l); x = x + 1; spin_unlock(&l); }
    scenario one { run t(); }
    scenario two { run t(); run t(); }
"""


def test_states_are_the_engines_reachable_states(spec_file):
    """One thread: lock, increment, unlock: 4 states. Two threads: each at
    pc 1 (before the lock), 2 or 3 (holding it) or 0 (done), never both
    holding it: 2*2 + 2*(2*2) = 12, all reachable; x follows from the pcs."""
    one, two = systems(spec_file(LOCKED_INC))
    f1, f2 = explore_locks(one), explore_locks(two)
    assert (f1.states, f2.states) == (4, 12)
    assert f2.pairs == 12  # the lockset is a function of the state here
    assert check(two).stats.states == 12
    assert f2.complete


def test_lockset_of_a_protected_field_and_lock_kind(spec_file):
    sl = summarize(systems(spec_file(LOCKED_INC), scenarios=["two"]))
    (cls,) = sl.classes
    # No step calls might_sleep(), so nothing tells a spinning lock from a sleeping one.
    assert (cls.name, cls.kind, cls.ops, cls.instances) == ("l", "unknown", ["lock"], ["l"])
    (x,) = [f for f in sl.fields if f.name == "x"]
    v = x.by_scenario["two"]
    assert (v.rule, v.locks, v.write_locks) == ("protected", ["l"], ["l"])
    assert v.text == "every access holds l"
    assert sl.edges == [] and sl.cycles == []


RACY = """
    import "spinlock";
    spinlock_t l;
    int[0..3] guarded = 0;
    int[0..3] racy = 0;
    thread good() { spin_lock(&l); guarded++; racy++; spin_unlock(&l); }
    thread bad() { racy++; spin_lock(&l); guarded++; spin_unlock(&l); }
    scenario s { run good(); run bad(); }
"""


def test_a_write_without_the_lock_is_a_race_with_a_run_to_each_access(spec_file):
    path = spec_file(RACY)
    sl = summarize(systems(path))
    rules = {f.name: f.by_scenario["s"] for f in sl.fields}
    assert rules["guarded"].rule == "protected"
    racy = rules["racy"]
    assert racy.rule == "race"
    (race,) = racy.races  # two writes: one pair, in either order
    rows = {r.thread_kind: r for r in (race.write, race.other)}
    assert {(r.line, r.mode, tuple(r.held)) for r in rows.values()} == {
        (6, "write", ("l",)), (7, "write", ())}
    # bad's unlocked increment is its first step: a one-step run reaches it.
    tr = sl.trace(rows["bad"].first, "writes racy")
    assert len(tr.steps) == 1 and tr.steps[0].text.startswith("thread bad()")
    assert [c.var for c in tr.steps[0].changes if not c.frame] == ["racy"]
    # good's increment: lock, guarded++, then racy++ (three steps of good).
    tr = sl.trace(rows["good"].first, "writes racy")
    assert [s.thread for s in tr.steps] == [1, 1, 1]


RW = """
    import "rwlock";
    rwlock_t rw;
    int[0..3] data = 0;
    thread reader() { read_lock(&rw); int[0..3] v = data; read_unlock(&rw); }
    thread writer() { write_lock(&rw); data = 1; write_unlock(&rw); }
    thread sloppy() { read_lock(&rw); data = 2; read_unlock(&rw); }
    scenario ok { run reader(); run writer(); }
    scenario bad { run writer(); run sloppy(); }
"""


def test_a_write_under_a_read_lock_does_not_count(spec_file):
    sl = summarize(systems(spec_file(RW)))
    (data,) = [f for f in sl.fields if f.name == "data"]
    assert data.by_scenario["ok"].rule == "protected"
    assert data.by_scenario["ok"].locks == ["rw"]
    bad = data.by_scenario["bad"]
    assert bad.rule == "race"
    assert {(r.write.thread_kind, r.other.thread_kind) for r in bad.races} <= {
        ("writer", "sloppy"), ("sloppy", "writer")}
    (cls,) = sl.classes
    assert cls.ops == ["lock", "read_lock"]


ABBA = """
    import "spinlock";
    spinlock_t a;
    spinlock_t b;
    bool done = false;
    thread ab() { spin_lock(&a); spin_lock(&b); spin_unlock(&b); spin_unlock(&a); done = true; }
    thread ba() {
        await done;
        spin_lock(&b);
        spin_lock(&a);
        spin_unlock(&a);
        spin_unlock(&b);
    }
    thread ba_now() { spin_lock(&b); spin_lock(&a); spin_unlock(&a); spin_unlock(&b); }
    lock_order a -> b;
    scenario ordered { run ab(); run ba(); }
    scenario racing { run ab(); run ba_now(); expect deadlock; }
"""


def test_a_cycle_is_reported_even_where_the_deadlock_is_unreachable(spec_file):
    path = spec_file(ABBA)
    ordered = systems(path, scenarios=["ordered"])
    assert check(ordered[0]).verdict == "verified"  # `done` orders the two threads
    sl = summarize(ordered)
    assert [(e.src, e.dst) for e in sl.edges] == [("a", "b"), ("b", "a")]
    (cyc,) = sl.cycles
    assert cyc.classes == ["a", "b"]
    (order,) = sl.orders
    assert order.names == ["a", "b"] and order.classes == [["a"], ["b"]]
    assert order.breaking is not None and (order.breaking.src, order.breaking.dst) == ("b", "a")
    # ab: 5 steps (the last sets done); ba: await done, lock b; then lock a.
    tr = sl.trace(order.breaking.first, "acquires a holding b")
    assert len(tr.steps) == 8
    assert tr.steps[-1].text == "spin_lock(&a);" and tr.steps[-1].thread == 2


def test_the_deadlocking_configuration_has_the_same_cycle(spec_file):
    racing = systems(spec_file(ABBA), scenarios=["racing"])
    assert check(racing[0]).met  # the deadlock is found
    sl = summarize(racing)
    assert [c.classes for c in sl.cycles] == [["a", "b"]]


def test_trylock_adds_no_edge_and_waiting_counts(spec_file):
    p = spec_file("""
        import "spinlock";
        spinlock_t a;
        spinlock_t b;
        thread t() {
            spin_lock(&a);
            if (spin_trylock(&b)) { spin_unlock(&b); }
            spin_unlock(&a);
        }
        thread holder() { spin_lock(&b); spin_lock(&a); spin_unlock(&a); spin_unlock(&b); }
        scenario s { run t(); run holder(); expect verified; }
    """)
    sl = summarize(systems(p))
    assert [(e.src, e.dst) for e in sl.edges] == [("b", "a")]
    assert sl.cycles == []
    (t,) = [k for k in sl.sequences if k == "t"]
    ops = [(r.op, r.lock_class, r.held) for r in sl.sequences[t]]
    assert ops == [("lock", "a", ["-"]), ("trylock", "b", ["a"]), ("unlock", "b", ["a, b"]),
                   ("unlock", "a", ["a"])]


def test_object_locks_are_named_by_their_struct_and_kinds_come_from_might_sleep():
    ts = systems(ROOT / "specs/zsmalloc/map_vs_migrate.mig", scenarios=["map_vs_migrate"])
    sl = summarize(ts)
    kinds = {c.name: (c.kind, c.instances) for c in sl.classes}
    assert kinds["page"] == ("sleeping", ["pages[0]", "pages[1]"])
    assert kinds["zs_class.lock"] == ("spinning", ["zs_class.lock"])
    assert kinds["zspage.lock"][0] == "spinning"
    assert kinds["zs_handle.val.pin"][0] == "spinning"
    assert sl.scenarios[0].states == check(ts[0]).stats.states == 393


SLEEP_CHECK = """
    thread_local int[0..3] in_atomic = 0;
    struct lk { tid owner; };
    struct lk spin;
    struct lk sleepy;
    void CHECK() ANNOTATION { assert(in_atomic == 0, "sleeping in atomic context"); }
    void raw_lock(struct lk *l) __acquires(l) {
        atomic { await l->owner == 0; l->owner = current; in_atomic++; }
    }
    void raw_unlock(struct lk *l) __releases(l) {
        atomic { l->owner = 0; in_atomic--; }
    }
    void sleep_lock(struct lk *l) __acquires(l) {
        CHECK();
        atomic { await l->owner == 0; l->owner = current; }
    }
    void sleep_unlock(struct lk *l) __releases(l) { l->owner = 0; }
    thread good() { sleep_lock(&sleepy); raw_lock(&spin); raw_unlock(&spin); sleep_unlock(&sleepy); }
    thread bad() { raw_lock(&spin); sleep_lock(&sleepy); sleep_unlock(&sleepy); raw_unlock(&spin); }
    scenario ok { run good(); }
    scenario nested { run bad(); expect assert "sleeping in atomic context"; }
"""


def test_lock_kinds_come_from_the_might_sleep_annotation_not_the_name(spec_file):
    """The procedure annotated `__might_sleep()` is the atomic-context check
    whatever it is called: `raw_lock` raises the count it requires to be
    zero, so `spin` is spinning and `sleepy` sleeping, and sleeping under
    `spin` faults. A procedure merely named might_sleep() tells nothing."""
    annotated = spec_file(SLEEP_CHECK.replace("CHECK", "may_block")
                          .replace("ANNOTATION", "__might_sleep()"))
    ok, nested = systems(annotated)
    sl = summarize([ok, nested])
    assert {c.name: c.kind for c in sl.classes} == {"spin": "spinning", "sleepy": "sleeping"}
    r = check(nested)
    assert r.violation is not None and r.violation.name == "sleeping in atomic context"
    assert check(ok).violation is None

    named = spec_file(SLEEP_CHECK.replace("CHECK", "might_sleep").replace("ANNOTATION", ""))
    sl = summarize(systems(named))
    assert {c.name: c.kind for c in sl.classes} == {"spin": "unknown", "sleepy": "unknown"}


def test_every_lock_annotation_decodes():
    """Sema accepts the annotations; `checker.ir.lockkind` says what each
    does. A new annotation must be given a meaning there."""
    assert {k: lock_annotation(k) for k in LOCK_ANNOTATIONS.values()} == {
        "acquires": (LockOp.ACQUIRE, False), "releases": (LockOp.RELEASE, False),
        "cond_acquires": (LockOp.TRY_ACQUIRE, False), "acquires_shared": (LockOp.ACQUIRE, True),
        "releases_shared": (LockOp.RELEASE, True),
        "cond_acquires_shared": (LockOp.TRY_ACQUIRE, True),
        "must_hold": (LockOp.MUST_HOLD, False), MIGHT_SLEEP: None}


def test_must_hold_without_the_lock(spec_file):
    p = spec_file("""
        import "spinlock";
        spinlock_t l;
        int[0..1] x = 0;
        void set_x(spinlock_t *lk) __must_hold(lk) { x = 1; }
        thread good() { spin_lock(&l); set_x(&l); spin_unlock(&l); }
        thread bad() { set_x(&l); }
        scenario s { run good(); run bad(); }
    """)
    sl = summarize(systems(p))
    assert [(m.thread_kind, m.lock_class) for m in sl.must_hold] == [("bad", "l")]
    (x,) = [f for f in sl.fields if f.name == "x"]
    assert x.by_scenario["s"].rule == "race"


def test_lock_order_names_map_to_classes():
    classes = ["page", "zs_class.lock", "zspage.lock", "zs_handle.val.pin"]
    assert classes_for_name("zspage.lock", classes) == ["zspage.lock"]
    assert classes_for_name("zspage_lock", classes) == ["zspage.lock"]
    assert classes_for_name("page_lock", classes) == ["page"]
    assert classes_for_name("class_lock", classes) == ["zs_class.lock"]
    assert classes_for_name("handle_pin", classes) == ["zs_handle.val.pin"]
    assert classes_for_name("migrate_lock", classes) == []


NESTED = """
    import "spinlock";
    spinlock_t locks[2];
    thread nest(int[0..1] i, int[0..1] j) {
        spin_lock(&locks[i]); spin_lock(&locks[j]); spin_unlock(&locks[j]); spin_unlock(&locks[i]);
    }
    scenario same_order { run nest(0, 1); run nest(0, 1); }
    scenario both_ways { run nest(0, 1); run nest(1, 0); expect deadlock; }
"""


def test_a_class_nested_in_itself_says_whether_its_instances_keep_one_order(spec_file):
    # One class, locks[], nested in itself: a cycle locks -> locks either way,
    # as lockdep would report it. In same_order every reachable state nests
    # locks[0] outside locks[1]; both_ways nests them both ways round (and
    # deadlocks), so no one order holds.
    path = spec_file(NESTED)
    same = summarize(systems(path, scenarios=["same_order"]))
    (cyc,) = same.cycles
    assert cyc.classes == ["locks"]
    assert cyc.nested_order == {"same_order": ["locks[0]", "locks[1]"]}
    both = summarize(systems(path, scenarios=["both_ways"]))
    (cyc,) = both.cycles
    assert cyc.classes == ["locks"] and cyc.nested_order is None
    together = summarize(systems(path))
    assert together.cycles[0].nested_order is None


FACT_FIELDS = ["states", "pairs", "complete", "instances", "classes", "edges", "ops",
               "locations", "must_hold", "has_might_sleep", "parent"]


def _same_facts(ts) -> None:
    memo = explore_locks(ts, max_states=20_000)
    plain = explore_locks(ts, max_states=20_000, memo=False)
    for name in FACT_FIELDS:
        assert getattr(memo, name) == getattr(plain, name), (ts.scenario, name)


@pytest.mark.parametrize("spec,scenario", [
    ("zsmalloc/map_vs_migrate.mig", "map_free_vs_migrate"),
    ("shapes/chain_walk.mig", "free_vs_two_migrations_fixed"),
    ("balloon/balloon_compaction.mig", "two_compactors_one_page"),
    ("exchange/exchange_pages.mig", "exchange_abba_unisolated"),
])
def test_memoised_steps_give_the_same_facts_on_specs(spec, scenario):
    # The recorder keeps each step's record under the bits the step may
    # read; every fact (and every witness run) must be what re-running the
    # interpreter at every step gives.
    (ts,) = systems(ROOT / "specs" / spec, scenarios=[scenario])
    _same_facts(ts)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(heap_programs())
def test_memoised_steps_give_the_same_facts_on_random_programs(spec_file, text):
    # References, frees, run-time indices, thread starts (never memoised).
    for ts in systems(spec_file(text)):
        _same_facts(ts)
