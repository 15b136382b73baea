"""The `migcheck` command line.

    migcheck check SPEC [SPEC|DIR]... [-s SCENARIO]... [-D NAME=VALUE]... [--dfs] [limits]
        [--format text|json|junit|sarif|itf] [--save-all | --save-trace PATH | --no-save]
    migcheck replay TRACE.json [--spec SPEC]
    migcheck list SPEC
    migcheck ir SPEC [-s SCENARIO]
    migcheck mutate SPEC [-s SCENARIO]... [--list] [-D NAME=VALUE]...  (see checker.mutate.command)
    migcheck check SPEC --engine bmc [--depth K]; migcheck prove SPEC  (see checker.symbolic.command)
    migcheck check SPEC --engine vm [--workers N]  (see checker.vm)
    migcheck check SPEC --cluster ADDRESS|local:N [--workers N]  (see checker.vm.ray_search)
    migcheck check SPEC --store bitstate[:W[:K]]|hashcompact | --simulate N | --swarm N
        [--max-depth D] [--seed S] [--jobs J]  (partial searches: checker.vm.bitstate,
        checker.explore.simulate, checker.vm.swarm; never verified)
    migcheck doc SPEC [-o FILE.md|FILE.html]  (see checker.doc.command)
    migcheck diff OLD [NEW] [--format text|json|junit|sarif]  (see checker.diff.command)
    migcheck export --promela SPEC [-s SCENARIO] [-D ...] [-o FILE.pml]  (see checker.backends.command)

Exit status: 0 every scenario met its expectation; 1 one did not (or a cover
was never reached); 2 usage or spec error; 3 a search was cut short by a
limit (and none failed); 130 interrupted (Ctrl-C). With several scenarios
or specs, the worst of theirs: 2 over 1 over 3 over 0.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checker import __version__
from checker.argtypes import natural_int, positive_float, positive_int
from checker.explore.limits import (
    LimitExceeded,
    clear_stop,
    figures,
    gc_paused,
    limit_text,
    phase,
    request_stop,
    start_process_limits,
    stop_process_limits,
)

# Everything else is imported by the command that needs it: `migcheck
# --version` and `migcheck list` start in a fraction of a second, without z3,
# numba, numpy or networkx (tests/test_cli_ux.py checks the imports).
if TYPE_CHECKING:
    from rich.console import Console

    from checker.dsl import ast
    from checker.explore.codegen import Compiled
    from checker.explore.options import CheckOptions
    from checker.explore.result import CheckResult, Stats, Violation
    from checker.explore.run import Search
    from checker.ir.nodes import TransitionSystem
    from checker.report.check import SpecFailure
    from checker.trace.model import Trace

EXIT_OK, EXIT_UNMET, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_BUG = 0, 1, 2, 3, 70
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports a SIGINT death


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _spec_args(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("spec", help="the spec file (.mig)")
    sp.add_argument("-s", "--scenario", action="append", default=[],
                    help="check only this scenario (repeatable)")
    sp.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME=VALUE",
                    help="override a constant or option (repeatable)")
    sp.add_argument("-I", dest="include", action="append", default=[], metavar="DIR",
                    help="also look for imported modules in DIR")


def _add_check_parser(sub: Any) -> None:
    from checker.report.output import CHECK_FORMATS
    from checker.symbolic.command import DEFAULT_BMC_DEPTH
    from checker.vm.tiered import VM_AFTER

    c = sub.add_parser("check", help="explore every interleaving of each scenario")
    _spec_args(c)
    # Several specs, or directories (every .mig file with a scenario below them).
    c.add_argument("more_specs", nargs="*", metavar="SPEC|DIR",
                   help="more spec files, or directories to search for specs (*.mig with a "
                        "scenario, recursively); then a summary table")
    c.add_argument("--search", choices=("bfs", "dfs"), default="bfs",
                   help="bfs finds shortest counterexamples (default); dfs uses less frontier")
    c.add_argument("--dfs", dest="search", action="store_const", const="dfs",
                   help="same as --search dfs")
    c.add_argument("--max-states", type=positive_int, metavar="N", help="stop after N states")
    c.add_argument("--max-seconds", type=positive_float, metavar="S", help="stop after S seconds")
    c.add_argument("--max-memory", type=positive_float, metavar="MB",
                   help="stop when the process uses MB megabytes")
    c.add_argument("--all-violations", action="store_true",
                   help="search on past each violation and report a shortest run of every "
                        "property broken (the explicit engines)")
    c.add_argument("--property", dest="properties", action="append", default=[],
                   metavar="NAME", help="check only this property (--list-properties names "
                                        "them); repeatable")
    c.add_argument("--list-properties", action="store_true",
                   help="list each scenario's checkable properties and stop")
    c.add_argument("--no-livelock", action="store_true",
                   help="skip the search for runs that spin forever")
    c.add_argument("--no-symmetry", action="store_true",
                   help="search 'symmetric' runs state by state (no symmetry reduction)")
    c.add_argument("--quiet", "-q", action="store_true", help="no progress line, no trace text")
    c.add_argument("--format", choices=CHECK_FORMATS, default="text",
                   help="text (default), json, junit (JUnit XML), sarif (SARIF 2.1.0), race "
                        "(each counterexample as a 72-column race diagram) or itf (each "
                        "counterexample in the Informal Trace Format, one per line)")
    c.add_argument("--full-state", action="store_true",
                   help="end a trace with the whole shared state (default: what the "
                        "violation involves)")
    c.add_argument("--html", metavar="FILE",
                   help="write the counterexamples to FILE as a self-contained HTML viewer")
    c.add_argument("--save-trace", metavar="PATH",
                   help="write the counterexample's JSON here, expected or not (text beside it "
                        "as .txt)")
    c.add_argument("--trace-dir", default="counterexamples", metavar="DIR",
                   help="where counterexamples are saved (default: counterexamples)")
    c.add_argument("--no-save", action="store_true", help="do not save counterexamples")
    c.add_argument("--save-all", action="store_true",
                   help="also save the counterexamples of expected violations (by default "
                        "only unexpected ones are saved)")
    c.add_argument("--skip-tag", action="append", default=[], metavar="TAG",
                   help="skip scenarios with this tag (e.g. slow); repeatable")
    c.add_argument("--show-unexecuted", action="store_true",
                   help="list every statement no reachable step executed (default: a count)")
    c.add_argument("--engine", choices=("explicit", "vm", "jit", "python", "bmc"),
                   default="explicit",
                   help="explicit (default): every state, in the Python engine and, past "
                        f"{VM_AFTER:,} states, in the compiled bytecode machine (numba); vm: "
                        "the machine from the first state (bfs or dfs); jit: the machine's "
                        "code compiled by LLVM (seconds per new scenario, cached; faster on "
                        "large ones); python: the Python engine alone; bmc: z3 bounded model "
                        "checking")
    c.add_argument("--store", default="auto", metavar="FORM",
                   help="the compiled machine's visited set: dense rows (fastest), tree (a "
                        "tree-compressed store, LTSmin-style, several times smaller on wide "
                        "states), auto (default: dense, then the tree past 256 MiB); or a "
                        "partial search, never verified: bitstate[:W[:K]] (a Bloom filter of "
                        "2^W bits, default 30, K hashes, default 3) or hashcompact (64-bit "
                        "hashes of the states)")
    c.add_argument("--simulate", type=positive_int, metavar="N",
                   help="N random walks from the initial state instead of a search (a "
                        "partial search: never verified); --max-depth bounds each walk")
    c.add_argument("--swarm", type=positive_int, metavar="N",
                   help="N diversified bitstate searches on the cores (seeds, successor "
                        "orders, hash functions, depth bounds under --max-depth); never "
                        "verified")
    c.add_argument("--jobs", type=positive_int, metavar="J",
                   help="--swarm: worker processes (default: the cores)")
    c.add_argument("--seed", type=natural_int, default=0, metavar="S",
                   help="--simulate, --swarm: the random seed (default 0)")
    c.add_argument("--max-depth", type=positive_int, metavar="D",
                   help="--simulate: steps per walk (default 1000); --swarm, a partial "
                        "--store: expand no state at depth D")
    c.add_argument("--por", action="store_true",
                   help="partial-order reduction: expand a state by one thread's steps "
                        "where they are independent of every other thread's (breadth-first, "
                        "one worker; counterexamples need not be shortest; not with the "
                        "livelock pass: add --no-livelock to scenarios that loop)")
    c.add_argument("--checkpoint", metavar="FILE",
                   help="save the breadth-first search to FILE every --checkpoint-every "
                        "seconds once it runs in the compiled machine (one scenario); "
                        "--resume FILE goes on from there")
    c.add_argument("--checkpoint-every", type=positive_float, default=600.0, metavar="S",
                   help="seconds between two checkpoints (default 600)")
    c.add_argument("--resume", metavar="FILE",
                   help="go on with the search a --checkpoint saved in FILE (the same spec "
                        "text, scenario, -D values and options); the result is the one an "
                        "uninterrupted run gives")
    c.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="search breadth-first on N threads (hash-partitioned): the same "
                        "results as one (default: the machine's cores for the default "
                        "engine, once a search outgrows the Python engine and when the "
                        "scenario allows it; 1 for --engine vm and jit)")
    c.add_argument("--cluster", metavar="ADDRESS",
                   help="search breadth-first on the workers of a Ray cluster (`ray start "
                        "--head` prints its ADDRESS; local:N starts one here with N worker "
                        "processes); --workers N: the number of parts (default: one per CPU "
                        "of the cluster); the same results as one machine")
    c.add_argument("--depth", type=natural_int, default=DEFAULT_BMC_DEPTH, metavar="K",
                   help=f"bmc: look for violations within K steps (default {DEFAULT_BMC_DEPTH})")


def _add_replay_parser(sub: Any) -> None:
    from checker.report.output import TRACE_FORMATS

    r = sub.add_parser("replay", help="re-run a saved counterexample against the current spec")
    r.add_argument("trace", help="a counterexample's JSON file")
    r.add_argument("--spec", help="the spec to replay against (default: the one in the trace)")
    r.add_argument("-I", dest="include", action="append", default=[], metavar="DIR")
    r.add_argument("--quiet", "-q", action="store_true")
    r.add_argument("--format", choices=TRACE_FORMATS, default="text",
                   help="text (default), json, junit, sarif or race (a race diagram)")
    r.add_argument("--full-state", action="store_true",
                   help="end the trace with the whole shared state")
    r.add_argument("--html", metavar="FILE", help="write the trace as an HTML viewer")


def _add_list_parser(sub: Any) -> None:
    _spec_args(sub.add_parser("list", help="list a spec's scenarios, options and expectations"))


def _add_ir_parser(sub: Any) -> None:
    _spec_args(sub.add_parser("ir", help="print the transition system of each scenario"))


def _add_models_parser(sub: Any) -> None:
    sub.add_parser("models", help="list the model library's modules and what each needs")


def _add_mutate_parser(sub: Any) -> None:
    from checker.mutate.command import add_mutate_parser

    add_mutate_parser(sub, _spec_args)


def _add_doc_parser(sub: Any) -> None:
    from checker.doc.command import add_doc_parser

    add_doc_parser(sub, _spec_args)


def _add_diff_parser(sub: Any) -> None:
    from checker.diff.command import add_diff_parser

    add_diff_parser(sub)


def _add_prove_parser(sub: Any) -> None:
    from checker.symbolic.command import add_prove_parser

    add_prove_parser(sub, _spec_args)


def _add_export_parser(sub: Any) -> None:
    from checker.backends.command import add_export_parser

    add_export_parser(sub, _spec_args)


# Each command's parser, in the order of `migcheck --help`. Only the chosen
# command's is built (with the modules it imports); the others are stubs.
_SUBPARSERS = {"check": _add_check_parser, "replay": _add_replay_parser,
               "list": _add_list_parser, "ir": _add_ir_parser, "models": _add_models_parser,
               "mutate": _add_mutate_parser,
               "doc": _add_doc_parser, "diff": _add_diff_parser, "prove": _add_prove_parser,
               "export": _add_export_parser}


def _parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser. Given the arguments, only the parser of the
    command they name is built in full (the top level has no option taking
    a value, so the first word not starting with '-' is the command); for
    `migcheck --help` or a misspelt command, all of them."""
    p = _Parser(prog="migcheck", description="Model checker for Linux memory-management "
                                            "concurrency protocols.")
    p.add_argument("--version", action="version", version=f"migcheck {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    words = list(sys.argv[1:] if argv is None else argv)
    chosen = next((w for w in words if not w.startswith("-")), None)
    lazy = chosen in _SUBPARSERS or (chosen is None and "--version" in words
                                     and "-h" not in words and "--help" not in words)
    for name, add in _SUBPARSERS.items():
        if lazy and name != chosen:
            sub.add_parser(name, add_help=False)
        else:
            add(sub)
    return p


def _overrides(defines: Sequence[str]) -> dict[str, int]:
    from checker.sema.check import parse_override

    out: dict[str, int] = {}
    for d in defines:
        name, value = parse_override(d)
        out[name] = value
    return out


def _systems(args: argparse.Namespace, batch: bool = False) -> list[TransitionSystem]:
    """The scenarios of `args.spec`: those named by -s (an unknown name is
    an error), or, in a batch of specs, those of them this spec has."""
    from checker.dsl.loader import load_program
    from checker.ir.build import build_all

    program = load_program(args.spec, args.include)
    if batch and args.scenario:
        return [ts for ts in build_all(program, _overrides(args.defines))
                if ts.scenario in args.scenario]
    return build_all(program, _overrides(args.defines), args.scenario or None)


def _fmt_stats(s: Stats) -> str:
    from checker.symbolic.command import fmt_bmc_stats
    from checker.symbolic.stats import BmcStats

    if isinstance(s, BmcStats):
        return fmt_bmc_stats(s)
    return (f"{s.states:,} states, {s.transitions:,} transitions, depth {s.depth}, "
            f"{s.seconds:.2f} s, {s.states_per_second:,.0f} states/s, "
            f"{s.peak_rss_mb:,.0f} MB peak, {s.state_bits} bits/state"
            + (f", store {s.store_bytes / max(s.states, 1):,.0f} bytes/state"
               if s.store_bytes else "")
            + (f", {s.workers_text()}" if s.workers else "")
            + (f"; {s.reduction}" if s.reduction else "")
            + (f"; one worker: {s.one_worker}" if s.one_worker else "")
            + (f", symmetry: {s.symmetry}" if s.symmetry else "")
            + (f"; resumed from a checkpoint after {s.resumed_seconds:.1f} s"
               if s.resumed_seconds is not None else ""))


def _expect_text(ts: TransitionSystem) -> str:
    e = ts.expect
    warned = "".join(f", warning '{x.name}'" if x.name is not None else ", a warning"
                     for x in ts.warn_expects)
    return e.kind + (f" '{e.name}'" if e.name else "") + (warned or
                                                         (", no warning" if ts.warnings else ""))


def _trace_paths(args: argparse.Namespace, ts: TransitionSystem, many: bool) -> Path:
    if args.save_trace:
        p = Path(args.save_trace)
        if many:
            p = p.with_name(f"{p.stem}.{ts.scenario}{p.suffix or '.json'}")
        return p if p.suffix else p.with_suffix(".json")
    return default_trace_path(Path(args.trace_dir), ts)


def default_trace_path(trace_dir: Path, ts: TransitionSystem) -> Path:
    """counterexamples/<spec's directory>/<spec>.<scenario>.json"""
    spec = Path(ts.spec)
    return trace_dir / spec.parent.name / f"{spec.stem}.{ts.scenario}.json"


# The exit status of several scenarios or specs is the worst of theirs, in
# this order: a spec error, then an unmet expectation, then a search cut short.
_SEVERITY = (EXIT_OK, EXIT_INCOMPLETE, EXIT_UNMET, EXIT_USAGE)


def _worst(codes: Sequence[int]) -> int:
    return max(codes, key=_SEVERITY.index, default=EXIT_OK)


def cmd_check(args: argparse.Namespace, out: Console, err: Console) -> int:
    """`check SPEC [SPEC|DIR]...`: each spec in turn (a directory: every
    .mig file below it that has a scenario), then, for several, a summary
    table; a spec error is reported (in the chosen format) and the others
    are still checked."""
    from checker.dsl.diagnostics import SpecError
    from checker.dsl.specfiles import expand_specs
    from checker.report.check import SpecFailure
    from checker.report.output import check_report, itf_lines

    workers = args.workers or 1
    if workers > 1 and args.cluster is None \
            and (args.engine not in ("explicit", "vm", "jit") or args.search != "bfs"):
        err.print("migcheck: --workers needs --engine explicit, vm or jit and a breadth-first "
                  f"search (got --engine {args.engine}, --search {args.search})",
                  highlight=False)
        return EXIT_USAGE
    if (args.checkpoint or args.resume) and (args.search != "bfs"
                                             or (workers > 1 and args.cluster is None)
                                             or args.engine not in ("explicit", "vm", "jit")):
        err.print("migcheck: --checkpoint and --resume need the compiled machine's breadth-first "
                  "search on one worker or a cluster (drop --dfs, --workers without --cluster; "
                  "--engine explicit, vm or jit)", highlight=False)
        return EXIT_USAGE
    if args.por and (workers > 1 or args.cluster is not None or args.engine == "bmc"
                     or (args.search != "bfs" and args.engine == "jit")):
        err.print("migcheck: --por needs an explicit search on one worker (drop --workers, "
                  "--cluster, --engine bmc; with --dfs, --engine explicit or vm)",
                  highlight=False)
        return EXIT_USAGE
    if args.engine == "bmc" and (args.all_violations or args.properties):
        err.print("migcheck: --all-violations and --property need an explicit-state engine "
                  "(not --engine bmc)", highlight=False)
        return EXIT_USAGE
    if args.engine == "jit" and args.search != "bfs":
        err.print("migcheck: --engine jit searches breadth-first only (drop --dfs)",
                  highlight=False)
        return EXIT_USAGE
    problem = _partial_problem(args)
    if problem is not None:
        err.print(f"migcheck: {problem}", highlight=False)
        return EXIT_USAGE
    if args.cluster is not None and getattr(args, "cluster_handle", None) is None:
        return _check_on_cluster(args, out, err)
    given = [args.spec, *args.more_specs]
    specs = expand_specs(given)
    batch = len(given) > 1 or any(Path(g).is_dir() for g in given)
    if not specs:
        err.print(f"migcheck: no spec with a scenario in {', '.join(given)}", highlight=False)
        return EXIT_USAGE
    if batch and args.save_trace:
        err.print("migcheck: --save-trace names one file: with several specs, use --trace-dir",
                  highlight=False)
        return EXIT_USAGE
    outcomes: list[tuple[CheckResult, Trace | None]] = []
    failures: list[SpecFailure] = []
    codes: list[int] = []
    seen: set[str] = set()  # the scenarios selected, in any spec
    for n, spec in enumerate(specs, 1):
        args.spec = spec
        where = f"spec {n}/{len(specs)}, " if len(specs) > 1 else ""
        try:
            code, results = _check_spec(args, out, err, batch, where, seen)
        except SpecError as e:
            if args.format == "text":
                print(e.render(), file=sys.stderr)
            failures.append(SpecFailure(spec, e.diagnostics))
            codes.append(EXIT_USAGE)
            continue
        outcomes.extend(results)
        codes.append(code)
    if args.format == "json":
        out.print_json(json.dumps([_result_json(r, t) for r, t in outcomes]
                                  + [f.to_json() for f in failures]))
    elif args.format == "itf":
        out.file.write(itf_lines([t for _, t in outcomes if t is not None]))
    elif args.format == "race":
        _print_races(out, outcomes)
    elif args.format in ("junit", "sarif"):
        out.file.write(check_report(args.format, outcomes, failures))
    elif batch:
        _print_summary(out, outcomes, failures)
    if batch and (missing := [s for s in args.scenario if s not in seen]):
        err.print(f"migcheck: no spec has scenario {', '.join(missing)}", highlight=False)
        codes.append(EXIT_USAGE)
    # Each counterexample with its other witness (an inconsistent lock
    # state), then the warnings' runs.
    traces = [x for r, t in outcomes if t is not None for x in (t, *r.witness_traces)]
    traces += [t for r, _ in outcomes for t in r.warning_traces]
    if args.html and not _viewer(err, args.html, traces):
        err.print(f"migcheck: no counterexample, so no {args.html}", highlight=False)
    return _worst(codes)


def _partial_problem(args: argparse.Namespace) -> str | None:
    """Why the partial-search options do not go together, if they do not;
    sets `args.partial` (the partial store's configuration, or None)."""
    from checker.explore.partial import parse_store

    try:
        args.partial = parse_store(args.store)
    except ValueError as e:
        return str(e)
    modes = [m for m, on in (("--simulate", args.simulate), ("--swarm", args.swarm),
                             (f"--store {args.store}", args.partial)) if on]
    if args.swarm and args.partial:
        modes.pop()  # the swarm's searches use that store
    if len(modes) > 1:
        return f"{' and '.join(modes)} do not go together"
    if modes and (args.search != "bfs" or (args.workers or 1) > 1
                  or args.engine not in ("explicit", "vm")):
        return (f"{modes[0]} is a search of its own: it takes neither --dfs, --workers nor "
                f"--engine {args.engine}")
    if modes and (args.por or args.checkpoint or args.resume):
        return (f"{modes[0]} takes neither --por, --checkpoint nor --resume (a partial "
                "search is neither reduced nor saved)")
    if args.jobs and not args.swarm:
        return "--jobs goes with --swarm"
    if args.cluster is not None and modes and not args.swarm:
        return (f"{modes[0]} runs on this machine: of the partial searches, --cluster takes "
                "--swarm")
    if args.cluster is not None and args.jobs:
        return ("--jobs sets the local processes of --swarm: with --cluster, each search is a "
                "task of one CPU on the cluster")
    if args.seed and not (args.swarm or args.simulate):
        return "--seed goes with --swarm or --simulate"
    if args.max_depth and not modes:
        return "--max-depth goes with --simulate, --swarm or a partial --store"
    return None


def _print_summary(out: Console, outcomes: list[tuple[CheckResult, Trace | None]],
                   failures: list[SpecFailure]) -> None:
    """The table after a batch: one row per scenario (and per spec that did
    not load), plain text so that it pastes anywhere."""
    rows: list[tuple[str, str, str, str, str]] = [
        (r.ts.spec, r.ts.scenario, str(r.status), f"{r.stats.states:,}",
             f"{r.stats.seconds + r.stats.post_seconds:.2f} s") for r, _ in outcomes]
    rows += [(f.spec, "-", "error", "-", "-") for f in failures]
    head = ("spec", "scenario", "status", "states", "time")
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    out.print("")
    for row in [head, *rows]:
        cells = [c.rjust(w) if i >= 3 else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        out.print("  ".join(cells).rstrip(), highlight=False, markup=False)


def _wants_saving(args: argparse.Namespace, r: CheckResult) -> bool:
    """Saving policy: an unexpected violation's counterexample is saved; an
    expected one's only on request (--save-all, or --save-trace naming the
    file), so that checking a spec whose bugs are expected (`make run`)
    writes nothing; --no-save saves none."""
    if args.no_save:
        return False
    return bool(args.save_all or args.save_trace) or r.status != "met"


def _check_spec(args: argparse.Namespace, out: Console, err: Console, batch: bool,
                where: str, seen: set[str]) -> tuple[int, list[tuple[CheckResult, Trace | None]]]:
    """Check the scenarios of `args.spec`; its exit status and results."""
    with phase("loading and building the scenarios"), gc_paused():  # imports included
        from checker.explore.codegen import compile_system
        from checker.explore.options import CheckOptions
        from checker.symbolic.command import run_bmc
        from checker.vm.tiered import default_engine, machine_cores

        built = _systems(args, batch)
    seen.update(ts.scenario for ts in built)
    systems = [ts for ts in built if not set(ts.tags) & set(args.skip_tag)]
    if not systems:
        if batch:
            return EXIT_OK, []
        err.print("migcheck: every scenario was skipped by --skip-tag", highlight=False)
        return EXIT_USAGE, []
    if args.list_properties:
        _list_properties(out, systems, not args.no_livelock)
        return EXIT_OK, []
    from checker.explore.properties import UnknownProperty, select

    try:
        for ts in systems:
            select(ts, args.properties, not args.no_livelock)
    except UnknownProperty as e:
        err.print(f"migcheck: {e}", highlight=False)
        return EXIT_USAGE, []
    opts = (CheckOptions().strategy(args.search).max_states(args.max_states)
            .max_seconds(args.max_seconds).max_memory(args.max_memory)
            .livelock(not args.no_livelock)
            .store_form("auto" if args.partial else args.store).reduced(args.por)
            .use_symmetry(not args.no_symmetry)
            .checkpointed(args.checkpoint, args.checkpoint_every, args.resume is not None)
            .every_violation(args.all_violations).only_properties(tuple(args.properties)))
    show_progress = not args.quiet and sys.stderr.isatty() and args.format == "text"
    results: list[tuple[CheckResult, Trace | None]] = []
    if (args.checkpoint or args.resume) and len(systems) != 1:
        err.print(f"migcheck: --checkpoint and --resume take one scenario ({len(systems)} "
                  "selected: choose one with -s)", highlight=False)
        return EXIT_USAGE, []
    if args.format == "text":
        out.print(f"{systems[0].spec}", highlight=False)
    for i, ts in enumerate(systems, 1):
        label = f"{where}scenario {i}/{len(systems)} {ts.scenario}"
        if args.simulate or args.swarm or args.partial:
            result = _run_partial(ts, opts, args, err if show_progress else None, label)
        elif args.resume and args.cluster is None:
            from checker.vm.checkpoint import CheckpointError
            from checker.vm.tiered import JIT_AFTER, resumed_bfs

            jit_after = {"jit": 0, "vm": None}.get(args.engine, JIT_AFTER)
            try:
                result = _run_one(ts, opts, err if show_progress else None,
                                  resumed_bfs(Path(args.resume), jit_after), label)
            except CheckpointError as e:
                err.print(f"migcheck: {e}", highlight=False, markup=False)
                return EXIT_USAGE, results
        elif args.engine == "bmc":
            result = run_bmc(ts, args.depth, args.max_seconds, err if show_progress else None)
        elif args.engine in ("vm", "jit") or args.cluster is not None:
            result = _run_vm(ts, opts, err, show_progress, args.engine, args.workers or 1, label,
                             getattr(args, "cluster_handle", None), args.checkpoint,
                             args.checkpoint_every, args.resume)
        else:
            engine = default_engine(args.search, args.workers or machine_cores()) \
                if args.engine == "explicit" else None
            result = _run_one(ts, opts, err if show_progress else None, engine, label)
        trace = None
        if result.violation is not None:
            trace = _trace_of(result.compiled or compile_system(ts), result.violation)
        result.witness_traces = _witness_trace(result)
        if result.every:
            assert result.compiled is not None
            result.traces = [_trace_of(result.compiled, o) for o in result.others]
        if result.warnings:
            from checker.trace.model import build_warning_trace

            c = result.compiled or compile_system(ts)
            result.warning_traces = [build_warning_trace(c, w) for w in result.warnings]
        results.append((result, trace))
        if args.format == "text":
            _print_result(out, result, trace, args, len(systems) > 1)
        if trace is not None and _wants_saving(args, result):
            path = _trace_paths(args, ts, len(systems) > 1)
            if _save_beside(args, out, err, trace, path):
                for w in result.witness_traces:  # an inconsistent lock state's other usage
                    _save_beside(args, out, err, w, path.with_name(
                        f"{path.stem}.witness{path.suffix}"))
        _save_warnings(args, out, err, result, len(systems) > 1)
    statuses = {r.status for r, _ in results}
    if statuses & {"unmet", "vacuous"}:
        return EXIT_UNMET, results
    if "incomplete" in statuses:
        return EXIT_INCOMPLETE, results
    return EXIT_OK, results


def _save_warnings(args: argparse.Namespace, out: Console, err: Console, r: CheckResult,
                   many: bool) -> None:
    """The run of each unexpected warning (of every warning with --save-all)
    beside the scenario's counterexample: `SPEC.SCENARIO.warningN.json`,
    N counting the warnings as reported; `replay` reproduces it."""
    if args.no_save:
        return
    unexpected = r.unexpected_warnings
    for i, (w, t) in enumerate(zip(r.warnings, r.warning_traces, strict=True), 1):
        if not (args.save_all or args.save_trace or w in unexpected):
            continue
        base = _trace_paths(args, r.ts, many)
        _save_beside(args, out, err, t, base.with_name(f"{base.stem}.warning{i}{base.suffix}"))


def _save_beside(args: argparse.Namespace, out: Console, err: Console, t: Trace,
                 path: Path) -> bool:
    """Save a run at `path` with its text (a counterexample, a warning's,
    the other witness of an inconsistent lock state) and say so; a failure
    is a warning (a by-product: the run and its report go on), and False."""
    from checker.trace.jsonio import save_if_changed

    try:
        written = save_if_changed(t, path, with_text=True)
    except OSError as e:
        _unsaved(err, path, e)
        return False
    note = (f"saved {path} and {path.with_suffix('.txt').name}" if written
            else f"{path} is unchanged: not rewritten")
    if args.format == "text":
        out.print(f"    {note}", highlight=False)
    else:
        err.print(f"migcheck: {note}", highlight=False)
    return True


def _print_races(out: Console, results: list[tuple[CheckResult, Trace | None]]) -> None:
    """`--format race`: each counterexample's race diagram, a line for a
    scenario without one; then the run of each warning that fired."""
    from checker.trace.race import render_race

    first = True
    for r, trace in results:
        if not first:
            out.print("")
        first = False
        if trace is None:
            out.print(f"scenario {r.ts.scenario}: {r.verdict}, no counterexample",
                      highlight=False, markup=False)
        else:
            out.print(render_race(trace), highlight=False, markup=False)
        for wt in r.warning_traces:
            out.print("")
            out.print(render_race(wt), highlight=False, markup=False)


def _list_properties(out: Console, systems: list[TransitionSystem], livelock: bool) -> None:
    """--list-properties: each scenario's properties, by the names --property takes."""
    from checker.explore.properties import properties

    for ts in systems:
        out.print(f"scenario {ts.scenario}:", highlight=False)
        props = properties(ts, livelock)
        width = max(len(p.name) for p in props)
        for p in props:
            out.print(f"  {p.name.ljust(width)}  {p.what}", highlight=False)


def _trace_of(c: Compiled, v: Violation) -> Trace:
    """The counterexample, with its lockdep-style report where it has one."""
    from checker.locks.held import lock_report
    from checker.trace.model import build_trace

    trace = build_trace(c, v)
    trace.locks = lock_report(c, v)
    return trace


def _witness_trace(r: CheckResult) -> list[Trace]:
    """An inconsistent lock state's other usage, as a trace of its own."""
    from checker.explore.result import Violation
    from checker.trace.model import build_trace

    v = r.violation
    if v is None or not v.witness or r.compiled is None:
        return []
    other = Violation(v.kind, "the other witness: " + v.message.split(": ", 1)[0], None,
                      v.witness)
    return [build_trace(r.compiled, other)]


def _unsaved(err: Console, path: Path | str, e: OSError) -> None:
    err.print(f"migcheck: warning: could not write {path}: {e.strerror or e}", highlight=False)


def _viewer(err: Console, path: str, traces: list[Trace]) -> bool:
    """write_viewer, a failure being a warning (the verdicts stand)."""
    from checker.report.output import write_viewer

    try:
        return write_viewer(path, traces)
    except OSError as e:
        _unsaved(err, path, e)
        return True


def _run_one(ts: TransitionSystem, opts: CheckOptions, err: Console | None,
             engine: Search | None = None, label: str = "") -> CheckResult:
    from checker.explore.run import check

    if err is None:
        return check(ts, opts, engine=engine)
    label = label or f"scenario {ts.scenario}"
    with err.status(f"checking {label}") as status:
        def progress(s: Stats) -> None:
            status.update(f"checking {label}: {figures(s)}")
        return check(ts, opts, progress, engine)


def _run_partial(ts: TransitionSystem, opts: CheckOptions, args: argparse.Namespace,
                 err: Console | None, label: str) -> CheckResult:
    """--simulate, --swarm, a bitstate or hash-compact --store: a partial
    search, whose verdict is never verified (README, "Partial search"). A
    scenario the compiled machine cannot run is incomplete, with the reason."""
    from checker.vm.layout import NotSupported

    try:
        return _partial(ts, opts, args, err, label)
    except NotSupported as e:
        from checker.explore.result import CheckResult, Stats
        from checker.kinds import Verdict

        return CheckResult(ts, Verdict.INCOMPLETE, Stats(),
                           limit=f"the compiled machine cannot run it ({e}): not searched")


def _partial(ts: TransitionSystem, opts: CheckOptions, args: argparse.Namespace,
             err: Console | None, label: str) -> CheckResult:
    if args.simulate:
        from checker.explore.simulate import simulation

        walk = args.max_depth or 1000
        return _run_one(ts, opts.fewest_switches(False),
                        err, simulation(args.simulate, walk, args.seed), label)
    if args.swarm:
        from checker.vm.swarm import swarm_check

        cluster = getattr(args, "cluster_handle", None)
        if err is not None:
            err.print(f"migcheck: {label or ts.scenario}: a swarm of {args.swarm} searches"
                      + (" on the cluster" if cluster is not None else ""), highlight=False)
        return swarm_check(ts, opts, args.swarm, args.jobs, args.partial, args.seed,
                           args.max_depth, cluster)
    from dataclasses import replace

    from checker.vm.bitstate import partial_bfs

    return _run_one(ts, opts, err, partial_bfs(replace(args.partial, max_depth=args.max_depth)),
                    label)


def _run_vm(ts: TransitionSystem, opts: CheckOptions, err: Console,
            show_progress: bool, engine: str = "vm", workers: int = 1,
            label: str = "", cluster: Any = None, checkpoint: str | None = None,
            every_s: float = 600.0, resume: str | None = None) -> CheckResult:
    """The VM engine, interpreted (on `workers` threads) or JIT-compiled
    (numba and llvmlite, imported only here); a scenario it cannot run is
    searched by the Python engine, with a note saying so."""
    from checker.vm.layout import NotSupported

    search: Search
    if cluster is not None:
        from checker.vm.ray_search import Checkpoints, ray_bfs

        cluster_checkpoints = Checkpoints(None if checkpoint is None else Path(checkpoint),
                                          every_s, None if resume is None else Path(resume))

        search = ray_bfs(cluster, checkpoints=cluster_checkpoints)
        engine = "cluster"
    elif engine == "jit" and workers > 1:
        from checker.vm.parallel import parallel_bfs

        search = parallel_bfs(workers, jit_after=0)
    elif engine == "jit":
        from checker.vm.llvm_search import jit_bfs

        search = jit_bfs
    elif opts.search == "dfs":
        from checker.vm.dfs import vm_dfs

        search = vm_dfs
    elif workers > 1:
        from checker.vm.parallel import parallel_bfs

        search = parallel_bfs(workers)
    else:
        from checker.vm.search import vm_bfs

        search = vm_bfs
    try:
        return _run_one(ts, opts, err if show_progress else None, search, label)
    except NotSupported as e:
        if cluster is not None and resume is None:
            # This machine's default search: it reduces, and it writes the
            # checkpoints asked for.
            from checker.vm.tiered import tiered_bfs

            saved = (f" (its checkpoints in {checkpoint} are resumed without --cluster)"
                     if checkpoint else "")
            err.print(f"migcheck: scenario {ts.scenario}: the cluster cannot run it ({e}); "
                      f"searched on this machine{saved}", highlight=False)
            return _run_one(ts, opts, err if show_progress else None, tiered_bfs(), label)
        unread = f" (the checkpoint {resume} is not read)" if resume else ""
        err.print(f"migcheck: scenario {ts.scenario}: the {engine} engine cannot run it ({e}); "
                  f"searched by the Python engine{unread}", highlight=False)
        return _run_one(ts, opts, err if show_progress else None, label=label)


def _unreadable_checkpoint(path: Path) -> str | None:
    """Why `path` is no checkpoint of the Ray search to resume from, if it
    is not one (missing, unreadable, another format); checked before the
    cluster starts. Whether it fits the scenario is known only once the
    scenario is compiled (checker.vm.ray_search)."""
    from checker.vm.ray_search import checkpoint_problem

    return checkpoint_problem(path)


def _check_on_cluster(args: argparse.Namespace, out: Console, err: Console) -> int:
    """`check --cluster ADDRESS`: connect to the Ray cluster (or start a
    local one) for the whole run, then check as usual, every breadth-first
    search on its workers (checker.vm.ray_search)."""
    if args.engine not in ("explicit", "vm") or args.search != "bfs":
        err.print("migcheck: --cluster runs the VM's breadth-first search "
                  f"(got --engine {args.engine}, --search {args.search})", highlight=False)
        return EXIT_USAGE
    try:
        from checker.vm.ray_search import LOCAL, connect
    except ImportError as e:
        err.print(f"migcheck: --cluster needs Ray ({e}): pip install 'migcheck[cluster]'",
                  highlight=False)
        return EXIT_USAGE
    address = args.cluster
    if args.resume is not None:
        problem = _unreadable_checkpoint(Path(args.resume))
        if problem is not None:
            err.print(f"migcheck: --resume {args.resume}: {problem}", highlight=False,
                      markup=False)
            return EXIT_USAGE
    if address.startswith(LOCAL) and not (address[len(LOCAL):].isdigit()
                                          and int(address[len(LOCAL):]) > 0):
        err.print(f"migcheck: --cluster {address}: expected local:N with N > 0",
                  highlight=False)
        return EXIT_USAGE
    try:
        with connect(address, args.workers) as cluster:
            args.cluster_handle = cluster
            try:
                return cmd_check(args, out, err)
            finally:
                args.cluster_handle = None
    except ConnectionError as e:
        err.print(f"migcheck: --cluster {address}: cannot connect ({e})", highlight=False)
        return EXIT_USAGE


def _print_result(out: Console, r: CheckResult, trace: Trace | None,
                  args: argparse.Namespace, many: bool) -> None:
    from rich.text import Text

    from checker.dsl.diagnostics import SourceCache
    from checker.trace.text import render

    ts = r.ts
    opts = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                     for k, v in ts.bindings.items())
    head = f"  scenario {ts.scenario}" + (f" ({opts})" if opts else "")
    if r.verdict == "verified":
        verdict = "verified"
    elif r.verdict == "incomplete":
        verdict = (f"INCOMPLETE ({r.limit}): not verified" if r.stats.coverage is not None
                   else f"INCOMPLETE (stopped by {r.limit}): not verified")
    else:
        v = r.violation
        assert v is not None
        verdict = f"{v.kind}" + (f" '{v.name}'" if v.name else "") + " found"
    # User text (names, messages) is never parsed as rich markup: styles are
    # applied to Text spans only.
    word, style, rest = {
        "met": ("as expected", "green", ""),
        "unmet": ("UNEXPECTED", "red", f" (expected {_expect_text(ts)})"),
        "vacuous": ("VACUOUS", "red", ": a cover was never reached"),
        "incomplete": ("incomplete", "yellow", f" (expected {_expect_text(ts)})"),
    }[r.status]
    line = Text(f"{head}: {verdict}: ")
    line.append(word, style=style)
    line.append(rest)
    out.print(line)
    out.print(f"    {_fmt_stats(r.stats)}", highlight=False)
    if args.properties and r.verdict == "verified":
        out.print(f"    note: only --property {', '.join(args.properties)} was checked",
                  highlight=False)
    if r.stats.coverage is not None:
        out.print(f"    {r.stats.coverage.text()}", highlight=False)
    if r.limit is not None and r.verdict == "violation":
        cause = r.limit if r.stats.coverage is not None else f"the search was stopped by {r.limit}"
        out.print(f"    note: {cause}: other violations may exist", highlight=False)
    for other in ([] if r.every else r.others):
        out.print(f"    note: also found {other.kind}" +
                  (f" '{other.name}'" if other.name else "") +
                  f" ({other.steps} steps): {other.message}", highlight=False)
    _print_warnings(out, r)
    for cv in r.uncovered:
        line = Text("    ")
        line.append("cover never reached", style="red")
        line.append(f': "{cv.message}" at {cv.span}: this run proves nothing about it')
        out.print(line)
    if r.unexecuted:
        n = len(r.unexecuted)
        out.print(f"    {n} statement{'s' if n != 1 else ''} never executed"
                  + (":" if args.show_unexecuted else " (--show-unexecuted lists them)"),
                  highlight=False)
        if args.show_unexecuted:
            for o in r.unexecuted:
                out.print(f"      {o.span}: {SourceCache.excerpt(o.span)}", highlight=False)
    if r.every:
        from checker.explore.properties import property_of

        n = 1 + len(r.others)
        out.print(f"    {n} propert{'ies' if n != 1 else 'y'} broken (--all-violations): "
                  + ", ".join(f"{property_of(v)} ({v.steps} steps)"
                              for v in [r.violation, *r.others] if v is not None),
                  highlight=False)
    shown = [] if trace is None else [trace, *r.witness_traces, *r.traces]
    shown += [t for w, t in zip(r.warnings, r.warning_traces, strict=True)
              if w in r.unexpected_warnings]
    if shown and not args.quiet:
        for t in shown:
            out.print("")
            for trace_line in render(t, args.full_state).splitlines():
                out.print("    " + trace_line, highlight=False, markup=False)
        out.print("")


def _print_warnings(out: Console, r: CheckResult) -> None:
    """Each warning that fired, with its run's length, and each expected
    warning that did not."""
    from rich.text import Text

    unexpected = r.unexpected_warnings
    for w, t in zip(r.warnings, r.warning_traces, strict=True):
        line = Text(f"    warning: {t.message} ({w.steps} step{'s' if w.steps != 1 else ''})"
                    + (" [once]" if w.prop.once else "") + ": ")
        line.append(*(("UNEXPECTED", "red") if w in unexpected else ("expected", "green")))
        out.print(line)
    for x in r.missing_warnings:
        line = Text("    ")
        line.append("expected warning never fired", style="red")
        line.append(f": {x.name!r}" if x.name is not None else ": any")
        out.print(line)


def _result_json(r: CheckResult, trace: Trace | None) -> dict[str, object]:
    from checker.explore.properties import property_of
    from checker.trace.jsonio import dumps

    s = r.stats
    return {
        "spec": r.ts.spec,
        "scenario": r.ts.scenario,
        "bindings": r.ts.bindings,
        "expect": {"kind": r.ts.expect.kind, "name": r.ts.expect.name},
        "verdict": r.verdict,
        "status": r.status,
        "limit": r.limit,
        "stats": {"states": s.states, "transitions": s.transitions, "depth": s.depth,
                  "seconds": round(s.seconds, 4), "states_per_second": round(s.states_per_second),
                  "peak_rss_mb": round(s.peak_rss_mb, 1), "state_bits": s.state_bits,
                  "store_bytes": s.store_bytes, "symmetry": s.symmetry,
                  "symmetry_applied": s.symmetry_applied,
                  # --workers, --cluster: each worker's states and memory.
                  "workers": s.workers_json(),
                  # Why the search stayed on one worker, if it was to use several.
                  "one_worker": s.one_worker},
        # A partial search's figures (bitstate, hashcompact, simulation, swarm).
        "partial": None if s.coverage is None else s.coverage.to_json(),
        "violation": None if r.violation is None else {
            "kind": r.violation.kind, "name": r.violation.name, "message": r.violation.message},
        "trace": None if trace is None else json.loads(dumps(trace)),
        # An inconsistent lock state's second usage, as a run of its own.
        "witness": [json.loads(dumps(w)) for w in r.witness_traces],
        "others": [{"kind": o.kind, "name": o.name, "message": o.message, "steps": o.steps,
                    "property": property_of(o)}
                   | ({"trace": json.loads(dumps(r.traces[i]))} if i < len(r.traces) else {})
                   for i, o in enumerate(r.others)],
        "property": None if r.violation is None else property_of(r.violation),
        "unexecuted": [f"{o.span}" for o in r.unexecuted],
        "uncovered": [cv.message for cv in r.uncovered],
        "expect_warnings": [x.name for x in r.ts.warn_expects],
        "warnings": [{"name": w.name, "message": t.message, "steps": w.steps,
                      "once": w.prop.once, "file": w.prop.span.file, "line": w.prop.span.line,
                      "expected": w not in r.unexpected_warnings,
                      "trace": json.loads(dumps(t))}
                     for w, t in zip(r.warnings, r.warning_traces, strict=True)],
        "missing_warnings": [x.name for x in r.missing_warnings],
    }


def cmd_replay(args: argparse.Namespace, out: Console, err: Console) -> int:
    from checker.report.output import replay_report
    from checker.trace.jsonio import TraceFormatError
    from checker.trace.race import render_race
    from checker.trace.replay import load_and_replay
    from checker.trace.text import render

    try:
        trace, res = load_and_replay(Path(args.trace), args.spec, args.include)
    except TraceFormatError as e:
        err.print(f"{e}", highlight=False, markup=False)  # "trace.json: error: ..."
        return EXIT_USAGE
    if args.html:
        _viewer(err, args.html, [trace])
    if args.format == "race":
        if res.reproduced:
            out.print(render_race(trace), highlight=False, markup=False)
        else:
            out.print(f"{args.trace}: does not reproduce: {res.message}", highlight=False)
        return EXIT_OK if res.reproduced else EXIT_UNMET
    if args.format != "text":
        out.file.write(replay_report(args.format, trace, res.reproduced, res.message,
                                     res.spec_changed, args.trace))
        return EXIT_OK if res.reproduced else EXIT_UNMET
    if res.spec_changed:
        out.print("note: the spec changed since this trace was saved", highlight=False)
    if res.reproduced:
        out.print(f"{args.trace}: {res.message}", highlight=False)
        if not args.quiet:
            out.print(render(trace, args.full_state), highlight=False, markup=False)
        return EXIT_OK
    out.print(f"{args.trace}: does not reproduce: {res.message}", highlight=False)
    return EXIT_UNMET


def cmd_list(args: argparse.Namespace, out: Console, err: Console) -> int:
    from checker.dsl.diagnostics import SourceCache
    from checker.dsl.loader import load_program
    from checker.sema.check import elaborate

    program = load_program(args.spec, args.include)
    el = elaborate(program, _overrides(args.defines))
    options = [c for c in el.consts.values() if c.is_option]
    consts = [c for c in el.consts.values() if not c.is_option]
    out.print(f"{program.root}", highlight=False)
    if consts:
        out.print("  constants: " + ", ".join(f"{c.name}={c.value}" for c in consts),
                  highlight=False, markup=False)
    if options:
        out.print("  options: " + ", ".join(
            f"{c.name}={'true' if c.value else 'false'}" if c.is_bool else f"{c.name}={c.value}"
            for c in options), highlight=False)
    for sc in el.scenarios.values():
        runs = ", ".join(_run_text(r) for r in sc.runs)
        sets = ", ".join(f"{n}={SourceCache.excerpt(v.span)}" for n, v, _ in sc.options)
        exp = "verified" if sc.expect is None else sc.expect.kind + (
            f" {sc.expect.name}" if sc.expect.name else "")
        out.print(f"  scenario {sc.name}" + (f" [{sets}]" if sets else "") +
                  f": {runs}; expect {exp}", highlight=False, markup=False)
    return EXIT_OK


def cmd_models(args: argparse.Namespace, out: Console, err: Console) -> int:
    """The model library and `$MIGCHECK_PATH`: each module's purpose and needs."""
    from checker.dsl.library import table_of_contents

    for line in table_of_contents():
        out.print(line, highlight=False, markup=False)
    return EXIT_OK


def cmd_ir(args: argparse.Namespace, out: Console, err: Console) -> int:
    from checker.ir.pretty import dump

    for ts in _systems(args):
        out.print(dump(ts), highlight=False, markup=False)
    return EXIT_OK


# Deeply nested specs (a 400-term sum, 250 nested ifs) recurse in the parser,
# the checks, lowering and code generation: the command runs in a thread with a
# large stack (only the pages it touches are used) under a raised recursion
# limit, and what still recurses too far is a diagnostic, not a traceback.
_STACK_BYTES = 512 << 20
_RECURSION_LIMIT = 50_000
# Set on Ctrl-C: whatever the worker then fails with (z3's "canceled", an
# exception raised from a ctypes callback) is the interrupt, not a bug.
_INTERRUPT = threading.Event()
# Set when that interrupt landed in a finaliser and was dropped (_unraisable).
_DROPPED = threading.Event()
_RESEND_S = 0.05
_GRACE_S = 10.0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; Ctrl-C exits 130 wherever it lands (`_join` hands
    it to the command; one that lands outside, as the command starts or
    ends, is caught here rather than ending the process by SIGINT)."""
    try:
        return _main(argv)
    except KeyboardInterrupt as e:
        return _interrupted(e)


def _main(argv: Sequence[str] | None) -> int:
    with gc_paused(freeze=True):  # the parser's modules: start-up
        parser = _parser(argv)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "check" and not any(e.startswith("-") for e in extra):
        args.more_specs += extra  # specs after an option: `check a.mig -q b.mig`
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    # --max-seconds counts from here: after the chosen command's parser and
    # the modules it imports, as when every module was imported at startup.
    started = time.monotonic()
    _INTERRUPT.clear()
    _DROPPED.clear()
    clear_stop()
    box: list[int] = []
    raised: list[BaseException] = []  # MIGCHECK_DEBUG's traceback, re-raised here
    done = threading.Event()

    def work() -> None:
        try:
            box.append(_limited(args, started))
        except BaseException as e:
            raised.append(e)
        finally:
            done.set()

    old_limit = sys.getrecursionlimit()
    old_hook = sys.unraisablehook
    sys.unraisablehook = _unraisable
    old_stack = threading.stack_size(_STACK_BYTES)
    try:
        sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))
        worker = threading.Thread(target=work, name="migcheck", daemon=True)
        worker.start()
    finally:
        threading.stack_size(old_stack)
    try:
        _join(worker, done)
    finally:
        sys.setrecursionlimit(old_limit)
        if _INTERRUPT.is_set():
            sys.unraisablehook = _quiet  # the process ends interrupted: `_unraisable`
        else:
            sys.unraisablehook = old_hook
    if raised and not isinstance(raised[0], KeyboardInterrupt):
        raise raised[0]
    return box[0] if box else _interrupted(None)


def _join(worker: threading.Thread, done: threading.Event) -> None:
    """Wait for the command. SIGINT reaches only the main thread: pass it on
    as a KeyboardInterrupt raised in the worker (and cancel a z3 query, which
    holds the worker in C code), so that the engine stops cleanly with its
    partial figures. A second Ctrl-C, or a worker still busy after the grace
    period, gives up on it. (An Event, not Thread.join: an interrupted join
    marks the thread finished in 3.11.)"""
    try:
        done.wait()
        return
    except KeyboardInterrupt:
        pass
    _INTERRUPT.set()
    _DROPPED.set()
    request_stop()
    z3 = sys.modules.get("z3")
    if z3 is not None:
        z3.main_ctx().interrupt()
    with contextlib.suppress(KeyboardInterrupt):
        # A C call that polls neither (a long z3 simplification) may hold the
        # worker: after a grace period exit anyway (the thread is a daemon).
        deadline = time.monotonic() + _GRACE_S
        while not done.is_set() and time.monotonic() < deadline:
            if _DROPPED.is_set() and worker.ident is not None:
                _DROPPED.clear()
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(worker.ident), ctypes.py_object(KeyboardInterrupt))
            done.wait(_RESEND_S)


def _unraisable(info: sys.UnraisableHookArgs) -> None:
    """The Ctrl-C passed on to the worker can land while it runs a finaliser
    (z3's AstRef.__del__), where Python would print "Exception ignored" with
    a traceback and drop the interrupt. Print nothing and tell _join, which
    sends it again (raising it from here would land in this hook). Once
    interrupted, a finaliser's other errors are dropped too: an object
    whose constructor the interrupt cut short (a z3 BoolRef without its
    `ctx`) fails in its finaliser, which says nothing about the spec."""
    if _INTERRUPT.is_set():
        if issubclass(info.exc_type, KeyboardInterrupt):
            _DROPPED.set()
        return
    sys.__unraisablehook__(info)


def _quiet(_info: sys.UnraisableHookArgs) -> None:
    """After an interrupt, as the process ends: see `_unraisable`."""


def _interrupted(e: BaseException | None) -> int:
    """Exit 130; the engine's figures so far, when it attached them as notes.
    The finalisers that run as the process ends print nothing (`_quiet`)."""
    sys.unraisablehook = _quiet
    for note in getattr(e, "__notes__", []):
        print(f"migcheck: {note}", file=sys.stderr)
    print("migcheck: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def _is_interrupt(e: BaseException) -> bool:
    """A KeyboardInterrupt that surfaced inside a ctypes call into z3 comes
    back wrapped (`ArgumentError: argument 1: KeyboardInterrupt`), or as
    the cause or context of another exception."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, KeyboardInterrupt):
            return True
        if isinstance(cur, ctypes.ArgumentError) and "KeyboardInterrupt" in str(cur):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def _limited(args: argparse.Namespace, started: float) -> int:
    """The command under the process-wide limits, started in the thread that
    runs it (the watchdog raises LimitExceeded in that thread)."""
    try:
        if args.command == "check":
            start_process_limits(args.max_seconds, args.max_memory, started)
        return _run(args)
    finally:
        stop_process_limits()


Command = Callable[[argparse.Namespace, "Console", "Console"], int]


def _command(name: str) -> Command:
    """The function that runs command `name`, its module imported now."""
    match name:
        case "check":
            return cmd_check
        case "replay":
            return cmd_replay
        case "list":
            return cmd_list
        case "ir":
            return cmd_ir
        case "mutate":
            from checker.mutate.command import cmd_mutate
            return cmd_mutate
        case "prove":
            from checker.symbolic.command import cmd_prove
            return cmd_prove
        case "doc":
            from checker.doc.command import cmd_doc
            return cmd_doc
        case "diff":
            from checker.diff.command import cmd_diff
            return cmd_diff
        case "export":
            from checker.backends.command import cmd_export
            return cmd_export
        case "models":
            return cmd_models
    raise AssertionError(name)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from checker.textsafe import VisibleText

    out = Console(highlight=False, soft_wrap=True, markup=False)
    err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)
    for console in (out, err):  # spec text is printed with control characters spelled out
        console.push_render_hook(VisibleText())
    from checker.dsl.diagnostics import SpecError

    try:
        return _command(args.command)(args, out, err)
    except SpecError as e:
        print(e.render(), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as e:
        return _interrupted(e)
    except RecursionError:
        where = getattr(args, "spec", None) or getattr(args, "trace", None) or "migcheck"
        print(f"{where}: error: the spec nests too deeply (an expression or statements "
              "nested hundreds of levels): split the expression or the statement",
              file=sys.stderr)
        return EXIT_USAGE
    except LimitExceeded as e:
        print(f"migcheck: incomplete: stopped by {limit_text(e)}", file=sys.stderr)
        return EXIT_INCOMPLETE
    except Exception as e:
        if _INTERRUPT.is_set() or _is_interrupt(e):
            return _interrupted(e)
        if os.environ.get("MIGCHECK_DEBUG"):
            raise
        print(f"migcheck: internal error: {type(e).__name__}: {e}\n"
              "This is a bug in migcheck; rerun with MIGCHECK_DEBUG=1 for the traceback.",
              file=sys.stderr)
        return EXIT_BUG


def _run_text(r: ast.RunItem) -> str:
    """A `run` item as written: `for (i in 0..N - 1) compactor(i) * 2`."""
    from checker.dsl.diagnostics import SourceCache

    loops = "".join(f"for ({lp.var} in {SourceCache.excerpt(lp.lo.span)}.."
                    f"{SourceCache.excerpt(lp.hi.span)}) " for lp in r.loops)
    count = f" * {SourceCache.excerpt(r.count.span)}" if r.count is not None else ""
    return f"{loops}{r.thread}({', '.join(SourceCache.excerpt(a.span) for a in r.args)}){count}"


if __name__ == "__main__":
    sys.exit(main())

