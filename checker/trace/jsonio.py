"""The JSON form of a counterexample (format `migcheck-trace/1`).

    {"format": "migcheck-trace/1",
     "spec": path, "spec_sha256": hex digest of the spec and its imports,
     "scenario": name, "bindings": {option or constant: value},
     "kind": violation kind, "name": property name or null, "message": text,
     "threads": [{"id", "kind", "label", "dynamic"}],
     "steps": [{"index", "thread", "line", "file", "text", "inner", "inner_where",
                "changes": [{"var", "before", "after"}], "fault",
                optional: "func", "reads", "writes", "rewrites"}],
     "loop_start": a lasso's (livelock, starvation, no_progress) step count before its cycle, or null,
     "final_state": {shared variable: value}, "blocked": {thread id: where},
     optional: "focus": [the locations the violation reads],
     "locks": the lockdep-style report (deadlocks, sleeping in atomic context only;
              checker.trace.model.LockReport)}

`migcheck replay` needs only the scenario, the bindings, and each step's
thread and changes; the rest is for readers and tools (the race diagram
slices on the optional accesses).
"""

from __future__ import annotations

import json
from pathlib import Path

from checker.fsio import write_many_atomic
from checker.trace.model import TRACE_FORMAT, Trace
from checker.trace.text import render


def dumps(trace: Trace) -> str:
    return json.dumps(trace.to_dict(), indent=2) + "\n"


def save_if_changed(trace: Trace, path: Path, with_text: bool = False) -> bool:
    """`save`, unless the file already holds this trace: False then, and
    nothing is written (saved counterexamples are tracked files; a run that
    finds the same trace leaves them untouched). The comparison is of the
    JSON data without `spec_sha256`, and of the text: an edit to the spec
    that does not change the trace (a comment) does not rewrite it, so the
    saved hash stays that of the spec the trace was first saved from, and
    `replay` notes that the spec changed since."""
    if _same_trace(trace, path) and (
            not with_text or _read(path.with_suffix(".txt")) == render(trace) + "\n"):
        return False
    save(trace, path, with_text)
    return True


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _same_trace(trace: Trace, path: Path) -> bool:
    text = _read(path)
    if text is None:
        return False
    try:
        old = json.loads(text)
    except json.JSONDecodeError:
        return False
    new = json.loads(dumps(trace))  # the dictionary as it reads back (tuples as lists)
    if not isinstance(old, dict):
        return False
    old.pop("spec_sha256", None)
    new.pop("spec_sha256", None)
    return bool(old == new)


def save(trace: Trace, path: Path, with_text: bool = False) -> None:
    """Write the trace (and, `with_text`, its `.txt` form beside it) atomically,
    replacing rather than following a symlink (`checker.fsio`); OSError on failure."""
    files = [(path, dumps(trace))]
    if with_text:
        files.append((path.with_suffix(".txt"), render(trace) + "\n"))
    write_many_atomic(files)


class TraceFormatError(Exception):
    pass


def load(path: Path) -> Trace:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise TraceFormatError(f"{path}: error: cannot read trace: {err}") from None
    if not isinstance(data, dict) or data.get("format") != TRACE_FORMAT:
        raise TraceFormatError(f"{path}: error: not a {TRACE_FORMAT} file")
    try:
        return Trace.from_dict(data)
    except (KeyError, TypeError, ValueError) as err:  # TraceDataError: a field's type or range
        raise TraceFormatError(f"{path}: error: malformed trace: {err}") from None
