"""C idioms the spec language accepts as C does (issue 12, "The language"):
assignment in conditions, `start` and `pool` as identifiers, `while (true)`
left by `return`, indexing a pool, a call under `?:` in a condition,
constant loops inside `atomic`, scenarios whose number of threads is a
constant, and `-D` naming the valid names.

Each program has its state and transition counts worked out by hand in a
comment, and the explicit engine, the VM (`--engine vm`) and BMC must agree
on it: the same verdict, and for both explicit engines the same counts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from checker.dsl.diagnostics import SpecError
from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.ir.nodes import TransitionSystem
from checker.symbolic.bmc import check_bmc
from checker.vm.search import vm_bfs
from tests.conftest import errors, systems
from tests.oracle import explore

SpecFile = Callable[[str], Path]


def agree(ts: TransitionSystem, states: int, transitions: int, kind: str | None = None,
          depth: int = 24) -> None:
    """The reference interpreter searched naively (tests/oracle.py), the
    explicit engine and the VM find `states` and `transitions` and the
    violation `kind` (None: verified); BMC to `depth` the same verdict."""
    want = explore(ts)
    assert want.kind == kind, want
    if kind is None:
        assert (want.states, want.transitions) == (states, transitions), want
    for engine in (None, vm_bfs):
        r = check(ts, CheckOptions(), engine=engine)
        got = r.violation.kind if r.violation is not None else None
        assert got == kind, (engine, r.violation)
        if kind is None:
            assert (r.stats.states, r.stats.transitions) == (states, transitions), engine
        assert r.met, engine
    b = check_bmc(ts, depth)
    if kind is None:
        assert b.verdict == "verified", b.verdict
    else:
        assert b.violation is not None and b.violation.kind == kind, b.violation


def only(path: Path, overrides: dict[str, int] | None = None) -> TransitionSystem:
    (ts,) = systems(path, overrides)
    return ts


# ---------------------------------------------------------------- assignment in conditions


def test_an_assignment_in_a_condition_is_one_step_with_its_test(spec_file: SpecFile) -> None:
    # Each t stores g + 1 and tests the value in one step, so exactly one of
    # them sees 1. S0; t1 first: S1 (g=1, t1 before hits++), then t1: S2
    # (h=1) or t2: S3 (g=2, t2 done); the same three with t2 first; S4 (g=2,
    # h=1, both done) from each of S2, S3 and their mirrors: 8 states, 10
    # transitions.
    p = spec_file("""
        int[0..3] g = 0;
        int[0..3] hits = 0;
        thread t() { if ((g = g + 1) == 1) hits++; }
        final one_saw_one: hits == 1;
        scenario s { run t(); run t(); }
    """)
    agree(only(p), 8, 10)


def test_while_assigns_from_a_call_until_null(spec_file: SpecFile) -> None:
    # `while ((p = next(p)) != null)` over a two-node list. next() reads
    # shared state (one step each: head, a->next, b->next); the store to the
    # local p and the test fuse with it; `sum += p->v` is a step of its own:
    # 5 steps, 6 states.
    p = spec_file("""
        struct node { struct node *next; int[0..3] v; };
        pool struct node nodes[2];
        struct node *head = null;
        int[0..7] sum = 0;
        struct node *next(struct node *p) {
            if (p == null)
                return head;
            return p->next;
        }
        thread walk() {
            struct node *p = null;
            while ((p = next(p)) != null)
                sum += p->v;
        }
        init {
            struct node *a = alloc(nodes);
            struct node *b = alloc(nodes);
            a->next = b; a->v = 1; b->v = 2; head = a;
        }
        final summed: sum == 3;
        scenario s { run walk(); }
    """)
    agree(only(p), 6, 5)


def test_compound_and_nested_assignments_in_a_condition(spec_file: SpecFile) -> None:
    # `(a = (b += 2)) == 2`: b += 2 first, then a = b; one step with its
    # test, then `c = 1`: 3 states.
    p = spec_file("""
        int[0..3] a = 0;
        int[0..3] b = 0;
        int[0..3] c = 0;
        thread t() { if ((a = (b += 2)) == 2) c = 1; }
        final stored: a == 2 && b == 2 && c == 1;
        scenario s { run t(); }
    """)
    agree(only(p), 3, 2)


def test_an_assignment_through_a_runtime_location_keeps_its_value(spec_file: SpecFile) -> None:
    # `(a[a[0]] = 2)` with a[0] == 0 stores into a[0] itself, which moves the
    # location; the condition sees the value stored (2), not a[a[0]] = a[2].
    p = spec_file("""
        int[0..2] a[3];
        int[0..1] ok = 0;
        thread t() { if ((a[a[0]] = 2) == 2) ok = 1; }
        final saw_the_value: ok == 1;
        scenario s { run t(); }
    """)
    agree(only(p), 3, 2)


def test_an_assignment_under_and_runs_only_when_c_would(spec_file: SpecFile) -> None:
    # `g != 0 && (x = 1)`: g is 0, so x is never stored.
    p = spec_file("""
        int[0..1] g = 0;
        int[0..1] x = 0;
        thread t() { if (g != 0 && (x = 1)) { } }
        final untouched: x == 0;
        scenario s { run t(); }
    """)
    agree(only(p), 2, 1)


# ---------------------------------------------------------------- identifiers


def test_start_and_pool_are_identifiers_where_not_keywords(spec_file: SpecFile) -> None:
    # t: `start = start + pool` (a step), `start w();` (a step, with t's
    # end); w: `start++`: 4 states in a line, 3 transitions.
    p = spec_file("""
        int[0..3] start = 0;
        thread w() { start++; }
        thread t() {
            int[0..3] pool = 1;
        start:
            start = start + pool;
            start w();
        }
        final two: start == 2;
        scenario s { run t(); max w 1; }
    """)
    agree(only(p), 4, 3)


def test_pool_and_start_name_a_pool_fields_and_parameters(spec_file: SpecFile) -> None:
    # alloc, the store of p->start, the call's read of both fields, the store
    # into pool[0].pool: 4 steps, 5 states.
    p = spec_file("""
        struct zs_pool { int[0..3] start; int[0..3] pool; };
        pool struct zs_pool pool[2];
        int[0..3] count_pool(struct zs_pool *pool) { return pool->start + pool->pool; }
        thread worker(int[0..3] start) {
            struct zs_pool *p = alloc(pool);
            p->start = start;
            pool[0].pool = count_pool(p);
        }
        final counted: pool[0].pool == 1;
        scenario s { run worker(1); }
    """)
    agree(only(p), 5, 4)


def test_a_procedure_named_start(spec_file: SpecFile) -> None:
    p = spec_file("""
        int[0..3] g = 0;
        void start(int[0..3] v) { g = v; }
        thread t() { start(2); }
        final set: g == 2;
        scenario s { run t(); }
    """)
    agree(only(p), 2, 1)


# ---------------------------------------------------------------- while (true)


def test_while_true_left_by_return_reaches_no_end(spec_file: SpecFile) -> None:
    # g++ and the test `g == 2` are a step each: g++, test, g++, test (true,
    # return 3 into the local r, the assert, t's end): 5 states.
    p = spec_file("""
        int[0..3] g = 0;
        int[0..3] f() {
            while (true) {
                g++;
                if (g == 2)
                    return 3;
            }
        }
        thread t() { int[0..3] r = f(); assert(r == 3, "returned"); }
        scenario s { run t(); }
    """)
    agree(only(p), 5, 4)


def test_for_ever_without_break_reaches_no_end_either(spec_file: SpecFile) -> None:
    p = spec_file("""
        int[0..3] g = 0;
        int[0..3] f() { for (;;) { if (g == 0) return 1; } }
        thread t() { g = f(); }
        scenario s { run t(); }
    """)
    agree(only(p), 3, 2)


def test_a_loop_with_break_still_reaches_its_end(spec_file: SpecFile) -> None:
    p = spec_file("""
        int[0..3] g = 0;
        int[0..3] f() { while (true) { if (g == 0) break; } }
        thread t() { g = f(); }
        scenario s { run t(); }
    """)
    assert "'f' can reach its end without returning a value" in errors(p)


# ---------------------------------------------------------------- pools


POOL = """
    struct zspage { int[0..3] inuse; };
    pool struct zspage zspages[2];
    init { struct zspage *a = alloc(zspages); struct zspage *b = alloc(zspages); }
    thread get(struct zspage *z) { z->inuse++; }
    thread set(int[0..2] i) { zspages[i].inuse = 3; }
    final counted: zspages[1].inuse == 2 && zspages[0].inuse == 0;
"""


def test_a_pool_object_by_index(spec_file: SpecFile) -> None:
    # Two threads of one step each on zspages[1]: 4 states, 4 transitions.
    p = spec_file(POOL + "scenario s { run get(&zspages[1]); run get(&zspages[1]); }\n")
    agree(only(p), 4, 4)


def test_a_pool_index_out_of_bounds_is_an_index_fault(spec_file: SpecFile) -> None:
    p = spec_file(POOL + "scenario s { run set(2); expect out_of_bounds; }\n")
    agree(only(p), 0, 0, "out_of_bounds")


def test_a_free_pool_object_by_index_is_use_after_free(spec_file: SpecFile) -> None:
    p = spec_file(POOL + "thread drop() { free(&zspages[0]); zspages[0].inuse = 1; }\n"
                         "scenario s { run drop(); expect use_after_free; }\n")
    agree(only(p), 0, 0, "use_after_free")


def test_a_constant_pool_index_out_of_bounds_is_an_error(spec_file: SpecFile) -> None:
    p = spec_file(POOL + "scenario s { run get(&zspages[2]); }\n")
    assert "error: index 2 is out of bounds 0..1 of pool 'zspages'" in errors(p)


# ---------------------------------------------------------------- ?: with calls


def test_a_call_under_the_conditional_operator_in_a_condition(spec_file: SpecFile) -> None:
    # t(true) tests is_one() (a step reading g), then maybe `g = 2`; setter
    # stores g = 1. S0; t first: S1 (t done), then setter: S2; setter first:
    # S3, then t sees g == 1: S4, then g = 2: S5. 6 states, 5 transitions.
    p = spec_file("""
        int[0..3] g = 0;
        bool is_one() { return g == 1; }
        thread t(bool use) { if (use ? is_one() : g == 3) g = 2; }
        thread setter() { g = 1; }
        final f: g == 1 || g == 2;
        scenario s { run t(true); run setter(); }
    """)
    agree(only(p), 6, 5)


# ---------------------------------------------------------------- loops in atomic


def test_a_constant_loop_inside_atomic_is_one_step(spec_file: SpecFile) -> None:
    # w fills a[] in one step, r copies what it sees in one step: S0, w
    # done, r done, then both in either order (total 3 or 0): 5 states,
    # 4 transitions.
    p = spec_file("""
        int[0..3] a[3];
        int[0..3] total = 0;
        thread w() { atomic { for (int[0..3] i = 0; i < 3; i++) a[i] = i + 1; } }
        thread r() {
            atomic {
                for (int[0..3] i = 0; i < 3; i++) {
                    if (a[i] == 0)
                        break;
                    total = i + 1;
                }
            }
        }
        final all_or_nothing: total == 0 || total == 3;
        scenario s { run w(); run r(); }
    """)
    agree(only(p), 5, 4)


def test_a_constant_loop_in_a_procedure_called_from_atomic(spec_file: SpecFile) -> None:
    p = spec_file("""
        int[0..3] a[2];
        void fill() { for (int[0..2] i = 0; i < 2; i++) a[i] = 1; }
        thread t() { atomic { fill(); } }
        final filled: a[0] == 1 && a[1] == 1;
        scenario s { run t(); }
    """)
    agree(only(p), 2, 1)


def test_a_loop_in_atomic_that_changes_its_counter_is_an_error(spec_file: SpecFile) -> None:
    p = spec_file("""
        thread t() { atomic { for (int[0..3] i = 0; i < 3; i++) { i = 2; } } }
        scenario s { run t(); }
    """)
    assert "its body changes 'i'" in errors(p)


# ---------------------------------------------------------------- scenarios scaled by constants


COUNTED = """
    const N = 2;
    int[0..4] g = 0;
    int[0..1] seen[4];
    thread c() { g++; }
    thread d(int[0..3] i) { seen[i] = 1; }
    final all: g == N;
"""


@pytest.mark.parametrize(("n", "states", "transitions"), [(1, 2, 1), (2, 4, 4), (3, 8, 12)])
def test_run_times_a_constant_scales_with_d(spec_file: SpecFile, n: int, states: int,
                                            transitions: int) -> None:
    # N one-step threads: 2^N states, N * 2^(N-1) transitions.
    p = spec_file(COUNTED + "scenario s { run c() * N; }\n")
    agree(only(p, {"N": n}), states, transitions)


def test_a_scenario_loop_runs_one_instance_per_value(spec_file: SpecFile) -> None:
    p = spec_file(COUNTED + "final marked: forall(i in 0..N - 1: seen[i] == 1);\n"
                            "scenario s { for (i in 0..N - 1) { run d(i); run c(); } }\n")
    ts = only(p, {"N": 3})
    assert [t.label for t in ts.threads] == ["d(0)", "c()", "d(1)", "c()", "d(2)", "c()"]
    agree(ts, 64, 192)


def test_an_unknown_d_name_lists_the_valid_ones(spec_file: SpecFile) -> None:
    p = spec_file(COUNTED + "option wide = false;\nscenario s { run c(); }\n")
    with pytest.raises(SpecError) as info:
        systems(p, {"NR": 3})
    assert "-D NR: no constant or option of that name (constants: N; options: wide)" in \
        info.value.render()


ONLY_IN_CONDITIONS = "an assignment inside an expression is accepted only in the condition"
UNDER_BRANCHES = ("an assignment under '&&', '||' or '?:' is supported where the condition "
                  "itself branches")


@pytest.mark.parametrize(("body", "message"), [
    ("a = (b = 1);", ONLY_IN_CONDITIONS),  # chained, outside a condition
    ("if (f(a = 1)) { }", ONLY_IN_CONDITIONS),  # in a call's argument
    ("if ((c && (a = 1)) == true) { }", UNDER_BRANCHES),  # conditional, inside a comparison
])
def test_a_misplaced_assignment_is_an_error(spec_file: SpecFile, body: str, message: str) -> None:
    p = spec_file(f"""
        int[0..3] a = 0;
        int[0..3] b = 0;
        bool c = false;
        bool f(int[0..3] v) {{ return v == 1; }}
        thread t() {{ {body} }}
        scenario s {{ run t(); }}
    """)
    assert f"error: {message}" in errors(p)
