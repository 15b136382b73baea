"""The mutation operators: edits a patch to a locking protocol could make.

Each operator finds its sites in the spec's own functions (not in the model
library, not inside one-statement lock wrappers, whose call sites are the
sites) and returns `Mutant`s, each one AST edit described by the source line
it changes. A site counts only if some fixed scenario executes it
(`ScenarioFacts.runs`); the mutant remembers which scenarios do.

| operator | edit |
|---|---|
| `drop-lock` | delete a lock call; a trylock is assumed to succeed (its call becomes `true`) |
| `drop-unlock` | delete an unlock call |
| `drop-lock-pair` | delete a lock and the unlocks of the same lock after it in the same function: the critical section loses its lock |
| `swap-locks` | exchange two adjacent lock acquisitions (lock order) |
| `trylock-to-lock` | a trylock becomes the blocking lock, assumed to succeed (`if (!trylock_page(p)) goto out;` -> `lock_page(p); if (!true) goto out;`) |
| `lock-to-trylock` | a lock becomes a trylock whose failure is ignored (proceeds unlocked under contention) |
| `drop-recheck` | a condition on shared state tested while a lock may be held loses a term (`A || B` -> `A`), or the whole test (the branch that bails out is never taken; an `if` without a bail-out branch always runs) |
| `move-unlock` | an unlock moves above an earlier step of its block, one mutant per step (another unlock is not one: two unlocks in either order protect the same accesses), up to the nearest lock acquisition or label |
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from checker.dsl import ast
from checker.dsl.diagnostics import Span
from checker.dsl.loader import Program
from checker.dsl.walk import subexprs
from checker.ir.lockkind import LockOp
from checker.mutate.irfacts import ScenarioFacts
from checker.mutate.locks import (
    LockOps,
    ProcLockOp,
    call_args_text,
    call_text,
    lock_key,
)
from checker.mutate.syntax import (
    Body,
    Place,
    calls_in_stmt,
    ends_in_jump,
    excerpt,
    head_span,
    own_modules,
    places,
    rewrite,
    rewrite_stmt,
    stmt_exprs,
    stmts_under,
)
from checker.sema.symbols import (
    ConstSym,
    Elaboration,
    EnumMemberSym,
    GlobalSym,
    LocalSym,
    ProcSym,
)

OPERATORS = ("drop-lock", "drop-unlock", "drop-lock-pair", "swap-locks", "trylock-to-lock",
             "lock-to-trylock", "drop-recheck", "move-unlock")


@dataclass
class Mutant:
    op: str
    anchor: Span  # the statement whose line names the mutant
    description: str  # what the edit did (other lines it involves by number)
    edits: dict[int, ast.Node]  # id(original node) -> replacement
    sites: tuple[Span, ...]  # a scenario that executes none of these cannot tell
    function: str = ""  # the procedure or thread it changes
    text: str = ""  # the description without line numbers (see `label`)
    scenarios: list[str] = field(default_factory=list)  # fixed scenarios that execute a site
    ordinal: int = 0  # among mutants of one operator on one line, when several

    @property
    def file(self) -> str:
        return self.anchor.file

    @property
    def line(self) -> int:
        return self.anchor.line

    def where(self, root: str) -> str:
        """`line 197`, or `file.mig:12` outside the root spec."""
        if self.file == root:
            return f"line {self.line}"
        return f"{Path(self.file).name}:{self.line}"

    def ident(self, root: str) -> str:
        """A stable name: `drop-lock@197`, `move-unlock@141#2`, `drop-lock@common.mig:12`."""
        at = str(self.line) if self.file == root else f"{Path(self.file).name}:{self.line}"
        return f"{self.op}@{at}" + (f"#{self.ordinal}" if self.ordinal else "")

    @property
    def label(self) -> str:
        """A name that survives edits elsewhere in the spec (no line numbers):
        `zs_map_object: dropped migrate_read_lock(zspage) and its unlock`."""
        return f"{self.function}: {self.text or self.description}"

    def apply(self, program: Program) -> Program:
        return rewrite(program, self.edits)


@dataclass(frozen=True)
class LockSite:
    """A call of a lock operation in the spec's own code."""

    place: Place
    call: ast.Call
    op: ProcLockOp

    @property
    def is_statement(self) -> bool:
        """The call is the whole statement (`spin_lock(&l);`), not inside an
        expression (`if (!trylock_page(p))`)."""
        return isinstance(self.place.stmt, ast.CallStmt) and self.place.stmt.call is self.call

    @property
    def key(self) -> tuple[str, str]:
        return lock_key(self.op, self.call)

    @property
    def acquires(self) -> bool:
        return self.op.kind in (LockOp.ACQUIRE, LockOp.TRY_ACQUIRE)

    @property
    def order(self) -> tuple[int, int]:
        return (self.call.span.line, self.call.span.column)


def find_mutants(program: Program, el: Elaboration, facts: list[ScenarioFacts],
                 modules: tuple[str, ...] = ()) -> list[Mutant]:
    """Every mutant of the spec's own code (and of the imported `modules`)
    that some scenario in `facts` executes."""
    finder = _Finder(el, facts)
    found: list[Mutant] = []
    for module in own_modules(program, modules):
        for decl in module.decls:
            if isinstance(decl, ast.ThreadDecl) or (isinstance(decl, ast.ProcDecl)
                                                    and decl.name not in finder.locks.ops):
                found.extend(finder.mutants_of(decl))
    kept = []
    for m in found:
        m.scenarios = [f.scenario for f in facts if any(f.runs(s) for s in m.sites)]
        if m.scenarios:
            kept.append(m)
    kept.sort(key=lambda m: (m.file, m.line, m.anchor.column, OPERATORS.index(m.op)))
    _number(kept)
    seen: dict[str, int] = {}
    for m in kept:
        seen[m.label] = seen.get(m.label, 0) + 1
        if seen[m.label] > 1:
            m.text = f"{m.text or m.description} ({seen[m.label]})"
    return kept


def _number(mutants: list[Mutant]) -> None:
    groups: dict[tuple[str, str, int], list[Mutant]] = {}
    for m in mutants:
        groups.setdefault((m.op, m.file, m.line), []).append(m)
    for group in groups.values():
        if len(group) > 1:
            for i, m in enumerate(group, 1):
                m.ordinal = i


class _Finder:
    def __init__(self, el: Elaboration, facts: list[ScenarioFacts]):
        self.el = el
        self.facts = facts
        self.locks = LockOps(el)
        self._pure_memo: dict[str, bool] = {}

    def mutants_of(self, decl: Body) -> Iterator[Mutant]:
        all_places = list(places(decl))
        sites = [LockSite(p, c, op) for p in all_places for c in calls_in_stmt(p.stmt)
                 if (op := self.locks.of_call(c)) is not None]
        sites.sort(key=lambda s: s.order)
        found: list[Mutant] = []
        for s in sites:
            found.extend(self.drop(s))
            found.extend(self.drop_pair(s, sites))
            found.extend(self.try_to_lock(s))
            found.extend(self.lock_to_try(s))
            found.extend(self.move_unlock(s, sites))
        found.extend(self.swaps(all_places))
        for p in all_places:
            if isinstance(p.stmt, ast.If):
                found.extend(self.rechecks(p.stmt))
        for m in found:
            m.function = decl.name
        yield from found

    # ------------------------------------------------------------ drop
    def _drop_edit(self, s: LockSite) -> tuple[ast.Node, ast.Node]:
        if s.is_statement:
            return s.place.stmt, ast.Empty(s.place.stmt.span)
        return s.call, ast.BoolLit(s.call.span, True)

    def drop(self, s: LockSite) -> Iterator[Mutant]:
        old, new = self._drop_edit(s)
        if s.op.kind is LockOp.RELEASE:
            if s.is_statement:
                yield Mutant("drop-unlock", s.place.stmt.span, f"dropped {call_text(s.call)}",
                             {id(old): new}, (s.place.stmt.span,))
            return
        what = f"dropped {call_text(s.call)}"
        if not s.is_statement:
            what += " (assumed to succeed)"
        yield Mutant("drop-lock", s.place.stmt.span, what, {id(old): new}, (s.place.stmt.span,))

    def drop_pair(self, s: LockSite, sites: list[LockSite]) -> Iterator[Mutant]:
        if not s.acquires:
            return
        releases: list[LockSite] = []
        for other in sites:
            if other.order <= s.order or other.key != s.key:
                continue
            if other.acquires:
                break
            if other.is_statement:
                releases.append(other)
        if not releases:
            return
        edits = {id(old): new for old, new in [self._drop_edit(s)] +
                 [self._drop_edit(r) for r in releases]}
        lines = sorted({r.call.span.line for r in releases})
        plural = "s" if len(lines) > 1 else ""
        what = (f"dropped {call_text(s.call)} and its unlock{plural} at line{plural} "
                f"{', '.join(str(n) for n in lines)}")
        yield Mutant("drop-lock-pair", s.place.stmt.span, what, edits, (s.place.stmt.span,),
                     text=f"dropped {call_text(s.call)} and its unlock{plural}")

    # ------------------------------------------------------------ trylock <-> lock
    def try_to_lock(self, s: LockSite) -> Iterator[Mutant]:
        if s.op.kind is not LockOp.TRY_ACQUIRE or s.is_statement or not _first_evaluated(s.place.stmt, s.call):
            return
        lock = self.locks.counterpart(s.op, LockOp.ACQUIRE)
        place = s.place
        if lock is None or isinstance(place.stmt, ast.While | ast.DoWhile):
            return
        if place.block is None and isinstance(place.stmt, ast.VarDecl):
            return
        lock_stmt = ast.CallStmt(s.call.span, ast.Call(s.call.span, lock.proc, list(s.call.args)))
        edits: dict[int, ast.Node] = {}
        if place.block is not None:
            body = list(place.block.body)
            body.insert(place.index, lock_stmt)
            edits[id(place.block)] = ast.Block(place.block.span, body)
            edits[id(s.call)] = ast.BoolLit(s.call.span, True)
        else:
            changed = rewrite_stmt(place.stmt, {id(s.call): ast.BoolLit(s.call.span, True)})
            edits[id(place.stmt)] = ast.Block(place.stmt.span, [lock_stmt, changed])
        yield Mutant("trylock-to-lock", place.stmt.span,
                     f"{call_text(s.call)} replaced by {lock.proc}({call_args_text(s.call)}), "
                     "which waits and succeeds",
                     edits, (place.stmt.span,))

    def lock_to_try(self, s: LockSite) -> Iterator[Mutant]:
        if s.op.kind is not LockOp.ACQUIRE or not s.is_statement:
            return
        trylock = self.locks.counterpart(s.op, LockOp.TRY_ACQUIRE)
        if trylock is None:
            return
        new_call = ast.Call(s.call.span, trylock.proc, list(s.call.args))
        yield Mutant("lock-to-trylock", s.place.stmt.span,
                     f"{call_text(s.call)} replaced by {trylock.proc}({call_args_text(s.call)}), "
                     "its failure ignored",
                     {id(s.place.stmt): ast.CallStmt(s.place.stmt.span, new_call)},
                     (s.place.stmt.span,))

    # ------------------------------------------------------------ lock order
    def swaps(self, all_places: list[Place]) -> Iterator[Mutant]:
        for p in all_places:
            if not isinstance(p.stmt, ast.Block):
                continue
            body = p.stmt.body
            for i in range(len(body) - 1):
                first, second = self._acquisition(body[i]), self._acquisition(body[i + 1])
                if first is None or second is None or first[1] == second[1]:
                    continue
                swapped = [*body[:i], body[i + 1], body[i], *body[i + 2:]]
                text = f"swapped {call_text(first[0])} and {call_text(second[0])}"
                yield Mutant("swap-locks", body[i].span, f"{text} (line {body[i + 1].span.line})",
                             {id(p.stmt): ast.Block(p.stmt.span, swapped)},
                             (body[i].span, body[i + 1].span), text=text)

    def _acquisition(self, stmt: ast.Stmt) -> tuple[ast.Call, tuple[str, str]] | None:
        """The lock a statement takes: `lock(x);`, or a trylock in its condition."""
        for c in calls_in_stmt(stmt):
            op = self.locks.of_call(c)
            if op is None:
                continue
            if (op.kind is LockOp.ACQUIRE and isinstance(stmt, ast.CallStmt)) or op.kind is LockOp.TRY_ACQUIRE:
                return c, lock_key(op, c)
        return None

    # ------------------------------------------------------------ unlock placement
    def move_unlock(self, s: LockSite, sites: list[LockSite]) -> Iterator[Mutant]:
        place = s.place
        if s.op.kind is not LockOp.RELEASE or not s.is_statement or place.block is None:
            return
        body = place.block.body
        acquiring = {id(o.place.stmt) for o in sites if o.acquires}
        releasing = {id(o.place.stmt) for o in sites if o.op.kind is LockOp.RELEASE}
        uses = {x.name for a in s.call.args for x in subexprs(a) if isinstance(x, ast.Name)}
        for j in range(place.index - 1, -1, -1):
            before = body[j]
            inside = list(stmts_under(before))
            if any(isinstance(q, ast.Label) or id(q) in acquiring for q in inside):
                break  # not above a label (jumps to it would skip the unlock), nor a lock
            if isinstance(before, ast.VarDecl) and before.name in uses:
                break  # not above the declaration of what it unlocks
            if id(before) in releasing:
                continue  # two unlocks in the other order: no access changes its locks
            if not any(f.is_step(before.span) for f in self.facts):
                continue  # above local statements only: the same steps
            moved = [*body[:j], place.stmt, *body[j:place.index], *body[place.index + 1:]]
            what = f"moved {call_text(s.call)} above"
            yield Mutant("move-unlock", place.stmt.span,
                         f"{what} line {before.span.line} (`{excerpt(before, 50)}`)",
                         {id(place.block): ast.Block(place.block.span, moved)},
                         (place.stmt.span,), text=f"{what} `{excerpt(before, 50)}`")

    # ------------------------------------------------------------ rechecks
    def rechecks(self, stmt: ast.If) -> Iterator[Mutant]:
        head = head_span(stmt)
        if not any(f.tested_under_lock(head) for f in self.facts):
            return
        leaves = list(_leaves(stmt.cond, None))
        if any(self._is_lock_call(leaf) or self._is_constant(leaf) for leaf, _ in leaves):
            return
        if not all(self._side_effect_free(leaf) for leaf, _ in leaves):
            return  # a test that also acts (queue_work(), a trylock helper) is not a recheck
        shared = [(leaf, op) for leaf, op in leaves if self._reads_shared(leaf)]
        if not shared:
            return
        cond = excerpt(stmt.cond)
        then_bails = ends_in_jump(stmt.then)
        else_bails = stmt.other is not None and ends_in_jump(stmt.other)
        values: list[tuple[bool, str]]
        if then_bails and not else_bails:
            values = [(False, "its bail-out is never taken")]
        elif else_bails and not then_bails:
            values = [(True, "its bail-out is never taken")]
        elif stmt.other is None:
            values = [(True, "its branch always runs")]
        else:
            values = [(True, "the first branch always runs"), (False, "the else branch always runs")]
        for value, effect in values:
            yield Mutant("drop-recheck", stmt.span, f"dropped the check `{cond}`: {effect}",
                         {id(stmt.cond): ast.BoolLit(stmt.cond.span, value)}, (head,))
        if len(leaves) < 2:
            return
        for leaf, op in shared:
            keep = op == "&&"
            yield Mutant("drop-recheck", stmt.span,
                         f"dropped `{excerpt(leaf)}` from the check `{cond}`",
                         {id(leaf): ast.BoolLit(leaf.span, keep)}, (head,))

    def _is_lock_call(self, e: ast.Expr) -> bool:
        while isinstance(e, ast.Unary) and e.op == "!":
            e = e.operand
        return isinstance(e, ast.Call) and self.locks.of_call(e) is not None

    def _is_constant(self, e: ast.Expr) -> bool:
        """A term fixed by the variant (an option): the `if` selects code, it
        does not recheck state."""
        names = [x for x in subexprs(e) if isinstance(x, ast.Name)]
        return bool(names) and all(isinstance(self.el.refs.get(x), ConstSym | EnumMemberSym)
                                   for x in names) and not any(
            isinstance(x, ast.Call) for x in subexprs(e))

    def _side_effect_free(self, e: ast.Expr) -> bool:
        return all(self._pure(x) for x in subexprs(e) if isinstance(x, ast.Call))

    def _pure(self, call: ast.Call) -> bool:
        """Whether a called procedure only reads: it writes no shared
        location, takes no lock, allocates, frees or starts nothing."""
        proc = self.el.refs.get(call)
        if not isinstance(proc, ProcSym) or self.locks.of_call(call) is not None:
            return False
        if proc.name not in self._pure_memo:
            self._pure_memo[proc.name] = False  # no recursion in the language
            self._pure_memo[proc.name] = self._pure_body(proc.decl.body)
        return self._pure_memo[proc.name]

    def _pure_body(self, body: ast.Stmt) -> bool:
        for s in stmts_under(body):
            if isinstance(s, ast.Await | ast.Start | ast.Free | ast.Either):
                return False
            if isinstance(s, ast.Assign | ast.IncDec) and not self._local_target(s.target):
                return False
            for e in stmt_exprs(s):
                for x in subexprs(e):
                    if isinstance(x, ast.Alloc | ast.ChooseRange | ast.ChooseList):
                        return False
                    if isinstance(x, ast.Call) and not self._pure(x):
                        return False
        return True

    def _local_target(self, target: ast.Expr) -> bool:
        """An assignment to the thread's own variable (a word field of a local too)."""
        while isinstance(target, ast.Member | ast.Index) and not (
                isinstance(target, ast.Member) and target.arrow):
            target = target.base
        if not isinstance(target, ast.Name):
            return False
        sym = self.el.refs.get(target)
        return isinstance(sym, LocalSym) or (isinstance(sym, GlobalSym) and sym.thread_local)

    def _reads_shared(self, e: ast.Expr) -> bool:
        for x in subexprs(e):
            if isinstance(x, ast.Call | ast.Deref) or (isinstance(x, ast.Member) and x.arrow):
                return True
            if isinstance(x, ast.Name):
                sym = self.el.refs.get(x)
                if isinstance(sym, GlobalSym) and not sym.thread_local:
                    return True
        return False


def _first_evaluated(stmt: ast.Stmt, call: ast.Call) -> bool:
    """Whether `call` is evaluated first and unconditionally in `stmt`: it is the
    statement's expression, possibly under `!` or as the left operand of
    `&&`/`||`, so that moving it before the statement keeps C's order."""
    exprs = stmt_exprs(stmt)
    if isinstance(stmt, ast.Assign):
        exprs = [stmt.value]
    if len(exprs) != 1:
        return False
    e = exprs[0]
    while True:
        if e is call:
            return True
        if isinstance(e, ast.Unary) and e.op == "!":
            e = e.operand
        elif isinstance(e, ast.Binary) and e.op in ("&&", "||"):
            e = e.left
        else:
            return False


def _leaves(e: ast.Expr, parent_op: str | None) -> Iterator[tuple[ast.Expr, str | None]]:
    """The terms of a condition's `&&`/`||` tree (through `!`), each with the
    operator that joins it."""
    if isinstance(e, ast.Binary) and e.op in ("&&", "||"):
        yield from _leaves(e.left, e.op)
        yield from _leaves(e.right, e.op)
    elif isinstance(e, ast.Unary) and e.op == "!" and isinstance(e.operand, ast.Binary) \
            and e.operand.op in ("&&", "||"):
        yield from _leaves(e.operand, parent_op)
    else:
        yield e, parent_op
