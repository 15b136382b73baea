"""Partial searches (README, "Partial search"): bitstate and hash-compact
stores of the VM's breadth-first search (checker/vm/bitstate.py), random
simulation (checker/explore/simulate.py) and swarm (checker/vm/swarm.py).

Held to the exhaustive search: a filter too large to collide stores exactly
its states and finds its violations with paths of the same length; hash
compaction likewise. A small filter omits states and says so. Every
violation found is real (its trace replays); no partial search ever says
verified, and its exit status is the one for incomplete.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from checker.explore.options import CheckOptions
from checker.explore.partial import (
    BITSTATE,
    HASHCOMPACT,
    PartialConfig,
    bitstate_omissions,
    hashcompact_omissions,
    parse_store,
)
from checker.explore.result import CheckResult
from checker.explore.run import check
from checker.explore.simulate import simulation
from checker.ir.nodes import TransitionSystem
from checker.kinds import Status, Verdict
from checker.trace.model import build_trace
from checker.trace.replay import replay_on
from checker.vm import bitstate
from checker.vm.bitstate import partial_bfs
from checker.vm.search import vm_bfs
from checker.vm.swarm import configs, swarm_check
from tests.conftest import ROOT
from tests.programs import programs
from tests.test_vm import _build, _scenarios

SHAPES = sorted((ROOT / "specs" / "shapes").glob("*.mig"))
# Judged on the whole graph after the search: out of a partial search's reach.
AFTER_THE_SEARCH = {"starvation", "no_progress", "inconsistent_lock_state"}
CAP = 20_000
HUGE = PartialConfig(BITSTATE, 26, 3)  # 2^26 bits: no collision among a few thousand states


def _replays(r: CheckResult) -> bool:
    assert r.violation is not None and r.compiled is not None
    return replay_on(build_trace(r.compiled, r.violation), r.ts).reproduced


def _same_search(ts: TransitionSystem, cfg: PartialConfig) -> None:
    """The partial search with no collision is the exhaustive search,
    except that it never verifies and finds no liveness violation."""
    opts = CheckOptions().max_states(CAP)
    want = check(ts, opts, engine=vm_bfs)
    got = check(ts, opts, engine=partial_bfs(cfg))
    assert got.verdict != Verdict.VERIFIED
    assert got.stats.coverage is not None and got.stats.coverage.mode == cfg.mode
    if want.violation is not None and (want.violation.cycle
                                       or str(want.violation.kind) in AFTER_THE_SEARCH):
        assert got.verdict == Verdict.INCOMPLETE  # found after the search: out of its reach
        assert got.stats.states == want.stats.states
        return
    assert (got.stats.states, got.stats.transitions, got.stats.depth) == \
        (want.stats.states, want.stats.transitions, want.stats.depth), ts.scenario
    if want.violation is None:
        assert got.verdict == Verdict.INCOMPLETE and got.violation is None
        assert got.status == Status.INCOMPLETE
        return
    assert got.violation is not None, ts.scenario
    assert (got.violation.kind, got.violation.name, len(got.violation.path)) == \
        (want.violation.kind, want.violation.name, len(want.violation.path)), ts.scenario
    if not cfg.permute:  # the same order of discovery: the same parents, the same run
        assert got.violation.path == want.violation.path, ts.scenario
    assert got.status == want.status
    assert _replays(got)


@pytest.mark.parametrize("spec", SHAPES, ids=lambda p: p.stem)
def test_a_huge_filter_gives_the_exhaustive_search(spec: Path) -> None:
    for ts in _scenarios(spec):
        _same_search(ts, HUGE)


@pytest.mark.parametrize("spec", SHAPES[:4], ids=lambda p: p.stem)
def test_hash_compaction_gives_the_exhaustive_search(spec: Path) -> None:
    for ts in _scenarios(spec):
        _same_search(ts, PartialConfig(HASHCOMPACT))


@pytest.mark.parametrize("spec", SHAPES, ids=lambda p: p.stem)
def test_paths_replay_from_dropped_rows(spec: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ring of two rows to begin with: it is resized again and again and
    the rows of every earlier level are gone, so each path is rebuilt by
    replaying successor places; it is the exhaustive search's path."""
    monkeypatch.setattr(bitstate, "_RING0", 2)
    for ts in _scenarios(spec):
        _same_search(ts, PartialConfig(BITSTATE, 24, 2))


def test_a_tiny_filter_omits_states_and_says_so() -> None:
    ts = max(_scenarios(SHAPES[0]) + _scenarios(SHAPES[1]),
             key=lambda t: check(t, CheckOptions().max_states(CAP), engine=vm_bfs).stats.states)
    full = check(ts, CheckOptions().max_states(CAP), engine=vm_bfs)
    assert full.stats.states > 200
    r = check(ts, CheckOptions(), engine=partial_bfs(PartialConfig(BITSTATE, 8, 2)))
    assert r.stats.states < full.stats.states
    assert r.verdict != Verdict.VERIFIED
    cov = r.stats.coverage
    assert cov is not None and cov.omitted > 0.1 and 0 < cov.fill <= 1
    assert cov.bits == 256 and cov.bits_set <= 256
    if r.violation is not None:
        assert _replays(r)


def test_the_estimates() -> None:
    # (1 - e^{-k i/m})^k summed; the closed form's first terms by hand
    m, k = 1024, 2
    assert bitstate_omissions(3, m, k) == pytest.approx(
        sum((1 - 2.718281828459045 ** (-k * i / m)) ** k for i in range(3)))
    # past 10^5 states the sum is integrated: close to the exact sum
    exact = sum((1 - 2.718281828459045 ** (-3 * i / 2**22)) ** 3 for i in range(300_000))
    assert bitstate_omissions(300_000, 2**22, 3) == pytest.approx(exact, rel=1e-3)
    assert hashcompact_omissions(2**20) == pytest.approx(2**40 / 2**65, rel=1e-5)
    assert hashcompact_omissions(1) == 0


def test_store_forms_parse() -> None:
    assert parse_store("dense") is None and parse_store("auto") is None
    assert parse_store("bitstate") == PartialConfig(BITSTATE, 30, 3)
    assert parse_store("bitstate:20:4") == PartialConfig(BITSTATE, 20, 4)
    assert parse_store("hashcompact") == PartialConfig(HASHCOMPACT)
    for bad in ("bitstate:3", "bitstate:x", "bitstate:20:0", "hashcompact:3", "bloom"):
        with pytest.raises(ValueError):
            parse_store(bad)


def test_depth_bound_leaves_states_unexpanded() -> None:
    ts = _scenarios(SHAPES[0])[0]
    full = check(ts, CheckOptions(), engine=partial_bfs(HUGE))
    cut = check(ts, CheckOptions(), engine=partial_bfs(PartialConfig(BITSTATE, 26, 3,
                                                                     max_depth=2)))
    assert cut.stats.depth == 2 and cut.stats.states < full.stats.states
    assert cut.stats.coverage is not None and cut.stats.coverage.cut


def test_a_permuted_order_is_another_search_of_the_same_states() -> None:
    for ts in _scenarios(SHAPES[0]):
        want = check(ts, CheckOptions(), engine=vm_bfs)
        if want.violation is not None:
            continue
        got = check(ts, CheckOptions(), engine=partial_bfs(PartialConfig(
            BITSTATE, 26, 3, seed=7, permute=True)))
        assert (got.stats.states, got.stats.transitions) == \
            (want.stats.states, want.stats.transitions)


# ---------------------------------------------------------------- simulation

LOST_UPDATE = """\
int[0..3] x = 0;
thread inc() { int[0..3] l = x; x = l + 1; }
final no_update_lost: x == 2;
scenario two { run inc(); run inc(); expect verified; }
"""


def test_simulation_finds_a_seeded_bug_and_its_trace_replays(tmp_path: Path) -> None:
    ts = _build(tmp_path, LOST_UPDATE)
    r = check(ts, CheckOptions().fewest_switches(False), engine=simulation(200, 50, seed=1))
    assert r.verdict == Verdict.VIOLATION and r.status == Status.UNMET
    assert r.violation is not None and str(r.violation.kind) == "final"
    assert _replays(r)


SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@SETTINGS
@given(programs())
def test_simulation_on_random_programs(tmp_path: Path, text: str) -> None:
    """Never verified; each violation is one the exhaustive search finds
    (with --all-violations) and replays."""
    ts = _build(tmp_path, text)
    every = CheckOptions().every_violation(True).livelock(False)
    want = check(ts, every)
    got = check(ts, every.fewest_switches(False), engine=simulation(100, 40, seed=3))
    assert got.verdict != Verdict.VERIFIED
    kinds = {(v.kind, v.name) for v in ([want.violation] if want.violation else [])
             + want.others}
    for v in ([got.violation] if got.violation else []) + got.others:
        assert (v.kind, v.name) in kinds
        assert replay_on(build_trace(got.compiled, v), ts).reproduced
    assert got.stats.states <= max(want.stats.states, 1)


@SETTINGS
@given(programs())
def test_a_huge_filter_and_hash_compaction_on_random_programs(tmp_path: Path,
                                                               text: str) -> None:
    ts = _build(tmp_path, text)
    _same_search(ts, HUGE)
    _same_search(ts, PartialConfig(HASHCOMPACT))


# ---------------------------------------------------------------- swarm


def test_swarm_finds_the_bug_and_never_verifies() -> None:
    by_name = {ts.scenario: ts for ts in _scenarios(ROOT / "specs/shapes/lost_wakeup.mig")}
    bad = swarm_check(by_name["destroy_vs_putback_reordered"], CheckOptions(), 3, jobs=2,
                      base=PartialConfig(BITSTATE, 20, 3))
    assert bad.verdict == Verdict.VIOLATION and bad.status == Status.MET
    assert bad.violation is not None and str(bad.violation.kind) == "deadlock"
    assert _replays(bad)
    good = swarm_check(by_name["destroy_vs_putback"], CheckOptions(), 3, jobs=2,
                       base=PartialConfig(BITSTATE, 20, 3))
    assert good.verdict == Verdict.INCOMPLETE and good.status == Status.INCOMPLETE
    cov = good.stats.coverage
    assert cov is not None and cov.searches == 3 and cov.states == good.stats.states
    assert good.stats.states >= 3 * 40


def swarm_figures(r: CheckResult) -> tuple[object, ...]:
    """What a swarm reports, but its times: the same for every backend
    given the same seeds (test_ray_search compares the Ray backend's)."""
    cov = r.stats.coverage
    assert cov is not None
    return (r.verdict, r.status, r.limit, r.stats.states, r.stats.transitions, r.stats.depth,
            cov.searches, cov.omitted, cov.detail,
            [(str(v.kind), v.name, v.path) for v in
             ([r.violation] if r.violation is not None else []) + list(r.others)])


def test_swarm_in_one_process_or_several_is_the_same_swarm() -> None:
    ts = {t.scenario: t for t in _scenarios(ROOT / "specs/shapes/lost_wakeup.mig")}[
        "destroy_vs_putback_reordered"]
    base = PartialConfig(BITSTATE, 12, 3)  # small: the searches differ
    one = swarm_check(ts, CheckOptions(), 4, jobs=1, base=base, seed=3, max_depth=8)
    two = swarm_check(ts, CheckOptions(), 4, jobs=2, base=base, seed=3, max_depth=8)
    assert swarm_figures(one) == swarm_figures(two)


def test_swarm_configurations_differ() -> None:
    cfgs = configs(4, PartialConfig(BITSTATE, 20, 3), 5, 30)
    assert len({c.seed for c in cfgs}) == 4
    assert not cfgs[0].permute and all(c.permute for c in cfgs[1:])
    assert cfgs[0].max_depth == 30 and all(c.max_depth is not None and 15 <= c.max_depth <= 30
                                           for c in cfgs)


# ---------------------------------------------------------------- never verified


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "checker", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("mode", [["--store", "bitstate:24"], ["--store", "hashcompact"],
                                  ["--simulate", "50"], ["--swarm", "2", "--jobs", "2"]],
                         ids=lambda m: m[1] if m[0] == "--store" else m[0])
def test_a_partial_search_never_says_verified(mode: list[str]) -> None:
    """The scenario is verified by the exhaustive search; a partial search
    of it must say incomplete (exit 3), whatever it covered."""
    spec = str(ROOT / "specs/shapes/lost_wakeup.mig")
    r = _cli("check", spec, "-s", "destroy_vs_putback", "--format", "json", "--no-save",
             "--max-memory", "2000", *mode)
    assert r.returncode == 3, r.stdout + r.stderr
    (res,) = json.loads(r.stdout)
    assert res["verdict"] == "incomplete" and res["status"] == "incomplete"
    assert res["partial"]["mode"] in ("bitstate", "hashcompact", "simulation", "swarm")
    exhaustive = _cli("check", spec, "-s", "destroy_vs_putback", "--no-save", "-q")
    assert exhaustive.returncode == 0


def test_partial_options_that_do_not_go_together() -> None:
    spec = str(ROOT / "specs/shapes/lost_wakeup.mig")
    for args in (["--store", "bitstate", "--dfs"], ["--simulate", "3", "--swarm", "2"],
                 ["--store", "bloom"], ["--seed", "3"], ["--max-depth", "3"],
                 ["--simulate", "3", "--jobs", "2"], ["--store", "bitstate", "--por"],
                 ["--swarm", "2", "--checkpoint", "x.ck"],
                 ["--store", "hashcompact", "--engine", "bmc"]):
        r = _cli("check", spec, "--no-save", *args)
        assert r.returncode == 2, (args, r.stdout + r.stderr)


def test_a_rebuilt_path_that_disagrees_with_the_stored_rows_is_caught(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """If the Python engine's successor order ever differed from the VM's,
    a rebuilt path would be another run: the check where the rebuilt path
    meets the stored rows raises instead."""
    original = bitstate.successors
    monkeypatch.setattr(bitstate, "_RING0", 2)
    monkeypatch.setattr(bitstate, "successors", lambda c, s: original(c, s)[::-1])
    by_name = {ts.scenario: ts for ts in _scenarios(ROOT / "specs/shapes/bitfield_rmw.mig")}
    with pytest.raises(AssertionError, match="successor orders disagree"):
        check(by_name["isolate_vs_free"], CheckOptions(), engine=partial_bfs(HUGE))


SYMMETRIC = """
import "mutex";
int[0..3] x = 0;
thread inc() { int[0..3] t = x; x = t + 1; }
final all_counted: x == 3;
scenario lost { run inc() * 3 symmetric; expect final all_counted; }
"""


@pytest.mark.parametrize("cfg", [HUGE, PartialConfig(HASHCOMPACT)], ids=["bitstate", "hc"])
def test_a_symmetric_scenario_stores_representatives(tmp_path: Path, cfg: PartialConfig) -> None:
    """With `symmetric`, the partial stores hold the representatives the
    exhaustive reduced search stores (the same figures and run length),
    and the lost update's run is mapped back to a concrete run that
    replays."""
    ts = _build(tmp_path, SYMMETRIC)
    opts = CheckOptions().livelock(False)
    want = check(ts, opts, engine=vm_bfs)
    got = check(ts, opts, engine=partial_bfs(cfg))
    assert want.stats.symmetry_applied and got.stats.symmetry_applied
    assert (got.stats.states, got.stats.transitions, got.stats.depth) == \
        (want.stats.states, want.stats.transitions, want.stats.depth)
    assert want.stats.states < check(ts, opts.use_symmetry(False)).stats.states
    assert got.violation is not None and want.violation is not None
    assert len(got.violation.path) == len(want.violation.path)
    assert _replays(got)
