"""Where the two versions of a diffed spec come from: a file, or a file at a
git revision (`REV:path`), extracted with every module it may import.

A revision is materialized as a temporary tree holding every `.mig` file of
that revision at its path, so that imports resolve exactly as they did then
(the spec's directory, and the `models/` directories of the revision's tree
above the spec, given to the loader as include directories).

The revision's tree is not trusted: git accepts (with `transfer.fsckObjects`
off) trees whose entries are named `..`, so every name is checked to stay
inside the temporary tree before anything is written, and a revision that
looks like an option (`-...`) is refused rather than passed to git.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from checker.dsl.diagnostics import Span, SpecError


@dataclass
class SpecVersion:
    label: str  # what the user named: a path, or REV:path
    path: Path  # the file to load
    rev: str | None = None
    _tmp: list[str] = field(default_factory=list)
    includes: list[Path] = field(default_factory=list)  # the revision's models/ dirs

    def cleanup(self) -> None:
        for d in self._tmp:
            shutil.rmtree(d, ignore_errors=True)
        self._tmp.clear()


def _git_bytes(args: list[str], cwd: Path) -> bytes:
    try:
        r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=60,
                           check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SpecError.at(Span.unknown(), f"cannot run git: {e}") from None
    if r.returncode != 0:
        raise SpecError.at(Span.unknown(), f"git {' '.join(args)}: "
                                           f"{r.stderr.decode('utf-8', 'replace').strip()}")
    return r.stdout


def _git(args: list[str], cwd: Path) -> str:
    return _git_bytes(args, cwd).decode("utf-8", "surrogateescape")


def _inside(tmp: Path, name: str) -> Path | None:
    """Where tree entry `name` goes under `tmp`, or None when it would land
    elsewhere: absolute, a `.` or `..` component, or resolving outside."""
    parts = name.split("/")
    if name.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in name:
        return None
    dest = tmp.joinpath(*parts)
    root = tmp.resolve()
    return dest if dest.resolve().is_relative_to(root) and dest.resolve() != root else None


def split_rev(arg: str) -> tuple[str, str] | None:
    """`HEAD~1:specs/x.mig` -> ('HEAD~1', 'specs/x.mig'); None for a plain file."""
    if os.path.exists(arg) or ":" not in arg:
        return None
    rev, _, path = arg.partition(":")
    return (rev, path) if rev and path else None


def resolve(arg: str) -> SpecVersion:
    got = split_rev(arg)
    if got is None:
        if not Path(arg).is_file():
            raise SpecError.at(Span(arg, 0, 0, 0, 0), "no such spec file (nor REV:path)")
        return SpecVersion(arg, Path(arg))
    rev, path = got
    if rev.startswith("-"):
        raise SpecError.at(Span(arg, 0, 0, 0, 0), f"'{rev}' is not a revision")
    cwd = Path.cwd()
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    rel = Path(os.path.relpath(Path(path).resolve(), top.resolve())).as_posix()
    names = _git(["ls-tree", "-r", "-z", "--name-only", "--end-of-options", rev],
                 top).split("\0")
    if rel not in names:
        raise SpecError.at(Span(arg, 0, 0, 0, 0), f"'{rel}' does not exist at revision {rev}")
    tmp = tempfile.mkdtemp(prefix="migcheck-diff-")
    try:
        for name in names:
            if not name.endswith(".mig"):
                continue
            dest = _inside(Path(tmp), name)
            if dest is None:
                raise SpecError.at(Span(arg, 0, 0, 0, 0),
                                   f"revision {rev} holds the unsafe file name {name!r} "
                                   "(outside its tree); not extracted")
            blob = _git_bytes(["cat-file", "blob", f"{rev}:{name}"], top)
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                with open(dest, "xb") as f:  # a fresh file in our own tree, never a link
                    f.write(blob)
            except OSError as e:
                raise SpecError.at(Span(arg, 0, 0, 0, 0),
                                   f"cannot extract {name!r} from {rev}: {e}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    spec = Path(tmp) / rel
    models = [d / "models" for d in spec.parents
              if d.is_relative_to(tmp) and (d / "models").is_dir()]
    return SpecVersion(arg, spec, rev, [tmp], models)
