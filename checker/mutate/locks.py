"""Which procedures are lock operations, and which calls of the spec are.

A procedure is a lock operation when it carries a lock annotation
(`__acquires`, `__releases`, `__cond_acquires` and their `_shared` forms), or
when it wraps exactly one lock operation and otherwise touches only the
thread's own state (its thread-local variables, its CPU's per-CPU ones, as
`local_irq_save()` does): `spin_lock_irqsave()` around `spin_lock()`,
`pin_tag()` around `bit_spin_lock()`,
`migrate_read_lock()` around `read_lock()`, `ranked_spin_lock()` with its
lock-order bookkeeping in thread-local variables. A reviewer reads
`migrate_write_lock(zspage)` in `zs_page_migrate()` as the lock operation, so
that call site is what a mutation changes, not the `write_lock()` inside the
wrapper.

Two calls take the same lock when the primitive's lock parameter has the same
type and the calls' arguments read the same (`lock_page(page)` and
`unlock_page(page)`); that is the pairing a reviewer makes between a lock and
its unlock in one function.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from checker.dsl import ast
from checker.dsl.diagnostics import SourceCache
from checker.dsl.walk import expr_children
from checker.ir.lockkind import LockOp, lock_annotation
from checker.mutate.syntax import calls_in_stmt, stmt_exprs, stmts_under
from checker.sema.symbols import Elaboration, GlobalSym, ProcSym


@dataclass(frozen=True)
class ProcLockOp:
    """What calling a procedure does to a lock."""

    proc: str
    kind: LockOp  # ACQUIRE, RELEASE or TRY_ACQUIRE (held if it returns true)
    shared: bool  # a reader's side of a reader-writer lock
    lock_type: str  # the type of the primitive's lock parameter: spinlock_t *, struct page *
    signature: tuple[str, ...]  # the procedure's parameter types


def _annotation_op(proc: ProcSym) -> ProcLockOp | None:
    for kind, pname in proc.lock_annotations:
        declared = lock_annotation(kind)
        if declared is None or declared[0] is LockOp.MUST_HOLD:
            continue
        param = next((p for p in proc.params if p.name == pname), None)
        if param is None:
            continue
        op, shared = declared
        return ProcLockOp(proc.name, op, shared, str(param.type),
                          tuple(str(p.type) for p in proc.params))
    return None


def _calls(body: ast.Stmt) -> list[ast.Call]:
    return [c for s in stmts_under(body) for c in calls_in_stmt(s)]


class LockOps:
    """The lock operations of one elaborated program."""

    def __init__(self, el: Elaboration):
        self.el = el
        self.ops: dict[str, ProcLockOp] = {}
        for proc in el.procs.values():
            self._classify(proc, set())

    def _classify(self, proc: ProcSym, seen: set[str]) -> ProcLockOp | None:
        if proc.name in self.ops:
            return self.ops[proc.name]
        if proc.name in seen:
            return None
        seen.add(proc.name)
        op = _annotation_op(proc)
        if op is None:
            inner = self._wrapped(proc, seen)
            if inner is not None:
                op = ProcLockOp(proc.name, inner.kind, inner.shared, inner.lock_type,
                                tuple(str(p.type) for p in proc.params))
        if op is not None:
            self.ops[proc.name] = op
        return op

    def _wrapped(self, proc: ProcSym, seen: set[str]) -> ProcLockOp | None:
        """The one lock operation `proc` wraps, if everything else it does
        touches only the thread's own state."""
        found: list[tuple[ast.Call, ProcLockOp]] = []
        for c in _calls(proc.decl.body):
            callee = self.el.refs.get(c)
            op = self._classify(callee, seen) if isinstance(callee, ProcSym) else None
            if op is not None:
                found.append((c, op))
        if len(found) != 1:
            return None
        call, op = found[0]
        return op if self._private_body(proc.decl.body, call, set()) else None

    def _private_body(self, body: ast.Stmt, skip: ast.Call | None, seen: set[str]) -> bool:
        """Whether a body touches only locals, parameters and thread-local
        variables (lock-order bookkeeping), `skip`'s subtree aside."""
        for s in stmts_under(body):
            if isinstance(s, ast.Await | ast.Start | ast.Free | ast.Either):
                return False  # an atomic block is private when what it holds is
            todo = list(stmt_exprs(s))
            while todo:
                x = todo.pop()
                if x is skip:
                    continue
                if not self._private_node(x, seen):
                    return False
                todo.extend(expr_children(x))
        return True

    def _private_node(self, x: ast.Expr, seen: set[str]) -> bool:
        if isinstance(x, ast.Alloc | ast.Deref | ast.ChooseRange | ast.ChooseList):
            return False
        if isinstance(x, ast.Quant) and x.pool is not None:
            return False
        if isinstance(x, ast.Member) and x.arrow:
            return False
        if isinstance(x, ast.Name):
            sym = self.el.refs.get(x)
            return not (isinstance(sym, GlobalSym) and not sym.thread_local and not sym.per_cpu)
        if isinstance(x, ast.Call):
            callee = self.el.refs.get(x)
            if not isinstance(callee, ProcSym) or callee.name in seen:
                return False
            return self._private_body(callee.decl.body, None, seen | {callee.name})
        return True

    def of_call(self, call: ast.Call) -> ProcLockOp | None:
        proc = self.el.refs.get(call)
        return self.ops.get(proc.name) if isinstance(proc, ProcSym) else None

    def counterpart(self, op: ProcLockOp, kind: LockOp) -> ProcLockOp | None:
        """The operation of kind `kind` on the same lock with the same parameters:
        the blocking lock of a trylock, the trylock of a lock. Among several,
        the one whose name is closest (`trylock_page` -> `lock_page`)."""
        found = [o for o in self.ops.values()
                 if o.kind == kind and o.shared == op.shared and o.lock_type == op.lock_type
                 and o.signature == op.signature]
        if not found:
            return None
        return max(found, key=lambda o: (difflib.SequenceMatcher(None, o.proc, op.proc).ratio(),
                                         o.proc))


def lock_key(op: ProcLockOp, call: ast.Call) -> tuple[str, str]:
    """Which lock a call takes or releases, as a reviewer pairs them."""
    return (op.lock_type, call_args_text(call))


def call_args_text(call: ast.Call) -> str:
    return ", ".join(SourceCache.excerpt(a.span) for a in call.args)


def call_text(call: ast.Call) -> str:
    return SourceCache.excerpt(call.span)

