"""Load a spec and the modules it imports.

`import "spinlock";` looks for `spinlock.mig` in, in order: the importing
file's directory, the `-I` directories, and the `models/` directory of every
ancestor of the root spec (so a spec anywhere under a project finds the
project's model library), then `$MIGCHECK_PATH`. Each module is loaded once;
an import cycle is an error. The result lists the modules imports-first, the
order in which their declarations take effect.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from checker.dsl import ast
from checker.dsl.diagnostics import Diagnostic, Span, SpecError
from checker.dsl.parser import parse_text, typedef_names

_IMPORT_RE = re.compile(r'^\s*import\s+"([^"]+)"\s*;', re.MULTILINE)


@dataclass
class Program:
    """A root spec with its imported modules, imports first."""

    root: str
    modules: list[ast.Module]

    @property
    def sha256(self) -> str:
        """A digest over every module's text: what a saved trace was made from."""
        h = hashlib.sha256()
        for m in self.modules:
            h.update(m.path.encode())
            h.update(m.text_sha256.encode())
        return h.hexdigest()


def _search_path(root: Path, include_dirs: list[Path]) -> list[Path]:
    dirs = list(include_dirs)
    for anc in [root.parent, *root.parent.parents]:
        cand = anc / "models"
        if cand.is_dir():
            dirs.append(cand)
    env = os.environ.get("MIGCHECK_PATH")
    if env:
        dirs.extend(Path(p) for p in env.split(os.pathsep) if p)
    return dirs


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _strip_comments(text: str) -> str:
    """Blank out comments, keeping every offset (for error positions)."""
    def blank(m: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))

    text = re.sub(r"/\*.*?\*/", blank, text, flags=re.S)
    return re.sub(r"//[^\n]*", blank, text)


def load_program(path: str | Path, include_dirs: list[str | Path] | None = None) -> Program:
    root = Path(path)
    if not root.is_file():
        raise SpecError.at(Span(str(path), 0, 0, 0, 0), "no such spec file")
    includes = [Path(d) for d in include_dirs or []]
    root_search = _search_path(root, includes)
    modules: list[ast.Module] = []
    loaded: dict[Path, ast.Module] = {}
    in_progress: list[Path] = []
    known_types: set[str] = set()

    def resolve(name: str, importer: Path, span: Span) -> Path:
        fname = name if name.endswith(".mig") else name + ".mig"
        # The importer's own directory and models/ above it come first, so a
        # module found through an absolute import still finds its imports.
        search = [d for d in _search_path(importer, includes) if d not in root_search]
        search = [importer.parent, *search, *root_search]
        for d in search:
            cand = d / fname
            if cand.is_file():
                return cand.resolve()
        looked = ", ".join(dict.fromkeys(_display_path(d) for d in search))
        raise SpecError.at(span, f"cannot find module '{name}' (looked in {looked})")

    def load(file: Path, span: Span | None) -> None:
        key = file.resolve()
        if key in loaded:
            return
        if key in in_progress:
            cycle = " -> ".join(p.name for p in [*in_progress, key])
            assert span is not None
            raise SpecError.at(span, f"import cycle: {cycle}")
        in_progress.append(key)
        text = file.read_text(encoding="utf-8")
        shown = _display_path(file)
        # Imports come first so that their typedef names are known to the lexer.
        for m in _IMPORT_RE.finditer(_strip_comments(text)):
            line = text.count("\n", 0, m.start(1)) + 1
            col = m.start(1) - (text.rfind("\n", 0, m.start(1)) + 1)
            ispan = Span(shown, line, col, line, col + len(m.group(1)) + 2)
            load(resolve(m.group(1), file, ispan), ispan)
        module = parse_text(text, shown, known_types)
        known_types.update(typedef_names(module))
        in_progress.pop()
        loaded[key] = module
        modules.append(module)

    try:
        load(root, None)
    except OSError as err:
        raise SpecError([Diagnostic(Span(str(path), 0, 0, 0, 0), f"cannot read: {err}")]) from None
    return Program(_display_path(root), modules)
