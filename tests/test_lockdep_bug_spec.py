"""specs/shapes/softirq_free_under_plain_lock.mig: hugetlb_lock taken by
free_huge_page() in a softirq and with a plain spin_lock() in task context
(Linux 5.4), and its two fixes: the 5.5 deferral of frees outside task
context to a workqueue (c77c0a8ac4c5) and the 5.13 irq-safe hugetlb_lock
(db71ef79b59b).

Exact verdicts and counts for every scenario (the Python engine and the
compiled machine agree), the deadlock report naming the CPU the task waits
for, the inconsistent lock state with both witnesses, and controls: each fix
taken out again fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.kinds import ExecContext, ViolationKind
from checker.trace.jsonio import load
from checker.trace.replay import replay_on
from tests.conftest import ROOT, run, system

SPEC = ROOT / "specs" / "shapes" / "softirq_free_under_plain_lock.mig"
SAVED = ROOT / "counterexamples" / "shapes"

# scenario -> (verdict, violation kind, states, transitions, trace steps)
EXPECTED = {
    "softirq_hangs_54": ("violation", ViolationKind.DEADLOCK, 13, 12, 3),
    "softirq_elsewhere_54": ("violation", ViolationKind.INCONSISTENT_LOCK_STATE, 53, 71, 3),
    "defer_free_same": ("verified", None, 113, 140, None),
    "defer_free_elsewhere": ("verified", None, 113, 185, None),
    "irq_safe_same": ("verified", None, 53, 53, None),
    "irq_safe_elsewhere": ("verified", None, 117, 190, None),
}


def _line(text: str, nth: int = 0) -> int:
    """The spec line of the nth line (from 0) that reads `text`, stripped."""
    lines = SPEC.read_text(encoding="utf-8").splitlines()
    return [i for i, line in enumerate(lines, start=1) if line.strip() == text][nth]


# free_huge_page()'s direct call in 5.4 (the softirq's spin_lock), and the
# fault path's spin_lock() (the first is __free_huge_page()'s own).
FREE_LOCK = _line("__free_huge_page();", 1)
FAULT_LOCK = _line("spin_lock(&hugetlb_lock);", 1)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", "check", str(SPEC), *args,
                           "--no-save", "--max-memory", "2000"],
                          capture_output=True, text=True, check=False, cwd=ROOT)


@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_verdicts_and_counts(scenario: str) -> None:
    from checker.vm.search import vm_bfs

    verdict, kind, states, transitions, steps = EXPECTED[scenario]
    ts = system(SPEC, scenario)
    result = check(ts)
    assert result.status == "met"
    assert result.verdict == verdict
    assert (result.stats.states, result.stats.transitions) == (states, transitions)
    if kind is None:
        assert result.violation is None
    else:
        assert result.violation is not None
        assert (result.violation.kind, result.violation.steps) == (kind, steps)
    vm = check(ts, CheckOptions(), engine=vm_bfs)
    assert (vm.verdict, vm.stats.states, vm.stats.transitions) == (verdict, states, transitions)


def test_the_hang_names_the_cpu_the_task_waits_for() -> None:
    """5.4, the softirq on the task's CPU: the task takes hugetlb_lock, the
    softirq enters and drops the last reference, free_huge_page() spins on
    the lock; the task cannot run again until the handler finishes."""
    proc = _cli("-s", "softirq_hangs_54")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = proc.stdout
    assert "deadlock found: as expected" in text
    assert "*** DEADLOCK ***" in text
    assert "T1/hugetlb_faults() is blocked at specs/shapes/softirq_free_under_plain_lock.mig:" \
        in text
    assert "waiting for CPU 0: an interrupt handler running there must finish first" in text
    assert "T2/last_put_page() is blocked at" in text
    assert ("waiting for hugetlb_lock, held by T1/hugetlb_faults() since "
            f"specs/shapes/softirq_free_under_plain_lock.mig:{FAULT_LOCK} (spin_lock)") in text
    assert "1 lock held by T1/hugetlb_faults():" in text
    # The run: the task's spin_lock, the softirq's entry, put_page_testzero().
    result = run(SPEC, "softirq_hangs_54")
    v = result.violation
    assert v is not None and result.compiled is not None
    c, ts = result.compiled, result.ts
    softirq = next(t for t in ts.threads if t.context == ExecContext.SOFTIRQ)
    task = next(t for t in ts.threads if t.kind == "hugetlb_faults")
    slot = {s.name: s.index for s in ts.slots}
    last = c.packing.unpack(v.path[-1])
    assert last[slot["hugetlb_lock.owner"]] == task.id
    assert last[slot["page_ref"]] == 0
    assert softirq.cpu == task.cpu == 0


def test_elsewhere_no_hang_but_inconsistent_lock_state_with_both_witnesses() -> None:
    """5.4, the softirq on CPU 1: the search alone verifies (no deadlock is
    reachable), but hugetlb_lock is {IN-SOFTIRQ-W} in the handler and
    {SOFTIRQ-ON-W} in the task: both runs are reported."""
    ts = system(SPEC, "softirq_elsewhere_54")
    result = check(ts)
    v = result.violation
    assert v is not None and v.kind == ViolationKind.INCONSISTENT_LOCK_STATE
    where = "specs/shapes/softirq_free_under_plain_lock.mig"
    assert v.message.startswith(
        "inconsistent {IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W} usage of lock 'hugetlb_lock': "
        f"last_put_page() takes it in softirq context at {where}:{FREE_LOCK} (the run below), "
        f"hugetlb_faults() with softirqs enabled at {where}:{FAULT_LOCK} (the other witness")
    assert v.message.endswith("(the other witness, 1 step)")
    assert result.compiled is not None
    c = result.compiled
    slot = {s.name: s.index for s in ts.slots}
    softirq = next(t for t in ts.threads if t.context == ExecContext.SOFTIRQ)
    task = next(t for t in ts.threads if t.kind == "hugetlb_faults")
    # The run: the softirq's entry, put_page_testzero(), its spin_lock.
    assert len(v.path) == 4
    assert c.packing.unpack(v.path[-1])[slot["hugetlb_lock.owner"]] == softirq.id
    # The witness: the task's spin_lock, from the initial state.
    assert len(v.witness) == 2
    assert c.packing.unpack(v.witness[-1])[slot["hugetlb_lock.owner"]] == task.id
    # No hang on another CPU: the deadlock search alone verifies.
    assert check(ts, CheckOptions().only_properties(("deadlock",))).verdict == "verified"


def test_both_witnesses_in_the_json_report() -> None:
    proc = _cli("-s", "softirq_elsewhere_54", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (result,) = json.loads(proc.stdout)
    assert result["violation"]["kind"] == "inconsistent_lock_state"
    assert [s["line"] for s in result["trace"]["steps"]][-1] == FREE_LOCK
    (witness,) = result["witness"]
    assert witness["message"].startswith("the other witness: inconsistent {IN-SOFTIRQ-W}")
    (step,) = witness["steps"]
    assert step["line"] == FAULT_LOCK and step["text"] == "spin_lock(&hugetlb_lock);"


def test_saved_counterexamples_replay() -> None:
    for scenario, kind in (("softirq_hangs_54", "deadlock"),
                           ("softirq_elsewhere_54", "inconsistent_lock_state")):
        path = SAVED / f"softirq_free_under_plain_lock.{scenario}.json"
        assert json.loads(path.read_text(encoding="utf-8"))["kind"] == kind
        assert path.with_suffix(".txt").is_file()
        got = replay_on(load(path), system(SPEC, scenario))
        assert got.reproduced, got.message


@pytest.mark.parametrize(("scenario", "option", "kind"), [
    ("defer_free_same", "defer_free", ViolationKind.DEADLOCK),
    ("defer_free_elsewhere", "defer_free", ViolationKind.INCONSISTENT_LOCK_STATE),
    ("irq_safe_same", "irq_safe", ViolationKind.DEADLOCK),
    ("irq_safe_elsewhere", "irq_safe", ViolationKind.INCONSISTENT_LOCK_STATE),
])
def test_without_the_fix_it_fails(scenario: str, option: str, kind: ViolationKind) -> None:
    """Control: the fixed scenarios with their fix switched off again (-D)
    are the 5.4 bug, in the same placement."""
    result = run(SPEC, scenario, overrides={option: 0})
    assert result.status == "unmet"
    assert result.violation is not None and result.violation.kind == kind


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = SPEC.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / SPEC.name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_irq_safe_free_alone_is_not_enough(tmp_path: Path) -> None:
    """Control: db71ef79b59b changed both sides. free_huge_page() with
    spin_lock_irqsave() but the fault path still on plain spin_lock() hangs
    the CPU and is still inconsistent."""
    path = _variant(tmp_path, "    if (irq_safe)\n        spin_lock_irq(&hugetlb_lock);\n"
                              "    else\n        spin_lock(&hugetlb_lock);",
                    "    spin_lock(&hugetlb_lock);")
    path = _variant_of(path, "    if (irq_safe)\n        spin_unlock_irq(&hugetlb_lock);\n"
                             "    else\n        spin_unlock(&hugetlb_lock);",
                       "    spin_unlock(&hugetlb_lock);")
    same = run(path, "irq_safe_same")
    assert same.violation is not None and same.violation.kind == ViolationKind.DEADLOCK
    other = run(path, "irq_safe_elsewhere")
    assert other.violation is not None
    assert other.violation.kind == ViolationKind.INCONSISTENT_LOCK_STATE
    assert other.violation.message.startswith(
        "inconsistent {IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W} usage of lock 'hugetlb_lock'")


def test_deferral_needs_the_in_task_check(tmp_path: Path) -> None:
    """Control: c77c0a8ac4c5 defers only outside task context; without the
    in_task() test the softirq takes hugetlb_lock itself, as in 5.4."""
    path = _variant(tmp_path, "if (!in_task()) {", "if (false) {")
    got = run(path, "defer_free_same").violation
    assert got is not None and got.kind == ViolationKind.DEADLOCK
    got = run(path, "defer_free_elsewhere").violation
    assert got is not None and got.kind == ViolationKind.INCONSISTENT_LOCK_STATE


def _variant_of(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path
