"""Compare two versions of a spec: what a reviewer of a model patch needs.

Per scenario (matched by name): reachable states, the verdict and each
property found broken; the lock-order edges added and removed, new cycles,
declared orders newly broken, and the lockset rule of every field that
changed. A *regression* is a property that held (the old search was complete
and found nothing) and now fails, a new lock-order cycle, or a declared
order the new version breaks; the command exits non-zero on any.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.explore.result import CheckResult
from checker.locks.summary import Cycle, OrderEdge, SpecLocks
from checker.trace.model import Trace


@dataclass
class ScenarioDiff:
    name: str
    old_states: int | None
    new_states: int | None
    old_verdict: str | None
    new_verdict: str | None
    old_status: str | None
    new_status: str | None
    old_found: list[str] = field(default_factory=list)
    new_found: list[str] = field(default_factory=list)
    now_fails: list[str] = field(default_factory=list)  # regressions
    now_holds: list[str] = field(default_factory=list)
    trace: Trace | None = None  # the new counterexample of a regression

    @property
    def changed(self) -> bool:
        return (self.old_states != self.new_states or self.old_verdict != self.new_verdict
                or self.old_status != self.new_status or self.old_found != self.new_found)


@dataclass
class FieldChange:
    name: str
    old: str  # the rule text (per scenario where it differs), or "-" when absent
    new: str


@dataclass
class SpecDiff:
    old_label: str
    new_label: str
    scenarios: list[ScenarioDiff]
    edges_added: list[OrderEdge]
    edges_removed: list[OrderEdge]
    new_cycles: list[Cycle]
    gone_cycles: list[list[str]]
    orders_broken: list[tuple[str, OrderEdge]]  # (declared chain, the breaking edge)
    fields: list[FieldChange]
    new_locks: SpecLocks = field(repr=False, default=None)  # type: ignore[assignment]

    @property
    def regressions(self) -> int:
        return (sum(len(s.now_fails) for s in self.scenarios) + len(self.new_cycles)
                + len(self.orders_broken))


def _found(r: CheckResult | None) -> list[str]:
    if r is None:
        return []
    vs = ([r.violation] if r.violation else []) + list(r.others)
    return sorted({v.kind + (f" '{v.name}'" if v.name else "") for v in vs})


def _rule(sl: SpecLocks, name: str) -> str:
    f = next((f for f in sl.fields if f.name == name), None)
    if f is None:
        return "-"
    groups = f.groups()
    if len(groups) == 1:
        return groups[0][0]
    return "; ".join(f"{t} (in {', '.join(s)})" for t, s in groups)


def compare(old: SpecLocks, new: SpecLocks, old_label: str, new_label: str,
            traces: dict[str, Trace | None]) -> SpecDiff:
    """`traces`: the new version's counterexample per scenario, if any."""
    olds = {s.name: s for s in old.scenarios}
    news = {s.name: s for s in new.scenarios}
    names = list(olds) + [n for n in news if n not in olds]
    scen: list[ScenarioDiff] = []
    for n in names:
        o, w = olds.get(n), news.get(n)
        ro, rn = old.results.get(n), new.results.get(n)
        d = ScenarioDiff(n, o.states if o else None, w.states if w else None,
                         o.verdict if o else None, w.verdict if w else None,
                         o.status if o else None, w.status if w else None,
                         _found(ro), _found(rn))
        if o is not None and w is not None and ro is not None and rn is not None:
            held = ro.verdict == "verified"
            if held:
                d.now_fails = [v for v in d.new_found if v not in d.old_found]
            if rn.verdict == "verified":
                d.now_holds = list(d.old_found)
            if d.now_fails:
                d.trace = traces.get(n)
        scen.append(d)
    okeys = {(e.src, e.dst) for e in old.edges}
    nkeys = {(e.src, e.dst) for e in new.edges}
    added = [e for e in new.edges if (e.src, e.dst) not in okeys]
    removed = [e for e in old.edges if (e.src, e.dst) not in nkeys]
    ocycles = {tuple(c.classes) for c in old.cycles}
    ncycles = {tuple(c.classes) for c in new.cycles}
    new_cycles = [c for c in new.cycles if tuple(c.classes) not in ocycles]
    gone = [list(c) for c in sorted(ocycles - ncycles)]
    old_broken = {" -> ".join(o.names) for o in old.orders if o.breaking}
    broken = [(" -> ".join(o.names), o.breaking) for o in new.orders
              if o.breaking and " -> ".join(o.names) not in old_broken]
    fields = []
    for name in sorted({f.name for f in old.fields} | {f.name for f in new.fields}):
        a, b = _rule(old, name), _rule(new, name)
        if a != b:
            fields.append(FieldChange(name, a, b))
    return SpecDiff(old_label, new_label, scen, added, removed, new_cycles, gone,
                    broken, fields, new)
