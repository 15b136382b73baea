"""Declarations that a mutant is harmless, kept in the spec next to the code.

A surviving mutant is either a weakness (the scenarios cannot tell the
protocol from a broken one) or harmless: the edit does not change what the
protocol guarantees (two unlocks in either order; a recheck that the model's
abstraction makes redundant). A harmless one is declared by a comment on the
mutated statement's line, or on the comment lines directly above it:

    // mutant-harmless move-unlock: the pin only orders users of this handle
    spin_unlock(&zs_class.lock);

`OPERATOR#N` names one of several mutants of that operator on the line (the
`#N` of its id); without `#N` the declaration covers every mutant of that
operator on the line. The reason is required: it is what a reviewer reads.
The declaration lives beside the statement, so it moves with it when the spec
is edited, and a reader of the spec sees why the edit would be safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from checker.dsl.diagnostics import Diagnostic, Span, SpecError
from checker.dsl.loader import Program
from checker.mutate.operators import OPERATORS, Mutant
from checker.mutate.syntax import own_modules

MARK = "mutant-harmless"
_DECL = re.compile(r"//\s*" + MARK + r"\b(?P<rest>.*)$")
_BODY = re.compile(r"\s+(?P<op>[a-z][a-z-]*)(?:#(?P<n>\d+))?\s*:\s*(?P<reason>.*?)\s*$")


@dataclass(frozen=True)
class Declaration:
    span: Span  # the comment
    line: int  # the statement's line it applies to
    op: str
    ordinal: int | None
    reason: str

    def covers(self, m: Mutant) -> bool:
        return (m.file == self.span.file and m.line == self.line and m.op == self.op
                and (self.ordinal is None or m.ordinal == self.ordinal))

    @property
    def selector(self) -> str:
        return self.op + (f"#{self.ordinal}" if self.ordinal is not None else "")


def declarations(program: Program, extra: tuple[str, ...] = ()) -> list[Declaration]:
    """Every declaration in the mutated modules; a malformed one is an error."""
    found: list[Declaration] = []
    errors: list[Diagnostic] = []
    for module in own_modules(program, extra):
        try:
            lines = Path(module.path).read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        found.extend(_scan(module.path, lines, errors))
    if errors:
        raise SpecError(errors)
    return found


def _scan(file: str, lines: list[str], errors: list[Diagnostic]) -> list[Declaration]:
    out: list[Declaration] = []
    for i, text in enumerate(lines):
        m = _DECL.search(text)
        if m is None:
            continue
        col = m.start() + 1
        span = Span(file, i + 1, col, i + 1, len(text) + 1)
        body = _BODY.match(m.group("rest"))
        usage = f"write '// {MARK} OPERATOR[#N]: REASON'"
        if body is None:
            errors.append(Diagnostic(span, f"malformed declaration: {usage}"))
            continue
        if body.group("op") not in OPERATORS:
            errors.append(Diagnostic(span, f"unknown mutation operator '{body.group('op')}' "
                                           f"(operators: {', '.join(OPERATORS)})"))
            continue
        if not body.group("reason"):
            errors.append(Diagnostic(span, f"a harmless mutant needs its reason: {usage}"))
            continue
        target = _target_line(lines, i, text[:m.start()])
        if target is None:
            errors.append(Diagnostic(span, "no statement follows this declaration"))
            continue
        n = body.group("n")
        out.append(Declaration(span, target, body.group("op"), int(n) if n else None,
                               body.group("reason")))
    return out


def _target_line(lines: list[str], i: int, code_before: str) -> int | None:
    """The line a declaration applies to: its own when it trails code, else
    the first line below that is neither blank nor only a comment."""
    if code_before.strip():
        return i + 1
    for j in range(i + 1, len(lines)):
        stripped = lines[j].strip()
        if stripped and not stripped.startswith("//"):
            return j + 1
    return None
