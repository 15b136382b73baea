"""The micro control-flow graph that lowering builds (one edge per
statement, before `checker.ir.fuse` groups edges into atomic steps), the
location designators (`LV`) it is built from, and the frame an inlined
body's names live in."""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.dsl.diagnostics import Span
from checker.ir.layout import WordField
from checker.ir.nodes import Dyn, Expr, Loc, Origin, Stmt
from checker.sema.types import Type

# ---------------------------------------------------------------- lvalues


@dataclass(frozen=True)
class LV:
    """A location designator, possibly of a composite (struct/array) value.

    `path` names the location's class for lock analysis: `size_class.lock`,
    `page`; indices and references are dropped from it."""

    base: int
    dyn: tuple[Dyn, ...]
    type: Type
    path: str
    bits: WordField | None = None

    def loc(self) -> Loc:
        b = self.bits
        return Loc(self.base, self.dyn, (b.shift, b.width, b.lo, b.hi) if b else None)


# ---------------------------------------------------------------- micro graph


@dataclass
class MicroEdge:
    src: int
    dst: int
    guard: Expr
    body: tuple[Stmt, ...]
    origins: tuple[Origin, ...]
    region: int | None = None
    force_visible: bool = False
    blocking: bool = False  # an await: its guard may be false with no alternative
    exit: bool = False  # the thread's end: on_exit checks and reset of its variables
    choice: bool = False  # one of several nondeterministic alternatives (either, choose)
    progress: bool = False  # passes a progress label (a jump with no statement)


@dataclass
class MicroGraph:
    edges: list[MicroEdge] = field(default_factory=list)
    region_of: dict[int, int | None] = field(default_factory=dict)
    origin_of: dict[int, Origin] = field(default_factory=dict)
    count: int = 0

    def node(self, region: int | None) -> int:
        n = self.count
        self.count += 1
        self.region_of[n] = region
        return n

    def out_edges(self) -> dict[int, list[MicroEdge]]:
        out: dict[int, list[MicroEdge]] = {}
        for e in self.edges:
            out.setdefault(e.src, []).append(e)
        return out


# ---------------------------------------------------------------- frames


@dataclass
class Frame:
    """Where a function body's names live during one inlining."""

    owner: str
    binds: dict[object, LV | Expr]
    labels: dict[str, int]
    ret_node: int
    result: LV | None
    stack: tuple[Span, ...]
    wrapper: bool = False
    might_sleep: bool = False  # the procedure is annotated `__might_sleep`

