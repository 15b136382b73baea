"""Scenario-specific reach marks in specs.

A `cover` must be reached in every scenario whose threads contain it, so it
only fits paths that all of them take. A path that only some scenarios can
take (migration finding the page freed under it needs a thread that frees
it) is marked instead with a comment that ends its line with `reach:` and the scenarios:

    put_page(from_page);        // reach: exchange_vs_munmap
    goto out_unlock;            // the RFC's label. reach: async_ok, async_slow

and tests/test_specs.py requires that, after the complete search of each
named scenario, some statement on that line was executed. A mark on a line
that holds no statement of the scenario is an error, so a mark cannot pass
by naming a comment or a blank line.
"""

from __future__ import annotations

import re
from pathlib import Path

from checker.explore.result import CheckResult

_MARK = re.compile(r"//.*\breach:\s*([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*$")


def reach_marks(spec: Path) -> dict[str, list[int]]:
    """Scenario name -> the lines marked `// reach:` for it."""
    marks: dict[str, list[int]] = {}
    for number, text in enumerate(spec.read_text(encoding="utf-8").splitlines(), start=1):
        found = _MARK.search(text)
        if found is None:
            continue
        for name in found.group(1).split(","):
            marks.setdefault(name.strip(), []).append(number)
    return marks


def unreached_marks(spec: Path, result: CheckResult) -> list[str]:
    """The marks of result's scenario that its search did not execute, as
    messages (empty when every mark was reached)."""
    lines = reach_marks(spec).get(result.ts.scenario, [])
    if not lines:
        return []
    same = spec.resolve()
    statements = {(o.span.line, o.span.column) for o in result.ts.statements
                  if Path(o.span.file).resolve() == same}
    missed = {(o.span.line, o.span.column) for o in result.unexecuted
              if Path(o.span.file).resolve() == same}
    problems = []
    for line in lines:
        here = {key for key in statements if key[0] == line}
        if not here:
            problems.append(f"{spec.name}:{line}: `reach:` mark on a line with no statement")
        elif here <= missed:
            problems.append(f"{spec.name}:{line}: never executed in {result.ts.scenario}")
    return problems
