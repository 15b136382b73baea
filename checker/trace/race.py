"""A counterexample as a race diagram to paste into a commit message.

Kernel commits that fix a race draw it as one column per CPU, time running
down, with only the statements that make the race (the zsmalloc migration
fix draws zs_map_object() against zs_page_migrate()). This renderer draws a
trace that way: at most `WIDTH` columns of plain ASCII, one column per
thread that takes part, each step the statement with the function it
belongs to, the other steps elided as `...`.

Which steps take part is a slice over the accesses each step recorded
(Step.reads, Step.writes, Trace.focus):

1. backwards over the threads the violation happens in (the faulting
   thread, the deadlocked ones, the last writers of what a broken invariant
   reads): a step is kept if it writes a location a kept step or the
   violation reads, and then what it reads is followed in turn;
2. every other thread's step is kept if it writes a shared location that a
   step of phase 1 read or wrote, or reads one that such a step wrote: the
   conflicting accesses, the race itself (a lost wakeup is a read of a flag
   before it was set). Their own inputs are not followed, or every line of
   the other thread would be.

A trace saved before steps recorded their accesses has none to slice on:
it is drawn with every step.
"""

from __future__ import annotations

import copy
import textwrap
from dataclasses import dataclass

from checker.textsafe import visible
from checker.trace.model import Change, Step, ThreadInfo, Trace

WIDTH = 72
MARGIN = 5  # the step number, right-aligned in 4, and a space
GAP = 2
MIN_COLUMN = 18  # narrower than this, the threads share one column, tagged


def relevant_steps(trace: Trace) -> set[int]:
    """The indices of the steps the diagram draws (see the module's doc)."""
    steps = trace.steps
    if not any(s.reads or s.writes for s in steps):
        return {s.index for s in steps}
    focus_threads = _focus_threads(trace)
    wanted = set(trace.focus)
    kept: set[int] = set()
    for s in reversed(steps):
        if s.thread not in focus_threads:
            continue
        if s.fault or s is steps[-1] or _written(s) & wanted:
            kept.add(s.index)
            wanted.update(s.reads)
    stored = {w for s in steps if s.index in kept for w in _written(s) if not _is_local(w)}
    shared = {loc for loc in wanted if not _is_local(loc)} | stored
    for s in steps:
        if s.thread not in focus_threads and (_written(s) & shared or stored & set(s.reads)):
            kept.add(s.index)
    if trace.loop_start is not None:
        kept.update(s.index for s in steps[trace.loop_start:])
    return kept


def followed(trace: Trace, kept: set[int]) -> set[str]:
    """The locations whose changes the diagram draws: what the violation
    reads, and the shared locations its kept steps read."""
    out = set(trace.focus)
    for s in trace.steps:
        if s.index in kept:
            out.update(r for r in s.reads if not _is_local(r))
    return out


def _written(s: Step) -> set[str]:
    return set(s.writes) | {_slot_of(c.var, s.writes) for c in s.rewrites}


def _slot_of(var: str, writes: list[str]) -> str:
    """The location of a rewritten field (`handles[0].val.pin` in
    `handles[0].val`), the field itself where no write names its slot."""
    for w in writes:
        if var.startswith(w + "."):
            return w
    return var


def _is_local(loc: str) -> bool:
    """A thread's own location, named `T<id>.<name>` (access_name())."""
    head, dot, _ = loc.partition(".")
    return bool(dot) and head[:1] == "T" and head[1:].isdigit()


def _focus_threads(trace: Trace) -> set[int]:
    """The threads the violation happens in: the faulting one, the ones
    left unable to move, else the last writers of the locations it reads."""
    steps = trace.steps
    if not steps:
        return set()
    if steps[-1].fault:
        return {steps[-1].thread}
    if trace.loop_start is not None:
        return {s.thread for s in steps[trace.loop_start:]}
    if trace.kind == "deadlock" and trace.blocked:
        return set(trace.blocked)
    out: set[int] = set()
    left = set(trace.focus)
    for s in reversed(steps):
        hit = _written(s) & left
        if hit:
            out.add(s.thread)
            left -= hit
    return out or {steps[-1].thread}


@dataclass
class _Row:
    step: int  # 0: an elision row
    cells: dict[int, list[str]]  # column -> its lines
    note: str = ""  # a line across every column (where a lasso's cycle starts and ends)


def _cell(trace: Trace, step: Step, func: str | None, width: int,
          shown: set[str]) -> list[str]:
    """A step's lines in its column: the function it enters (when it is not
    the one the column last showed), the statement, the values it set that
    the diagram follows, and the fault."""
    lines: list[str] = []
    if func is not None:
        lines += _wrap(f"{func}():", width)
    lines += _wrap(step.text, width, "  ")
    for ch in step.changes:
        if not ch.frame and _matches(step, ch.var, shown):
            lines += _wrap(f"{ch.var}: {ch.before} -> {ch.after}", width, "    ")
    for ch in step.rewrites:
        if _matches(step, ch.var, shown):
            lines += _wrap(rewrite_text(trace, step, ch), width, "    ")
    if step.warning:
        lines += _wrap(f"WARNING: {step.warning}", width, "  ")
    if step.fault:
        lines += _wrap(f"!! {step.fault}", width, "  ")
    return lines


def rewrite_text(trace: Trace, step: Step, ch: Change) -> str:
    """A store that left its value as it was, drawn as the write it is; when
    it put back a value over another thread's store that this thread had
    not read (a lost update), that store is named."""
    text = f"{ch.var} = {ch.after} (unchanged"
    lost = overwritten(trace, step, ch.var)
    if lost is not None:
        text += f"; overwrites T{lost.thread}'s store of step {lost.index}"
    return text + ")"


def overwritten(trace: Trace, step: Step, var: str) -> Step | None:
    """The other thread's step whose store to `var` the store of `step`
    overwrote without this thread having read it since, or None."""
    loc = _slot_of(var, step.writes)
    for s in reversed(trace.steps[:step.index - 1]):
        if s.thread == step.thread and loc in s.reads:
            return None
        if loc in _written(s):
            return s if s.thread != step.thread else None
    return None


def _matches(step: Step, var: str, shown: set[str]) -> bool:
    """Whether a change of `var` by `step` is to a location the diagram
    follows: the location itself, a field of it, or the thread's own."""
    names = {var, var.rsplit(".", 1)[0]}
    names |= {f"T{step.thread}.{n}" for n in names}
    return bool(names & shown)


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    """`text` in lines of at most `width`, long names broken where they must
    be; continuation lines indented two more."""
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False) or [indent.rstrip()]


def render_race(trace: Trace, width: int = WIDTH) -> str:
    """The race diagram of `trace`, every line at most `width` characters."""
    clean = _escaped(trace)
    steps = clean.steps
    kept = relevant_steps(clean)
    drawn = [s for s in steps if s.index in kept]
    shown_threads = [t for t in clean.threads if any(s.thread == t.id for s in drawn)]
    out = _wrap(f"{clean.kind}" + (f" '{clean.name}'" if clean.name else "")
                + f": {clean.message}", width)
    opts = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                     for k, v in clean.bindings.items())
    out += _wrap(f"{clean.spec.rsplit('/', 1)[-1]}, scenario {clean.scenario}"
                 + (f" ({opts})" if opts else ""), width)
    out.append("")
    n = max(len(shown_threads), 1)
    col = (width - MARGIN - GAP * (n - 1)) // n
    tagged = col < MIN_COLUMN
    if tagged:
        columns = [0] * len(shown_threads)
        col, n = width - MARGIN, 1
    else:
        columns = list(range(len(shown_threads)))
    col_of = {t.id: c for t, c in zip(shown_threads, columns, strict=True)}
    rows = _rows(clean, kept, col_of, col, tagged)
    out += _head(shown_threads, col, tagged)
    out.append(" " * MARGIN + (" " * GAP).join("-" * col for _ in range(n)))
    for row in rows:
        if row.note:
            out.append(" " * MARGIN + row.note)
            continue
        height = max(len(lines) for lines in row.cells.values())
        for k in range(height):
            num = f"{row.step:>4} " if row.step and k == 0 else " " * MARGIN
            parts = [(row.cells.get(c, [])[k:k + 1] or [""])[0].ljust(col) for c in range(n)]
            out.append((num + (" " * GAP).join(parts)).rstrip())
    if clean.kind == "starvation":
        # The starving thread may take no step at all: say where it waits.
        for t in clean.threads:
            if t.id in clean.blocked:
                out += _wrap(f"unfinished forever: T{t.id} {t.label} at {clean.blocked[t.id]}",
                             width)
    hidden = [t for t in clean.threads if t not in shown_threads]
    if hidden:
        out += _wrap("not drawn (no step that matters): "
                     + ", ".join(f"T{t.id} {t.label}" for t in hidden), width)
    return "\n".join(out)


def _escaped(trace: Trace) -> Trace:
    """`trace` with every spec text it shows made visible first, so that the
    widths measured are those printed."""
    t = copy.deepcopy(trace)
    t.message, t.spec, t.scenario = visible(t.message), visible(t.spec), visible(t.scenario)
    t.name = None if t.name is None else visible(t.name)
    for th in t.threads:
        th.label, th.kind = visible(th.label), visible(th.kind)
    for s in t.steps:
        s.text, s.func, s.fault = visible(s.text), visible(s.func), visible(s.fault)
        s.warning = visible(s.warning)
        for ch in (*s.changes, *s.rewrites):
            ch.var, ch.before, ch.after = visible(ch.var), visible(ch.before), visible(ch.after)
    return t


def _head(threads: list[ThreadInfo], col: int, tagged: bool) -> list[str]:
    if tagged:
        heads = ["threads (each step tagged with its own):"] + [
            line for t in threads for line in _wrap(f"T{t.id} {t.label}", col, "  ")]
        return [" " * MARGIN + h for h in heads]
    cells = [_wrap(f"T{t.id} {t.label}", col) for t in threads]
    height = max((len(c) for c in cells), default=0)
    return [(" " * MARGIN + (" " * GAP).join((c[k:k + 1] or [""])[0].ljust(col)
                                              for c in cells)).rstrip()
            for k in range(height)]


def _rows(trace: Trace, kept: set[int], col_of: dict[int, int],
          col: int, tagged: bool) -> list[_Row]:
    """One row per drawn step, and an elision row (`...` in the columns of
    the threads whose steps were left out) wherever steps were."""
    shown = followed(trace, kept)
    tag_w = max(len(f"T{t}") for t in col_of) + 1 if tagged and col_of else 0
    func = {t.id: t.kind for t in trace.threads}
    rows: list[_Row] = []
    skipped: set[int] = set()
    loop = trace.loop_start
    for s in trace.steps:
        if loop is not None and s.index == loop + 1:
            if skipped:
                marks = {col_of[t] for t in skipped if t in col_of} or set(col_of.values())
                rows.append(_Row(0, {c: ["  ..."] for c in marks}))
                skipped = set()
            rows.append(_Row(0, {}, f"-- cycle starts here (steps {s.index}.."
                                    f"{len(trace.steps)} repeat forever) --"))
        if s.index not in kept:
            skipped.add(s.thread)
            continue
        if skipped:
            marks = {col_of[t] for t in skipped if t in col_of} or set(col_of.values())
            rows.append(_Row(0, {c: ["  ..."] for c in marks}))
            skipped = set()
        enters = s.func if s.func and s.func != func.get(s.thread) else None
        if s.func:
            func[s.thread] = s.func
        lines = _cell(trace, s, enters, col - tag_w, shown)
        if tagged:
            tag = f"T{s.thread}".ljust(tag_w)
            lines = [(tag if k == 0 else " " * tag_w) + line for k, line in enumerate(lines)]
        rows.append(_Row(s.index, {col_of[s.thread]: lines}))
    if skipped:
        rows.append(_Row(0, {c: ["  ..."] for c in {col_of[t] for t in skipped if t in col_of}}
                         or {0: ["  ..."]}))
    if loop is not None:
        rows.append(_Row(0, {}, f"-- back to step {loop + 1} --"))
    return rows
