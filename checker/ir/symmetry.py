"""Symmetry groups of a scenario, and the static check that makes them sound.

`run T(args) * N symmetric;` declares the N instances interchangeable: the
search may store one state per orbit of the permutations of these instances
(checker/explore/symmetry.py). That is sound only when permuting the
instances, and renaming every thread id by the same permutation, maps each
transition to a transition and each violation to a violation of the same
kind and property. The instances run the same code with the same arguments,
so their own slots correspond one to one; what can still tell them apart is
a thread id used as a number, and the scenario's execution contexts. This
module refuses the declaration, naming the reason, when:

- a thread id (`current`, or an expression of type `tid`) is used other than
  compared with `==`/`!=` to another thread id or to `0`/`none`, tested as a
  condition, or stored, passed or returned as a `tid`: an ordered
  comparison, arithmetic (`1 << current`), indexing (`a[current]`), or a
  store into an `int` all depend on which instance runs;
- a number other than 0 becomes a thread id (`tid t = 2;`, `owner == 1`);
- a set of thread ids (`tidset`, bit t for thread t) is used other than
  built from sets, thread bits `1 << t` and 0 by `|`, `&`, `^`, `~`,
  stored whole or by `|=`, `&=`, `^=`, compared with `==`/`!=` or tested;
  or a number is used as a set. Those operations commute with moving bit t
  to bit p(t) for a permutation p of the threads, so a state whose sets'
  bits are renamed with its threads behaves as the state does;
  these are checked in all the code the scenario runs: its threads (the
  symmetric ones and the others), the procedures they call, models
  included, init blocks, global initializers, properties, `run` arguments;
- the instances' kind is started by `start` (dynamic slots are filled in
  order), the scenario has interrupt handlers, per-CPU variables, or tasks
  sharing a CPU (their `curr` slot and the preemption order name threads);
- the instances' slots or steps do not correspond (a guard behind the
  walk above: a branch on `current` folded to a constant lowers each
  instance differently).

What the groups record: per instance its slots (pc first, then its other
owned slots, last allocated first, the same order in every instance), and
every location that holds a thread id (`TidLoc`: whole `tid` slots, and
`tid` fields of words) or a set of them (`tidset` slots and fields),
globally, in threads' locals and in pool objects.

Pools. `pool struct page pages[3] symmetric;` (every scenario) or a
scenario's `symmetric pages;` declares the pool's objects interchangeable:
the search may store one state per orbit of the permutations of the
objects, every reference to the pool renamed by the same permutation
(`PoolSymmetry`: per object its slots, allocated bit last; every location
of a reference to the pool: reference slots and reference fields of
words, in globals, locals, other pools' objects and the pool's own).
A reference is the object's number, 1 up, or 0 for null. Soundness: for a
permutation p of the objects, a state s and p(s) must have the same
futures up to p: each step of s maps to a step of p(s) whose successor is
p of s's successor (up to a further permutation), with the same faults,
asserts, invariants, finals and deadlocks. What could break it, and what
keeps it:

- naming an object by its position: `pages[0]`, `&pages[i]` (any index,
  constant or not): refused by `RefUses` in all the code the scenario
  runs, as `TidUses` refuses thread ids used as numbers;
- a reference used as a number: an ordered comparison (`p < q`),
  arithmetic (`p + 1`, `p++`), a reference stored in an int, a number
  other than 0 used as a reference: the type checker refuses all of these
  for every pointer (`checker/sema/types.py`, `assignable`), and
  `RefUses` refuses them again behind it; what remains is `==`/`!=`
  between references or with null, a test as a condition, `->`/`*`,
  `free`, and stores, arguments and results of the pointer's type, all of
  which commute with p;
- quantifiers over the pool visit its live objects in their order, and
  `forall`/`exists` stop at the first object that decides: a body that
  may fault would fault or not as the objects are ordered. Their values
  do not depend on the order (and `count` adds every object's), so a
  body that cannot fault is safe: `RefUses.quant` refuses bodies that
  dereference anything but the live objects pool quantifiers bind, call,
  index with a variable, divide or shift;
- the allocator: `alloc(pages)` takes the lowest-numbered free object, so
  p(s) may allocate another object than p of the one s allocates. A
  freed object has every field at its default (free and alloc reset
  them) and cannot be written (a write through a reference to it is
  `use_after_free`, and indexing is refused), so two free objects differ
  only by the references still pointing to them. When none is
  referenced, any free object is as good as any other: the step of p(s)
  allocates some free object g where p of s's step allocates p(f), and
  swapping g and p(f) (both free, equal, unreferenced) maps one successor
  onto the other. When a freed object is still referenced (a dangling
  pointer) and an allocation runs, the choice shows: with `a` and `b` of
  two objects freed, the next alloc aliases `a` or `b` as the objects are
  numbered. This cannot be excluded statically (it is the reuse-after-free
  pattern specs look for), so the search watches for it: each state it
  reaches (`PoolSymmetry.alloc_at`: a thread at a step that may allocate
  from the pool, and a reference to a free object anywhere) is checked,
  and if one is reached the scenario is searched again without the pool's
  reduction, the figures saying why (`checker/explore/symmetry.py`,
  `Canon.escaped`; `checker/explore/run.py`). Induction over the reduced
  search: each concrete reachable state has a permutation in the reduced
  set, each reduced state is a permutation of a concrete reachable state
  (the counterexample mapping constructs it), and properties agree on
  a state and its permutations; the allocation step, the only one that
  does not commute with permutations, is matched by the swap above in
  every state the watch let pass.

Thread ids and references are kept apart (a `tid` is no pointer), so the
two kinds of symmetry combine: a state is permuted by a pool permutation
and a thread permutation at once (their product group), pools first.
"""

from __future__ import annotations

from collections.abc import Iterator

from checker.dsl import ast
from checker.dsl.diagnostics import Span, SpecError
from checker.dsl.walk import expr_children, subexprs
from checker.ir.layout import Layout
from checker.ir.nodes import (
    Action,
    AllocObj,
    If,
    PoolSymmetry,
    Slot,
    Stmt,
    SymmetryGroup,
    ThreadInstance,
    TidLoc,
)
from checker.sema.check import walk_stmts
from checker.sema.symbols import (
    ConstSym,
    Elaboration,
    GlobalSym,
    LocalSym,
    PoolSym,
    ProcSym,
    ThreadSym,
)
from checker.sema.types import ArrayType, PtrType, StructType, TidSetType, TidType, Type


def symmetry_groups(el: Elaboration, sc: ast.ScenarioDecl,
                    runs: list[ast.RunItem | None], threads: list[ThreadInstance],
                    layout: Layout, started: list[str], per_cpu: bool,
                    shared_cpus: bool) -> tuple[list[SymmetryGroup], list[TidLoc]]:
    """The scenario's symmetry groups (none without a `symmetric` run) and
    its thread-id locations; SpecError when a declaration is unsound."""
    slots = layout.slots
    items: list[ast.RunItem] = []
    for r in runs:
        if r is not None and r.symmetric and r not in items:
            items.append(r)
    if not items:
        return [], []
    first = items[0]
    why = _context_refusal(el, sc, items, started, per_cpu, shared_cpus, threads)
    if why is not None:
        raise SpecError.at(why[0], why[1])
    TidUses(el, first).check_scenario(sc, threads_run(el, runs, started))
    groups = []
    for item in items:
        members = [t for t, r in zip(threads, runs, strict=True) if r is item]
        if len(members) < 2:
            continue  # one instance: nothing to permute
        blocks = [block_of(t) for t in members]
        _check_blocks(item, members, blocks, slots)
        groups.append(SymmetryGroup(item.thread, tuple(t.id for t in members),
                                    tuple(tuple(b) for b in blocks), item.span))
    if not groups:
        return [], []
    locs = tid_locations(slots, layout)
    _check_set_ranges(first, groups, locs, slots, layout)
    return groups, locs


def _check_set_ranges(item: ast.RunItem, groups: list[SymmetryGroup], locs: list[TidLoc],
                      slots: list[Slot], layout: Layout) -> None:
    """A set's range check sees its bits alike only when its range is all
    the values of its low k bits, with every permuted thread's bit among
    them: `tidset[0..15]` with thread 4 symmetric faults for thread 4's bit
    and not for thread 1's."""
    top = max(t for g in groups for t in g.threads)
    for loc in locs:
        if not loc.bits:
            continue
        s = slots[loc.slot]
        hi = s.hi
        if loc.width:
            st = s.type
            assert isinstance(st, StructType)
            hi = next(f.hi for f in layout.word_fields(st).values() if f.shift == loc.shift)
        if hi & (hi + 1) or hi < (1 << (top + 1)) - 1:
            raise SpecError.at(item.span, f"the thread set {s.name} (0..{hi}) cannot hold the "
                                          f"bit of every symmetric thread alike (thread {top}'s "
                                          f"bit is {1 << top}): declare it tidset[0..2^k - 1] "
                                          f"with 2^k > {1 << top}")


def pool_symmetry(el: Elaboration, sc: ast.ScenarioDecl, runs: list[ast.RunItem | None],
                  layout: Layout, started: list[str], threads: list[ThreadInstance],
                  actions: list[Action]) -> list[PoolSymmetry]:
    """The scenario's symmetric pools (`pool ... symmetric;`, or its own
    `symmetric POOL;` lines), each checked by `RefUses`; SpecError when a
    declaration is unsound or names no pool."""
    declared: list[tuple[PoolSym, Span]] = [(p, p.span) for p in el.pools.values() if p.symmetric]
    for name, span in sc.symmetric_pools:
        sym = el.pools.get(name)
        if sym is None:
            raise SpecError.at(span, f"scenario {sc.name}: 'symmetric {name};' names no pool")
        if all(p is not sym for p, _ in declared):
            declared.append((sym, span))
    out: list[PoolSymmetry] = []
    if not declared:
        return out
    kinds = threads_run(el, runs, started)
    for pool, span in declared:
        RefUses(el, pool, span).check_scenario(sc, kinds)
        info = layout.pools[pool.name]
        if info.size < 2:
            continue  # one object: nothing to permute
        # each object's slots, the last first (as `block_of`): its fields,
        # then its allocated bit
        blocks = tuple(tuple(reversed(range(info.base + i * info.stride,
                                            info.base + (i + 1) * info.stride)))
                       for i in range(info.size))
        refs = tuple(ref_locations(layout.slots, layout, pool.name))
        pcs = {t.id: t.pc_slot for t in threads}
        at = sorted({(pcs[a.thread], a.src) for a in actions if _allocates(a.body, pool.name)})
        out.append(PoolSymmetry(pool.name, blocks, refs, span, tuple(at)))
    return out


def _allocates(body: tuple[Stmt, ...], pool: str) -> bool:
    for s in body:
        if isinstance(s, AllocObj) and s.pool == pool:
            return True
        if isinstance(s, If) and (_allocates(s.then, pool) or _allocates(s.other, pool)):
            return True
    return False


def ref_locations(slots: list[Slot], layout: Layout, pool: str) -> list[TidLoc]:
    """Every place a reference to `pool` is stored: reference slots and
    reference fields of words."""
    out: list[TidLoc] = []
    for s in slots:
        if s.kind == "ref" and _pool_name(layout, s.type) == pool:
            out.append(TidLoc(s.index))
        elif s.kind == "word" and isinstance(s.type, StructType):
            for f in layout.word_fields(s.type).values():
                if _pool_name(layout, f.type) == pool:
                    out.append(TidLoc(s.index, f.shift, f.width))
    return out


def _pool_name(layout: Layout, t: Type | None) -> str | None:
    if not isinstance(t, PtrType):
        return None
    sym = layout.el.pool_of(t)
    return sym.name if sym is not None else None


def block_of(t: ThreadInstance) -> list[int]:
    """An instance's slots in the order that makes instances correspond:
    the pc, then its other slots, the last allocated first (so that a run
    of them adjacent in a packed state compares as one integer, its most
    significant slot first: `checker.explore.symmetry`)."""
    return [t.pc_slot, *sorted((s for s in t.owned if s != t.pc_slot), reverse=True)]


def tid_locations(slots: list[Slot], layout: Layout) -> list[TidLoc]:
    """Every place a thread id is stored: `tid` slots and `tid` word
    fields; and every place a set of them is (`tidset` slots and fields)."""
    out: list[TidLoc] = []
    for s in slots:
        if s.kind == "tid":
            out.append(TidLoc(s.index))
        elif isinstance(s.type, TidSetType):
            out.append(TidLoc(s.index, bits=True))
        elif s.kind == "word" and isinstance(s.type, StructType):
            for f in layout.word_fields(s.type).values():
                if isinstance(f.type, TidType | TidSetType):
                    out.append(TidLoc(s.index, f.shift, f.width, isinstance(f.type, TidSetType)))
    return out


def _context_refusal(el: Elaboration, sc: ast.ScenarioDecl, items: list[ast.RunItem],
                     started: list[str], per_cpu: bool, shared_cpus: bool,
                     threads: list[ThreadInstance]) -> tuple[Span, str] | None:
    head = f"scenario {sc.name}: the symmetric instances of"
    for item in items:
        if item.thread in started:
            return item.span, (f"{head} {item.thread} cannot be told apart only if no 'start' "
                               f"creates more of them: a 'start {item.thread}(...)' fills the "
                               "free thread slots in order")
    item = items[0]
    if any(t.context.value != "task" for t in threads):
        return item.span, (f"{head} {item.thread}: the scenario has interrupt handlers, which run "
                           "on a named CPU: symmetry reduction is not applied with handlers")
    if per_cpu:
        return item.span, (f"{head} {item.thread}: the scenario has per-CPU variables, which give "
                           "each instance its CPU's own copy: symmetry reduction is not applied "
                           "with per_cpu variables")
    if shared_cpus:
        return item.span, (f"{head} {item.thread}: tasks share a CPU ('on cpu'), and the CPU's "
                           "current task names a thread: symmetry reduction is not applied "
                           "with shared CPUs")
    return None


def _check_blocks(item: ast.RunItem, members: list[ThreadInstance], blocks: list[list[int]],
                  slots: list[Slot]) -> None:
    def shape(k: int) -> tuple[object, ...]:
        s = slots[k]
        return (s.lo, s.hi, s.kind, s.default, s.frame, s.pool, str(s.type))

    ref = [shape(k) for k in blocks[0]]
    for t, b in zip(members, blocks, strict=True):
        mine = {s.index for s in slots if s.thread == t.id}
        if [shape(k) for k in b] != ref or len(t.param_slots) != len(members[0].param_slots) \
                or mine != set(b):
            raise SpecError.at(item.span, f"the symmetric instances of {item.thread} have "
                                          "state slots that do not correspond (an internal "
                                          "error: please report it)")


def check_actions(groups: list[SymmetryGroup], actions: list[Action]) -> None:
    """The instances of a group have the same steps, pc for pc: their code
    is one thread body lowered once per instance, `current` a different
    constant in each. A second line of defence behind `TidUses`: a branch
    on `current` that folds to a constant differs here."""
    for g in groups:
        shapes = [[(a.src, a.dst, len(a.body), a.origins) for a in actions if a.thread == t]
                  for t in g.threads]
        if any(sh != shapes[0] for sh in shapes[1:]):
            raise SpecError.at(g.span, f"the symmetric instances of {g.kind} lower to different "
                                       "steps (their code depends on which instance runs it): "
                                       "symmetry reduction would be unsound here")


def threads_run(el: Elaboration, runs: list[ast.RunItem | None], started: list[str]
                ) -> list[ThreadSym]:
    out: list[ThreadSym] = []
    for r in runs:
        t = el.refs.get(r) if r is not None else None
        if isinstance(t, ThreadSym) and t not in out:
            out.append(t)
    for kind in started:
        t = el.threads[kind]
        if t not in out:
            out.append(t)
    return out


class IdUses:
    """The walk over the code a scenario runs that finds an identity (a
    thread id, a reference to a symmetric pool) used as a number, or a
    number used as one (module docstring). `TidUses` and `RefUses` say
    which values are identities and how a refusal reads; thread sets are
    checked by `TidUses` only (`sets`)."""

    one = "an id"  # "a thread id"
    many = "ids"  # "thread ids"
    sets = False  # whether thread sets are checked (`set_expr`)

    def __init__(self, el: Elaboration):
        self.el = el

    def is_id(self, t: Type | None) -> bool:
        raise NotImplementedError

    def null(self, e: ast.Expr) -> bool:
        """Whether `e` is the identity's null value, allowed where one is wanted."""
        raise NotImplementedError

    def fail(self, span: Span, what: str) -> SpecError:
        raise NotImplementedError

    def index(self, e: ast.Index) -> None:
        """A check of an indexing expression's base (a pool's object by position)."""

    def quant(self, e: ast.Quant) -> None:
        """A check of a quantifier (one over a symmetric pool)."""

    def check_scenario(self, sc: ast.ScenarioDecl, kinds: list[ThreadSym]) -> None:
        el = self.el
        procs: list[ProcSym] = []
        todo: list[ast.Stmt] = [t.decl.body for t in kinds]
        todo += [init.body for init in [*el.inits, *sc.inits]]
        bodies: list[tuple[ast.Stmt, Type | None]] = [(b, None) for b in todo]
        while todo:
            body = todo.pop()
            for call in _calls(body):
                proc = el.refs.get(call)
                if isinstance(proc, ProcSym) and proc not in procs:
                    procs.append(proc)
                    todo.append(proc.decl.body)
                    bodies.append((proc.decl.body, proc.ret))
        for g in el.globals.values():
            if g.init is not None:
                self.value(g.init, _scalar(g.type))
        for body, ret in bodies:
            self.stmt(body, ret)
        for prop in el.properties:
            self.expr(prop.expr, "cond")
        for run in sc.runs:
            t = el.refs.get(run)
            if isinstance(t, ThreadSym):
                for a, p in zip(run.args, t.params, strict=True):
                    self.value(a, _scalar(p.type))

    # ------------------------------------------------------------ statements
    def stmt(self, s: ast.Stmt, ret: Type | None) -> None:
        el = self.el
        match s:
            case ast.Block(body=body):
                for x in body:
                    self.stmt(x, ret)
            case ast.VarDecl():
                sym = el.decl_syms.get(s)
                if s.init is not None:
                    t = sym.type if sym is not None else _global_type(el, s.name)
                    self.value(s.init, _scalar(t))
                for d in s.dims:
                    self.expr(d, "int")
            case ast.Assign(target=target, op=op, value=value):
                self.assign(s.span, target, op, value)
            case ast.IncDec(target=target, op=op):
                self.expr(target, "lv")
                tt = el.expr_types.get(target)
                if self.is_id(tt):
                    raise self.fail(s.span, f"'{op}' computes {self.one}")
                if self.sets and isinstance(tt, TidSetType):
                    raise self.fail(s.span, f"'{op}' of a thread set")
            case ast.CallStmt(call=call):
                self.expr(call, "stmt")
            case ast.WarnStmt(warn=warn):
                self.expr(warn, "stmt")
            case ast.If(cond=cond, then=then, other=other):
                self.expr(cond, "cond")
                self.stmt(then, ret)
                if other is not None:
                    self.stmt(other, ret)
            case ast.While(cond=cond, body=body) | ast.DoWhile(cond=cond, body=body):
                self.expr(cond, "cond")
                self.stmt(body, ret)
            case ast.For():
                for part in (s.init, s.step):
                    if part is not None:
                        self.stmt(part, ret)
                if s.cond is not None:
                    self.expr(s.cond, "cond")
                self.stmt(s.body, ret)
            case ast.Label(stmt=inner):
                self.stmt(inner, ret)
            case ast.Atomic(body=body):
                self.stmt(body, ret)
            case ast.Either(branches=branches):
                for b in branches:
                    self.stmt(b, ret)
            case ast.Return(value=value):
                if value is not None:
                    self.value(value, ret)
            case ast.Await(cond=cond) | ast.Assert(cond=cond):
                self.expr(cond, "cond")
            case ast.Cover(cond=cond):
                if cond is not None:
                    self.expr(cond, "cond")
            case ast.Start(thread=kind, args=args):
                started = el.threads.get(kind)
                started_params = started.params if started is not None else []
                for k, a in enumerate(args):
                    self.value(a, started_params[k].type if k < len(started_params) else None)
            case ast.Free(operand=operand):
                self.value(operand, el.expr_types.get(operand))
            case _:
                for e in _stmt_exprs(s):
                    self.expr(e, "int")

    def assign(self, span: Span, target: ast.Expr, op: str, value: ast.Expr) -> None:
        """`target op value`: a thread id only stored whole; a thread set
        only stored whole or combined with another set (`|=`, `&=`, `^=`)."""
        self.expr(target, "lv")
        tt = self.el.expr_types.get(target)
        if self.is_id(tt) and op != "=":
            raise self.fail(span, f"'{op}' computes {self.one}")
        if self.sets and isinstance(tt, TidSetType):
            if op not in _SET_ASSIGN:
                raise self.fail(span, f"'{op}' on a thread set (only '=', '|=', '&=' and "
                                      "'^=' with another set are allowed)")
            self.expr(value, "set")
            return
        self.value(value, tt if op == "=" else None)

    # ------------------------------------------------------------ expressions
    def value(self, e: ast.Expr, dest: Type | None) -> None:
        """`e` stored, passed or returned into a location of type `dest`."""
        d = _scalar(dest)
        self.expr(e, "tid" if self.is_id(d) else "set"
                  if self.sets and isinstance(d, TidSetType) else "int")

    def set_like(self, e: ast.Expr) -> bool:
        """Whether `e` is a thread set: a `tidset` location or call, a
        thread's bit `1 << t`, or a set operation with a set operand."""
        el = self.el
        if isinstance(el.expr_types.get(e), TidSetType):
            return True
        match e:
            case ast.Binary(op="<<", left=ast.IntLit(value=1), right=right):
                return isinstance(el.expr_types.get(right), TidType)
            case ast.Binary(op=op, left=left, right=right) if op in _SET_OPS:
                return self.set_like(left) or self.set_like(right)
            case ast.Unary(op="~", operand=operand):
                return self.set_like(operand)
            case ast.Cond(then=then, other=other):
                return self.set_like(then) or self.set_like(other)
            case _:
                return False

    def set_expr(self, e: ast.Expr) -> None:
        """`e` where a thread set is wanted: built only from sets, thread
        bits and the empty set 0 by `|`, `&`, `^` and `~`, each of which
        commutes with renaming the threads' bits."""
        el = self.el
        if isinstance(e, ast.IntLit) and e.value == 0:
            return
        match e:
            case ast.Binary(op="<<", left=ast.IntLit(value=1), right=right) \
                    if isinstance(el.expr_types.get(right), TidType):
                self.expr(right, "tid")
            case ast.Binary(op=op, left=left, right=right) if op in _SET_OPS:
                self.expr(left, "set")
                self.expr(right, "set")
            case ast.Unary(op="~", operand=operand):
                self.expr(operand, "set")
            case ast.Cond(cond=cond, then=then, other=other):
                self.expr(cond, "cond")
                self.expr(then, "set")
                self.expr(other, "set")
            case ast.Name() | ast.Member() | ast.Index() | ast.Deref() | ast.Call() \
                    if isinstance(el.expr_types.get(e), TidSetType):
                self.located(e)
            case _:
                raise self.fail(e.span, "a number used as a thread set (only other sets, "
                                        "'1 << t' for a thread id t, and 0 are)")

    def located(self, e: ast.Expr) -> None:
        """The parts of a location or call expression, checked as usual
        (`expr` and `set_expr` both come here)."""
        match e:
            case ast.Member(base=base):
                self.expr(base, "lv")
            case ast.Index(base=base, index=index):
                self.index(e)
                self.expr(base, "lv")
                self.expr(index, "int")
            case ast.Deref(operand=operand) | ast.AddrOf(operand=operand):
                self.expr(operand, "lv")
            case ast.Call(args=args):
                proc = self.el.refs.get(e)
                params: list[LocalSym] = proc.params if isinstance(proc, ProcSym) else []
                for i, a in enumerate(args):
                    self.value(a, params[i].type if i < len(params) else None)
            case _:
                pass

    def expr(self, e: ast.Expr, ctx: str) -> None:
        """`ctx`: "tid" (a thread id is wanted), "set" (a thread set is:
        `set_expr`), "int" (a number or any
        non-thread-id value), "cond" (a truth value), "lv" (a location
        written), "stmt" (a value thrown away)."""
        el = self.el
        if self.sets and (ctx == "set" or (ctx == "cond" and self.set_like(e))):
            self.set_expr(e)
            return
        if self.sets and ctx == "int" and self.set_like(e):
            raise self.fail(e.span, "a thread set used as a number (in arithmetic, an ordered "
                                    "comparison, an index, or stored in an int)")
        is_tid = self.is_id(el.expr_types.get(e))
        if ctx == "tid" and not is_tid and not self.null(e):
            raise self.fail(e.span, f"a number other than 0 used as {self.one}")
        if ctx == "int" and is_tid:
            raise self.fail(e.span, f"{self.one} used as a number (stored in an int, "
                                    "indexed with, or an operand of arithmetic)")
        match e:
            case ast.Binary(op=op, left=left, right=right):
                sides = [el.expr_types.get(left), el.expr_types.get(right)]
                tids = any(self.is_id(t) for t in sides)
                if self.sets and op in ("==", "!=") and (self.set_like(left)
                                                         or self.set_like(right)):
                    self.expr(left, "set")
                    self.expr(right, "set")
                elif op in ("==", "!=") and tids:
                    self.expr(left, "tid")
                    self.expr(right, "tid")
                elif op in ("&&", "||"):
                    self.expr(left, "cond")
                    self.expr(right, "cond")
                elif tids:
                    what = ("an ordered comparison" if op in ("<", "<=", ">", ">=")
                            else f"arithmetic ('{op}')")
                    raise self.fail(e.span, f"{what} of {self.many}")
                else:
                    self.expr(left, "int")
                    self.expr(right, "int")
            case ast.Unary(op=op, operand=operand):
                self.expr(operand, "cond" if op == "!" else "int")
            case ast.Cond(cond=cond, then=then, other=other):
                self.expr(cond, "cond")
                inner = "tid" if is_tid else ("cond" if ctx == "cond" else "int")
                self.expr(then, inner)
                self.expr(other, inner)
            case ast.ChooseList(items=items):
                for item in items:
                    self.expr(item, "tid" if is_tid else "int")
            case ast.Call() | ast.Member() | ast.Index() | ast.Deref() | ast.AddrOf():
                self.located(e)
            case ast.Warn(cond=cond):
                self.expr(cond, "cond")
            case ast.Quant(body=body, lo=lo, hi=hi):
                for b in (lo, hi):
                    if b is not None:
                        self.expr(b, "int")
                self.quant(e)
                self.expr(body, "cond")
            case ast.AssignExpr(target=target, op=op, value=value):
                self.assign(e.span, target, op, value)
            case _:
                for sub in _expr_children(e):
                    self.expr(sub, "int")


class TidUses(IdUses):
    """Thread ids: `current` and expressions of type `tid`."""

    one = "a thread id"
    many = "thread ids"
    sets = True

    def __init__(self, el: Elaboration, item: ast.RunItem):
        super().__init__(el)
        self.item = item

    def is_id(self, t: Type | None) -> bool:
        return isinstance(t, TidType)

    def null(self, e: ast.Expr) -> bool:
        return _null_tid(e)

    def fail(self, span: Span, what: str) -> SpecError:
        line = self.item.span.line
        return SpecError.at(span, f"{what}: the instances of {self.item.thread} declared "
                                  f"'symmetric' (line {line}) could be told apart, so "
                                  "symmetry reduction would be unsound here")


class RefUses(IdUses):
    """References to a symmetric pool's objects; and the pool indexed
    (`pages[0]`, `&pages[i]`: an object named by its position)."""

    def __init__(self, el: Elaboration, pool: PoolSym, span: Span):
        super().__init__(el)
        self.pool = pool
        self.span = span  # the declaration
        self.one = f"a reference to pool {pool.name}"
        self.many = f"references to pool {pool.name}"

    def is_id(self, t: Type | None) -> bool:
        return isinstance(t, PtrType) and self.el.pool_of(t) is self.pool

    def null(self, e: ast.Expr) -> bool:
        return isinstance(e, ast.NullLit) or (isinstance(e, ast.IntLit) and e.value == 0)

    def index(self, e: ast.Index) -> None:
        if self.el.refs.get(e.base) is self.pool:
            raise self.fail(e.span, f"'{self.pool.name}[...]' names an object of the pool by "
                                    "its position")

    def quant(self, e: ast.Quant) -> None:
        """A quantifier over the pool visits its live objects in their
        order, `forall` and `exists` stopping at the first that decides:
        a body that can fault would fault or not, or fault otherwise, as the
        objects are ordered. Its body may read the fields of the objects
        pool quantifiers bind (live), not dereference anything else, call,
        index with a variable, divide or shift."""
        if e.pool != self.pool.name:
            return
        live = {v for q, v in self.el.quant_vars.items() if q.pool is not None}
        for sub in subexprs(e.body):
            why = None
            if isinstance(sub, ast.Deref) or (isinstance(sub, ast.Member) and sub.arrow):
                base = sub.operand if isinstance(sub, ast.Deref) else sub.base
                if not (isinstance(base, ast.Name) and self.el.refs.get(base) in live):
                    why = "dereferences something other than a live object it binds"
            elif isinstance(sub, ast.Call):
                why = "calls a procedure"
            elif isinstance(sub, ast.Index) and not _constant(self.el, sub.index):
                why = "indexes with a variable"
            elif isinstance(sub, ast.Binary) and sub.op in ("/", "%", "<<", ">>"):
                why = f"computes '{sub.op}'"
            if why is not None:
                raise self.fail(sub.span, f"a {e.kind}() over pool {self.pool.name} whose "
                                          f"body {why} may fault as its objects are ordered")

    def fail(self, span: Span, what: str) -> SpecError:
        return SpecError.at(span, f"{what}: the objects of pool {self.pool.name} declared "
                                  f"'symmetric' (line {self.span.line}) could be told apart, "
                                  "so symmetry reduction would be unsound here")


_SET_OPS = ("|", "&", "^")
_SET_ASSIGN = ("=", "|=", "&=", "^=")


def _constant(el: Elaboration, e: ast.Expr) -> bool:
    """A literal, a named constant, or a range quantifier's variable."""
    if isinstance(e, ast.IntLit):
        return True
    return isinstance(e, ast.Name) and (isinstance(el.refs.get(e), ConstSym) or any(
        q.pool is None and v is el.refs.get(e) for q, v in el.quant_vars.items()))


def _null_tid(e: ast.Expr) -> bool:
    return isinstance(e, ast.NoThread) or (isinstance(e, ast.IntLit) and e.value == 0)


def _scalar(t: Type | None) -> Type | None:
    while isinstance(t, ArrayType):
        t = t.elem
    return t


def _global_type(el: Elaboration, name: str) -> Type | None:
    g: GlobalSym | None = el.globals.get(name)
    return g.type if g is not None else None


def _calls(body: ast.Stmt) -> Iterator[ast.Call]:
    for s in walk_stmts(body):
        for e in _stmt_exprs(s):
            for sub in subexprs(e):
                if isinstance(sub, ast.Call):
                    yield sub


def _stmt_exprs(s: ast.Stmt) -> Iterator[ast.Expr]:
    if isinstance(s, ast.CallStmt):
        yield s.call
    elif isinstance(s, ast.WarnStmt):
        yield s.warn
    else:
        yield from expr_children(s)


def _expr_children(e: ast.Expr) -> Iterator[ast.Expr]:
    yield from expr_children(e)
