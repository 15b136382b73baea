"""Turn a solver's schedule into an ordinary counterexample.

A symbolic engine answers with a schedule (which action each step takes) and
the kind of violation at its end. Everything the user sees is recomputed
here by running that schedule with the explicit engine's compiled steps: the
states of the path, the fault and its message. A BMC counterexample is
therefore a `Violation` like any other (same trace text, same JSON, replayed
by `migcheck replay`), and a schedule that the explicit semantics does not
accept is caught as an engine disagreement instead of being printed.
"""

from __future__ import annotations

from collections.abc import Sequence

from checker.explore.codegen import Compiled
from checker.explore.common import check_invariant, terminal
from checker.explore.result import Violation
from checker.ir.interp import Fault


class EngineDisagreement(AssertionError):
    """The symbolic encoding and the explicit semantics disagree: a bug."""


def run_schedule(c: Compiled, schedule: Sequence[int]) -> list[int]:
    """The packed states of the run that takes `schedule` from the initial state."""
    ts = c.ts
    s = c.initial
    path = [s]
    for k, aid in enumerate(schedule):
        a = ts.actions[aid]
        if c.pc_of(s, a.thread - 1) != a.src:
            raise EngineDisagreement(f"step {k + 1}: action a{aid} is not at its thread's pc")
        try:
            n = c.step[aid](s)
        except Fault as f:
            raise EngineDisagreement(f"step {k + 1}: action a{aid} faults ({f.kind}: "
                                     f"{f.message}) in the explicit semantics") from None
        if n is None:
            raise EngineDisagreement(f"step {k + 1}: action a{aid} is not enabled in the "
                                     "explicit semantics")
        s = n
        path.append(s)
    return path


def fault_violation(c: Compiled, aid: int, f: Fault, path: list[int]) -> Violation:
    """The violation of a faulting step, worded as the explicit engine words it."""
    message, prop = f.reported(c.ts, c.ts.actions[aid])
    return Violation(f.kind, message, prop, path, fault_action=aid)


def violation_at(c: Compiled, path: list[int], kind: str, prop: int,
                 action: int | None) -> Violation:
    """The violation of `kind` (and property `prop`, -1 for none) at the end of
    `path`, as the explicit engine reports it; for a fault, raised by `action`."""
    ts = c.ts
    s = path[-1]
    found: Violation | None
    if action is not None:
        a = ts.actions[action]
        if c.pc_of(s, a.thread - 1) != a.src:
            raise EngineDisagreement(f"a{action} is not at its thread's pc at the last state")
        try:
            c.step[action](s)
        except Fault as f:
            if f.kind == kind and f.prop == prop:
                return fault_violation(c, action, f, path)
            raise EngineDisagreement(f"a{action} raises {f.kind} (prop {f.prop}) in the "
                                     f"explicit semantics, not {kind} (prop {prop})") from None
        raise EngineDisagreement(f"a{action} does not fault in the explicit semantics")
    if kind == "invariant":
        found = check_invariant(c, s, lambda: path)
    else:
        _assert_stuck(c, s)
        found = terminal(c, s, lambda: path)
    want = ts.props[prop] if prop >= 0 else None
    if found is None or found.kind != kind or found.prop != want:
        got = "nothing" if found is None else f"{found.kind} ({found.message})"
        raise EngineDisagreement(f"expected {kind} at the last state, the explicit semantics "
                                 f"finds {got}")
    return found


def _assert_stuck(c: Compiled, s: int) -> None:
    """No step of any thread is enabled (or faults) in `s`."""
    for i, t in enumerate(c.ts.threads):
        for a in c.ts.actions_at(t.id, c.pc_of(s, i)):
            try:
                n = c.step[a.id](s)
            except Fault:
                n = s
            if n is not None:
                raise EngineDisagreement(f"a{a.id} can still move at the last state")
