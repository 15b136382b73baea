"""The locking rules of a whole spec: every scenario's lock facts merged.

What a reviewer reads (`migcheck doc`) and what a protocol diff compares
(`migcheck diff`): lock classes and kinds, the lock-order graph with its
cycles, the declared orders and whether the model keeps them, the lockset
rule of every shared field, and each thread kind's acquisition sequence.
Everything is sorted so that two runs on the same spec give the same text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import networkx as nx

from checker.explore.irqstate import conflicts
from checker.explore.result import CheckResult
from checker.ir.display import line_label
from checker.ir.nodes import TransitionSystem
from checker.locks.explore import (
    DEFAULT_MAX_STATES,
    AccessSite,
    LocationFacts,
    LockFacts,
    Progress,
    Witness,
)
from checker.locks.search import Engine, search_locks
from checker.locks.witness import witness_trace
from checker.trace.model import Trace

MAX_CYCLES = 20
MAX_RACES = 4


@dataclass(frozen=True)
class Ref:
    """A witness in one scenario."""

    scenario: str
    witness: Witness
    steps: int  # length of the run, for choosing the shortest


@dataclass
class ScenarioSummary:
    name: str
    bindings: dict[str, int | bool]
    threads: list[str]
    states: int
    complete: bool
    expect: str
    verdict: str | None = None  # verified, violation, incomplete (None: not checked)
    status: str | None = None  # met, unmet, vacuous, incomplete
    found: list[str] = field(default_factory=list)  # violations found: "kind" or "kind 'name'"


@dataclass
class LockClass:
    name: str
    kind: str  # spinning, sleeping, unknown
    ops: list[str]
    instances: list[str]
    threads: list[str]
    usage: list[str] = field(default_factory=list)  # lockdep's {IN-HARDIRQ-W}, ... bits
    inconsistent: list[tuple[str, str]] = field(default_factory=list)  # (IN-X, X-ON) pairs


@dataclass
class OrderEdge:
    src: str
    dst: str
    sites: list[str]  # "migrate_page, line 197: spin_lock(&zs_class.lock);"
    scenarios: list[str]
    taken: bool  # acquired holding src in some run (not only waited for)
    shared: bool  # every acquisition of dst along this edge is a shared (read) one
    first: Ref


@dataclass
class Cycle:
    classes: list[str]  # A, B, ..., (back to A)
    edges: list[OrderEdge]
    # For a class nested in itself (A -> A): per scenario, the order its
    # instances were always taken in, when every reachable state agrees on
    # one (a chain walked first to last); None when some scenario nests two
    # instances both ways round (a deadlock this configuration can reach).
    nested_order: dict[str, list[str]] | None = None


@dataclass
class OrderCheck:
    names: list[str]
    classes: list[list[str]]  # the lock classes each name denotes (none: never taken)
    breaking: OrderEdge | None = None  # the first acquisition against the order

    @property
    def kept(self) -> bool:
        return self.breaking is None


@dataclass
class AccessRow:
    thread_kind: str
    line: int
    file: str
    text: str
    mode: str  # read, write
    held: list[str]  # lock classes held
    first: Ref

    spec: str = ""
    atomic: bool = False  # a marked atomic access (its step runs an `atomic { }` block)

    @property
    def what(self) -> str:
        return (f"{self.thread_kind} {self.mode}s it at line "
                f"{line_label(self.file, self.line, self.spec)}")


@dataclass
class Race:
    """A write and an access by another thread that hold no common lock
    (the write counts only locks it holds exclusively)."""

    write: AccessRow
    other: AccessRow

    @property
    def atomic(self) -> bool:
        """No data race: an atomic write against an atomic access or a read.

        As KCSAN counts them, marked atomic accesses never race with each
        other. A read is one load in the model, and a load of a location
        updated by atomic operations is the kernel's atomic_read() or
        READ_ONCE() (`page_count()` against get_page()); a plain store or a
        load-then-store split into two steps stays a race.
        """
        return self.write.atomic and (self.other.atomic or self.other.mode == "read")


@dataclass
class FieldVerdict:
    """The rule of one field in one scenario."""

    rule: str  # read-only, one thread, protected, no race, atomic, race
    text: str
    locks: list[str] = field(default_factory=list)  # held at every access
    write_locks: list[str] = field(default_factory=list)  # held (exclusively) at every write
    races: list[Race] = field(default_factory=list)
    atomics: list[Race] = field(default_factory=list)  # lock-free pairs of atomic accesses


@dataclass
class FieldRule:
    name: str
    threads: list[str]
    writers: list[str]
    by_scenario: dict[str, FieldVerdict] = field(default_factory=dict)

    def groups(self) -> list[tuple[str, list[str]]]:
        """(rule text, the scenarios where it holds), in scenario order."""
        out: dict[str, list[str]] = {}
        for scen, v in self.by_scenario.items():
            out.setdefault(v.text, []).append(scen)
        return list(out.items())

    @property
    def races(self) -> list[tuple[str, Race]]:
        return [(scen, r) for scen, v in self.by_scenario.items() for r in v.races]


@dataclass
class SeqRow:
    op: str
    lock_class: str
    line: int
    file: str
    text: str
    held: list[str]  # alternatives, each "a, b" (or "-" for none)
    order: tuple[int, ...] = ()


@dataclass
class MustHold:
    scenario: str
    thread_kind: str
    lock_class: str
    first: Ref


@dataclass
class SpecLocks:
    spec: str
    scenarios: list[ScenarioSummary]
    classes: list[LockClass]
    edges: list[OrderEdge]
    cycles: list[Cycle]
    orders: list[OrderCheck]
    fields: list[FieldRule]
    sequences: dict[str, list[SeqRow]]
    must_hold: list[MustHold]
    facts: dict[str, LockFacts] = field(default_factory=dict, repr=False)
    results: dict[str, CheckResult] = field(default_factory=dict, repr=False)

    @property
    def complete(self) -> bool:
        return all(s.complete for s in self.scenarios)

    def trace(self, ref: Ref, message: str) -> Trace:
        return witness_trace(self.facts[ref.scenario], ref.witness, message)

    def edge(self, src: str, dst: str) -> OrderEdge | None:
        return next((e for e in self.edges if e.src == src and e.dst == dst), None)


def _ref(facts: LockFacts, scenario: str, w: Witness) -> Ref:
    return Ref(scenario, w, len(facts.path(w.key)))


def _shortest(refs: Iterable[Ref]) -> Ref:
    return min(refs, key=lambda r: r.steps)


def _label(parts: Iterable[str]) -> str:
    return ", ".join(parts) if parts else "-"


def summarize(systems: list[TransitionSystem], results: dict[str, CheckResult] | None = None,
              max_states: int = DEFAULT_MAX_STATES,
              progress: Callable[[str], Progress | None] | None = None,
              engine: Engine = "auto") -> SpecLocks:
    """Explore each scenario's locks and merge them into the spec's rules;
    `progress(scenario)` gives the callback of that scenario's search;
    `engine` the search (`vm_search.search_locks`: the same facts by each)."""
    results = results or {}
    facts = {ts.scenario: search_locks(ts, max_states,
                                       progress(ts.scenario) if progress else None, engine)
             for ts in systems}
    return merge(systems, facts, results)


def merge(systems: list[TransitionSystem], facts: dict[str, LockFacts],
          results: dict[str, CheckResult]) -> SpecLocks:
    spec = systems[0].spec if systems else ""
    scenarios = [_scenario(ts, facts[ts.scenario], results.get(ts.scenario)) for ts in systems]
    classes = _classes(facts)
    edges = _edges(facts)
    cycles = _cycles(edges, facts)
    declared: list[list[str]] = []
    for ts in systems:
        for order in ts.lock_orders:
            if order not in declared:
                declared.append(order)
    orders = [_order_check(names, classes, edges) for names in declared]
    return SpecLocks(spec, scenarios, classes, edges, cycles, orders, _fields(facts),
                     _sequences(facts), _must_hold(facts), facts, dict(results))


def _scenario(ts: TransitionSystem, f: LockFacts, r: CheckResult | None) -> ScenarioSummary:
    exp = ts.expect.kind + (f" '{ts.expect.name}'" if ts.expect.name else "")
    out = ScenarioSummary(ts.scenario, dict(ts.bindings), [t.label for t in ts.threads],
                          f.states, f.complete, exp)
    if r is not None:
        out.verdict, out.status = r.verdict, r.status
        found = ([r.violation] if r.violation else []) + list(r.others)
        out.found = [v.kind + (f" '{v.name}'" if v.name else "") for v in found]
    return out


def _classes(facts: dict[str, LockFacts]) -> list[LockClass]:
    merged: dict[str, LockClass] = {}
    atomic: dict[str, bool] = {}
    knows_sleep = any(f.has_might_sleep for f in facts.values())
    for f in facts.values():
        for name, cf in f.classes.items():
            lc = merged.setdefault(name, LockClass(name, "unknown", [], [], []))
            lc.ops = sorted(set(lc.ops) | cf.ops)
            lc.instances = sorted(set(lc.instances) | cf.instances)
            lc.threads = sorted(set(lc.threads) | cf.threads)
            atomic[name] = atomic.get(name, False) or cf.raises_atomic
        for name, bits in f.usage.items():
            lc = merged.setdefault(name, LockClass(name, "unknown", [], [], []))
            lc.usage = sorted(set(lc.usage) | bits)
            lc.inconsistent = conflicts(set(lc.usage))
    for name, lc in merged.items():
        if atomic.get(name, False):
            lc.kind = "spinning"
        elif knows_sleep and any(op in lc.ops for op in ("lock", "read_lock")):
            lc.kind = "sleeping"
        elif knows_sleep:
            lc.kind = "sleeping (only trylocked)"
    return [merged[k] for k in sorted(merged)]


def _edges(facts: dict[str, LockFacts]) -> list[OrderEdge]:
    refs: dict[tuple[str, str], list[Ref]] = {}
    out: dict[tuple[str, str], OrderEdge] = {}
    for scen, f in facts.items():
        for (a, b), e in f.edges.items():
            r = _ref(f, scen, e.first)
            refs.setdefault((a, b), []).append(r)
            sites = [f"{s.thread_kind}, line {line_label(s.file, s.line, f.ts.spec)}: {s.text}"
                     for s in e.sites.values()]
            shared = all(m[1] for m in e.modes)
            got = out.get((a, b))
            if got is None:
                out[(a, b)] = OrderEdge(a, b, sorted(sites), [scen], e.taken, shared, r)
            else:
                got.sites = sorted(set(got.sites) | set(sites))
                got.scenarios.append(scen)
                got.taken |= e.taken
                got.shared &= shared
    for k, edge in out.items():
        edge.first = _shortest(refs[k])
    return [out[k] for k in sorted(out)]


def _cycles(edges: list[OrderEdge], facts: dict[str, LockFacts]) -> list[Cycle]:
    g: nx.DiGraph = nx.DiGraph()
    by = {(e.src, e.dst): e for e in edges}
    g.add_edges_from(sorted(by))
    found: list[list[str]] = []
    for cyc in nx.simple_cycles(g):
        k = cyc.index(min(cyc))
        found.append(cyc[k:] + cyc[:k])
        if len(found) >= MAX_CYCLES:
            break
    found.sort(key=lambda c: (len(c), c))
    out = []
    for cyc in found:
        pairs = list(zip(cyc, cyc[1:] + cyc[:1], strict=True))
        edge_list = [by[p] for p in pairs]
        nested = _nested_order(facts, cyc[0]) if len(cyc) == 1 else None
        out.append(Cycle(cyc, edge_list, nested))
    return out


def _nested_order(facts: dict[str, LockFacts], cls: str) -> dict[str, list[str]] | None:
    """The instance order of a class nested in itself, per scenario, if each
    scenario's instances of it form an acyclic order over every reachable
    state; else None."""
    orders: dict[str, list[str]] = {}
    for scen in sorted(facts):
        e = facts[scen].edges.get((cls, cls))
        if e is None:
            continue
        g: nx.DiGraph = nx.DiGraph()
        g.add_edges_from(sorted(e.instance_pairs))
        if not nx.is_directed_acyclic_graph(g):
            return None
        orders[scen] = list(nx.lexicographical_topological_sort(g))
    return orders


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[._\[\]]+", name.lower()) if w]


def classes_for_name(name: str, classes: Iterable[str]) -> list[str]:
    """The lock classes a `lock_order` name denotes: the class whose path is
    the name (dots may be written as underscores: `zspage_lock`); failing
    that, every class whose path contains the name's words in order, a
    trailing `lock` optional (`page_lock` is `page`, `class_lock` is
    `zs_class.lock`, `handle_pin` is `zs_handle.val.pin`)."""
    classes = list(classes)
    exact = [c for c in classes if c == name or c.replace(".", "_") == name]
    if exact:
        return exact
    want = _words(name)
    if len(want) > 1 and want[-1] == "lock":
        want = want[:-1]

    def contains(c: str) -> bool:
        it = iter(_words(c))
        return all(any(w == x for x in it) for w in want)

    return [c for c in classes if want and contains(c)]


def _order_check(names: list[str], classes: list[LockClass], edges: list[OrderEdge]
                 ) -> OrderCheck:
    known = [c.name for c in classes]
    mapped = [classes_for_name(n, known) for n in names]
    rank: dict[str, int] = {}
    for i, cs in enumerate(mapped):
        for c in cs:
            rank.setdefault(c, i)
    bad = [e for e in edges if e.src in rank and e.dst in rank and rank[e.src] > rank[e.dst]]
    check = OrderCheck(list(names), mapped)
    if bad:
        check.breaking = min(bad, key=lambda e: (e.first.steps, e.src, e.dst))
    return check


def _fields(facts: dict[str, LockFacts]) -> list[FieldRule]:
    by_field: dict[str, dict[str, list[LocationFacts]]] = {}
    for scen, f in facts.items():
        for lf in f.locations.values():
            by_field.setdefault(lf.of_field, {}).setdefault(scen, []).append(lf)
    out = []
    for name in sorted(by_field):
        rule = FieldRule(name, [], [])
        threads: set[str] = set()
        writers: set[str] = set()
        for scen, locs in by_field[name].items():
            f = facts[scen]
            for lf in locs:
                threads |= _kinds(f, lf.threads)
                writers |= _kinds(f, lf.writers)
            rule.by_scenario[scen] = _verdict(scen, f, locs)
        rule.threads, rule.writers = sorted(threads), sorted(writers)
        out.append(rule)
    return out


def _kinds(f: LockFacts, tids: Iterable[int]) -> set[str]:
    return {f.ts.threads[t - 1].kind for t in tids}


def _row(scen: str, f: LockFacts, site: AccessSite, held: frozenset[int], w: Witness
         ) -> AccessRow:
    s = site.site
    return AccessRow(s.thread_kind, s.line, s.file, s.text, "write" if site.write else "read",
                     list(f.classes_of(held)), _ref(f, scen, w), f.ts.spec, site.atomic)


def _verdict(scen: str, f: LockFacts, locs: list[LocationFacts]) -> FieldVerdict:
    if not any(lf.writers for lf in locs):
        return FieldVerdict("read-only", "only read by the threads (set up by init)")
    shared = [lf for lf in locs if len(lf.threads) > 1 and lf.writers]
    if not shared:
        return FieldVerdict("one thread", "each location is written and read by one thread")
    common: set[str] | None = None
    wcommon: set[str] | None = None
    races: dict[tuple[object, ...], Race] = {}
    for lf in shared:
        cs = set(f.classes_of(lf.lockset or frozenset()))
        common = cs if common is None else common & cs
        ws = set(f.classes_of(lf.write_lockset or frozenset()))
        wcommon = ws if wcommon is None else wcommon & ws
        accesses = [(site, held, w) for site in lf.sites.values() for held, w in site.held.items()]
        for site, held, w in accesses:
            if not site.write:
                continue
            for other, oheld, ow in accesses:
                if other.thread == site.thread or held & oheld:
                    continue
                a, b = _row(scen, f, site, held, w), _row(scen, f, other, oheld, ow)
                key = (a.thread_kind, a.line, tuple(a.held), b.thread_kind, b.line, b.mode,
                       tuple(b.held))
                rev = (b.thread_kind, b.line, tuple(b.held), a.thread_kind, a.line, a.mode,
                       tuple(a.held))
                if key in races or (b.mode == "write" and rev in races):
                    continue
                got = races.get(key)
                if got is None or a.first.steps + b.first.steps < \
                        got.write.first.steps + got.other.first.steps:
                    races[key] = Race(a, b)
    locks, wlocks = sorted(common or ()), sorted(wcommon or ())
    found = sorted(races.values(), key=lambda r: (r.write.first.steps + r.other.first.steps,
                                                  r.write.line, r.other.line))
    atomics = [r for r in found if r.atomic]
    plain = [r for r in found if not r.atomic]
    if plain:
        return FieldVerdict("race", "accesses by different threads hold no common lock",
                            locks, wlocks, plain[:MAX_RACES], atomics[:MAX_RACES])
    if atomics:
        return FieldVerdict("atomic", "atomic: the accesses that hold no common lock are "
                            "atomic operations", locks, wlocks, [], atomics[:MAX_RACES])
    if locks:
        extra = sorted(set(wlocks) - set(locks))
        return FieldVerdict("protected", f"every access holds {_label(locks)}" + (
            f"; writes also {_label(extra)}" if extra else ""), locks, wlocks)
    text = (f"written only under {_label(wlocks)}; each access by another thread holds one "
            "of these" if wlocks else "each write shares a lock with every access by "
            "another thread")
    return FieldVerdict("no race", text, locks, wlocks)


def _sequences(facts: dict[str, LockFacts]) -> dict[str, list[SeqRow]]:
    rows: dict[str, dict[tuple[object, ...], SeqRow]] = {}
    for f in facts.values():
        for row in f.ops.values():
            s = row.site
            k = (s.order, s.file, row.op, row.lock_class)
            per = rows.setdefault(s.thread_kind, {})
            held = [_label(h) for h in row.held]
            got = per.get(k)
            if got is None:
                per[k] = SeqRow(row.op, row.lock_class, s.line, s.file, s.text, sorted(held),
                                s.order)
            else:
                got.held = sorted(set(got.held) | set(held))
    return {kind: [per[k] for k in sorted(per, key=lambda k: (k[0], str(k[1]), k[2], k[3]))]
            for kind, per in sorted(rows.items())}


def _must_hold(facts: dict[str, LockFacts]) -> list[MustHold]:
    out = []
    for scen, f in facts.items():
        for (kind, _aid, cls), w in sorted(f.must_hold.items(), key=lambda kv: kv[0]):
            out.append(MustHold(scen, kind, cls, _ref(f, scen, w)))
    return out
