"""Load a spec and the modules it imports.

`import "spinlock";` looks for `spinlock.mig` in, in order: the importing
file's directory, the `-I` directories, migcheck's model library (shipped as
the package data `checker.models`, see `library.py`), then `$MIGCHECK_PATH`.
Each module is loaded once; an import cycle is an error. The result lists the
modules imports-first, the order in which their declarations take effect.
Then what the modules need from their importers is checked, and the names
private to a module are set apart (`namespace.py`).

Specs may come from untrusted trees (the pytest plugin collects a whole
checkout), so the search is confined to those roots: no `models/` of
arbitrary ancestor directories, no absolute names or `..` in an import, and a
module that is a link leading out of the roots, or whose target is not a
`.mig` file, is refused without being read. Only `.mig` files are read at
all, so an error message never quotes another kind of file. A file that is not
UTF-8 is a diagnostic at the first bad byte; a UTF-8 byte order mark is
skipped.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from checker.dsl import ast
from checker.dsl.diagnostics import Diagnostic, SourceCache, Span, SpecError
from checker.dsl.library import env_dirs, library_dir
from checker.dsl.namespace import check_requirements, separate
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


def search_path(include_dirs: list[Path]) -> list[Path]:
    """Where an import is looked for after the importer's own directory."""
    library = library_dir()
    return [*include_dirs, *([library] if library else []), *env_dirs()]


def _within(path: Path, roots: list[Path]) -> bool:
    return any(path.is_relative_to(r) for r in roots)


def _read_spec(file: Path, shown: str, span: Span | None) -> str:
    """The text of a `.mig` file: UTF-8 (a leading byte order mark dropped),
    else a diagnostic at the first bad byte. Nothing else is read."""
    where = span or Span(shown, 0, 0, 0, 0)
    if file.resolve().suffix != ".mig":
        raise SpecError.at(where, f"'{shown}' is not a .mig spec file; not read")
    data = file.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        start = data.rfind(b"\n", 0, e.start) + 1
        col = len(data[start:e.start].decode("utf-8", "replace")) + 1
        SourceCache.remember(shown, data.decode("utf-8", "replace"))
        raise SpecError.at(Span(shown, line, col, line, col + 1),
                           f"the file is not valid UTF-8 (byte 0x{data[e.start]:02x} "
                           f"at offset {e.start})") from None
    return text.removeprefix("\ufeff")


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
    root_search = search_path(includes)
    # Where a module may really be (links resolved): the search roots and the
    # root spec's own directory.
    roots = [d.resolve() for d in [root.parent, *root_search]]
    modules: list[ast.Module] = []
    loaded: dict[Path, ast.Module] = {}
    in_progress: list[Path] = []
    known_types: set[str] = set()
    # The root spec's import that first brought each module in (by shown path).
    brought_by: dict[str, Span] = {}
    via: list[Span] = []

    def resolve(name: str, importer: Path, span: Span) -> Path:
        fname = name if name.endswith(".mig") else name + ".mig"
        if name.startswith("/") or ".." in name.split("/"):
            raise SpecError.at(span, f"import \"{name}\": a module name may not be an absolute "
                                     "path nor contain '..' (use -I or $MIGCHECK_PATH)")
        # The importer's own directory comes first, so modules of a library
        # find each other.
        search = [importer.parent, *root_search]
        for d in search:
            cand = d / fname
            if cand.is_file():
                real = cand.resolve()
                if real.suffix != ".mig" or not _within(real, roots):
                    raise SpecError.at(span, f"module '{name}' ({_display_path(cand)}) is a link "
                                             "leading outside the module search path; not read")
                return real
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
        shown = _display_path(file)
        text = _read_spec(file, shown, span)
        # Imports come first so that their typedef names are known to the lexer.
        for m in _IMPORT_RE.finditer(_strip_comments(text)):
            line = text.count("\n", 0, m.start(1)) + 1
            col = m.start(1) - (text.rfind("\n", 0, m.start(1)) + 1)
            ispan = Span(shown, line, col, line, col + len(m.group(1)) + 2)
            via.append(via[0] if via else ispan)
            try:
                load(resolve(m.group(1), file, ispan), ispan)
            finally:
                via.pop()
        module = parse_text(text, shown, known_types)
        if via:
            brought_by[shown] = via[0]
        known_types.update(typedef_names(module))
        in_progress.pop()
        loaded[key] = module
        modules.append(module)

    try:
        load(root, None)
    except OSError as err:
        raise SpecError([Diagnostic(Span(str(path), 0, 0, 0, 0), f"cannot read: {err}")]) from None
    check_requirements(modules, modules[-1], brought_by)
    separate(modules, modules[-1])
    return Program(_display_path(root), modules)
