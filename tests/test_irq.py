"""Execution contexts (checker/ir/contexts.py, models/irq.mig): threads on
CPUs, interrupt and softirq handlers that interrupt the task of their CPU,
the self-deadlock they cause, and lockdep's inconsistent-lock-state rule
(checker/explore/irqstate.py) with both witnesses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from checker.backends.promela import export
from checker.dsl.diagnostics import SpecError
from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.kinds import ExecContext, ViolationKind
from checker.symbolic.command import run_bmc
from tests.conftest import errors, run, system, systems
from tests.oracle import explore

Spec = Callable[[str], Path]

# t's two steps: A (x = 1), B (x = 2, its end). The handler h: E (its entry:
# hardirq_count = 1, interrupts off) and H (x = 3, its end: both back).
TINY = """
    import "irq";
    int[0..3] x = 0;
    thread t() { x = 1; x = 2; }
    thread h() { x = 3; }
    scenario same { run t() on cpu 0; irq h() on cpu 0; }
    scenario apart { run t() on cpu 0; irq h() on cpu 1; }
"""


def test_tiny_handler_state_count(spec_file: Spec) -> None:
    """(t at A/B/done, h before E / entered / done, x), by hand: (A,e,0)
    (B,e,1) (d,e,2) (A,in,0) (B,in,1) (d,in,2) (A,d,3) (B,d,1) (B,d,3) (d,d,2)
    (d,d,3): 11 states. While h is entered t cannot move, so (A,in) and
    (B,in) have one successor each (H). Transitions: 2 + 2 + 1 from the
    states before E, 1 from each entered state (3), 1 each from (A,d,3),
    (B,d,1), (B,d,3): 11. The CPU's state is a function of h's pc: no more
    states."""
    result = run(spec_file(TINY), "same")
    assert result.verdict == "verified"
    assert (result.stats.states, result.stats.transitions) == (11, 11)


def test_tiny_handler_engines_agree(spec_file: Spec) -> None:
    """The reference interpreter (explored naively), the Python engine and the
    VM find the same states and transitions, with the handler on the task's
    CPU and on another one. There it interleaves freely: the same 11 states
    (each is also reached with h entered after t's step), but t also moves
    while h is entered, (A,in) -> (B,in) and (B,in) -> (d,in): 13 transitions."""
    from checker.vm.search import vm_bfs

    path = spec_file(TINY)
    counts = {}
    for ts in systems(path):
        oracle = explore(ts)
        python = check(ts)
        vm = check(ts, CheckOptions(), engine=vm_bfs)
        assert (python.stats.states, python.stats.transitions) == \
            (vm.stats.states, vm.stats.transitions) == (oracle.states, oracle.transitions)
        counts[ts.scenario] = (python.stats.states, python.stats.transitions)
    assert counts == {"same": (11, 11), "apart": (11, 13)}


LOCKS = """
    import "irq";
    spinlock_t lock;
    int[0..3] x = 0;
    thread plain() { spin_lock(&lock); x++; spin_unlock(&lock); }
    thread saved() { bool flags = spin_lock_irqsave(&lock); x++; spin_unlock_irqrestore(&lock, flags); }
    thread irq_off() { spin_lock_irq(&lock); x++; spin_unlock_irq(&lock); }
    thread bh() { spin_lock_bh(&lock); x++; spin_unlock_bh(&lock); }
    thread handler() { spin_lock(&lock); x++; spin_unlock(&lock); }
    final all_ran: x == 2;
    scenario plain_same { run plain() on cpu 0; irq handler() on cpu 0; expect deadlock; }
    scenario saved_same { run saved() on cpu 0; irq handler() on cpu 0; }
    scenario irq_same { run irq_off() on cpu 0; irq handler() on cpu 0; }
    scenario plain_other { run plain() on cpu 0; irq handler() on cpu 1;
                           expect inconsistent_lock_state; }
    scenario saved_other { run saved() on cpu 0; irq handler() on cpu 1; }
    scenario bh_hardirq { run bh() on cpu 0; irq handler() on cpu 1;
                          expect inconsistent_lock_state; }
    scenario soft_plain_same { run plain() on cpu 0; softirq handler() on cpu 0;
                               expect deadlock; }
    scenario soft_bh_same { run bh() on cpu 0; softirq handler() on cpu 0; }
    scenario soft_plain_other { run plain() on cpu 0; softirq handler() on cpu 1;
                                expect inconsistent_lock_state; }
    scenario soft_bh_other { run bh() on cpu 0; softirq handler() on cpu 1; }
"""


@pytest.mark.parametrize("scenario", [
    "plain_same", "saved_same", "irq_same", "plain_other", "saved_other", "bh_hardirq",
    "soft_plain_same", "soft_bh_same", "soft_plain_other", "soft_bh_other"])
def test_lock_in_handler_verdicts(spec_file: Spec, scenario: str) -> None:
    """Each scenario meets its expectation: spin_lock in the task and in a
    handler of its CPU deadlock (the handler spins on the lock the task it
    interrupted holds); irqsave/irq (bh for a softirq) make it safe and
    consistent; on another CPU no deadlock is reachable, but lockdep's rule
    still reports the plain lock (and spin_lock_bh against a hardirq)."""
    result = run(spec_file(LOCKS), scenario)
    assert result.met, (scenario, result.verdict, result.violation)


def test_self_deadlock_trace(spec_file: Spec) -> None:
    result = run(spec_file(LOCKS), "plain_same")
    v = result.violation
    assert v is not None and v.kind == ViolationKind.DEADLOCK
    assert "plain() at line" in v.message and "handler() at line" in v.message
    # The shortest run: the task locks, the interrupt enters.
    assert v.steps == 2


def test_inconsistent_lock_state_both_witnesses(spec_file: Spec) -> None:
    """Handler on CPU 1, task on CPU 0: no deadlock is reachable (the search
    alone verifies), yet {IN-HARDIRQ-W} and {HARDIRQ-ON-W} both occur; the
    violation's run ends with the handler's acquisition, its witness with
    the task's."""
    path = spec_file(LOCKS)
    ts = system(path, "plain_other")
    result = check(ts)
    v = result.violation
    assert v is not None and v.kind == ViolationKind.INCONSISTENT_LOCK_STATE
    assert v.message.startswith("inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage of "
                                "lock 'lock': handler() takes it in hardirq context")
    assert "plain() with hardirqs enabled" in v.message
    assert result.compiled is not None
    c = result.compiled
    # The run: the handler's entry, then its spin_lock (lock.owner = handler).
    assert len(v.path) == 3
    owner = next(s.index for s in ts.slots if s.name == "lock.owner")
    handler = next(t for t in ts.threads if t.context == ExecContext.HARDIRQ)
    task = next(t for t in ts.threads if t.context == ExecContext.TASK)
    assert c.packing.unpack(v.path[-1])[owner] == handler.id
    # The witness: the task's spin_lock, from the initial state.
    assert len(v.witness) == 2
    assert c.packing.unpack(v.witness[-1])[owner] == task.id
    # Without the usage pass the same configuration verifies: no deadlock.
    plain = check(ts, CheckOptions().only_properties(("deadlock",)))
    assert plain.verdict == "verified"


def test_both_witnesses_in_json_and_sarif(spec_file: Spec, tmp_path: Path) -> None:
    """The second usage is a run of its own in every report: JSON's
    `witness` (one step: the task's spin_lock) beside `trace` (two: the
    handler's entry and its spin_lock), and a second SARIF result."""
    import json
    import subprocess
    import sys

    path = spec_file(LOCKS)
    base = [sys.executable, "-m", "checker", "check", str(path), "-s", "plain_other",
            "--no-save"]
    proc = subprocess.run([*base, "--format", "json"], capture_output=True, text=True,
                          check=False, cwd=Path(__file__).resolve().parent.parent)
    (result,) = json.loads(proc.stdout)
    assert result["violation"]["kind"] == "inconsistent_lock_state"
    assert len(result["trace"]["steps"]) == 2
    (witness,) = result["witness"]
    assert len(witness["steps"]) == 1 and witness["message"].startswith("the other witness")
    proc = subprocess.run([*base, "--format", "sarif"], capture_output=True, text=True,
                          check=False, cwd=Path(__file__).resolve().parent.parent)
    results = json.loads(proc.stdout)["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["inconsistent_lock_state"] * 2
    assert "the other witness" in results[1]["message"]["text"]


def test_the_other_witness_is_saved_beside_the_counterexample(spec_file: Spec,
                                                             tmp_path: Path) -> None:
    """Saving an inconsistent lock state writes the second usage's run too,
    as `NAME.witness.json` and `.txt` beside `NAME.json`, and `replay`
    confirms both: each ends in the usage it claims."""
    import subprocess
    import sys

    from checker.trace.jsonio import load

    path = spec_file(LOCKS)
    saved = tmp_path / "run.json"
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "checker", "check", str(path), "-s",
                           "plain_other", "--save-trace", str(saved)],
                          capture_output=True, text=True, check=False, cwd=root)
    witness = tmp_path / "run.witness.json"
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"saved {witness}" in proc.stdout
    assert witness.with_suffix(".txt").read_text().count("the other witness") == 1
    assert len(load(witness).steps) == 1 and len(load(saved).steps) == 2
    for p in (saved, witness):
        replayed = subprocess.run([sys.executable, "-m", "checker", "replay", str(p)],
                                  capture_output=True, text=True, check=False, cwd=root)
        assert replayed.returncode == 0 and "reproduces" in replayed.stdout, replayed.stdout


def test_the_viewer_shows_both_witnesses(spec_file: Spec, tmp_path: Path) -> None:
    """`--html`: the page holds the counterexample, then the other witness."""
    import json
    import re
    import subprocess
    import sys

    page = tmp_path / "v.html"
    subprocess.run([sys.executable, "-m", "checker", "check", str(spec_file(LOCKS)), "-s",
                    "plain_other", "--no-save", "--html", str(page)], capture_output=True,
                   text=True, check=False, cwd=Path(__file__).resolve().parent.parent)
    block = re.search(r'<script type="application/json" id="migcheck-data">(.*?)</script>',
                      page.read_text(), re.S)
    assert block is not None
    items = json.loads(block.group(1))["traces"]
    assert [len(t["steps"]) for t in items] == [2, 1]
    assert items[1]["message"].startswith("the other witness")


def test_a_thread_held_up_by_its_cpu_is_told_why(spec_file: Spec) -> None:
    """The deadlock report names the CPU, not the ghost location the gate
    reads: a task interrupted by a handler, a task whose CPU's current task
    cannot be preempted."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent

    def text(spec: Path, scenario: str) -> str:
        return subprocess.run([sys.executable, "-m", "checker", "check", str(spec), "-s",
                               scenario, "--no-save"], capture_output=True, text=True,
                              check=False, cwd=root).stdout

    assert "waiting for CPU 0: an interrupt handler running there must finish first" in \
        text(spec_file(LOCKS), "plain_same")
    assert "waiting for CPU 0: its current task cannot be preempted" in \
        text(spec_file(SHARED), "spin_shared")


def test_softirq_inconsistency_message(spec_file: Spec) -> None:
    result = run(spec_file(LOCKS), "soft_plain_other")
    assert result.violation is not None
    assert result.violation.message.startswith(
        "inconsistent {IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W} usage of lock 'lock'")


def test_spin_lock_bh_against_hardirq(spec_file: Spec) -> None:
    """spin_lock_bh() keeps softirqs out, not hardirqs."""
    result = run(spec_file(LOCKS), "bh_hardirq")
    assert result.violation is not None
    assert "{IN-HARDIRQ-W} -> {HARDIRQ-ON-W}" in result.violation.message


READERS = """
    import "irq";
    import "rwlock";
    rwlock_t rw;
    thread reader() { read_lock(&rw); read_unlock(&rw); }
    thread writer() { write_lock(&rw); write_unlock(&rw); }
    thread irq_reader() { read_lock(&rw); read_unlock(&rw); }
    scenario readers { run reader() on cpu 0; irq irq_reader() on cpu 1; }
    scenario writer { run writer() on cpu 0; irq irq_reader() on cpu 1;
                      expect inconsistent_lock_state; }
"""


def test_readers_never_conflict(spec_file: Spec) -> None:
    """lockdep allows {IN-HARDIRQ-R} with {HARDIRQ-ON-R} (recursive readers),
    not with a writer's {HARDIRQ-ON-W}."""
    path = spec_file(READERS)
    assert run(path, "readers").verdict == "verified"
    v = run(path, "writer").violation
    assert v is not None and "{IN-HARDIRQ-R} -> {HARDIRQ-ON-W}" in v.message


CONTEXTS = """
    import "irq";
    int[0..3] x = 0;
    thread task() {
        assert(!in_interrupt(), "a task is not in interrupt");
        local_bh_disable();
        assert(in_softirq() && in_interrupt() && !in_irq(), "bh disabled counts as softirq");
        local_bh_enable();
        local_irq_disable();
        x = 1;
        assert(irqs_disabled(), "irqs are off");
        x = 0;
        local_irq_enable();
    }
    thread hard() {
        assert(in_irq() && in_interrupt() && irqs_disabled(), "hardirq context");
        assert(x == 0, "the handler ran while interrupts were disabled");
    }
    thread soft() {
        assert(in_softirq() && in_serving_softirq() && !in_irq(), "softirq context");
        assert(!irqs_disabled(), "softirqs run with interrupts enabled");
    }
    scenario s { run task() on cpu 0; irq hard() on cpu 0; softirq soft() on cpu 0; }
    scenario twice { run task() on cpu 0; irq hard() on cpu 0 * 2; }
"""


def test_context_queries_and_masking(spec_file: Spec) -> None:
    """in_interrupt()/in_softirq()/in_irq()/irqs_disabled() in each context;
    the hardirq never runs while the task has interrupts disabled (else it
    would see x == 1), and the softirq never while bottom halves are off."""
    path = spec_file(CONTEXTS)
    for name in ("s", "twice"):
        result = run(path, name)
        assert result.verdict == "verified", (name, result.violation)


def test_handler_runs_while_irqs_disabled_is_found(spec_file: Spec) -> None:
    """Negative: drop local_irq_disable() and the handler can see x == 1."""
    text = CONTEXTS.replace("local_irq_disable();", "").replace(
        'assert(irqs_disabled(), "irqs are off");', "")
    result = run(spec_file(text), "s")
    assert result.violation is not None
    assert result.violation.name == "the handler ran while interrupts were disabled"


def test_hardirq_interrupts_softirq(spec_file: Spec) -> None:
    """A softirq handler holding a lock with interrupts on is interrupted by a
    hardirq handler of its CPU that takes it: deadlock."""
    text = """
        import "irq";
        spinlock_t lock;
        thread soft() { spin_lock(&lock); spin_unlock(&lock); }
        thread hard() { spin_lock(&lock); spin_unlock(&lock); }
        scenario s { softirq soft() on cpu 0; irq hard() on cpu 0; expect deadlock; }
    """
    result = run(spec_file(text))
    assert result.met and result.violation is not None
    assert result.violation.steps == 3  # soft's entry, its lock, hard's entry


def test_placement(spec_file: Spec) -> None:
    """Named CPUs as written; the others a CPU of their own after them."""
    text = """
        import "irq";
        thread t() { }
        scenario s { run t() on cpu 2; run t(); irq t() on cpu 0; softirq t() on cpu 2; }
    """
    ts = system(spec_file(text))
    assert [(t.cpu, t.context) for t in ts.threads] == [
        (2, ExecContext.TASK), (3, ExecContext.TASK), (0, ExecContext.HARDIRQ),
        (2, ExecContext.SOFTIRQ)]
    assert len(ts.cpus) == 4


@pytest.mark.parametrize(("text", "message"), [
    ("thread t() { } scenario s { run t() on cpu 0; irq t() on cpu 0; }",
     "an 'irq' handler needs the per-CPU interrupt state of the model library: add "
     "'import \"irq\";'"),
    ('import "irq"; thread t() { } scenario s { run t() on cpu 0; irq nope() on cpu 0; }',
     "unknown thread 'nope'"),
    ('import "irq"; thread t() { } scenario s { run t() on cpu 64; }',
     "a CPU number is 0..63 (got 64)"),
    ('per_cpu int[0..1] c = 0; thread t() { } init { c = 1; } scenario s { run t(); }',
     "per-CPU 'c' is not defined in an init block"),
    ('per_cpu int[0..1] c[2]; thread t() { } scenario s { run t(); }',
     "a per-CPU variable must be a scalar or a struct"),
])
def test_bad_input(spec_file: Spec, text: str, message: str) -> None:
    assert message in errors(spec_file(text))


def test_engines_without_the_usage_pass_refuse(spec_file: Spec) -> None:
    """BMC and the Promela export do not run the lockdep pass: they refuse a
    scenario with handlers rather than verify it."""
    ts = system(spec_file(LOCKS), "plain_other")
    with pytest.raises(SpecError, match="--engine bmc does not check lockdep's"):
        run_bmc(ts, 10, None, None)
    with pytest.raises(SpecError, match="the Promela export does not check lockdep's"):
        export(ts)


def test_doc_usage_table(spec_file: Spec) -> None:
    from checker.doc.locking import build_document
    from checker.doc.markdown import render_markdown
    from checker.locks.summary import summarize

    sl = summarize(systems(spec_file(LOCKS), scenarios=["plain_other", "saved_other"]))
    lock = next(c for c in sl.classes if c.name == "lock")
    assert lock.usage == ["HARDIRQ-ON-W", "IN-HARDIRQ-W", "SOFTIRQ-ON-W"]
    assert lock.inconsistent == [("IN-HARDIRQ-W", "HARDIRQ-ON-W")]
    text = render_markdown(build_document(sl))
    assert "{HARDIRQ-ON-W} {IN-HARDIRQ-W} {SOFTIRQ-ON-W}" in text


def test_replay_confirms_the_usage(spec_file: Spec) -> None:
    """A saved inconsistent-lock-state run replays when the other usage is
    still reachable, and not once the task takes the lock with irqsave."""
    from checker.trace.model import build_trace
    from checker.trace.replay import replay_on

    path = spec_file(LOCKS)
    result = check(system(path, "plain_other"))
    assert result.violation is not None and result.compiled is not None
    trace = build_trace(result.compiled, result.violation)
    got = replay_on(trace, system(path, "plain_other"))
    assert got.reproduced, got.message
    assert "{IN-HARDIRQ-W} and as {HARDIRQ-ON-W}" in got.message
    fixed = spec_file(LOCKS.replace(
        "thread plain() { spin_lock(&lock); x++; spin_unlock(&lock); }",
        "thread plain() { bool f = spin_lock_irqsave(&lock); x++; "
        "spin_unlock_irqrestore(&lock, f); }"))
    got = replay_on(trace, system(fixed, "plain_other"))
    assert not got.reproduced


def test_property_selection(spec_file: Spec) -> None:
    """`--property inconsistent_lock_state` is listed where handlers run, and
    checks that rule alone; without handlers the scenario has no such
    property."""
    from checker.explore.properties import properties

    path = spec_file(LOCKS)
    ts = system(path, "plain_other")
    assert "inconsistent_lock_state" in [p.name for p in properties(ts)]
    only = check(ts, CheckOptions().only_properties(("inconsistent_lock_state",)))
    assert only.violation is not None
    assert only.violation.kind == ViolationKind.INCONSISTENT_LOCK_STATE
    plain = system(spec_file(TINY.replace("irq h() on cpu 0;", "run h();")), "same")
    assert "inconsistent_lock_state" not in [p.name for p in properties(plain)]


def test_interrupts_left_disabled_hang(spec_file: Spec) -> None:
    """A task that ends with interrupts disabled leaves its CPU's pending
    interrupt undelivered: a deadlock (the handler can never enter)."""
    text = """
        import "irq";
        thread t() { local_irq_disable(); }
        thread h() { }
        scenario s { run t() on cpu 0; irq h() on cpu 0; expect deadlock; }
        scenario ok { run t() on cpu 0; irq h() on cpu 1; }
    """
    path = spec_file(text)
    result = run(path, "s")
    assert result.met and result.violation is not None
    assert "h() at line" in result.violation.message
    assert run(path, "ok").verdict == "verified"


def test_per_cpu_variables(spec_file: Spec) -> None:
    """Each CPU has its own instance: two tasks on two CPUs each see 0 first;
    a handler sees its CPU's. States: 3 x 3 positions of the two tasks
    (each: before its read-and-store, before its end, done) = 9, and the
    final values follow from the positions."""
    text = """
        import "irq";
        per_cpu int[0..2] n = 0;
        thread t() { n = n + 1; assert(n == 1, "own instance"); }
        thread h() { assert(n <= 1, "the handler sees its CPU's"); }
        scenario two { run t() on cpu 0; run t() on cpu 1; }
        scenario handler { run t() on cpu 0; irq h() on cpu 0; }
    """
    path = spec_file(text)
    result = run(path, "two")
    assert result.verdict == "verified"
    assert result.stats.states == 9
    assert run(path, "handler").verdict == "verified"


SHARED = """
    import "irq";
    spinlock_t l;
    int[0..2] x = 0;
    bool flag = false;
    thread a() { preempt_disable(); x = 1; x = 2; preempt_enable(); }
    thread b() { assert(x != 1, "saw the middle"); }
    thread spinner() { spin_lock(&l); await flag; spin_unlock(&l); }
    thread setter() { flag = true; }
    thread irqs_off() { local_irq_disable(); x = 1; x = 2; local_irq_enable(); }
    scenario apart { run a() on cpu 0; run b() on cpu 1; expect assert "saw the middle"; }
    scenario shared { run a() on cpu 0; run b() on cpu 0; }
    scenario shared_irqs_off { run irqs_off() on cpu 0; run b() on cpu 0; }
    scenario spin_apart { run spinner() on cpu 0; run setter() on cpu 1; }
    scenario spin_shared { run spinner() on cpu 0; run setter() on cpu 0; expect deadlock; }
"""


def test_tasks_sharing_a_cpu_preempt_only_where_the_kernel_can(spec_file: Spec) -> None:
    """Two tasks of one CPU: b cannot run between a's preempt_disable() and
    preempt_enable() (nor while interrupts are off), so it never sees x == 1;
    on two CPUs it does. By hand, `shared`: a has two steps (x = 1 with the
    count raised; x = 2 with it lowered, ending a), b one. States: the start;
    b done; then a's two steps (2); a's first step with b waiting (1); a done
    with b waiting (1); both done (1, reached both ways): 6, transitions 6.
    `shared_irqs_off`: a's four steps each touch the CPU's state (disable,
    x = 1, x = 2, enable): the start, b done, a's four steps after it (4),
    a's first three with b waiting (3), a done with b waiting (1): 10 states;
    transitions 2 from the start, 4, 3 and 1: 10.
    A task spinning with preemption disabled for a task of its own CPU hangs
    it (a deadlock, as on a uniprocessor); on two CPUs it verifies."""
    from checker.symbolic.bmc import check_bmc
    from checker.vm.search import vm_bfs

    path = spec_file(SHARED)
    got = {}
    for ts in systems(path):
        oracle = explore(ts)
        python = check(ts)
        vm = check(ts, CheckOptions(), engine=vm_bfs)
        assert (python.stats.states, python.stats.transitions) == \
            (vm.stats.states, vm.stats.transitions) == (oracle.states, oracle.transitions)
        assert python.verdict == vm.verdict
        kind = python.violation.kind if python.violation else None
        bmc = check_bmc(ts, 10)  # guards only: BMC runs shared CPUs too
        assert (bmc.violation.kind if bmc.violation else None, bmc.verdict) == \
            (kind, python.verdict)
        got[ts.scenario] = (kind, python.stats.states, python.stats.transitions)
    assert got == {
        "apart": (ViolationKind.ASSERT, 3, 2),
        "shared": (None, 6, 6),
        "shared_irqs_off": (None, 10, 10),
        "spin_apart": (None, 6, 6),
        "spin_shared": (ViolationKind.DEADLOCK, 3, 2),
    }


def test_a_shared_cpu_without_its_gate_shows_the_middle_value(spec_file: Spec) -> None:
    """The defence itself: with the CPU gate's guards dropped, `shared` is
    the two-CPU program again and b sees the middle value."""
    from dataclasses import replace as dc_replace

    from checker.ir.nodes import TRUE, Binary

    (ts,) = systems(spec_file(SHARED), scenarios=["shared"])
    slot = next(s.index for s in ts.slots if s.name == "cpu0.curr")
    assert check(ts).violation is None
    ts = dc_replace(ts)  # a fresh object: nothing compiled for the gated steps is reused
    gated = 0
    for a in ts.actions:
        g = a.guard
        if isinstance(g, Binary) and g.op == "&&" and f"base={slot}" in repr(g.right):
            a.guard, gated = g.left, gated + 1
        elif f"base={slot}" in repr(g):
            a.guard, gated = TRUE, gated + 1
    assert gated == 3  # a's two steps and b's one
    ts = dc_replace(ts)
    assert check(ts).violation is not None


SLEEPER = """
    import "irq";
    import "mutex";
    struct mutex m;
    void take() { mutex_lock(&m); mutex_unlock(&m); }
    thread t() { take(); }
    thread h() { take(); }
    thread leaky() { spin_lock(&lk); }
    spinlock_t lk;
    scenario in_task { run t() on cpu 0; }
    scenario in_hardirq { irq h() on cpu 0; expect assert "sleeping in atomic context"; }
    scenario in_softirq { softirq h() on cpu 0; expect assert "sleeping in atomic context"; }
    scenario leak_in_handler { irq leaky() on cpu 0; expect on_exit lock_held_at_exit; }
"""


@pytest.mark.parametrize("scenario", ["in_task", "in_hardirq", "in_softirq", "leak_in_handler"])
def test_might_sleep_in_a_handler_is_sleeping_in_atomic_context(spec_file: Spec,
                                                                scenario: str) -> None:
    """A handler runs with HARDIRQ_OFFSET or SOFTIRQ_OFFSET in its
    preempt_count: mutex_lock()'s might_sleep() fails there at the handler's
    first step after its entry, and passes in a task; a spinlock a handler
    does not release still shows at its exit (the offset is undone there)."""
    result = run(spec_file(SLEEPER), scenario)
    assert result.met, (scenario, result.verdict, result.violation)
    if scenario in ("in_hardirq", "in_softirq"):
        assert result.violation is not None and result.violation.steps == 2


def test_might_sleep_in_a_handler_without_the_offset_is_missed(
        spec_file: Spec, monkeypatch: pytest.MonkeyPatch) -> None:
    """Control: without the offset the handler's preempt_count is 0, and the
    mutex in hardirq context goes unreported (the scenario's expectation is
    not met)."""
    import checker.ir.contexts as contexts

    monkeypatch.setattr(contexts, "_offset", lambda slot, op: ())
    result = run(spec_file(SLEEPER), "in_hardirq")
    assert not result.met and result.verdict == "verified"


LOOPED = """
    import "irq";
    int[0..3] x = 0;
    thread t() { x = 1; }
    thread h(int[0..3] v) { x = v; }
    scenario looped { run t() on cpu 0; for (i in 1..2) irq h(i) on cpu 0; }
    scenario written { run t() on cpu 0; irq h(1) on cpu 0; irq h(2) on cpu 0; }
"""


def test_handlers_in_a_scenario_loop_are_the_handlers_written_out(spec_file: Spec) -> None:
    """`for (i in 1..2) irq h(i) on cpu 0;` starts the same two handlers as
    two `irq` lines: the same threads, contexts and CPUs, and the same states
    and transitions in the oracle and the engine. By hand: three blocks, t's
    step (x = 1), h(1)'s entry and end (x = 1), h(2)'s (x = 2), none entered
    while a handler runs. Between blocks: the set done and x, the value of
    the last one: {} 1, one done 3, two 5 ({a,c} and {b,c} end with x 1 or
    2), all 2: 11 states, with 3, 2, 1, 0 successors: 3 + 6 + 5 = 14. With
    h(1) entered: t and h(2) done or not, 5 states; with h(2) entered, 4;
    one successor each: 20 states, 23 transitions."""
    path = spec_file(LOOPED)
    looped, written = system(path, "looped"), system(path, "written")
    assert [(t.kind, t.args_text, t.context, t.cpu) for t in looped.threads] == \
        [(t.kind, t.args_text, t.context, t.cpu) for t in written.threads] == \
        [("t", "", ExecContext.TASK, 0), ("h", "1", ExecContext.HARDIRQ, 0),
         ("h", "2", ExecContext.HARDIRQ, 0)]
    for ts in (looped, written):
        oracle = explore(ts)
        result = check(ts)
        assert result.verdict == "verified"
        assert (result.stats.states, result.stats.transitions) == \
            (oracle.states, oracle.transitions) == (20, 23)
