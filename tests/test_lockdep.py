"""Lockdep-style reports (held locks with the lines that took them, what a
blocked thread waits for, sleeping in atomic context) and the property
selection of `check` (--all-violations, --property, --list-properties)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from checker.cli import main
from checker.explore.options import CheckOptions
from checker.explore.properties import UnknownProperty, properties, property_of, select
from checker.explore.result import CheckResult, Violation
from checker.explore.run import check
from checker.locks.held import lock_report
from checker.trace.model import Trace, build_trace
from checker.trace.text import render
from tests.conftest import ROOT, run, system

SpecFile = Callable[..., Path]

# T3 sleeps under a spinlock unless T1 ran first; T1 and T2 take two mutexes
# in opposite orders. The shortest violation is T3's; the deadlock lies behind it.
SLEEPY = """\
// Linux 4.8: a sleeping call under a spinlock, and an ABBA of two mutexes.
import "spinlock";
import "mutex";

spinlock_t s;
struct mutex a;
struct mutex b;
int[0..1] x = 0;

thread first() {
    x = 1;
    mutex_lock(&a);
    mutex_lock(&b);
    mutex_unlock(&b);
    mutex_unlock(&a);
}

thread second() {
    mutex_lock(&b);
    mutex_lock(&a);
    mutex_unlock(&a);
    mutex_unlock(&b);
}

thread sleeper() {
    spin_lock(&s);
    if (x == 0)
        might_sleep();
    spin_unlock(&s);
}

scenario abba_and_sleep {
    run first();
    run second();
    run sleeper();
}
"""

EXCHANGE = ROOT / "specs" / "exchange" / "exchange_pages.mig"


def _trace(r: CheckResult, v: Violation | None = None) -> Trace:
    """The trace of `v` (default: the result's violation), as `check` prints it."""
    v = v or r.violation
    assert v is not None
    t = build_trace(r.compiled, v)
    t.locks = lock_report(r.compiled, v)
    return t


def test_page_lock_deadlock_names_both_holders_and_lines() -> None:
    """The exchange ABBA: each thread trylocked one page at line 230 and
    waits in lock_page() at line 241 for the page the other holds."""
    r = run(EXCHANGE, "exchange_abba_unisolated")
    t = _trace(r)
    lines = render(t).splitlines()
    i = lines.index("*** DEADLOCK ***")
    f = "specs/exchange/exchange_pages.mig"
    assert lines[i + 1:i + 9] == [
        f"T1/exchanger_unisolated(A, B) is blocked at {f}:241: lock_page(second);",
        f"  waiting for &page (pages[1]), held by T2/exchanger_unisolated(B, A) since "
        f"{f}:230 (trylock_page)",
        f"T2/exchanger_unisolated(B, A) is blocked at {f}:241: lock_page(second);",
        f"  waiting for &page (pages[0]), held by T1/exchanger_unisolated(A, B) since "
        f"{f}:230 (trylock_page)",
        "1 lock held by T1/exchanger_unisolated(A, B):",
        f" #0: &page (pages[0]) at {f}:230 (trylock_page), step 3",
        "1 lock held by T2/exchanger_unisolated(B, A):",
        f" #0: &page (pages[1]) at {f}:230 (trylock_page), step 6",
    ]


def test_lock_report_survives_json(tmp_path: Path) -> None:
    from checker.trace.jsonio import load, save

    t = _trace(run(EXCHANGE, "exchange_abba_unisolated"))
    save(t, tmp_path / "t.json")
    back = load(tmp_path / "t.json")
    assert back.locks == t.locks and render(back) == render(t)


def test_other_violations_list_only_the_held_locks() -> None:
    """The default spec's use-after-free: T1 holds the handle's pin bit
    (pin_tag, step 1) and has taken the zspage's migrate lock for reading
    (step 42) when it reads the freed page; nothing waits, and no preemption
    count is reported."""
    r = run(ROOT / "specs" / "zsmalloc" / "map_vs_migrate.mig", "map_vs_migrate_notrypin")
    assert r.violation is not None
    rep = lock_report(r.compiled, r.violation)
    assert rep is not None and rep.kind == "held"
    assert [(tl.thread, [(h.lock, h.shared, h.how, h.step) for h in tl.held])
            for tl in rep.threads] == [(1, [("handles[0].val.pin", False, "bit_spin_lock", 1),
                                           ("zspages[0].lock", True, "read_lock", 42)])]
    assert all(tl.wait is None and tl.preempt_count is None for tl in rep.threads)
    text = render(_trace(r))
    assert "locks held when it happened:\n2 locks held by T1/zs_map_object(H0):\n #0: " in text


def test_a_violation_with_no_lock_held_gets_no_report(spec_file: SpecFile) -> None:
    """Traces of other kinds where no lock is held keep their JSON form."""
    spec = spec_file("int[0..1] x = 0;\nthread t() { x = 1; }\n"
                     "invariant zero: x == 0;\nscenario s { run t(); }\n")
    r = run(spec, "s")
    assert r.violation is not None and lock_report(r.compiled, r.violation) is None
    assert "locks" not in build_trace(r.compiled, r.violation).to_dict()


def test_sleep_in_atomic_names_the_spinlock_and_its_line(spec_file: SpecFile) -> None:
    r = run(spec_file(SLEEPY, "sleepy.mig"))
    assert r.violation is not None and r.violation.steps == 2
    text = render(_trace(r))
    f = str(Path(r.ts.spec))
    assert (f"BUG: sleeping function called from invalid context at {f}:28\n"
            "in_atomic(): 1, preempt_count: 1, T3/sleeper()\n"
            "Preemption disabled at:\n"
            f" {f}:26 (spin_lock) s\n"
            "1 lock held by T3/sleeper():\n"
            f" #0: s at {f}:26 (spin_lock), step 1 [spinning]\n") in text


def test_all_violations_finds_the_deadlock_behind_sleeping(spec_file: SpecFile) -> None:
    path = spec_file(SLEEPY, "sleepy.mig")
    first = run(path)
    assert first.violation is not None and property_of(first.violation) == "sleep_in_atomic"
    assert not first.others  # the search stopped there
    every = run(path, opts=CheckOptions().every_violation(True))
    found = [every.violation, *every.others]
    assert [(property_of(v), v.steps) for v in found if v is not None] == [
        ("sleep_in_atomic", 2), ("deadlock", 6)]
    assert every.status == "unmet" and every.limit is None
    text = render(_trace(every, every.others[0]))
    assert "  waiting for b, held by T2/second() since" in text
    assert " #0: a at " in text and " #0: b at " in text


def test_all_violations_in_the_vm_engine(spec_file: SpecFile) -> None:
    """The VM reports through the same Outcome: same properties, same lengths."""
    from checker.vm.search import vm_bfs

    ts = system(spec_file(SLEEPY, "sleepy.mig"))
    r = check(ts, CheckOptions().every_violation(True), engine=vm_bfs)
    assert [(property_of(v), v.steps) for v in [r.violation, *r.others] if v is not None] == [
        ("sleep_in_atomic", 2), ("deadlock", 6)]


def test_property_restricts_the_search(spec_file: SpecFile) -> None:
    path = spec_file(SLEEPY, "sleepy.mig")
    r = run(path, opts=CheckOptions().only_properties(("deadlock",)))
    assert r.violation is not None and property_of(r.violation) == "deadlock"
    r = run(path, opts=CheckOptions().only_properties(("null_deref",)))
    assert r.verdict == "verified"
    with pytest.raises(UnknownProperty, match="'nonesuch' is not a property"):
        select(system(path), ["nonesuch"])


# Both threads fault at their first step: t0's assert, t1's null dereference.
TWO_FAULTS = """
    struct node { struct node *next; };
    pool struct node nodes[1];
    thread t0() { assert(false, "t0 always fails"); }
    thread t1() { struct node *p = null; p->next = p; }
    scenario s { run t0(); run t1(); }
"""


@pytest.mark.parametrize("engine", ["python", "vm", "workers"])
def test_a_fault_of_another_thread_in_the_same_state_is_not_hidden(
        spec_file: SpecFile, engine: str) -> None:
    """In the initial state both threads fault, and no other state exists.
    Each fault is offered: --property null_deref finds t1's (it was once
    dropped behind t0's assert, and the search said verified), and
    --all-violations reports both properties."""
    from checker.vm.parallel import parallel_bfs
    from checker.vm.search import vm_bfs

    ts = system(spec_file(TWO_FAULTS, "two.mig"))
    search = {"python": None, "vm": vm_bfs, "workers": parallel_bfs(2)}[engine]
    r = check(ts, CheckOptions().only_properties(("null_deref",)), engine=search)
    assert r.verdict == "violation" and r.violation is not None
    assert property_of(r.violation) == "null_deref" and r.violation.steps == 1
    r = check(ts, CheckOptions().every_violation(True), engine=search)
    assert sorted(property_of(v) for v in [r.violation, *r.others] if v is not None) == \
        ["assert:t0 always fails", "null_deref"]


def test_a_restricted_verdict_names_what_was_checked(
        spec_file: SpecFile, capsys: pytest.CaptureFixture[str]) -> None:
    """A scenario verified under --property says which properties that covers."""
    path = spec_file(SLEEPY, "sleepy.mig")
    assert main(["check", str(path), "--property", "null_deref", "--no-save"]) == 0
    out = capsys.readouterr().out
    assert "verified" in out and "note: only --property null_deref was checked" in out


def test_property_drops_unselected_invariants(spec_file: SpecFile) -> None:
    """An unselected invariant neither stops nor prunes the search: the
    assert behind its violation is still reached."""
    path = spec_file("""\
        // Linux: none.
        int[0..2] x = 0;
        invariant small: x < 1;
        thread t() { x = 1; x = 2; assert(x == 0, "x back to zero"); }
        scenario s { run t(); }
        """)
    assert property_of(run(path).violation) == "invariant:small"  # type: ignore[arg-type]
    r = run(path, opts=CheckOptions().only_properties(("x back to zero",)))
    assert r.violation is not None and property_of(r.violation) == "assert:x back to zero"


def test_list_properties(spec_file: SpecFile, capsys: pytest.CaptureFixture[str]) -> None:
    path = spec_file(SLEEPY, "sleepy.mig")
    names = [p.name for p in properties(system(path))]
    assert names[:2] == ["sleep_in_atomic", "assert:mutex recursion"]
    assert "deadlock" in names and "null_deref" in names and "livelock" not in names
    assert main(["check", str(path), "-I", str(ROOT / "models"), "--list-properties"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "scenario abba_and_sleep:"
    assert out[1].split()[0] == "sleep_in_atomic" and "models/preempt.mig:21" in out[1]


def test_cli_all_violations_json(spec_file: SpecFile, capsys: pytest.CaptureFixture[str]) -> None:
    path = spec_file(SLEEPY, "sleepy.mig")
    rc = main(["check", str(path), "-I", str(ROOT / "models"), "--all-violations",
               "--format", "json", "--no-save"])
    assert rc == 1  # verified was expected
    (res,) = json.loads(capsys.readouterr().out)
    assert res["property"] == "sleep_in_atomic"
    assert res["trace"]["locks"]["kind"] == "sleep_in_atomic"
    (other,) = res["others"]
    assert other["property"] == "deadlock"
    held = {t["thread"]: [h["line"] for h in t["held"]]
            for t in other["trace"]["locks"]["threads"]}
    assert held == {1: [12], 2: [19]}
    assert main(["check", str(path), "-I", str(ROOT / "models"), "--property", "nonesuch"]) == 2


def test_all_violations_cut_short_is_never_verified(spec_file: SpecFile) -> None:
    path = spec_file(SLEEPY, "sleepy.mig")
    r = run(path, opts=CheckOptions().every_violation(True).max_states(20))
    assert r.verdict == "violation" and r.limit is not None and not r.others
    r = run(path, opts=CheckOptions().every_violation(True).max_states(5))
    assert r.verdict == "incomplete"


def test_sarif_carries_the_held_locks() -> None:
    from checker.report.check import sarif_check

    r = run(EXCHANGE, "exchange_abba_unisolated")
    (res,) = json.loads(sarif_check([(r, _trace(r))]))["runs"][0]["results"]
    held = [x["message"]["text"] for x in res["relatedLocations"] if "holds" in x["message"]["text"]]
    assert held == ["T1 holds &page (pages[0]), taken here (trylock_page, step 3)",
                    "T2 holds &page (pages[1]), taken here (trylock_page, step 6)"]
    assert res["properties"]["lockdep"][0] == "*** DEADLOCK ***"


def test_a_wait_for_an_event_names_what_it_reads() -> None:
    r = run(ROOT / "specs" / "shapes" / "lost_wakeup.mig", "destroy_vs_putback_reordered")
    assert "  waiting for a condition over task_not_running (an event: no held lock covers it)" \
        in render(_trace(r)).splitlines()
