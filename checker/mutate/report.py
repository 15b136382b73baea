"""Text of a mutation run, as `migcheck mutate` prints it (rich markup).

One entry per mutant: its id, the line it changes and what it did, then how
it was killed (scenario, violation, trace length) or why it was not. Then the
spec's kill rate: killed mutants over those not declared harmless.
"""

from __future__ import annotations

from rich.markup import escape

from checker.mutate.harmless import MARK
from checker.mutate.runner import (
    HARMLESS,
    INCOMPLETE,
    INVALID,
    KILLED,
    MISDECLARED,
    NOT_RUN,
    SURVIVED,
    MutantResult,
    SpecReport,
)

_TAGS = {
    KILLED: "[green]killed[/green]    ",
    SURVIVED: "[red]SURVIVED[/red]  ",
    HARMLESS: "[cyan]harmless[/cyan]  ",
    INCOMPLETE: "[yellow]INCOMPLETE[/yellow]",
    INVALID: "[red]INVALID[/red]   ",
    MISDECLARED: "[red]KILLED[/red]    ",
    NOT_RUN: "mutant    ",
}


def header(report: SpecReport) -> list[str]:
    n, total = len(report.results), len(report.found)
    used = ", ".join(report.scenarios) or "none"
    count = f"{n} mutant{'s' if n != 1 else ''}" if n == total else f"{n} of {total} mutants"
    lines = [escape(f"{report.spec}: {count} of the fixed scenarios {used}")]
    for s in report.skipped:
        lines.append(escape(f"  note: scenario {s.scenario} left out: {s.reason}"))
    return lines


def result_lines(r: MutantResult, root: str) -> list[str]:
    m = r.mutant
    head = f"  {_TAGS[r.verdict]} {escape(m.ident(root)):<26} " \
           f"{escape(m.where(root))}: {escape(m.description)}"
    out = [head]
    pad = " " * 14
    if r.verdict == NOT_RUN:
        out.append(pad + escape(f"in {', '.join(m.scenarios)}"))
    if r.kill is not None:
        k = r.kill
        steps = f", {k.steps} steps" if k.steps is not None else ""
        said = k.message and k.message != f"assertion '{k.name}' failed"
        out.append(pad + escape(f"{k.scenario}: {k.what}{steps}" + (f": {k.message}" if said
                                                                     else "")))
    elif r.outcome == SURVIVED:
        out.append(pad + escape(f"verified in {', '.join(m.scenarios)}"))
    if r.cut_short and r.outcome != KILLED:
        out.append(pad + escape(f"cut short: {', '.join(r.cut_short)}: not killed"))
    if r.error:
        out.append(pad + escape(f"does not build: {r.error}"))
    if r.declared is not None:
        if r.verdict == MISDECLARED:
            out.append(pad + "[red]declared harmless, but a scenario kills it: remove the "
                             f"declaration at {escape(str(r.declared.span))}[/red]")
        else:
            out.append(pad + escape(f"declared harmless: {r.declared.reason}"))
    return out


def summary(report: SpecReport) -> list[str]:
    killed, judged = report.killed, report.judged
    rate = f"{100 * report.kill_rate:.1f}%" if judged else "n/a"
    parts = [f"{report.count(HARMLESS)} declared harmless"]
    for verdict, word in ((SURVIVED, "survived"), (INCOMPLETE, "incomplete"),
                          (INVALID, "invalid"), (MISDECLARED, "wrongly declared harmless")):
        if report.count(verdict):
            parts.append(f"{report.count(verdict)} {word}")
    lines = [escape(f"  kill rate {rate}: {killed} of {judged} mutants killed "
                    f"({', '.join(parts)})")]
    for d in report.unused:
        lines.append(escape(f"  note: {d.span}: '{MARK} {d.selector}' matches no mutant"))
    if report.count(SURVIVED) or report.count(INCOMPLETE):
        lines.append(escape(f"  a survivor is a weakness of the scenarios (or of the checker), "
                            f"or harmless: then say why above its line with "
                            f"'// {MARK} OPERATOR[#N]: REASON'"))
    return lines
