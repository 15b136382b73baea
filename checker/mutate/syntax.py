"""Walking and rewriting the spec's AST for mutation.

The AST is immutable after parsing (`checker.sema` keeps its results in side
tables keyed by node identity), so a mutant is a new `Program` that shares
every node the mutation does not touch: `rewrite` copies only the path from
a module to the replaced nodes. The replaced nodes keep their spans, so
diagnostics and traces of a mutant point at the original source lines.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from checker.dsl import ast
from checker.dsl.diagnostics import SourceCache, Span
from checker.dsl.loader import Program
from checker.dsl.walk import subexprs

Body = ast.ProcDecl | ast.ThreadDecl


def own_modules(program: Program, extra: tuple[str, ...] = ()) -> list[ast.Module]:
    """The code to mutate: the root spec and what it imports from outside a
    `models/` directory (the model library's primitives are not the protocol
    under test), plus the imported modules named in `extra` (`zsmalloc_5_17`
    or `models/zsmalloc_5_17.mig`: a protocol kept in the model library)."""
    return [m for m in program.modules
            if "models" not in Path(m.path).parts or module_named(m, extra)]


def module_named(m: ast.Module, names: tuple[str, ...]) -> bool:
    path = Path(m.path)
    return any(n in (path.stem, path.name, m.path) for n in names)


@dataclass(frozen=True)
class Place:
    """Where a statement stands: its function, and the block that holds it
    directly (`block.body[index]`), or None when it is the single statement of
    an `if`/loop branch or of a label."""

    stmt: ast.Stmt
    decl: Body | None
    block: ast.Block | None
    index: int
    labelled: bool  # `stmt` is the statement of a label


def places(decl: Body) -> Iterator[Place]:
    """Every statement of a function body, outermost first, in source order."""
    yield from _places(decl.body, decl, None, -1, False)


def _places(s: ast.Stmt, decl: Body | None, block: ast.Block | None, index: int,
            labelled: bool) -> Iterator[Place]:
    yield Place(s, decl, block, index, labelled)
    if isinstance(s, ast.Block):
        for i, sub in enumerate(s.body):
            yield from _places(sub, decl, s, i, False)
    elif isinstance(s, ast.Label):
        yield from _places(s.stmt, decl, None, -1, True)
    elif isinstance(s, ast.If):
        yield from _places(s.then, decl, None, -1, False)
        if s.other is not None:
            yield from _places(s.other, decl, None, -1, False)
    elif isinstance(s, ast.While | ast.DoWhile):
        yield from _places(s.body, decl, None, -1, False)
    elif isinstance(s, ast.For):
        for part in (s.init, s.step):
            if part is not None:
                yield from _places(part, decl, None, -1, False)
        yield from _places(s.body, decl, None, -1, False)
    elif isinstance(s, ast.Atomic):
        yield from _places(s.body, decl, None, -1, False)
    elif isinstance(s, ast.Either):
        for b in s.branches:
            yield from _places(b, decl, None, -1, False)


def stmts_under(s: ast.Stmt) -> Iterator[ast.Stmt]:
    """`s` and every statement inside it, in source order."""
    for p in _places(s, None, None, -1, False):
        yield p.stmt


def stmt_exprs(s: ast.Stmt) -> list[ast.Expr]:
    """The expressions a simple statement evaluates itself (not its branches)."""
    if isinstance(s, ast.CallStmt):
        return [s.call]
    if isinstance(s, ast.VarDecl):
        return [s.init] if s.init is not None else []
    if isinstance(s, ast.Assign):
        return [s.target, s.value]
    if isinstance(s, ast.IncDec):
        return [s.target]
    if isinstance(s, ast.If | ast.While | ast.DoWhile | ast.Await | ast.Assert):
        return [s.cond]
    if isinstance(s, ast.Return):
        return [s.value] if s.value is not None else []
    if isinstance(s, ast.Free):
        return [s.operand]
    if isinstance(s, ast.Start):
        return list(s.args)
    return []


def calls_in_stmt(s: ast.Stmt) -> Iterator[ast.Call]:
    for e in stmt_exprs(s):
        for sub in subexprs(e):
            if isinstance(sub, ast.Call):
                yield sub


def ends_in_jump(s: ast.Stmt | None) -> bool:
    """Whether control leaves at the end of `s` (goto, return, break, continue):
    the bail-out branch of a check."""
    while isinstance(s, ast.Block) and s.body:
        s = s.body[-1]
    while isinstance(s, ast.Label):
        s = s.stmt
    return isinstance(s, ast.Goto | ast.Return | ast.Break | ast.Continue)


# ---------------------------------------------------------------- spans


def start(span: Span) -> tuple[int, int]:
    return (span.line, span.column)


def within(inner: Span, outer: Span) -> bool:
    return (inner.file == outer.file and start(outer) <= start(inner)
            and (inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column))


def head_span(s: ast.If) -> Span:
    """`if (cond)`: the statement up to its condition (where its test is)."""
    return Span(s.span.file, s.span.line, s.span.column, s.cond.span.end_line,
                s.cond.span.end_column + 1)


def excerpt(node: ast.Node, width: int = 60) -> str:
    text = SourceCache.excerpt(node.span)
    return text if len(text) <= width else text[:width - 3].rstrip() + "..."


# ---------------------------------------------------------------- rewriting


def rewrite(program: Program, edits: dict[int, ast.Node]) -> Program:
    """A copy of `program` with each node whose id() is a key of `edits`
    replaced by its value; untouched subtrees are shared. A replacement may
    contain original nodes, which are rewritten in turn."""
    modules = [_rebuild(m, edits) for m in program.modules]
    return Program(program.root, modules)  # type: ignore[arg-type]


def rewrite_stmt(node: ast.Stmt, edits: dict[int, ast.Node]) -> ast.Stmt:
    """`node` with `edits` applied inside it (a fresh node when anything changed)."""
    out = _rebuild(node, edits)
    assert isinstance(out, ast.Stmt)
    return out


def _rebuild(node: ast.Node, edits: dict[int, ast.Node]) -> ast.Node:
    node = edits.get(id(node), node)
    changes: dict[str, Any] = {}
    for f in fields(node):
        if not f.init:
            continue
        old = getattr(node, f.name)
        new = _rebuild_value(old, edits)
        if new is not old:
            changes[f.name] = new
    return replace(node, **changes) if changes else node


def _rebuild_value(v: Any, edits: dict[int, ast.Node]) -> Any:
    if isinstance(v, ast.Node):
        return _rebuild(v, edits)
    if isinstance(v, list | tuple):
        items = [_rebuild_value(x, edits) for x in v]
        if all(a is b for a, b in zip(items, v, strict=True)):
            return v
        return items if isinstance(v, list) else tuple(items)
    return v
