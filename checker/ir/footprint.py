"""What an IR expression, statement or action reads and writes.

A location with dynamic components stands for every slot it may reach; a read
through a pool reference also reads that object's allocated bit. Fusion uses
this to tell local steps from shared ones; the lock analyses use it to tell
conditions over a thread's own variables from those over shared state.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import assert_never

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
    ThreadSlot,
    Unary,
    Warn,
)


def expr_locs(e: Expr) -> Iterator[Loc]:
    """Every location an expression reads, nested index expressions included."""
    match e:
        case Read():
            yield e.loc
            for d in e.loc.dyn:
                yield from expr_locs(d.expr)
        case Unary():
            yield from expr_locs(e.operand)
        case Binary():
            yield from expr_locs(e.left)
            yield from expr_locs(e.right)
        case Ite():
            yield from expr_locs(e.cond)
            yield from expr_locs(e.then)
            yield from expr_locs(e.other)
        case FieldOf():
            yield from expr_locs(e.word)
        case Const():
            pass
        case _:
            assert_never(e)


@dataclass
class Footprint:
    reads: list[Loc] = field(default_factory=list)
    writes: list[Loc] = field(default_factory=list)
    pools_changed: set[str] = field(default_factory=set)  # alloc/free
    starts: bool = False
    started: list[ThreadSlot] = field(default_factory=list)  # the slots a `start` may fill


def body_footprint(guard: Expr | None, body: Sequence[Stmt]) -> Footprint:
    fp = Footprint()
    if guard is not None:
        fp.reads.extend(expr_locs(guard))
    for s in body:
        _stmt_fp(s, fp)
    return fp


def _stmt_fp(s: Stmt, fp: Footprint) -> None:
    match s:
        case Assign():
            fp.writes.append(s.loc)
            if s.loc.bits is not None:
                fp.reads.append(s.loc)
            for d in s.loc.dyn:
                fp.reads.extend(expr_locs(d.expr))
            fp.reads.extend(expr_locs(s.value))
        case If():
            fp.reads.extend(expr_locs(s.cond))
            for x in (*s.then, *s.other):
                _stmt_fp(x, fp)
        case Require() | Assert() | Warn():
            fp.reads.extend(expr_locs(s.cond))
        case AllocObj():
            fp.writes.append(s.loc)
            fp.pools_changed.add(s.pool)
        case FreeObj():
            fp.reads.extend(expr_locs(s.ref))
            fp.pools_changed.add(s.pool)
        case StartThread():
            for a in s.args:
                fp.reads.extend(expr_locs(a))
            fp.starts = True
            fp.started.extend(s.slots)
        case CoverHit() | LockEvent():
            pass
        case _:
            assert_never(s)


def loc_is_shared(loc: Loc, slots: Sequence[Slot]) -> bool:
    if any(d.pool is not None for d in loc.dyn):
        return True
    return slots[loc.base].shared


def touches_shared(fp: Footprint, slots: Sequence[Slot]) -> bool:
    if fp.pools_changed or fp.starts:
        return True
    return any(loc_is_shared(loc, slots) for loc in (*fp.reads, *fp.writes))

