"""`migcheck diff OLD [NEW]`: compare two versions of a spec.

OLD and NEW are spec files or `REV:path` (a spec at a git revision, with its
imports as they were then). With NEW left out, OLD must be `REV:path` and
NEW is that path in the working tree.
"""

from __future__ import annotations

import argparse

from rich.console import Console

from checker.argtypes import positive_int
from checker.diff.compare import SpecDiff, compare
from checker.diff.render import RENDERERS
from checker.diff.source import SpecVersion, resolve, split_rev
from checker.doc.command import jobs_arg, lock_engine_arg, spec_locks
from checker.dsl.diagnostics import Span, SpecError
from checker.dsl.loader import load_program
from checker.explore.codegen import compile_system
from checker.ir.build import build_all
from checker.locks.explore import DEFAULT_MAX_STATES
from checker.locks.summary import SpecLocks
from checker.sema.check import parse_override
from checker.textsafe import visible
from checker.trace.model import Trace, build_trace
from checker.vm.tiered import machine_cores

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


def add_diff_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    d = sub.add_parser("diff", help="compare two versions of a spec (files or REV:path)")
    d.add_argument("old", help="the old spec: a file, or REV:path (a git revision)")
    d.add_argument("new", nargs="?", help="the new spec (default: OLD's path in the work tree)")
    d.add_argument("-s", "--scenario", action="append", default=[],
                   help="compare only this scenario (repeatable)")
    d.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME=VALUE")
    d.add_argument("-I", dest="include", action="append", default=[], metavar="DIR")
    d.add_argument("--skip-tag", action="append", default=[], metavar="TAG",
                   help="leave out scenarios with this tag (e.g. slow)")
    d.add_argument("--max-states", type=positive_int, default=DEFAULT_MAX_STATES, metavar="N")
    d.add_argument("--format", choices=tuple(RENDERERS), default="text")
    lock_engine_arg(d)
    jobs_arg(d)


def _analyse(v: SpecVersion, args: argparse.Namespace) -> tuple[SpecLocks, dict[str, Trace | None]]:
    overrides = dict(parse_override(x) for x in args.defines)
    program = load_program(v.path, [*args.include, *v.includes])
    names = set(args.scenario)
    systems = [ts for ts in build_all(program, overrides)
               if (not names or ts.scenario in names) and not set(ts.tags) & set(args.skip_tag)]
    sl = spec_locks(systems, args.max_states, True, engine=args.lock_engine,
                    jobs=args.jobs or machine_cores())
    traces: dict[str, Trace | None] = {}
    for ts in systems:
        r = sl.results[ts.scenario]
        traces[ts.scenario] = None if r.violation is None else build_trace(
            r.compiled or compile_system(ts), r.violation)
    return sl, traces


def run_diff(args: argparse.Namespace) -> tuple[SpecDiff, str, bool]:
    """The comparison, its rendering, and whether both searches were complete."""
    new_arg = args.new
    if new_arg is None:
        got = split_rev(args.old)
        if got is None:
            raise SpecError.at(Span(args.old, 0, 0, 0, 0),
                               "with one argument, name a revision: REV:path")
        new_arg = got[1]
    old = resolve(args.old)
    try:
        new = resolve(new_arg)
    except BaseException:
        old.cleanup()
        raise
    try:
        old_sl, _ = _analyse(old, args)
        new_sl, traces = _analyse(new, args)
        d = compare(old_sl, new_sl, old.label, new.label, traces)
        text = RENDERERS[args.format](d)
        for v in (old, new):
            text = _relabel(text, v)
    finally:
        old.cleanup()
        new.cleanup()
    return d, text, old_sl.complete and new_sl.complete


def _relabel(text: str, v: SpecVersion) -> str:
    """Show files of an extracted revision as REV:path, not their temporary path."""
    for tmp in v._tmp:
        text = text.replace(tmp.rstrip("/") + "/", f"{v.rev}:")
    return text


def cmd_diff(args: argparse.Namespace, out: Console, err: Console) -> int:
    d, text, complete = run_diff(args)
    out.file.write(visible(text) if args.format == "text" else text)  # no raw controls
    if d.regressions:
        return EXIT_REGRESSION
    return EXIT_OK if complete else EXIT_INCOMPLETE
