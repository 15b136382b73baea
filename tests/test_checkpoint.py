"""Checkpoints (`--checkpoint FILE`, `--resume FILE`, checker/vm/checkpoint.py):
a search stopped after a checkpoint and resumed gives exactly the result of
one never stopped (figures, verdict, counterexample, what was executed),
in process and with the process killed; a file of another search, or no
checkpoint at all, is refused with a clear error."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from checker.explore.codegen import Compiled
from checker.explore.common import Outcome
from checker.explore.options import CheckOptions
from checker.explore.result import CheckResult
from checker.explore.run import check
from checker.explore.symmetry import Canon
from checker.ir.nodes import TransitionSystem
from checker.vm import checkpoint as ckpt
from checker.vm import search as vm_search
from checker.vm.search import vm_bfs
from checker.vm.tiered import resumed_bfs
from tests.conftest import ROOT
from tests.test_pool_symmetry import DANGLING
from tests.test_vm import _figures, _scenarios

SPECS = ROOT / "specs"


class Killed(BaseException):
    """Stands for the process dying right after a checkpoint was written."""


def _stopped_after(ts: TransitionSystem, path: Path, saves: int,
                   monkeypatch: pytest.MonkeyPatch, opts: CheckOptions,
                   recorded: bool = False) -> None:
    """Run the VM search with a checkpoint at every return of its kernel
    (every 8 expansions) and stop it dead after the `saves`-th one (counting
    only those that hold a recorded run, with `recorded`)."""
    count = [0]

    def enough(_c: Compiled, out: Outcome) -> bool:
        if recorded and not (out.others or out.found or out.warnings):
            return False
        count[0] += 1
        return count[0] == saves

    _killed_when(ts, path, enough, monkeypatch, opts)


def _killed_when(ts: TransitionSystem, path: Path, stop: Callable[[Compiled, Outcome], bool],
                 monkeypatch: pytest.MonkeyPatch, opts: CheckOptions, every: int = 8) -> None:
    """Run the VM search with a checkpoint at every return of its kernel
    (every `every` expansions) and stop it dead right after a checkpoint
    of which `stop(compiled, outcome)` holds."""
    real = ckpt.save

    def save_then_die(*args: object, **kw: object) -> None:
        real(*args, **kw)  # type: ignore[arg-type]
        c, out = args[1], args[-1]
        assert isinstance(c, Compiled) and isinstance(out, Outcome)
        if stop(c, out):
            raise Killed

    with monkeypatch.context() as m:
        m.setattr(vm_search, "CHECK_EVERY", every)
        m.setattr(ckpt, "save", save_then_die)
        with pytest.raises(Killed):
            check(ts, opts.checkpointed(str(path), 0.0), engine=vm_bfs)


def _same(resumed: CheckResult, whole: CheckResult) -> None:
    assert _figures(resumed) == _figures(whole)
    assert [o.span for o in resumed.unexecuted] == [o.span for o in whole.unexecuted]
    if whole.violation is not None:
        assert resumed.violation is not None
        assert resumed.violation.path == whole.violation.path
    assert [(o.kind, o.prop, o.message, o.path, o.fault_action) for o in resumed.others] \
        == [(o.kind, o.prop, o.message, o.path, o.fault_action) for o in whole.others]
    assert [(w.prop, w.path, w.action) for w in resumed.warnings] \
        == [(w.prop, w.path, w.action) for w in whole.warnings]


@pytest.mark.parametrize(("spec", "scenario"), [
    ("zsmalloc/migration.mig", "alloc_vs_compaction"),  # verified, the livelock steps kept
    ("zsmalloc/isolation_wide.mig", "race_4_zspages"),  # the expected violation
    ("shapes/lost_wakeup.mig", "destroy_vs_putback_with_kcompactd"),  # a daemon: starvation pass
])
def test_a_resumed_search_is_the_search_never_stopped(
        spec: str, scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (ts,) = [t for t in _scenarios(SPECS / spec) if t.scenario == scenario]
    opts = CheckOptions()
    whole = check(ts, opts, engine=vm_bfs)
    path = tmp_path / "search.ckpt"
    _stopped_after(ts, path, 3, monkeypatch, opts)
    resumed = check(ts, opts, engine=resumed_bfs(path, None))
    assert resumed.stats.resumed_seconds is not None
    _same(resumed, whole)


@pytest.mark.parametrize(("spec", "scenario", "every"), [
    # two other violations met before the expected one (741 states)
    ("shapes/chain_walk.mig", "free_vs_migrate", False),
    # --all-violations: every property's first run kept, none stops the search
    ("shapes/chain_walk.mig", "free_vs_migrate", True),
    # a WARN_ON_ONCE fired on the way to the expected fault (54 states)
    ("page_ext/page_owner_vs_offline.mig", "offline_vs_unconverted_reader", False),
])
def test_what_a_search_recorded_survives_the_checkpoint(
        spec: str, scenario: str, every: bool, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs recorded without stopping the search (other violations, every
    violation, fired warnings) are in the file: the resumed search reports
    them as the one never stopped does. Without them the comparison fails."""
    (ts,) = [t for t in _scenarios(SPECS / spec) if t.scenario == scenario]
    opts = CheckOptions().every_violation(every)
    whole = check(ts, opts, engine=vm_bfs)
    assert whole.others or whole.warnings
    path = tmp_path / "search.ckpt"
    _stopped_after(ts, path, 1, monkeypatch, opts, recorded=True)
    import numpy as np
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(bytes(z["meta"]).decode())
    rec = meta["recorded"]
    assert rec["others"] or rec["found"] or rec["warnings"], "checkpoint taken too early"
    resumed = check(ts, opts, engine=resumed_bfs(path, None))
    _same(resumed, whole)


def test_a_scenario_with_a_symmetric_pool_resumes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Saved and resumed with the pool reduced: the same figures as the
    reduced search never stopped, and the file says which pools it reduced
    (a file of another reduction is another search's)."""
    (ts,) = [t for t in _scenarios(SPECS / "zsmalloc/migration.mig")
             if t.scenario == "two_allocs_vs_compaction"]
    opts = CheckOptions().livelock(False)
    whole = check(ts, opts, engine=vm_bfs)
    assert whole.stats.symmetry_applied, whole.stats.symmetry
    path = tmp_path / "search.ckpt"
    _stopped_after(ts, path, 3, monkeypatch, opts)
    resumed = check(ts, opts.checkpointed(None, resumed=True), engine=resumed_bfs(path, None))
    assert resumed.stats.symmetry == whole.stats.symmetry
    _same(resumed, whole)
    import numpy as np
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(bytes(arrays["meta"]).decode())
    assert meta["pools"] == ["zspages"]
    meta["pools"] = []  # as a search that left the pool unreduced saved it
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    other = tmp_path / "other.ckpt"
    with other.open("wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(ckpt.CheckpointError, match=r"pools: \[\] in the file"):
        check(ts, opts.checkpointed(None, resumed=True), engine=resumed_bfs(other, None))


def test_what_the_allocator_watch_saw_survives_the_checkpoint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A state that told the pool's objects apart, seen before the
    checkpoint, is in the file: the resumed search knows it (without that,
    a search resumed past every such state keeps a reduction that is not
    sound here, tests/test_pool_symmetry.py), and at its end the scenario
    is searched again without the pool, from its first state: the result
    of the search never stopped."""
    from tests.test_vm import _build

    ts = _build(tmp_path, DANGLING)
    opts = CheckOptions().livelock(False)
    whole = check(ts, opts, engine=vm_bfs)
    assert whole.verdict.value == "violation"
    assert "pool objs not applied: a freed object still referenced" in str(whole.stats.symmetry)
    path = tmp_path / "search.ckpt"
    _killed_when(ts, path, lambda c, _out: isinstance(c.canon, Canon)
                 and c.canon.escaped() is not None, monkeypatch, opts, every=1)
    import numpy as np
    with np.load(path, allow_pickle=False) as z:
        assert json.loads(bytes(z["meta"]).decode())["escaped"] == "objs"
    resumed = check(ts, opts.checkpointed(None, resumed=True), engine=resumed_bfs(path, None))
    assert resumed.stats.symmetry == whole.stats.symmetry
    assert resumed.stats.resumed_seconds is None  # searched afresh, not resumed
    _same(resumed, whole)
    # The load alone restores it, whatever the resumed search meets after.
    from checker.explore.codegen import compile_system
    from checker.explore.symmetry import reduced

    c = compile_system(ts)
    rc = reduced(c, Canon(ts, c.packing))
    ckpt.load(path, rc, False, Outcome(ts.expect))
    assert isinstance(rc.canon, Canon) and rc.canon.escaped() == "objs"
    # What the file says of its pools is read only for its own scenario: a
    # file of another search is refused, not taken for a fresh start.
    (other,) = [t for t in _scenarios(SPECS / "zsmalloc/migration.mig")
                if t.scenario == "two_allocs_vs_compaction"]
    with pytest.raises(ckpt.CheckpointError, match="another search"):
        check(other, opts.checkpointed(None, resumed=True), engine=resumed_bfs(path, None))


def test_the_search_without_the_pool_resumes_without_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the watch dropped the pool's reduction, the search that follows
    writes its own checkpoints (the pool unreduced, and why): resumed, it
    goes on without the reduction, from where it stopped, to the result of
    the run never stopped."""
    from tests.test_vm import _build

    ts = _build(tmp_path, DANGLING)
    opts = CheckOptions().livelock(False)
    whole = check(ts, opts, engine=vm_bfs)
    path = tmp_path / "search.ckpt"
    count = [0]

    def second_without_the_pool(c: Compiled, _out: Outcome) -> bool:
        count[0] += c.canon is None  # the search without the pool
        return count[0] == 2

    _killed_when(ts, path, second_without_the_pool, monkeypatch, opts, every=1)
    meta = ckpt.saved_meta(path)
    assert meta is not None and (meta["pools"], list(meta["unreduced"])) == ([], ["objs"])
    resumed = check(ts, opts.checkpointed(None, resumed=True), engine=resumed_bfs(path, None))
    assert resumed.stats.resumed_seconds is not None  # gone on with, not searched afresh
    assert resumed.stats.symmetry == whole.stats.symmetry
    _same(resumed, whole)


def test_a_checkpoint_of_an_older_migcheck_resumes_unreduced_again_and_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before pools were reduced with checkpoints, a file said nothing of
    them (and held the unreduced search): resumed, the pool is left
    unreduced, and so are the checkpoints that search writes, which resume
    in turn, to the result of the unreduced search never stopped."""
    (ts,) = [t for t in _scenarios(SPECS / "zsmalloc/migration.mig")
             if t.scenario == "two_allocs_vs_compaction"]
    opts = CheckOptions().livelock(False)
    whole = check(ts, opts.use_symmetry(False), engine=vm_bfs)
    first = tmp_path / "old.ckpt"
    _stopped_after(ts, first, 3, monkeypatch, opts.use_symmetry(False))
    import numpy as np
    with np.load(first, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(bytes(arrays["meta"]).decode())
    for key in ("pools", "escaped", "unreduced"):  # the older format
        del meta[key]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    with first.open("wb") as f:
        np.savez(f, **arrays)
    second = tmp_path / "new.ckpt"
    count = [0]
    real = ckpt.save

    def save_twice(*args: object, **kw: object) -> None:
        real(*args, **kw)  # type: ignore[arg-type]
        count[0] += 1
        if count[0] == 2:
            raise Killed

    with monkeypatch.context() as m:
        m.setattr(vm_search, "CHECK_EVERY", 8)
        m.setattr(ckpt, "save", save_twice)
        with pytest.raises(Killed):
            check(ts, opts.checkpointed(str(second), 0.0, resumed=True),
                  engine=resumed_bfs(first, None))
    saved = ckpt.saved_meta(second)
    assert saved is not None and saved["pools"] == [] and list(saved["unreduced"]) == ["zspages"]
    resumed = check(ts, opts.checkpointed(None, resumed=True), engine=resumed_bfs(second, None))
    assert resumed.stats.resumed_seconds is not None
    assert "pool zspages not applied: the checkpoint's search, of an older migcheck" \
        in str(resumed.stats.symmetry)
    _same(resumed, whole)


def test_recorded_runs_that_do_not_fit_the_scenario_are_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A damaged or hostile file's recorded runs (a property index out of
    range, a state wider than the scenario's) are refused, not trusted."""
    import numpy as np
    (ts,) = [t for t in _scenarios(SPECS / "shapes/chain_walk.mig")
             if t.scenario == "free_vs_migrate"]
    path = tmp_path / "search.ckpt"
    _stopped_after(ts, path, 1, monkeypatch, CheckOptions(), recorded=True)
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(bytes(arrays["meta"]).decode())
    assert meta["recorded"]["others"]
    for damage in ({"prop": 10_000}, {"path": ["f" * 400]}, {"kind": "no_such_kind"}):
        bad = json.loads(json.dumps(meta))
        bad["recorded"]["others"][0].update(damage)
        arrays["meta"] = np.frombuffer(json.dumps(bad).encode(), dtype=np.uint8)
        damaged = tmp_path / "damaged.ckpt"
        with damaged.open("wb") as f:
            np.savez(f, **arrays)
        with pytest.raises(ckpt.CheckpointError, match="recorded runs"):
            check(ts, CheckOptions(), engine=resumed_bfs(damaged, None))
    with pytest.raises(ckpt.CheckpointError, match=r"another search \(all_violations"):
        check(ts, CheckOptions().every_violation(True), engine=resumed_bfs(path, None))


def test_a_checkpoint_of_another_search_is_refused(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spec = SPECS / "zsmalloc" / "migration.mig"
    ts = next(t for t in _scenarios(spec) if t.scenario == "alloc_vs_compaction")
    other = next(t for t in _scenarios(spec) if t.scenario == "free_vs_compaction")
    path = tmp_path / "search.ckpt"
    _stopped_after(ts, path, 1, monkeypatch, CheckOptions())
    with pytest.raises(ckpt.CheckpointError, match=r"another search \(scenario"):
        check(other, CheckOptions(), engine=resumed_bfs(path, None))
    with pytest.raises(ckpt.CheckpointError, match=r"another search \(livelock_steps"):
        check(ts, CheckOptions().livelock(False), engine=resumed_bfs(path, None))
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"PK\x03\x04 not a zip at all")
    with pytest.raises(ckpt.CheckpointError, match="not a migcheck checkpoint"):
        check(ts, CheckOptions(), engine=resumed_bfs(junk, None))


MIGCHECK = [sys.executable, "-m", "checker"]
KILLED_SPEC = ["check", "specs/zram/slot_vs_migration.mig", "-s", "reads_vs_two_compactors",
               "--no-save", "--format", "json"]


def _figures_of(stdout: str) -> dict[str, object]:
    (r,) = json.loads(stdout)
    s = r["stats"]
    return {"verdict": r["verdict"], "states": s["states"], "transitions": s["transitions"],
            "depth": s["depth"]}


def test_a_killed_run_resumes_to_the_same_result(tmp_path: Path) -> None:
    """The real thing: `migcheck check --checkpoint` killed (SIGKILL) once its
    first checkpoint exists, then `--resume`: the figures of a whole run."""
    path = tmp_path / "run.ckpt"
    proc = subprocess.Popen([*MIGCHECK, *KILLED_SPEC, "--checkpoint", str(path),
                             "--checkpoint-every", "0.2"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    assert path.exists(), "no checkpoint written before the run ended"
    resumed = subprocess.run([*MIGCHECK, *KILLED_SPEC, "--resume", str(path)], cwd=ROOT,
                             capture_output=True, text=True, timeout=120, check=False)
    whole = subprocess.run([*MIGCHECK, *KILLED_SPEC], cwd=ROOT, capture_output=True,
                           text=True, timeout=120, check=False)
    assert resumed.returncode == whole.returncode == 0, resumed.stderr
    assert _figures_of(resumed.stdout) == _figures_of(whole.stdout)


@pytest.mark.parametrize(("extra", "message"), [
    (["--dfs", "--checkpoint", "x"], "breadth-first search on one worker"),
    (["--engine", "python", "--resume", "x"], "breadth-first search on one worker"),
    (["--checkpoint", "x", "-s", "reads_vs_compaction", "-s", "reads_vs_two_compactors"],
     "take one scenario"),
])
def test_usage_errors(extra: list[str], message: str) -> None:
    argv = ["check", "specs/zram/slot_vs_migration.mig", "--no-save", *extra]
    if "-s" not in extra:
        argv += ["-s", "reads_vs_compaction"]
    proc = subprocess.run([*MIGCHECK, *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
