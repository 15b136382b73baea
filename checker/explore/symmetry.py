"""Symmetry reduction over packed states: canonical representatives, and
counterexamples mapped back to concrete runs.

For each symmetry group (`checker.ir.symmetry`), `Canon` sorts the group's
instances by their slots, thread-id slots and fields left out of the key
(a stable sort: equal keys keep their order), moves the instances' blocks
of slots to their sorted places, and renames every thread id (`TidLoc`) by
the same permutation. The result is in the state's orbit, so a search that
stores it instead of the state visits every orbit, whose states all have
the same futures and violations: sound. It is idempotent (after one
application the keys are sorted, and the renaming does not touch them), but
not always the orbit's least member: two instances with equal keys that
thread ids tell apart (a lock owned by one of them) can leave two
representatives of one orbit, which costs states, never verdicts. The VM's
`checker.vm.symmetry.canon_row` computes the same function on word rows.

Symmetric pools (`PoolSymmetry`) come first: each pool's objects are
sorted by their slots (the allocated bit, the fields; references to any
symmetric pool and thread ids left out of the key: the renamings change
them), ties between equal objects broken by the first location outside
the pool (in `refs`' order: globals, other pools' objects, locals) that
refers to an allocated object (`_ties`): two allocated objects equal but
for the references to them are then ordered by those references, which
makes `head = p` and `head = q` one representative. Free objects all tie
and keep their order. Every reference to the pool is renamed by the same
permutation; then the threads' groups are sorted as above (their keys
read the pool references renamed already). The allocator's choice of the
lowest free object is symmetric only while no freed object is referenced
where an alloc may run (checker/ir/symmetry.py): `_watch` checks every
state the canonicalization sees, `Canon.escaped` reports it (the VM's
tables carry the same flag), and `checker/explore/run.py` then searches
the scenario again without the pools' reduction.

A search on representatives finds a path of representatives; `concretize`
maps it to a real run from the initial state (at each step a successor of
the concrete state whose representative is the next one: the orbit's
symmetry guarantees one), and `rederive` judges the violation again on the
concrete run, so its message, property and faulting step are those of real
threads and `migcheck replay` accepts the trace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise, permutations, product
from math import factorial, prod
from typing import TYPE_CHECKING

from checker.explore.codegen import Compiled, Packing
from checker.explore.common import check_invariant, terminal
from checker.explore.properties import property_of
from checker.explore.result import FiredWarning, Violation
from checker.ir.interp import Fault
from checker.ir.nodes import PoolSymmetry, SymmetryGroup, TidLoc, TransitionSystem
from checker.kinds import ViolationKind

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class _Group:
    ids: tuple[int, ...]  # the instances' thread ids, or the objects' references (1..n)
    # per instance, per run of its slots adjacent in the packed state (in
    # the block's order, each run's slots from the most significant down):
    # (packed offset, mask, key mask). Comparing the runs' keys as integers
    # is comparing the slots' keys one by one in the block's order.
    blocks: tuple[tuple[tuple[int, int, int], ...], ...]
    clear: int  # the complement of every block bit of the group


def _runs(packing: Packing, block: tuple[int, ...], id_masks: dict[int, int]
          ) -> list[tuple[int, int, int, int]]:
    """A block's slots as runs: (packed offset, width, mask, key mask), a
    slot joining the run before it when it lies just below it."""
    runs: list[tuple[int, int, int, int]] = []
    for k in block:
        off, w = packing.offsets[k], packing.widths[k]
        mask = (1 << w) - 1
        key = mask & ~id_masks.get(k, 0)
        if runs and off + w == runs[-1][0]:
            _r_off, r_w, r_mask, r_key = runs[-1]
            runs[-1] = (off, r_w + w, (r_mask << w) | mask, (r_key << w) | key)
        else:
            runs.append((off, w, mask, key))
    return runs


def _group(packing: Packing, ids: tuple[int, ...], blocks: tuple[tuple[int, ...], ...],
           id_masks: dict[int, int]) -> _Group:
    runs = [_runs(packing, b, id_masks) for b in blocks]
    if any([(w, km) for _o, w, _m, km in r] != [(w, km) for _o, w, _m, km in runs[0]]
           for r in runs):
        # the instances' slots fall into runs differently: slot by slot
        runs = [[(packing.offsets[k], packing.widths[k], (1 << packing.widths[k]) - 1,
                  ((1 << packing.widths[k]) - 1) & ~id_masks.get(k, 0)) for k in b]
                for b in blocks]
    bits = 0
    for r in runs:
        for off, _w, mask, _k in r:
            bits |= mask << off
    return _Group(ids, tuple(tuple((off, mask, key) for off, _w, mask, key in r) for r in runs),
                  ~bits)


def _masks(packing: Packing, locs: Sequence[TidLoc], into: dict[int, int]
           ) -> list[tuple[int, int, bool]]:
    """The locations' (packed offset, mask, whether a set of thread ids:
    bit t for thread t); their bits added to `into` (per slot, the bits
    that hold an id)."""
    out = []
    for loc in locs:
        off, mask = tid_field(packing, loc)
        out.append((off, mask, loc.bits))
        into[loc.slot] = into.get(loc.slot, 0) | (mask << (loc.shift if loc.width else 0))
    return out


# A permutation of the state: one renaming per domain, the symmetric pools'
# first (ren[v] the new reference of reference v, 0 for null), the thread
# ids' last (ren[t] the new id of thread t, 0 for none).
Perm = list[list[int]]


class Canon:
    """The canonicalization of a scenario's states (module docstring)."""

    def __init__(self, ts: TransitionSystem, packing: Packing):
        self.ts = ts
        self.n_threads = len(ts.threads)
        tid_masks: dict[int, int] = {}
        self.tid_fields: list[tuple[int, int, bool]] = _masks(packing, ts.tid_locs, tid_masks)
        # The pools' keys leave out every reference to a symmetric pool (the
        # renaming changes them) and every thread id (the threads' renaming,
        # applied after, changes them: left out, it keeps the pools sorted).
        pool_masks = dict(tid_masks)
        self.ref_fields: list[list[tuple[int, int, bool]]] = [
            _masks(packing, pg.refs, pool_masks) for pg in ts.pool_symmetry]
        self.pool_groups: list[_Group] = [
            _group(packing, tuple(range(1, len(pg.blocks) + 1)), pg.blocks, pool_masks)
            for pg in ts.pool_symmetry]
        # per pool, per object its allocated bit's offset (a block ends with it)
        self.alloc_offsets = [[packing.offsets[b[-1]] for b in pg.blocks]
                              for pg in ts.pool_symmetry]
        self.pool_ties: list[Callable[[int], list[int]]] = [
            _ties(packing, pg) for pg in ts.pool_symmetry]
        self._watches = [_watch(packing, pg) for pg in ts.pool_symmetry]
        self.watched: str | None = None  # the first pool whose allocator's choice showed
        self.tables: list[np.ndarray] = []  # the VM's (checker.vm.symmetry), their flags
        self.groups: list[_Group] = [_group(packing, g.threads, g.blocks, tid_masks)
                                     for g in ts.symmetry]
        self._fast, self._keys = self._compile()

    def __call__(self, s: int) -> int:
        return self._fast(s)

    def _seen(self, wi: int) -> None:
        if self.watched is None:
            self.watched = self.ts.pool_symmetry[wi].pool

    def escaped(self) -> str | None:
        """A symmetric pool whose objects a state told apart (`_watch`), in
        either engine; None when the reduced search is sound."""
        for t in self.tables:
            if self.watched is None and t[1]:
                self.watched = self.ts.pool_symmetry[int(t[1]) - 1].pool
        return self.watched

    @property
    def sizes(self) -> list[int]:
        """Per domain, the number of its values (null or none included)."""
        return [len(g.ids) + 1 for g in self.pool_groups] + [self.n_threads + 1]

    def identity(self) -> Perm:
        return [list(range(n)) for n in self.sizes]

    def _compile(self) -> tuple[Callable[[int], int], list[Callable[[int], list[int]]]]:
        """Generated code: per group (the pools', then the threads'), its
        instances' keys (each one integer, its runs' keys concatenated: the
        same order as comparing them one by one); and the representative,
        with the common case (every group in order already) answered there."""
        lines = ["def canon(s):"]
        every = [*self.pool_groups, *self.groups]
        env: dict[str, object] = {"slow": self.with_renaming, "seen": self._seen}
        for wi, (at, dangling) in enumerate(self._watches):
            if not at:
                continue  # nothing allocates from the pool
            env[f"dangling{wi}"] = dangling
            test = " or ".join(f"(s >> {off}) & {m} == {pc}" for off, m, pc in at)
            lines.append(f"    if ({test}) and dangling{wi}(s): seen({wi})")
        for gi, g in enumerate(every):
            keys = []
            for b in g.blocks:
                key = "0"
                for off, mask, km in b:
                    key = f"(({key}) << {mask.bit_length()}) | ((s >> {off}) & {km})"
                keys.append(key)
            n = len(keys)
            if gi < len(self.pool_groups):
                # content keys first; the tie-break (`_ties`) only decides
                # between equal allocated objects (a key's last bit is the
                # allocated bit: free objects tie, and keep their order)
                env[f"ties{gi}"] = self.pool_ties[gi]
                lines[:0] = [f"def ckeys{gi}(s):", f"    return [{', '.join(keys)}]",
                             f"def keys{gi}(s):",
                             f"    return [(k << {TIE_BITS}) | t for k, t in "
                             f"zip(ckeys{gi}(s), ties{gi}(s))]"]
                lines.append(f"    k = ckeys{gi}(s)")
                ok = " and ".join(f"(k[{i}] < k[{i + 1}] or (k[{i}] == k[{i + 1}] and "
                                  f"not k[{i}] & 1))" for i in range(n - 1))
            else:
                lines[:0] = [f"def keys{gi}(s):", f"    return [{', '.join(keys)}]"]
                lines.append(f"    k = keys{gi}(s)")
                ok = " <= ".join(f"k[{i}]" for i in range(n))
            lines.append(f"    if not ({ok}):")
            lines.append("        return slow(s)[0]")
        lines.append("    return s")
        exec(compile("\n".join(lines) + "\n", "<migcheck:symmetry>", "exec"), env)
        fast: Callable[[int], int] = env["canon"]  # type: ignore[assignment]
        key_fns: list[Callable[[int], list[int]]] = [
            env[f"keys{gi}"] for gi in range(len(every))]  # type: ignore[misc]
        return fast, key_fns

    def _domains(self) -> list[tuple[list[_Group], list[tuple[int, int, bool]]]]:
        """Per domain (the pools', then the threads'), its groups and the
        locations of its ids."""
        return [*(([g], f) for g, f in zip(self.pool_groups, self.ref_fields, strict=True)),
                (self.groups, self.tid_fields)]

    def with_renaming(self, s: int) -> tuple[int, Perm]:
        """The representative, and the permutation `perm`: in domain d, id v
        of `s` is id `perm[d][v]` in the representative. The pools are
        sorted first, each with its references renamed, then the threads'
        groups, with the thread ids renamed."""
        perm = self.identity()
        keys = iter(self._keys)
        for d, (groups, fields) in enumerate(self._domains()):
            ren = perm[d]
            moved = False
            for g in groups:
                key_fn = next(keys)
                ks = key_fn(s)
                order = sorted(range(len(ks)), key=ks.__getitem__)
                if all(i == j for j, i in enumerate(order)):
                    continue
                s = _move(s, g, order)
                for j, i in enumerate(order):
                    ren[g.ids[i]] = g.ids[j]
                moved = True
            if moved:
                s = _rename(s, fields, ren)
        return s, perm

    def permute(self, s: int, perm: Perm) -> int:
        """`s` with each instance and object moved to the place of the one
        whose id `perm` gives it, and every id renamed by `perm`."""
        for (groups, fields), ren in zip(self._domains(), perm, strict=True):
            for g in groups:
                place = {t: j for j, t in enumerate(g.ids)}
                order = [0] * len(g.ids)
                for i, t in enumerate(g.ids):
                    order[place[ren[t]]] = i
                s = _move(s, g, order)
            s = _rename(s, fields, ren)
        return s


TIE_BITS = 16  # room for the tie-break: the index of a reference location


def _watch(packing: Packing, pg: PoolSymmetry
           ) -> tuple[list[tuple[int, int, int]], Callable[[int], bool]]:
    """When a state can tell the pool's objects apart through the
    allocator: a thread is at a step that may allocate from the pool (one
    of the (packed offset, mask, pc) returned), and a freed object is
    still referenced (the function returned), the module docstring's
    condition. `canon_row` computes the same."""
    refs = [tid_field(packing, loc) for loc in pg.refs]
    alloc = [packing.offsets[b[-1]] for b in pg.blocks]
    at = [(packing.offsets[k], (1 << packing.widths[k]) - 1, pc - packing.los[k])
          for k, pc in pg.alloc_at]

    def dangling(s: int) -> bool:
        for off, m in refs:
            v = (s >> off) & m
            if v and not (s >> alloc[v - 1]) & 1:
                return True
        return False

    return at, dangling


def _ties(packing: Packing, pg: PoolSymmetry) -> Callable[[int], list[int]]:
    """The tie-break of a pool's objects whose slots are equal: per object,
    the index of the first location outside the pool (in `pg.refs`' order)
    that refers to it, for an allocated object; for a free one, and one
    nothing outside refers to, the number of those locations. Free objects
    all tie (not allocated, default fields), so the stable sort keeps
    their order (module docstring). `canon_row` computes the same."""
    own = {k for b in pg.blocks for k in b}
    ext = [tid_field(packing, loc) for loc in pg.refs if loc.slot not in own]
    alloc = [packing.offsets[b[-1]] for b in pg.blocks]  # a block ends with its allocated bit
    n, e = len(pg.blocks), len(ext)
    assert e < 1 << TIE_BITS

    def ties(s: int) -> list[int]:
        t = [e] * n
        for j, (off, m) in enumerate(ext):
            v = (s >> off) & m
            if v and t[v - 1] == e and (s >> alloc[v - 1]) & 1:
                t[v - 1] = j
        return t

    return ties


def _move(s: int, g: _Group, order: list[int]) -> int:
    """`s` with instance `order[j]`'s slots moved to instance j's place."""
    vals = [[(s >> off) & m for off, m, _k in b] for b in g.blocks]
    out = s & g.clear
    for j, i in enumerate(order):
        for (off, _m, _k), v in zip(g.blocks[j], vals[i], strict=True):
            out |= v << off
    return out


def _rename(s: int, fields: list[tuple[int, int, bool]], ren: list[int]) -> int:
    """`s` with every id v renamed ren[v], and every set's bit t (a set of
    thread ids) moved to bit ren[t]."""
    for off, m, bits in fields:
        v = (s >> off) & m
        if bits:
            w = v >> len(ren) << len(ren)  # bits of no thread stay
            for t, r in enumerate(ren):
                w |= ((v >> t) & 1) << r
        else:
            w = ren[v] if v < len(ren) else v
        if w != v:
            s = (s & ~(m << off)) | (w << off)
    return s


def tid_field(packing: Packing, loc: TidLoc) -> tuple[int, int]:
    """A thread-id location's packed offset and mask."""
    off = packing.offsets[loc.slot]
    if loc.width:
        return off + loc.shift, (1 << loc.width) - 1
    return off, (1 << packing.widths[loc.slot]) - 1


def describe(groups: Sequence[SymmetryGroup], pools: Sequence[PoolSymmetry] = ()) -> str:
    """`1 group of 3 threads`, `2 groups (3 compactor, 2 reader)`, and
    `pool pages (3 objects)`, joined by commas."""
    out = []
    if len(groups) == 1:
        out.append(f"1 group of {len(groups[0].threads)} {groups[0].kind} threads")
    elif groups:
        out.append(f"{len(groups)} groups "
                   f"({', '.join(f'{len(g.threads)} {g.kind}' for g in groups)})")
    out += [f"pool {p.pool} ({len(p.blocks)} objects)" for p in pools]
    return ", ".join(out)


def orbit_bound(groups: Sequence[SymmetryGroup], pools: Sequence[PoolSymmetry] = ()) -> int:
    """The most states one representative stands for: the groups' order."""
    return prod(factorial(len(g.threads)) for g in groups) \
        * prod(factorial(len(p.blocks)) for p in pools)


def reduced(c: Compiled, canon: Callable[[int], int]) -> Compiled:
    """`c` with every successor and the initial state canonical: the view
    the Python searches (`bfs`, `dfs`) run on. Steps (`c.step`) stay
    concrete: a faulting state's other successors are made canonical by the
    search (`Compiled.canon`)."""
    from dataclasses import replace

    expand = c.expand

    def expand_canon(s: int) -> list[int]:
        return [canon(t) for t in expand(s)]

    # No partial-order reduction on top (`expand_split` gives concrete states):
    # `explore.run` applies one of the two.
    out = replace(c, expand=expand_canon, initial=canon(c.initial), expand_split=None, ample=None)
    out.canon = canon
    return out


# ---------------------------------------------------------------- concrete runs


class Concretizer:
    """Maps runs of representatives back to runs of the concrete system.

    Representatives need not be unique in their orbit (`Canon`), so the
    next representative is not always the canonical form of a concrete
    successor; instead the run is followed on the representatives, with
    the permutation P (a thread-id renaming, and a renaming per symmetric
    pool) that maps the concrete state to the representative: each step of
    representative r by action a, whose successor u has representative
    r' = Q(u), is the concrete step by the action of thread
    P^-1(thread of a), and then P := Q P. An allocation may take another
    object in the concrete run (the lowest free one there) than in the
    representative's: the pools' renamings are then chosen again
    (`pools_matched`). Each concrete state is checked to map onto its
    representative."""

    def __init__(self, c: Compiled, canon: Canon):
        self.c = c
        self.canon = canon
        ts = c.ts
        self.by_thread: dict[int, list[int]] = {}
        for a in ts.actions:
            self.by_thread.setdefault(a.thread, []).append(a.id)
        self.index = {aid: i for acts in self.by_thread.values() for i, aid in enumerate(acts)}

    def run(self, reps: list[int]) -> tuple[list[int], Perm]:
        """The concrete run whose states have the representatives `reps`,
        and the renaming that maps its last state onto the last of `reps`."""
        c, canon = self.c, self.canon
        cur = c.initial
        rep, ren = canon.with_renaming(cur)
        if rep != reps[0]:
            raise AssertionError("symmetry: the initial state's representative differs")
        out = [cur]
        for r, nxt in pairwise(reps):
            found: tuple[int, Perm] | None = None
            for a, u in c.moves(r):
                rep_u, q = canon.with_renaming(u)
                if rep_u == nxt:
                    found = a.id, q
                    break
            if found is None:
                raise AssertionError("symmetry: no step between two representatives")
            aid, q = found
            step = c.step[self.mapped(aid, ren)](cur)
            moved = [[qd[t] for t in rd] for qd, rd in zip(q, ren, strict=True)]
            if step is not None and canon.permute(step, moved) != nxt:
                # an alloc: the concrete run's lowest free object need not
                # be the one the representative's took (module docstring)
                moved = self.pools_matched(cur, r, step, nxt, ren, q)
            ren = moved
            if step is None or canon.permute(step, ren) != nxt:
                raise AssertionError("symmetry: a representative's step has no concrete "
                                     "counterpart (the instances are not interchangeable)")
            cur = step
            out.append(cur)
        return out, ren

    def pools_matched(self, cur: int, r: int, step: int, nxt: int, ren: Perm, q: Perm
                      ) -> Perm:
        """A permutation that maps the concrete successor `step` of `cur`
        onto the representative `nxt`, where `ren` maps `cur` onto `r` and
        `q` maps r's successor onto `nxt`, and r's step allocated another
        object than `ren` says cur's did. In a pool the concrete step
        allocated its lowest free object f, r's step its own lowest free g:
        q after the swap of ren(f) and g, after `ren` (both free and
        unreferenced where the watch let the search go on). Failing that
        (two allocations from one pool in a step), the renamings of the
        pools that allocated are tried one by one, up to a bound; `ren`
        composed with `q` when none maps."""
        canon = self.canon
        pools = len(canon.pool_groups)
        swapped = [list(rd) for rd in ren]
        changed: list[int] = []
        for d, alloc in enumerate(canon.alloc_offsets):
            before = [(cur >> off) & 1 for off in alloc]
            if [(step >> off) & 1 for off in alloc] == before:
                continue
            changed.append(d)
            f = next((i + 1 for i, bit in enumerate(before) if not bit), None)
            g = next((i + 1 for i, off in enumerate(alloc) if not (r >> off) & 1), None)
            if f is None or g is None:
                continue
            pf = swapped[d][f]
            swapped[d] = [g if v == pf else pf if v == g else v for v in swapped[d]]
        cand = [[qd[t] for t in rd] for qd, rd in zip(q, swapped, strict=True)]
        if canon.permute(step, cand) == nxt:
            return cand
        choices = [[[0, *p] for p in permutations(range(1, len(canon.pool_groups[d].ids) + 1))]
                   if d in changed else [cand[d]] for d in range(pools)]
        for k, rens in enumerate(product(*choices)):
            if k == 100_000:
                break
            tried = [*rens, *cand[pools:]]
            if canon.permute(step, tried) == nxt:
                return tried
        return cand

    def path(self, reps: list[int]) -> list[int]:
        return self.run(reps)[0]

    def mapped(self, aid: int, ren: Perm) -> int:
        """The action of the concrete state that corresponds to action `aid`
        of its representative, `ren` mapping the concrete state's ids to the
        representative's (its last domain: the thread ids)."""
        thread = self.c.ts.actions[aid].thread
        owner = ren[-1].index(thread)
        return self.by_thread[owner][self.index[aid]]

    def violation(self, v: Violation) -> Violation:
        """`v` (found on representatives) judged again on the concrete run."""
        path, ren = self.run(v.path)
        got = self.rederive(v, path, ren)
        if got is None or got.kind != v.kind or property_of(got) != property_of(v):
            raise AssertionError(f"symmetry: the concrete run does not show {v.kind} "
                                 f"({v.message})")
        return got

    def rederive(self, v: Violation, path: list[int], ren: Perm) -> Violation | None:
        c = self.c
        last = path[-1]
        if v.fault_action is not None:
            first = self.mapped(v.fault_action, ren)
            candidates = [first] + [a.id for t in c.ts.threads
                                    for a in c.ts.actions_at(t.id, c.pc_of(last, t.id - 1))
                                    if a.id != first]
            for aid in candidates:
                try:
                    c.step[aid](last)
                except Fault as f:
                    message, prop = f.reported(c.ts, c.ts.actions[aid])
                    got = Violation(f.kind, message, prop, path, fault_action=aid)
                    if got.kind == v.kind and property_of(got) == property_of(v):
                        return got
            return None
        if v.kind in (ViolationKind.DEADLOCK, ViolationKind.FINAL):
            return terminal(c, last, lambda: path)
        if v.kind == ViolationKind.INVARIANT:
            return check_invariant(c, last, lambda: path)
        raise AssertionError(f"symmetry: {v.kind} is not found on representatives")

    def warning(self, w: FiredWarning) -> FiredWarning:
        path, ren = self.run(w.path)
        return FiredWarning(w.prop, path, self.mapped(w.action, ren))
