"""`migcheck doc SPEC`: the locking rules of a spec, as Markdown or HTML."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

from checker.argtypes import positive_int
from checker.doc.html import render_html
from checker.doc.locking import build_document
from checker.doc.markdown import render_markdown
from checker.dsl.loader import load_program
from checker.explore.result import CheckResult, Stats
from checker.explore.run import check
from checker.fsio import write_text_atomic
from checker.ir.build import build_all
from checker.ir.nodes import TransitionSystem
from checker.locks.explore import DEFAULT_MAX_STATES, Progress
from checker.locks.search import ENGINES, Engine
from checker.locks.summary import SpecLocks, summarize
from checker.sema.check import parse_override
from checker.textsafe import visible
from checker.vm.tiered import default_engine

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
    d.add_argument("--progress", action="store_true",
                   help="print progress lines on standard error even when it is not a "
                        "terminal (on a terminal a progress line is always shown)")


def lock_engine_arg(p: argparse.ArgumentParser) -> None:
    """`--lock-engine`: the lock search's engine; `python`, the reference
    search, is the oracle the compiled one is tested against."""
    p.add_argument("--lock-engine", choices=ENGINES, default="auto",
                   help="the lock search: auto (default: Python for tiny scenarios, else the "
                        "compiled VM), vm, or python (the reference search; same output)")


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
               show: Show | None = None, engine: Engine = "auto") -> SpecLocks:
    """The lock facts of every scenario, with the checker's verdicts
    (`run_check`), telling `show` where the runs are; `engine`: the lock search's."""
    results: dict[str, CheckResult] = {}
    n = len(systems)
    where = {ts.scenario: f"{ts.scenario} ({k}/{n})" for k, ts in enumerate(systems, 1)}
    if run_check:
        from checker.explore.options import CheckOptions

        opts = CheckOptions().max_states(max_states)
        for ts in systems:
            results[ts.scenario] = check(ts, opts, _check_progress(show, where[ts.scenario]),
                                         engine=default_engine(opts.search))

    def lock_progress(scenario: str) -> Progress | None:
        if show is None:
            return None
        show(f"lock search {where[scenario]}", True)
        return _search_progress(show, f"lock search {where[scenario]}")

    return summarize(systems, results, max_states, lock_progress, engine)


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
        sl = spec_locks(systems, args.max_states, not args.no_check, show, args.lock_engine)
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
