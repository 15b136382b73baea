"""What modules need from their importers, and whose names are whose.

A module declares what it uses but leaves to its importer with C's `extern`:

    extern const NR_PAGES, PAGE_REF_MAX;
    extern struct page_owner;
    extern bool mops_isolate_page(struct page *page);

`check_requirements` finds those that nothing in the program defines and
reports them as one error at the root spec's `import` that brought the
module in, naming what to define, before the type checker would report the
same gap as a cascade of unknown names inside the module.

Names are C's file scope, with one addition. A library module's `static`
constant, global, procedure or thread is private to it: `separate` renames it
`module::name` in that module, a name no spec can write, so a spec's own
definition of that name, or another module's, never collides with it. A
spec's own definition of a name that a library module exports (a thread
`compactor`, a global `pool`) shadows the library's for the spec: the
library's is renamed `module::name` in the library modules, which keep
using theirs. Two library modules that export the same name are still an
"already declared" error: the library has to be fixed.
"""

from __future__ import annotations

from pathlib import Path

from checker.dsl import ast
from checker.dsl.diagnostics import Diagnostic, SourceCache, Span, SpecError

_KIND_WORDS = {"const": "const", "struct": "struct", "proc": "procedure"}


def _definitions(module: ast.Module) -> dict[tuple[str, str], ast.Decl]:
    """(kind, name) -> declaration, for what `extern` can ask for."""
    out: dict[tuple[str, str], ast.Decl] = {}
    for d in module.decls:
        if isinstance(d, ast.ConstDecl):
            out[("const", d.name)] = d
        elif isinstance(d, ast.StructDecl):
            out[("struct", d.name)] = d
        elif isinstance(d, ast.ProcDecl):
            out[("proc", d.name)] = d
    return out


def check_requirements(modules: list[ast.Module], root: ast.Module,
                       brought_by: dict[str, Span]) -> None:
    """Raise one diagnostic per root `import` whose modules need a definition
    that no module of the program gives; `brought_by` maps a module's path to
    the root import span that loaded it."""
    defined: set[tuple[str, str]] = set()
    for m in modules:
        for key, d in _definitions(m).items():
            private = getattr(d, "static", False)
            if not private:
                defined.add(key)
    missing: dict[str, list[tuple[ast.Module, ast.ExternDecl]]] = {}
    diags: list[Diagnostic] = []
    for m in modules:
        own = set(_definitions(m))
        for d in m.decls:
            if not isinstance(d, ast.ExternDecl) or (d.kind, d.name) in defined | own:
                continue
            if m is root:
                diags.append(Diagnostic(d.span, f"extern {_KIND_WORDS[d.kind]} '{d.name}' is "
                                                "defined nowhere in the program"))
            else:
                missing.setdefault(m.path, []).append((m, d))
    by_import: dict[Span, list[tuple[ast.Module, ast.ExternDecl]]] = {}
    for path, items in missing.items():
        by_import.setdefault(brought_by[path], []).extend(items)
    for span, items in by_import.items():
        names = ", ".join(dict.fromkeys(f"{_KIND_WORDS[d.kind]} {d.name}" for _, d in items))
        firsts: dict[str, Span] = {}
        for m, d in items:
            firsts.setdefault(m.path, d.span)
        notes = tuple((s, f"module '{Path(p).stem}' declares what it needs here")
                      for p, s in firsts.items())
        module = SourceCache.excerpt(span).strip('"')
        diags.append(Diagnostic(span, f"module '{module}' needs the importing spec to define: "
                                      f"{names}", "error", notes))
    if diags:
        raise SpecError(diags)


def _exported(module: ast.Module) -> dict[str, tuple[bool, Span]]:
    """The value-level names a module defines: name -> (static, span)."""
    out: dict[str, tuple[bool, Span]] = {}
    for d in module.decls:
        if isinstance(d, ast.ConstDecl | ast.ProcDecl | ast.ThreadDecl):
            out[d.name] = (d.static, d.span)
        elif isinstance(d, ast.GlobalDecl):
            out[d.var.name] = (d.static, d.span)
    return out


def separate(modules: list[ast.Module], root: ast.Module) -> None:
    """Rename, in place, library-private names and library names that the
    root spec shadows (see the module docstring)."""
    roots_own = set(_exported(root))
    shadowed: dict[str, str] = {}
    private: dict[str, dict[str, str]] = {}
    for m in modules:
        if m is root:
            continue
        stem = Path(m.path).stem
        for name, (static, _) in _exported(m).items():
            if static:
                private.setdefault(m.path, {})[name] = f"{stem}::{name}"
            elif name in roots_own:
                shadowed[name] = f"{stem}::{name}"
    for m in modules:
        if m is root:
            continue
        renames = {**shadowed, **private.get(m.path, {})}
        if renames:
            _Renamer(renames).module(m)


class _Renamer:
    """Renames file-scope names in one module, leaving those that a local,
    parameter or quantified variable shadows (C's block scope)."""

    def __init__(self, renames: dict[str, str]):
        self.renames = renames
        self.bound: list[set[str]] = []

    def new(self, name: str) -> str:
        if any(name in s for s in self.bound):
            return name
        return self.renames.get(name, name)

    def module(self, m: ast.Module) -> None:
        for d in m.decls:
            self.decl(d)

    def decl(self, d: ast.Decl) -> None:
        if isinstance(d, ast.ConstDecl):
            d.name = self.new(d.name)
            self.node(d.value)
        elif isinstance(d, ast.GlobalDecl):
            d.var.name = self.new(d.var.name)
            self.node(d.var)
        elif isinstance(d, ast.ProcDecl | ast.ThreadDecl):
            d.name = self.new(d.name)
            self.bound.append({p.name for p in d.params})
            self.node(d.params)
            self.node(d.body)
            self.bound.pop()
        elif isinstance(d, ast.ScenarioDecl):
            d.maxes = [(self.new(n), e, s) for n, e, s in d.maxes]
            self.node([d.runs, d.inits, [e for _, e, _ in d.options], [e for _, e, _ in d.maxes]])
        else:
            self.bound.append(set())  # a lemma's variables
            self.node(d)
            self.bound.pop()

    def node(self, n: object) -> None:
        """Walk any AST value: nodes, lists and tuples of them."""
        if isinstance(n, list | tuple):
            for x in n:
                self.node(x)
            return
        if not isinstance(n, ast.Node):
            return
        if isinstance(n, ast.Block):
            self.bound.append(set())
            self.node(n.body)
            self.bound.pop()
            return
        if isinstance(n, ast.For):
            self.bound.append(set())
            self.node([n.init, n.cond, n.step, n.body])
            self.bound.pop()
            return
        if isinstance(n, ast.Quant):
            self.node([n.lo, n.hi])
            self.bound.append({n.var})
            self.node(n.body)
            self.bound.pop()
            return
        if isinstance(n, ast.Name | ast.Call):
            n.name = self.new(n.name)
        elif isinstance(n, ast.Start | ast.RunItem):
            n.thread = self.new(n.thread)
        for value in vars(n).values():
            self.node(value)
        if isinstance(n, ast.VarDecl | ast.LemmaVar) and self.bound:
            # In scope from after its own declaration (its initializer
            # still sees the file-scope name, as in C).
            self.bound[-1].add(n.name)
