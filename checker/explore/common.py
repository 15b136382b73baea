"""Pieces every search strategy shares: classifying a state with no
successors, checking invariants, and finding which step raised a fault."""

from __future__ import annotations

from checker.dsl.diagnostics import SourceCache
from checker.explore.codegen import Compiled
from checker.explore.result import Violation
from checker.ir.interp import Fault


def where(c: Compiled, s: int, index: int) -> str:
    t = c.ts.threads[index]
    pc = c.pc_of(s, index)
    origin = t.pc_origin.get(pc)
    if origin is None:
        return "?"
    span = origin.stack[0] if origin.stack else origin.span
    text = SourceCache.excerpt(span)
    return f"line {span.line}: {text}"


def terminal(c: Compiled, s: int, path: list[int]) -> Violation | None:
    """A state with no successor: a deadlock unless every thread finished,
    in which case the `final` properties must hold."""
    if s & c.pc_mask:
        blocked = [
            f"{t.label} at {where(c, s, i)}"
            for i, t in enumerate(c.ts.threads)
            if c.pc_of(s, i) != 0
        ]
        return Violation("deadlock", "no thread can move: " + "; ".join(blocked), None, path)
    if c.final is not None:
        try:
            bad = c.final(s)
        except Fault as f:
            return Violation("final", f"evaluating final properties: {f.message}", None, path)
        if bad >= 0:
            prop = c.ts.props[bad]
            return Violation("final", f"final property '{prop.name}' does not hold", prop, path)
    return None


def check_invariant(c: Compiled, s: int, path_fn: object) -> Violation | None:
    assert c.invariant is not None
    try:
        bad = c.invariant(s)
    except Fault as f:
        return Violation("invariant", f"evaluating invariants: {f.message}", None,
                         path_fn())  # type: ignore[operator]
    if bad >= 0:
        prop = c.ts.props[bad]
        return Violation("invariant", f"invariant '{prop.name}' does not hold", prop,
                         path_fn())  # type: ignore[operator]
    return None


def locate_fault(c: Compiled, s: int) -> tuple[int, Fault]:
    """Which action raised when `s` was expanded (the same order as `expand`)."""
    for i, t in enumerate(c.ts.threads):
        for a in c.ts.actions_at(t.id, c.pc_of(s, i)):
            try:
                c.step[a.id](s)
            except Fault as f:
                return a.id, f
    raise AssertionError("expansion faulted but no single step does")


def fault_violation(c: Compiled, s: int, path: list[int]) -> Violation:
    aid, f = locate_fault(c, s)
    prop = c.ts.props[f.prop] if f.prop >= 0 else None
    message = f.message
    if f.kind == "assert" and prop is not None:
        message = f"assertion '{prop.name}' failed"
    return Violation(f.kind, message, prop, path, fault_action=aid)
