"""`migcheck doc SPEC`: the locking rules of a spec, as Markdown or HTML."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from rich.console import Console

from checker.argtypes import positive_int
from checker.doc.html import render_html
from checker.doc.locking import build_document
from checker.doc.markdown import render_markdown
from checker.dsl.loader import load_program
from checker.explore.result import CheckResult
from checker.explore.run import check
from checker.fsio import write_text_atomic
from checker.ir.build import build_all
from checker.ir.nodes import TransitionSystem
from checker.locks.explore import DEFAULT_MAX_STATES
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


def spec_locks(systems: list[TransitionSystem], max_states: int, run_check: bool) -> SpecLocks:
    results: dict[str, CheckResult] = {}
    if run_check:
        from checker.explore.options import CheckOptions

        opts = CheckOptions().max_states(max_states)
        results = {ts.scenario: check(ts, opts, engine=default_engine(opts.search))
                   for ts in systems}
    return summarize(systems, results, max_states)


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
    sl = spec_locks(systems, args.max_states, not args.no_check)
    doc = build_document(sl)
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
