"""Draw a counterexample as per-thread columns, time running down the page,
in the shape of the race diagrams of kernel commit messages:

       T1 zs_map_object(H0)              T2 zs_page_migrate(P0)
    1  41  pin_tag(handle);
             handle[0].pin: false -> true
    2                                    97  if (!trypin_tag(h)) goto unpin;
"""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence

from checker.ir.display import line_label
from checker.textsafe import visible
from checker.trace.model import HeldLock, LockReport, Step, ThreadInfo, Trace
from checker.trace.race import rewrite_text

MAX_COL = 56
MIN_COL = 24


def _cell(trace: Trace, step: Step, width: int, show_inner: bool = False) -> list[str]:
    """A step's lines: its line (with its file's name when a module's), the
    statement, what it changed, the stores that changed nothing, its fault."""
    where = line_label(step.file, step.line, trace.spec)
    lines = textwrap.wrap(f"{where:>3}  {step.text}", width, subsequent_indent="     ") or [""]
    if (step.fault or show_inner) and step.inner and step.inner != step.text:
        lines += textwrap.wrap(f"     in {step.inner}", width, subsequent_indent="        ")
    for ch in step.changes:
        if ch.frame:
            continue
        lines += textwrap.wrap(f"       {ch.var}: {ch.before} -> {ch.after}", width,
                               subsequent_indent="         ")
    for ch in step.rewrites:
        lines += textwrap.wrap(f"       {rewrite_text(trace, step, ch)}", width,
                               subsequent_indent="         ")
    if step.warning:
        lines += textwrap.wrap(f"     WARNING: {step.warning}", width,
                               subsequent_indent="        ")
    if step.fault:
        lines += textwrap.wrap(f"     !! {step.fault}", width, subsequent_indent="        ")
    return lines


def _repeated_rows(steps: list[Step]) -> set[int]:
    """Indices of steps drawn on the same spec line as the same thread's step
    before or after it but running a different statement inside a call
    (PageMovable()'s lock assertion, then its read of page->mapping): those
    rows also name the inner statement, so that two identical rows never
    stand for two different steps."""
    by_thread: dict[int, list[Step]] = {}
    for s in steps:
        by_thread.setdefault(s.thread, []).append(s)
    marked: set[int] = set()
    for own in by_thread.values():
        for a, b in itertools.pairwise(own):
            if (a.line, a.file, a.text) == (b.line, b.file, b.text) and a.inner != b.inner:
                marked.update((a.index, b.index))
    return marked


def render(trace: Trace, full_state: bool = False) -> str:
    """The whole trace; the shared state at the end limited to what the
    violation involves (Trace.focus) unless `full_state`."""
    out: list[str] = []
    repeated = _repeated_rows(trace.steps)
    name = f" '{trace.name}'" if trace.name else ""
    what = "warning trace" if trace.kind == "warning" else "counterexample"
    out.append(f"{what}: {trace.kind}{name}: {trace.message}")
    opts = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                     for k, v in trace.bindings.items())
    out.append(f"  spec {trace.spec}, scenario {trace.scenario}" + (f" ({opts})" if opts else ""))
    n = len(trace.steps)
    out.append(f"  {n} step{'s' if n != 1 else ''}" +
               (", the last one faults" if trace.steps and trace.steps[-1].fault else ""))
    out.append("")
    threads = trace.threads
    col_of = {t.id: i for i, t in enumerate(threads)}
    widths = []
    for t in threads:
        w = max([len(f"T{t.id} {t.label}")] + [
            len(line) for s in trace.steps if s.thread == t.id
            for line in _cell(trace, s, MAX_COL, s.index in repeated)
        ] + [MIN_COL])
        widths.append(min(w, MAX_COL))
    gap = "  "
    header = "      " + gap.join(f"T{t.id} {t.label}"[:w].ljust(w)
                                 for t, w in zip(threads, widths, strict=True))
    out.append(header.rstrip())
    out.append("      " + gap.join("-" * w for w in widths))
    for s in trace.steps:
        if trace.loop_start is not None and s.index == trace.loop_start + 1:
            out.append(f"      ---- from here the run repeats forever (steps {s.index}..{n}) ----")
        col = col_of[s.thread]
        cell = _cell(trace, s, widths[col], s.index in repeated)
        for k, line in enumerate(cell):
            prefix = f"{s.index:>4}  " if k == 0 else "      "
            parts = [" " * w for w in widths]
            parts[col] = line.ljust(widths[col])
            out.append((prefix + gap.join(parts)).rstrip())
    if trace.loop_start is not None:
        out.append(f"      ---- back to step {trace.loop_start + 1} ----")
    if trace.kind in ("deadlock", "starvation") and trace.blocked:
        out.append("")
        out.append("threads that cannot move:" if trace.kind == "deadlock"
                   else "threads left unfinished forever by the cycle:")
        for t in threads:
            if t.id in trace.blocked:
                out.append(f"  T{t.id} {t.label}: {trace.blocked[t.id]}")
    if trace.locks is not None:
        out.append("")
        out.extend(lock_report_lines(trace, trace.locks))
    state = trace.final_state if full_state else end_state(trace)
    if trace.final_state:
        out.append("")
        out.append("shared state at the end:")  # checker.doc.locking cuts the trace here
        items = [f"{k} = {v}" for k, v in state.items()]
        out.extend(textwrap.wrap("  ".join(items), 100, initial_indent="  ",
                                 subsequent_indent="  ", break_on_hyphens=False))
        left = len(trace.final_state) - len(state)
        if left:
            out.append(f"  (what the violation involves; {left} more location"
                       f"{'s' if left != 1 else ''}: --full-state shows them)")
    return visible("\n".join(out))  # spec text never reaches a terminal raw


def end_state(trace: Trace) -> dict[str, str]:
    """The part of the final shared state the violation involves: the
    locations its condition, fault or blocked guards read (Trace.focus). A
    trace saved without a focus keeps all of it."""
    if not trace.focus:
        return trace.final_state
    focus = set(trace.focus)
    return {k: v for k, v in trace.final_state.items() if k in focus}


def lock_name(instance: str, lock_class: str) -> str:
    """A lock as lockdep names it, by its class (`&zspage->lock`, a static
    lock by its variable), with the instance this run used."""
    if lock_class == instance:
        return instance
    return f"&{lock_class.replace('.', '->')} ({instance})"


def _held_line(k: int, h: HeldLock) -> str:
    mode = " [read]" if h.shared else ""
    kind = " [spinning]" if h.spinning else ""
    return (f" #{k}: {lock_name(h.lock, h.lock_class)}{mode} at {h.file}:{h.line} "
            f"({h.how}), step {h.step}{kind}")


def _cpu_wait(reads: Sequence[str]) -> str | None:
    """What a thread blocked by its CPU (checker.ir.contexts) waits for: the
    CPU's current task to become preemptible, or a handler to finish."""
    for name in reads:
        if name.startswith("cpu") and name.endswith(".curr"):
            return (f"  waiting for CPU {name[3:-5]}: its current task cannot be preempted "
                    "(preempt_count raised, interrupts or bottom halves off)")
        if name.startswith(("hardirq_count@cpu", "softirq_serving@cpu")):
            return (f"  waiting for CPU {name.rsplit('@cpu', 1)[1]}: an interrupt handler "
                    "running there must finish first")
    return None


def lock_report_lines(trace: Trace, rep: LockReport) -> list[str]:
    """The lockdep-style report: for a deadlock, what each blocked thread
    waits for and who holds it; for sleeping in atomic context, the
    preemption count and where it was raised; then each thread's held
    locks with the line that took each ("2 locks held by T1/compactor:")."""
    info: dict[int, ThreadInfo] = {t.id: t for t in trace.threads}

    def who(tid: int) -> str:
        t = info.get(tid)
        return f"T{tid}/{t.label}" if t is not None else f"T{tid}"

    out: list[str] = []
    by_lock = {(tid, h.lock): h for tl in rep.threads for h in tl.held for tid in [tl.thread]}
    if rep.kind == "deadlock":
        out.append("*** DEADLOCK ***" if trace.loop_start is None
                   else "*** LIVELOCK: the run repeats forever ***")
        for tl in rep.threads:
            w = tl.wait
            if w is None:
                continue
            out.append(f"{who(tl.thread)} is blocked at {w.file}:{w.line}: {w.text}")
            if not w.lock:
                cpu = _cpu_wait(w.reads)
                if cpu is not None:
                    out.append(cpu)
                    continue
                over = f" over {', '.join(w.reads)}" if w.reads else ""
                out.append(f"  waiting for a condition{over} (an event: no held lock covers it)")
                continue
            holders = [f"{who(t)} since {by_lock[t, w.lock].file}:{by_lock[t, w.lock].line} "
                       f"({by_lock[t, w.lock].how})" for t in w.holders if (t, w.lock) in by_lock]
            cls = next((h.lock_class for h in by_lock.values() if h.lock == w.lock), w.lock)
            out.append(f"  waiting for {lock_name(w.lock, cls)}, held by "
                       + ("; ".join(holders) if holders else "no running thread (leaked?)"))
    elif rep.kind == "held":
        out.append("locks held when it happened:")
    else:
        last = trace.steps[-1] if trace.steps else None
        at = f" at {last.file}:{last.line}" if last is not None else ""
        out.append(f"BUG: sleeping function called from invalid context{at}")
        for tl in rep.threads:
            if tl.preempt_count is None:
                continue
            out.append(f"in_atomic(): {int(tl.preempt_count > 0)}, "
                       f"preempt_count: {tl.preempt_count}, {who(tl.thread)}")
            spins = [h for h in tl.held if h.spinning]
            if spins:
                out.append("Preemption disabled at:")
                out.extend(f" {h.file}:{h.line} ({h.how}) {lock_name(h.lock, h.lock_class)}"
                           for h in spins)
    for tl in rep.threads:
        if not tl.held:
            continue
        n = len(tl.held)
        out.append(f"{n} lock{'s' if n != 1 else ''} held by {who(tl.thread)}:")
        out.extend(_held_line(k, h) for k, h in enumerate(tl.held))
    return out
