"""`migcheck mutate SPEC`: the command line of the mutation suite.

Exit status: 0 when every mutant is killed or declared harmless; 1 when one
survived, was cut short by a limit, did not build, or is declared harmless
but killed, or when a fixed scenario does not verify as it stands; 2 for a
usage or spec error (as for `migcheck check`), or a spec with no fixed
scenario to mutate.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.console import Console

from checker.argtypes import positive_float, positive_int
from checker.mutate.report import header, result_lines, summary
from checker.mutate.runner import (
    HARMLESS,
    KILLED,
    MutantResult,
    SpecReport,
    SuiteOptions,
    mutation_suite,
)
from checker.sema.check import parse_override
from checker.vm.tiered import machine_cores

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def add_mutate_parser(sub: Any, spec_args: Callable[[argparse.ArgumentParser], None]) -> None:
    m = sub.add_parser("mutate", help="edit the locking of the fixed scenarios' code and check "
                                      "that a violation is reported for each mutant")
    spec_args(m)
    m.add_argument("--list", action="store_true",
                   help="list the mutants (after one check of each fixed scenario) without "
                        "running them")
    m.add_argument("--mutant", "-m", action="append", default=[], metavar="ID",
                   help="run only this mutant (an id from --list, e.g. drop-lock@197); "
                        "repeatable")
    m.add_argument("--module", action="append", default=[], metavar="NAME",
                   help="also mutate this imported module (a protocol kept in models/, e.g. "
                        "zsmalloc_5_17); repeatable")
    m.add_argument("--protocol-models", choices=("yes", "no", "if-none"), default="if-none",
                   help="also mutate the models/ modules the spec imports that hold protocol "
                        "code (procedures that call lock operations, e.g. zsmalloc_5_17): "
                        "always, never, or only when the spec's own code has nothing to "
                        "mutate (default)")
    m.add_argument("--max-states", type=positive_int, metavar="N",
                   help="state limit of each mutant run (default: --state-factor times the "
                        "scenario's own states, at least 20000)")
    m.add_argument("--state-factor", type=positive_int, default=10, metavar="F",
                   help="default state limit: F times the unmutated scenario's states "
                        "(default 10)")
    m.add_argument("--max-seconds", type=positive_float, metavar="S",
                   help="time limit of each mutant run")
    m.add_argument("--skip-tag", action="append", default=[], metavar="TAG",
                   help="leave out scenarios with this tag (e.g. slow); repeatable")
    m.add_argument("--sample", type=positive_int, metavar="N",
                   help="run at most N mutants, spread over the operators and functions "
                        "(a quick check; the kill rate is then the sample's)")
    m.add_argument("--jobs", "-j", type=positive_int, metavar="J",
                   help="mutants run at once, each in its own process (default: the "
                        "machine's cores); the report is the same for any J")
    m.add_argument("--quiet", "-q", action="store_true",
                   help="show only the mutants that were not killed")


def cmd_mutate(args: argparse.Namespace, out: Console, err: Console) -> int:
    overrides = dict(parse_override(d) for d in args.defines)
    opts = SuiteOptions(overrides=overrides, include=tuple(args.include),
                        scenarios=tuple(args.scenario), skip_tags=tuple(args.skip_tag),
                        mutants=tuple(args.mutant), modules=tuple(args.module),
                        protocol_models=args.protocol_models,
                        max_states=args.max_states,
                        state_factor=args.state_factor, max_seconds=args.max_seconds,
                        list_only=args.list, sample=args.sample,
                        jobs=args.jobs or machine_cores())

    def emit(lines: list[str]) -> None:
        for line in lines:
            out.print(line, highlight=False, markup=True)  # text parts are escaped

    root = args.spec

    def on_start(report: SpecReport) -> None:
        nonlocal root
        root = report.spec
        emit(header(report))

    def on_result(r: MutantResult) -> None:
        if not args.quiet or r.verdict not in (KILLED, HARMLESS):
            emit(result_lines(r, root))

    report = mutation_suite(args.spec, opts, on_start, on_result)
    if not report.scenarios:
        err.print(f"migcheck: {report.spec}: no fixed scenario to mutate (one that expects "
                  "verified and verifies as it stands)", highlight=False)
        return EXIT_FAIL if any(s.broken for s in report.skipped) else EXIT_USAGE
    if args.list:
        for r in report.results:
            emit(result_lines(r, report.spec))
        return EXIT_OK
    emit(summary(report))
    return EXIT_OK if report.ok else EXIT_FAIL
