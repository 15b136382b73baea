"""Counterexample contents: steps, columns, changes, JSON round trip."""

from __future__ import annotations

from checker.explore.codegen import compile_system
from checker.trace.jsonio import dumps
from checker.trace.model import Trace, build_trace
from checker.trace.replay import replay_on
from checker.trace.text import render
from tests.conftest import run, systems

RACE = """
struct obj { int[0..3] data; };
pool struct obj objs[1];
struct obj *g = null;
bool gone = false;
thread reader() {
    int[0..3] v;
    if (!gone)
        v = g->data;
}
thread freer() {
    gone = true;
    free(g);
}
init { g = alloc(objs); g->data = 2; }
scenario race { run reader(); run freer(); expect use_after_free; }
"""


def _trace(path) -> Trace:
    r = run(path)
    assert r.violation is not None
    return build_trace(r.compiled or compile_system(r.ts), r.violation)


def test_trace_steps_threads_and_changes(spec_file):
    tr = _trace(spec_file(RACE))
    assert [(s.thread, s.line, s.text) for s in tr.steps] == [
        (1, 8, "if (!gone)"),
        (2, 12, "gone = true;"),
        (2, 13, "free(g);"),
        (1, 9, "v = g->data;"),
    ]
    assert [(c.var, c.before, c.after) for c in tr.steps[1].changes] == [
        ("gone", "false", "true")]
    assert ("objs[0]", "allocated", "free") in [(c.var, c.before, c.after)
                                               for c in tr.steps[2].changes]
    assert tr.steps[-1].fault == "read objs[0] after it was freed"
    assert tr.final_state["gone"] == "true"


def test_text_has_one_column_per_thread(spec_file):
    text = render(_trace(spec_file(RACE)))
    lines = text.splitlines()
    header = next(line for line in lines if "T1 reader()" in line)
    col2 = header.index("T2 freer()")
    free_line = next(line for line in lines if "free(g);" in line)
    assert free_line.index("13  free(g);") >= col2 - 1
    read_line = next(line for line in lines if "v = g->data;" in line)
    assert read_line.index("9  v = g->data;") < col2
    assert "!! read objs[0] after it was freed" in text


def test_json_round_trip_and_replay(spec_file):
    import json

    path = spec_file(RACE)
    tr = _trace(path)
    back = Trace.from_dict(json.loads(dumps(tr)))
    assert back == tr
    assert replay_on(back, systems(path)[0]).reproduced


def test_deadlock_trace_lists_blocked_threads(spec_file):
    tr = _trace(spec_file("""
        bool a = false;
        bool b = false;
        thread t1() { await a; b = true; }
        thread t2() { await b; a = true; }
        scenario s { run t1(); run t2(); expect deadlock; }
    """))
    assert tr.kind == "deadlock" and tr.steps == []
    assert tr.blocked == {1: "line 4: await a;", 2: "line 5: await b;"}
    assert "threads that cannot move:" in render(tr)


def test_livelock_trace_has_a_loop(spec_file):
    path = spec_file("""
        bool flag = false;
        int[0..1] spins = 0;
        thread spinner() { while (!flag) { spins = 1; spins = 0; } }
        scenario s { run spinner(); expect deadlock; }
    """)
    tr = _trace(path)
    assert tr.loop_start is not None
    assert len(tr.steps) > tr.loop_start
    assert "from here the run repeats forever" in render(tr)
    assert replay_on(tr, systems(path)[0]).reproduced
