"""The command-line side of the symbolic engines.

`migcheck check --engine bmc --depth K` runs `checker.symbolic.bmc` in place
of the explicit search (same report, same counterexamples); `migcheck prove
SPEC` proves the spec's bit-vector lemmas and each scenario's safety
(`checker.symbolic.prove`). z3 is imported only when one of them runs.

prove exit status: 0 every lemma and scenario met its expectation; 1 one did
not; 2 usage or spec error; 3 a proof was inconclusive (unknown) and none
failed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from checker.argtypes import natural_int, nonnegative_float, positive_float
from checker.dsl.diagnostics import SourceCache, Span, SpecError
from checker.dsl.loader import load_program
from checker.explore.result import CheckResult, Stats
from checker.ir.contexts import refuse_handlers
from checker.ir.nodes import TransitionSystem
from checker.symbolic.stats import BmcStats

if TYPE_CHECKING:
    from checker.symbolic.lemma import LemmaResult
    from checker.symbolic.prove import ProofResult

DEFAULT_BMC_DEPTH = 50
DEFAULT_PROVE_SECONDS = 60.0
EXIT_OK, EXIT_UNMET, EXIT_USAGE, EXIT_UNKNOWN = 0, 1, 2, 3


# ---------------------------------------------------------------- check --engine bmc


def run_bmc(ts: TransitionSystem, depth: int, seconds: float | None,
            err: Console | None) -> CheckResult:
    from checker.symbolic.bmc import check_bmc

    refuse_handlers(ts, "--engine bmc")
    if depth < 0:
        raise SpecError.at(Span("<command line>", 0, 0, 0, 0), "--depth must be 0 or more")
    refusal = ts.liveness_refusal()
    if refusal is not None:
        raise SpecError.at(ts.expect.span or Span(ts.spec, 0, 0, 0, 0), refusal)
    if err is None:
        return check_bmc(ts, depth, seconds)
    with err.status(f"bmc {ts.scenario}") as status:
        def progress(s: Stats) -> None:
            status.update(f"bmc {ts.scenario}: depth {s.depth} of {depth}, {s.seconds:.0f} s")
        return check_bmc(ts, depth, seconds, progress)


def fmt_bmc_stats(s: BmcStats) -> str:
    reach = (f"every run ends within {s.depth} steps" if s.complete
             else f"searched to depth {s.depth}")
    return (f"bmc: {reach}, {s.queries} solver queries, {s.seconds:.2f} s, "
            f"{s.width}-bit encoding, {s.peak_rss_mb:,.0f} MB peak")


# ---------------------------------------------------------------- prove


def add_prove_parser(sub: Any, spec_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("prove", help="prove bit-vector lemmas, and each scenario safe for "
                                     "every reachable state (z3: bmc, k-induction, spacer)")
    spec_args(p)
    p.add_argument("--seconds", type=nonnegative_float, default=DEFAULT_PROVE_SECONDS, metavar="S",
                   help=f"time per scenario (default {DEFAULT_PROVE_SECONDS:g})")
    p.add_argument("--max-memory", type=positive_float, metavar="MB",
                   help="stop a proof when the process uses MB megabytes (inconclusive)")
    p.add_argument("--max-k", type=natural_int, default=200, metavar="K",
                   help="deepest base case and induction step to try (default 200)")
    p.add_argument("--lemmas-only", action="store_true", help="prove the lemmas, no scenario")
    p.add_argument("--skip-tag", action="append", default=[], metavar="TAG",
                   help="skip scenarios with this tag (e.g. slow); repeatable")
    p.add_argument("--quiet", "-q", action="store_true", help="no counterexample text")


def cmd_prove(args: argparse.Namespace, out: Console, err: Console) -> int:
    from checker.explore.limits import start_process_limits, stop_process_limits
    from checker.ir.build import build_all
    from checker.ir.lemma import build_lemmas
    from checker.sema.check import elaborate, parse_override
    from checker.symbolic.lemma import prove_lemma
    from checker.symbolic.prove import prove

    program = load_program(args.spec, args.include)
    overrides = dict(parse_override(d) for d in args.defines)
    base = elaborate(program, overrides)
    wanted = set(args.scenario)
    unknown = wanted - set(base.lemmas) - set(base.scenarios)
    if unknown:
        known = ", ".join([*base.lemmas, *base.scenarios]) or "none"
        raise SpecError.at(Span(program.root, 0, 0, 0, 0),
                           f"no lemma or scenario {', '.join(sorted(unknown))} (known: {known})")
    lemma_names = [n for n in base.lemmas if not wanted or n in wanted]
    scenario_names = [] if args.lemmas_only else [
        n for n in base.scenarios if not wanted or n in wanted]
    if not lemma_names and not scenario_names:
        raise SpecError.at(Span(program.root, 0, 0, 0, 0), "nothing to prove: the spec has "
                           "no lemma" + ("" if args.lemmas_only else " and no scenario"))
    out.print(program.root, highlight=False)
    statuses: list[str] = []
    for lemma in build_lemmas(program, overrides, lemma_names) if lemma_names else []:
        res = prove_lemma(lemma, args.seconds)
        statuses.append(res.status)
        _print_lemma(out, res)
    if scenario_names:
        for ts in build_all(program, overrides, scenario_names):
            if set(ts.tags) & set(args.skip_tag):
                continue
            refuse_handlers(ts, "migcheck prove")
            refusal = ts.liveness_refusal()
            if refusal is not None:
                if ts.scenario in wanted:  # asked for by name: refused
                    raise SpecError.at(ts.expect.span or Span(ts.spec, 0, 0, 0, 0), refusal)
                out.print(Text(f"  scenario {ts.scenario}: skipped: {refusal}"))
                continue
            with err.status(f"proving {ts.scenario}") if err.is_terminal else nullcontext():
                # --seconds bounds each scenario's proof, encoding included.
                start_process_limits(args.seconds, args.max_memory, seconds_flag="--seconds")
                try:
                    pr = prove(ts, args.seconds, args.max_k)
                finally:
                    stop_process_limits()
            statuses.append(pr.status)
            _print_proof(out, pr, args.quiet)
    if "unmet" in statuses:
        return EXIT_UNMET
    if "unknown" in statuses:
        return EXIT_UNKNOWN
    return EXIT_OK


# (word, style): user text is never parsed as markup, styles go on Text spans.
_STATUS = {
    "met": ("as expected", "green"),
    "unmet": ("UNEXPECTED", "red"),
    "unknown": ("inconclusive", "yellow"),
}


def _status_line(text: str, status: str, rest: str) -> Text:
    word, style = _STATUS[status]
    line = Text(text)
    line.append(word, style=style)
    line.append(rest)
    return line


def _bindings_text(bindings: dict[str, int | bool]) -> str:
    if not bindings:
        return ""
    inner = ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}"
                      for k, v in bindings.items())
    return f" ({inner})"


def _print_lemma(out: Console, r: LemmaResult) -> None:
    lemma = r.lemma
    head = f"  lemma {lemma.name}{_bindings_text(dict(lemma.bindings))}"
    if r.verdict == "proved":
        verdict = "proved for every value"
    elif r.verdict == "unknown":
        verdict = "unknown (solver timeout)"
    elif r.vacuous and r.failure is None:
        verdict = "FAILS: its assumptions contradict each other (it would hold vacuously)"
    else:
        verdict = "FAILS"
    expect = "" if r.status == "met" else f" (expected {lemma.expect})"
    out.print(_status_line(f"{head}: {verdict}: ", r.status, expect))
    used = ", ".join(f"{k}={v}" for k, v in lemma.consts.items())
    for g in r.goals:
        if g.verdict == "proved":
            continue
        what = "undefined behaviour" if g.step.kind == "check" else "assert"
        out.print(f"    {g.verdict}: {what} '{g.step.name}' at {g.step.span}",
                  highlight=False, markup=False)
        out.print(f"      {SourceCache.excerpt(g.step.span)}", highlight=False, markup=False)
        if g.witness:
            vals = ", ".join(f"{n} = {v:#x} ({v})" for n, _w, v in g.witness)
            out.print(f"      witness: {vals}", highlight=False, markup=False)
            if used:
                out.print(f"      with {used}", highlight=False, markup=False)


def _print_proof(out: Console, r: ProofResult, quiet: bool) -> None:
    from checker.trace.model import build_trace
    from checker.trace.text import render

    ts = r.ts
    head = f"  scenario {ts.scenario}{_bindings_text(dict(ts.bindings))}"
    exp = ts.expect
    expect = "" if r.status == "met" else \
        f" (expected {exp.kind}{' ' + repr(exp.name) if exp.name else ''})"
    if r.verdict == "proved":
        verdict = f"proved for all reachable states: {r.how}"
    elif r.verdict == "counterexample":
        verdict = f"counterexample: {r.how}"
    else:
        verdict = "unknown"
    out.print(_status_line(f"{head}: {verdict}: ", r.status, expect))
    base = f"base case clear to depth {r.depth}" if r.depth >= 0 else "no depth cleared"
    out.print(f"    {r.seconds:.2f} s, {base}", highlight=False)
    for line in r.tried if r.verdict != "proved" else []:
        out.print(f"    tried: {line}", highlight=False, markup=False)
    if r.verdict == "proved" and r.liveness_note:
        out.print("    note: runs that spin forever are a liveness property, not covered by "
                  "this proof (`migcheck check` looks for them)", highlight=False)
    if r.verdict == "proved":
        out.print("    note: covers and unexecuted statements are not checked by proofs "
                  "(`migcheck check` reports them)", highlight=False)
    for other in r.others:
        out.print(f"    note: also found {other.kind}"
                  + (f" '{other.name}'" if other.name else "")
                  + f" ({other.steps} steps): {other.message}", highlight=False)
    if r.violation is not None and r.compiled is not None and not quiet:
        trace = build_trace(r.compiled, r.violation)
        out.print("")
        for line in render(trace).splitlines():
            out.print("    " + line, highlight=False, markup=False)
        out.print("")
