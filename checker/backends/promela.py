"""Promela export of one scenario's transition system, for SPIN.

The mapping (README, "Promela export"):

- every slot is a global variable (or an element of a global array, see
  `checker.backends.promela_names`), so SPIN's state is migcheck's state;
  each thread instance's program counter is the global `T<n>_pc`;
- each thread instance is one process (`active proctype KIND_T<n>`) looping
  over one `d_step` per IR action, guarded by its pc: an action is exactly
  as atomic in SPIN as in migcheck and no intermediate state is stored;
- a `d_step` may only block at its first statement, so its guard is the
  condition, over the state before the step, that the step does not block
  (`checker.ir.precond`: a `Require` met after stores is resolved by
  substitution);
- every check the interpreter makes (a null or freed reference, an index, a
  store's range, a division, a double free, a full thread slot, a property)
  is an `assert` before the statement that needs it, commented with the
  violation kind; invariants are asserted at the end of every step (the
  initial state is checked here, at export time); `final` properties and
  deadlock belong to a `watchdog` process that moves only on SPIN's
  `timeout` (no other process can move): with a thread unfinished it goes
  to a location that is not an end state, which SPIN reports as an
  "invalid end state"; with every thread finished it asserts the `final`
  properties.
- When the scenario expects a violation, the export looks for that one, as
  `migcheck check` does: a step that would raise another violation is a
  dead end (a self-loop that changes nothing), a state that breaks another
  invariant is not explored further (`mc_halted`), and other deadlocks and
  final properties are not reported.

With this mapping, partial-order reduction off and `spin -a -o2` (without
it SPIN leaves variables that are written but never read out of the state
vector, a dead local say, and merges states migcheck keeps apart), SPIN
stores exactly the states migcheck counts, and counts one transition more
(its initial state counts as one; see `SPIN_EXTRA_TRANSITIONS`).

The export is exact or refuses (`ExportError`, exit 2): a slot whose range,
a constant or an intermediate value that may leave SPIN's 32-bit `int`, or
a shift by 32 or more, is an error naming the slot or the expression (an
interval pass over every rendered expression,
`checker.backends.promela_names.Names.interval`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, assert_never

from checker.backends.promela_names import ExportError, Names
from checker.dsl.diagnostics import Span
from checker.fsio import write_text_atomic
from checker.ir.contexts import refuse_handlers
from checker.ir.display import display_files, display_span, source_line
from checker.ir.interp import Fault, Interp
from checker.ir.nodes import (
    FALSE,
    TRUE,
    Action,
    AllocObj,
    Assert,
    Assign,
    CoverHit,
    Expectation,
    Expr,
    FreeObj,
    If,
    Loc,
    LockEvent,
    Require,
    StartThread,
    Stmt,
    TransitionSystem,
    Warn,
)
from checker.ir.precond import (
    Check,
    all_pass,
    conj,
    disj,
    first_failure,
    has_require,
    needed,
    neg,
    simplify,
    step_outcomes,
)
from checker.kinds import ViolationKind
from checker.textsafe import visible

# pan counts "transitions" as states stored + states matched: the initial
# state is stored without a transition, so SPIN reports one more than
# migcheck on a complete search.
SPIN_EXTRA_TRANSITIONS = 1



@dataclass(frozen=True)
class CheckLine:
    """What the `assert` on one line of the export checks."""

    kind: ViolationKind | Literal["internal"]  # "internal": the export's own consistency
    prop: int
    message: str
    action: int | None  # the action whose step holds it; None: invariant, final
    reported: bool  # False: a violation the export does not look for (see focus)


@dataclass
class PromelaModel:
    """The export, and where each action and check sits in it (for trails)."""

    text: str
    ts: TransitionSystem
    focus: Expectation | None
    action_at_line: dict[int, int] = field(default_factory=dict)  # d_step line -> action
    sink_at_line: dict[int, int] = field(default_factory=dict)  # dead-end line -> action
    checks: dict[int, CheckLine] = field(default_factory=dict)  # assert line -> check
    deadlock_line: int | None = None
    final_line: int | None = None
    initial_check: str = ""  # exported with `enable`: the batch's selector asserts it
    vector_bytes: int = 0

    def write(self, path: Path) -> None:
        write_text_atomic(path, self.text)


def default_focus(ts: TransitionSystem) -> Expectation | None:
    """What `migcheck check` looks for: the expected violation, or every one."""
    return None if ts.expect.kind == "verified" else ts.expect


def _comment(text: str) -> str:
    """Spec text (file names, messages) inside a `/* */` comment: it can
    neither close the comment nor splice lines (SPIN runs the C
    preprocessor; a backslash before a newline joins lines before comments
    are seen, and pan may run `c_code`)."""
    text = visible(text.replace("\\", "\\x5c").replace("\n", "\\n").replace("\r", "\\r"))
    return text.replace("*/", "* /").replace("/*", "/ *")


class _Writer:
    def __init__(self, ts: TransitionSystem, focus: Expectation | None, prefix: str,
                 enable: str | None):
        self.ts = ts
        self.shown = display_files(ts)  # the lines a trace of this scenario shows
        self.focus = focus
        self.enable = [enable] if enable else []
        self.names = Names(ts, prefix=prefix)
        self.halted = self.names.fresh("mc_halted")
        self.alloc_tmp = self.names.fresh("mc_ref")
        self.index_tmp = self.names.fresh("mc_index")
        self.uses_index = False
        self.inline = self.names.fresh("check_invariants")
        self.watchdog_name = self.names.fresh("watchdog")
        self.sym = self.names.sym
        self.lines: list[str] = []
        self.model = PromelaModel("", ts, focus)
        self.interp = Interp(ts.slots, ts.pools)
        self.inv_checks = self._property_checks(ts.invariants, ViolationKind.INVARIANT)
        self.final_checks = self._property_checks(ts.finals, ViolationKind.FINAL)
        self.halted_used = (any(not self.reported(c) for c in self.inv_checks)
                            or self._initial_failure() == "silenced")
        self.uses_alloc = False
        # Checks asserted so far in the current step, with the slots they read.
        self.known: dict[Expr, frozenset[int]] = {}

    # ------------------------------------------------------------ helpers
    def emit(self, text: str) -> int:
        self.lines.append(text)
        return len(self.lines)

    def x(self, e: Expr) -> str:
        return self.names.expr(e)

    def reported(self, c: Check) -> bool:
        f = self.focus
        if c.kind == "internal":
            return False
        if f is None:
            return True
        if c.kind != f.kind:
            return False
        return f.name is None or (c.prop >= 0 and self.ts.props[c.prop].name == f.name)

    def _property_checks(self, props: Sequence[tuple[int, Expr]], kind: ViolationKind
                         ) -> list[Check]:
        out: list[Check] = []
        for prop, e in props:
            name = self.ts.props[prop].name
            value, checks = self.sym.eval(e, ())
            out += [Check(kind, f"evaluating {kind} '{name}': {c.message}", c.ok)
                    for c in checks]
            out.append(Check(kind, f"{kind} '{name}'", value, prop))
        return out

    def _initial_failure(self) -> str | None:
        """Whether the initial state breaks an invariant: None, "reported",
        or "silenced" (a violation the export does not look for)."""
        for c, cond in zip(self.inv_checks, first_failure(self.inv_checks), strict=True):
            try:
                if self.interp.eval(cond, self.ts.initial):
                    return "reported" if self.reported(c) else "silenced"
            except Fault:  # pragma: no cover - the conditions never fault
                return "reported"
        return None

    def record(self, line: int, c: Check, action: int | None) -> None:
        self.model.checks[line] = CheckLine(c.kind, c.prop, c.message, action, self.reported(c))

    def assert_checks(self, checks: Sequence[Check], ind: str, action: int | None) -> None:
        """Assert each check, unless it cannot fail: true, or asserted before
        in this step with no store since to a slot it reads."""
        for c, need in zip(checks, needed(checks), strict=True):
            c = Check(c.kind, c.message, simplify(c.ok), c.prop)
            if c.ok == TRUE or not need or c.ok in self.known:
                continue
            self.known[c.ok] = self.sym.reads(c.ok)
            what = c.kind + (f" '{self.ts.props[c.prop].name}'" if c.prop >= 0 else "")
            line = self.emit(f"{ind}assert({self.x(c.ok)});".ljust(40)
                             + f" /* {_comment(f'{what}: {c.message}')} */")
            self.record(line, c, action)

    # ------------------------------------------------------------ the file
    def write(self) -> PromelaModel:
        ts = self.ts
        self.names.check_slots()
        self.header()
        self.emit("")
        self.emit("/* ---------------------------------------------------------- state */")
        for line in self.names.declarations(ts.initial):
            self.emit(line)
        if self.halted_used:
            init = 1 if self._initial_failure() == "silenced" else 0
            self.emit(f"bit {self.halted} = {init};".ljust(48)
                      + " /* a violation not looked for was met: explore no further */")
        alloc_line = self.emit("")
        index_line = self.emit("")
        if ts.invariants:
            self.invariants()
        for t in ts.threads:
            self.thread(t.id)
        self.watchdog()
        if self.uses_alloc:
            self.lines[alloc_line - 1] = (f"hidden byte {self.alloc_tmp};".ljust(48)
                                          + " /* scratch: not part of the state */")
        if self.uses_index:
            self.lines[index_line - 1] = (f"hidden int {self.index_tmp};".ljust(48)
                                          + " /* scratch: an index read from its own array */")
        self.model.text = "\n".join(self.lines) + "\n"
        self.model.vector_bytes = self.names.vector_bytes() + 8 * (len(ts.threads) + 1) + 16
        return self.model

    def header(self) -> None:
        ts = self.ts
        binds = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                          for k, v in ts.bindings.items()) or "none"
        exp = ts.expect.kind + (f" '{ts.expect.name}'" if ts.expect.name else "")
        if self.focus is None:
            looks = "every violation"
        else:
            looks = f"{exp} only; other violations are dead ends, as in `migcheck check`"
        self.emit(f"/* {_comment(ts.spec)}, scenario {ts.scenario}")
        for text in (
            f"   bindings: {binds}; expect: {exp}; looks for: {looks}.",
            "   Exported by `migcheck export --promela`: one process per thread instance,",
            "   one d_step per migcheck action (as atomic as in migcheck), every slot a",
            "   global; faults and properties are asserts, deadlock is SPIN's invalid end",
            "   state (see the watchdog). Check it with:",
            "     spin -a -o2 FILE.pml && gcc -O2 -DNOREDUCE -o pan pan.c && ./pan -m10000000",
            "   With -o2 (keep variables written but never read) and -DNOREDUCE SPIN",
            "   stores exactly migcheck's states. */",
        ):
            self.emit(_comment(text))

    # ------------------------------------------------------------ invariants
    def invariants(self) -> None:
        self.known = {}
        self.names.context = self.ts.props[self.ts.invariants[0][0]].span
        self.emit("")
        self.emit("/* the invariants, checked after every step */")
        self.emit(f"inline {self.inline}() {{")
        self.property_chain(self.inv_checks, "    ", f"{self.halted} = 1")
        self.emit("}")

    def property_chain(self, checks: list[Check], ind: str, on_silenced: str) -> None:
        """Asserts of `checks`; where the first to fail is one not looked
        for, `on_silenced` instead (nested ifs: linear in the checks)."""
        if not any(self.reported(c) for c in checks):
            silent = simplify(neg(all_pass(checks)))  # the first to fail is one of them
            if silent == FALSE:
                self.emit(f"{ind}skip")
                return
            self.emit(f"{ind}if")
            self.emit(f"{ind}:: {self.x(silent)} -> {on_silenced}")
            self.emit(f"{ind}:: else -> skip")
            self.emit(f"{ind}fi")
            return
        depth = 0
        for c in checks:
            if self.reported(c):
                self.assert_checks([c], ind + "   " * depth, None)
                continue
            ok = simplify(c.ok)
            if ok == TRUE:
                continue
            pad = ind + "   " * depth
            self.emit(f"{pad}if")
            self.emit(f"{pad}:: {self.x(neg(ok))} -> {on_silenced}")
            self.emit(f"{pad}:: else ->")
            depth += 1
        self.emit(f"{ind + '   ' * depth}skip")
        for d in reversed(range(depth)):
            self.emit(f"{ind + '   ' * d}fi")

    # ------------------------------------------------------------ threads
    def thread(self, tid: int) -> None:
        ts = self.ts
        t = ts.threads[tid - 1]
        name = self.names.fresh(f"{t.kind}_T{tid}")
        self.emit("")
        kind = "started by `start`" if t.dynamic else "run by the scenario"
        self.emit(f"/* T{tid}: {_comment(t.label)}, {kind}; pc 0 = not running */")
        self.emit(f"active proctype {name}() {{")
        self.emit(f"end_T{tid}:")
        self.emit("    do")
        actions = sorted((a for a in ts.actions if a.thread == tid), key=lambda a: (a.src, a.id))
        last_pc = None
        for a in actions:
            if a.src != last_pc:
                last_pc = a.src
                origin = t.pc_origin.get(a.src)
                where = ""
                if origin is not None:
                    where = f": {self.place(display_span(origin, self.shown))}"
                self.emit(f"    /* pc {a.src}{where} */")
            self.action(a)
        if not actions:
            self.emit("    :: false")
        self.emit("    od")
        self.emit("}")

    def place(self, span: Span) -> str:
        text = source_line(span)
        if len(text) > 60:
            text = text[:57] + "..."
        return _comment(f"{Path(span.file).name}:{span.line} {text}")

    def action(self, a: Action) -> None:
        ts = self.ts
        pc = self.names.pc(a.thread)
        self.names.context = display_span(a.origin, self.shown)
        out = step_outcomes(a.guard, a.body, ts.slots, ts.pools)
        g_value, g_checks = self.sym.eval(a.guard, ())
        silenced = [k for k, cond in out.faults.items()
                    if not self.reported(out.checks[k]) and simplify(cond) != FALSE]
        if not silenced:
            # enabled: does not block (it completes, or raises a violation)
            if has_require(a.body):
                guard = neg(out.blocked)
            else:
                guard = disj(neg(all_pass(g_checks)), g_value)
            silent: Expr = FALSE
        else:
            # enabled: completes, or raises a violation looked for; a dead end
            # where it raises another one (it neither blocks nor completes)
            done = disj(*(cond for cond, _env in out.done))
            wanted = disj(*(cond for k, cond in out.faults.items() if k not in silenced))
            guard = disj(done, wanted)
            silent = conj(neg(out.blocked), neg(done), neg(wanted))
        guard = simplify(guard)
        silent = simplify(silent)
        pre = [*self.enable, f"{pc} == {a.src}"] + ([f"!{self.halted}"] if self.halted_used
                                                     else [])
        if guard == FALSE:
            self.emit(f"    /* a{a.id}: never enabled without a violation not looked for */")
        where = self.place(display_span(a.origin, self.shown))
        cond = " && ".join(pre + ([] if guard == TRUE else [self.x(guard)]))
        line = self.emit(f"    :: d_step {{ {cond} ->".ljust(40) + f" /* a{a.id}: {where} */")
        self.model.action_at_line[line] = a.id
        ind = "           "
        self.known = {}
        self.assert_checks(g_checks, ind, a.id)
        self.stmts(a.body, (), ind, a.id)
        self.emit(f"{ind}{pc} = {a.dst}" + (";" if ts.invariants else ""))
        if ts.invariants:
            self.emit(f"{ind}{self.inline}()")
        self.emit("       }")
        if silent != FALSE:
            sink = self.emit(f"    :: {' && '.join(pre)} && {self.x(silent)}   /* a{a.id}: "
                             "raises a violation not looked for: a dead end */")
            self.model.sink_at_line[sink] = a.id

    # ------------------------------------------------------------ statements
    def stmts(self, body: Sequence[Stmt], path: tuple[int, ...], ind: str, aid: int) -> None:
        for i, s in enumerate(body):
            self.stmt(s, (*path, i), ind, aid)

    def stmt(self, s: Stmt, where: tuple[int, ...], ind: str, aid: int) -> None:
        checks, env = self.sym.statement(s, ())
        self.assert_checks(checks, ind, aid)
        written = frozenset().union(*(u.slots for u in env))
        if written:
            self.known = {k: r for k, r in self.known.items() if not r & written}
        match s:
            case Assign():
                self.store(s.loc, self.x(s.value), ind)
            case If():
                before = dict(self.known)
                self.emit(f"{ind}if")
                self.emit(f"{ind}:: {self.x(s.cond)} ->")
                self.stmts(s.then, (*where, 0), ind + "   ", aid)
                self.emit(f"{ind}   skip")
                after_then = self.known
                self.known = dict(before)
                self.emit(f"{ind}:: else ->")
                self.stmts(s.other, (*where, 1), ind + "   ", aid)
                self.emit(f"{ind}   skip")
                self.emit(f"{ind}fi;")
                self.known = {k: r for k, r in self.known.items() if after_then.get(k) == r}
            case Require():
                c = Check("internal", "a condition of the step, ensured by its guard", s.cond)
                line = self.emit(f"{ind}assert({self.x(s.cond)});".ljust(40)
                                 + " /* ensured by the guard: a check of the export itself */")
                self.record(line, c, aid)
            case Assert():
                pass  # its check is asserted above
            case AllocObj():
                self.alloc(s, ind)
            case FreeObj():
                self.free(s, ind)
            case StartThread():
                self.start(s, ind)
            case Warn():
                prop = self.ts.props[s.prop]
                raise ExportError.where(prop.span, "the Promela export has no WARN_ON(): SPIN "
                                        "would neither report the warning nor fail on it; "
                                        "check the scenario with migcheck's explicit engine")
            case CoverHit():
                cover = self.ts.covers[s.cover]
                self.emit(f"{ind}/* cover \"{_comment(cover.message)}\" reached */")
            case LockEvent():
                self.emit(f"{ind}/* {s.op}{' shared' if s.shared else ''} {_comment(s.lock_class)} */")
            case _:
                assert_never(s)

    def store(self, loc: Loc, value: str, ind: str) -> None:
        raw, _addr, _checks = self.sym.locate(loc, (), "write")
        plain = Loc(raw.base, raw.dyn)
        lv = self.names.raw_lvalue(plain)
        if lv is not None:
            lv = self.own_index(lv, ind)
            self.emit(f"{ind}{lv} = {self.merged(lv, loc, value)};")
            return
        self.emit(f"{ind}if")
        for slot, cond in self.names.candidates(plain):
            name = self.names.slot(slot)
            self.emit(f"{ind}:: {cond} -> {name} = {self.merged(name, loc, value)}")
        self.emit(f"{ind}fi;")

    def own_index(self, lv: str, ind: str) -> str:
        """`lv`, or when its index reads the same array (`arr[arr[0]]`,
        which `spin -a` rejects as a store), the index read into a scratch
        variable first."""
        m = re.fullmatch(r"(\w+)\[(.*)\]", lv)
        if m is None or not re.search(rf"\b{re.escape(m[1])}\[", m[2]):
            return lv
        self.uses_index = True
        self.emit(f"{ind}{self.index_tmp} = {m[2]};")
        return f"{m[1]}[{self.index_tmp}]"

    def merged(self, current: str, loc: Loc, value: str) -> str:
        """The new slot value: `value`, or `current` with one field replaced."""
        if loc.bits is None:
            return value
        shift, width, lo, _hi = loc.bits
        mask = ((1 << width) - 1) << shift
        keep = self.ts.slots[loc.base].hi & ~mask
        part = f"({value} - {lo})" if lo > 0 else f"({value} + {-lo})" if lo < 0 else value
        return f"(({current} & {keep}) | ({part} << {shift}))"

    def alloc(self, s: AllocObj, ind: str) -> None:
        info = self.ts.pools[s.pool]
        self.uses_alloc = True
        self.emit(f"{ind}/* alloc({s.pool}): the lowest free object, fields reset */")
        self.emit(f"{ind}if")
        for i in range(info.size):
            base = info.base + i * info.stride
            earlier = [f"{self.names.slot(info.base + j * info.stride)} != 0" for j in range(i)]
            cond = " && ".join([*earlier, f"{self.names.slot(base)} == 0"])
            resets = [f"{self.names.slot(base)} = 1"] + [
                f"{self.names.slot(base + k)} = {self.ts.slots[base + k].default}"
                for k in range(1, info.stride)]
            self.emit(f"{ind}:: {cond} -> {'; '.join(resets)}; {self.alloc_tmp} = {i + 1}")
        self.emit(f"{ind}:: else -> {self.alloc_tmp} = 0")
        self.emit(f"{ind}fi;")
        self.store(s.loc, self.alloc_tmp, ind)

    def free(self, s: FreeObj, ind: str) -> None:
        info = self.ts.pools[s.pool]
        ref = self.x(s.ref)
        self.emit(f"{ind}/* free(): the object's fields reset; free(null) does nothing */")
        self.emit(f"{ind}if")
        for i in range(info.size):
            base = info.base + i * info.stride
            resets = [f"{self.names.slot(base)} = 0"] + [
                f"{self.names.slot(base + k)} = {self.ts.slots[base + k].default}"
                for k in range(1, info.stride)]
            self.emit(f"{ind}:: {ref} == {i + 1} -> {'; '.join(resets)}")
        self.emit(f"{ind}:: else -> skip")
        self.emit(f"{ind}fi;")

    def start(self, s: StartThread, ind: str) -> None:
        args = [self.x(a) for a in s.args]
        self.emit(f"{ind}/* start {s.kind}: the first instance slot not running */")
        self.emit(f"{ind}if")
        for j, slot in enumerate(s.slots):
            busy = [f"{self.names.slot(o.pc_slot)} != 0" for o in s.slots[:j]]
            cond = " && ".join([*busy, f"{self.names.slot(slot.pc_slot)} == 0"])
            sets = [f"{self.names.slot(p)} = {v}" for p, v in
                    zip(slot.param_slots, args, strict=True)]
            sets.append(f"{self.names.slot(slot.pc_slot)} = {slot.entry_pc}")
            self.emit(f"{ind}:: {cond} -> {'; '.join(sets)}")
        self.emit(f"{ind}:: else -> skip")
        self.emit(f"{ind}fi;")

    # ------------------------------------------------------------ watchdog
    def watchdog(self) -> None:
        ts = self.ts
        pcs = [self.names.pc(t.id) for t in ts.threads]
        halted = [*self.enable] + ([f"!{self.halted}"] if self.halted_used else [])
        report_deadlock = self.focus is None or (self.focus.kind == "deadlock")
        finals = self.final_checks
        if all(self.reported(c) for c in finals):
            final_wanted = simplify(neg(all_pass(finals)))
        else:
            final_wanted = simplify(disj(*(cond for c, cond in zip(
                finals, first_failure(finals), strict=True) if self.reported(c))))
        if ts.finals:
            self.names.context = ts.props[ts.finals[0][0]].span
        initial = self._initial_failure() == "reported"
        if initial and self.enable:
            # in a batch, the selector's step checks it (the watchdog may not
            # move before its model is selected)
            self.model.initial_check = f"assert({self.x(all_pass(self.inv_checks))})"
            initial = False
        if not (report_deadlock or final_wanted != FALSE or initial):
            return
        self.emit("")
        self.emit("/* Deadlock and final properties: SPIN's timeout holds when no other")
        self.emit("   process can move. */")
        self.known = {}
        self.emit(f"active proctype {self.watchdog_name}() {{")
        if initial:
            self.emit("    /* the initial state breaks an invariant */")
            self.assert_checks(self.inv_checks, "    ", None)
        self.emit("end_watchdog:")
        self.emit("    do")
        if report_deadlock:
            running = " || ".join(f"{p} != 0" for p in pcs) or "false"
            cond = " && ".join(["timeout", *halted, f"({running})"])
            self.model.deadlock_line = self.emit(
                f"    :: {cond} -> goto deadlock   /* deadlock: a thread cannot finish */")
        if final_wanted != FALSE:
            done = " && ".join(f"{p} == 0" for p in pcs) or "true"
            cond = " && ".join(["timeout", *halted, done, self.x(final_wanted)])
            self.model.final_line = self.emit(f"    :: atomic {{ {cond} ->   /* final */")
            self.assert_checks(finals, "           ", None)
            self.emit("       }")
        if not report_deadlock and final_wanted == FALSE:
            self.emit("    :: false")
        self.emit("    od;")
        self.emit("deadlock:   /* not an end state: SPIN reports an invalid end state */")
        self.emit("    false")
        self.emit("}")


def export(ts: TransitionSystem, focus: Expectation | str | None = "default",
           prefix: str = "", enable: str | None = None) -> PromelaModel:
    """The Promela model of `ts`. `focus`: the violation to look for (None:
    every one); by default the scenario's expectation, as `migcheck check`.
    `prefix` goes before every global name and `enable` (a Promela
    condition) into every guard, so that several models can share one file
    (see `checker.backends.spin.batch`)."""
    refuse_handlers(ts, "the Promela export")
    refusal = ts.liveness_refusal()
    if refusal is not None:
        raise ExportError.where(ts.expect.span or Span(ts.spec, 0, 0, 0, 0),
                               refusal.replace("without --engine bmc", "instead of the export"))
    f = default_focus(ts) if isinstance(focus, str) else focus
    return _Writer(ts, f, prefix, enable).write()
