"""Promela names for the slots of a transition system, and expressions over them.

Slots keep their spec names: `g0`, `zs_class_lock_owner`; a thread's own
slots are prefixed with its instance (`T1_page`, `T1_pc`). Slots that differ
only by indices form one array: the fields of a pool's objects
(`pages_flags[2]`, `pages_allocated[2]`), array elements (`arr[2]`), nested
arrays flattened (`page_mems_obj_head[4]`). An IR location whose dynamic
parts step through such an array linearly is rendered as an index into it
(`pages_flags[T1_page - 1]`); any other one as a choice over its slots.

Expressions are rendered fully parenthesised in C syntax, which Promela
shares; `c ? a : b` is written `(c -> a : b)`. The checks that make a read
safe are not part of the rendering: `checker.backends.promela` asserts them
first, so a rendered read is never out of bounds.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import assert_never

from checker.dsl.diagnostics import Diagnostic, Span, SpecError
from checker.ir.nodes import (
    Binary,
    Const,
    Dyn,
    Expr,
    FieldOf,
    Ite,
    Loc,
    Read,
    Slot,
    TransitionSystem,
    Unary,
)
from checker.ir.precond import Symbolic, simplify

# Promela keywords and C keywords (pan compiles every name into C).
RESERVED = frozenset(["active", "assert", "atomic", "bit", "bool", "break", "byte", "chan", "d_step", "D_proctype", "do", "else", "empty", "enabled", "eval", "false", "fi", "for", "full", "get_priority", "goto", "hidden", "if", "in", "init", "inline", "int", "len", "local", "ltl", "mtype", "nempty", "never", "nfull", "notrace", "np_", "od", "of", "pcvalue", "print", "printf", "printm", "priority", "proctype", "provided", "run", "select", "set_priority", "short", "show", "skip", "timeout", "trace", "true", "typedef", "unless", "unsigned", "xr", "xs", "c_code", "c_decl", "c_expr", "c_state", "c_track", "auto", "case", "char", "const", "continue", "default", "double", "enum", "extern", "float", "long", "register", "return", "signed", "sizeof", "static", "struct", "switch", "union", "void", "volatile", "while", "now"])


# SPIN's widest integer, and the type pan evaluates every expression in.
INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1

Interval = tuple[int, int]


class ExportError(SpecError):
    """A scenario the export cannot render exactly (exit 2): a slot, a
    constant or an intermediate value that may leave SPIN's 32-bit `int`, or
    a shift by 32 or more. migcheck's values are exact integers; pan's
    arithmetic is C's on `int`, so such a model could give another verdict."""

    @staticmethod
    def where(span: Span, message: str) -> ExportError:
        return ExportError([Diagnostic(span, message)])


def fits(iv: Interval) -> bool:
    return iv[0] >= INT_MIN and iv[1] <= INT_MAX


def _bits(iv: Interval) -> int:
    """Bits of the magnitude of every value in `iv`."""
    return max(abs(iv[0]), abs(iv[1])).bit_length()


def binary_interval(op: str, a: Interval, b: Interval) -> Interval:
    """An interval containing `x op y` for every x in a, y in b (C semantics:
    division truncates, `%` takes the dividend's sign)."""
    if op in ("==", "!=", "<", "<=", ">", ">=", "&&", "||"):
        return (0, 1)
    if op == "+":
        return (a[0] + b[0], a[1] + b[1])
    if op == "-":
        return (a[0] - b[1], a[1] - b[0])
    if op == "*":
        corners = [x * y for x in a for y in b]
        return (min(corners), max(corners))
    if op in ("/", "%"):
        m = max(abs(a[0]), abs(a[1]))
        if op == "%":
            m = min(m, max(abs(b[0]), abs(b[1])) - 1)
        lo = -m if a[0] < 0 else 0
        hi = m if a[1] > 0 else 0
        return (lo, hi)
    if op in ("<<", ">>"):
        shifts = (max(b[0], 0), max(b[1], 0))
        if op == "<<":
            corners = [x << k for x in a for k in shifts]
        else:
            corners = [x >> k for x in a for k in shifts]
        return (min(corners), max(corners))
    if op in ("&", "|", "^"):
        top = (1 << max(_bits(a), _bits(b))) - 1
        if a[0] >= 0 and b[0] >= 0:
            return (0, min(a[1], b[1]) if op == "&" else top)
        if op == "&" and (a[0] >= 0 or b[0] >= 0):
            return (0, a[1] if a[0] >= 0 else b[1])
        return (-top - 1, top)
    raise AssertionError(op)


def promela_type(lo: int, hi: int) -> str:
    if lo >= 0 and hi <= 1:
        return "bit"
    if lo >= 0 and hi <= 255:
        return "byte"
    if lo >= -32768 and hi <= 32767:
        return "short"
    return "int"


TYPE_BYTES = {"bit": 1, "byte": 1, "short": 2, "int": 4}


@dataclass
class Family:
    """Slots rendered as one Promela variable (an array when more than one)."""

    name: str
    slots: list[int]  # in state-vector order; position = array index
    comment: str

    @property
    def is_array(self) -> bool:
        return len(self.slots) > 1


def _pattern(name: str) -> str:
    return re.sub(r"\[\d+\]", "[]", name)


def sanitize(text: str) -> str:
    out = text.replace("[]", "").replace("()", "_ret")
    out = re.sub(r"[^A-Za-z0-9_]", "_", out)
    out = re.sub(r"__+", "_", out).strip("_") or "v"
    if out[0].isdigit():
        out = "v" + out
    return out


class Names:
    """Naming of every slot of `ts`, and rendering of IR expressions."""

    def __init__(self, ts: TransitionSystem, reserved: Sequence[str] = (), prefix: str = ""):
        self.ts = ts
        self.prefix = prefix
        self.sym = Symbolic(ts.slots, ts.pools)
        self.used: set[str] = set(RESERVED) | set(reserved)
        self.families: list[Family] = []
        self.where: dict[int, tuple[Family, int]] = {}
        self._linear: dict[tuple[int, tuple[tuple[int, int], ...]], tuple[Family, int,
                                                                           list[int]] | None] = {}
        # Where the expressions rendered now come from (the step being
        # written): the place an export error points at.
        self.context = Span.unknown(ts.spec)
        self._read_ranges: dict[Loc, Interval] = {}
        self._group()

    # ------------------------------------------------------------ naming
    def fresh(self, base: str) -> str:
        """A new global name (with the prefix, when several models share a file)."""
        base = self.prefix + base
        if re.fullmatch(r"[PQ]\d+", base) or base in RESERVED:  # keywords, pan's names
            base += "_"
        name = base
        k = 2
        while name in self.used:
            name = f"{base}_{k}"
            k += 1
        self.used.add(name)
        return name

    def _group(self) -> None:
        groups: dict[tuple[int, bool, str], list[Slot]] = {}
        for s in self.ts.slots:
            groups.setdefault((s.thread, s.kind == "alloc", _pattern(s.name)), []).append(s)
        for (thread, is_alloc, pattern), members in groups.items():
            prefix = f"T{thread}_" if thread else ""
            base = sanitize(pattern) + ("_allocated" if is_alloc else "")
            if members[0].kind == "pc":
                base = "pc"
            distinct = len({m.name for m in members}) == len(members)
            if distinct:
                self._add(prefix + base, members)
            else:  # the same name declared twice (locals of two blocks): one each
                for m in members:
                    self._add(prefix + base, [m])

    def _add(self, base: str, members: list[Slot]) -> None:
        s0 = members[0]
        pool = f", pool {s0.pool}" if s0.pool else ""
        if s0.kind == "alloc":
            what = f"allocated bit of each {s0.pool} object"
        else:
            what = _pattern(s0.name)
        lo = min(m.lo for m in members)
        hi = max(m.hi for m in members)
        fam = Family(self.fresh(base), [m.index for m in members],
                     f"{what}: {s0.kind} {lo}..{hi}{pool}")
        self.families.append(fam)
        for pos, m in enumerate(members):
            self.where[m.index] = (fam, pos)

    def declarations(self, initial: Sequence[int]) -> list[str]:
        lines = []
        for fam in self.families:
            lo = min(self.ts.slots[i].lo for i in fam.slots)
            hi = max(self.ts.slots[i].hi for i in fam.slots)
            ty = promela_type(lo, hi)
            values = [initial[i] for i in fam.slots]
            if fam.is_array:
                init = ", ".join(str(v) for v in values)
                decl = f"{ty} {fam.name}[{len(values)}] = {{ {init} }};"
            else:
                decl = f"{ty} {fam.name} = {values[0]};"
            lines.append(f"{decl:<48} /* {fam.comment} */")
        return lines

    def vector_bytes(self) -> int:
        total = 0
        for fam in self.families:
            lo = min(self.ts.slots[i].lo for i in fam.slots)
            hi = max(self.ts.slots[i].hi for i in fam.slots)
            total += TYPE_BYTES[promela_type(lo, hi)] * len(fam.slots)
        return total

    def slot(self, index: int) -> str:
        fam, pos = self.where[index]
        return f"{fam.name}[{pos}]" if fam.is_array else fam.name

    def pc(self, thread: int) -> str:
        return self.slot(self.ts.threads[thread - 1].pc_slot)

    # ------------------------------------------------------------ locations
    def _linear_index(self, raw: Loc) -> tuple[Family, int, list[int]] | None:
        """(family, index of the base, index step per dynamic part) when the
        location walks one array linearly."""
        key = (raw.base, tuple((d.stride, d.count) for d in raw.dyn))
        if key in self._linear:
            return self._linear[key]
        fam, pos0 = self.where[raw.base]
        steps = []
        for d in raw.dyn:
            if d.count > 1:
                nxt = self.where.get(raw.base + d.stride)
                if nxt is None or nxt[0] is not fam:
                    steps.append(-1)
                    continue
                steps.append(nxt[1] - pos0)
            else:
                steps.append(0)
        result: tuple[Family, int, list[int]] | None = (fam, pos0, steps)
        if -1 in steps:
            result = None
        else:
            for combo in itertools.product(*(range(d.count) for d in raw.dyn)):
                slot = raw.base + sum(k * d.stride for k, d in zip(combo, raw.dyn, strict=True))
                want = pos0 + sum(k * s for k, s in zip(combo, steps, strict=True))
                got = self.where.get(slot)
                if got is None or got[0] is not fam or got[1] != want:
                    result = None
                    break
        self._linear[key] = result
        return result

    def raw_lvalue(self, raw: Loc) -> str | None:
        """The Promela variable for a raw location (plain indices), or None
        when it does not walk one array linearly."""
        if not raw.dyn:
            return self.slot(raw.base)
        lin = self._linear_index(raw)
        if lin is None:
            return None
        fam, pos0, steps = lin
        terms = [str(pos0)] if pos0 else []
        for d, s in zip(raw.dyn, steps, strict=True):
            if s == 0:
                continue
            idx = self.expr(d.expr)
            terms.append(idx if s == 1 else f"{idx} * {s}")
        return f"{fam.name}[{' + '.join(terms) or '0'}]"

    def candidates(self, raw: Loc) -> list[tuple[int, str]]:
        """(slot, condition on the indices) for each slot a raw location can be."""
        out = []
        for combo in itertools.product(*(range(d.count) for d in raw.dyn)):
            slot = raw.base + sum(k * d.stride for k, d in zip(combo, raw.dyn, strict=True))
            cond = " && ".join(f"{self.expr(d.expr)} == {k}"
                               for k, d in zip(combo, raw.dyn, strict=True))
            out.append((slot, cond))
        return out

    def read_raw(self, raw: Loc) -> str:
        lv = self.raw_lvalue(raw)
        if lv is not None:
            return lv
        cands = self.candidates(raw)
        text = self.slot(cands[-1][0])
        for slot, cond in reversed(cands[:-1]):
            text = f"({cond} -> {self.slot(slot)} : {text})"
        return text

    # ------------------------------------------------------------ expressions
    def expr(self, e: Expr) -> str:
        """`e` in Promela, constants folded; reads through references are
        rendered without their checks (the caller asserts those first).
        Raises `ExportError` when a value of it may leave C's `int`."""
        e = simplify(e)
        self.interval(e)
        return self._render(e)

    def check_slots(self) -> None:
        """Every slot's range within SPIN's `int`, else an `ExportError`."""
        for sl in self.ts.slots:
            if not fits((sl.lo, sl.hi)):
                raise ExportError.where(
                    self.context, f"scenario {self.ts.scenario}: slot '{sl.name}' ranges over "
                    f"{sl.lo}..{sl.hi}, beyond SPIN's 32-bit int "
                    f"({INT_MIN}..{INT_MAX}): the export would not be exact")

    def _beyond(self, e: Expr, what: str) -> ExportError:
        text = self._render(e)
        if len(text) > 120:
            text = text[:117] + "..."
        return ExportError.where(self.context, f"scenario {self.ts.scenario}: the export "
                                 f"cannot be exact: {what} in `{text}`")

    def interval(self, e: Expr) -> Interval:
        """The values `e` can take in states within the slots' ranges; an
        `ExportError` when one of them, or of a subexpression, leaves C's
        `int`, or a shift amount may reach 32."""
        iv = self._interval(e)
        if not fits(iv):
            raise self._beyond(e, f"a value may reach {iv[0]}..{iv[1]}, beyond SPIN's "
                                  "32-bit int")
        return iv

    def _interval(self, e: Expr) -> Interval:
        match e:
            case Const():
                return (e.value, e.value)
            case Read():
                return self._read_interval(e.loc)
            case Unary():
                a = self.interval(e.operand)
                if e.op == "!":
                    return (0, 1)
                if e.op == "-":
                    return (-a[1], -a[0])
                return (-a[1] - 1, -a[0] - 1)  # ~x == -x - 1
            case Binary():
                a, b = self.interval(e.left), self.interval(e.right)
                if e.op in ("<<", ">>") and b[1] >= 32:
                    raise self._beyond(e, f"a shift by up to {b[1]}, 32 or more in C's int")
                return binary_interval(e.op, a, b)
            case Ite():
                self.interval(e.cond)
                a, b = self.interval(e.then), self.interval(e.other)
                return (min(a[0], b[0]), max(a[1], b[1]))
            case FieldOf():
                self.interval(e.word)
                return (e.lo, e.lo + (1 << e.width) - 1)
            case _:
                assert_never(e)

    def _read_interval(self, loc: Loc) -> Interval:
        if loc.bits is not None:
            _shift, _width, lo, hi = loc.bits
            return (lo, hi)
        known = self._read_ranges.get(loc)
        if known is not None:
            return known
        raw, _addr, _checks = self.sym.locate(loc, (), "read")
        for d in raw.dyn:
            self.interval(simplify(d.expr))
        slots = self.ts.slots
        lo, hi = slots[raw.base].lo, slots[raw.base].hi
        for combo in itertools.product(*(range(d.count) for d in raw.dyn)):
            sl = slots[raw.base + sum(k * d.stride for k, d in zip(combo, raw.dyn, strict=True))]
            lo, hi = min(lo, sl.lo), max(hi, sl.hi)
        self._read_ranges[loc] = (lo, hi)
        return (lo, hi)

    def _render(self, e: Expr) -> str:
        match e:
            case Const():
                return str(e.value) if e.value >= 0 else f"({e.value})"
            case Read():
                raw, _addr, _checks = self.sym.locate(e.loc, (), "read")
                raw = Loc(raw.base, tuple(Dyn(simplify(d.expr), d.stride, d.count) for d in raw.dyn))
                text = self.read_raw(raw)
                return field_text(text, e.loc.bits)
            case Unary():
                return f"{e.op}({self._render(e.operand)})"
            case Binary():
                return f"({self._render(e.left)} {e.op} {self._render(e.right)})"
            case Ite():
                return (f"({self._render(e.cond)} -> {self._render(e.then)} : "
                        f"{self._render(e.other)})")
            case FieldOf():
                return field_text(self._render(e.word), (e.shift, e.width, e.lo, 0))
            case _:
                assert_never(e)


def field_text(word: str, bits: tuple[int, int, int, int] | None) -> str:
    if bits is None:
        return word
    shift, width, lo, _hi = bits
    text = f"({word} >> {shift})" if shift else word
    text = f"({text} & {(1 << width) - 1})"
    return f"({text} + {lo})" if lo > 0 else f"({text} - {-lo})" if lo < 0 else text
