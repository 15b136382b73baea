"""The VM engine's breadth-first search across the machines of a Ray
cluster (`migcheck check --cluster ADDRESS`), with `checker.explore.bfs`'s
contract, like `checker.vm.parallel.parallel_bfs`.

It is `checker.vm.parallel`'s search with each part in a Ray actor (a
process, on any node of the cluster) instead of a thread: the same
hash-partitioned, level-synchronous protocol, the same kernels
(`checker.vm.parallel_kernel`) and the same keys, so its result is exactly
that of the single-threaded search (read `parallel`'s docstring for why).
Per level, the driver (this process):

1. asks every actor to expand its frontier (`PartWorker.expand`); each
   returns a small summary (the states it leaves to Python, with their
   rows) and one batch of successor rows per owner, as separate Ray objects;
2. judges the states left to it, as `parallel` does: faults and escapes
   are expanded by the Python engine, and their successors go to their
   owners as extra batches;
3. hands every owner the batches addressed to it (`PartWorker.insert`):
   Ray moves each batch from the node that made it to the node that stores
   it, without passing through the driver; every owner returns the sorted
   keys of its new states and the new states whose invariant does not
   plainly hold;
4. ranks the level's new states (one sort of the keys; each actor gets the
   ranks of its own) and offers the level's violations in key order
   (`walk`), exactly where the single-threaded search meets them.

The network carries the program (once per scenario), the successor rows
(each transition once, between two actors: a row of the state's words, its
key and its parent's global id, 8 bytes each), 16 bytes per new state
between the driver and its owner (its key and its rank), the rows of the
rare states the driver judges, and the parent chains of the counterexamples
(one request per step). After a complete search whose passes need the
state graph or the parent map (the livelock pass, lock usage in interrupt
contexts), every actor sends its states and steps to the driver, which
numbers them as `parallel` does: those passes run on the driver.

Checkpoints (`Checkpoints`: `--checkpoint FILE`, `--resume FILE`) save
the search between two levels: every part's arrays and the driver's
counts, as arrays and JSON; a resumed search goes on from that level.

A worker that fails (its process or node dies, its object is lost) ends
the search: the verdict is *incomplete* with the figures of the levels
completed, never a verdict drawn from part of the states. `--max-memory`
bounds the driver and each worker process separately; `--max-seconds` the
whole search.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from checker.explore.codegen import Compiled
from checker.explore.common import Outcome, StateGraph, check_invariant
from checker.explore.limits import Budget
from checker.explore.result import Stats, Violation, current_rss_mb
from checker.explore.run import Search
from checker.fsio import write_binary_atomic
from checker.vm import growable
from checker.vm import kernel as K
from checker.vm import parallel_kernel as PK
from checker.vm.layout import NotSupported, Words
from checker.vm.levels import (
    Candidate,
    Stop,
    cap_key,
    invariant_judge,
    judge_events,
    replay_python,
    restore_marks,
    states_before,
    successors_before,
    walk,
)
from checker.vm.parallel import Part, interpreted, part_full
from checker.vm.program import Program, compile_program
from checker.vm.search import CHECK_EVERY, finish
from checker.vm.store import Store
from checker.vm.treestore import FULL

_WAIT_S = 0.1  # between two looks at Ctrl-C while the workers run
START_S = 300.0  # how long new workers may take to start (a busy cluster: no free CPU)
LOCAL = "local:"  # ADDRESS prefix: start a cluster of N worker processes here
# What a local cluster's object store may hold (bytes); more spills to disk.
LOCAL_OBJECT_STORE = 200 * 1024 * 1024

CHECKPOINT_FORMAT = "migcheck-ray-checkpoint/2"  # 2: int32 global ids (gid_of)
# The arrays of a part in a checkpoint
_PART_ARRAYS = ("store", "parent", "key", "flags", "nsucc", "edges", "fired", "covered")

# A batch of successor rows: rows, their keys, their parents' global ids.
Batch = tuple[np.ndarray, np.ndarray, np.ndarray]


def _writable(a: np.ndarray) -> np.ndarray:
    """Ray hands large arrays over read-only (zero copy from its object
    store): numba would compile its kernels again for those."""
    return a if a.flags.writeable else a.copy()


# ---------------------------------------------------------------- the worker (an actor)


class PartWorker:
    """One part of the search (`parallel.Part`), in its own process: Ray
    runs it as an actor. A plain class, so that it can be tested and typed
    without Ray."""

    def __init__(self) -> None:
        self.p: Part | None = None
        self.prog: Program | None = None
        self.marks: tuple[np.ndarray, np.ndarray] | None = None
        self.peak_mb = 0.0

    def ping(self) -> int:
        return os.getpid()

    def reset(self, prog: Program, me: int, nparts: int, record: bool, form: str = "dense"
              ) -> None:
        """A new search: an empty part `me` of `nparts`, its rows in store
        `form` (`parallel.Part`: dense, tree, or auto)."""
        self.prog = prog
        self.p = Part(prog, me, nparts, record, form)
        self.marks = None

    def _part(self) -> Part:
        assert self.p is not None, "reset first"
        return self.p

    def seed(self, row: Words) -> None:
        """The initial state, the first of this part."""
        p = self._part()
        p.fill(row.reshape(1, -1))
        p.parent[0] = -1

    def flag(self, indices: Sequence[int]) -> None:
        """States whose invariant broke without ending the search: not expanded."""
        p = self._part()
        for i in indices:
            p.flags[i] = 1

    def rank(self, ranks: np.ndarray) -> None:
        """The ranks in the whole level of this part's new states, in the
        order of their sorted keys (`insert`'s answer)."""
        p = self._part()
        p.key[p.levels[-1] + p.order] = ranks

    @staticmethod
    def _over_memory(memory_mb: float | None, extra: int) -> bool:
        return memory_mb is not None and current_rss_mb() + extra / (1024 * 1024) >= memory_mb

    def expand(self, seconds_left: float | None, memory_mb: float | None
               ) -> tuple[Any, ...]:
        """Expand the frontier (the newest level). Returns the summary
        (limit: None, "seconds" or "memory"; states stored; transitions;
        the states left to Python as rows of index, kind, key, then the
        state's words) and one batch of successors per part."""
        p = self._part()
        prog = self.prog
        assert prog is not None
        deadline = None if seconds_left is None else time.monotonic() + seconds_left
        self.marks = (p.fired.copy(), p.covered.copy())
        p.start_level()
        kernels = interpreted(prog)
        limit: str | None = None
        while True:
            r = p.expand(kernels, prog)
            if r == PK.DONE:
                break
            if r == PK.LIMITS:
                if deadline is not None and time.monotonic() >= deadline:
                    limit = "seconds"
                    break
                p.sc[PK.P_BUDGET] = CHECK_EVERY
            elif r == PK.OUTFULL:
                if self._over_memory(memory_mb, p.out_growth_bytes()):
                    limit = "memory"
                    break
                p.grow_out()
            else:
                raise AssertionError(f"expand_part returned {r}")
        nev = int(p.sc[PK.P_NEV])
        idx = p.ev[:nev, 0]
        events = np.concatenate([p.ev[:nev], p.key[idx].reshape(-1, 1),
                                 p.rows_at(idx)], axis=1)
        summary = (limit, p.n, int(p.sc[PK.P_TRANS]), events)
        outs = [(p.out_rows[d, :k].copy(), p.out_key[d, :k].copy(), p.out_par[d, :k].copy())
                for d, k in enumerate(p.out_n.tolist())]
        p.out_n[:] = 0
        return (summary, *outs)

    def insert(self, extras: Sequence[Batch | None], nsucc: Sequence[tuple[int, int]],
               memory_mb: float | None, *batches: Batch) -> tuple[Any, ...]:
        """Store the level's successors addressed to this part: from each
        part in turn, its batch, then the driver's batch of the successors
        of that part's states the Python engine expanded (`extras`);
        `nsucc` gives those states' numbers of successors. Returns (limit:
        None, "memory", "states" (the part is full: `Part.full`) or "store"
        (a table of its tree is: `treestore.FULL`);
        states stored, the new states' keys sorted, the new states whose
        invariant does not plainly hold as indices, keys, rows; the
        worker's peak resident memory, MB)."""
        p = self._part()
        prog = self.prog
        assert prog is not None
        for i, k in nsucc:
            p.nsucc[i] = k
        p.levels.append(p.n)
        p.sc[PK.P_NEWLO] = p.n
        p.sc[PK.P_NINV] = 0
        kernels = interpreted(prog)
        limit: str | None = None
        todo: list[Batch] = []
        for b, extra in zip(batches, extras, strict=True):
            todo.append(b)
            if extra is not None:
                todo.append(extra)
        for rows, keys, pars in todo:
            rows, keys, pars = _writable(rows), _writable(keys), _writable(pars)
            p.sc[PK.P_IPOS] = 0
            while limit is None:
                r = p.insert(kernels, prog, rows, keys, pars)
                if r == PK.DONE:
                    break
                assert r == PK.GROW, r
                if p.full:
                    limit = "states"
                elif self._over_memory(memory_mb, p.growth_bytes()):
                    limit = "memory"
                else:
                    try:
                        p.grow()
                    except OverflowError:  # a tree table holds 2^31 entries
                        limit = "store"
            if limit is not None:
                break
        p.sorted, p.order = PK.sort_keys(p.lkey, p.n - p.levels[-1])
        inv = p.inv[: p.sc[PK.P_NINV]].copy()
        self.peak_mb = max(self.peak_mb, current_rss_mb())
        return (limit, p.n, p.sorted, inv, p.lkey[inv - p.levels[-1]], p.rows_at(inv),
                self.peak_mb)

    def transitions_before(self, rank: int, pos: int) -> int:
        """The successors of the expanded level's states that the
        single-threaded search counted when it stopped at (`rank`, `pos`)
        (`levels.successors_before`)."""
        p = self._part()
        lo, mid = p.levels[-2], p.levels[-1]
        return successors_before(p.key[lo:mid], p.nsucc[lo:mid], rank, pos)

    def replay(self, last: int) -> tuple[np.ndarray, np.ndarray]:
        """The executed actions and covers when the single-threaded search
        stopped at rank `last` of the expanded level (`parallel`'s replay)."""
        p = self._part()
        prog = self.prog
        assert prog is not None and self.marks is not None
        p.fired[:], p.covered[:] = self.marks
        p.replay(interpreted(prog), prog, last)
        return p.fired, p.covered

    def executed(self) -> tuple[np.ndarray, np.ndarray]:
        p = self._part()
        return p.fired, p.covered

    def saved(self) -> dict[str, Any]:
        """Everything this part holds between two levels (`restore`'s input)."""
        p = self._part()
        n = p.n
        return {"store": p.rows(n).copy(), "parent": p.parent[:n].copy(),
                "key": p.key[:n].copy(), "flags": p.flags[:n].copy(),
                "nsucc": p.nsucc[:n].copy(), "edges": p.edges[: int(p.sc[PK.P_EDGES])].copy(),
                "fired": p.fired.copy(), "covered": p.covered.copy(),
                "levels": list(p.levels)}

    def restore(self, saved: dict[str, Any]) -> None:
        """A part as `saved` left it (after `reset`), its table rebuilt."""
        p = self._part()
        n = len(saved["store"])
        p.reserve(n)
        for name in Part.PER_STATE:
            getattr(p, name)[:n] = saved[name]
        p.fill(_writable(saved["store"]))
        e = len(saved["edges"])
        if p.sc[PK.P_RECORD]:
            p.edges = growable.zeros((max(2 * e, 1024), 2), p.edges.dtype)
            p.edges[:e] = saved["edges"]
        p.fired[:] = saved["fired"]
        p.covered[:] = saved["covered"]
        p.levels = list(saved["levels"])
        p.sc[PK.P_N] = n
        p.sc[PK.P_EDGES] = e
        p.set_grow_at()

    def entry(self, i: int) -> tuple[np.ndarray, int]:
        """State i's row and its parent's global id (-1: the initial state)."""
        p = self._part()
        return p.row(i).copy(), int(p.parent[i])

    def dump(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int], np.ndarray]:
        """Everything stored: rows, parents, ranks, where each level
        begins, steps (with a recorded graph)."""
        p = self._part()
        n = p.n
        e = int(p.sc[PK.P_EDGES])
        return p.rows(n), p.parent[:n], p.key[:n], list(p.levels), p.edges[:e]



# ---------------------------------------------------------------- the cluster


class WorkerFailed(Exception):
    """A worker of the cluster died or lost an object, or the checkpoint to
    resume from does not fit: the search cannot go on."""


def _ray() -> Any:
    """The `ray` module (an optional dependency: `pip install migcheck[cluster]`)."""
    import ray

    return ray


def _failure(e: BaseException) -> WorkerFailed | None:
    """`e` as a worker failure, if it is one (a Ray error other than an
    exception raised by the worker's own code, or a worker out of memory)."""
    exc = _ray().exceptions
    if isinstance(e, exc.RayTaskError):
        cause = e.cause if hasattr(e, "cause") else None
        if isinstance(cause, MemoryError):
            return WorkerFailed(f"a worker ran out of memory ({cause})")
        return None
    if isinstance(e, exc.RayError):
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return WorkerFailed(f"a worker failed ({type(e).__name__}: {first})")
    return None


class Cluster:
    """A connection to a Ray cluster and a pool of `workers` actors, kept
    across the searches of a run (a worker that died is replaced at the
    next search)."""

    def __init__(self, workers: int, owned: bool):
        assert workers >= 1
        ray = _ray()
        self.workers = workers
        self.owned = owned  # ray.init was ours: shut it down on close
        self.remote = ray.remote(num_cpus=1, max_restarts=0,
                                 scheduling_strategy="SPREAD")(PartWorker)
        self.actors: list[Any] = []

    def pool(self, n: int) -> list[Any]:
        """`n` live actors (the first n of the pool). Each asks for a CPU."""
        ray = _ray()
        cpus = ray.cluster_resources().get("CPU", 0)
        if n > cpus:
            raise NotSupported(f"{n} workers on a cluster of {cpus:g} CPUs")
        live = []
        for a in self.actors:
            try:
                ray.get(a.ping.remote(), timeout=60)
                live.append(a)
            except ray.exceptions.RayError:
                ray.kill(a)
        self.actors = live
        while len(self.actors) < n:
            self.actors.append(self.remote.remote())
        return self.actors[:n]

    def map(self, fn: Callable[..., Any], shared: Sequence[Any],
            each: Sequence[Sequence[Any]]) -> list[Any]:
        """`fn(*shared, *args)` for every `args` of `each`, as Ray tasks of
        one CPU each, spread over the cluster, never retried; the results
        in the order of `each`. `shared` goes to the object store once. A
        task whose worker failed (its process or node died, an object was
        lost, out of memory) gives a `WorkerFailed` in its place; an
        exception of `fn` itself is raised. Waits in short steps, so that
        Ctrl-C lands; then the tasks still running are cancelled."""
        ray = _ray()
        self.release()  # the pool's actors would hold the CPUs the tasks need
        task = ray.remote(num_cpus=1, max_retries=0, scheduling_strategy="SPREAD")(fn)
        put = [ray.put(x) for x in shared]
        refs = [task.remote(*put, *args) for args in each]
        try:
            pending = list(refs)
            while pending:
                _, pending = ray.wait(pending, num_returns=len(pending), timeout=_WAIT_S)
        except BaseException:
            for r in refs:
                with suppress(Exception):
                    ray.cancel(r, force=True)
            raise
        out: list[Any] = []
        for r in refs:
            try:
                out.append(ray.get(r))
            except Exception as e:
                failed = _failure(e)
                if failed is None:
                    raise
                out.append(failed)
        return out

    def release(self) -> None:
        """End the pool's actors (the next search starts new ones)."""
        ray = _ray()
        for a in self.actors:
            with suppress(ray.exceptions.RayError):
                ray.kill(a)
        self.actors = []

    def close(self) -> None:
        ray = _ray()
        self.release()
        if self.owned:
            ray.shutdown()


@contextmanager
def _quiet_start() -> Iterator[None]:
    """Ray's notices while it starts (token authentication turned on for a
    new local cluster; no SIGTERM handler, since the command runs in a
    thread other than the main one) are warnings of its `ray` Python
    logger, a standard `logging` logger (Ray's "Configuring Logging"
    guide): it is raised to errors for `ray.init` only, so that errors
    still show."""
    logger = logging.getLogger("ray")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def connect(address: str, workers: int | None = None) -> Iterator[Cluster]:
    """A cluster for the searches of this run: `local:N` starts one on this
    machine with N worker processes (N CPUs); any other ADDRESS is that of
    a running cluster (`ray start --head`: `HOST:6379`, or `auto`). A Ray
    already initialised in this process is used as it is. `workers`: the
    number of parts (default: N, or one per CPU of the cluster)."""
    ray = _ray()
    owned = False
    if not ray.is_initialized():
        kw: dict[str, Any] = {"include_dashboard": False, "configure_logging": False,
                              "log_to_driver": False}
        if address.startswith(LOCAL):
            n = int(address[len(LOCAL):])
            if n < 1:
                raise ValueError(f"{address}: the number of workers must be positive")
            root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            path = os.pathsep.join(x for x in (root, os.environ.get("PYTHONPATH")) if x)
            with _quiet_start():
                ray.init(num_cpus=n, object_store_memory=LOCAL_OBJECT_STORE,
                         runtime_env={"env_vars": {"PYTHONPATH": path}}, **kw)
            workers = workers or n
        else:
            with _quiet_start():
                ray.init(address=address, **kw)
        owned = True
    if workers is None:
        if address.startswith(LOCAL):
            workers = int(address[len(LOCAL):])
        else:
            workers = max(int(ray.cluster_resources().get("CPU", 1)), 1)
    cluster = Cluster(workers, owned)
    try:
        yield cluster
    finally:
        cluster.close()


def checkpoint_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a checkpoint of this search (missing,
    unreadable, not one: another format, or a file of the one-machine
    search), if it cannot; None for one that can. Reads the metadata only."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
    except FileNotFoundError:
        return "no such file"
    except IsADirectoryError:
        return "a directory, not a checkpoint"
    except PermissionError as e:
        return f"cannot be read ({e.strerror})"
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    except (ValueError, KeyError, EOFError, UnicodeDecodeError):
        return "not a checkpoint of a --cluster search"
    if not isinstance(meta, dict) or meta.get("format") != CHECKPOINT_FORMAT:
        return "not a checkpoint of a --cluster search (--checkpoint with --cluster writes one)"
    return None


class Checkpoints:
    """Where and how often a search saves itself (`--checkpoint FILE`), and
    the file it resumes from (`--resume FILE`)."""

    def __init__(self, save: Path | None, every_s: float = 600.0,
                 resume: Path | None = None):
        self.save, self.every_s, self.resume = save, every_s, resume


def ray_bfs(cluster: Cluster, workers: int | None = None,
            on_level: Callable[[int, list[Any]], None] | None = None,
            checkpoints: Checkpoints | None = None) -> Search:
    """The search on `workers` actors of `cluster` (default: its number),
    as `check`'s `engine`. `on_level(depth, actors)` is called before each
    level is expanded (the tests kill a worker there). `checkpoints`: save
    the search between two levels, and resume a saved one."""
    n = workers or cluster.workers

    def search(c: Compiled, budget: Budget, stats: Stats, out: Outcome,
               graph: StateGraph | None = None) -> Mapping[int, int]:
        if c.ts.warnings:
            raise NotSupported("WARN_ON() sites (with --cluster)")  # as `parallel`
        if c.canon is not None:
            # The parts' kernels store states as they are: a search of the
            # unreduced system, whose figures would not be the reduced
            # search's that the result names.
            raise NotSupported("symmetry reduction (with --cluster): the Python engine and "
                               "the breadth-first VM apply it")
        return _Search(c, budget, stats, out, graph, cluster.pool(n), on_level,
                       checkpoints).run()

    return search


# ---------------------------------------------------------------- the driver


class _Search:
    def __init__(self, c: Compiled, budget: Budget, stats: Stats, out: Outcome,
                 graph: StateGraph | None, actors: list[Any],
                 on_level: Callable[[int, list[Any]], None] | None,
                 checkpoints: Checkpoints | None = None):
        self.ray = _ray()
        self.c, self.budget, self.stats, self.out, self.graph = c, budget, stats, out, graph
        self.prog = compile_program(c.ts, c.packing)
        if (why := PK.keys_too_narrow(self.prog)) is not None:
            raise NotSupported(why)
        self.actors = actors
        self.on_level = on_level
        self.nw = self.prog.layout.nwords
        self.states = 1  # stored in the levels before the new one
        self.transitions = 0  # of the expanded levels
        self.depth = 0
        self.level_sizes = [1]
        self.stored = [0] * len(actors)  # each part's states, as last heard
        self.flags: list[list[int]] = [[] for _ in actors]  # to send before the next level
        # The driver's executed actions and covers before the level (`replay`),
        # and the states of the level that the Python engine expanded.
        self.marks: tuple[bytes, set[int]] | None = None
        self.python_expanded: list[tuple[int, int]] = []  # (rank, state)
        self.fired: np.ndarray | None = None  # the workers' after a stop (`replay`)
        self.covered: np.ndarray | None = None
        self.complete = False
        self.checkpoints = checkpoints
        self.last_save = time.monotonic()

    # ------------------------------------------------------------ talking to the workers

    def get(self, refs: Any) -> Any:
        """ray.get, in short waits (a Ctrl-C lands between two); a worker
        failure raises WorkerFailed."""
        ray = self.ray
        try:
            flat = refs if isinstance(refs, list) else [refs]
            pending = list(flat)
            while pending:
                _, pending = ray.wait(pending, num_returns=len(pending), timeout=_WAIT_S)
                if pending:
                    self.budget.exceeded(self.stats)  # raises on a requested stop
            return ray.get(refs)
        except Exception as e:
            failed = _failure(e)
            if failed is None:
                raise
            raise failed from e

    def state_of(self, row: Words) -> int:
        return self.prog.layout.int_of(row)

    def path(self, part: int, i: int) -> Callable[[], list[int]]:
        """The run to state i of a part, fetched from the workers step by step."""
        def build() -> list[int]:
            chain: list[int] = []
            nparts = len(self.actors)
            gid = PK.gid_of(part, i, nparts)
            while gid >= 0:
                w, j = PK.gid_split(gid, nparts)
                row, gid = self.get(self.actors[w].entry.remote(j))
                chain.append(self.state_of(row))
            chain.reverse()
            return chain
        return build

    # ------------------------------------------------------------ the search

    def sync(self, states: int, transitions: int, depth: int) -> None:
        s = self.stats
        s.states, s.transitions, s.depth = states, transitions, depth

    def run(self) -> Mapping[int, int]:
        c, out = self.c, self.out
        record = self.graph is not None
        try:
            prog = self.ray.put(self.prog)
            started = [a.reset.remote(prog, w, len(self.actors), record, self.budget.opts.store)
                       for w, a in enumerate(self.actors)]
            if len(self.ray.wait(started, num_returns=len(started), timeout=START_S)[0]) \
                    < len(started):
                raise WorkerFailed(f"the workers did not start within {START_S:g} s "
                                   "(no free CPU on the cluster?)")
            self.get(started)
            ck = self.checkpoints
            if ck is not None and ck.resume is not None:
                self.load(ck.resume)
                return self.finish(self.levels())
            init = self.prog.layout.words_of(c.initial)
            w0 = PK.owner_of_row(init, len(self.actors))
            self.get(self.actors[w0].seed.remote(init))
            self.stored[w0] = 1
            self.stats.states = 1
            if c.invariant is not None:
                v = check_invariant(c, c.initial, lambda: [c.initial])
                if out.offer(v):
                    return self.finish(1)
                if v is not None:
                    self.flags[w0].append(0)
            n = self.levels()
        except WorkerFailed as e:
            self.sync(self.states, self.transitions, self.depth)
            out.limit = str(e)
            return self.finish(self.states, gathered=False)
        return self.finish(n)

    def levels(self) -> int:
        """Search level after level; the number of states the result keeps."""
        out, budget, stats = self.out, self.budget, self.stats
        nparts = len(self.actors)
        while True:
            self.sync(self.states, self.transitions, self.depth)
            stats.queue = self.level_sizes[-1]
            out.limit = budget.exceeded(stats)
            if out.limit:
                return self.states
            ck = self.checkpoints
            if ck is not None and ck.save is not None \
                    and time.monotonic() - self.last_save >= ck.every_s:
                self.save(ck.save)
            if self.on_level is not None:
                self.on_level(self.depth, self.actors)
            self.marks = (bytes(self.c.fired), set(self.c.runtime.covered))
            left = None if budget.deadline is None else budget.deadline - time.monotonic()
            memory = budget.opts.memory_limit_mb
            refs = []
            for w, a in enumerate(self.actors):
                if self.flags[w]:
                    a.flag.remote(self.flags[w])
                    self.flags[w] = []
                refs.append(a.expand.options(num_returns=nparts + 1).remote(left, memory))
            summaries = self.get([r[0] for r in refs])
            trans = sum(s[2] for s in summaries)
            self.stored = [s[1] for s in summaries]
            if any(s[0] is not None for s in summaries):
                return self.cut_short(trans, next(s[0] for s in summaries if s[0]))
            cands, extras, nsucc, trans = self.judge_expansions(summaries, trans)
            answers = self.get([
                a.insert.remote([extras[s][d] for s in range(nparts)], nsucc[d], memory,
                                *[refs[s][1 + d] for s in range(nparts)])
                for d, a in enumerate(self.actors)])
            del refs  # the batches: Ray frees them once stored
            self.stored = [r[1] for r in answers]
            stats.workers = [(r[1], r[6]) for r in answers]
            if any(r[0] is not None for r in answers):
                return self.cut_short(trans, next(r[0] for r in answers if r[0]))
            for d, (_, _, _, inv, keys, rows, _) in enumerate(answers):
                cands.extend(Candidate(int(k), self._invariant(d, int(i), row), (d, int(i)))
                             for i, k, row in zip(inv.tolist(), keys.tolist(), rows,
                                                  strict=True))
            sorted_keys = [r[2] for r in answers]
            allk = np.sort(np.concatenate(sorted_keys))
            self.get([a.rank.remote(np.searchsorted(allk, sorted_keys[d]))
                      for d, a in enumerate(self.actors)])
            new = len(allk)
            stop = self.walk(cands, allk)
            if stop is not None:
                return stop
            flagged = sum(len(f) for f in self.flags)
            self.states += new
            self.transitions += trans
            self.level_sizes.append(new)
            if new - flagged == 0:
                self.sync(self.states, self.transitions, self.depth)
                self.complete = True
                return self.states
            self.depth += 1

    # ------------------------------------------------------------ checkpoints

    def identity(self) -> str:
        """What a checkpoint must match: the scenario, its values, its
        compiled program, the number of parts (the partition)."""
        g = self.prog
        h = hashlib.sha256()
        for a in (g.code, g.slots, g.pcs, g.pcact, g.acts, g.aux, g.meta):
            h.update(np.ascontiguousarray(a).tobytes())
        ts = self.c.ts
        wanted = None if self.out.wanted is None else sorted(self.out.wanted)
        return json.dumps([ts.spec, ts.scenario, sorted(ts.bindings.items()), h.hexdigest(),
                           len(self.actors), self.out.every, wanted])

    def save(self, path: Path) -> None:
        """The search between two levels, to `path` (atomically: a
        temporary file renamed), as arrays and JSON: loading it runs no
        code. What the search recorded without stopping (violations it
        went past, --all-violations, fired warnings) goes in the JSON
        (`checkpoint.recorded_json`)."""
        from checker.vm.checkpoint import recorded_json

        parts = self.get([a.saved.remote() for a in self.actors])
        meta = {"format": CHECKPOINT_FORMAT, "identity": self.identity(),
                "states": self.states, "transitions": self.transitions, "depth": self.depth,
                "level_sizes": self.level_sizes, "flags": self.flags,
                "levels": [p["levels"] for p in parts],
                "covered": sorted(self.c.runtime.covered),
                "recorded": recorded_json(self.out)}
        arrays = {f"p{w}_{name}": p[name] for w, p in enumerate(parts) for name in _PART_ARRAYS}
        arrays["c_fired"] = np.frombuffer(bytes(self.c.fired), dtype=np.uint8)
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)

        def write(f: BinaryIO) -> None:
            np.savez(f, **arrays)

        write_binary_atomic(path, write)
        self.last_save = time.monotonic()

    def load(self, path: Path) -> None:
        """Resume the search saved in `path` (`save`)."""
        if not path.exists():
            raise WorkerFailed(f"{path}: no such checkpoint")
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("format") != CHECKPOINT_FORMAT or meta["identity"] != self.identity():
                raise WorkerFailed(f"{path}: a checkpoint of another scenario, program or "
                                   "number of workers")
            parts = [{name: z[f"p{w}_{name}"] for name in _PART_ARRAYS}
                     for w in range(len(self.actors))]
            fired = z["c_fired"]
        for w, p in enumerate(parts):
            p["levels"] = meta["levels"][w]
        self.get([a.restore.remote(parts[w]) for w, a in enumerate(self.actors)])
        self.states, self.transitions = meta["states"], meta["transitions"]
        self.depth, self.level_sizes = meta["depth"], meta["level_sizes"]
        self.flags = meta["flags"]
        self.stored = [len(p["store"]) for p in parts]
        self.c.fired[:] = fired.tobytes()
        self.c.runtime.covered.update(meta["covered"])
        from checker.vm.checkpoint import CheckpointError, restore_recorded

        try:
            restore_recorded(self.c, path, meta.get("recorded"), self.out)
        except CheckpointError as e:
            raise WorkerFailed(str(e)) from None
        self.last_save = time.monotonic()

    def cut_short(self, trans: int, why: str) -> int:
        """A limit passed within a level: the figures so far."""
        self.sync(sum(self.stored), self.transitions + trans, self.depth)
        o = self.budget.opts
        self.out.limit = (f"--max-memory {o.memory_limit_mb:g}" if why == "memory"
                          else part_full(len(self.actors)) if why == "states"
                          else FULL if why == "store"
                          else f"--max-seconds {o.seconds_limit:g}")
        return self.states

    def judge_expansions(self, summaries: list[Any], trans: int
                         ) -> tuple[list[Candidate[tuple[int, int]]], list[list[Batch | None]],
                                    list[list[tuple[int, int]]], int]:
        """The states the workers left to the driver (`levels.judge_events`):
        the successors of those the Python engine expands are batched to
        their owners (per source part: `extras[source][owner]`). Also each
        owner's successor counts to record, and the level's transitions."""
        nparts = len(self.actors)
        events = [(int(ev[2]), int(ev[1]), w, int(ev[0]), self.state_of(ev[3:]))
                  for w, s in enumerate(summaries) for ev in s[3]]
        routed: list[list[tuple[list[Words], list[int], list[int]]]] = [
            [([], [], []) for _ in range(nparts)] for _ in range(nparts)]
        nsucc: list[list[tuple[int, int]]] = [[] for _ in range(nparts)]

        def route(w: int, i: int, key: int, succ: list[int]) -> None:
            gid = PK.gid_of(w, i, nparts)
            for j, t in enumerate(succ):
                words = self.prog.layout.words_of(t)
                rows, keys, pars = routed[w][PK.owner_of_row(words, nparts)]
                rows.append(words)
                keys.append(key + j + 1)
                pars.append(gid)
            nsucc[w].append((i, len(succ)))

        cands: list[Candidate[tuple[int, int]]]
        cands, self.python_expanded, more = judge_events(self.c, events, self.path, route)
        extras: list[list[Batch | None]] = [
            [(np.array(rows, dtype=np.int64).reshape(-1, self.nw),
              np.array(keys, dtype=np.int64), np.array(pars, dtype=np.int64))
             if keys else None for rows, keys, pars in per_owner]
            for per_owner in routed]
        return cands, extras, nsucc, trans + more

    def _invariant(self, w: int, i: int, row: Words) -> Callable[[], Violation | None]:
        return invariant_judge(self.c, lambda: self.state_of(row), self.path(w, i))

    def walk(self, cands: list[Candidate[tuple[int, int]]], keys: np.ndarray) -> int | None:
        """`levels.walk` over the level's candidates (`keys`: the level's
        new keys); a state whose invariant broke without ending the search
        is flagged at its worker before the next level."""
        stop = walk(cands, cap_key(keys, self.budget.state_cap - self.states),
                    self.out.offer, lambda at: self.flags[at[0]].append(at[1]))
        if stop is None:
            return None
        n = self.stop_at(stop, keys)
        if stop.capped:
            self.out.limit = self.budget.over_states()
        return n

    def stop_at(self, stop: Stop, keys: np.ndarray) -> int:
        """The figures of the single-threaded search when it stops at `stop`
        (`parallel`'s stop_at, each worker counting its successors)."""
        states = self.states + int(stop.new_state) + states_before(keys, stop.key)
        trans = self.transitions + sum(self.get(
            [a.transitions_before.remote(stop.rank, stop.pos) for a in self.actors]))
        self.sync(states, trans, self.depth + int(stop.new_state))
        self.replay(stop.rank)
        return states

    def replay(self, last: int) -> None:
        """The executed actions and covers of the single-threaded search
        when it stopped at rank `last` of the level (`parallel`'s replay)."""
        assert self.marks is not None
        restore_marks(self.c, *self.marks)
        marks = self.get([a.replay.remote(last) for a in self.actors])
        self.fired = np.bitwise_or.reduce([f for f, _ in marks])
        self.covered = np.bitwise_or.reduce([cv for _, cv in marks])
        replay_python(self.c, self.python_expanded, last)

    # ------------------------------------------------------------ the result

    def finish(self, n: int, gathered: bool = True) -> Mapping[int, int]:
        """The executed actions and covers to `c`; after a complete search
        whose passes need them (`check`: the livelock pass with a graph,
        the lock-usage pass with interrupt handlers), the steps to the
        graph and the parent map, from every worker's states numbered in
        the single-threaded search's order. Otherwise no parent map: no
        pass reads it after a violation or a limit."""
        empty = Store(self.nw, False, "dense")
        if not gathered:  # a worker failed: nothing more to fetch
            fired = np.zeros(max(len(self.c.fired), 1), dtype=np.uint8)
            return finish(self.c, self.prog, empty, np.zeros(K.SC_SIZE, np.int64), fired,
                          np.zeros(1, dtype=np.uint8), None)
        try:
            if self.fired is None or self.covered is None:
                marks = self.get([a.executed.remote() for a in self.actors])
                self.fired = np.bitwise_or.reduce([f for f, _ in marks])
                self.covered = np.bitwise_or.reduce([cv for _, cv in marks])
            needed = self.complete and (self.graph is not None or self.c.ts.has_handlers)
            if needed:
                return self.one_store(n, self.fired, self.covered)
        except WorkerFailed as e:
            self.out.limit = str(e)
            return self.finish(n, gathered=False)
        return finish(self.c, self.prog, empty, np.zeros(K.SC_SIZE, np.int64), self.fired,
                      self.covered, None)

    def one_store(self, n: int, fired: np.ndarray, covered: np.ndarray) -> Mapping[int, int]:
        """`parallel`'s one_store, on the driver: every part's states and
        steps fetched, renumbered in the single-threaded search's order."""
        dumps = self.get([a.dump.remote() for a in self.actors])
        base = np.zeros(len(self.level_sizes) + 1, dtype=np.int64)
        base[1:] = np.cumsum(self.level_sizes)
        dense: list[np.ndarray] = []
        for store, _, key, levels, _ in dumps:
            starts = [*levels, len(store)]
            nlev = min(len(starts) - 1, len(base) - 1)
            d = np.empty(starts[nlev], dtype=np.int64)
            PK.dense_ids(_writable(key), np.array(starts[: nlev + 1], dtype=np.int64), base, d)
            dense.append(d)
        offs = np.zeros(len(dumps) + 1, dtype=np.int64)
        offs[1:] = np.cumsum([len(d) for d in dense])
        flat = np.concatenate(dense)
        record = self.graph is not None
        st = Store(self.nw, record, "dense")
        st.store = np.empty((n, self.nw), dtype=np.int64)
        st.parent = np.empty(n, dtype=np.int32)
        steps = []
        who = np.empty(n, dtype=np.int32)  # unused: the rows are gathered here
        for w, (store, parent, _, _, edges) in enumerate(dumps):
            PK.gather_part(_writable(parent), dense[w], flat, offs, n, w, st.parent, who)
            numbered = dense[w] < n
            st.store[dense[w][numbered]] = store[: len(numbered)][numbered]
            if record:
                out = np.empty((len(edges), 2), dtype=np.int32)
                PK.map_steps(_writable(edges), len(edges), dense[w], flat, offs, n, out)
                steps.append(out)
        sc = np.zeros(K.SC_SIZE, dtype=np.int64)
        sc[K.SC_N] = n
        if record:
            st.edges = np.concatenate(steps) if steps else np.zeros((0, 2), dtype=np.int32)
            sc[K.SC_EDGES] = len(st.edges)
        return finish(self.c, self.prog, st, sc, fired, covered, self.graph)
