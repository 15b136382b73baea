"""What names denote after resolution, and the elaborated program.

An `Elaboration` is a spec checked under one set of constant and option
values (a scenario's variant, plus `-D` overrides): every constant is folded,
every type resolved, every expression typed (`expr_types`) and every name and
call bound to its symbol (`refs`). Side tables keyed by AST node identity keep
the AST itself immutable after parsing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.dsl import ast
from checker.dsl.diagnostics import Span
from checker.dsl.loader import Program
from checker.kinds import EXPECT_WORDS
from checker.sema.lemmatypes import LemmaInfo
from checker.sema.types import EnumType, PtrType, StructType, Type


@dataclass(eq=False)
class ConstSym:
    name: str
    value: int
    is_bool: bool
    is_option: bool
    span: Span


@dataclass(eq=False)
class EnumMemberSym:
    name: str
    enum: EnumType
    index: int


@dataclass(eq=False)
class GlobalSym:
    name: str
    type: Type
    init: ast.Expr | None
    span: Span
    thread_local: bool
    per_cpu: bool = False  # one instance per CPU, read by the CPU's thread and handlers


@dataclass(eq=False)
class PoolSym:
    name: str
    elem: StructType
    size: int
    span: Span
    symmetric: bool = False  # `pool ... symmetric;` (checker/ir/symmetry.py)


@dataclass(eq=False)
class LocalSym:
    """A parameter or local variable of a thread or procedure."""

    name: str
    type: Type
    span: Span
    owner: str
    uid: int
    # A pointer parameter whose target no pool holds: bound by reference.
    alias: bool = False


@dataclass(eq=False)
class QuantVarSym:
    name: str
    type: Type
    span: Span


@dataclass(eq=False)
class ProcSym:
    name: str
    decl: ast.ProcDecl
    params: list[LocalSym]
    ret: Type
    locals: list[LocalSym] = field(default_factory=list)
    # Lock annotations: (kind, param name), e.g. ("acquires", "lock").
    lock_annotations: list[tuple[str, str]] = field(default_factory=list)


@dataclass(eq=False)
class ThreadSym:
    name: str
    decl: ast.ThreadDecl
    params: list[LocalSym]
    locals: list[LocalSym] = field(default_factory=list)


Symbol = (
    ConstSym | EnumMemberSym | GlobalSym | PoolSym | LocalSym | QuantVarSym | ProcSym | ThreadSym
)

# What an `expect` line may name: `verified` or a violation kind (checker.kinds).
EXPECT_KINDS = EXPECT_WORDS


@dataclass
class Elaboration:
    program: Program
    bindings: dict[str, int]
    consts: dict[str, ConstSym] = field(default_factory=dict)
    enum_members: dict[str, EnumMemberSym] = field(default_factory=dict)
    structs: dict[str, StructType] = field(default_factory=dict)
    enums: dict[str, EnumType] = field(default_factory=dict)
    typedefs: dict[str, Type] = field(default_factory=dict)
    globals: dict[str, GlobalSym] = field(default_factory=dict)
    pools: dict[str, PoolSym] = field(default_factory=dict)
    procs: dict[str, ProcSym] = field(default_factory=dict)
    threads: dict[str, ThreadSym] = field(default_factory=dict)
    inits: list[ast.InitDecl] = field(default_factory=list)
    properties: list[ast.PropertyDecl] = field(default_factory=list)
    lock_orders: list[ast.LockOrderDecl] = field(default_factory=list)
    scenarios: dict[str, ast.ScenarioDecl] = field(default_factory=dict)
    lemmas: dict[str, LemmaInfo] = field(default_factory=dict)
    expr_types: dict[ast.Expr, Type] = field(default_factory=dict)
    refs: dict[ast.Node, Symbol] = field(default_factory=dict)
    decl_syms: dict[ast.Node, LocalSym] = field(default_factory=dict)
    quant_vars: dict[ast.Quant, QuantVarSym] = field(default_factory=dict)
    run_loop_vars: dict[ast.RunLoop, QuantVarSym] = field(default_factory=dict)
    # Per scenario, the thread instances its `run` items start, in order, each
    # with the values of its scenario loop variables.
    run_instances: dict[str, list[tuple[ast.RunItem, dict[QuantVarSym, int]]]] = \
        field(default_factory=dict)
    # A `for` loop inside `atomic` with a constant trip count: its variable and
    # the value of each pass (lowering unrolls it, so the block stays one step).
    unrolled: dict[ast.For, tuple[LocalSym, tuple[int, ...]]] = field(default_factory=dict)
    init_locals: list[LocalSym] = field(default_factory=list)

    def pool_of(self, t: Type) -> PoolSym | None:
        """The pool holding objects of a pointer's target type, if any."""
        target = t.target if isinstance(t, PtrType) else t
        for pool in self.pools.values():
            if pool.elem is target:
                return pool
        return None

    def type_of(self, e: ast.Expr) -> Type:
        return self.expr_types[e]
