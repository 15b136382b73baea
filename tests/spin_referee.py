"""The SPIN referee: migcheck and SPIN on the same transition system.

SPIN runs the Promela export (checker.backends.promela) with partial-order
reduction off. They must agree on:

- the verdict (a violation or none);
- on a search that met no violation, the states (equal: the export's state
  is migcheck's) and the transitions (pan counts one more, its initial
  state: `SPIN_EXTRA_TRANSITIONS`; in a batch, the selector's step adds one
  state and one transition: `BATCH_EXTRA_*`);
- on a violation, what it is: SPIN's trail, translated and re-run by the
  reference interpreter, must raise that violation, and migcheck, told to
  look for SPIN's violation, must find it.

Livelock (spinning forever, a bottom strongly connected component) is not a
safety property; migcheck's livelock pass is off here.

A program the export refuses (a value beyond SPIN's 32-bit `int`:
`ExportError`) is skipped, with the export's reason in `Outcome.skipped`:
SPIN could only give another verdict on it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from checker.backends.promela import SPIN_EXTRA_TRANSITIONS, PromelaModel, export
from checker.backends.promela_names import ExportError
from checker.backends.spin import (
    BATCH_EXTRA_STATES,
    BATCH_EXTRA_TRANSITIONS,
    Pan,
    PanRun,
    batch,
    compile_pan,
    replay_trail,
    run_pan,
)
from checker.backends.trail import TrailMismatch, Translated, translate
from checker.explore.options import CheckOptions
from checker.explore.result import CheckResult
from checker.explore.run import check
from checker.ir.nodes import Expectation, TransitionSystem
from checker.trace.replay import replay_on

SAFETY = CheckOptions().livelock(False)


@dataclass
class Outcome:
    """One comparison."""

    migcheck: CheckResult
    spin: PanRun
    translated: Translated | None
    problems: list[str]
    skipped: str | None = None  # why SPIN was not run: the export refused the program


def migcheck(ts: TransitionSystem) -> CheckResult:
    return check(ts, SAFETY)


def judge(ts: TransitionSystem, model: PromelaModel, pan: Pan, run: PanRun, mine: CheckResult,
          extra_states: int = 0, extra_transitions: int = 0, pick: int | None = None,
          offset: int = 0, ignore: frozenset[int] = frozenset()) -> Outcome:
    problems: list[str] = []
    translated = None
    if not run.complete and not run.errors:  # (pan stops at an error: not complete)
        problems.append("pan's search was not complete: " + " | ".join(
            ln for ln in run.output.splitlines() if "rror" in ln or "not" in ln))
    spin_violation = run.errors > 0
    mine_violation = mine.violation is not None
    if spin_violation != mine_violation:
        problems.append(f"verdicts differ: migcheck {mine.verdict}"
                        + (f" ({mine.violation.kind})" if mine.violation else "")
                        + f", SPIN {run.error or 'no error'}")
    if not spin_violation and not mine_violation:
        if run.states != mine.stats.states + extra_states:
            problems.append(f"states differ: migcheck {mine.stats.states}, SPIN {run.states} "
                            f"(expected +{extra_states})")
        focused = model.focus is not None
        want = mine.stats.transitions + SPIN_EXTRA_TRANSITIONS + extra_transitions
        if not focused and run.transitions != want:
            problems.append(f"transitions differ: migcheck {mine.stats.transitions}, SPIN "
                            f"{run.transitions} (expected {want})")
    if spin_violation:
        try:
            translated = translate(model, replay_trail(pan, pick), offset, sorted(ignore),
                                   run.error)
        except TrailMismatch as e:
            problems.append(f"SPIN's trail does not run in migcheck: {e}")
            return Outcome(mine, run, None, problems)
        replayed = replay_on(translated.trace, ts)
        if not replayed.reproduced:
            problems.append(f"SPIN's counterexample does not reproduce: {replayed.message}")
        if mine_violation:
            look = copy.copy(ts)
            look.expect = Expectation(translated.kind, translated.trace.name, None)
            again = check(look, SAFETY)
            if again.violation is None or not again.violation.matches(look.expect):
                problems.append(f"migcheck does not find SPIN's {translated.kind} "
                                f"'{translated.trace.name}'")
    return Outcome(mine, run, translated, problems)


def referee_one(ts: TransitionSystem, workdir: Path, shortest: bool = False) -> Outcome:
    """Export `ts` as `migcheck check` looks at it, run SPIN, compare. With
    `shortest`, pan looks for its shortest counterexample (-i, exact with
    -DREACH)."""
    mine = check(ts, SAFETY)
    try:
        model = export(ts)
    except ExportError as e:
        return Outcome(mine, PanRun(), None, [], skipped=e.render())
    pan = compile_pan(model.text, workdir, defines=["REACH"] if shortest else [],
                      vector_bytes=model.vector_bytes)
    run = run_pan(pan, ["-i"] if shortest else [])
    return judge(ts, model, pan, run, mine)


def referee_batch(systems: list[TransitionSystem], workdir: Path) -> list[Outcome]:
    """Every violation reported, several systems to one compilation."""
    refused: dict[int, str] = {}
    exported: list[tuple[TransitionSystem, PromelaModel]] = []
    for k, ts in enumerate(systems):
        try:
            n = len(exported) + 1
            exported.append((ts, export(ts, None, prefix=f"P{n}_", enable=f"mc_prog == {n}")))
        except ExportError as e:
            refused[k] = e.render()
    models = [m for _, m in exported]
    runs: list[Outcome] = []
    if models:
        b = batch(models)
        pan = compile_pan(b.text, workdir, vector_bytes=sum(m.vector_bytes for m in models))
        for i, (ts, model) in enumerate(exported, 1):
            run = run_pan(pan, pick=i)
            runs.append(judge(ts, model, pan, run, check(ts, SAFETY), BATCH_EXTRA_STATES,
                              BATCH_EXTRA_TRANSITIONS, pick=i, offset=b.offsets[i - 1],
                              ignore=frozenset(b.selector_lines)))
    judged = iter(runs)
    return [Outcome(check(ts, SAFETY), PanRun(), None, [], skipped=refused[k]) if k in refused
            else next(judged) for k, ts in enumerate(systems)]
