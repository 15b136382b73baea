"""One vocabulary (checker/kinds.py): every fault kind is worded once and
reads the same whichever engine found it.

For one small program per fault kind, the reference interpreter (stepping
the scenario's single thread), the explicit engine (BFS and DFS) and BMC
must report the same kind and the same message, and the message must be
the table's template filled in. The table itself must cover every kind,
and every kind must be a SARIF rule and an `expect` word.
"""

from __future__ import annotations

import string

import pytest

from checker.backends.spin import missing_tools
from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.ir.interp import Fault, Interp
from checker.ir.nodes import TransitionSystem
from checker.kinds import CHECKS, EXPECT_WORDS, Check, ViolationKind, describe
from checker.report.sarif import RULES
from checker.symbolic.bmc import check_bmc
from tests.conftest import systems
from tests.spin_referee import referee_one

OBJ = "struct obj { int[0..1] v; };\npool struct obj objs[1];\n"

# kind -> (spec text, the message every engine must give)
FAULTS: dict[ViolationKind, tuple[str, str]] = {
    ViolationKind.NULL_DEREF: (
        OBJ + "struct obj *g = null;\nthread t() { g->v = 1; }\n",
        "write through a null objs reference"),
    ViolationKind.USE_AFTER_FREE: (
        OBJ + "thread t() { struct obj *a = alloc(objs); free(a); a->v = 1; }\n",
        "write objs[0] after it was freed"),
    ViolationKind.DOUBLE_FREE: (
        OBJ + "thread t() { struct obj *a = alloc(objs); free(a); free(a); }\n",
        "free of objs[0], already freed"),
    ViolationKind.OUT_OF_BOUNDS: (
        "int[0..3] arr[2];\nint[0..3] i = 0;\nthread t() { i = 3; arr[i] = 1; }\n",
        "write: index 3 out of bounds 0..1"),
    ViolationKind.RANGE: (
        "int[0..3] g = 0;\nthread t() { g = 2; g = g + 2; }\n",
        "g = 4 is outside 0..3"),
    ViolationKind.DIV_ZERO: (
        "int[0..3] g = 0;\nint[0..3] h = 1;\nthread t() { g = 0; h = 2 / g; }\n",
        "division by zero"),
    ViolationKind.SHIFT: (
        "int[-3..3] c = -1;\nint[-64..64] m = 0;\nthread t() { c = -2; m = 8 >> c; }\n",
        "shift by a negative amount (-2)"),
    ViolationKind.ASSERT: (
        "int[0..3] g = 0;\nthread t() { g = 1; assert(g == 0, \"zero\"); }\n",
        "assertion 'zero' failed"),
    ViolationKind.THREAD_LIMIT: (
        "int[0..3] g = 0;\nthread worker() { g = 1; }\n"
        "thread t() { start worker(); start worker(); }\n",
        "start worker: all 1 instance slot(s) busy; raise the bound with "
        "'max worker N;' in the scenario"),
}


def _build(spec_file, text: str, kind: ViolationKind) -> TransitionSystem:
    path = spec_file(text + f"scenario s {{ run t(); expect {kind}; }}\n")
    (ts,) = systems(path)
    return ts


def _interpreter_fault(ts: TransitionSystem) -> Fault:
    """Run the scenario's threads one step at a time, first enabled action
    first (each program has one run up to its fault), to the fault."""
    interp = Interp(ts.slots, ts.pools)
    state = list(ts.initial)
    for _ in range(50):
        for t in ts.threads:
            for a in ts.actions_at(t.id, state[t.pc_slot]):
                try:
                    new = interp.step(a, state, t.pc_slot)
                except Fault as f:
                    return f
                if new is not None:
                    state = new
                    break
            else:
                continue
            break
    raise AssertionError("no fault")


@pytest.mark.parametrize("kind", list(FAULTS), ids=str)
def test_every_engine_words_a_fault_the_same(spec_file, kind: ViolationKind) -> None:
    text, message = FAULTS[kind]
    ts = _build(spec_file, text, kind)
    fault = _interpreter_fault(ts)
    assert (fault.kind, fault.message) == (kind, "assertion failed" if kind == "assert"
                                           else message)
    for opts in (CheckOptions(), CheckOptions().strategy("dfs")):
        r = check(ts, opts)
        assert r.violation is not None and r.met, (opts, r.verdict)
        assert (r.violation.kind, r.violation.message) == (kind, message)
    b = check_bmc(ts, 8)
    assert b.violation is not None
    assert (b.violation.kind, b.violation.message) == (kind, message)


# Two checks fail in one statement: the one C makes first names the fault
# (checker.kinds.Check's docstring), in every engine.
FIRST_OF_TWO: dict[str, tuple[ViolationKind, str]] = {
    "an operand before its operator": (
        ViolationKind.OUT_OF_BOUNDS,
        "int[0..3] a[2];\nint[0..3] z = 0;\nint[0..3] y = 0;\n"
        "thread t() { int[0..3] i = 2; y = a[i] / z; }\n"),
    "the stored value before the location": (
        ViolationKind.DIV_ZERO,
        OBJ + "struct obj *g = null;\nint[0..3] z = 0;\nthread t() { g->v = 1 / z; }\n"),
    "the shift count before the store's range": (
        ViolationKind.SHIFT,
        "int[0..1] y = 0;\nint[-1..0] c = -1;\nthread t() { y = 5 << c; }\n"),
    "the left operand before the right": (
        ViolationKind.NULL_DEREF,
        OBJ + "struct obj *g = null;\nint[0..3] z = 0;\nint[0..3] y = 0;\n"
              "thread t() { y = g->v + 1 / z; }\n"),
}


@pytest.mark.parametrize("case", list(FIRST_OF_TWO))
def test_every_engine_makes_the_checks_in_cs_order(spec_file, tmp_path, case: str) -> None:
    kind, text = FIRST_OF_TWO[case]
    ts = _build(spec_file, text, kind)
    assert _interpreter_fault(ts).kind == kind
    for found in (check(ts).violation, check(ts, CheckOptions().strategy("dfs")).violation,
                  check_bmc(ts, 8).violation):
        assert found is not None and found.kind == kind, case
    if missing_tools() is None:
        out = referee_one(ts, tmp_path)
        assert out.problems == [] and out.translated is not None, out.problems
        assert out.translated.kind == kind


def test_every_fault_kind_raised_by_a_statement_has_a_program() -> None:
    """A new rule in the table needs its program above (the kinds left out
    are properties': invariant, final, on_exit, deadlock)."""
    raised = {rule.kind for rule in CHECKS.values()}
    assert raised <= set(FAULTS)


def test_the_table_covers_every_check_and_formats() -> None:
    assert set(CHECKS) == set(Check)
    for check_id, rule in CHECKS.items():
        named = {f for _, f, _, _ in string.Formatter().parse(rule.template) if f}
        assert named == set(rule.fields), check_id
        text = rule.message(**{f: f"<{f}>" for f in rule.fields})
        assert "{" not in text and "}" not in text


def test_every_kind_is_described_a_sarif_rule_and_an_expect_word() -> None:
    for kind in ViolationKind:
        assert describe(kind)
        assert RULES[kind.value] == describe(kind)
        assert kind.value in EXPECT_WORDS
    assert "verified" in EXPECT_WORDS


def test_kinds_serialise_as_their_words() -> None:
    import json

    assert json.dumps({"kind": ViolationKind.USE_AFTER_FREE}) == '{"kind": "use_after_free"}'
    assert f"{ViolationKind.RANGE}" == "range" and ViolationKind.RANGE == "range"
