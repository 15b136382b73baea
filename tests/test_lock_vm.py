"""The lock search on the VM (`checker.locks.vm_search`, kernel
`checker.vm.pairs`) against the reference search (`explore_locks`): the
same states, pairs, completeness, lock instances in the same numbering,
every fact with the same first witness (and the same run to it), every
table in the same order; and the documents `doc` and `diff` build from
them, character for character."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from checker.locks import search as lock_search
from checker.locks.explore import LockFacts, Witness, explore_locks
from checker.locks.search import PYTHON_FIRST, search_locks
from checker.locks.vm_search import VmLockSearch
from tests.conftest import ROOT, systems
from tests.heap_programs import heap_programs

FACTS = ["states", "pairs", "complete", "instances", "classes", "edges", "ops", "locations",
         "must_hold", "has_might_sleep", "usage"]


def _ordered(x: Any) -> Any:
    """`x` with every dict as its list of items and every set sorted: equal
    only if the tables were filled in the same order."""
    if isinstance(x, dict):
        return [(k, _ordered(v)) for k, v in x.items()]
    if is_dataclass(x) and not isinstance(x, type):
        return [(f.name, _ordered(getattr(x, f.name))) for f in fields(x)]
    if isinstance(x, (list, tuple)):
        return [_ordered(v) for v in x]
    if isinstance(x, (set, frozenset)):
        return sorted(repr(v) for v in x)
    return x


def _witnesses(f: LockFacts) -> list[Witness]:
    out: list[Witness] = []

    def walk(x: Any) -> None:
        if isinstance(x, Witness):
            out.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif is_dataclass(x) and not isinstance(x, type):
            for fl in fields(x):
                walk(getattr(x, fl.name))
        elif isinstance(x, (list, tuple, set)):
            for v in x:
                walk(v)

    for name in ("edges", "ops", "locations", "must_hold"):
        walk(getattr(f, name))
    return out


def assert_same_facts(ref: LockFacts, got: LockFacts) -> None:
    for name in FACTS:
        assert _ordered(getattr(ref, name)) == _ordered(getattr(got, name)), (ref.ts.scenario,
                                                                              name)
    wr, wg = _witnesses(ref), _witnesses(got)
    assert wr == wg
    for w in wr:
        assert ref.path(w.key) == got.path(w.key), (ref.ts.scenario, w)


def assert_same_pairs(ref: LockFacts, search: VmLockSearch) -> None:
    """Every (state, held locks) pair, with its parent, as the reference has it."""
    keys = [search.pair_key(i) for i in range(ref.pairs)]
    assert keys == list(ref.parent)  # discovery order: the breadth-first order
    for i, k in enumerate(keys):
        link = ref.parent[k]
        assert (None if link is None else link[0]) == (keys[int(search.parent[i])] if i else None)


SPEC_SCENARIOS = [  # spec, scenario, pairs within 15,000 (all of them: complete)
    ("zsmalloc/map_vs_migrate.mig", "map_free_vs_migrate", 4608),
    ("zsmalloc/migration.mig", "free_vs_compaction", 15_000),
    ("shapes/chain_walk.mig", "free_vs_two_migrations_fixed", 9079),
    ("balloon/balloon_compaction.mig", "two_compactors_one_page", 1119),
    ("exchange/exchange_pages.mig", "exchange_abba_lock_by_pfn", 12258),
    ("zram/slot_vs_migration.mig", "reads_vs_compaction", 9759),
    ("shapes/callback_lock.mig", "fill_vs_fs_oom", 67),
    # interrupt handlers: lockdep's usage bits from every state seen
    ("shapes/softirq_free_under_plain_lock.mig", "softirq_hangs_54", 53),
    ("shapes/irq_enable_under_lock.mig", "interrupt_elsewhere_416", 84),
]


@pytest.mark.parametrize("spec,scenario,pairs", SPEC_SCENARIOS)
def test_the_vm_search_gives_the_reference_facts_on_specs(spec, scenario, pairs):
    (ts,) = systems(ROOT / "specs" / spec, scenarios=[scenario])
    ref = explore_locks(ts, max_states=15_000)
    search = VmLockSearch(ts, 15_000)
    got = search.run()
    assert (ref.pairs, ref.complete) == (pairs, pairs < 15_000)
    assert_same_facts(ref, got)
    assert_same_pairs(ref, search)


def test_a_cut_search_is_incomplete_and_cut_where_the_reference_cuts():
    # 20,000 of its pairs: the limit falls inside a pair's expansion, whose
    # later threads still count; every cap below a small scenario's size too.
    (ts,) = systems(ROOT / "specs" / "balloon" / "balloon_compaction.mig",
                    scenarios=["deflate_vs_compaction"])
    ref = explore_locks(ts, max_states=12_000)
    got = VmLockSearch(ts, 12_000).run()
    assert not ref.complete and ref.pairs == 12_000
    assert_same_facts(ref, got)
    (small,) = systems(ROOT / "specs" / "shapes" / "callback_lock.mig",
                       scenarios=["fill_vs_fs_oom"])
    full = explore_locks(small)
    assert full.complete and full.pairs == 67
    for cap in range(1, full.pairs + 2):
        ref = explore_locks(small, max_states=cap)
        got = VmLockSearch(small, cap).run()
        assert ref.complete == (cap >= full.pairs)
        assert_same_facts(ref, got)


LOCK_BY_HANDLE = """
    import "spinlock";
    struct obj { spinlock_t lock; int[0..3] v; };
    struct obj objs[2];
    int[0..3] taken = 0;
    int[0..1] big = 0;
    void bump(struct obj *o) {
        spin_lock(&o->lock);
        o->v = o->v + 1;
        if (big < 100000000000000000000) { taken = taken + 1; }
        spin_unlock(&o->lock);
    }
    thread user(int[0..1] k) { bump(&objs[k]); }
    thread leaks() { spin_lock(&objs[1].lock); objs[1].v = 2; }
    scenario two { run user(0); run user(1); run user(0); }
    scenario leak { run leaks(); run user(0); run user(1); }
"""


def test_locks_named_through_parameters_and_steps_the_vm_leaves_to_python(spec_file, monkeypatch):
    # The instance is the parameter's object (a ghost of each thread); the
    # constant beyond 62 bits makes the machine hand those steps to Python.
    path = spec_file(LOCK_BY_HANDLE)
    ts, leak = systems(path)
    escapes = []
    orig = VmLockSearch._escape

    def counted(self: VmLockSearch) -> None:
        escapes.append(1)
        orig(self)

    monkeypatch.setattr(VmLockSearch, "_escape", counted)
    ref = explore_locks(ts)
    got = VmLockSearch(ts, 2_000_000).run()
    assert escapes
    assert_same_facts(ref, got)
    assert [i.name for i in got.instances] == ["objs[0].lock", "objs[1].lock"]
    assert set(got.classes) == {"objs.lock"}
    # A thread that ends holding a lock: the same pairs, parents and facts.
    ref = explore_locks(leak)
    search = VmLockSearch(leak, 2_000_000)
    got = search.run()
    assert_same_facts(ref, got)
    assert_same_pairs(ref, search)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(heap_programs())
def test_the_vm_search_gives_the_reference_facts_on_random_programs(spec_file, text):
    # References, frees, run-time indices, thread starts, faults.
    for ts in systems(spec_file(text)):
        ref = explore_locks(ts, max_states=5_000)
        assert_same_facts(ref, VmLockSearch(ts, 5_000).run())


def test_auto_stays_in_python_for_small_scenarios_and_moves_to_the_vm_past_them(monkeypatch):
    (small,) = systems(ROOT / "specs" / "shapes" / "callback_lock.mig",
                       scenarios=["fill_vs_fs_oom"])
    (large,) = systems(ROOT / "specs" / "shapes" / "chain_walk.mig",
                       scenarios=["free_vs_two_migrations_fixed"])
    used = []
    orig = VmLockSearch.run

    def run(self: VmLockSearch) -> LockFacts:
        used.append(self.ts.scenario)
        return orig(self)

    monkeypatch.setattr(VmLockSearch, "run", run)
    monkeypatch.setattr(lock_search, "kernel_loaded", lambda: False)  # a fresh process
    assert search_locks(small).pairs == 67 and not used
    got = search_locks(large)
    assert used == [large.scenario] and got.pairs > PYTHON_FIRST
    assert_same_facts(explore_locks(large), got)
    assert search_locks(large, engine="python").tracer is None
    # Once the kernel is loaded, Python would be no faster: the VM at once,
    # with the same facts (a scenario with interrupt handlers too: their
    # usage bits were once the reference search's alone).
    monkeypatch.setattr(lock_search, "kernel_loaded", lambda: True)
    got = search_locks(small)
    assert used == [large.scenario, small.scenario]
    assert_same_facts(explore_locks(small), got)
    (irq,) = systems(ROOT / "specs" / "shapes" / "softirq_free_under_plain_lock.mig",
                     scenarios=["softirq_hangs_54"])
    got = search_locks(irq)
    assert used[-1] == irq.scenario and got.usage == {
        "hugetlb_lock": {"HARDIRQ-ON-W", "IN-SOFTIRQ-W", "SOFTIRQ-ON-W"}}
    assert_same_facts(explore_locks(irq), got)


def test_the_kernel_counts_as_loaded_once_it_ran() -> None:
    (large,) = systems(ROOT / "specs" / "shapes" / "chain_walk.mig",
                       scenarios=["free_vs_two_migrations_fixed"])
    VmLockSearch(large, 10).run()
    assert lock_search.kernel_loaded()


@pytest.mark.parametrize("spec", ["shapes/chain_walk.mig", "zsmalloc/map_vs_migrate.mig",
                                  "balloon/balloon_compaction.mig"])
def test_doc_and_diff_output_is_the_same_by_either_engine(spec):
    from checker.diff.compare import compare
    from checker.diff.render import RENDERERS
    from checker.doc.command import spec_locks
    from checker.doc.html import render_html
    from checker.doc.locking import build_document
    from checker.doc.markdown import render_markdown

    sy = systems(ROOT / "specs" / spec)
    text = {}
    for engine in ("python", "vm"):
        sl = spec_locks(sy, 6_000, False, engine=engine)
        doc = build_document(sl, False)
        every = build_document(sl, True)
        d = compare(sl, sl, "old", "new", {})
        text[engine] = (render_markdown(doc), render_html(doc), render_markdown(every),
                        RENDERERS["json"](d), RENDERERS["text"](d), sl.complete)
    assert text["python"] == text["vm"]
