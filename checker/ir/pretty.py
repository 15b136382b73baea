"""Render IR expressions, statements and whole systems as text (`migcheck ir`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

from checker.dsl.diagnostics import SourceCache
from checker.ir.nodes import (
    AllocObj,
    Assert,
    Assign,
    Binary,
    Const,
    CoverHit,
    Expr,
    FieldOf,
    FreeObj,
    If,
    Ite,
    Loc,
    LockEvent,
    Read,
    Require,
    Slot,
    StartThread,
    Stmt,
    TransitionSystem,
    Unary,
    Warn,
)
from checker.kinds import ExecContext


class Printer:
    def __init__(self, slots: Sequence[Slot]):
        self.slots = slots

    def loc(self, loc: Loc) -> str:
        if not loc.dyn:
            text = self.slots[loc.base].name
        else:
            parts = []
            for d in loc.dyn:
                inner = self.expr(d.expr)
                parts.append(f"{d.pool}[{inner}-1]" if d.pool else f"[{inner}]")
            text = f"{self.slots[loc.base].name}@" + "+".join(parts)
        if loc.bits is not None:
            shift, width, _lo, _hi = loc.bits
            text += f"{{{shift}:{width}}}"
        return text

    def expr(self, e: Expr) -> str:
        match e:
            case Const():
                return str(e.value)
            case Read():
                return self.loc(e.loc)
            case Unary():
                return f"{e.op}{self.expr(e.operand)}"
            case Binary():
                return f"({self.expr(e.left)} {e.op} {self.expr(e.right)})"
            case Ite():
                return f"({self.expr(e.cond)} ? {self.expr(e.then)} : {self.expr(e.other)})"
            case FieldOf():
                return f"{self.expr(e.word)}{{{e.shift}:{e.width}}}"
            case _:
                assert_never(e)

    def stmts(self, body: Sequence[Stmt], indent: str = "    ") -> list[str]:
        out: list[str] = []
        for s in body:
            match s:
                case Assign():
                    out.append(f"{indent}{self.loc(s.loc)} := {self.expr(s.value)}")
                case If():
                    out.append(f"{indent}if {self.expr(s.cond)}:")
                    out.extend(self.stmts(s.then, indent + "  "))
                    if s.other:
                        out.append(f"{indent}else:")
                        out.extend(self.stmts(s.other, indent + "  "))
                case Require():
                    out.append(f"{indent}require {self.expr(s.cond)}")
                case Assert():
                    out.append(f"{indent}assert {self.expr(s.cond)}  # prop {s.prop}")
                case AllocObj():
                    out.append(f"{indent}{self.loc(s.loc)} := alloc({s.pool})")
                case FreeObj():
                    out.append(f"{indent}free({s.pool}, {self.expr(s.ref)})")
                case StartThread():
                    args = ", ".join(self.expr(a) for a in s.args)
                    out.append(f"{indent}start {s.kind}({args})")
                case CoverHit():
                    out.append(f"{indent}cover #{s.cover}")
                case Warn():
                    out.append(f"{indent}warn {self.expr(s.cond)}  # prop {s.prop}")
                case LockEvent():
                    out.append(f"{indent}# {s.op}{' shared' if s.shared else ''} {s.lock_class} at {self.loc(s.loc)}")
                case _:
                    assert_never(s)
        return out


def dump(ts: TransitionSystem) -> str:
    p = Printer(ts.slots)
    out = [f"scenario {ts.scenario}  ({len(ts.slots)} slots, {len(ts.actions)} actions)"]
    out.append("slots:")
    for s in ts.slots:
        owner = f" T{s.thread}" if s.thread else ""
        out.append(f"  [{s.index}] {s.name}: {s.kind} {s.lo}..{s.hi} = {ts.initial[s.index]}{owner}")
    for t in ts.threads:
        where = f"  cpu {t.cpu}" + (f" {t.context} handler, entry pc{t.entry_pc}"
                                    if t.context != ExecContext.TASK else "") if ts.has_handlers else ""
        out.append(f"thread T{t.id} {t.label}  pc slot {t.pc_slot}{where}")
        for a in ts.actions:
            if a.thread != t.id:
                continue
            where = ", ".join(f"{o.span.line}" for o in a.origins)
            text = SourceCache.excerpt(a.origin.span)
            out.append(f"  a{a.id}: pc{a.src} -> pc{a.dst}  [{p.expr(a.guard)}]  lines {where}: {text}")
            out.extend(p.stmts(a.body, "      "))
    for idx, e in ts.invariants:
        out.append(f"invariant {ts.props[idx].name}: {p.expr(e)}")
    for idx, e in ts.finals:
        out.append(f"final {ts.props[idx].name}: {p.expr(e)}")
    for g in ts.symmetry:
        threads = ", ".join(f"T{t}" for t in g.threads)
        out.append(f"symmetric {g.kind}: {threads}; per instance slots "
                   + " | ".join(" ".join(str(k) for k in b) for b in g.blocks))
    for pg in ts.pool_symmetry:
        out.append(f"symmetric pool {pg.pool}: {len(pg.blocks)} objects; references in "
                   + ", ".join(ts.slots[loc.slot].name + (f"{{{loc.shift}:{loc.width}}}"
                                                         if loc.width else "")
                               for loc in pg.refs))
    if ts.tid_locs:
        out.append("thread ids renamed in: " + ", ".join(
            ts.slots[loc.slot].name + (f"{{{loc.shift}:{loc.width}}}" if loc.width else "")
            + (" (bits)" if loc.bits else "") for loc in ts.tid_locs))
    return "\n".join(out)
