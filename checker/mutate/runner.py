"""Run the mutants of a spec against its fixed scenarios.

The fixed scenarios (those that expect `verified`) are checked once as they
stand: a scenario that does not verify cannot judge a mutant and is left out,
with the reason. Their runs tell which statements each one executes (see
`checker.mutate.irfacts`), so a mutant is checked only against the scenarios
that execute what it changes, cheapest first, until one reports a violation.

A mutant is *killed* when a scenario finds a violation (any kind: the
scenario expects none) or a `cover` becomes unreachable (the scenario would
fail as vacuous). Each run has a state limit, by default ten times the
scenario's own state count: a search cut short is *incomplete*, which is
never a kill. A mutant no scenario kills *survived*, unless the spec declares
it harmless (`checker.mutate.harmless`).

The mutants share nothing, so `SuiteOptions.jobs` of them run at once, each
in a forked process (`checker.forked`; `migcheck mutate` runs one per core).
Their results come back in the mutants' order, and each search is the one a
single process would run, so the report does not depend on the jobs (but
for `max_seconds`, whose cuts depend on the machine's load).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from checker.dsl import ast
from checker.dsl.diagnostics import Span, SpecError
from checker.dsl.loader import Program, load_program
from checker.explore.options import CheckOptions
from checker.explore.result import CheckResult
from checker.explore.run import check
from checker.forked import in_order
from checker.ir.build import build_all
from checker.ir.nodes import TransitionSystem
from checker.mutate.harmless import Declaration, declarations
from checker.mutate.irfacts import ScenarioFacts, scenario_facts
from checker.mutate.locks import LockOps
from checker.mutate.operators import OPERATORS, Mutant, find_mutants
from checker.mutate.syntax import calls_in_stmt, module_named, stmts_under
from checker.sema.check import elaborate
from checker.sema.symbols import Elaboration
from checker.vm.tiered import default_engine

KILLED, SURVIVED, HARMLESS, INCOMPLETE, INVALID, MISDECLARED, NOT_RUN = (
    "killed", "survived", "harmless", "incomplete", "invalid", "misdeclared", "not run")


@dataclass(frozen=True)
class SuiteOptions:
    overrides: dict[str, int] = field(default_factory=dict)
    include: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()  # only these (default: every fixed scenario)
    skip_tags: tuple[str, ...] = ()  # leave out scenarios with these tags (slow)
    mutants: tuple[str, ...] = ()  # only the mutants with these ids
    modules: tuple[str, ...] = ()  # also mutate these imported modules (protocol models)
    # Also mutate the protocol models the spec imports (`protocol_models()`):
    # "yes", "no", or "if-none": when the spec's own code has nothing to mutate
    # (its protocol lives in models/, as zsmalloc 5.17's does).
    protocol_models: str = "if-none"
    max_states: int | None = None  # per mutant run; default: state_factor x the baseline
    state_factor: int = 10
    min_states: int = 20_000
    max_seconds: float | None = None  # per mutant run
    search: str = "bfs"  # bfs: shortest counterexamples; dfs: often fewer states to a kill
    list_only: bool = False  # find the mutants, run none
    skip_labels: frozenset[str] = frozenset()  # leave these out (`Mutant.label`)
    skip_declared: bool = False  # leave out the mutants declared harmless
    sample: int | None = None  # run at most this many, spread over operators and code
    jobs: int = 1  # mutants run at once, each in a forked process (`checker.forked`)


@dataclass
class Kill:
    scenario: str
    kind: str  # a violation kind, or "cover"
    name: str | None
    message: str
    steps: int | None  # trace length; None for an unreachable cover

    @property
    def what(self) -> str:
        return self.kind + (f" '{self.name}'" if self.name else "")


@dataclass
class MutantResult:
    mutant: Mutant
    outcome: str = NOT_RUN  # KILLED, SURVIVED, INCOMPLETE, INVALID, NOT_RUN
    kill: Kill | None = None
    cut_short: list[str] = field(default_factory=list)  # scenarios stopped by a limit
    error: str = ""  # why the mutant did not build
    declared: Declaration | None = None
    states: int = 0  # explored over all its runs

    @property
    def verdict(self) -> str:
        """The outcome once declarations are taken into account."""
        if self.declared is not None:
            if self.outcome == KILLED:
                return MISDECLARED
            if self.outcome in (SURVIVED, INCOMPLETE):
                return HARMLESS
        return self.outcome


@dataclass
class Skipped:
    scenario: str
    reason: str
    broken: bool = False  # it does not verify as it stands (not just left out by a tag)


@dataclass
class SpecReport:
    spec: str
    scenarios: list[str]  # fixed scenarios used
    skipped: list[Skipped]
    results: list[MutantResult]
    unused: list[Declaration]  # declarations that match no mutant
    found: list[Mutant] = field(default_factory=list)  # every mutant, before any selection

    def count(self, verdict: str) -> int:
        return sum(1 for r in self.results if r.verdict == verdict)

    @property
    def judged(self) -> int:
        """Mutants that should be killed: all but the declared-harmless ones."""
        return len(self.results) - self.count(HARMLESS)

    @property
    def killed(self) -> int:
        """Mutants a scenario killed, declared harmless or not."""
        return self.count(KILLED) + self.count(MISDECLARED)

    @property
    def kill_rate(self) -> float:
        return self.killed / self.judged if self.judged else 1.0

    @property
    def ok(self) -> bool:
        """Every fixed scenario verifies as it stands, and every mutant is
        killed or declared harmless (the exit status 0)."""
        return not any(s.broken for s in self.skipped) and \
            all(r.verdict in (KILLED, HARMLESS) for r in self.results)


def mutation_suite(spec: str, opts: SuiteOptions,
                   on_start: Callable[[SpecReport], None] | None = None,
                   on_result: Callable[[MutantResult], None] | None = None) -> SpecReport:
    """Find the mutants of `spec` and (unless `list_only`) run them;
    `on_start` sees the report before the first run, `on_result` each result."""
    program = load_program(spec, list(opts.include))
    systems = build_all(program, opts.overrides, list(opts.scenarios) or None)
    facts, skipped = _baselines([ts for ts in systems if ts.expect.kind == "verified"], opts)
    el = elaborate(program, opts.overrides)
    unknown_modules = [n for n in opts.modules
                       if not any(module_named(m, (n,)) for m in program.modules)]
    if unknown_modules:
        raise SpecError.at(Span(program.root, 0, 0, 0, 0),
                           f"the spec imports no module {', '.join(unknown_modules)}")
    modules = opts.modules
    if opts.protocol_models == "yes":
        modules = (*modules, *protocol_models(program, el))
    found = find_mutants(program, el, facts, modules)
    if not found and opts.protocol_models == "if-none":
        modules = (*modules, *protocol_models(program, el))
        found = find_mutants(program, el, facts, modules)
    decls = declarations(program, modules)
    results = [MutantResult(m, declared=next((d for d in decls if d.covers(m)), None))
               for m in _select(found, decls, program.root, opts)]
    covering = {id(d) for d in decls for m in found if d.covers(m)}
    unused = [d for d in decls if id(d) not in covering]
    report = SpecReport(program.root, [f.scenario for f in facts], skipped, results, unused,
                        found)
    if on_start is not None:
        on_start(report)
    if opts.list_only:
        return report
    states = {f.scenario: f.states for f in facts}

    def run(i: int) -> _Run:
        return _run_mutant(program, results[i].mutant, states, opts)

    with closing(in_order(run, len(results), opts.jobs)) as runs:
        for r, done in zip(results, runs, strict=True):
            r.outcome, r.kill, r.cut_short, r.error, r.states = (
                done.outcome, done.kill, done.cut_short, done.error, done.states)
            if on_result is not None:
                on_result(r)
    return report


def _baselines(fixed: list[TransitionSystem],
               opts: SuiteOptions) -> tuple[list[ScenarioFacts], list[Skipped]]:
    """Check each fixed scenario as it stands (`opts.jobs` at once); what
    its run executed. The scenarios keep their order in both lists."""
    tagged = [set(ts.tags) & set(opts.skip_tags) for ts in fixed]
    runs = [ts for ts, tags in zip(fixed, tagged, strict=True) if not tags]

    def run(i: int) -> ScenarioFacts | Skipped:
        ts = runs[i]
        base = check(ts, engine=default_engine("bfs"))
        if base.status != "met" or base.compiled is None:
            return Skipped(ts.scenario, _baseline_problem(base), broken=True)
        return scenario_facts(ts, base.compiled.fired, base.stats.states)

    with closing(in_order(run, len(runs), opts.jobs)) as done:
        outcomes = [Skipped(ts.scenario, f"tagged {', '.join(sorted(tags))}") if tags
                    else next(done) for ts, tags in zip(fixed, tagged, strict=True)]
    return ([f for f in outcomes if isinstance(f, ScenarioFacts)],
            [f for f in outcomes if isinstance(f, Skipped)])


def _select(found: list[Mutant], decls: list[Declaration], root: str,
            opts: SuiteOptions) -> list[Mutant]:
    """The mutants to run: by id, without the declared or listed ones, sampled."""
    mutants = found
    if opts.mutants:
        unknown = set(opts.mutants) - {m.ident(root) for m in mutants}
        if unknown:
            raise SpecError.at(Span(root, 0, 0, 0, 0), f"no mutant {', '.join(sorted(unknown))} "
                                                       "(migcheck mutate --list shows them)")
        mutants = [m for m in mutants if m.ident(root) in opts.mutants]
    if opts.skip_declared:
        mutants = [m for m in mutants if not any(d.covers(m) for d in decls)]
    mutants = [m for m in mutants if m.label not in opts.skip_labels]
    if opts.sample is not None:
        mutants = sample(mutants, opts.sample)
    return mutants


def protocol_models(program: Program, el: Elaboration) -> list[str]:
    """The modules of the model library that the root spec imports and that
    hold protocol code, not only primitives: a procedure, not itself a lock
    operation, that calls one (`zs_free()` in `models/zsmalloc_5_17.mig`)."""
    locks = LockOps(el)
    root = program.modules[-1]
    imported = {d.path.removesuffix(".mig") for d in root.decls if isinstance(d, ast.Import)}
    out = []
    for m in program.modules:
        if Path(m.path).stem not in imported or "models" not in Path(m.path).parts:
            continue
        for d in m.decls:
            if isinstance(d, ast.ProcDecl | ast.ThreadDecl) and d.name not in locks.ops and any(
                    locks.of_call(c) for s in stmts_under(d.body) for c in calls_in_stmt(s)):
                out.append(m.path)
                break
    return out


def sample(mutants: list[Mutant], n: int) -> list[Mutant]:
    """At most `n` mutants, taken in turn from each operator (in the order of
    `OPERATORS`) and, within one, from each function, in source order: a quick check that still touches
    every kind of edit and every function. Deterministic for a given spec."""
    per_op: dict[str, deque[deque[Mutant]]] = {}
    per_function: dict[tuple[str, str], deque[Mutant]] = {}
    for m in mutants:
        q = per_function.get((m.op, m.function))
        if q is None:
            q = per_function[(m.op, m.function)] = deque()
            per_op.setdefault(m.op, deque()).append(q)
        q.append(m)
    per_op = {op: per_op[op] for op in OPERATORS if op in per_op}
    chosen: list[Mutant] = []
    while per_op and len(chosen) < n:
        for op in list(per_op):
            functions = per_op[op]
            q = functions.popleft()
            chosen.append(q.popleft())
            if q:
                functions.append(q)
            if not functions:
                del per_op[op]
            if len(chosen) >= n:
                break
    order = {id(m): i for i, m in enumerate(mutants)}
    return sorted(chosen, key=lambda m: order[id(m)])


def _baseline_problem(r: CheckResult) -> str:
    if r.status == "incomplete":
        return f"its own check was cut short ({r.limit})"
    if r.violation is not None:
        return f"it does not verify as it stands ({r.violation.kind})"
    if not r.warnings_met:
        return "it does not verify as it stands (an unexpected or missing warning)"
    return "it does not verify as it stands (a cover is never reached)"


@dataclass
class _Run:
    """What the runs of one mutant found (sent back from a worker process)."""

    outcome: str = NOT_RUN
    kill: Kill | None = None
    cut_short: list[str] = field(default_factory=list)
    error: str = ""
    states: int = 0


def _run_mutant(program: Program, mutant: Mutant, states: dict[str, int],
                opts: SuiteOptions) -> _Run:
    r = _Run()
    mutated = mutant.apply(program)
    for name in sorted(mutant.scenarios, key=lambda n: states[n]):
        try:
            ts = build_all(mutated, opts.overrides, [name])[0]
        except SpecError as e:
            r.outcome, r.error = INVALID, e.render().splitlines()[0]
            return r
        limit = opts.max_states or max(opts.min_states, opts.state_factor * states[name])
        result = check(ts, CheckOptions().strategy(opts.search).max_states(limit)
                       .max_seconds(opts.max_seconds), engine=default_engine(opts.search))
        r.states += result.stats.states
        kill = _kill(ts, result)
        if kill is not None:
            r.outcome, r.kill = KILLED, kill
            return r
        if result.verdict == "incomplete":
            r.cut_short.append(f"{name} ({result.limit})")
    r.outcome = INCOMPLETE if r.cut_short else SURVIVED
    return r


def _kill(ts: TransitionSystem, result: CheckResult) -> Kill | None:
    v = result.violation
    if v is not None:
        return Kill(ts.scenario, v.kind, v.name, v.message, v.steps)
    if result.verdict == "verified" and result.uncovered:
        cv = result.uncovered[0]
        return Kill(ts.scenario, "cover", None, f"cover never reached: \"{cv.message}\"", None)
    return None
