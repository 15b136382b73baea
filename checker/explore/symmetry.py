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
from itertools import pairwise
from math import factorial, prod

from checker.explore.codegen import Compiled, Packing
from checker.explore.common import check_invariant, terminal
from checker.explore.properties import property_of
from checker.explore.result import FiredWarning, Violation
from checker.ir.interp import Fault
from checker.ir.nodes import SymmetryGroup, TidLoc, TransitionSystem
from checker.kinds import ViolationKind


@dataclass(frozen=True)
class _Group:
    tids: tuple[int, ...]
    # per instance, per run of its slots adjacent in the packed state (in
    # the block's order, each run's slots from the most significant down):
    # (packed offset, mask, key mask). Comparing the runs' keys as integers
    # is comparing the slots' keys one by one in the block's order.
    blocks: tuple[tuple[tuple[int, int, int], ...], ...]
    clear: int  # the complement of every block bit of the group


def _runs(packing: Packing, block: tuple[int, ...], tid_masks: dict[int, int]
          ) -> list[tuple[int, int, int, int]]:
    """A block's slots as runs: (packed offset, width, mask, key mask), a
    slot joining the run before it when it lies just below it."""
    runs: list[tuple[int, int, int, int]] = []
    for k in block:
        off, w = packing.offsets[k], packing.widths[k]
        mask = (1 << w) - 1
        key = mask & ~tid_masks.get(k, 0)
        if runs and off + w == runs[-1][0]:
            _r_off, r_w, r_mask, r_key = runs[-1]
            runs[-1] = (off, r_w + w, (r_mask << w) | mask, (r_key << w) | key)
        else:
            runs.append((off, w, mask, key))
    return runs


class Canon:
    """The canonicalization of a scenario's states (module docstring)."""

    def __init__(self, ts: TransitionSystem, packing: Packing):
        self.ts = ts
        self.n_threads = len(ts.threads)
        tid_masks: dict[int, int] = {}  # per slot: its bits that name threads, out of keys
        # (packed offset, mask, whether a set of thread ids: bit t for thread t)
        self.tid_fields: list[tuple[int, int, bool]] = []
        for loc in ts.tid_locs:
            off, mask = tid_field(packing, loc)
            self.tid_fields.append((off, mask, loc.bits))
            tid_masks[loc.slot] = tid_masks.get(loc.slot, 0) | (mask << (loc.shift if loc.width
                                                                          else 0))
        self.groups: list[_Group] = []
        for g in ts.symmetry:
            runs = [_runs(packing, b, tid_masks) for b in g.blocks]
            if any([(w, km) for _o, w, _m, km in r] != [(w, km) for _o, w, _m, km in runs[0]]
                   for r in runs):
                # the instances' slots fall into runs differently: slot by slot
                runs = [[(packing.offsets[k], packing.widths[k], (1 << packing.widths[k]) - 1,
                          ((1 << packing.widths[k]) - 1) & ~tid_masks.get(k, 0)) for k in b]
                        for b in g.blocks]
            bits = 0
            for r in runs:
                for off, _w, mask, _k in r:
                    bits |= mask << off
            blocks = tuple(tuple((off, mask, key) for off, _w, mask, key in r) for r in runs)
            self.groups.append(_Group(g.threads, blocks, ~bits))

        self._fast, self._keys = self._compile()

    def __call__(self, s: int) -> int:
        return self._fast(s)

    def _compile(self) -> tuple[Callable[[int], int], list[Callable[[int], list[int]]]]:
        """Generated code: per group, its instances' keys (each one integer,
        its runs' keys concatenated: the same order as comparing them one
        by one); and the representative, with the common case (every group
        in order already) answered there."""
        lines = ["def canon(s):"]
        for gi, g in enumerate(self.groups):
            keys = []
            for b in g.blocks:
                key = "0"
                for off, mask, km in b:
                    key = f"(({key}) << {mask.bit_length()}) | ((s >> {off}) & {km})"
                keys.append(key)
            lines[:0] = [f"def keys{gi}(s):", f"    return [{', '.join(keys)}]"]
            lines.append(f"    k = keys{gi}(s)")
            lines.append(f"    if not ({' <= '.join(f'k[{i}]' for i in range(len(keys)))}):")
            lines.append("        return slow(s)[0]")
        lines.append("    return s")
        env: dict[str, object] = {"slow": self.with_renaming}
        exec(compile("\n".join(lines) + "\n", "<migcheck:symmetry>", "exec"), env)
        fast: Callable[[int], int] = env["canon"]  # type: ignore[assignment]
        key_fns: list[Callable[[int], list[int]]] = [
            env[f"keys{gi}"] for gi in range(len(self.groups))]  # type: ignore[misc]
        return fast, key_fns

    def with_renaming(self, s: int) -> tuple[int, list[int]]:
        """The representative, and the renaming: thread id t of `s` is
        thread id `ren[t]` in the representative."""
        ren: list[int] | None = None
        for g, key_fn in zip(self.groups, self._keys, strict=True):
            keys = key_fn(s)
            order = sorted(range(len(keys)), key=keys.__getitem__)
            if all(i == j for j, i in enumerate(order)):
                continue
            vals = [[(s >> off) & m for off, m, _k in b] for b in g.blocks]
            out = s & g.clear
            for j, i in enumerate(order):
                for (off, _m, _k), v in zip(g.blocks[j], vals[i], strict=True):
                    out |= v << off
            s = out
            if ren is None:
                ren = list(range(self.n_threads + 1))
            for j, i in enumerate(order):
                ren[g.tids[i]] = g.tids[j]
        if ren is None:
            return s, list(range(self.n_threads + 1))
        return self.rename(s, ren), ren

    def rename(self, s: int, ren: list[int]) -> int:
        """`s` with every thread id t, and every set's bit t, renamed ren[t]."""
        for off, m, bits in self.tid_fields:
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


    def permute(self, s: int, ren: list[int]) -> int:
        """`s` with each grouped instance moved to the place of the instance
        whose thread id `ren` gives it, and every thread id renamed by `ren`."""
        for g in self.groups:
            place = {t: j for j, t in enumerate(g.tids)}
            vals = [[(s >> off) & m for off, m, _k in b] for b in g.blocks]
            out = s & g.clear
            for i, t in enumerate(g.tids):
                for (off, _m, _k), v in zip(g.blocks[place[ren[t]]], vals[i], strict=True):
                    out |= v << off
            s = out
        return self.rename(s, ren)


def tid_field(packing: Packing, loc: TidLoc) -> tuple[int, int]:
    """A thread-id location's packed offset and mask."""
    off = packing.offsets[loc.slot]
    if loc.width:
        return off + loc.shift, (1 << loc.width) - 1
    return off, (1 << packing.widths[loc.slot]) - 1


def describe(groups: Sequence[SymmetryGroup]) -> str:
    """`1 group of 3 threads`, `2 groups (3 compactor, 2 reader)`."""
    if len(groups) == 1:
        return f"1 group of {len(groups[0].threads)} {groups[0].kind} threads"
    return f"{len(groups)} groups ({', '.join(f'{len(g.threads)} {g.kind}' for g in groups)})"


def orbit_bound(groups: Sequence[SymmetryGroup]) -> int:
    """The most states one representative stands for: the groups' order."""
    return prod(factorial(len(g.threads)) for g in groups)


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
    the permutation P (a thread-id renaming) that maps the concrete state
    to the representative: each step of representative r by action a,
    whose successor u has representative r' = Q(u), is the concrete step
    by the action of thread P^-1(thread of a), and then P := Q P. Each
    concrete state is checked to map onto its representative."""

    def __init__(self, c: Compiled, canon: Canon):
        self.c = c
        self.canon = canon
        ts = c.ts
        self.by_thread: dict[int, list[int]] = {}
        for a in ts.actions:
            self.by_thread.setdefault(a.thread, []).append(a.id)
        self.index = {aid: i for acts in self.by_thread.values() for i, aid in enumerate(acts)}

    def run(self, reps: list[int]) -> tuple[list[int], list[int]]:
        """The concrete run whose states have the representatives `reps`,
        and the renaming that maps its last state onto the last of `reps`."""
        c, canon = self.c, self.canon
        cur = c.initial
        rep, ren = canon.with_renaming(cur)
        if rep != reps[0]:
            raise AssertionError("symmetry: the initial state's representative differs")
        out = [cur]
        for r, nxt in pairwise(reps):
            found: tuple[int, list[int]] | None = None
            for a, u in c.moves(r):
                rep_u, q = canon.with_renaming(u)
                if rep_u == nxt:
                    found = a.id, q
                    break
            if found is None:
                raise AssertionError("symmetry: no step between two representatives")
            aid, q = found
            step = c.step[self.mapped(aid, ren)](cur)
            ren = [q[t] for t in ren]
            if step is None or canon.permute(step, ren) != nxt:
                raise AssertionError("symmetry: a representative's step has no concrete "
                                     "counterpart (the instances are not interchangeable)")
            cur = step
            out.append(cur)
        return out, ren

    def path(self, reps: list[int]) -> list[int]:
        return self.run(reps)[0]

    def mapped(self, aid: int, ren: list[int]) -> int:
        """The action of the concrete state that corresponds to action `aid`
        of its representative, `ren` mapping the concrete state's thread ids
        to the representative's."""
        thread = self.c.ts.actions[aid].thread
        owner = ren.index(thread)
        return self.by_thread[owner][self.index[aid]]

    def violation(self, v: Violation) -> Violation:
        """`v` (found on representatives) judged again on the concrete run."""
        path, ren = self.run(v.path)
        got = self.rederive(v, path, ren)
        if got is None or got.kind != v.kind or property_of(got) != property_of(v):
            raise AssertionError(f"symmetry: the concrete run does not show {v.kind} "
                                 f"({v.message})")
        return got

    def rederive(self, v: Violation, path: list[int], ren: list[int]) -> Violation | None:
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
