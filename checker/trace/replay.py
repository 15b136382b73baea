"""Re-run a saved counterexample against the current spec.

The steps are replayed with the reference interpreter (`checker.ir.interp`),
not the generated code the search used, so a replay is also an independent
check of the trace. At each step the saved thread must be able to take a step
that makes exactly the saved changes; the last step must raise the saved
violation (or leave a state that breaks the saved property, or close the
saved cycle).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from checker.dsl.loader import load_program
from checker.ir.build import build_all
from checker.ir.display import display_files, display_span
from checker.ir.interp import Fault, Interp
from checker.ir.nodes import TransitionSystem
from checker.kinds import PropertyKind, ViolationKind
from checker.sema.check import elaborate
from checker.trace.model import Trace, ValueFormatter


@dataclass
class ReplayResult:
    reproduced: bool
    message: str
    spec_changed: bool = False


def replay(trace: Trace, spec: str | None = None,
           include_dirs: list[str | Path] | None = None) -> ReplayResult:
    program = load_program(spec or trace.spec, include_dirs)
    changed = program.sha256 != trace.spec_sha256
    base = elaborate(program)
    known = set(base.consts)
    overrides = {k: v for k, v in trace.bindings.items() if k in known}
    systems = build_all(program, overrides, only=[trace.scenario])
    result = replay_on(trace, systems[0])
    result.spec_changed = changed
    return result


def replay_on(trace: Trace, ts: TransitionSystem) -> ReplayResult:
    interp = Interp(ts.slots, ts.pools)
    fmt = ValueFormatter(ts)
    state = list(ts.initial)
    history = [list(state)]
    ran: list[bool] = []  # per step replayed: whether it passed a progress label
    threads = {t.id: t for t in ts.threads}
    for step in trace.steps:
        inst = threads.get(step.thread)
        if inst is None:
            return ReplayResult(False, f"step {step.index}: the scenario has no thread "
                                       f"T{step.thread} now")
        pc = state[inst.pc_slot]
        candidates = ts.actions_at(inst.id, pc)
        if step.fault:
            for a in candidates:
                try:
                    interp.step(a, state, inst.pc_slot)
                except Fault as f:
                    if f.kind == trace.kind and (trace.name is None or f.prop < 0 or
                                                 ts.props[f.prop].name == trace.name):
                        return ReplayResult(True, f"reproduces: step {step.index} raises "
                                                  f"{f.kind} ({f.message})")
            return ReplayResult(False, f"step {step.index}: T{step.thread} {inst.label} no "
                                       f"longer raises {trace.kind} at line {step.line}")
        wanted = [(c.var, c.before, c.after) for c in step.changes]
        # Several steps can make the same changes (a choice that only moves
        # the thread on); prefer the one at the saved pc and line, which
        # identify it exactly while the spec is unchanged.
        matches: list[tuple[int, list[int], list[int], bool]] = []
        enabled = 0
        raised: Fault | None = None
        for a in candidates:
            try:
                new = interp.step(a, state, inst.pc_slot)
            except Fault as f:
                # Another way on raises a violation (a dead end when the
                # scenario looks for another one): not the saved step.
                raised = raised or f
                continue
            if new is None:
                continue
            enabled += 1
            got = [(c.var, c.before, c.after) for c in fmt.changes(state, new)]
            if got == wanted:
                line = display_span(a.origin, display_files(ts)).line
                score = (a.dst == step.pc) * 2 + (line == step.line)
                matches.append((score, new, interp.warned, a.progress))
        if not matches and raised is not None and enabled == 0:
            return ReplayResult(False, f"step {step.index}: T{step.thread} now raises "
                                       f"{raised.kind} ({raised.message})")
        if not matches:
            why = "cannot move" if enabled == 0 else "can move, but not with the saved changes"
            return ReplayResult(False, f"step {step.index}: T{step.thread} {inst.label} {why} "
                                       f"(saved: line {step.line} {step.text})")
        _, state, fired, passed = max(matches, key=lambda m: m[0])
        history.append(list(state))
        ran.append(passed)
    if trace.kind == PropertyKind.WARNING:
        return _check_warning(trace, ts, fired if trace.steps else [])
    return _check_end(trace, ts, interp, state, history, ran)


def _check_warning(trace: Trace, ts: TransitionSystem, fired: list[int]) -> ReplayResult:
    """The run of a warning: its last step must fire the saved warning."""
    names = [ts.props[k].name for k in fired]
    if trace.name in names:
        return ReplayResult(True, f"reproduces: step {len(trace.steps)} fires warning "
                                  f"'{trace.name}'")
    return ReplayResult(False, f"the last step no longer fires warning '{trace.name}'"
                               + (f" (it fires {', '.join(map(repr, names))})" if names else ""))


def _check_end(trace: Trace, ts: TransitionSystem, interp: Interp, state: list[int],
               history: list[list[int]], ran: list[bool]) -> ReplayResult:
    kind = trace.kind
    if kind == "deadlock" and trace.loop_start is not None:
        start = trace.loop_start
        if not 0 <= start < len(history) - 1:
            return ReplayResult(False, f"the saved cycle from step {start} is empty: a "
                                       "spinning run needs at least one step that returns")
        if history[start] != state:
            return ReplayResult(False, "the saved cycle no longer closes")
        why = _leaves(ts, interp, state)
        if why is not None:
            return ReplayResult(False, f"the run returns to the state of step {start}, but "
                                       f"{why}")
        return ReplayResult(True, "reproduces: the run returns to the state of step "
                                  f"{start} and can repeat forever")
    if kind in ("starvation", "no_progress"):
        return _check_lasso(trace, ts, interp, state, history, ran)
    if kind == "deadlock":
        for t in ts.threads:
            for a in ts.actions_at(t.id, state[t.pc_slot]):
                try:
                    if interp.step(a, state, t.pc_slot) is not None:
                        return ReplayResult(False, f"no deadlock: T{t.id} {t.label} can still "
                                                   "move")
                except Fault:
                    return ReplayResult(False, f"no deadlock: T{t.id} {t.label} can still move")
        if all(state[t.pc_slot] == 0 for t in ts.threads):
            return ReplayResult(False, "no deadlock: every thread finished")
        return ReplayResult(True, "reproduces: no thread can move")
    if kind == ViolationKind.INCONSISTENT_LOCK_STATE and len(history) >= 2:
        from checker.explore.codegen import compile_system
        from checker.explore.irqstate import confirm

        c = compile_system(ts)
        why = confirm(c, c.packing.pack(history[-2]), c.packing.pack(state))
        if why is not None:
            return ReplayResult(True, f"reproduces: {why}")
    props = ts.invariants if kind == "invariant" else ts.finals if kind == "final" else []
    for idx, expr in props:
        if trace.name is not None and ts.props[idx].name != trace.name:
            continue
        try:
            ok = interp.eval(expr, state)
        except Fault as f:
            return ReplayResult(True, f"reproduces: evaluating {kind} faults ({f.message})")
        if not ok:
            return ReplayResult(True, f"reproduces: {kind} '{ts.props[idx].name}' does not hold")
    return ReplayResult(False, f"the run no longer breaks the {kind} property")


def _check_lasso(trace: Trace, ts: TransitionSystem, interp: Interp, state: list[int],
                 history: list[list[int]], ran: list[bool]) -> ReplayResult:
    """A starvation or no_progress lasso (`checker.explore.fairness`): the
    cycle closes, is fair by itself (a thread enabled in each of its states
    takes a step in it; a `fair` thread enabled in one of them does), and
    some thread that is not a daemon is unfinished in every state of it
    (starvation), or some thread with a progress label is started in every
    state of it and none of its steps in it passes a progress label
    (no_progress)."""
    start = trace.loop_start
    if start is None or not 0 <= start < len(history) - 1:
        return ReplayResult(False, f"a {trace.kind} counterexample needs a cycle of at least "
                                   "one step (loop_start)")
    if history[start] != state:
        return ReplayResult(False, f"the saved cycle does not return to the state of step {start}")
    loop = history[start:-1]
    moved = {st.thread for st in trace.steps[start:]}
    enabled = [_enabled(ts, interp, st) for st in loop]
    for t in ts.threads:
        if t.id in moved:
            continue
        if all(t.id in en for en in enabled):
            return ReplayResult(False, f"the cycle is not fair: T{t.id} {t.label} can move in "
                                       "every state of it and never does (weak fairness)")
        if t.fair and any(t.id in en for en in enabled):
            return ReplayResult(False, f"the cycle is not fair: fair thread T{t.id} {t.label} "
                                       "can move in it and never does (strong fairness)")
    if trace.kind == "no_progress":
        marked = {a.thread for a in ts.actions if a.progress}
        passed = {st.thread for st, p in zip(trace.steps[start:], ran[start:], strict=True) if p}
        stuck = [t for t in ts.threads if t.id in marked and t.id not in passed
                 and all(st[t.pc_slot] != 0 for st in loop)]
        if not stuck:
            return ReplayResult(False, "every thread with a progress label passes one on the "
                                       "cycle: no non-progress cycle")
        names = ", ".join(f"T{t.id} {t.label}" for t in stuck)
        return ReplayResult(True, f"reproduces: the run returns to the state of step {start}, "
                                  f"a fair cycle on which {names} passes no progress label")
    starved = [t for t in ts.threads
               if not t.daemon and all(st[t.pc_slot] != 0 for st in loop)]
    if not starved:
        return ReplayResult(False, "every thread that must finish finishes on the cycle: "
                                   "no starvation")
    names = ", ".join(f"T{t.id} {t.label}" for t in starved)
    return ReplayResult(True, f"reproduces: the run returns to the state of step {start}, "
                              f"a fair cycle that leaves {names} unfinished forever")


def _enabled(ts: TransitionSystem, interp: Interp, st: list[int]) -> set[int]:
    """The threads that can take a step in `st` (a step that faults cannot
    be taken, as in the search)."""
    out: set[int] = set()
    for t in ts.threads:
        for a in ts.actions_at(t.id, st[t.pc_slot]):
            try:
                if interp.step(a, st, t.pc_slot) is not None:
                    out.add(t.id)
                    break
            except Fault:
                continue
    return out


# States explored from a cycle's state to confirm that no run leaves it; the
# reference interpreter is slow, and a genuine spinning component is small.
BOTTOM_LIMIT = 200_000


def _leaves(ts: TransitionSystem, interp: Interp, loop: list[int]) -> str | None:
    """Why the cycle through `loop` is not a spinning run, or None if it is.

    The checker reports a spinning run only in a *bottom* strongly connected
    component with a step inside it (`checker.explore.livelock`): every state
    reachable from the cycle can return to it, so no thread can ever get out.
    A cycle that some thread can leave is a run the scheduler need not
    repeat, so a trace showing one proves nothing. As in the checker's state
    graph, a step that faults is a dead end, not a way out (the search
    reports the fault itself); a state that breaks an invariant or where no
    thread can move is one the run never comes back from."""
    def successors(st: tuple[int, ...]) -> list[tuple[int, ...]]:
        for _, expr in ts.invariants:
            try:
                if not interp.eval(expr, st):
                    return []
            except Fault:
                return []
        out: list[tuple[int, ...]] = []
        for t in ts.threads:
            for a in ts.actions_at(t.id, st[t.pc_slot]):
                try:
                    new = interp.step(a, st, t.pc_slot)
                except Fault:
                    continue
                if new is not None:
                    out.append(tuple(new))
        return out

    root = tuple(loop)
    preds: dict[tuple[int, ...], list[tuple[int, ...]]] = {root: []}
    todo = [root]
    while todo:
        s = todo.pop()
        for n in successors(s):
            if n not in preds:
                if len(preds) >= BOTTOM_LIMIT:
                    return (f"cannot confirm that no thread can leave the cycle: more than "
                            f"{BOTTOM_LIMIT:,} states are reachable from it")
                preds[n] = []
                todo.append(n)
            preds[n].append(s)
    back = {root}
    todo = [root]
    while todo:
        for p in preds[todo.pop()]:
            if p not in back:
                back.add(p)
                todo.append(p)
    stuck = len(preds) - len(back)
    if stuck:
        return (f"the run can leave the cycle: {stuck} of the {len(preds)} states reachable "
                "from it never return, so the scheduler need not repeat it")
    return None


def load_and_replay(path: Path, spec: str | None = None,
                    include_dirs: list[str | Path] | None = None) -> tuple[Trace, ReplayResult]:
    from checker.trace.jsonio import load

    trace = load(path)
    return trace, replay(trace, spec, include_dirs)
