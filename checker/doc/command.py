"""`migcheck doc SPEC`: the locking rules of a spec, as Markdown or HTML."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from rich.console import Console

from checker.argtypes import positive_int
from checker.doc.html import render_html
from checker.doc.locking import build_document
from checker.doc.markdown import render_markdown
from checker.dsl.loader import load_program
from checker.explore.options import CheckOptions
from checker.explore.result import CheckResult, Stats
from checker.explore.run import check
from checker.forked import in_order
from checker.fsio import write_text_atomic
from checker.ir.build import build_all
from checker.ir.nodes import TransitionSystem
from checker.locks.explore import DEFAULT_MAX_STATES, LockFacts, Progress
from checker.locks.search import ENGINES, Engine, search_locks
from checker.locks.summary import SpecLocks, merge, summarize
from checker.sema.check import parse_override
from checker.textsafe import visible
from checker.vm.tiered import default_engine, machine_cores

EXIT_OK, EXIT_USAGE, EXIT_INCOMPLETE = 0, 2, 3


def add_doc_parser(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                   spec_args: Callable[[argparse.ArgumentParser], None]) -> None:
    d = sub.add_parser("doc", help="write the locking rules of a spec (Markdown or HTML)")
    spec_args(d)
    d.add_argument("-o", "--output", metavar="FILE",
                   help="write here (default: standard output); .html selects HTML")
    d.add_argument("--format", dest="doc_format", choices=("markdown", "html"),
                   help="markdown (default, with a Mermaid lock graph) or html (self-contained)")
    d.add_argument("--skip-tag", action="append", default=[], metavar="TAG",
                   help="leave out scenarios with this tag (e.g. slow); repeatable")
    d.add_argument("--max-states", type=positive_int, default=DEFAULT_MAX_STATES, metavar="N",
                   help=f"explore at most N states per scenario (default {DEFAULT_MAX_STATES:,})")
    d.add_argument("--no-check", action="store_true",
                   help="do not run the checker for the verdict column")
    d.add_argument("--examples", action="store_true",
                   help="add every example run (both accesses of each race, per scenario); "
                        "by default each finding has one folded run, within a size budget")
    lock_engine_arg(d)
    jobs_arg(d)
    d.add_argument("--progress", action="store_true",
                   help="print progress lines on standard error even when it is not a "
                        "terminal (on a terminal a progress line is always shown)")


def lock_engine_arg(p: argparse.ArgumentParser) -> None:
    """`--lock-engine`: the lock search's engine; `python`, the reference
    search, is the oracle the compiled one is tested against."""
    p.add_argument("--lock-engine", choices=ENGINES, default="auto",
                   help="the lock search: auto (default: Python for tiny scenarios, else the "
                        "compiled VM), vm, or python (the reference search; same output)")


def jobs_arg(p: argparse.ArgumentParser) -> None:
    """`--jobs`: the scenarios' lock searches and checks run J at a time."""
    p.add_argument("--jobs", "-j", type=positive_int, metavar="J",
                   help="run the scenarios' lock searches and checks J at a time, each a job "
                        "on its own process (default: the machine's cores; memory: up to J "
                        "searches at once); the output is the same for any J")


Show = Callable[[str, bool], None]  # (text, whether to show it even if one was just shown)
PLAIN_EVERY = 2.0  # seconds between two plain progress lines


@contextmanager
def progress_line(err: Console, asked: bool) -> Iterator[Show | None]:
    """Where `doc` reports its progress: the status line `check` shows, on a
    terminal; plain lines every few seconds when asked for (`--progress`),
    so that a log shows which scenario a long run is at; else nowhere."""
    if err.is_terminal:
        with err.status("migcheck doc") as status:
            yield lambda text, _force: status.update(text)
    elif asked:
        last = [float("-inf")]

        def show(text: str, force: bool) -> None:
            now = time.monotonic()
            if force or now - last[0] >= PLAIN_EVERY:
                last[0] = now
                err.print(f"migcheck doc: {text}", highlight=False)

        yield show
    else:
        yield None


def _search_progress(show: Show, what: str) -> Progress:
    start = time.monotonic()

    def report(pairs: int, queued: int) -> None:
        rate = pairs / max(time.monotonic() - start, 1e-9)
        show(f"{what}: {pairs:,} (state, locks) pairs, {queued:,} queued, {rate:,.0f}/s", False)

    return report


def spec_locks(systems: list[TransitionSystem], max_states: int, run_check: bool,
               show: Show | None = None, engine: Engine = "auto", jobs: int = 1) -> SpecLocks:
    """The lock facts of every scenario, with the checker's verdicts
    (`run_check`), telling `show` where the runs are; `engine`: the lock
    search's. With `jobs` above 1, the scenarios run that many at a time,
    each in a forked process (`_on_processes`); else one after another
    here, each check on the machine's cores. The result is the same."""
    if jobs > 1 and len(systems) > 1:
        return _on_processes(systems, max_states, run_check, show, engine, jobs)
    results: dict[str, CheckResult] = {}
    n = len(systems)
    where = {ts.scenario: f"{ts.scenario} ({k}/{n})" for k, ts in enumerate(systems, 1)}
    if run_check:
        opts = CheckOptions().max_states(max_states)
        for ts in systems:
            results[ts.scenario] = check(ts, opts, _check_progress(show, where[ts.scenario]),
                                         engine=default_engine(opts.search, machine_cores()))

    def lock_progress(scenario: str) -> Progress | None:
        if show is None:
            return None
        show(f"lock search {where[scenario]}", True)
        return _search_progress(show, f"lock search {where[scenario]}")

    return summarize(systems, results, max_states, lock_progress, engine)


def _on_processes(systems: list[TransitionSystem], max_states: int, run_check: bool,
                  show: Show | None, engine: Engine, jobs: int) -> SpecLocks:
    """`spec_locks` with each scenario's lock search, and its check, as
    jobs of their own on forked processes (`checker.forked.in_order`), one
    core each: a scenario's check runs beside its lock search, so a spec
    dominated by one large scenario gains too. What comes back is pickled,
    so the facts are `detach`ed there (their witnesses' paths computed; the
    steps are compiled again here if a witness's trace is drawn) and the
    check's result comes without its compiled steps (a trace compiles them
    again)."""
    opts = CheckOptions().max_states(max_states)
    per = 2 if run_check else 1  # jobs a scenario: its lock search, then its check

    def job(i: int) -> LockFacts | CheckResult:
        ts = systems[i // per]
        if i % per:
            return replace(check(ts, opts, engine=default_engine(opts.search)), compiled=None)
        f = search_locks(ts, max_states, None, engine)
        f.detach()
        return f

    n = len(systems)
    results: dict[str, CheckResult] = {}
    facts: dict[str, LockFacts] = {}
    what = "checking and lock search" if run_check else "lock search"
    if show is not None:
        show(f"{what}: {n} scenarios, {jobs} jobs at a time", True)
    for i, got in enumerate(in_order(job, per * n, jobs)):
        ts = systems[i // per]
        if isinstance(got, LockFacts):
            got.ts = ts  # the same scenario, not a copy of it
            facts[ts.scenario] = got
        else:
            results[ts.scenario] = replace(got, ts=ts)
        if show is not None and i % per == per - 1:
            show(f"{what}: {i // per + 1}/{n} scenarios done", True)
    return merge(systems, facts, results)


def _check_progress(show: Show | None, what: str) -> Callable[[Stats], None] | None:
    if show is None:
        return None
    show(f"checking {what}", True)

    def report(st: Stats) -> None:
        show(f"checking {what}: {st.states:,} states, depth {st.depth}, "
             f"{st.states_per_second:,.0f} states/s", False)

    return report


def load_systems(args: argparse.Namespace) -> list[TransitionSystem]:
    """The scenarios named by the common spec options (SPEC, -s, -D, -I)."""
    overrides = dict(parse_override(d) for d in args.defines)
    program = load_program(args.spec, args.include)
    return build_all(program, overrides, args.scenario or None)


def cmd_doc(args: argparse.Namespace, out: Console, err: Console) -> int:
    systems = [ts for ts in load_systems(args) if not set(ts.tags) & set(args.skip_tag)]
    if not systems:
        err.print("migcheck: no scenario left to document", highlight=False)
        return EXIT_USAGE
    with progress_line(err, args.progress) as show:
        sl = spec_locks(systems, args.max_states, not args.no_check, show, args.lock_engine,
                        args.jobs or machine_cores())
        doc = build_document(sl, args.examples)
    fmt = args.doc_format or ("html" if args.output and args.output.endswith(".html")
                              else "markdown")
    text = render_html(doc) if fmt == "html" else render_markdown(doc)
    if args.output:
        try:
            write_text_atomic(args.output, text)
        except OSError as e:
            err.print(f"migcheck: cannot write {args.output}: {e.strerror or e}",
                      highlight=False)
            return EXIT_USAGE
        err.print(f"wrote {args.output}", highlight=False)
    else:
        out.file.write(visible(text))  # no raw control characters on a terminal
    return EXIT_OK if sl.complete else EXIT_INCOMPLETE
