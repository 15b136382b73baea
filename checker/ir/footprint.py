"""What an IR expression, statement or action reads and writes.

A location with dynamic components stands for every slot it may reach; a read
through a pool reference also reads that object's allocated bit. Fusion uses
this to tell local steps from shared ones; the lock analyses use it to tell
conditions over a thread's own variables from those over shared state.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

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
    Unary,
)


def expr_locs(e: Expr) -> Iterator[Loc]:
    """Every location an expression reads, nested index expressions included."""
    if isinstance(e, Read):
        yield e.loc
        for d in e.loc.dyn:
            yield from expr_locs(d.expr)
    elif isinstance(e, Unary):
        yield from expr_locs(e.operand)
    elif isinstance(e, Binary):
        yield from expr_locs(e.left)
        yield from expr_locs(e.right)
    elif isinstance(e, Ite):
        yield from expr_locs(e.cond)
        yield from expr_locs(e.then)
        yield from expr_locs(e.other)
    elif isinstance(e, FieldOf):
        yield from expr_locs(e.word)
    else:
        assert isinstance(e, Const), e


@dataclass
class Footprint:
    reads: list[Loc] = field(default_factory=list)
    writes: list[Loc] = field(default_factory=list)
    pools_changed: set[str] = field(default_factory=set)  # alloc/free
    starts: bool = False


def body_footprint(guard: Expr | None, body: Sequence[Stmt]) -> Footprint:
    fp = Footprint()
    if guard is not None:
        fp.reads.extend(expr_locs(guard))
    for s in body:
        _stmt_fp(s, fp)
    return fp


def _stmt_fp(s: Stmt, fp: Footprint) -> None:
    if isinstance(s, Assign):
        fp.writes.append(s.loc)
        if s.loc.bits is not None:
            fp.reads.append(s.loc)
        for d in s.loc.dyn:
            fp.reads.extend(expr_locs(d.expr))
        fp.reads.extend(expr_locs(s.value))
    elif isinstance(s, If):
        fp.reads.extend(expr_locs(s.cond))
        for x in (*s.then, *s.other):
            _stmt_fp(x, fp)
    elif isinstance(s, Require | Assert):
        fp.reads.extend(expr_locs(s.cond))
    elif isinstance(s, AllocObj):
        fp.writes.append(s.loc)
        fp.pools_changed.add(s.pool)
    elif isinstance(s, FreeObj):
        fp.reads.extend(expr_locs(s.ref))
        fp.pools_changed.add(s.pool)
    elif isinstance(s, StartThread):
        for a in s.args:
            fp.reads.extend(expr_locs(a))
        fp.starts = True
    else:
        assert isinstance(s, CoverHit | LockEvent), s


def loc_is_shared(loc: Loc, slots: Sequence[Slot]) -> bool:
    if any(d.pool is not None for d in loc.dyn):
        return True
    return slots[loc.base].shared


def touches_shared(fp: Footprint, slots: Sequence[Slot]) -> bool:
    if fp.pools_changed or fp.starts:
        return True
    return any(loc_is_shared(loc, slots) for loc in (*fp.reads, *fp.writes))

