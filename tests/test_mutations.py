"""The mutation suite (`migcheck mutate`): the operators on small specs whose
outcomes are worked out by hand, harmless declarations, the command line,
and the suite run on every spec under specs/.

A spec's fixed scenarios must kill every mutant, except those the spec
declares harmless (`// mutant-harmless OPERATOR: REASON` beside the
statement) and the survivors recorded, each with its analysis, in
tests/mutation_survivors.py. A new survivor fails the test; so does a
recorded one that is now killed (`make test-slow`, which runs every mutant;
the default run checks a sample of each spec's mutants).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from checker.dsl.diagnostics import SpecError
from checker.dsl.loader import load_program
from checker.mutate.runner import (
    HARMLESS,
    INCOMPLETE,
    INVALID,
    KILLED,
    MISDECLARED,
    SURVIVED,
    MutantResult,
    SpecReport,
    SuiteOptions,
    mutation_suite,
)
from checker.sema.check import elaborate
from tests.conftest import ROOT
from tests.mutation_survivors import SURVIVORS

MODELS = (str(ROOT / "models"),)


def suite(path: Path, **kw: object) -> SpecReport:
    return mutation_suite(str(path), SuiteOptions(include=MODELS, **kw))  # type: ignore[arg-type]


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line of the nth line of `text` that contains `needle`."""
    hits = [i + 1 for i, ln in enumerate(textwrap.dedent(text).splitlines()) if needle in ln]
    return hits[nth - 1]


def by_id(report: SpecReport) -> dict[str, MutantResult]:
    return {r.mutant.ident(report.spec): r for r in report.results}


# ---------------------------------------------------------------- a lock around a counter

COUNTER = """\
    import "spinlock";
    spinlock_t l;
    int[0..2] total = 0;

    void bump() {
        spin_lock(&l);
        int[0..2] seen = total;
        total = seen + 1;
        spin_unlock(&l);
    }

    thread worker() { bump(); }

    final both_counted: total == 2;

    scenario two_workers { run worker(); run worker(); expect verified; }
    """


def test_counter_mutants_and_how_each_is_killed(spec_file: Callable[..., Path]) -> None:
    path = spec_file(COUNTER)
    lock, unlock = line_of(COUNTER, "spin_lock(&l)"), line_of(COUNTER, "spin_unlock(&l)")
    report = suite(path)
    got = by_id(report)
    assert sorted(got) == sorted([
        f"drop-lock@{lock}", f"drop-lock-pair@{lock}", f"lock-to-trylock@{lock}",
        f"drop-unlock@{unlock}", f"move-unlock@{unlock}#1", f"move-unlock@{unlock}#2"])
    assert all(r.verdict == KILLED for r in report.results)
    assert report.kill_rate == 1.0 and report.ok
    # Without the lock the second spin_unlock() finds it free: the debug owner check.
    k = got[f"drop-lock@{lock}"].kill
    assert k is not None and (k.kind, k.name) == ("assert", "spin_unlock of a lock not held")
    # Without lock and unlock, the two read-modify-writes interleave: a lost update.
    # Shortest: both read 0 (2 steps), both write 1, the second write ends both threads.
    k = got[f"drop-lock-pair@{lock}"].kill
    assert k is not None and (k.kind, k.name, k.steps) == ("final", "both_counted", 4)
    # The unlock moved above the store: the store races with the other thread's read.
    k = got[f"move-unlock@{unlock}#1"].kill
    assert k is not None and (k.kind, k.name) == ("final", "both_counted")
    # The first worker ends holding the lock: lock, read, write and end are its 3 steps.
    k = got[f"drop-unlock@{unlock}"].kill
    assert k is not None and (k.kind, k.name, k.steps) == ("on_exit", "lock_held_at_exit", 3)
    assert got[f"move-unlock@{unlock}#1"].mutant.description == (
        f"moved spin_unlock(&l) above line {unlock - 1} (`total = seen + 1;`)")
    assert got[f"drop-lock-pair@{lock}"].mutant.label == \
        "bump: dropped spin_lock(&l) and its unlock"


def test_list_only_runs_no_mutant(spec_file: Callable[..., Path]) -> None:
    report = suite(spec_file(COUNTER), list_only=True)
    assert len(report.results) == 6
    assert all(r.verdict == "not run" and r.mutant.scenarios == ["two_workers"]
               for r in report.results)


def test_a_state_limit_gives_incomplete_never_killed(spec_file: Callable[..., Path]) -> None:
    path = spec_file(COUNTER)
    unlock = line_of(COUNTER, "spin_unlock(&l)")
    report = suite(path, max_states=3, mutants=(f"move-unlock@{unlock}#1",))
    [r] = report.results
    assert r.verdict == INCOMPLETE and r.kill is None
    assert r.cut_short == ["two_workers (states)"] or r.cut_short[0].startswith("two_workers")
    assert not report.ok


def test_unknown_mutant_id_is_an_error(spec_file: Callable[..., Path]) -> None:
    with pytest.raises(SpecError, match="no mutant drop-lock@1 "):
        suite(spec_file(COUNTER), mutants=("drop-lock@1",))


# ---------------------------------------------------------------- rechecks, trylocks, lock order

TOKEN = """\
    import "spinlock";
    spinlock_t a;
    spinlock_t b;
    bool token = true;
    int[0..1] taken = 0;

    // Take the token once: a lockless test, then the recheck under the lock.
    void take() {
        if (!token)
            return;
        spin_lock(&a);
        if (!token) {
            spin_unlock(&a);
            return;
        }
        token = false;
        taken++;
        spin_unlock(&a);
    }

    thread taker() { take(); }

    thread ab() {
        spin_lock(&a);
        spin_lock(&b);
        spin_unlock(&b);
        spin_unlock(&a);
    }

    // Against ab(): b first, so a is only tried, and given up on failure.
    thread ba() {
        spin_lock(&b);
        if (!spin_trylock(&a)) {
            spin_unlock(&b);
            return;
        }
        spin_unlock(&a);
        spin_unlock(&b);
    }

    thread lonely() { spin_lock(&b); spin_unlock(&b); }

    scenario two_takers { run taker(); run taker(); expect verified; }
    scenario abba { run ab(); run ba(); expect verified; }
    scenario unchecked { run lonely(); expect deadlock; }
    """


@pytest.fixture(scope="module")
def token_report(tmp_path_factory: pytest.TempPathFactory) -> SpecReport:
    path = tmp_path_factory.mktemp("token") / "token.mig"
    path.write_text(textwrap.dedent(TOKEN), encoding="utf-8")
    return suite(path)


def test_recheck_under_the_lock_is_dropped_not_the_lockless_test(
        token_report: SpecReport) -> None:
    got = by_id(token_report)
    rechecks = [i for i in got if i.startswith("drop-recheck@")]
    # Only the test under spin_lock(&a) is a recheck; the lockless one before it is not.
    assert rechecks == [f"drop-recheck@{line_of(TOKEN, 'if (!token) {')}"]
    r = got[rechecks[0]]
    assert r.mutant.description == "dropped the check `!token`: its bail-out is never taken"
    # Both takers take the token: taken++ goes out of its range.
    assert r.kill is not None and r.kill.kind == "range" and r.kill.scenario == "two_takers"


CALLEE = """\
    import "spinlock";
    spinlock_t l;
    bool token = true;
    int[0..1] taken = 0;

    // Called with l held: its test of the token is made under the caller's lock.
    void take_locked() {
        if (!token)
            return;
        token = false;
        taken++;
    }

    thread taker() { spin_lock(&l); take_locked(); spin_unlock(&l); }

    scenario two_takers { run taker(); run taker(); expect verified; }
    """


def test_a_recheck_under_the_callers_lock(spec_file: Callable[..., Path]) -> None:
    report = suite(spec_file(CALLEE), mutants=(f"drop-recheck@{line_of(CALLEE, 'if (!token)')}",))
    [r] = report.results
    assert r.mutant.label == "take_locked: dropped the check `!token`: its bail-out is never taken"
    assert r.kill is not None and r.kill.kind == "range"


def test_trylock_to_lock_deadlocks_and_lock_order(token_report: SpecReport) -> None:
    report = token_report
    got = by_id(report)
    trylock = line_of(TOKEN, "spin_trylock(&a)")
    k = got[f"trylock-to-lock@{trylock}"].kill
    assert k is not None and k.kind == "deadlock" and k.scenario == "abba"
    assert got[f"trylock-to-lock@{trylock}"].mutant.description == (
        "spin_trylock(&a) replaced by spin_lock(&a), which waits and succeeds")
    # ab() taking b first agrees with ba(), which only tries a: the swap is harmless.
    swap_ab = got[f"swap-locks@{line_of(TOKEN, 'spin_lock(&a);', 2)}"]
    assert swap_ab.verdict == SURVIVED
    # ba() trying a before taking b unlocks b, not held, when the trylock fails.
    k = got[f"swap-locks@{line_of(TOKEN, 'spin_lock(&b);', 2)}"].kill
    assert k is not None and (k.kind, k.name) == ("assert", "spin_unlock of a lock not held")
    # lonely() runs only in a scenario that expects a violation: no mutant of it.
    lonely = line_of(TOKEN, "thread lonely")
    assert not [i for i in got if i.endswith(f"@{lonely}")]
    assert report.scenarios == ["two_takers", "abba"]


def test_a_harmless_declaration_beside_the_statement(spec_file: Callable[..., Path]) -> None:
    text = TOKEN.replace(
        "    thread ab() {\n        spin_lock(&a);",
        "    thread ab() {\n        // mutant-harmless swap-locks: ba() only tries a\n"
        "        spin_lock(&a);")
    report = suite(spec_file(text))
    declared = [r for r in report.results if r.verdict == HARMLESS]
    assert [r.mutant.op for r in declared] == ["swap-locks"]
    assert declared[0].declared is not None
    assert declared[0].declared.reason == "ba() only tries a"
    # The kill rate counts only the mutants not declared harmless.
    killed = sum(1 for r in report.results if r.verdict == KILLED)
    assert report.judged == len(report.results) - 1
    assert report.kill_rate == killed / report.judged and not report.unused


def test_a_declaration_on_a_killed_mutant_is_wrong(spec_file: Callable[..., Path]) -> None:
    text = COUNTER.replace("        spin_unlock(&l);",
                           "        spin_unlock(&l);  // mutant-harmless drop-unlock: not so")
    report = suite(spec_file(text))
    [r] = [r for r in report.results if r.mutant.op == "drop-unlock"]
    assert r.verdict == MISDECLARED and not report.ok


def test_declarations_that_match_nothing_are_reported(spec_file: Callable[..., Path]) -> None:
    text = COUNTER.replace("        int[0..2] seen = total;",
                           "        // mutant-harmless swap-locks: there is one lock\n"
                           "        int[0..2] seen = total;")
    report = suite(spec_file(text))
    assert [d.selector for d in report.unused] == ["swap-locks"]


@pytest.mark.parametrize(("comment", "error"), [
    ("// mutant-harmless drop-the-lock: why", "unknown mutation operator 'drop-the-lock'"),
    ("// mutant-harmless drop-lock:", "a harmless mutant needs its reason"),
    ("// mutant-harmless", "malformed declaration"),
])
def test_malformed_declarations_are_spec_errors(spec_file: Callable[..., Path], comment: str,
                                                error: str) -> None:
    text = COUNTER.replace("        spin_lock(&l);", f"        {comment}\n        spin_lock(&l);")
    path = spec_file(text)
    with pytest.raises(SpecError) as info:
        suite(path)
    rendered = info.value.render()
    assert f"{path}:{line_of(text, comment)}:5: error: {error}" in rendered
    assert "^" in rendered


# ---------------------------------------------------------------- lock wrappers

WRAPPED = """\
    import "spinlock";
    spinlock_t l;
    thread_local int[0..1] depth = 0;
    int[0..2] total = 0;

    // Wrappers with private bookkeeping: the lock operation is the call site.
    void grab() { depth++; spin_lock(&l); }
    void drop() { spin_unlock(&l); depth--; }

    thread worker() {
        grab();
        total++;
        drop();
    }

    final both_counted: total == 2;

    scenario two_workers { run worker(); run worker(); expect verified; }
    """


def test_wrappers_are_mutated_at_their_call_sites(spec_file: Callable[..., Path]) -> None:
    report = suite(spec_file(WRAPPED), list_only=True)
    grab, drop = line_of(WRAPPED, "grab();"), line_of(WRAPPED, "drop();")
    assert sorted(by_id(report)) == sorted([
        f"drop-lock@{grab}", f"drop-lock-pair@{grab}", f"drop-unlock@{drop}",
        f"move-unlock@{drop}"])
    assert by_id(report)[f"drop-lock-pair@{grab}"].mutant.description == \
        f"dropped grab() and its unlock at line {drop}"


def test_an_unlock_stays_below_the_declaration_of_its_lock(
        spec_file: Callable[..., Path]) -> None:
    text = """\
        import "spinlock";
        struct box { spinlock_t lock; int[0..2] n; };
        pool struct box boxes[1];
        struct box *B;
        init { B = alloc(boxes); }

        thread worker() {
            spin_lock(&B->lock);
            B->n++;
            struct box *b = B;
            spin_unlock(&b->lock);
        }

        scenario two { run worker(); run worker(); expect verified; }
        """
    report = suite(spec_file(text), list_only=True)
    moves = [r.mutant for r in report.results if r.mutant.op == "move-unlock"]
    # Not above `struct box *b = B;`, which declares what it unlocks.
    assert moves == []
    # Locks pair with unlocks by the text of their argument, as a reviewer reads
    # them: &B->lock and &b->lock are not paired, so there is no drop-lock-pair.
    assert {r.mutant.op for r in report.results} == {"drop-lock", "drop-unlock",
                                                     "lock-to-trylock"}


# ---------------------------------------------------------------- the command line

MIGCHECK = [sys.executable, "-m", "checker"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MIGCHECK, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_cli_exit_0_when_every_mutant_is_killed(tmp_path: Path) -> None:
    spec = tmp_path / "counter.mig"
    spec.write_text(textwrap.dedent(COUNTER))
    r = cli("mutate", str(spec), "-I", MODELS[0])
    assert r.returncode == 0, r.stdout + r.stderr
    lock = line_of(COUNTER, "spin_lock(&l)")
    assert f"drop-lock@{lock}" in r.stdout
    assert f"line {lock}: dropped spin_lock(&l)" in r.stdout
    assert "two_workers: assert 'spin_unlock of a lock not held'" in r.stdout
    assert "kill rate 100.0%: 6 of 6 mutants killed (0 declared harmless)" in r.stdout


def test_cli_exit_1_on_a_survivor_and_list(tmp_path: Path) -> None:
    spec = tmp_path / "token.mig"
    spec.write_text(textwrap.dedent(TOKEN))
    r = cli("mutate", str(spec), "-I", MODELS[0], "-q", "-s", "abba")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "SURVIVED" in r.stdout and "swap-locks@" in r.stdout
    assert "killed" not in r.stdout.replace("mutants killed", "")  # -q: survivors only
    listed = cli("mutate", str(spec), "-I", MODELS[0], "--list")
    assert listed.returncode == 0, listed.stderr
    assert f"trylock-to-lock@{line_of(TOKEN, 'spin_trylock(&a)')}" in listed.stdout


def test_cli_spec_without_fixed_scenario_exits_2(tmp_path: Path) -> None:
    spec = tmp_path / "token.mig"
    spec.write_text(textwrap.dedent(TOKEN))
    r = cli("mutate", str(spec), "-I", MODELS[0], "-s", "unchecked")
    assert r.returncode == 2
    assert "no fixed scenario to mutate" in r.stderr


def test_sample_takes_each_operator_in_turn(spec_file: Callable[..., Path]) -> None:
    report = suite(spec_file(COUNTER), list_only=True, sample=3)
    assert [r.mutant.op for r in report.results] == ["drop-lock", "drop-lock-pair", "drop-unlock"]
    assert len(report.found) == 6


# ---------------------------------------------------------------- every spec under specs/

SAMPLE = 12  # mutants per spec in the quick run; `make test-slow` runs them all


def _specs_with_fixed_scenarios() -> list[Path]:
    out = []
    for spec in sorted((ROOT / "specs").rglob("*.mig")):
        scenarios = elaborate(load_program(spec)).scenarios.values()
        if any((sc.expect is None or sc.expect.kind == "verified") and "slow" not in sc.tags
               for sc in scenarios):
            out.append(spec)
    return out


SPECS = [pytest.param(s, id=str(s.relative_to(ROOT / "specs")))
         for s in _specs_with_fixed_scenarios()]


def _known(spec: Path) -> dict[str, tuple[str, str]]:
    return SURVIVORS.get(str(spec.relative_to(ROOT / "specs")), {})


def _check_report(report: SpecReport) -> None:
    """What every run must satisfy, whole or sampled."""
    root = report.spec
    assert not [s for s in report.skipped if s.broken], report.skipped
    problems = [f"{r.mutant.ident(root)} {r.mutant.description}: {r.verdict} {r.error}"
                for r in report.results if r.verdict in (INVALID, MISDECLARED)]
    assert not problems, problems
    assert not report.unused, [f"{d.span}: {d.selector}" for d in report.unused]


def _unexplained(report: SpecReport, known: dict[str, tuple[str, str]]) -> list[str]:
    return [f"{r.mutant.where(report.spec)}: {r.mutant.label} ({r.verdict})"
            for r in report.results
            if r.verdict in (SURVIVED, INCOMPLETE) and r.mutant.label not in known]


HOW = ("mutants no fixed scenario kills: declare each harmless beside its statement, "
       "with the reason, or record it with its analysis in tests/mutation_survivors.py:\n  ")


@pytest.mark.parametrize("spec", SPECS)
def test_spec_kills_a_sample_of_its_mutants(spec: Path) -> None:
    """The quick regression: a sample spread over operators and functions,
    leaving out the known survivors (each costs a complete search)."""
    known = _known(spec)
    report = mutation_suite(str(spec), SuiteOptions(
        skip_tags=("slow",), skip_labels=frozenset(known), skip_declared=True, sample=SAMPLE))
    if not report.found:
        pytest.skip("no lock operation or recheck in code the fixed scenarios run")
    _check_report(report)
    new = _unexplained(report, known)
    assert not new, HOW + "\n  ".join(new)
    assert all(r.verdict == KILLED for r in report.results)


@pytest.mark.slow
@pytest.mark.parametrize("spec", SPECS)
def test_spec_kills_its_mutants(spec: Path) -> None:
    """Every mutant: killed, declared harmless in the spec, or recorded with its
    analysis; the kill rate is then exactly what the records say."""
    known = _known(spec)
    report = mutation_suite(str(spec), SuiteOptions(skip_tags=("slow",)))
    if not report.found:
        pytest.skip("no lock operation or recheck in code the fixed scenarios run")
    _check_report(report)
    new = _unexplained(report, known)
    assert not new, HOW + "\n  ".join(new)
    survivors = {r.mutant.label for r in report.results if r.verdict in (SURVIVED, INCOMPLETE)}
    declared = {r.mutant.label for r in report.results if r.verdict == HARMLESS}
    stale = [label for label in known if label not in survivors | declared]
    assert not stale, f"recorded survivors now killed or gone: remove them: {stale}"
    recorded = len(survivors & set(known))
    assert report.count(KILLED) == report.judged - recorded
    assert report.kill_rate == pytest.approx(1 - recorded / report.judged)


def test_jobs_give_the_report_of_one_process(spec_file: Callable[..., Path]) -> None:
    """The mutants on three forked processes: the same verdicts, kills (trace
    lengths included), state counts and errors, in the same order, as one
    after another in this process."""
    path = spec_file(COUNTER)

    def facts(report: SpecReport) -> list[tuple[object, ...]]:
        return [(r.mutant.ident(report.spec), r.verdict, r.kill, r.states, r.cut_short, r.error)
                for r in report.results]

    one, three = suite(path, jobs=1), suite(path, jobs=3)
    assert len(one.results) == 6 and all(r.states > 0 for r in one.results)
    assert facts(three) == facts(one)
