"""Which source a reader of a step sees: the spec line it follows, not the
body of a lock primitive it called. Every back end that quotes a step (the
trace, the Promela comments, the lock analysis, the explorer's messages)
asks here, so that they all name the same line. It reads only the IR's
origins and the source cache."""

from __future__ import annotations

from checker.dsl.diagnostics import SourceCache, Span
from checker.ir.nodes import Origin, TransitionSystem


def source_line(span: Span) -> str:
    """The source line a statement starts on, as a reader sees it in the file,
    without its trailing comment."""
    line = SourceCache.line(span.file, span.line) or SourceCache.excerpt(span)
    return strip_comment(line).strip()


def strip_comment(line: str) -> str:
    in_string = False
    for i, ch in enumerate(line):
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            in_string = not in_string
        elif not in_string and line.startswith("//", i):
            return line[:i]
        elif not in_string and line.startswith("/*", i):
            end = line.find("*/", i + 2)
            return line[:i] + (strip_comment(line[end + 2:]) if end >= 0 else "")
    return line


def display_files(ts: TransitionSystem) -> frozenset[str]:
    """The files a reader of a scenario follows: the spec, and every module
    that declares a thread the scenario runs. Such a module is protocol code
    (models/zsmalloc_5_17.mig declares the compactor and the free worker);
    the primitives of the model library (locks, pages) declare no threads, so
    their bodies stay hidden behind the calls that use them. Computed once
    a scenario: a trace asks at every step."""
    known: frozenset[str] | None = getattr(ts, "_display_files", None)
    if known is None:
        files = {ts.spec}
        for th in ts.threads:
            for origin in th.pc_origin.values():
                files.add(origin.frames()[0][0].file)
        known = frozenset(files)
        ts._display_files = known  # type: ignore[attr-defined]
    return known


def display_span(o: Origin, shown: str | frozenset[str]) -> Span:
    """The statement a reader should see for a step: the innermost one in the
    spec or in another file of `shown` (see display_files(); a plain path
    means the spec alone), unless it is the body of a one-statement wrapper
    such as pin_tag(), whose call is clearer."""
    return display_frame(o, shown)[0]


def display_frame(o: Origin, shown: str | frozenset[str]) -> tuple[Span, str]:
    """display_span(), with the function that statement belongs to (a race
    diagram names it beside the statement)."""
    files = frozenset((shown,)) if isinstance(shown, str) else shown
    frames = o.frames()
    for k in range(len(frames) - 1, -1, -1):
        span, in_wrapper = frames[k]
        if span.file in files and not in_wrapper:
            return span, o.owner_of(k)
    return frames[0][0], o.owner_of(0)


def line_label(file: str, line: int, spec: str) -> str:
    """A line as a document names it: the number alone in the spec, else
    with its module's file name (a protocol module such as
    zsmalloc_5_17.mig), so that lines of two files are never confused."""
    if file == spec:
        return str(line)
    return f"{file.rsplit('/', 1)[-1]}:{line}"
