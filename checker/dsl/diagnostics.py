"""Source spans and diagnostics.

Every AST node carries a `Span`; every error a user can cause is reported as a
`Diagnostic` in the compiler form `file:line:col: error: message`, followed by
the source line and a caret under the offending text. Errors are collected
(several per file where the phase allows it) and raised together as one
`SpecError`, which the CLI turns into exit status 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from checker.textsafe import visible


@dataclass(frozen=True)
class Span:
    """A region of one source file: 1-based lines and columns, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @staticmethod
    def unknown(file: str = "<builtin>") -> Span:
        return Span(file, 0, 0, 0, 0)


class SourceCache:
    """The text of every file read by the front end, so that diagnostics and
    counterexamples can quote source lines without touching the disk again."""

    _texts: ClassVar[dict[str, list[str]]] = {}

    @classmethod
    def remember(cls, file: str, text: str) -> None:
        cls._texts[file] = text.splitlines()

    @classmethod
    def line(cls, file: str, line: int) -> str | None:
        lines = cls._texts.get(file)
        if lines is None:
            try:
                # Only specs are quoted: a file name can come from a trace
                # file, and no message or viewer may show another file.
                if Path(file).resolve().suffix != ".mig":
                    return None
                lines = Path(file).read_text(encoding="utf-8").splitlines()
            except (OSError, ValueError):  # ValueError: not UTF-8
                return None
            cls._texts[file] = lines
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return None

    @classmethod
    def excerpt(cls, span: Span) -> str:
        """The source text a span covers, whitespace collapsed to one line."""
        if span.line <= 0:
            return ""
        parts: list[str] = []
        for ln in range(span.line, span.end_line + 1):
            text = cls.line(span.file, ln)
            if text is None:
                break
            start = span.column - 1 if ln == span.line else 0
            end = span.end_column - 1 if ln == span.end_line else len(text)
            parts.append(text[start:end].strip())
        return " ".join(p for p in parts if p)


@dataclass(frozen=True)
class Diagnostic:
    span: Span
    message: str
    severity: str = "error"
    notes: tuple[tuple[Span, str], ...] = ()

    def render(self) -> str:
        out = [visible(f"{self.span}: {self.severity}: {self.message}")]
        out.extend(_caret_lines(self.span))
        for span, note in self.notes:
            out.append(visible(f"{span}: note: {note}"))
            out.extend(_caret_lines(span))
        return "\n".join(out)


def _caret_lines(span: Span) -> list[str]:
    if span.line <= 0:
        return []
    text = SourceCache.line(span.file, span.line)
    if text is None:
        return []
    start = max(span.column - 1, 0)
    if span.end_line == span.line and span.end_column > span.column:
        width = span.end_column - span.column
    else:
        width = max(len(text.rstrip()) - start, 1)
    expanded = visible(text).expandtabs(8)
    # Recompute the caret column on the tab-expanded line (controls spelled out).
    prefix = visible(text[:start]).expandtabs(8)
    return [f"    {expanded}", "    " + " " * len(prefix) + "^" + "~" * (width - 1)]


@dataclass
class DiagnosticSink:
    """Collects the diagnostics of one phase; `check()` raises them together."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, span: Span, message: str, *notes: tuple[Span, str]) -> None:
        diag = Diagnostic(span, message, "error", tuple(notes))
        if diag not in self.diagnostics:
            self.diagnostics.append(diag)

    @property
    def failed(self) -> bool:
        return bool(self.diagnostics)

    def check(self) -> None:
        if self.diagnostics:
            raise SpecError(list(self.diagnostics))


class SpecError(Exception):
    """One or more user errors in a spec or on the command line (exit status 2)."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(
            diagnostics, key=lambda d: (d.span.file, d.span.line, d.span.column)
        )
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)

    def __reduce__(self) -> tuple[type[SpecError], tuple[list[Diagnostic]]]:
        """Rebuilt from its diagnostics: an error in a job on a forked
        process (`checker.forked`) comes back whole, with its exit status."""
        return SpecError, (self.diagnostics,)

    @staticmethod
    def at(span: Span, message: str) -> SpecError:
        return SpecError([Diagnostic(span, message)])
