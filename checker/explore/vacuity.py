"""Vacuity: what a complete search never executed.

A spec whose migration thread can never copy a page verifies nothing about
copying. After a complete search, every source statement of the scenario's
code that no reachable step executed is listed, and every `cover` that no
step reached is an error of the scenario.
"""

from __future__ import annotations

from checker.explore.codegen import Compiled
from checker.ir.nodes import Cover, Origin


def unexecuted(c: Compiled) -> list[Origin]:
    done: set[tuple[str, int, int]] = set()
    for a in c.ts.actions:
        if c.fired[a.id]:
            for o in a.origins:
                done.add(_key(o))
    missing: dict[tuple[str, int, int], Origin] = {}
    for o in c.ts.statements:
        k = _key(o)
        if k not in done and k not in missing and o.span.line > 0:
            missing[k] = o
    return sorted(missing.values(), key=_key)


def uncovered(c: Compiled) -> list[Cover]:
    return [cv for cv in c.ts.covers if cv.index not in c.runtime.covered]


def _key(o: Origin) -> tuple[str, int, int]:
    return (o.span.file, o.span.line, o.span.column)
