"""Name resolution and type checking: AST -> `Elaboration`.

Runs over every module of a program, imports first, and reports every error it
finds (not only the first) as one `SpecError`. Constants and options are folded
here with their values for the variant being checked, so that array sizes,
integer bounds and `if (option)` branches are known before lowering.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from checker.dsl import ast
from checker.dsl.diagnostics import DiagnosticSink, Span, SpecError
from checker.dsl.loader import Program
from checker.dsl.parser import ConstTooLarge, c_int, const_limit_message
from checker.dsl.walk import expr_children, subexprs
from checker.sema.consts import ConstError, ConstLimit, bounded, fold_binary
from checker.sema.lemmas import check_lemma
from checker.sema.symbols import (
    EXPECT_KINDS,
    ConstSym,
    Elaboration,
    EnumMemberSym,
    GlobalSym,
    LocalSym,
    PoolSym,
    ProcSym,
    QuantVarSym,
    Symbol,
    ThreadSym,
)
from checker.sema.types import (
    BOOL,
    INT,
    NULL,
    TID,
    VOID,
    ArrayType,
    BoolType,
    EnumType,
    FieldInfo,
    IntType,
    NullType,
    PtrType,
    StructType,
    TidSetType,
    TidType,
    Type,
    VoidType,
    assignable,
    is_int,
    is_scalar,
    is_truthy,
    same_type,
)

LOCK_ANNOTATIONS = {
    "__acquires": "acquires",
    "__releases": "releases",
    "__cond_acquires": "cond_acquires",
    "__acquires_shared": "acquires_shared",
    "__releases_shared": "releases_shared",
    "__cond_acquires_shared": "cond_acquires_shared",
    "__must_hold": "must_hold",
    "__might_sleep": "might_sleep",
}


@dataclass
class _Ctx:
    """Where an expression or statement is being checked."""

    owner: str = ""  # thread or procedure name
    ret: Type = VOID
    in_thread: bool = False
    in_atomic: bool = False
    loop_depth: int = 0
    allow_assign: bool = False  # C's assignment expression: in a statement's condition only
    allow_thread_local: bool = True
    allow_current: bool = True
    what: str = "code"  # for messages: "an invariant", "an init block", ...
    labels: set[str] = field(default_factory=set)
    gotos: list[ast.Goto] = field(default_factory=list)


class Checker:
    def __init__(self, program: Program, overrides: dict[str, int], override_span: Span):
        self.program = program
        self.overrides = overrides
        self.override_span = override_span
        self.sink = DiagnosticSink()
        self.el = Elaboration(program, dict(overrides))
        self.scopes: list[dict[str, Symbol]] = []
        self.uid = 0
        self.call_edges: list[tuple[str, str]] = []  # caller -> callee, in source order
        self.ctx = _Ctx()
        # Constants are folded on demand, so that a model's constant may use
        # one the importing spec defines (declaration order does not matter).
        self.const_decls: dict[str, ast.ConstDecl] = {}
        self.folding: list[str] = []

    # ------------------------------------------------------------ helpers
    def err(self, span: Span, msg: str) -> None:
        self.sink.error(span, msg)

    @contextmanager
    def scope(self) -> Iterator[None]:
        self.scopes.append({})
        try:
            yield
        finally:
            self.scopes.pop()

    @contextmanager
    def context(self, **changes: object) -> Iterator[None]:
        saved = self.ctx
        self.ctx = _Ctx(**{**saved.__dict__, **changes})
        try:
            yield
        finally:
            self.ctx = saved

    def lookup(self, name: str) -> Symbol | None:
        for sc in reversed(self.scopes):
            if name in sc:
                return sc[name]
        el = self.el
        for table in (el.consts, el.enum_members, el.globals, el.pools, el.procs, el.threads):
            if name in table:
                return table[name]
        return None

    def global_names(self) -> dict[str, Span]:
        out: dict[str, Span] = {}
        for c in self.el.consts.values():
            out[c.name] = c.span
        for g in self.el.globals.values():
            out[g.name] = g.span
        for p in self.el.pools.values():
            out[p.name] = p.span
        for pr in self.el.procs.values():
            out[pr.name] = pr.decl.span
        for t in self.el.threads.values():
            out[t.name] = t.decl.span
        for m in self.el.enum_members.values():
            out[m.name] = m.enum.span
        return out

    def private_hint(self, name: str) -> str:
        """For an unknown name: the modules that have it as a `static`
        (renamed `module::name` by the loader's namespace pass)."""
        mods = sorted(n.split("::")[0] for n in self.global_names() if n.endswith(f"::{name}"))
        return f" (module {', '.join(repr(m) for m in mods)} keeps it static)" if mods else ""

    def declare_global_name(self, name: str, span: Span) -> bool:
        prior = self.global_names().get(name)
        if prior is not None:
            self.sink.error(span, f"'{name}' is already declared", (prior, "first declared here"))
            return False
        return True

    # ------------------------------------------------------------ constants
    def const_value(self, e: ast.Expr) -> int:
        """Fold a compile-time constant expression (ints and bools)."""
        if isinstance(e, ast.IntLit):
            return e.value
        if isinstance(e, ast.BoolLit):
            return int(e.value)
        if isinstance(e, ast.Name):
            if e.name in self.const_decls and not self.scopes:
                self.ensure_const(e.name)
            sym = self.lookup(e.name)
            if isinstance(sym, ConstSym):
                return sym.value
            if isinstance(sym, EnumMemberSym):
                return sym.index
            raise ConstError(f"'{e.name}' is not a constant")
        if isinstance(e, ast.Unary):
            v = self.const_value(e.operand)
            return bounded({"!": int(not v), "-": -v, "~": ~v}[e.op])
        if isinstance(e, ast.Binary):
            a = self.const_value(e.left)
            if e.op == "&&":
                return int(bool(a) and bool(self.const_value(e.right)))
            if e.op == "||":
                return int(bool(a) or bool(self.const_value(e.right)))
            b = self.const_value(e.right)
            return fold_binary(e.op, a, b, e.span)
        if isinstance(e, ast.Cond):
            return self.const_value(e.then) if self.const_value(e.cond) else self.const_value(e.other)
        raise ConstError("not a constant expression")

    def const_int(self, e: ast.Expr, what: str) -> int | None:
        try:
            return self.const_value(e)
        except ConstLimit as ex:
            self.err(e.span, f"{what} {ex}")
            return None
        except ConstError as ex:
            self.err(e.span, f"{what} must be a constant: {ex}")
            return None

    def const_is_bool(self, e: ast.Expr) -> bool:
        if isinstance(e, ast.BoolLit):
            return True
        if isinstance(e, ast.Name):
            sym = self.lookup(e.name)
            return isinstance(sym, ConstSym) and sym.is_bool
        if isinstance(e, ast.Unary) and e.op == "!":
            return True
        return isinstance(e, ast.Binary) and e.op in ("&&", "||", "==", "!=", "<", "<=", ">",
                                                      ">=")

    # ------------------------------------------------------------ types
    def resolve_type(self, t: ast.TypeExpr, dims: list[ast.Expr] | None = None) -> Type:
        base = self._resolve_base(t)
        for d in reversed(dims or []):
            n = self.const_int(d, "an array size")
            if n is None:
                continue
            if n <= 0:
                self.err(d.span, f"array size must be positive, not {n}")
                continue
            base = ArrayType(base, n)
        return base

    def _resolve_base(self, t: ast.TypeExpr) -> Type:
        if isinstance(t, ast.BoolT):
            return BOOL
        if isinstance(t, ast.VoidT):
            return VOID
        if isinstance(t, ast.TidT):
            return TID
        if isinstance(t, ast.IntT):
            make = TidSetType if isinstance(t, ast.TidSetT) else IntType
            lo = self.const_int(t.lo, "an integer bound")
            hi = self.const_int(t.hi, "an integer bound")
            if lo is None or hi is None:
                return make(0, 0)
            if lo > hi:
                self.err(t.span, f"empty integer range int[{lo}..{hi}]")
                return make(hi, lo)
            if make is TidSetType and lo != 0:
                self.err(t.span, f"a tidset's range starts at 0 (bit t is thread t), not {lo}")
                return make(0, hi)
            return make(lo, hi)
        if isinstance(t, ast.BareIntT):
            self.err(
                t.span,
                "'int' needs a range, e.g. int[0..3]: every variable is a finite part of the state",
            )
            return IntType(0, 0)
        if isinstance(t, ast.TaggedT):
            if t.tag == "enum":
                if t.name in self.el.enums:
                    return self.el.enums[t.name]
                self.err(t.span, f"unknown enum '{t.name}'")
                return INT
            st = self.el.structs.get(t.name)
            if st is None:
                self.err(t.span, f"unknown {t.tag} '{t.name}'")
                return INT
            if st.is_word != (t.tag == "word"):
                actual = "word" if st.is_word else "struct"
                self.err(t.span, f"'{t.name}' is declared as a {actual}, write '{actual} {t.name}'")
            return st
        if isinstance(t, ast.NamedT):
            if t.name in self.el.typedefs:
                return self.el.typedefs[t.name]
            self.err(t.span, f"unknown type '{t.name}'")
            return INT
        if isinstance(t, ast.PtrT):
            return PtrType(self._resolve_base(t.base))
        raise AssertionError(t)

    def is_alias_ptr(self, t: Type) -> bool:
        return isinstance(t, PtrType) and self.el.pool_of(t) is None

    def check_storable(self, t: Type, span: Span, what: str) -> None:
        """A variable or field type: pointers must point into a pool."""
        if isinstance(t, VoidType):
            self.err(span, f"{what} cannot be void")
        elif isinstance(t, PtrType):
            if self.el.pool_of(t) is None:
                self.err(
                    span,
                    f"{what} of type '{t}' points outside any pool: only references to pool "
                    f"objects are values (declare 'pool {t.target} NAME[N];'), other pointers "
                    "are by-reference parameters",
                )
        elif isinstance(t, ArrayType):
            self.check_storable(t.elem, span, what)

    # ------------------------------------------------------------ declarations
    def run(self) -> Elaboration:
        decls = [d for m in self.program.modules for d in m.decls]
        self.collect_types(decls)
        for d in decls:
            if isinstance(d, ast.ConstDecl) and self.declare_global_name(d.name, d.span):
                self.const_decls[d.name] = d
        for name in self.const_decls:
            self.ensure_const(name)
        for name in self.overrides:
            if name not in self.el.consts:
                self.err(self.override_span, f"-D {name}: no constant or option of that name "
                                             f"({self.valid_overrides()})")
        self.complete_types(decls)
        for d in decls:
            if isinstance(d, ast.PoolDecl):
                self.declare_pool(d)
        self.check_field_pointers()
        for d in decls:
            if isinstance(d, ast.GlobalDecl):
                self.declare_global(d.var)
            elif isinstance(d, ast.ProcDecl):
                self.declare_proc(d)
            elif isinstance(d, ast.ThreadDecl):
                self.declare_thread(d)
            elif isinstance(d, ast.InitDecl):
                self.el.inits.append(d)
            elif isinstance(d, ast.PropertyDecl):
                self.el.properties.append(d)
            elif isinstance(d, ast.LockOrderDecl):
                self.el.lock_orders.append(d)
            elif isinstance(d, ast.ScenarioDecl):
                if d.name in self.el.scenarios:
                    self.err(d.span, f"scenario '{d.name}' is already declared")
                self.el.scenarios[d.name] = d
            elif isinstance(d, ast.LemmaDecl):
                if d.name in self.el.lemmas:
                    self.err(d.span, f"lemma '{d.name}' is already declared")
                self.el.lemmas[d.name] = check_lemma(self, d)
        for g in self.el.globals.values():
            if g.init is not None:
                with self.context(allow_thread_local=False, allow_current=False,
                                  what="an initializer"):
                    self.check_value(g.init, g.type, "initializer")
        for p in self.el.procs.values():
            self.check_proc(p)
        for t in self.el.threads.values():
            self.check_thread(t)
        for init in self.el.inits:
            self.check_init(init)
        for prop in self.el.properties:
            self.check_property(prop)
        seen_props: dict[str, Span] = {}
        for prop in self.el.properties:
            if prop.name in seen_props:
                self.sink.error(prop.span, f"property '{prop.name}' is already declared",
                                (seen_props[prop.name], "first declared here"))
            seen_props[prop.name] = prop.span
        for sc in self.el.scenarios.values():
            self.check_scenario(sc)
        self.check_recursion()
        self.sink.check()
        return self.el

    def collect_types(self, decls: list[ast.Decl]) -> None:
        for d in decls:
            if isinstance(d, ast.StructDecl):
                if d.name in self.el.structs:
                    self.err(d.span, f"'{d.name}' is already declared")
                    continue
                self.el.structs[d.name] = StructType(d.name, d.is_word, d.span)
            elif isinstance(d, ast.EnumDecl):
                if d.name in self.el.enums:
                    self.err(d.span, f"enum '{d.name}' is already declared")
                    continue
                et = EnumType(d.name, [m for m, _ in d.members], d.span)
                self.el.enums[d.name] = et
                for i, (m, span) in enumerate(d.members):
                    if self.declare_global_name(m, span):
                        self.el.enum_members[m] = EnumMemberSym(m, et, i)

    def ensure_const(self, name: str) -> None:
        """Fold the constant `name` (and those it uses) if not done yet."""
        d = self.const_decls.get(name)
        if d is None or name in self.el.consts:
            return
        if name in self.folding:
            cycle = " -> ".join([*self.folding[self.folding.index(name):], name])
            raise ConstError(f"constant '{name}' depends on itself ({cycle})")
        self.folding.append(name)
        try:
            self.declare_const(d)
        finally:
            self.folding.pop()

    def declare_const(self, d: ast.ConstDecl) -> None:
        is_bool = self.const_is_bool(d.value)
        if d.name in self.overrides:
            value = self.overrides[d.name]
            if is_bool and value not in (0, 1):
                self.err(self.override_span, f"-D {d.name}: option is a bool, give true or false")
        else:
            got = self.const_int(d.value, "a constant's value")
            value = got if got is not None else 0
        self.el.consts[d.name] = ConstSym(d.name, value, is_bool, d.is_option, d.span)

    def valid_overrides(self) -> str:
        """The names `-D` accepts, for the message about one it does not."""
        consts = sorted(c.name for c in self.el.consts.values() if not c.is_option)
        options = sorted(c.name for c in self.el.consts.values() if c.is_option)
        if not consts and not options:
            return "the spec declares no constant or option"
        parts = [f"constants: {', '.join(consts)}" if consts else "",
                 f"options: {', '.join(options)}" if options else ""]
        return "; ".join(p for p in parts if p)

    def complete_types(self, decls: list[ast.Decl]) -> None:
        for d in decls:
            if isinstance(d, ast.TypedefDecl):
                if d.name in self.el.typedefs:
                    self.err(d.span, f"type '{d.name}' is already declared")
                self.el.typedefs[d.name] = self.resolve_type(d.type, d.dims)
            elif isinstance(d, ast.StructDecl) and self.el.structs.get(d.name) is not None:
                st = self.el.structs[d.name]
                if st.span is not d.span:
                    continue
                for f in d.fields:
                    ft = self.resolve_type(f.type, f.dims)
                    if f.name in st.fields:
                        self.err(f.span, f"duplicate field '{f.name}'")
                        continue
                    if st.is_word and not (is_scalar(ft) and not isinstance(ft, StructType)):
                        self.err(f.span, f"a word holds scalar fields only, not '{ft}'")
                    st.fields[f.name] = FieldInfo(f.name, ft, f.span)
        # Struct containment must be acyclic (a struct cannot contain itself).
        edges: list[tuple[str, str]] = []
        for outer in self.el.structs.values():
            for info in outer.fields.values():
                inner = info.type
                while isinstance(inner, ArrayType):
                    inner = inner.elem
                if isinstance(inner, StructType):
                    edges.append((outer.name, inner.name))
        for cycle in simple_cycles(edges):
            st = self.el.structs[cycle[0]]
            self.err(st.span, f"struct '{st.name}' contains itself (through {' -> '.join(cycle)})")

    def check_field_pointers(self) -> None:
        for st in self.el.structs.values():
            for f in st.fields.values():
                self.check_storable(f.type, f.span, f"field '{f.name}'")

    def declare_pool(self, d: ast.PoolDecl) -> None:
        t = self.resolve_type(d.type)
        size = self.const_int(d.size, "a pool size")
        if not self.declare_global_name(d.name, d.span):
            return
        if not isinstance(t, StructType) or t.is_word:
            self.err(d.type.span, f"a pool holds struct objects, not '{t}'")
            return
        if size is None or size <= 0:
            if size is not None:
                self.err(d.size.span, "a pool needs at least one object")
            return
        other = self.el.pool_of(t)
        if other is not None:
            self.err(d.span, f"'{t}' objects already live in pool '{other.name}': a pointer "
                             "names its pool by its type, so each struct has at most one pool")
            return
        self.el.pools[d.name] = PoolSym(d.name, t, size, d.span, d.symmetric)

    def declare_global(self, v: ast.VarDecl) -> None:
        t = self.resolve_type(v.type, v.dims)
        what = "a thread-local variable" if v.thread_local else \
            "a per-CPU variable" if v.per_cpu else "a global"
        self.check_storable(t, v.type.span, what)
        if (v.thread_local or v.per_cpu) and isinstance(t, ArrayType):
            self.err(v.span, f"{what} must be a scalar or a struct")
        if not self.declare_global_name(v.name, v.span):
            return
        self.el.globals[v.name] = GlobalSym(v.name, t, v.init, v.span, v.thread_local,
                                            v.per_cpu)

    def make_local(self, name: str, t: Type, span: Span, owner: str, *, param: bool) -> LocalSym:
        self.uid += 1
        return LocalSym(name, t, span, owner, self.uid, alias=param and self.is_alias_ptr(t))

    def declare_proc(self, d: ast.ProcDecl) -> None:
        if not self.declare_global_name(d.name, d.span):
            return
        ret = self.resolve_type(d.ret)
        if not isinstance(ret, VoidType):
            self.check_storable(ret, d.ret.span, "a return value")
            if not is_scalar(ret):
                self.err(d.ret.span, f"a procedure returns a scalar, not '{ret}'")
        params = []
        for p in d.params:
            pt = self.resolve_type(p.type)
            if not is_scalar(pt):
                self.err(p.span, f"parameter '{p.name}' must be a scalar or a pointer, not '{pt}'")
            params.append(self.make_local(p.name, pt, p.span, d.name, param=True))
        sym = ProcSym(d.name, d, params, ret)
        for a in d.annotations:
            kind = LOCK_ANNOTATIONS.get(a.name)
            if kind is None:
                self.err(a.span, f"unknown annotation '{a.name}' (known: "
                                 f"{', '.join(sorted(LOCK_ANNOTATIONS))})")
                continue
            if kind == "might_sleep":
                sym.lock_annotations.append((kind, ""))
                continue
            if len(a.args) != 1 or a.args[0] not in {p.name for p in d.params}:
                self.err(a.span, f"{a.name}() names one parameter of '{d.name}'")
                continue
            sym.lock_annotations.append((kind, a.args[0]))
        self.el.procs[d.name] = sym

    def declare_thread(self, d: ast.ThreadDecl) -> None:
        if not self.declare_global_name(d.name, d.span):
            return
        params = []
        for p in d.params:
            pt = self.resolve_type(p.type)
            if not is_scalar(pt):
                self.err(p.span, f"parameter '{p.name}' must be a scalar or a pointer, not '{pt}'")
            params.append(self.make_local(p.name, pt, p.span, d.name, param=True))
        self.el.threads[d.name] = ThreadSym(d.name, d, params)

    # ------------------------------------------------------------ bodies
    def check_proc(self, p: ProcSym) -> None:
        with self.context(owner=p.name, ret=p.ret, in_thread=False, labels=set(), gotos=[]), \
                self.scope():
            for ps in p.params:
                self.bind(ps.name, ps, ps.span)
            self.collect_labels(p.decl.body)
            self.check_block(p.decl.body, new_scope=False, locals_out=p.locals)
            self.check_gotos()

    def check_thread(self, t: ThreadSym) -> None:
        with self.context(owner=t.name, ret=VOID, in_thread=True, labels=set(), gotos=[]), \
                self.scope():
            for ps in t.params:
                self.bind(ps.name, ps, ps.span)
            self.collect_labels(t.decl.body)
            self.check_block(t.decl.body, new_scope=False, locals_out=t.locals)
            self.check_gotos()

    def check_init(self, init: ast.InitDecl) -> None:
        with self.context(owner="init", ret=VOID, in_thread=True, labels=set(), gotos=[],
                          allow_thread_local=False, allow_current=False, what="an init block"), \
                self.scope():
            self.collect_labels(init.body)
            self.check_block(init.body, new_scope=False, locals_out=self.el.init_locals)
            self.check_gotos()

    def bind(self, name: str, sym: Symbol, span: Span) -> None:
        top = self.scopes[-1]
        if name in top:
            self.err(span, f"'{name}' is already declared in this scope")
        top[name] = sym

    def collect_labels(self, body: ast.Stmt) -> None:
        for s in walk_stmts(body):
            if isinstance(s, ast.Label):
                if s.name in self.ctx.labels:
                    self.err(s.span, f"duplicate label '{s.name}'")
                self.ctx.labels.add(s.name)

    def check_gotos(self) -> None:
        for g in self.ctx.gotos:
            if g.label not in self.ctx.labels:
                self.err(g.span, f"no label '{g.label}' in {self.ctx.owner}")

    def check_block(self, b: ast.Block, new_scope: bool = True,
                    locals_out: list[LocalSym] | None = None) -> None:
        if locals_out is not None:
            self._locals_out = locals_out
        if new_scope:
            with self.scope():
                for s in b.body:
                    self.check_stmt(s)
        else:
            for s in b.body:
                self.check_stmt(s)

    def check_stmt(self, s: ast.Stmt) -> None:
        ctx = self.ctx
        if isinstance(s, ast.Block):
            self.check_block(s)
        elif isinstance(s, ast.VarDecl):
            t = self.resolve_type(s.type, s.dims)
            self.check_storable(t, s.type.span, "a local variable")
            sym = self.make_local(s.name, t, s.span, ctx.owner, param=False)
            if s.init is not None:
                self.check_value(s.init, t, "initializer", allow_nondet=True)
            self.bind(s.name, sym, s.span)
            self.el.decl_syms[s] = sym
            self._locals_out.append(sym)
        elif isinstance(s, ast.Assign):
            tt = self.check_lvalue(s.target)
            if s.op == "=":
                if tt is not None:
                    self.check_value(s.value, tt, "assignment", allow_nondet=True)
                else:
                    self.check_expr(s.value)
            else:
                vt = self.check_expr(s.value)
                if tt is not None and not is_int(tt):
                    self.err(s.target.span, f"'{s.op}' needs an integer target, not '{tt}'")
                if vt is not None and not is_int(vt):
                    self.err(s.value.span, f"'{s.op}' needs an integer value, not '{vt}'")
        elif isinstance(s, ast.IncDec):
            tt = self.check_lvalue(s.target)
            if tt is not None and not is_int(tt):
                self.err(s.target.span, f"'{s.op}' needs an integer, not '{tt}'")
        elif isinstance(s, ast.CallStmt):
            self.check_call(s.call, as_statement=True)
        elif isinstance(s, ast.WarnStmt):
            self.check_expr(s.warn)
        elif isinstance(s, ast.If):
            self.check_stmt_cond(s.cond)
            self.check_stmt(s.then)
            if s.other is not None:
                self.check_stmt(s.other)
        elif isinstance(s, ast.While | ast.DoWhile):
            if ctx.in_atomic:
                self.err(s.span, "a loop inside an atomic block must count with a constant: "
                                 f"for ({UNROLL_SHAPE}) {{ ... }}")
            self.check_stmt_cond(s.cond)
            with self.context(loop_depth=ctx.loop_depth + 1):
                self.check_stmt(s.body)
        elif isinstance(s, ast.For):
            with self.scope():
                if s.init is not None:
                    self.check_stmt(s.init)
                if s.cond is not None:
                    self.check_stmt_cond(s.cond)
                if s.step is not None:
                    self.check_stmt(s.step)
                with self.context(loop_depth=ctx.loop_depth + 1):
                    self.check_stmt(s.body)
            self.check_unrolled(s, ctx.in_atomic)
        elif isinstance(s, ast.Goto):
            ctx.gotos.append(s)
        elif isinstance(s, ast.Label):
            self.check_stmt(s.stmt)
        elif isinstance(s, ast.Return):
            if s.value is None:
                if not isinstance(ctx.ret, VoidType):
                    self.err(s.span, f"'{ctx.owner}' must return a value of type '{ctx.ret}'")
            elif isinstance(ctx.ret, VoidType):
                self.err(s.value.span, f"'{ctx.owner}' returns no value")
                self.check_expr(s.value)
            else:
                self.check_value(s.value, ctx.ret, "return value")
        elif isinstance(s, ast.Break | ast.Continue):
            if ctx.loop_depth == 0:
                word = "break" if isinstance(s, ast.Break) else "continue"
                self.err(s.span, f"'{word}' outside a loop")
        elif isinstance(s, ast.Atomic):
            with self.context(in_atomic=True):
                self.check_block(s.body)
        elif isinstance(s, ast.Await):
            self.check_cond(s.cond)
        elif isinstance(s, ast.Either):
            for b in s.branches:
                self.check_block(b)
        elif isinstance(s, ast.Assert):
            self.check_cond(s.cond)
        elif isinstance(s, ast.Cover):
            if s.cond is not None:
                self.check_cond(s.cond)
        elif isinstance(s, ast.Start):
            if ctx.owner == "init":
                self.err(s.span, "an init block cannot start threads; use 'run' in a scenario")
            started = self.el.threads.get(s.thread)
            if started is None:
                self.err(s.span, f"unknown thread '{s.thread}'")
                for a in s.args:
                    self.check_expr(a)
            else:
                self.el.refs[s] = started
                self.check_args(s.args, started.params, s.span, s.thread, allow_alias=False)
        elif isinstance(s, ast.Free):
            ft = self.check_expr(s.operand)
            if isinstance(s.operand, ast.NullLit):
                pass  # free(null) does nothing, as in C
            elif ft is not None and not (isinstance(ft, PtrType) and self.el.pool_of(ft)):
                self.err(s.operand.span, f"free() takes a reference to a pool object, not '{ft}'")
        elif isinstance(s, ast.Empty):
            pass
        else:  # pragma: no cover
            raise AssertionError(s)

    def check_unrolled(self, s: ast.For, in_atomic: bool) -> None:
        """A loop inside `atomic` is accepted when its trip count is a
        constant (`for (int[0..N] i = 0; i < N; i++)`, the variable not
        assigned in the body), so that lowering can unroll it and the block
        stays one step. Every such loop is recorded: lowering unrolls one in a
        procedure called from an atomic block too."""
        got = self.unroll_values(s)
        if isinstance(got, str):
            if in_atomic:
                self.err(s.span, f"a loop inside an atomic block must count with a constant: "
                                 f"for ({UNROLL_SHAPE}) {{ ... }}; {got}")
            return
        self.el.unrolled[s] = got

    def unroll_values(self, s: ast.For) -> tuple[LocalSym, tuple[int, ...]] | str:
        """The counter and its value on each pass, or why there are none."""
        init = s.init
        if not isinstance(init, ast.VarDecl) or init.init is None or init.dims:
            return "declare the counter with its first value in the first clause"
        sym = self.el.decl_syms.get(init)
        cond, step = s.cond, s.step
        if sym is None or not isinstance(sym.type, IntType):
            return "the counter must be an integer"
        if not (isinstance(cond, ast.Binary) and cond.op in _UNROLL_TESTS
                and isinstance(cond.left, ast.Name) and self.el.refs.get(cond.left) is sym):
            return f"the test must compare '{init.name}' with a constant"
        if isinstance(step, ast.IncDec) and isinstance(step.target, ast.Name):
            target, delta = step.target, (1 if step.op == "++" else -1)
        elif isinstance(step, ast.Assign) and step.op in ("+=", "-=") \
                and isinstance(step.target, ast.Name):
            target, amount = step.target, self._try_const(step.value)
            if amount is None or amount == 0:
                return "the step must add or subtract a constant other than 0"
            delta = amount if step.op == "+=" else -amount
        else:
            return f"the step must be {init.name}++, {init.name}--, += or -= a constant"
        first, bound = self._try_const(init.init), self._try_const(cond.right)
        if self.el.refs.get(target) is not sym or first is None or bound is None:
            return "its first value, bound and step must be constants"
        why = _assigned_in(s.body, sym, self.el)
        if why is not None:
            return why
        values: list[int] = []
        v = first
        while _UNROLL_TESTS[cond.op](v, bound):
            values.append(v)
            if len(values) > MAX_UNROLL:
                return f"it makes more than {MAX_UNROLL} passes"
            v += delta
        lo, hi = sym.type.lo, sym.type.hi
        for x in (first, *values, v):
            if lo is not None and hi is not None and not lo <= x <= hi:
                return f"'{init.name}' would take the value {x}, outside {sym.type}"
        return sym, tuple(values)

    def _try_const(self, e: ast.Expr) -> int | None:
        try:
            return self.const_value(e)
        except ConstError:
            return None

    # ------------------------------------------------------------ expressions
    def check_stmt_cond(self, e: ast.Expr) -> None:
        """The condition of if, while, do or for: C's assignment expression
        is accepted in it (`while ((p = next(p)) != null)`)."""
        with self.context(allow_assign=True):
            self.check_cond(e)

    def check_cond(self, e: ast.Expr) -> None:
        t = self.check_expr(e)
        if t is not None and not is_truthy(t):
            self.err(e.span, f"a condition must be a bool, integer or pointer, not '{t}'")

    def check_value(self, e: ast.Expr, dst: Type, what: str, allow_nondet: bool = False) -> None:
        if isinstance(e, ast.Alloc | ast.ChooseRange | ast.ChooseList) and not allow_nondet:
            self.err(e.span, f"'{_nondet_name(e)}' must be the whole right-hand side of an "
                             "assignment or initializer")
        t = self.check_expr(e, allow_nondet=allow_nondet)
        if t is None:
            return
        if not assignable(dst, t):
            self.err(e.span, f"cannot use a value of type '{t}' as {what} of type '{dst}'")

    def check_lvalue(self, e: ast.Expr) -> Type | None:
        t = self.check_expr(e)
        if not self.is_lvalue(e):
            self.err(e.span, "cannot assign to this expression")
            return None
        return t

    def is_lvalue(self, e: ast.Expr) -> bool:
        if isinstance(e, ast.Index) and isinstance(self.el.refs.get(e.base), PoolSym):
            return True
        if isinstance(e, ast.Name):
            sym = self.el.refs.get(e)
            return isinstance(sym, GlobalSym) or (isinstance(sym, LocalSym) and not sym.alias)
        if isinstance(e, ast.Member):
            return e.arrow or self.is_lvalue(e.base)
        if isinstance(e, ast.Index):
            return self.is_lvalue(e.base)
        return isinstance(e, ast.Deref)

    def record(self, e: ast.Expr, t: Type) -> Type:
        self.el.expr_types[e] = t
        return t

    def check_expr(self, e: ast.Expr, allow_nondet: bool = False,
                   alias_ok: bool = False) -> Type | None:
        """Type an expression; None after an error has been reported."""
        t = self._check_expr(e, allow_nondet, alias_ok)
        if t is not None:
            self.record(e, t)
        return t

    def _check_expr(self, e: ast.Expr, allow_nondet: bool, alias_ok: bool) -> Type | None:
        ctx = self.ctx
        if isinstance(e, ast.IntLit):
            return INT
        if isinstance(e, ast.BoolLit):
            return BOOL
        if isinstance(e, ast.NullLit):
            return NULL
        if isinstance(e, ast.NoThread):
            return TID
        if isinstance(e, ast.Current):
            if not ctx.allow_current:
                self.err(e.span, f"'current' is not defined in {ctx.what}")
                return None
            return TID
        if isinstance(e, ast.Name):
            return self.check_name(e, alias_ok)
        if isinstance(e, ast.Call):
            return self.check_call(e, as_statement=False)
        if isinstance(e, ast.Warn):
            return self.check_warn(e)
        if isinstance(e, ast.Alloc):
            if not allow_nondet:
                self.err(e.span, "'alloc' must be the whole right-hand side of an assignment")
            pool = self.el.pools.get(e.pool)
            if pool is None:
                self.err(e.span, f"unknown pool '{e.pool}'")
                return None
            self.el.refs[e] = pool
            return PtrType(pool.elem)
        if isinstance(e, ast.ChooseRange):
            if not allow_nondet:
                self.err(e.span, "'choose' must be the whole right-hand side of an assignment")
            for b in (e.lo, e.hi):
                self.check_expr(b)
                self.const_int(b, "a choose() bound")
            return INT
        if isinstance(e, ast.ChooseList):
            if not allow_nondet:
                self.err(e.span, "'choose' must be the whole right-hand side of an assignment")
            types = [self.check_expr(i) for i in e.items]
            known = [t for t in types if t is not None]
            for t in known[1:]:
                if not (assignable(known[0], t) or assignable(t, known[0])):
                    self.err(e.span, f"choose() items have different types '{known[0]}' and '{t}'")
                    return None
            return known[0] if known else None
        if isinstance(e, ast.Quant):
            return self.check_quant(e)
        if isinstance(e, ast.Cond):
            self.check_cond(e.cond)
            then_t = self.check_expr(e.then)
            other_t = self.check_expr(e.other)
            if then_t is None or other_t is None:
                return None
            if assignable(then_t, other_t):
                return then_t
            if assignable(other_t, then_t):
                return other_t
            self.err(e.span, f"the branches of '?:' have different types '{then_t}' and "
                             f"'{other_t}'")
            return None
        if isinstance(e, ast.Binary):
            return self.check_binary(e)
        if isinstance(e, ast.AssignExpr):
            return self.check_assign_expr(e)
        if isinstance(e, ast.Unary):
            ot = self.check_expr(e.operand)
            if ot is None:
                return None
            if e.op == "!":
                if not is_truthy(ot):
                    self.err(e.span, f"'!' needs a bool, integer or pointer, not '{ot}'")
                return BOOL
            if not is_int(ot):
                self.err(e.span, f"'{e.op}' needs an integer, not '{ot}'")
                return None
            return INT
        if isinstance(e, ast.Member):
            return self.check_member(e)
        if isinstance(e, ast.Index) and (pool := self.pool_named(e.base)) is not None:
            it = self.check_expr(e.index)
            if it is not None and not is_int(it):
                self.err(e.index.span, f"an object's index in a pool must be an integer, not '{it}'")
            return pool.elem
        if isinstance(e, ast.Index):
            bt = self.check_expr(e.base)
            it = self.check_expr(e.index)
            if it is not None and not is_int(it):
                self.err(e.index.span, f"an array index must be an integer, not '{it}'")
            if bt is None:
                return None
            if not isinstance(bt, ArrayType):
                self.err(e.base.span, f"cannot index a value of type '{bt}'")
                return None
            return bt.elem
        if isinstance(e, ast.Deref):
            pt = self.check_expr(e.operand, alias_ok=True)
            if pt is None:
                return None
            if not isinstance(pt, PtrType):
                self.err(e.operand.span, f"cannot dereference a value of type '{pt}'")
                return None
            return pt.target
        if isinstance(e, ast.AddrOf) and isinstance(e.operand, ast.Index) and \
                (pool := self.pool_named(e.operand.base)) is not None:
            self.check_expr(e.operand)
            return PtrType(pool.elem)  # `&zspages[0]`: a reference to a pool's object
        if isinstance(e, ast.AddrOf):
            self.err(e.span, "'&' can only be applied in a call argument: spin_lock(&class->lock)")
            return None
        raise AssertionError(e)

    def check_assign_expr(self, e: ast.AssignExpr) -> Type | None:
        """`(target = value)` inside a condition; its type is the target's."""
        if not self.ctx.allow_assign:
            self.err(e.span, "an assignment inside an expression is accepted only in the "
                             "condition of if, while, do and for (outside a call's arguments)")
        tt = self.check_lvalue(e.target)
        if e.op == "=":
            if tt is not None:
                self.check_value(e.value, tt, "assignment")
                return tt
            self.check_expr(e.value)
            return None
        vt = self.check_expr(e.value)
        if tt is not None and not is_int(tt):
            self.err(e.target.span, f"'{e.op}' needs an integer target, not '{tt}'")
            return None
        if vt is not None and not is_int(vt):
            self.err(e.value.span, f"'{e.op}' needs an integer value, not '{vt}'")
        return tt

    def pool_named(self, e: ast.Expr) -> PoolSym | None:
        """The pool `e` names, when it is indexed (`zspages[i]`: the pool's
        object i, live or not) or its object's address taken."""
        if isinstance(e, ast.Name):
            sym = self.lookup(e.name)
            if isinstance(sym, PoolSym):
                self.el.refs[e] = sym
                return sym
        return None

    def check_name(self, e: ast.Name, alias_ok: bool) -> Type | None:
        ctx = self.ctx
        sym = self.lookup(e.name)
        if sym is None:
            self.err(e.span, f"unknown name '{e.name}'{self.private_hint(e.name)}")
            return None
        self.el.refs[e] = sym
        if isinstance(sym, ConstSym):
            return BOOL if sym.is_bool else INT
        if isinstance(sym, EnumMemberSym):
            return sym.enum
        if isinstance(sym, GlobalSym):
            if sym.thread_local and not ctx.allow_thread_local:
                self.err(e.span, f"thread-local '{e.name}' is not defined in {ctx.what}")
                return None
            if sym.per_cpu and not ctx.allow_thread_local:
                self.err(e.span, f"per-CPU '{e.name}' is not defined in {ctx.what}: only a "
                                 "thread (or handler) has a CPU")
                return None
            return sym.type
        if isinstance(sym, LocalSym):
            if sym.alias and not alias_ok:
                self.err(e.span, f"'{e.name}' points to a '{_ptr_target(sym.type)}' outside any "
                                 "pool: it can only be dereferenced or passed on")
                return None
            return sym.type
        if isinstance(sym, QuantVarSym):
            return sym.type
        if isinstance(sym, PoolSym):
            self.err(e.span, f"pool '{e.name}' is not a value: use alloc({e.name}) or "
                             f"forall(p in {e.name}: ...)")
            return None
        if isinstance(sym, ProcSym | ThreadSym):
            self.err(e.span, f"'{e.name}' is a {'procedure' if isinstance(sym, ProcSym) else 'thread'}, not a value")
            return None
        raise AssertionError(sym)

    def check_member(self, e: ast.Member) -> Type | None:
        bt = self.check_expr(e.base, alias_ok=e.arrow)
        if bt is None:
            return None
        if e.arrow:
            if not isinstance(bt, PtrType):
                self.err(e.span, f"'->' needs a pointer, not '{bt}'" +
                         ("; use '.'" if isinstance(bt, StructType) else ""))
                return None
            st = bt.target
        else:
            if isinstance(bt, PtrType):
                self.err(e.span, f"'{bt}' is a pointer: use '->'")
                return None
            st = bt
        if not isinstance(st, StructType):
            self.err(e.span, f"'{st}' has no fields")
            return None
        f = st.fields.get(e.name)
        if f is None:
            names = ", ".join(st.fields) or "none"
            self.err(e.span, f"'{st}' has no field '{e.name}' (fields: {names})")
            return None
        return f.type

    def check_binary(self, e: ast.Binary) -> Type | None:
        a = self.check_expr(e.left)
        b = self.check_expr(e.right)
        if a is None or b is None:
            return None
        op = e.op
        if op in ("&&", "||"):
            for side, t in ((e.left, a), (e.right, b)):
                if not is_truthy(t):
                    self.err(side.span, f"'{op}' needs bool, integer or pointer operands, not '{t}'")
            return BOOL
        if op in ("==", "!="):
            ok = (
                (is_int(a) and is_int(b))
                or (isinstance(a, BoolType) and isinstance(b, BoolType))
                or (isinstance(a, PtrType | NullType) and isinstance(b, PtrType | NullType)
                    and (assignable(a, b) or assignable(b, a)))
                or (not isinstance(a, IntType | TidType | BoolType | PtrType | NullType)
                    and same_type(a, b) and is_scalar(a))
            )
            if not ok:
                self.err(e.span, f"cannot compare '{a}' with '{b}'")
            return BOOL
        if not is_int(a) or not is_int(b):
            bad = e.left if not is_int(a) else e.right
            self.err(bad.span, f"'{op}' needs integer operands, not '{a if bad is e.left else b}'")
            return None
        if op in ("<", "<=", ">", ">="):
            return BOOL
        return INT

    def check_quant(self, e: ast.Quant) -> Type | None:
        if e.pool is not None:
            pool = self.el.pools.get(e.pool)
            if pool is None:
                self.err(e.span, f"unknown pool '{e.pool}'")
                return None
            self.el.refs[e] = pool
            vt: Type = PtrType(pool.elem)
        else:
            assert e.lo is not None and e.hi is not None
            for b in (e.lo, e.hi):
                self.check_expr(b)
                self.const_int(b, "a quantifier bound")
            vt = IntType(0, 0)
        with self.scope(), self.context(allow_assign=False):
            var = QuantVarSym(e.var, vt, e.span)
            self.scopes[-1][e.var] = var
            self.check_cond(e.body)
        self.el.quant_vars[e] = var
        return INT if e.kind == "count" else BOOL

    def check_call(self, c: ast.Call, as_statement: bool) -> Type | None:
        proc = self.el.procs.get(c.name)
        if proc is None:
            sym = self.lookup(c.name)
            if isinstance(sym, ThreadSym):
                self.err(c.span, f"'{c.name}' is a thread: use 'start {c.name}(...)'")
            else:
                self.err(c.span, f"unknown procedure '{c.name}'{self.private_hint(c.name)}")
            for a in c.args:
                if not isinstance(a, ast.AddrOf):
                    self.check_expr(a)
            return None
        self.el.refs[c] = proc
        self.call_edges.append((self.ctx.owner, proc.name))
        with self.context(allow_assign=False):  # a call's arguments are evaluated before it
            self.check_args(c.args, proc.params, c.span, c.name, allow_alias=True)
        if not as_statement and isinstance(proc.ret, VoidType):
            self.err(c.span, f"'{c.name}' returns no value")
            return None
        return proc.ret

    def check_warn(self, w: ast.Warn) -> Type | None:
        """`WARN_ON(cond)` and its kin (include/asm-generic/bug.h): in code
        that runs (threads, procedures), a bool condition, a message exactly
        where the kernel macro takes a format (WARN, WARN_ONCE)."""
        if self.ctx.what != "code" or self.ctx.owner in ("", "init"):
            where = "an init block" if self.ctx.owner == "init" else self.ctx.what
            self.err(w.span, f"{w.macro}() is allowed in threads and procedures, not in {where}")
        takes_message = w.macro in ("WARN", "WARN_ONCE")
        if takes_message and w.message is None:
            self.err(w.span, f"{w.macro}() takes a message: {w.macro}(cond, \"...\")")
        elif not takes_message and w.message is not None:
            self.err(w.span, f"{w.macro}() takes one argument; for a message write "
                             f"{'WARN_ONCE' if w.once else 'WARN'}(cond, \"...\")")
        t = self.check_expr(w.cond)
        if t is not None and not isinstance(t, BoolType):
            self.err(w.cond.span, f"{w.macro}() takes a bool condition, not '{t}' (compare "
                                  "it: x != 0, p != null)")
        return BOOL

    def check_args(self, args: list[ast.Expr], params: list[LocalSym], span: Span,
                   name: str, allow_alias: bool) -> None:
        if len(args) != len(params):
            self.err(span, f"'{name}' takes {len(params)} argument(s), not {len(args)}")
        for a, p in zip(args, params, strict=False):
            if p.alias:
                if not allow_alias:
                    self.err(a.span, f"parameter '{p.name}' of '{name}' is by reference; a thread "
                                     "started at run time takes values only")
                    continue
                self.check_alias_arg(a, p)
            elif isinstance(a, ast.AddrOf) and not (isinstance(a.operand, ast.Index)
                                                    and self.pool_named(a.operand.base)):
                self.err(a.span, f"parameter '{p.name}' takes a value of type '{p.type}', not an "
                                 "address")
            else:
                self.check_value(a, p.type, f"argument '{p.name}'")
        for a in args[len(params):]:
            if not isinstance(a, ast.AddrOf):
                self.check_expr(a)

    def check_alias_arg(self, a: ast.Expr, p: LocalSym) -> None:
        target = _ptr_target(p.type)
        if isinstance(a, ast.AddrOf):
            t = self.check_expr(a.operand)
            if t is None:
                return
            if not self.is_lvalue(a.operand):
                self.err(a.span, "'&' needs a variable, field or array element")
                return
            self.record(a, PtrType(t))
            if not same_type(t, target):
                self.err(a.span, f"parameter '{p.name}' points to '{target}', not '{t}'")
            return
        if isinstance(a, ast.Name):
            sym = self.lookup(a.name)
            if isinstance(sym, LocalSym) and sym.alias:
                self.el.refs[a] = sym
                self.record(a, sym.type)
                if not same_type(_ptr_target(sym.type), target):
                    self.err(a.span, f"parameter '{p.name}' points to '{target}', not "
                                     f"'{_ptr_target(sym.type)}'")
                return
        self.check_expr(a)
        self.err(a.span, f"parameter '{p.name}' points to a '{target}' outside any pool: pass "
                         "the address of one, e.g. &x->field")

    # ------------------------------------------------------------ properties
    def check_property(self, prop: ast.PropertyDecl) -> None:
        on_exit = prop.kind == "on_exit"
        with self.context(allow_thread_local=on_exit, allow_current=on_exit,
                          what=f"{'an' if prop.kind != 'final' else 'a'} {prop.kind} property"), \
                self.scope():
            self.check_cond(prop.expr)
            for n in subexprs(prop.expr):
                if isinstance(n, ast.Name) and isinstance(self.el.refs.get(n), LocalSym):
                    self.err(n.span, f"{prop.kind} properties see shared state only, not the "
                                     f"local '{n.name}'")
                if isinstance(n, ast.Call):
                    self.err(n.span, "a property cannot call a procedure")

    def check_scenario(self, sc: ast.ScenarioDecl) -> None:
        with self.context(allow_thread_local=False, allow_current=False, what="a scenario"):
            for name, value, span in sc.options:
                c = self.el.consts.get(name)
                if c is None:
                    self.err(span, f"no option '{name}'")
                elif not c.is_option:
                    self.err(span, f"'{name}' is a constant; scenarios set options, and the "
                                   f"command line sets both (-D {name}=...)")
                else:
                    self.const_int(value, "an option value")
            counts: dict[ast.RunItem, int] = {}
            bounds: dict[ast.RunLoop, range] = {}
            for run in sc.runs:
                self.check_run(run, counts, bounds)
            instances = self.expand_runs(sc.runs, 0, {}, counts, bounds)
            if len(instances) > MAX_INSTANCES:
                self.err(sc.span, f"scenario '{sc.name}' would run more than {MAX_INSTANCES} "
                                  "threads")
            self.el.run_instances[sc.name] = instances[:MAX_INSTANCES]
            for name, value, span in sc.maxes:
                if name not in self.el.threads:
                    self.err(span, f"unknown thread '{name}'")
                self.const_int(value, "a thread bound")
            for init in sc.inits:
                self.check_init(init)
            if not self.el.run_instances[sc.name]:
                self.err(sc.span, f"scenario '{sc.name}' runs no thread")
            if sc.expect is not None:
                x = sc.expect
                if x.kind not in EXPECT_KINDS:
                    self.err(x.span, f"unknown expectation '{x.kind}' (one of: "
                                     f"{', '.join(EXPECT_KINDS)})")
                elif x.kind in ("invariant", "final", "on_exit") and x.name is not None:
                    names = {p.name for p in self.el.properties if p.kind == x.kind}
                    if x.name not in names:
                        self.err(x.span, f"no {x.kind} property '{x.name}'")
                elif x.kind == "verified" and x.name is not None:
                    self.err(x.span, "'expect verified' takes no name")

    def check_run(self, run: ast.RunItem, counts: dict[ast.RunItem, int],
                  bounds: dict[ast.RunLoop, range]) -> None:
        """`run T(args) [* COUNT];` inside its `for (v in LO..HI)` loops: the
        count and bounds are constants (so `-D` scales a configuration), the
        loop variables constants of each instance's arguments."""
        n = 1
        if run.count is not None:
            got = self.const_int(run.count, "a number of instances")
            if got is not None and got < 0:
                self.err(run.count.span, f"a number of instances cannot be negative ({got})")
            n = max(got or 0, 0)
        counts[run] = n
        if run.symmetric:
            if run.count is None:
                self.err(run.span, "'symmetric' needs a number of instances: "
                                   f"run {run.thread}(...) * N symmetric;")
            if run.loops:
                self.err(run.span, "a 'symmetric' run cannot be inside a scenario 'for' loop: "
                                   "its instances would differ by the loop variable")
            if run.cpu is not None:
                self.err(run.span, "a 'symmetric' run cannot name a CPU ('on cpu'): the "
                                   "instances would share a CPU and preempt one another in order")
        if run.cpu is not None:
            cpu = self.const_int(run.cpu, "a CPU number")
            if cpu is not None and not 0 <= cpu < MAX_CPUS:
                self.err(run.cpu.span, f"a CPU number is 0..{MAX_CPUS - 1} (got {cpu})")
        with self.scope():
            for loop in run.loops:
                var = self.el.run_loop_vars.get(loop)
                if var is None:
                    lo = self.const_int(loop.lo, "a loop bound")
                    hi = self.const_int(loop.hi, "a loop bound")
                    lo, hi = lo or 0, hi if hi is not None else -1
                    bounds[loop] = range(lo, min(hi, lo + MAX_INSTANCES) + 1)
                    var = QuantVarSym(loop.var, IntType(lo, max(lo, hi)), loop.span)
                    self.el.run_loop_vars[loop] = var
                if loop.var in self.scopes[-1]:
                    self.err(loop.span, f"'{loop.var}' is already a loop variable here")
                self.scopes[-1][loop.var] = var
            t = self.el.threads.get(run.thread)
            if t is None:
                self.err(run.span, f"unknown thread '{run.thread}'"
                                   f"{self.private_hint(run.thread)}")
                return
            self.el.refs[run] = t
            self.check_args(run.args, t.params, run.span, run.thread, allow_alias=True)

    def expand_runs(self, runs: list[ast.RunItem], depth: int, values: dict[QuantVarSym, int],
                    counts: dict[ast.RunItem, int], bounds: dict[ast.RunLoop, range]
                    ) -> list[tuple[ast.RunItem, dict[QuantVarSym, int]]]:
        """The instances of `runs` in the order a C loop would start them:
        the body of `for (i in 0..1) { run a(i); run b(); }` once per value
        (a(0), b(), a(1), b()). The parser gives each `run` its loops,
        outermost first; the runs of one loop body are consecutive."""
        out: list[tuple[ast.RunItem, dict[QuantVarSym, int]]] = []
        i = 0
        while i < len(runs):
            run = runs[i]
            if len(run.loops) <= depth:
                out.extend((run, values) for _ in range(counts.get(run, 1)))
                i += 1
                continue
            loop = run.loops[depth]
            j = i
            while j < len(runs) and len(runs[j].loops) > depth and runs[j].loops[depth] is loop:
                j += 1
            var = self.el.run_loop_vars[loop]
            for v in bounds.get(loop, range(0)):
                out.extend(self.expand_runs(runs[i:j], depth + 1, {**values, var: v}, counts,
                                            bounds))
                if len(out) > MAX_INSTANCES:
                    return out
            i = j
        return out

    def check_recursion(self) -> None:
        for cycle in simple_cycles(self.call_edges):
            first = cycle[0]
            if first in self.el.procs:
                span = self.el.procs[first].decl.span
                self.err(span, f"recursive procedures are not supported: {' -> '.join([*cycle, first])}")
                break


MAX_INSTANCES = 1024
MAX_CPUS = 64  # `on cpu N`: each CPU's per-CPU variables are slots of every state
UNROLL_SHAPE = "int[LO..HI] i = A; i < B; i++"
MAX_UNROLL = 1024
_UNROLL_TESTS: dict[str, Callable[[int, int], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "!=": operator.ne,
}


def _assigned_in(body: ast.Stmt, sym: LocalSym, el: Elaboration) -> str | None:
    """Why an unrolled loop's body would change what its passes are: it
    assigns the counter or takes its address, or holds a label (a copy per
    pass would declare it again); None if it does neither."""
    for st in walk_stmts(body):
        if isinstance(st, ast.Label):
            return f"its body holds the label '{st.name}'"
        targets: list[ast.Expr] = []
        if isinstance(st, ast.Assign | ast.IncDec):
            targets.append(st.target)
        for top in expr_children(st):
            for e in subexprs(top):
                if isinstance(e, ast.AssignExpr):
                    targets.append(e.target)
                elif isinstance(e, ast.AddrOf):
                    targets.append(e.operand)
        if any(isinstance(t, ast.Name) and el.refs.get(t) is sym for t in targets):
            return f"its body changes '{sym.name}'"
    return None


def _ptr_target(t: Type) -> Type:
    return t.target if isinstance(t, PtrType) else t


def _nondet_name(e: ast.Expr) -> str:
    return "alloc" if isinstance(e, ast.Alloc) else "choose"


def walk_stmts(s: ast.Stmt) -> Iterator[ast.Stmt]:
    yield s
    children: list[ast.Stmt | None] = []
    if isinstance(s, ast.Block):
        children = list(s.body)
    elif isinstance(s, ast.If):
        children = [s.then, s.other]
    elif isinstance(s, ast.While | ast.DoWhile):
        children = [s.body]
    elif isinstance(s, ast.For):
        children = [s.init, s.step, s.body]
    elif isinstance(s, ast.Label):
        children = [s.stmt]
    elif isinstance(s, ast.Atomic):
        children = [s.body]
    elif isinstance(s, ast.Either):
        children = list(s.branches)
    for c in children:
        if c is not None:
            yield from walk_stmts(c)


def elaborate(program: Program, overrides: dict[str, int] | None = None,
              override_span: Span | None = None) -> Elaboration:
    """Check a program under constant/option overrides; raise SpecError on errors."""
    checker = Checker(program, overrides or {}, override_span or Span("<command line>", 0, 0, 0, 0))
    return checker.run()


def parse_override(text: str) -> tuple[str, int]:
    """Parse `NAME=VALUE` from -D: an integer, true or false."""
    span = Span("<command line>", 0, 0, 0, 0)
    if "=" not in text:
        raise SpecError.at(span, f"-D {text}: write -D NAME=VALUE")
    name, _, raw = text.partition("=")
    name, raw = name.strip(), raw.strip()
    if raw in ("true", "false"):
        return name, int(raw == "true")
    negative = raw.startswith("-")
    try:
        value = c_int(raw[1:] if negative else raw)
        return name, -value if negative else value
    except ConstTooLarge:
        raise SpecError.at(span, f"-D {name}: '{raw[:40]}' is too large: "
                                 f"{const_limit_message()}") from None
    except ValueError:
        raise SpecError.at(span, f"-D {name}: '{raw}' is not an integer, true or false") from None


def simple_cycles(edges: list[tuple[str, str]]) -> list[list[str]]:
    """networkx's simple cycles of the graph of `edges` (nodes in the order
    the edges name them), networkx being imported only when there is one:
    a spec without recursion (nearly all) elaborates without the ~0.1 s
    import, which keeps `migcheck list` fast."""
    succ: dict[str, list[str]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        succ.setdefault(b, [])
    done: set[str] = set()
    for root in succ:
        if root in done:
            continue
        on_path = {root}
        stack = [(root, iter(succ[root]))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                on_path.discard(node)
                done.add(node)
            elif nxt in on_path:
                import networkx as nx

                g: nx.DiGraph = nx.DiGraph()
                g.add_edges_from(edges)
                return [list(c) for c in nx.simple_cycles(g)]
            elif nxt not in done:
                on_path.add(nxt)
                stack.append((nxt, iter(succ[nxt])))
    return []
