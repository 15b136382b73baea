"""A SPIN counterexample (pan's trail) as a migcheck trace.

The trail names, step by step, the line of each `d_step` taken; the export
knows which action each line holds (`PromelaModel.action_at_line`). The
steps are re-run with the reference interpreter: each must be enabled and
not fault, or the two checkers disagree (`TrailMismatch`). The error at the
end says what broke:

- "invalid end state": the watchdog's deadlock step (dropped from the
  trace), after which no thread can move;
- "assertion violated E" after the watchdog's final step: a `final`
  property;
- "assertion violated E" otherwise: the step after the last one printed
  failed (pan does not print it). It is the action that faults in the last
  state, or whose result breaks an invariant, with a check whose asserted
  expression is E; the interpreter tells which, and with which kind.

The result is a `Trace` that `migcheck replay` accepts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from checker.backends.promela import PromelaModel
from checker.backends.spin import Replay
from checker.explore.codegen import compile_system
from checker.explore.result import Violation
from checker.ir.interp import Fault, Interp
from checker.ir.nodes import Action, Prop, TransitionSystem
from checker.kinds import ViolationKind
from checker.trace.model import Trace, build_trace


class TrailMismatch(Exception):
    """SPIN took a step that migcheck's semantics does not allow (or the
    reverse): one of the two is wrong."""


@dataclass
class Translated:
    trace: Trace
    kind: str
    actions: list[int]  # the actions of the trail, in order (without the watchdog's)


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_texts(model: PromelaModel) -> dict[int, str]:
    """The asserted expression on each checked line, whitespace removed."""
    lines = model.text.splitlines()
    out = {}
    for ln in model.checks:
        m = re.search(r"assert\((.*)\);", lines[ln - 1])
        if m:
            out[ln] = _norm(m[1])
    return out


def translate(model: PromelaModel, replay: Replay, offset: int = 0,
              ignore_lines: Sequence[int] = (), error: str = "") -> Translated:
    """The migcheck trace of a trail of `model` (which starts at line
    `offset` + 1 of the file pan ran; lines in `ignore_lines` are a batch's
    selector). `error`: what the search reported, when the replay does not
    repeat it (pan -r does not, for an invalid end state)."""
    ts = model.ts
    interp = Interp(ts.slots, ts.pools)
    state = list(ts.initial)
    states = [tuple(state)]
    actions: list[int] = []
    final_step = False
    deadlock_step = False
    for step in replay.steps:
        if step.line in ignore_lines:
            continue
        line = step.line - offset
        if line in model.action_at_line:
            a = ts.actions[model.action_at_line[line]]
            t = ts.threads[a.thread - 1]
            if state[t.pc_slot] != a.src:
                raise TrailMismatch(f"SPIN runs a{a.id} of T{a.thread} at pc "
                                    f"{state[t.pc_slot]}, not {a.src}")
            try:
                new = interp.step(a, state, t.pc_slot)
            except Fault as f:
                raise TrailMismatch(f"SPIN takes a{a.id}, which faults for migcheck "
                                    f"({f.kind}: {f.message})") from None
            if new is None:
                raise TrailMismatch(f"SPIN takes a{a.id}, which is blocked for migcheck")
            state = new
            states.append(tuple(state))
            actions.append(a.id)
        elif line == model.deadlock_line:
            deadlock_step = True
        elif line == model.final_line:
            final_step = True
        elif line in model.sink_at_line:
            raise TrailMismatch(f"a trail through a dead end (line {step.line})")
        else:
            raise TrailMismatch(f"a trail step on line {step.line}, which holds no action")
    c = compile_system(ts)
    packed = [c.packing.pack(s) for s in states]
    error = replay.error or error
    if "invalid end state" in error:
        if not deadlock_step:
            raise TrailMismatch("an invalid end state not reached through the watchdog")
        _check_deadlock(ts, interp, state)
        v = Violation(ViolationKind.DEADLOCK, "no thread can move", None, packed)
    elif "assertion violated" in error:
        text = _norm(error.split("assertion violated", 1)[1])
        if final_step:
            v = _final(ts, interp, state, packed)
        else:
            v = _last_step(model, interp, state, packed, text)
    else:
        raise TrailMismatch(f"pan reported {error!r}")
    return Translated(build_trace(c, v), v.kind, actions)


def _check_deadlock(ts: TransitionSystem, interp: Interp, state: list[int]) -> None:
    if all(state[t.pc_slot] == 0 for t in ts.threads):
        raise TrailMismatch("SPIN reports a deadlock where every thread finished")
    for t in ts.threads:
        for a in ts.actions_at(t.id, state[t.pc_slot]):
            try:
                if interp.step(a, state, t.pc_slot) is not None:
                    raise TrailMismatch(f"SPIN reports a deadlock where a{a.id} can move")
            except Fault as f:
                raise TrailMismatch(f"SPIN reports a deadlock where a{a.id} faults "
                                    f"({f.kind})") from None


def _final(ts: TransitionSystem, interp: Interp, state: list[int], packed: list[int]
           ) -> Violation:
    for prop, e in ts.finals:
        try:
            ok = interp.eval(e, state)
        except Fault as f:
            return Violation(ViolationKind.FINAL, f"evaluating final properties: {f.message}", None, packed)
        if not ok:
            p = ts.props[prop]
            return Violation(ViolationKind.FINAL, f"final property '{p.name}' does not hold", p, packed)
    raise TrailMismatch("SPIN reports a final property broken that holds for migcheck")


def _message(ts: TransitionSystem, a: Action, f: Fault) -> tuple[str, Prop | None]:
    return f.reported(ts, a)


def _last_step(model: PromelaModel, interp: Interp, state: list[int], packed: list[int],
               text: str) -> Violation:
    """The violation of the step pan did not print: the candidates in the
    last state whose check has the asserted text (or, failing that, any)."""
    ts = model.ts
    texts = assert_texts(model)
    c = compile_system(ts)
    found: list[tuple[bool, Violation]] = []
    initial = _broken_invariant(ts, interp, ts.initial)
    if initial is not None:  # the watchdog's first statement asserts it
        return Violation(ViolationKind.INVARIANT, initial[0], initial[1], packed[:1])
    for t in ts.threads:
        for a in ts.actions_at(t.id, state[t.pc_slot]):
            lines = {ln for ln, ck in model.checks.items() if ck.action == a.id}
            matches = any(texts.get(ln) == text for ln in lines)
            try:
                new = interp.step(a, state, t.pc_slot)
            except Fault as f:
                msg, prop = _message(ts, a, f)
                v = Violation(f.kind, msg, prop, packed, fault_action=a.id)
                if _reported(model, v):
                    found.append((matches, v))
                continue
            if new is None:
                continue
            broken = _broken_invariant(ts, interp, new)
            if broken is not None:
                v = Violation(ViolationKind.INVARIANT, broken[0], broken[1],
                              [*packed, c.packing.pack(new)])
                inv_lines = {ln for ln, ck in model.checks.items() if ck.action is None}
                if _reported(model, v):
                    found.append((any(texts.get(ln) == text for ln in inv_lines), v))
    if not found and all(state[t.pc_slot] == 0 for t in ts.threads) and ts.finals:
        # the watchdog's final step (pan merges its guard with the assert)
        v = _final(ts, interp, state, packed)
        if _reported(model, v):
            return v
    if not found:
        raise TrailMismatch("SPIN reports an assertion that no step of migcheck breaks "
                            f"in the trail's last state ({text})")
    found.sort(key=lambda m: not m[0])
    return found[0][1]


def _reported(model: PromelaModel, v: Violation) -> bool:
    f = model.focus
    return f is None or v.matches(f)


def _broken_invariant(ts: TransitionSystem, interp: Interp, state: Sequence[int]
                      ) -> tuple[str, Prop | None] | None:
    for prop, e in ts.invariants:
        try:
            ok = interp.eval(e, state)
        except Fault as f:
            return f"evaluating invariants: {f.message}", None
        if not ok:
            p = ts.props[prop]
            return f"invariant '{p.name}' does not hold", p
    return None
