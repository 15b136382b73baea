"""The properties a scenario can be checked for, by the names that
`--list-properties` prints and `--property NAME` takes, and the property a
violation breaks (what `--all-violations` keeps one shortest trace of).

Why names and not violation kinds: one kind covers several properties (two
invariants are two properties; every `might_sleep()` assert is the one
property "sleep_in_atomic", as the kernel has one "sleeping function called
from invalid context" check), and a livelock is a deadlock kind with a cycle.

The selection works where each property is checked: invariants and final
properties the search does not select are left out of the scenario before
it is compiled (so they neither stop nor prune the search, in every
engine); the others are dropped by `Outcome.offer` when a run breaks them.
A step that faults cannot be taken whether its property is selected or
not: the runs through it are not explored either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from checker.explore.result import Violation
from checker.ir.nodes import Prop, TransitionSystem
from checker.kinds import CHECKS, ViolationKind, describe

DEADLOCK = "deadlock"
LIVELOCK = "livelock"
STARVATION = "starvation"
NO_PROGRESS = "no_progress"
SLEEP_IN_ATOMIC = "sleep_in_atomic"
# The kinds the semantics' checks raise, other than a failed assert.
FAULT_KINDS: tuple[ViolationKind, ...] = tuple(dict.fromkeys(
    r.kind for r in CHECKS.values() if r.kind != ViolationKind.ASSERT))


@dataclass(frozen=True)
class Property:
    name: str  # what --property takes: a kind word, or kind:name for a declared property
    kind: str
    what: str  # one line for --list-properties


def prop_key(p: Prop) -> str:
    if p.sleep_check:
        return SLEEP_IN_ATOMIC
    return f"{p.kind}:{p.name}"


def property_of(v: Violation) -> str:
    """The property `v` breaks."""
    if v.prop is not None:
        return prop_key(v.prop)
    if v.kind == ViolationKind.DEADLOCK:
        return LIVELOCK if v.cycle else DEADLOCK
    return str(v.kind)


def properties(ts: TransitionSystem, livelock: bool = True) -> list[Property]:
    """Every property of `ts`, declared ones first, in spec order."""
    out: dict[str, Property] = {}
    for p in ts.props:
        key = prop_key(p)
        if key in out:
            continue
        if p.sleep_check:
            out[key] = Property(key, SLEEP_IN_ATOMIC, "no might_sleep() in atomic context "
                                f"(the assert at {p.span.file}:{p.span.line})")
        else:
            out[key] = Property(key, str(p.kind), f"{p.kind} '{p.name}' at "
                                f"{p.span.file}:{p.span.line}")
    out[DEADLOCK] = Property(DEADLOCK, DEADLOCK,
                             "some unfinished thread can always move")
    if livelock and ts.has_cycles:
        out[LIVELOCK] = Property(LIVELOCK, LIVELOCK, "no run spins forever without progress")
        out[STARVATION] = Property(STARVATION, STARVATION, "on every fair run that never ends, "
                                   "every thread but the daemons finishes")
        if ts.progress_threads():
            out[NO_PROGRESS] = Property(NO_PROGRESS, NO_PROGRESS, "on every fair run that never "
                                        "ends, every started thread with a progress label "
                                        "passes one infinitely often")
    if ts.has_handlers:
        k = ViolationKind.INCONSISTENT_LOCK_STATE
        out[k] = Property(str(k), "lockdep", "no lock is taken in an interrupt (softirq) "
                          "handler and elsewhere with that interrupt enabled")
    for k in FAULT_KINDS:
        out[k] = Property(str(k), "fault", f"none happens: {describe(k).lower()}")
    return list(out.values())


class UnknownProperty(ValueError):
    """A --property name the scenario does not have."""


def select(ts: TransitionSystem, names: Sequence[str], livelock: bool = True
           ) -> tuple[TransitionSystem, frozenset[str]]:
    """`ts` checking only the properties `names` (each a listed name, or a
    declared property's bare name where only one has it), and the set of
    their names for `Outcome`."""
    known = {p.name: p for p in properties(ts, livelock)}
    chosen: set[str] = set()
    for n in names:
        if n in known:
            chosen.add(n)
            continue
        bare = [k for k in known if ":" in k and k.split(":", 1)[1] == n]
        if len(bare) != 1:
            listed = ", ".join(known)
            why = "is ambiguous" if bare else "is not a property of"
            raise UnknownProperty(f"--property {n!r} {why} scenario {ts.scenario} "
                                  f"(its properties: {listed})")
        chosen.add(bare[0])

    narrowed = replace(ts, invariants=[(i, e) for i, e in ts.invariants
                                       if prop_key(ts.props[i]) in chosen],
                       finals=[(i, e) for i, e in ts.finals if prop_key(ts.props[i]) in chosen])
    return narrowed, frozenset(chosen)
