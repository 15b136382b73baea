"""Where the two versions of a diffed spec come from: a file, or a file at a
git revision (`REV:path`), extracted with every module it may import.

A revision is materialized as a temporary tree holding every `.mig` file of
that revision at its path, so that imports resolve exactly as they did then
(the spec's directory, `models/` up the tree).
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

    def cleanup(self) -> None:
        for d in self._tmp:
            shutil.rmtree(d, ignore_errors=True)
        self._tmp.clear()


def _git(args: list[str], cwd: Path) -> str:
    try:
        r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                           check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SpecError.at(Span.unknown(), f"cannot run git: {e}") from None
    if r.returncode != 0:
        raise SpecError.at(Span.unknown(), f"git {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


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
    cwd = Path.cwd()
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    rel = Path(os.path.relpath(Path(path).resolve(), top.resolve())).as_posix()
    names = _git(["ls-tree", "-r", "--name-only", rev], top).splitlines()
    if rel not in names:
        raise SpecError.at(Span(arg, 0, 0, 0, 0), f"'{rel}' does not exist at revision {rev}")
    tmp = tempfile.mkdtemp(prefix="migcheck-diff-")
    for name in names:
        if name.endswith(".mig"):
            dest = Path(tmp) / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(_git(["show", f"{rev}:{name}"], top), encoding="utf-8")
    return SpecVersion(arg, Path(tmp) / rel, rev, [tmp])
