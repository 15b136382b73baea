"""A run that reaches a lock fact, as a counterexample-shaped `Trace`.

The last step is the one the fact is about (an acquisition, an access); its
state changes are shown and its `fault` text says what it does there.
"""

from __future__ import annotations

from checker.explore.result import Violation
from checker.ir.interp import Fault
from checker.kinds import ViolationKind
from checker.locks.explore import LockFacts, Witness
from checker.trace.model import Trace, ValueFormatter, build_trace


def witness_trace(facts: LockFacts, w: Witness, message: str, kind: str = "witness") -> Trace:
    c = facts.steps()
    path = facts.path(w.key)
    # A witness is no violation: the trace is built as one, then named for what it shows.
    trace = build_trace(c, Violation(ViolationKind.ASSERT, message, None, path,
                                     fault_action=w.action))
    trace.kind = kind
    s = path[-1]
    try:
        t = c.step[w.action](s)
    except Fault:  # a step that faults from here: shown without changes
        t = None
    if t is not None and trace.steps:
        fmt = ValueFormatter(facts.ts)
        trace.steps[-1].changes = fmt.changes(c.packing.unpack(s), c.packing.unpack(t))
    return trace
