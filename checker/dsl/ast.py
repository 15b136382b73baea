"""The typed abstract syntax tree of a spec.

Plain dataclasses, one per construct, each with its source `span`. The parser
builds them; `checker.sema` resolves names and types into side tables keyed
by these nodes (`sema.symbols.Elaboration`), leaving the nodes as parsed;
`checker.ir.lower` reads both. Nothing after the IR reads these classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.dsl.diagnostics import Span


@dataclass(eq=False)
class Node:
    span: Span


# ---------------------------------------------------------------- type syntax


@dataclass(eq=False)
class TypeExpr(Node):
    pass


@dataclass(eq=False)
class BoolT(TypeExpr):
    pass


@dataclass(eq=False)
class VoidT(TypeExpr):
    pass


@dataclass(eq=False)
class TidT(TypeExpr):
    pass


@dataclass(eq=False)
class IntT(TypeExpr):
    lo: Expr
    hi: Expr


@dataclass(eq=False)
class TidSetT(IntT):
    """`tidset[lo..hi]`: an integer whose bit t says whether thread t is in
    a set (a wait queue's tasks, the running readers): what symmetry
    reduction renames bit by bit (checker.ir.symmetry)."""


@dataclass(eq=False)
class BareIntT(TypeExpr):
    pass


@dataclass(eq=False)
class TaggedT(TypeExpr):
    """`struct NAME`, `enum NAME` or `word NAME`."""

    tag: str
    name: str


@dataclass(eq=False)
class NamedT(TypeExpr):
    """A typedef name."""

    name: str


@dataclass(eq=False)
class PtrT(TypeExpr):
    base: TypeExpr


# ---------------------------------------------------------------- expressions


@dataclass(eq=False)
class Expr(Node):
    pass


@dataclass(eq=False)
class IntLit(Expr):
    value: int


@dataclass(eq=False)
class BoolLit(Expr):
    value: bool


@dataclass(eq=False)
class NullLit(Expr):
    pass


@dataclass(eq=False)
class Current(Expr):
    pass


@dataclass(eq=False)
class NoThread(Expr):
    """`none`: the `tid` of no thread (0)."""


@dataclass(eq=False)
class Name(Expr):
    name: str


@dataclass(eq=False)
class Call(Expr):
    name: str
    args: list[Expr]


@dataclass(eq=False)
class Warn(Expr):
    """`WARN_ON(cond)`, `WARN_ON_ONCE(cond)`, `WARN(cond, "msg")`,
    `WARN_ONCE(cond, "msg")`: a non-fatal check whose value is `cond`."""

    macro: str
    cond: Expr
    message: str | None

    @property
    def once(self) -> bool:
        return self.macro.endswith("_ONCE")


@dataclass(eq=False)
class Alloc(Expr):
    pool: str


@dataclass(eq=False)
class ChooseRange(Expr):
    lo: Expr
    hi: Expr


@dataclass(eq=False)
class ChooseList(Expr):
    items: list[Expr]


@dataclass(eq=False)
class Quant(Expr):
    """`forall(x in D: e)`, `exists(...)`, `count(...)`; D is a pool or a range."""

    kind: str
    var: str
    pool: str | None
    lo: Expr | None
    hi: Expr | None
    body: Expr


@dataclass(eq=False)
class Cond(Expr):
    cond: Expr
    then: Expr
    other: Expr


@dataclass(eq=False)
class Binary(Expr):
    op: str
    left: Expr
    right: Expr


@dataclass(eq=False)
class Unary(Expr):
    op: str  # "!", "-", "~"
    operand: Expr


@dataclass(eq=False)
class Member(Expr):
    """`e.name`, or `e->name` when `arrow` is set."""

    base: Expr
    name: str
    arrow: bool


@dataclass(eq=False)
class AssignExpr(Expr):
    """`(target = value)`, `(target += value)`, ... inside an expression: C's
    assignment expression, whose value is the target's after the store.
    Accepted in the condition of `if`, `while`, `do` and `for`."""

    target: Expr
    op: str
    value: Expr


@dataclass(eq=False)
class Index(Expr):
    base: Expr
    index: Expr


@dataclass(eq=False)
class Deref(Expr):
    operand: Expr


@dataclass(eq=False)
class AddrOf(Expr):
    operand: Expr


# ---------------------------------------------------------------- statements


@dataclass(eq=False)
class Stmt(Node):
    pass


@dataclass(eq=False)
class Block(Stmt):
    body: list[Stmt]


@dataclass(eq=False)
class VarDecl(Stmt):
    """A variable: global, thread-local, or local to a thread or procedure."""

    type: TypeExpr
    name: str
    dims: list[Expr]
    init: Expr | None
    thread_local: bool = False
    per_cpu: bool = False  # `per_cpu`: one instance per CPU (checker/ir/build.py)


@dataclass(eq=False)
class Assign(Stmt):
    target: Expr
    op: str  # "=", "+=", ...
    value: Expr


@dataclass(eq=False)
class IncDec(Stmt):
    target: Expr
    op: str  # "++" or "--"


@dataclass(eq=False)
class CallStmt(Stmt):
    call: Call


@dataclass(eq=False)
class WarnStmt(Stmt):
    """`WARN_ON(cond);` as a statement: its value is not used."""

    warn: Warn


@dataclass(eq=False)
class If(Stmt):
    cond: Expr
    then: Stmt
    other: Stmt | None


@dataclass(eq=False)
class While(Stmt):
    cond: Expr
    body: Stmt


@dataclass(eq=False)
class DoWhile(Stmt):
    body: Stmt
    cond: Expr


@dataclass(eq=False)
class For(Stmt):
    init: Stmt | None
    cond: Expr | None
    step: Stmt | None
    body: Stmt


@dataclass(eq=False)
class Goto(Stmt):
    label: str


@dataclass(eq=False)
class Label(Stmt):
    name: str
    stmt: Stmt


@dataclass(eq=False)
class Return(Stmt):
    value: Expr | None


@dataclass(eq=False)
class Break(Stmt):
    pass


@dataclass(eq=False)
class Continue(Stmt):
    pass


@dataclass(eq=False)
class Atomic(Stmt):
    body: Block


@dataclass(eq=False)
class Await(Stmt):
    cond: Expr


@dataclass(eq=False)
class Either(Stmt):
    branches: list[Block]


@dataclass(eq=False)
class Assert(Stmt):
    cond: Expr
    message: str | None


@dataclass(eq=False)
class Cover(Stmt):
    cond: Expr | None
    message: str


@dataclass(eq=False)
class Start(Stmt):
    thread: str
    args: list[Expr]


@dataclass(eq=False)
class Free(Stmt):
    operand: Expr


@dataclass(eq=False)
class Empty(Stmt):
    pass


# ---------------------------------------------------------------- declarations


@dataclass(eq=False)
class Decl(Node):
    pass


@dataclass(eq=False)
class Import(Decl):
    path: str


@dataclass(eq=False)
class ConstDecl(Decl):
    name: str
    value: Expr
    is_option: bool
    static: bool = False  # private to its module (`static const`)


@dataclass(eq=False)
class TypedefDecl(Decl):
    name: str
    type: TypeExpr
    dims: list[Expr]


@dataclass(eq=False)
class FieldDecl(Node):
    type: TypeExpr
    name: str
    dims: list[Expr]


@dataclass(eq=False)
class StructDecl(Decl):
    name: str
    fields: list[FieldDecl]
    is_word: bool


@dataclass(eq=False)
class EnumDecl(Decl):
    name: str
    members: list[tuple[str, Span]]


@dataclass(eq=False)
class PoolDecl(Decl):
    type: TypeExpr
    name: str
    size: Expr
    # `pool ... symmetric;`: the objects are interchangeable in every scenario
    # (checker/ir/symmetry.py checks that the spec cannot tell them apart).
    symmetric: bool = False


@dataclass(eq=False)
class GlobalDecl(Decl):
    var: VarDecl
    static: bool = False


@dataclass(eq=False)
class Param(Node):
    type: TypeExpr
    name: str


@dataclass(eq=False)
class Annotation(Node):
    name: str
    args: list[str]


@dataclass(eq=False)
class ProcDecl(Decl):
    ret: TypeExpr
    name: str
    params: list[Param]
    annotations: list[Annotation]
    body: Block
    static: bool = False


@dataclass(eq=False)
class ThreadDecl(Decl):
    name: str
    params: list[Param]
    body: Block
    static: bool = False
    daemon: bool = False  # `daemon thread`: runs forever by design (explore.fairness)
    fair: bool = False  # `fair thread`: strongly fair, not only weakly


@dataclass(eq=False)
class ExternDecl(Decl):
    """`extern const N;`, `extern struct S;`, `extern T f(...);`: a name the
    module uses and its importer must define (checked by the loader, which
    reports a missing one once, at the import, not as errors inside the
    module). `kind` is "const", "struct" or "proc"."""

    kind: str
    name: str


@dataclass(eq=False)
class InitDecl(Decl):
    body: Block


@dataclass(eq=False)
class PropertyDecl(Decl):
    kind: str  # "invariant", "final", "on_exit"
    name: str
    expr: Expr


@dataclass(eq=False)
class LockOrderDecl(Decl):
    names: list[tuple[str, Span]]


@dataclass(eq=False)
class RunItem(Node):
    """`run T(args);`, `run T(args) * COUNT;` (COUNT instances), or one inside
    `for (v in LO..HI) ...` (`loops`, outermost first: one instance per value,
    the variables constants in the arguments)."""

    thread: str
    args: list[Expr]
    count: Expr | None = None
    loops: list[RunLoop] = field(default_factory=list)
    cpu: Expr | None = None  # `on cpu N`
    context: str = "task"  # "task" (`run`), "hardirq" (`irq`), "softirq" (`softirq`)
    # `run T(args) * N symmetric;`: the N instances form one symmetry group
    # (checker/ir/symmetry.py checks that the spec cannot tell them apart).
    symmetric: bool = False


@dataclass(eq=False)
class RunLoop(Node):
    """`for (var in lo..hi)` around `run` items of a scenario."""

    var: str
    lo: Expr
    hi: Expr


@dataclass(eq=False)
class ExpectItem(Node):
    kind: str
    name: str | None


@dataclass(eq=False)
class ScenarioDecl(Decl):
    name: str
    options: list[tuple[str, Expr, Span]]
    runs: list[RunItem]
    expect: ExpectItem | None
    inits: list[InitDecl]
    maxes: list[tuple[str, Expr, Span]]
    tags: list[str] = field(default_factory=list)
    # `expect warning [NAME];` lines: warnings the scenario expects to fire
    # (besides its one `expect` verdict).
    warnings: list[ExpectItem] = field(default_factory=list)
    # `symmetric POOL;` lines: pools whose objects are interchangeable in this
    # scenario (as `pool ... symmetric;` declares them in every scenario).
    symmetric_pools: list[tuple[str, Span]] = field(default_factory=list)


@dataclass(eq=False)
class LemmaVar(Node):
    """`bits[WIDTH] NAME`: a bit-vector variable of a lemma."""

    width: Expr
    name: str


@dataclass(eq=False)
class LemmaLet(Node):
    """`bits[W] NAME = EXPR;`: a definition inside a lemma."""

    var: LemmaVar
    value: Expr


@dataclass(eq=False)
class LemmaAssume(Node):
    cond: Expr


@dataclass(eq=False)
class LemmaAssert(Node):
    cond: Expr
    message: str | None


@dataclass(eq=False)
class LemmaDecl(Decl):
    """A bit-vector lemma: for every value of `params`, the asserts hold
    wherever the assumes before them do. Not part of any scenario."""

    name: str
    params: list[LemmaVar]
    body: list[LemmaLet | LemmaAssume | LemmaAssert]
    options: list[tuple[str, Expr, Span]]
    expect: ExpectItem | None


@dataclass(eq=False)
class Module(Node):
    """One parsed file."""

    path: str
    decls: list[Decl]
    text_sha256: str
