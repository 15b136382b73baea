"""`WARN_ON(cond)` and kin (include/asm-generic/bug.h): a non-fatal check
that records a warning when its condition holds and lets the run go on.

The state space is the one without the check (a warning is an event, not a
state change): the counts below are those of the same program with the
WARN_ON removed or written as a plain `if`, worked out by hand once. Each
warning site is reported with a shortest run (BFS) that fires it, checked
against the reference interpreter searched naively; the VM escapes to the
Python engine where a warning fires and gives its figures and runs; its
`--workers` search, BMC, `prove` and the Promela export refuse it.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from checker.cli import main
from checker.dsl.diagnostics import SpecError
from checker.explore.codegen import Compiled
from checker.explore.common import Outcome, StateGraph
from checker.explore.limits import Budget
from checker.explore.options import CheckOptions
from checker.explore.result import CheckResult, Stats
from checker.explore.run import check
from checker.ir.interp import Fault, Interp
from checker.ir.nodes import If, Stmt, TransitionSystem, Warn
from checker.kinds import PropertyKind
from checker.symbolic.bmc import check_bmc
from checker.trace.jsonio import load
from checker.trace.replay import replay
from checker.vm.layout import NotSupported
from checker.vm.parallel import parallel_bfs
from checker.vm.search import vm_bfs
from checker.vm.tiered import tiered_bfs
from tests.conftest import ROOT, errors, systems

SpecFile = Callable[[str], Path]

# T2 reads g once; if T1 stored 1 first, the kernel-style check fires and T2
# returns early. By hand (T1 one step; T2 the read with its test, then g = 2):
# init; T1 first -> (T1 done, g=1) -> T2 reads 1, warns, returns: (done,
# done, g=1); T2 first -> (T2 at g = 2, g=0) -> T1: (done, at g = 2, g=1)
# -> (done, done, g=2), or T2: (T1 at 1, done, g=2) -> (done, done, g=1).
# 7 states, 7 transitions, depth 3; the warning's shortest run: 2 steps.
RACE = """\
int[0..3] g = 0;

thread setter() {
    g = 1;
}

thread checker() {
    int[0..3] seen = g;
    if (COND)
        return;
    g = 2;
}

scenario race {
    run setter();
    run checker();
    EXPECT
}
"""


def race(spec_file: SpecFile, cond: str = "WARN_ON(seen == 1)", expect: str = "") -> Path:
    return spec_file(RACE.replace("COND", cond).replace("EXPECT", expect))


def only(path: Path) -> TransitionSystem:
    (ts,) = systems(path)
    return ts


def _erase(body: tuple[Stmt, ...]) -> tuple[Stmt, ...]:
    out: list[Stmt] = []
    for s in body:
        if isinstance(s, Warn):
            continue
        out.append(replace(s, then=_erase(s.then), other=_erase(s.other))
                   if isinstance(s, If) else s)
    return tuple(out)


def erased(ts: TransitionSystem) -> TransitionSystem:
    """`ts` with every Warn statement taken out of its actions."""
    return replace(ts, actions=[replace(a, body=_erase(a.body)) for a in ts.actions])


def oracle_warnings(ts: TransitionSystem) -> dict[str, int]:
    """Each warning's name and the length of its shortest run, by a naive
    breadth-first search over the reference interpreter."""
    interp = Interp(ts.slots, ts.pools)
    init = tuple(ts.initial)
    depth = {init: 0}
    frontier = [init]
    found: dict[str, int] = {}
    while frontier:
        nxt = []
        for st in frontier:
            for t in ts.threads:
                for a in ts.actions_at(t.id, st[t.pc_slot]):
                    try:
                        new = interp.step(a, st, t.pc_slot)
                    except Fault:
                        continue
                    if new is None:
                        continue
                    for k in interp.warned:
                        found.setdefault(ts.props[k].name, depth[st] + 1)
                    if tuple(new) not in depth:
                        depth[tuple(new)] = depth[st] + 1
                        nxt.append(tuple(new))
        frontier = nxt
    return found


def warned(ts: TransitionSystem, **kw: object) -> dict[str, int]:
    r = check(ts, CheckOptions(), **kw)  # type: ignore[arg-type]
    return {w.name: w.steps for w in r.warnings}


# ---------------------------------------------------------------- the state space


def test_state_space_is_the_one_without_the_warning(spec_file: SpecFile) -> None:
    with_warn = only(race(spec_file))
    plain = only(race(spec_file, cond="seen == 1"))
    for ts in (with_warn, plain, erased(with_warn)):
        r = check(ts)
        assert (r.stats.states, r.stats.transitions, r.stats.depth) == (7, 7, 3)
    assert len(with_warn.actions) == len(plain.actions)


def test_statement_form_reading_shared_state_adds_no_state(spec_file: SpecFile) -> None:
    """`WARN_ON(g == 1);` as a statement reads shared state, so it is a step
    (as `cover(g == 1, ...)` or `assert` would be); the warning itself adds
    nothing: the same counts as the program without its Warn node."""
    path = spec_file("""\
        int[0..3] g = 0;
        thread setter() { g = 1; }
        thread watcher() { WARN_ON(g == 1); }
        scenario s { run setter(); run watcher(); expect warning "g == 1"; }
        """)
    ts = only(path)
    r = check(ts)
    # By hand: 2 threads of one step each: init, 2 after one step, 2 ends
    # (g=1 with both orders: g stays 1) -> 4 states, 4 transitions.
    assert (r.stats.states, r.stats.transitions) == (4, 4)
    e = check(erased(ts))
    assert (e.stats.states, e.stats.transitions) == (4, 4)
    assert [(w.name, w.steps) for w in r.warnings] == [("g == 1", 2)]
    assert r.met and r.status == "met"


# ---------------------------------------------------------------- found, with its run


def test_warning_found_with_a_shortest_run_and_the_run_goes_on(spec_file: SpecFile) -> None:
    ts = only(race(spec_file))
    r = check(ts)
    assert r.verdict == "verified"  # a warning is not a violation
    assert [(w.name, w.steps, w.prop.kind) for w in r.warnings] == \
        [("seen == 1", 2, PropertyKind.WARNING)]
    assert warned(ts) == oracle_warnings(ts) == {"seen == 1": 2}
    # unexpected: a failure, as a WARN splat in a kernel CI run
    assert not r.met and r.status == "unmet"
    assert r.unexpected_warnings == r.warnings


def test_no_warning_when_the_condition_never_holds(spec_file: SpecFile) -> None:
    ts = only(race(spec_file, cond="WARN_ON(seen == 3)"))
    r = check(ts)
    assert r.warnings == [] and r.met
    # T2 never returns early now: T1 first leaves T2 a second step (seen = 1,
    # then g = 2), one state more than RACE's 7: 8 states, 8 transitions.
    plain = check(only(race(spec_file, cond="seen == 3")))
    assert (r.stats.states, r.stats.transitions) == (plain.stats.states,
                                                     plain.stats.transitions) == (8, 8)


def test_expect_warning_met_and_unmet(spec_file: SpecFile) -> None:
    met = check(only(race(spec_file, expect='expect warning "seen == 1";')))
    assert met.met and met.status == "met" and not met.missing_warnings
    anyone = check(only(race(spec_file, expect="expect warning;")))
    assert anyone.met
    # The check never fires (seen is 0 or 1): the expected warning is missing.
    unmet = check(only(race(spec_file, cond="WARN(seen == 3, \"three\")",
                            expect='expect warning "three";')))
    assert unmet.warnings == [] and not unmet.met and unmet.status == "unmet"
    assert [x.name for x in unmet.missing_warnings] == ["three"]


def test_expect_warning_of_an_unknown_name_is_a_diagnostic(spec_file: SpecFile) -> None:
    text = errors(race(spec_file, expect='expect warning "nope";'))
    assert "error: no warning 'nope' in the code scenario race runs" in text
    assert "'seen == 1'" in text


def test_warn_once_is_reported_once_and_flagged(spec_file: SpecFile) -> None:
    """A loop that trips the check on two passes: one report per site (its
    shortest run), marked `once` for WARN_ON_ONCE; the state space is the
    loop's as without the check (the kernel's `__warned` flag only mutes
    the printk, it does not change the returned condition)."""
    text = """\
        int[0..3] g = 0;
        thread t() {
            int[0..3] i = 0;
            while (i < 3) {
                g = i;
                MACRO(g > 0);
                i++;
            }
        }
        scenario s { run t(); expect warning "g > 0"; }
        """
    once = only(spec_file(text.replace("MACRO", "WARN_ON_ONCE")))
    plain = only(spec_file(text.replace("MACRO", "WARN_ON")))
    r1, r2 = check(once), check(plain)
    # One thread, one line of steps: g = 0; test (i = 1); g = 1; test, fires
    # (step 4: the check follows the store g = 1); g = 2; test, ends.
    assert (r1.stats.states, r1.stats.transitions) == (r2.stats.states, r2.stats.transitions) \
        == (7, 6)
    assert (check(erased(once)).stats.states) == r1.stats.states
    assert [(w.name, w.steps, w.prop.once) for w in r1.warnings] == [("g > 0", 4, True)]
    assert [(w.name, w.steps, w.prop.once) for w in r2.warnings] == [("g > 0", 4, False)]
    assert warned(once) == oracle_warnings(once) == {"g > 0": 4}
    assert r1.met and r2.met


# ---------------------------------------------------------------- the idiom


IDIOM = """\
bool bad = false;
int[0..2] done = 0;

bool check_it(bool flag) {
    return WARN_ON(flag);
}

thread t(bool a) {
    if (A && WARN(bad, "bad state"))
        return;
    if (!WARN_ON_ONCE(bad))
        done = 1;
    bool seen = check_it(bad);
    if (seen)
        done = 2;
}

scenario s {
    init { bad = true; }
    run t(RUNARG);
    EXPECT
}
"""


def test_if_warn_on_idiom_and_short_circuit(spec_file: SpecFile) -> None:
    # a = false: `A && WARN(...)` never evaluates the WARN; the other two fire.
    ts = only(spec_file(IDIOM.replace("A &&", "a &&").replace("RUNARG", "false")
                        .replace("EXPECT", "expect warning bad; expect warning flag;")))
    r = check(ts)
    assert sorted(w.name for w in r.warnings) == ["bad", "flag"]
    assert r.met and r.verdict == "verified"
    assert warned(ts) == oracle_warnings(ts)
    # a = true: the WARN fires and the thread returns before the others.
    ts2 = only(spec_file(IDIOM.replace("A &&", "a &&").replace("RUNARG", "true")
                         .replace("EXPECT", 'expect warning "bad state";')))
    r2 = check(ts2)
    assert [w.name for w in r2.warnings] == ["bad state"] and r2.met
    assert warned(ts2) == oracle_warnings(ts2)
    plain = only(spec_file(IDIOM.replace("A && WARN(bad, \"bad state\")", "a && bad")
                           .replace("!WARN_ON_ONCE(bad)", "!bad")
                           .replace("return WARN_ON(flag);", "return flag;")
                           .replace("RUNARG", "true").replace("EXPECT", "")))
    p = check(plain)
    assert (p.stats.states, p.stats.transitions) == (r2.stats.states, r2.stats.transitions)


# ---------------------------------------------------------------- engines


def _figures(r: CheckResult) -> tuple[object, ...]:
    return (r.verdict, r.stats.states, r.stats.transitions, r.stats.depth,
            None if r.violation is None else (r.violation.kind, r.violation.name),
            [(w.name, w.steps, w.path, w.action) for w in r.warnings])


def _specs(spec_file: SpecFile) -> list[TransitionSystem]:
    many = spec_file("""\
        int[0..7] g = 0;
        thread t() { g = g + 1; WARN_ON(g > 0); WARN(g == 3, "three"); }
        scenario s { run t() * 3; expect warning; }
        """)
    faulting = spec_file("""\
        int[0..3] g = 0;
        thread boom() { assert(g == 1, "boom"); }
        thread watcher() { WARN_ON(g == 0); }
        scenario s { run boom(); run watcher(); expect assert "boom"; expect warning; }
        """)
    return [only(race(spec_file)), only(many), only(faulting)]


def test_vm_engines_agree_with_the_python_engine(spec_file: SpecFile) -> None:
    """The VM escapes to the Python engine where a warning fires; the
    figures, the warnings and their runs are the Python engine's, by BFS
    (the VM alone, the hand-over after the first level, the JIT) and DFS."""
    from checker.vm.dfs import vm_dfs
    from checker.vm.llvm_search import jit_bfs

    for ts in _specs(spec_file):
        want = _figures(check(ts))
        assert want[-1], ts.scenario
        for engine in (vm_bfs, tiered_bfs(after=1), jit_bfs):
            assert _figures(check(ts, CheckOptions(), engine=engine)) == want, engine
        dfs = CheckOptions().strategy("dfs")
        assert _figures(check(ts, dfs, engine=vm_dfs)) == _figures(check(ts, dfs))
        with pytest.raises(NotSupported, match="WARN_ON"):
            check(ts, CheckOptions(), engine=parallel_bfs(2))


def test_vm_escapes_until_the_site_is_recorded(spec_file: SpecFile) -> None:
    """`silence`: once a site is recorded, the kernel stops handing the
    states where it fires to Python."""
    ts = _specs(spec_file)[1]
    expanded: list[int] = []

    def counting(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
                 graph: StateGraph | None = None) -> Mapping[int, int]:
        inner = c.expand

        def expand(s: int) -> list[int]:
            expanded.append(s)
            return inner(s)

        c.expand = expand
        return vm_bfs(c, budget, stats, out, graph)

    r = check(ts, CheckOptions(), engine=counting)
    assert [w.name for w in r.warnings] == ["g > 0", "three"]
    # One state per site: where each first fires (then silenced).
    assert len(expanded) == 2
    assert _figures(r) == _figures(check(ts))


def test_engines_refuse(spec_file: SpecFile) -> None:
    ts = only(race(spec_file))
    with pytest.raises(SpecError, match="--engine bmc cannot check WARN_ON"):
        check_bmc(ts, 5)


def test_cli_refusals_and_vm_fallback(spec_file: SpecFile, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    path = str(race(spec_file, expect='expect warning "seen == 1";'))
    assert main(["check", path, "--engine", "bmc"]) == 2
    assert main(["prove", path]) == 2
    assert main(["export", "--promela", path]) == 2
    err = capsys.readouterr().err
    assert "--engine bmc cannot check WARN_ON()" in err
    assert "migcheck prove cannot check WARN_ON()" in err
    assert "the Promela export has no WARN_ON()" in err
    for engine in ("vm", "jit"):
        assert main(["check", path, "--engine", engine]) == 0
        got = capsys.readouterr()
        assert "warning: WARN_ON(seen == 1) at" in got.out
        assert "fired (2 steps): expected" in got.out
    assert main(["check", path, "--engine", "vm", "--workers", "2"]) == 0
    got = capsys.readouterr()
    assert "the vm engine cannot run it (WARN_ON() sites (with --workers))" in got.err
    assert "fired (2 steps): expected" in got.out


# ---------------------------------------------------------------- reports, save, replay


def test_cli_unexpected_warning_exits_1_and_its_run_replays(
        spec_file: SpecFile, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = race(spec_file)
    ce = tmp_path / "ce"
    assert main(["check", str(path), "--trace-dir", str(ce)]) == 1
    out = capsys.readouterr().out
    assert "fired (2 steps): UNEXPECTED" in out
    assert "WARNING: WARN_ON(seen == 1)" in out  # the firing step, in the run drawn
    (saved,) = ce.rglob("*.warning1.json")
    trace = load(saved)
    assert (trace.kind, trace.name, len(trace.steps)) == ("warning", "seen == 1", 2)
    assert "WARN_ON(seen == 1)" in trace.steps[-1].warning
    res = replay(trace, str(path))
    assert res.reproduced, res.message
    assert main(["replay", str(saved)]) == 0
    # The fixed spec (no warning) no longer reproduces it.
    fixed = race(spec_file, cond="seen == 1")
    res = replay(trace, str(fixed))
    assert not res.reproduced and "no longer fires warning 'seen == 1'" in res.message


def test_json_sarif_junit(spec_file: SpecFile, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(race(spec_file))
    assert main(["check", path, "--format", "json", "--no-save"]) == 1
    (res,) = json.loads(capsys.readouterr().out)
    assert res["verdict"] == "verified" and res["status"] == "unmet"
    (w,) = res["warnings"]
    assert (w["name"], w["steps"], w["expected"], w["once"]) == ("seen == 1", 2, False, False)
    assert w["trace"]["kind"] == "warning" and len(w["trace"]["steps"]) == 2
    assert main(["check", path, "--format", "sarif", "--no-save"]) == 1
    log = json.loads(capsys.readouterr().out)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("warning", "warning")]
    assert "fired (2 steps)" in results[0]["message"]["text"]
    assert main(["check", path, "--format", "junit", "--no-save"]) == 1
    xml = capsys.readouterr().out
    assert "<failure" in xml and "1 unexpected warning(s)" in xml
    expected = str(race(spec_file, expect='expect warning "seen == 1";'))
    assert main(["check", expected, "--format", "sarif", "--no-save"]) == 0
    log = json.loads(capsys.readouterr().out)
    assert [(r["ruleId"], r["level"]) for r in log["runs"][0]["results"]] == \
        [("warning", "note")]


def test_schema_accepts_a_warning_trace(spec_file: SpecFile, tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    path = race(spec_file)
    assert main(["check", str(path), "--trace-dir", str(tmp_path), "-q"]) == 1
    (saved,) = tmp_path.rglob("*.warning1.json")
    schema = json.loads((Path(__file__).parents[1] / "checker/trace/trace.schema.json")
                        .read_text())
    jsonschema.validate(json.loads(saved.read_text()), schema)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("stmt,message", [
    ("WARN_ON(n);", "WARN_ON() takes a bool condition, not 'int[0..3]'"),
    ('WARN_ON(n == 1, "m");', "WARN_ON() takes one argument"),
    ("WARN(n == 1);", "WARN() takes a message"),
    ("n = WARN_ON(n == 1) ? 1 : 0;", "WARN_ON() is a statement, or a condition"),
])
def test_bad_warn_is_a_diagnostic(spec_file: SpecFile, stmt: str, message: str) -> None:
    path = spec_file(f"""\
        int[0..3] n = 0;
        thread t() {{ {stmt} }}
        scenario s {{ run t(); }}
        """)
    text = errors(path)
    assert ":2:" in text and "error: " + message in text


def test_warn_outside_code_is_a_diagnostic(spec_file: SpecFile) -> None:
    path = spec_file("""\
        int[0..3] n = 0;
        invariant small: !WARN_ON(n > 2);
        thread t() { n = 1; }
        scenario s { run t(); }
        """)
    assert "WARN_ON() is allowed in threads and procedures, not in an invariant property" \
        in errors(path)


def test_cli_bad_warn_exits_2(spec_file: SpecFile, capsys: pytest.CaptureFixture[str]) -> None:
    path = spec_file("""\
        int[0..3] n = 0;
        thread t() { WARN_ON(n); }
        scenario s { run t(); }
        """)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert ":2:22: error: WARN_ON() takes a bool condition" in err
    assert "Traceback" not in err


def test_warning_from_a_state_whose_expansion_faults(spec_file: SpecFile) -> None:
    """T1's first step faults before T2's is run by the fast expansion; the
    state's other steps are then taken one by one, and T2's warning (one
    step) is still found, by both searches, before the expected fault ends
    them."""
    path = spec_file("""\
        int[0..3] g = 0;
        thread boom() { assert(g == 1, "boom"); }
        thread watcher() { WARN_ON(g == 0); }
        scenario s {
            run boom();
            run watcher();
            expect assert "boom";
            expect warning "g == 0";
        }
        """)
    ts = only(path)
    for search in ("bfs", "dfs"):
        r = check(ts, CheckOptions().strategy(search))
        assert r.violation is not None and r.violation.name == "boom"
        assert [(w.name, w.steps) for w in r.warnings] == [("g == 0", 1)], search
        assert r.met, search


def test_mutate_names_an_unexpected_warning(spec_file: SpecFile,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = str(race(spec_file))
    main(["mutate", path])
    assert "does not verify as it stands (an unexpected or missing warning)" in \
        capsys.readouterr().out


def test_html_viewer_shows_the_warning_run(spec_file: SpecFile, tmp_path: Path) -> None:
    path = str(race(spec_file))
    page = tmp_path / "view.html"
    assert main(["check", path, "--html", str(page), "--no-save", "-q"]) == 1
    html = page.read_text()
    assert '"kind": "warning"' in html and '"warning": "WARN_ON(seen == 1) at' in html
    assert "'WARNING: ' + s.warning" in html


def test_pytest_plugin_fails_an_unexpected_warning(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    text = RACE.replace("COND", "WARN_ON(seen == 1)")
    (tmp_path / "specs" / "w.mig").write_text(
        text.replace("EXPECT", "") + text[text.index("scenario"):].replace("race", "ok")
        .replace("EXPECT", 'expect warning "seen == 1";'))
    # This checkout's checker (and plugin), whatever the environment installed.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "specs", "-v"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "specs/w.mig::race FAILED" in r.stdout and "specs/w.mig::ok PASSED" in r.stdout
    assert "unexpected warning 'seen == 1' (2 steps)" in r.stdout


def test_warning_run_has_the_fewest_thread_switches(spec_file: SpecFile) -> None:
    """The watcher runs first, so BFS first reaches the state the warning
    fires in by watcher, writer, writer (then the watcher's check): two
    switches. Among the shortest runs, writer, writer, watcher, watcher has
    one, as for a violation's counterexample."""
    from checker.trace.model import build_warning_trace

    path = spec_file("""\
        int[0..3] a = 0;
        bool b = false;
        thread watcher() { b = true; WARN_ON(a == 2); }
        thread writer() { a = 1; a = 2; }
        scenario s { run watcher(); run writer(); expect warning; }
        """)
    ts = only(path)
    r = check(ts)
    (w,) = r.warnings
    trace = build_warning_trace(r.compiled, w)
    assert [s.thread for s in trace.steps] == [2, 2, 1, 1]
    plain = check(ts, CheckOptions().fewest_switches(False))
    (p,) = plain.warnings
    assert [s.thread for s in build_warning_trace(plain.compiled, p).steps] == [1, 2, 2, 1]


def test_race_format_draws_the_warning_run(spec_file: SpecFile,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = str(race(spec_file))
    assert main(["check", path, "--format", "race", "--no-save"]) == 1
    out = capsys.readouterr().out
    assert "scenario race: verified, no counterexample" in out
    assert "warning 'seen == 1': WARN_ON(seen == 1) at" in out
    assert "WARNING: WARN_ON(seen == 1) at" in out


def test_warn_reached_from_an_init_block_is_a_diagnostic(spec_file: SpecFile) -> None:
    path = spec_file("""\
        int[0..3] n = 0;
        void setup() { WARN_ON(n == 1); n = 1; }
        thread t() { n = 2; }
        scenario s { init { setup(); } run t(); }
        """)
    text = errors(path)
    assert ":2:16: error: WARN_ON() in code an init block runs" in text


# ---------------------------------------------------------------- random programs


def _random_program(rng: random.Random) -> str:
    """Two or three threads over two shared counters, with every form of
    the check: statements, `if (WARN_ON(...)) return;`, WARN under `&&`,
    WARN_ON_ONCE in a loop, and conditions over shared and local values."""
    def cond() -> str:
        x = rng.choice(["g0", "g1", "l"])
        return f"{x} {rng.choice(['==', '!=', '<', '>='])} {rng.randrange(4)}"

    def stmt(k: int) -> str:
        c = rng.randrange(4)
        return rng.choice([
            f"g{rng.randrange(2)} = {c};",
            f"l = g{rng.randrange(2)};",
            f"g{rng.randrange(2)} = l;",
            f"WARN_ON({cond()});",
            f"if (WARN_ON({cond()})) return;",
            f'if ({cond()} && WARN({cond()}, "m{k}")) g{rng.randrange(2)} = {c};',
            f"if (!WARN_ON_ONCE({cond()})) l = {c};",
            f"while (l < 2) {{ l++; WARN_ON_ONCE(l == 2 && g0 == {c}); }}",
        ])

    threads = []
    for t in range(rng.randrange(2, 4)):
        body = " ".join(stmt(10 * t + k) for k in range(rng.randrange(2, 5)))
        threads.append(f"thread t{t}() {{ int[0..3] l = 0; {body} }}")
    runs = " ".join(f"run t{t}();" for t in range(len(threads)))
    return ("int[0..3] g0 = 0;\nint[0..3] g1 = 0;\n" + "\n".join(threads)
            + f"\nscenario s {{ {runs} }}\n")


def _by_name(r: CheckResult) -> dict[str, int]:
    out: dict[str, int] = {}
    for w in r.warnings:
        out[w.name] = min(out.get(w.name, w.steps), w.steps)
    return out


@pytest.mark.parametrize("seed", range(30))
def test_random_programs_engines_agree(spec_file: SpecFile, seed: int) -> None:
    """On random programs: the state space is the one without the checks;
    each warning's shortest run is the interpreter's (when no violation ends
    the search early); the VM (BFS, DFS) gives the Python engine's figures,
    warnings and runs."""
    from checker.vm.dfs import vm_dfs

    ts = only(spec_file(_random_program(random.Random(seed))))
    r = check(ts)
    e = check(erased(ts))
    assert (r.verdict, r.stats.states, r.stats.transitions, r.stats.depth) == \
        (e.verdict, e.stats.states, e.stats.transitions, e.stats.depth)
    if r.verdict == "verified":
        assert _by_name(r) == oracle_warnings(ts)
    assert _figures(check(ts, CheckOptions(), engine=vm_bfs)) == _figures(r)
    dfs = CheckOptions().strategy("dfs")
    assert _figures(check(ts, dfs, engine=vm_dfs)) == _figures(check(ts, dfs))
