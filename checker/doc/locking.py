"""The locking-rules document of a spec (`migcheck doc`), built from the lock
facts of its scenarios (`checker.locks.summary`), never from its source text
alone: what it says was checked over every reachable state."""

from __future__ import annotations

from dataclasses import replace

from checker.doc.model import (
    Block,
    Bullets,
    Code,
    Details,
    Document,
    Graph,
    GraphEdge,
    GraphNode,
    Heading,
    Para,
    Table,
)
from checker.ir.display import line_label
from checker.locks.summary import FieldRule, OrderEdge, Race, Ref, SpecLocks
from checker.trace.model import Trace
from checker.trace.text import render


def trace_body(trace: Trace) -> str:
    """The per-thread columns of a trace, without its header and final state."""
    lines = render(trace).splitlines()
    start = lines.index("") + 1 if "" in lines else 0
    body = lines[start:]
    if "shared state at the end:" in body:
        body = body[: body.index("shared state at the end:")]
    while body and not body[-1].strip():
        body.pop()
    return "\n".join(body)


def moving_threads(trace: Trace) -> Trace:
    """The trace with a column only for the threads that take a step in it:
    a witness of a five-thread scenario is often one or two threads' run,
    and empty columns would make up most of its text."""
    moved = {s.thread for s in trace.steps}
    return replace(trace, threads=[t for t in trace.threads if t.id in moved])


# The runs the default document shows, in characters of trace text: the
# findings' runs are chosen shortest first until this much is shown, so the
# budget covers as many findings as it can; the rest are counted and left to
# `--examples`, so that even a spec with hundreds of findings gives a
# document a reviewer can read (and a patch can carry).
WITNESS_BUDGET = 60_000


class Witnesses:
    """The example runs of one document: every run with `examples`, else one
    folded run per finding, each run shown once, those of `plan` only.

    The document is built twice: a first pass with `collecting` set records
    the runs every finding asks for (and shows none), `plan` picks those that
    fit the budget, and the second pass shows them."""

    def __init__(self, sl: SpecLocks, examples: bool) -> None:
        self.sl = sl
        self.examples = examples
        self.collecting = not examples
        self.wanted: dict[Ref, tuple[str, int]] = {}  # run -> (body, steps)
        self.allowed: set[Ref] = set()
        self.shown: dict[Ref, int] = {}  # run -> its number in the document
        self.left_out = 0

    def _body(self, ref: Ref, message: str) -> tuple[str, int]:
        trace = self.sl.trace(ref, message)
        if not self.examples:
            trace = moving_threads(trace)
        return trace_body(trace), len(trace.steps)

    def block(self, ref: Ref, message: str) -> list[Block]:
        """The folded run to `ref`; nothing when left out (counted), and a
        pointer back when the same run was already shown."""
        if self.collecting:
            if ref not in self.wanted:
                self.wanted[ref] = self._body(ref, message)
            return []
        if not self.examples and ref in self.shown:
            return [Para(f"(The same run as run {self.shown[ref]} above.)")]
        if not self.examples and ref not in self.allowed:
            self.left_out += 1
            return []
        body, n = self._body(ref, message)
        number = self.shown.setdefault(ref, len(self.shown) + 1)
        return [Details(f"run {number} ({ref.scenario}, {n} step{'s' if n != 1 else ''})",
                        [Code(body)])]

    def plan(self) -> None:
        """Choose the runs to show, shortest first, within `WITNESS_BUDGET`."""
        used = 0
        for ref, (body, _) in sorted(self.wanted.items(), key=lambda kv: len(kv[1][0])):
            if used + len(body) > WITNESS_BUDGET:
                break
            used += len(body)
            self.allowed.add(ref)
        self.collecting = False

    def note(self) -> list[Block]:
        """What the budget left out, if anything, and how to see it."""
        if not self.left_out:
            return []
        return [Para(f"{self.left_out} more run{'s are' if self.left_out != 1 else ' is'} "
                     "left out to keep this document short; `migcheck doc --examples` "
                     "shows every run.")]


def _locks(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "none"


def _options(b: dict[str, int | bool]) -> str:
    return ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                     for k, v in b.items()) or "-"


def _check_text(verdict: str | None, status: str | None, found: list[str]) -> str:
    if verdict is None:
        return "not checked"
    what = "verified" if verdict == "verified" else (
        "incomplete" if verdict == "incomplete" else (found[0] if found else "violation"))
    return f"{what}, {'as expected' if status == 'met' else (status or '')}"


def build_document(sl: SpecLocks, examples: bool = False) -> Document:
    """The document; `examples` adds every example run (both accesses of each
    race, per scenario) instead of one folded run per finding."""
    doc = Document(f"Locking rules: {sl.spec}")
    total = sum(s.states for s in sl.scenarios)
    doc.add(Para(
        f"Generated by `migcheck doc` from the model itself: {len(sl.scenarios)} scenario"
        f"{'s' if len(sl.scenarios) != 1 else ''}, {total:,} reachable states in all. "
        "Each thread's held locks are tracked along every interleaving, so every statement "
        "below holds in every reachable state of the scenarios listed, not only in one run. "
        "Regenerate it rather than edit it."))
    if not sl.complete:
        doc.add(Para("**Incomplete**: the search of some scenario was cut short by the "
                     "state limit; the facts below cover only the states explored."))
    runs = Witnesses(sl, examples)
    if runs.collecting:  # the first pass: which runs the findings ask for
        _sections(Document(doc.title), sl, runs)
        runs.plan()
    _sections(doc, sl, runs)
    doc.add(*runs.note())
    return doc


def _sections(doc: Document, sl: SpecLocks, runs: Witnesses) -> None:
    _scenarios(doc, sl)
    _classes(doc, sl)
    _order(doc, sl, runs)
    _fields(doc, sl, runs)
    _sequences(doc, sl)
    _must_hold(doc, sl, runs)


def _scenarios(doc: Document, sl: SpecLocks) -> None:
    doc.add(Heading(2, "Scenarios", "scenarios"))
    rows = []
    for s in sl.scenarios:
        states = f"{s.states:,}" + ("" if s.complete else " (incomplete)")
        rows.append([f"`{s.name}`", _options(s.bindings), ", ".join(s.threads), states,
                     f"expect {s.expect}", _check_text(s.verdict, s.status, s.found)])
    doc.add(Table(["scenario", "options", "threads", "reachable states", "expectation",
                   "check"], rows))


def _classes(doc: Document, sl: SpecLocks) -> None:
    doc.add(Heading(2, "Locks", "locks"))
    if not sl.classes:
        doc.add(Para("No thread takes a lock: no procedure it calls is annotated with "
                     "`__acquires` or `__cond_acquires`."))
        return
    doc.add(Para("A *spinning* lock puts its holder in atomic context: acquiring it raises "
                 "the count that `might_sleep()` requires to be zero, so nothing may sleep "
                 "while it is held. A *sleeping* lock does not."))
    doc.add(Table(["lock class", "kind", "taken as", "instances", "taken by"],
                  [[f"`{c.name}`", c.kind, ", ".join(c.ops), _locks(c.instances),
                    ", ".join(c.threads)] for c in sl.classes]))
    _irq_usage(doc, sl)
    if any(c.kind == "unknown" for c in sl.classes):
        doc.add(Para("*unknown*: no step of the model calls `might_sleep()`, so nothing "
                     "tells a spinning lock from a sleeping one."))


def _irq_usage(doc: Document, sl: SpecLocks) -> None:
    """Each class's context usage in lockdep's notation, where handlers run."""
    if not any(c.usage for c in sl.classes):
        return
    doc.add(Para("Context usage, in lockdep's notation: {IN-HARDIRQ-W} taken in a hardirq "
                 "handler, {HARDIRQ-ON-W} taken with hardirqs enabled, and the same for "
                 "softirqs (`-R`: the reader side). A class used in a handler and elsewhere "
                 "with that interrupt enabled is an *inconsistent lock state*: the handler "
                 "can interrupt the holder on its CPU and spin forever."))
    rows = []
    for c in sl.classes:
        bad = "; ".join(f"inconsistent {{{u}}} -> {{{e}}}" for u, e in c.inconsistent)
        rows.append([f"`{c.name}`", " ".join(f"{{{u}}}" for u in c.usage) or "-",
                     f"**{bad}**" if bad else "consistent"])
    doc.add(Table(["lock class", "usage", "lockdep"], rows))


def _graph(sl: SpecLocks, alert: set[tuple[str, str]]) -> Graph:
    ids = {c.name: f"L{k}" for k, c in enumerate(sl.classes)}
    nodes = [GraphNode(ids[c.name], c.name, c.kind) for c in sl.classes]
    edges = [GraphEdge(ids[e.src], ids[e.dst], "read" if e.shared else "", not e.taken,
                       (e.src, e.dst) in alert) for e in sl.edges]
    return Graph(nodes, edges)


def _edge_where(e: OrderEdge) -> str:
    return " / ".join(e.sites)


def _order(doc: Document, sl: SpecLocks, runs: Witnesses) -> None:
    doc.add(Heading(2, "Lock order", "lock-order"))
    if not sl.edges:
        doc.add(Para("No thread ever holds one lock while it acquires another."))
    else:
        alert = {(e.src, e.dst) for c in sl.cycles for e in c.edges}
        alert |= {(o.breaking.src, o.breaking.dst) for o in sl.orders if o.breaking}
        doc.add(Para("An edge A → B: in some reachable state a thread holding A acquires B "
                     "(dashed: only waits for it). Trylocks add no edge, since they never "
                     "wait; `read` marks a shared acquisition."))
        doc.add(_graph(sl, alert))
        doc.add(Table(["held", "acquired", "where", "scenarios"],
                      [[f"`{e.src}`", f"`{e.dst}`" + ("" if e.taken else " (waits only)"),
                        _edge_where(e), ", ".join(e.scenarios)] for e in sl.edges]))
    doc.add(Heading(3, "Cycles", "cycles"))
    if not sl.cycles:
        doc.add(Para("None: the lock-order graph has no cycle, so no set of threads can "
                     "wait for each other's locks in any order the model exercises."))
    for k, cyc in enumerate(sl.cycles, 1):
        chain = " → ".join(f"`{c}`" for c in [*cyc.classes, cyc.classes[0]])
        if cyc.nested_order:
            orders = "; ".join(f"{scen}: " + " → ".join(f"`{i}`" for i in order)
                               for scen, order in cyc.nested_order.items())
            doc.add(Para(
                f"**Potential deadlock {k}** (one class nested in itself): {chain}. Two "
                "threads nesting two of these locks in opposite orders would wait forever. "
                "In every reachable state of this model the instances were nested in one "
                f"order ({orders}), so this configuration cannot deadlock here; a larger "
                "one can if the order is not a rule of the protocol (lockdep would want "
                "a `_nested` annotation)."))
        else:
            doc.add(Para(f"**Potential deadlock {k}**: {chain}. Threads taking these locks "
                         "in these orders at the same time would wait forever, even if "
                         "this configuration never reaches that state."))
        for e in cyc.edges:
            doc.add(Para(f"`{e.src}` → `{e.dst}`: {_edge_where(e)}"))
            doc.add(*runs.block(e.first, f"acquires {e.dst} holding {e.src}"))
    doc.add(Heading(3, "Declared order", "declared-order"))
    if not sl.orders:
        doc.add(Para("The spec declares no `lock_order`. Declare the intended order "
                     "(`lock_order page -> zspage.lock;`) to have it checked here."))
    for o in sl.orders:
        chain = " -> ".join(o.names)
        unknown = [n for n, c in zip(o.names, o.classes, strict=True) if not c]
        aliases = [f"`{n}` is {_locks(c)}" for n, c in zip(o.names, o.classes, strict=True)
                   if c and c != [n]]
        note = "".join([
            f" ({'; '.join(aliases)})" if aliases else "",
            f" (never taken in this model: {', '.join(f'`{n}`' for n in unknown)})"
            if unknown else ""])
        if o.breaking is None:
            doc.add(Para(f"`lock_order {chain}`: **kept** in every reachable state{note}."))
            continue
        e = o.breaking
        doc.add(Para(f"`lock_order {chain}`: **broken**{note}: a thread holding `{e.src}` "
                     f"acquires `{e.dst}` ({_edge_where(e)}). The first run that does it:"))
        doc.add(*runs.block(e.first, f"acquires {e.dst} holding {e.src}"))


def _rule_cell(f: FieldRule, n_scenarios: int) -> str:
    groups = f.groups()
    if len(groups) == 1 and len(groups[0][1]) == n_scenarios:
        return groups[0][0]
    return "; ".join(f"{text} (in {', '.join(scens)})" for text, scens in groups)


def _fields(doc: Document, sl: SpecLocks, runs: Witnesses) -> None:
    doc.add(Heading(2, "Shared fields", "fields"))
    if not sl.fields:
        doc.add(Para("No thread touches shared state."))
        return
    doc.add(Para("The locks held at the accesses of each shared field, over all reachable "
                 "states of each scenario. A write counts only the locks it holds "
                 "exclusively; two accesses by different threads, one of them a write, that "
                 "hold no common lock are a race, unless both are atomic. The steps of the "
                 "lock operations themselves are not counted."))
    doc.add(Table(["field", "accessed by", "written by", "rule"],
                  [[f"`{f.name}`", ", ".join(f.threads), ", ".join(f.writers) or "-",
                    _rule_cell(f, len(sl.scenarios))] for f in sl.fields]))
    _atomics(doc, sl)
    findings = _race_findings(sl, runs.examples)
    if not findings:
        return
    doc.add(Heading(3, "Accesses that hold no common lock", "races"))
    doc.add(Para("Each entry below is a write and an access by another thread with no lock "
                 "in common, and not both atomic, with "
                 + ("a shortest run to each. " if runs.examples else
                    "a shortest run to one of them (`--examples`: to both, per scenario). ")
                 + "Not every such pair is a bug (the protocol may order them by other "
                 "means, such as a flag or a reference), but each needs that argument."))
    for k, (scens, race, names) in enumerate(findings, 1):
        w, o = race.write, race.other
        fields = ", ".join(f"`{n}`" for n in names)
        label = "" if runs.examples else f"**Race {k}**: "
        doc.add(Para(f"{label}{fields} ({', '.join(scens)}): {w.what} `{w.text}` holding "
                     f"{_locks(w.held)}; {o.what} `{o.text}` holding {_locks(o.held)}."))
        shown = (w, o) if runs.examples else (min((w, o), key=lambda r: r.first.steps),)
        for r in shown:
            doc.add(*runs.block(r.first, f"{r.mode}s {names[0]} holding "
                                         f"{', '.join(r.held) or 'no lock'}"))


Finding = tuple[list[str], Race, list[str]]  # scenarios, the shortest pair, fields


def _race_findings(sl: SpecLocks, per_scenario: bool) -> list[Finding]:
    """The lock-free pairs of non-atomic accesses. The fields of one word are
    usually read and written together, and one pair of statements races in
    every scenario that runs both: one finding per pair of statements (per
    scenario too with `per_scenario`), naming every field and scenario."""
    merged: dict[tuple[object, ...], Finding] = {}
    for f in sl.fields:
        for scen, race in f.races:
            w, o = race.write, race.other
            key = (scen if per_scenario else "", w.thread_kind, w.file, w.line, tuple(w.held),
                   o.thread_kind, o.file, o.line, o.mode, tuple(o.held))
            got = merged.setdefault(key, ([], race, []))
            if scen not in got[0]:
                got[0].append(scen)
            if f.name not in got[2]:
                got[2].append(f.name)
            if _steps(race) < _steps(got[1]):
                merged[key] = (got[0], race, got[2])
    return list(merged.values())


def _steps(race: Race) -> int:
    return min(race.write.first.steps, race.other.first.steps)


def _atomics(doc: Document, sl: SpecLocks) -> None:
    """The fields whose lock-free accesses are all atomic operations, with
    the statements that make them: no race, and no witness needed."""
    rows: dict[str, dict[str, None]] = {}
    for f in sl.fields:
        for v in f.by_scenario.values():
            for r in v.atomics:
                sites = rows.setdefault(f.name, {})
                for a in (r.write, r.other):
                    sites[f"{a.thread_kind} {a.mode}s at "
                          f"{line_label(a.file, a.line, sl.spec)} `{a.text}`"
                          + ("" if a.atomic else " (one load)")] = None
    if not rows:
        return
    doc.add(Heading(3, "Atomic accesses", "atomic"))
    doc.add(Para("Accesses without a common lock that are not races: each write runs an "
                 "`atomic { }` block (the spec's atomic operations, such as a reference "
                 "count's get and put or an atomic bit operation), and each access it "
                 "meets is atomic too or a single load (an atomic read). A value updated "
                 "as a load and a later store, or by a plain store, is still listed as a "
                 "race."))
    doc.add(Table(["field", "lock-free accesses"],
                  [[f"`{name}`", "; ".join(sites)] for name, sites in rows.items()]))


def _sequences(doc: Document, sl: SpecLocks) -> None:
    doc.add(Heading(2, "Acquisition sequences", "sequences"))
    if not sl.sequences:
        doc.add(Para("No thread takes a lock."))
        return
    doc.add(Para("Per thread kind, its lock operations in program order, with the locks "
                 "it holds at each (alternatives separated by `|`)."))
    for kind, rows in sl.sequences.items():
        doc.add(Heading(3, kind))
        doc.add(Table(["#", "operation", "lock", "line", "statement", "holding"],
                      [[str(k), r.op, f"`{r.lock_class}`", line_label(r.file, r.line, sl.spec), f"`{r.text}`",
                        " | ".join(r.held)] for k, r in enumerate(rows, 1)]))


def _must_hold(doc: Document, sl: SpecLocks, runs: Witnesses) -> None:
    if not sl.must_hold:
        return
    doc.add(Heading(2, "`__must_hold` broken", "must-hold"))
    items = []
    for m in sl.must_hold:
        items.append(f"{m.thread_kind} ({m.scenario}) calls a `__must_hold({m.lock_class})` "
                     "procedure without holding it")
    doc.add(Bullets(items))
    for m in sl.must_hold:
        doc.add(*runs.block(m.first, f"needs {m.lock_class}, not held"))
