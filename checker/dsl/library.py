"""The model library shipped with migcheck, and its table of contents.

The library's source of truth is the top-level `models/` directory of the
repository. The link `checker/models` makes it the package `checker.models`
in a build, so an installed migcheck reads it as package data through
`importlib.resources`, and `import "spinlock";` works from a spec in any
directory. Run from a source checkout (the tests, `PYTHONPATH=.`), the
checkout's own `models/` is the library, so an edit there is what runs.

`migcheck models` lists each module with its one-line purpose: the first
sentence of the comment it opens with, and what it needs its importer to
define (its `extern` declarations).
"""

from __future__ import annotations

import importlib.resources
import os
import re
from dataclasses import dataclass
from pathlib import Path

LIBRARY_PACKAGE = "checker.models"

_EXTERN_RE = re.compile(r"^\s*extern\s+([^;]*);", re.MULTILINE)
_PURPOSE_MAX = 96


def library_dir() -> Path | None:
    """Where the shipped library is, or None when migcheck has none (a
    zipped install: the loader reads only real files)."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "models" / "__init__.py").is_file():
        return checkout / "models"
    try:
        found = importlib.resources.files(LIBRARY_PACKAGE)
    except ModuleNotFoundError:
        return None
    return found if isinstance(found, Path) and found.is_dir() else None


def env_dirs() -> list[Path]:
    """The directories of `$MIGCHECK_PATH`, searched after the library."""
    env = os.environ.get("MIGCHECK_PATH", "")
    return [Path(p) for p in env.split(os.pathsep) if p]


@dataclass(frozen=True)
class ModuleInfo:
    """One module of a library directory, as `migcheck models` lists it."""

    name: str
    purpose: str
    needs: list[str]


def _leading_comment(text: str) -> str:
    lines: list[str] = []
    for line in text.removeprefix("\ufeff").splitlines():
        stripped = line.strip()
        if not stripped.startswith("//"):
            break
        body = stripped[2:].strip()
        if not body and lines:
            break
        if body:
            lines.append(body)
    return " ".join(lines)


def purpose(text: str) -> str:
    """The first sentence of a module's leading comment, shortened to one line."""
    comment = _leading_comment(text)
    m = re.search(r"\.(\s|$)", comment)
    first = comment[:m.start() + 1] if m else comment
    if len(first) > _PURPOSE_MAX:
        first = first[:_PURPOSE_MAX - 1].rsplit(" ", 1)[0] + "…"
    return first or "(no leading comment)"


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def describe(path: Path) -> ModuleInfo:
    text = path.read_text(encoding="utf-8", errors="replace")
    needs = [" ".join(m.group(1).split()) for m in _EXTERN_RE.finditer(_strip_comments(text))]
    return ModuleInfo(path.stem, purpose(text), needs)


def modules_in(directory: Path) -> list[ModuleInfo]:
    """The `.mig` modules of a directory (links to elsewhere left out, as the
    loader would refuse them), by name."""
    root = directory.resolve()
    out = []
    for p in sorted(directory.glob("*.mig")):
        real = p.resolve()
        if real.is_file() and real.suffix == ".mig" and real.is_relative_to(root):
            out.append(describe(p))
    return out


def table_of_contents() -> list[str]:
    """The lines `migcheck models` prints: each library directory in search
    order (the shipped library, then `$MIGCHECK_PATH`) and its modules."""
    out: list[str] = []
    library = library_dir()
    dirs = [("library", library)] if library else []
    dirs += [("$MIGCHECK_PATH", d) for d in env_dirs() if d.is_dir()]
    for what, d in dirs:
        out.append(f"{what}: {d}")
        mods = modules_in(d)
        width = max((len(m.name) for m in mods), default=0)
        for m in mods:
            out.append(f"  {m.name:<{width}}  {m.purpose}")
            if m.needs:
                out.append(f"  {'':<{width}}  needs: " + "; ".join(m.needs))
    if not dirs:
        out.append("no model library found (and $MIGCHECK_PATH is empty)")
    out.append("an import is looked for in the importing file's directory, then -I DIRs, "
               "then the library, then $MIGCHECK_PATH")
    return out
