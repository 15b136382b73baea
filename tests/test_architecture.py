"""The import rules of ARCHITECTURE.md, enforced.

The pipeline is dsl -> sema -> ir -> engines and back ends -> trace -> cli,
and the promise that matters most is the IR's: no engine or back end reads
the AST or the type checker, so that every engine checks the same
transition system. This test reads every module's imports (function-level
ones included) and fails on any that the table below does not allow. The
table is ARCHITECTURE.md's; change both together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent / "checker"

# sema.types is the type vocabulary (a leaf: it imports only
# dsl.diagnostics); the IR's slots carry its types, so any package may use it.
# dsl.diagnostics (spans, source lines, errors) is likewise open to all, and
# so are fsio (atomic writes of output files) and textsafe (spec text made inert
# for terminals, XML and HTML), argtypes (the command line's number types)
# and kinds (violation, property and verdict kinds, the table of checks),
# diskcache (compiled code kept on disk; it writes through fsio): none
# imports anything of checker but another of these.
SHARED = ("checker.sema.types", "checker.dsl.diagnostics", "checker.__version__",
          "checker.fsio", "checker.textsafe", "checker.argtypes", "checker.kinds",
          "checker.diskcache")

# What each package may import besides itself and SHARED: module prefixes.
# The spec loaders (dsl.loader, ir.build, sema.check) appear only where a
# package reads a spec from disk; engines proper never see dsl.ast or sema.
LOADING = ("checker.dsl.loader", "checker.dsl.specfiles", "checker.ir.build", "checker.sema.check")
ALLOWED: dict[str, tuple[str, ...]] = {
    "dsl": (),
    "sema": ("checker.dsl",),
    "ir": ("checker.dsl", "checker.sema"),
    "explore": ("checker.ir",),
    "forked": ("checker.explore.limits",),
    "vm": ("checker.ir", "checker.explore", "checker.forked"),
    "trace": ("checker.ir", "checker.explore", *LOADING),
    "locks": ("checker.ir", "checker.explore", "checker.trace", "checker.vm"),
    "symbolic": ("checker.ir", "checker.explore", "checker.trace"),
    "backends": ("checker.ir", "checker.explore", "checker.trace.model"),
    "mutate": ("checker.dsl", "checker.sema", "checker.ir", "checker.explore", "checker.vm.tiered",
               "checker.forked"),
    "html": ("checker.trace.model", "checker.trace.race"),
    "report": ("checker.explore.result", "checker.trace", "checker.html"),
    "doc": ("checker.ir", "checker.explore", "checker.trace", "checker.locks", "checker.vm.tiered",
            "checker.forked", *LOADING),
    "diff": ("checker.ir", "checker.explore", "checker.trace", "checker.locks", "checker.doc",
             "checker.report", "checker.vm.tiered", *LOADING),
    "pytest_plugin": ("checker.ir", "checker.explore", "checker.trace", "checker.vm.tiered",
                      *LOADING),
    "cli": ("checker",),
    "__main__": ("checker.cli",),
    "fsio": (),
    "textsafe": (),
    "__init__": (),
    "argtypes": (),
    "kinds": (),
    "diskcache": ("checker.fsio",),
}

# The command-line side of an engine package loads the spec it is given.
COMMAND_MODULES = {"checker.symbolic.command", "checker.backends.command"}

# Never, whatever the table says: engines and back ends reading the AST.
AST_FREE = ("explore", "forked", "vm", "symbolic", "locks", "backends", "trace", "html", "report", "doc", "diff")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every checker module a file imports, as dotted names (for `from X
    import Y`, X.Y, so that a package import names what it takes)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("checker"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("checker"):
                found.update(f"{mod}.{a.name}" for a in node.names)
    return found


def _package_of(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _allowed(importer: str, target: str) -> bool:
    pkg = _package_of(importer)
    if target.startswith(f"checker.{pkg}.") or target == f"checker.{pkg}":
        return True
    if pkg in ("cli", "__init__") and target.startswith("checker"):
        return pkg == "cli" or target.startswith("checker.__version__")
    prefixes = SHARED + ALLOWED[pkg] + (LOADING if importer in COMMAND_MODULES else ())
    return any(target == p or target.startswith(p + ".") for p in prefixes)


def _all_modules() -> list[Path]:
    return sorted(ROOT.rglob("*.py"))


def test_every_package_is_in_the_table() -> None:
    packages = {_package_of(_module_name(p)) for p in _all_modules()}
    assert packages <= set(ALLOWED), sorted(packages - set(ALLOWED))


def test_every_import_follows_the_table() -> None:
    broken = [f"{_module_name(p)} imports {t}"
              for p in _all_modules() for t in sorted(_imports(p))
              if not _allowed(_module_name(p), t)]
    assert broken == []


def test_no_engine_or_back_end_reads_the_ast() -> None:
    readers = [f"{_module_name(p)} imports {t}"
               for p in _all_modules() if _package_of(_module_name(p)) in AST_FREE
               for t in _imports(p) if t.startswith("checker.dsl.ast")]
    assert readers == []


def test_the_checker_sees_a_forbidden_import() -> None:
    # The rules bite: an engine importing the AST or the type checker fails.
    assert not _allowed("checker.explore.bfs", "checker.dsl.ast.Program")
    assert not _allowed("checker.explore.bfs", "checker.sema.check.elaborate")
    assert not _allowed("checker.symbolic.bmc", "checker.sema.check.elaborate")
    assert _allowed("checker.symbolic.command", "checker.sema.check.elaborate")
    assert not _allowed("checker.dsl.parser", "checker.ir.nodes.Action")
    assert _allowed("checker.explore.bfs", "checker.sema.types.IntType")


def test_imports_are_read_from_function_bodies_too() -> None:
    # explore/common.py imports ir.display inside where(); the walk sees it.
    found = _imports(ROOT / "explore" / "common.py")
    assert "checker.ir.display.display_span" in found
    assert "checker.explore.result.Violation" in found


def _module_paths() -> dict[str, Path]:
    return {_module_name(p): p for p in _all_modules()}


def _import_edges(name: str, modules: dict[str, Path]) -> list[tuple[str, str, int]]:
    """(imported module, name or "", line) for every checker import of module
    `name`, function-level ones included; `from checker.ir import lower`
    names the module checker.ir.lower."""
    path = modules[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: list[tuple[str, str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend((a.name, "", node.lineno) for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for a in node.names:
                if f"{mod}.{a.name}" in modules:
                    out.append((f"{mod}.{a.name}", "", node.lineno))
                elif mod in modules:
                    out.append((mod, a.name, node.lineno))
    return out


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_private_name_is_imported_from_another_module() -> None:
    """A `_name` is its module's own business: a second module that needs it
    gets a public name (or the code moves)."""
    modules = _module_paths()
    found = [f"{_module_name(p)}:{line} imports {mod}.{name}"
             for p in _all_modules() for mod, name, line in _import_edges(_module_name(p), modules)
             if _private(name) or _private(mod.rsplit(".", 1)[-1])]
    assert found == []


def test_no_import_cycle_between_modules() -> None:
    """No two checker modules import each other, directly or through others,
    counting imports under TYPE_CHECKING and inside functions: such a cycle
    means the two are one unit, or that a shared piece belongs in a third
    module (as `ir.micro` for lowering and fusion, `sema.consts` for the
    type and lemma checkers)."""
    modules = _module_paths()
    graph = nx.DiGraph()
    for name in modules:
        graph.add_node(name)
        graph.add_edges_from((name, mod) for mod, _n, _l in _import_edges(name, modules)
                             if mod != name)
    cycles = sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)
    assert cycles == []


def test_the_checks_see_a_private_import_and_a_cycle(tmp_path: Path) -> None:
    # The two rules above bite on a made-up pair of modules.
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from checker.ir.b import _helper\n", encoding="utf-8")
    b.write_text("def f():\n    from checker.ir import a\n", encoding="utf-8")
    modules = {"checker.ir.a": a, "checker.ir.b": b}
    assert _import_edges("checker.ir.a", modules) == [("checker.ir.b", "_helper", 1)]
    assert _import_edges("checker.ir.b", modules) == [("checker.ir.a", "", 2)]
    assert _private("_helper") and not _private("__version__")
