"""The default search on several workers (checker/vm/tiered.py with
`workers`, checker/vm/parallel.py `parallel_resume`), and the workers on
the JIT's code (checker/vm/llvm_parallel.py).

The Python engine hands its search over at a level boundary to the
workers instead of the single-threaded VM, and the workers move from the
interpreter to the JIT past a size. Every combination must be the one
search the Python engine alone makes: the same figures, the same
counterexample (its states, not only its length), the same notes, at every
hand-over point. `parallel.one_worker_because` decides when the workers
may take over: each of its refusals is tested, and a search it lets
through is checked to have run on the workers (their figures), so that a
comparison cannot pass by falling back to one worker.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from checker.explore.codegen import Packing
from checker.explore.common import StateGraph
from checker.explore.options import CheckOptions
from checker.explore.run import check
from checker.ir.nodes import TransitionSystem
from checker.vm import parallel, parallel_kernel, tiered, treestore
from checker.vm.layout import TIGHT_WORDS, NotSupported
from checker.vm.parallel import parallel_bfs
from checker.vm.program import compile_program
from checker.vm.search import vm_bfs
from checker.vm.tiered import tiered_bfs
from tests.conftest import ROOT
from tests.heap_programs import arith_programs, heap_programs
from tests.programs import programs
from tests.test_vm import SETTINGS, SPECS, SPINNING, _build, _scenarios
from tests.test_vm_jit import own_cache  # noqa: F401  (a fixture)
from tests.test_vm_tiered import BROKEN_WITH_SUCCESSORS, _with_path

CAP = 1500
DENSE = CheckOptions().store_form("dense")
FEW = settings(SETTINGS, max_examples=20)


def same_as_python(ts: TransitionSystem, opts: CheckOptions, jit_after: int | None = None,
                   after: tuple[int, ...] = (1, 97), workers: tuple[int, ...] = (2, 3)
                   ) -> None:
    want = _with_path(check(ts, opts))
    for n in after:
        for w in workers:
            r = check(ts, opts, engine=tiered_bfs(n, jit_after, workers=w))
            assert _with_path(r) == want, (ts.scenario, n, w)
            if r.stats.states > n and r.stats.workers:
                assert len(r.stats.workers) == w


# ---------------------------------------------------------------- the hand-over


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_hand_over_to_workers_agrees_on_every_spec_scenario(spec: Path) -> None:
    for ts in _scenarios(spec):
        same_as_python(ts, DENSE.max_states(CAP))


@FEW
@given(programs())
def test_hand_over_to_workers_agrees_on_random_programs(tmp_path: Path, text: str) -> None:
    same_as_python(_build(tmp_path, text), DENSE)


@FEW
@given(heap_programs())
def test_hand_over_to_workers_agrees_on_heap_programs(tmp_path: Path, text: str) -> None:
    same_as_python(_build(tmp_path, text), DENSE)


@FEW
@given(arith_programs())
def test_hand_over_to_workers_agrees_on_range_fault_programs(tmp_path: Path, text: str) -> None:
    same_as_python(_build(tmp_path, text), DENSE)


def test_states_that_broke_an_invariant_stay_unexpanded(tmp_path: Path) -> None:
    """The hand-over's flags: a state past the level boundary that broke an
    invariant was not expanded by the Python engine, nor may a worker."""
    ts = _build(tmp_path, BROKEN_WITH_SUCCESSORS.replace("expect invariant small;", ""))
    opts = DENSE.every_violation(True)
    r = check(ts, opts, engine=tiered_bfs(1, workers=2))
    assert r.stats.workers
    assert _with_path(r) == _with_path(check(ts, opts))


SPIN_THEN_SET = """\
int[0..1] g = 0;
int[0..7] x = 0;
thread waiter() { while (g == 0) { } }
thread counter() { x = 1; x = 2; x = 3; x = 4; g = 1; }
scenario s { run waiter(); run counter(); }
"""


def test_the_livelock_pass_sees_the_handed_over_graph(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The steps the Python engine recorded before the hand-over move into
    the parts: the livelock pass gets every step of the Python engine's
    graph, numbered alike, whatever the hand-over point."""
    from checker.explore import livelock

    seen: list[list[tuple[int, int]]] = []
    real = livelock.find_livelock

    def recording(c: object, parent: object, graph: StateGraph) -> object:
        seen.append(sorted(zip(graph.rows, graph.cols, strict=True)))
        return real(c, parent, graph)  # type: ignore[arg-type]

    monkeypatch.setattr(livelock, "find_livelock", recording)
    ts = _build(tmp_path, SPIN_THEN_SET)
    assert check(ts, DENSE).verdict == "verified"
    want = seen.pop()
    assert len(want) == check(ts, DENSE).stats.transitions
    seen.clear()
    for after in range(1, 12):
        r = check(ts, DENSE, engine=tiered_bfs(after, workers=2))
        assert r.verdict == "verified" and seen.pop() == want, after
    spinning = _build(tmp_path, SPINNING)
    r = check(spinning, DENSE, engine=tiered_bfs(1, workers=2))
    assert r.stats.workers and r.violation is not None and r.violation.cycle


# 248,004 states (counted in the test below) in one 64-bit word: past the
# default hand-over (`tiered.VM_AFTER`).
COUNTERS = """\
int[0..255] x = 0;
int[0..255] y = 0;
thread a() { while (x < 248) { x = x + 1; } }
thread b() { while (y < 248) { y = y + 1; } }
scenario s { run a(); run b(); }
"""


def test_the_default_search_runs_on_the_machines_cores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`check`'s default: past the hand-over, on `machine_cores()` workers;
    `--workers 1` keeps one. Each thread's loop has 249 values of its
    counter at the loop's head, one in its body each below 248, and its end:
    249 + 248 + 1 = 498 local states, so 498 ** 2 = 248,004 states."""
    from checker.cli import main

    spec = tmp_path / "counters.mig"
    spec.write_text(COUNTERS)
    monkeypatch.setattr(tiered, "machine_cores", lambda: 3)
    r = check(_build(tmp_path, COUNTERS), CheckOptions(),
              engine=tiered.default_engine("bfs", tiered.machine_cores()))
    assert (r.verdict, r.stats.states) == ("verified", 498 ** 2)
    assert len(r.stats.workers) == 3
    assert sum(n for n, _ in r.stats.workers) == 498 ** 2
    capsys.readouterr()
    assert main(["check", str(spec), "--format", "json", "--no-livelock"]) == 0
    stats = json.loads(capsys.readouterr().out)[0]["stats"]
    assert (stats["states"], len(stats["workers"])) == (498 ** 2, 3)
    assert main(["check", str(spec), "--format", "json", "--no-livelock", "--workers", "1"]) == 0
    stats = json.loads(capsys.readouterr().out)[0]["stats"]
    assert (stats["states"], stats["workers"]) == (498 ** 2, [])


# ---------------------------------------------------------------- one worker, and why


REFUSED = {
    "WARN_ON() sites": """\
int[0..3] x = 0;
thread t() { x = 1; WARN_ON(x == 1); x = 2; }
scenario s { run t(); }
""",
    "symmetry reduction": """\
int[0..3] x = 0;
thread t() { x = x + 1; }
scenario s { run t() * 2 symmetric; }
""",
}


@pytest.mark.parametrize("what", sorted(REFUSED))
def test_scenarios_the_workers_cannot_run_stay_on_one(tmp_path: Path, what: str) -> None:
    ts = _build(tmp_path, REFUSED[what])
    r = check(ts, DENSE, engine=tiered_bfs(1, workers=2))
    assert (r.stats.workers, r.stats.one_worker) == ([], what)
    assert _with_path(r) == _with_path(check(ts, DENSE))


def test_successors_beyond_the_keys_stay_on_one(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A key holds a successor's position in `KEY_BITS` bits: with one bit,
    a state of two successors (the two counters) is beyond it, so the
    default search stays on one worker and `--workers` refuses."""
    ts = _build(tmp_path, COUNTERS.replace("248", "20"))
    monkeypatch.setattr(parallel_kernel, "KEY_BITS", 1)
    r = check(ts, DENSE, engine=tiered_bfs(1, workers=2))
    assert (r.stats.workers, r.stats.one_worker) == ([], "a state with more than 1 successors")
    assert _with_path(r) == _with_path(check(ts, DENSE))
    with pytest.raises(NotSupported, match="more than 1 successors"):
        check(ts, DENSE, engine=parallel_bfs(2))


def test_a_full_part_ends_the_search_as_incomplete(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A part's global ids are int32 (`gid_of`: index * parts + part), so a
    part stores at most `part_states` states. With room for 100 a part, two
    parts cannot hold the 42 ** 2 = 1,764 states of the counters to 20 (21
    values at each loop's head, 20 in its body, its end): the search stops
    as incomplete with that limit, never verified, with at most 200 states."""
    ts = _build(tmp_path, COUNTERS.replace("248", "20"))
    assert check(ts, DENSE, engine=parallel_bfs(2)).stats.states == 42 ** 2
    monkeypatch.setattr(parallel_kernel, "part_states", lambda nparts: 100)
    r = check(ts, DENSE, engine=parallel_bfs(2))
    assert (r.verdict, r.limit) == (
        "incomplete", "the compiled engine's limit of 100 states in one of its 2 parts")
    assert 100 <= r.stats.states <= 200


def test_a_full_tree_table_ends_the_search_as_incomplete(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """A tree table holds at most 2^31 entries (`treestore.MAX_ENTRIES`,
    checked when a table would grow past it): here 3,000. A part whose tree
    would pass that stops the search as incomplete with `treestore.FULL`,
    as the single-threaded search does, never verified, never a crash."""
    ts = _scenarios(ROOT / "specs" / "zsmalloc" / "isolation_wide.mig")[5]
    tree = CheckOptions().store_form("tree")
    total = check(ts, tree).stats.states
    monkeypatch.setattr(treestore, "MAX_ENTRIES", 3000)
    for engine in (parallel_bfs(2), vm_bfs):
        r = check(ts, tree, engine=engine)
        assert (r.verdict, r.limit) == ("incomplete", treestore.FULL), engine
        assert 0 < r.stats.states < total / 2


def test_the_parts_keep_ranks_from_the_frontier_on(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Where nothing reads the parent map at the end (no livelock graph, no
    interrupt handlers), a part keeps its states' ranks, flags and
    successor counts only from the frontier on (`_Part`'s window): on the
    counters to 20 without the livelock pass (42 ** 2 = 1,764 states, 2 *
    41 + 1 levels of at most 42 states), each part's window ends at most a
    few levels long, its parents cover every state; the figures are the
    single search's. With a graph
    or interrupt handlers, every rank is kept, and their passes agree."""
    parts: list[parallel.Part] = []
    init = parallel.Part.__init__

    def spy(self: parallel.Part, *args: Any, **kw: Any) -> None:
        init(self, *args, **kw)
        parts.append(self)

    monkeypatch.setattr(parallel, "FIRST_CAP", 4)
    monkeypatch.setattr(parallel.Part, "__init__", spy)
    ts = _build(tmp_path, COUNTERS.replace("248", "20"))
    plain = CheckOptions().livelock(False)  # its loops may cycle: else a graph is recorded
    r = check(ts, plain, engine=parallel_bfs(2))
    assert (r.stats.states, _with_path(r)) == (42 ** 2, _with_path(check(ts, plain)))
    assert [p.window for p in parts] == [True, True]
    assert sum(len(p.parent) for p in parts) >= 42 ** 2
    assert all(len(p.key) == len(p.flags) == len(p.nsucc) <= 64 for p in parts)
    assert all(p.wb > 0 for p in parts)
    for spec, graph in (("shapes/irq_enable_under_lock.mig", False),
                        ("shapes/softirq_free_under_plain_lock.mig", True)):
        for ts in _scenarios(ROOT / "specs" / spec)[:2]:
            parts.clear()
            r = check(ts, CheckOptions(), engine=parallel_bfs(2))
            assert _with_path(r) == _with_path(check(ts, CheckOptions())), ts.scenario
            assert [p.window for p in parts] == [False, False] and ts.has_cycles == graph
    parts.clear()
    r = check(_build(tmp_path, SPINNING), CheckOptions(), engine=parallel_bfs(2))
    assert r.violation is not None and r.violation.cycle and not any(p.window for p in parts)


def test_options_the_workers_lack_keep_one(tmp_path: Path) -> None:
    ts = _build(tmp_path, COUNTERS.replace("248", "20"))
    for opts, why in ((DENSE.reduced().livelock(False), "partial-order reduction"),
                      (DENSE.checkpointed(str(tmp_path / "ck")), "--checkpoint")):
        r = check(ts, opts, engine=tiered_bfs(1, workers=2))
        assert not r.stats.workers and why in r.stats.one_worker, opts
    for form in ("dense", "tree", "auto"):
        r = check(ts, CheckOptions().store_form(form), engine=tiered_bfs(1, workers=2))
        assert (len(r.stats.workers), r.stats.one_worker) == (2, ""), form


@pytest.mark.parametrize("spec", ["zsmalloc/isolation_wide.mig", "shapes/lost_wakeup.mig"])
def test_the_hand_over_into_tree_parts(spec: str) -> None:
    """The Python engine's states go into each part's tree store (`--store
    tree`: `Part.fill`), at every hand-over point, on rows of 3 words and
    of the specs' widest."""
    for ts in _scenarios(ROOT / "specs" / spec):
        if not ts.warnings:
            same_as_python(ts, CheckOptions().store_form("tree").max_states(CAP))


def test_wide_rows_move_to_the_parts_trees(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Under `--store auto`, a part of rows wider than `TIGHT_WORDS` words
    moves from dense rows to its tree store past its share of
    `TREE_AT_BYTES` (here 1 KiB, with room for 4 states at first): every
    part moves once, mid-search, with the states it held, and the result
    is the single-threaded search's. Rows of at most `TIGHT_WORDS` words
    stay dense, as in the single-threaded store."""
    moved: list[tuple[int, int]] = []
    to_tree = parallel.Part._to_tree

    def spy(self: parallel.Part, rows: np.ndarray) -> None:
        moved.append((self.me, len(rows)))
        to_tree(self, rows)

    monkeypatch.setattr(parallel, "FIRST_CAP", 4)
    monkeypatch.setattr(parallel, "TREE_AT_BYTES", 1024)
    monkeypatch.setattr(parallel.Part, "_to_tree", spy)
    wide = _scenarios(ROOT / "specs" / "zsmalloc" / "isolation_wide.mig")
    for ts, words in ((wide[0], 3), (wide[5], 10)):
        assert compile_program(ts, Packing.of(ts)).layout.nwords == words > TIGHT_WORDS
        want = _with_path(check(ts, CheckOptions()))
        for w in (2, 3):
            moved.clear()
            r = check(ts, CheckOptions(), engine=tiered_bfs(1, workers=w))
            assert _with_path(r) == want and len(r.stats.workers) == w
            assert sorted(me for me, _ in moved) == list(range(w)), (ts.scenario, w)
            assert all(n > 0 for _, n in moved), moved  # with states in it: mid-search
    tight = _build(tmp_path, COUNTERS.replace("248", "20"))
    moved.clear()
    r = check(tight, CheckOptions(), engine=tiered_bfs(1, workers=2))
    assert r.stats.states == 42 ** 2 and len(r.stats.workers) == 2 and moved == []


# ---------------------------------------------------------------- the JIT's workers


def same_on_jit_workers(ts: TransitionSystem, opts: CheckOptions) -> None:
    """2 workers with their rows dense, 3 with them in their trees."""
    want = _with_path(check(ts, opts))
    for w, form in ((2, "dense"), (3, "tree")):
        got = check(ts, opts.store_form(form), engine=parallel_bfs(w, jit_after=0))
        assert _with_path(got) == want, (ts.scenario, w)


@pytest.mark.parametrize("spec", ["shapes/lost_wakeup.mig", "zsmalloc/isolation_wide.mig",
                                  "zsmalloc/migration.mig"])
def test_jit_workers_agree(spec: str) -> None:
    for ts in _scenarios(ROOT / "specs" / spec):
        if not ts.warnings:
            same_on_jit_workers(ts, CheckOptions().max_states(CAP))


@FEW
@given(programs())
def test_jit_workers_agree_on_random_programs(own_cache: Path,  # noqa: F811
                                              tmp_path: Path, text: str) -> None:
    same_on_jit_workers(_build(tmp_path, text), CheckOptions())


@FEW
@given(heap_programs())
def test_jit_workers_agree_on_heap_programs(own_cache: Path,  # noqa: F811
                                            tmp_path: Path, text: str) -> None:
    same_on_jit_workers(_build(tmp_path, text), CheckOptions())


@FEW
@given(programs())
def test_hand_over_then_jit_agrees(own_cache: Path,  # noqa: F811
                                   tmp_path: Path, text: str) -> None:
    """Python, then the interpreted workers, then the JIT's, mid-search."""
    same_as_python(_build(tmp_path, text), DENSE, jit_after=5, after=(2,), workers=(2,))


def test_jit_workers_see_the_graph(own_cache: Path, tmp_path: Path) -> None:  # noqa: F811
    spinning = _build(tmp_path, SPINNING)
    same_on_jit_workers(spinning, CheckOptions())
