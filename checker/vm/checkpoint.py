"""Checkpoints of a breadth-first search in the VM (`--checkpoint FILE`,
`--resume FILE`).

A checkpoint is taken where the kernel returns for the limits (before it
expands its next state, with no successor pending), so the kernel's
counters (`sc`) and the stored states say everything about the search: the
states in discovery order (decoded rows, whatever the store's form), their
parents and flags, the recorded steps (for the livelock pass), what was
executed (actions, covers), and the scenario's identity. Resuming rebuilds
the store from them (`Store.fill`, which re-hashes, or re-enters the tree)
and goes on from the same head: the same search, so the same states,
transitions, depth, verdict and counterexample as a run never stopped.

What the search recorded on the way without stopping (a violation it goes
past because another is expected, the first violation of each property
under `--all-violations`, the fired `WARN_ON` sites) is saved too, as JSON:
each run as its states (hexadecimal packed integers), its property by index
and its kind by name, checked against the scenario when loaded. The
file is one `.npz` (numpy arrays, loaded with `allow_pickle=False`: a
hostile file cannot run code), written atomically (`fsio`), and refused
when it is not a checkpoint of the same scenario of the same spec text
with the same -D values and search options.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from checker.explore.codegen import Compiled
from checker.explore.common import Outcome
from checker.explore.result import FiredWarning, Violation
from checker.explore.symmetry import Canon
from checker.fsio import write_binary_atomic
from checker.ir.nodes import Prop
from checker.kinds import ViolationKind
from checker.vm import kernel as K
from checker.vm.store import Store

FORMAT = "migcheck-checkpoint/1"
# What reading a file that is no checkpoint (or a damaged one) raises
_UNREADABLE = (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError)


class CheckpointError(Exception):
    """A file that is no checkpoint of this search; the message says why."""


@dataclass
class Checkpoint:
    meta: dict[str, Any]
    rows: np.ndarray
    parent: np.ndarray
    flags: np.ndarray
    edges: np.ndarray
    sc: np.ndarray
    fired: np.ndarray  # the kernel's executed actions
    covered: np.ndarray  # the kernel's covers
    py_fired: np.ndarray  # the Python engine's (`Compiled.fired`), before the hand-over
    py_covered: np.ndarray  # `Runtime.covered`


def identity(c: Compiled, record: bool, out: Outcome) -> dict[str, Any]:
    """What must match for a checkpoint to be resumed by this search: the
    scenario, and the options that change what is stored or recorded."""
    ts = c.ts
    return {"format": FORMAT, "spec_sha256": ts.spec_sha256, "scenario": ts.scenario,
            "bindings": {k: int(v) for k, v in ts.bindings.items()},
            "livelock_steps": record, "por": c.ample is not None,
            "symmetry": c.canon is not None,  # states stored as representatives
            # ... under which pools' permutations (a file of the version before
            # this entry reduced none: `load` reads its absence as [])
            "pools": _reduced_pools(c),
            "all_violations": out.every,
            "properties": None if out.wanted is None else sorted(out.wanted),
            "actions": len(ts.actions), "slots": len(ts.slots)}


def _reduced_pools(c: Compiled) -> list[str]:
    return sorted(pg.pool for pg in c.ts.pool_symmetry) if c.canon is not None else []


def _escaped(c: Compiled) -> str | None:
    """The pool the allocator watch saw told apart so far (`Canon.escaped`):
    a resumed search must know what the stopped one saw, or a state seen
    only before the checkpoint would leave the reduction standing."""
    return c.canon.escaped() if isinstance(c.canon, Canon) else None


def _states(path: list[int]) -> list[str]:
    return [format(s, "x") for s in path]


def _violation_json(v: Violation) -> dict[str, Any]:
    return {"kind": v.kind.name, "message": v.message,
            "prop": None if v.prop is None else v.prop.index, "path": _states(v.path),
            "fault_action": v.fault_action, "cycle": _states(v.cycle),
            "witness": _states(v.witness), "cycle_actions": v.cycle_actions}


def recorded_json(out: Outcome) -> dict[str, Any]:
    """What `out` kept without stopping the search, as JSON."""
    return {"others": [_violation_json(v) for v in out.others],
            "found": [[key, _violation_json(v)] for key, v in out.found.items()],
            "warnings": [[k, _states(w.path), w.action] for k, w in out.warnings.items()]}


class _Reader:
    """Rebuilds recorded runs from a checkpoint's JSON, refusing anything
    that does not fit the scenario (a hostile or damaged file)."""

    def __init__(self, c: Compiled, path: Path):
        self.c, self.path = c, path

    def fail(self) -> CheckpointError:
        return CheckpointError(f"{self.path}: inconsistent checkpoint (recorded runs)")

    def int_(self, x: object, bound: int) -> int:
        if not isinstance(x, int) or isinstance(x, bool) or not 0 <= x < bound:
            raise self.fail()
        return x

    def states(self, xs: object) -> list[int]:
        if not isinstance(xs, list) or not all(isinstance(x, str) for x in xs):
            raise self.fail()
        limit = 1 << max(self.c.packing.total_bits, 1)
        try:
            got = [int(x, 16) for x in xs]
        except ValueError:
            raise self.fail() from None
        if any(not 0 <= s < limit for s in got):
            raise self.fail()
        return got

    def prop(self, x: object) -> Prop | None:
        props = self.c.ts.props
        return None if x is None else props[self.int_(x, len(props))]

    def action(self, x: object) -> int | None:
        return None if x is None else self.int_(x, len(self.c.ts.actions))

    def violation(self, d: object) -> Violation:
        if not isinstance(d, dict) or not isinstance(d.get("message"), str) \
                or d.get("kind") not in ViolationKind.__members__ \
                or not isinstance(d.get("cycle_actions"), list):
            raise self.fail()
        nactions = len(self.c.ts.actions)
        return Violation(ViolationKind[d["kind"]], d["message"], self.prop(d.get("prop")),
                         self.states(d.get("path")), self.action(d.get("fault_action")),
                         self.states(d.get("cycle")), self.states(d.get("witness")),
                         [self.int_(a, nactions) for a in d["cycle_actions"]])

    def into(self, rec: object, out: Outcome) -> None:
        if not isinstance(rec, dict):
            raise self.fail()
        others, found, warnings = rec.get("others"), rec.get("found"), rec.get("warnings")
        if not isinstance(others, list) or not isinstance(found, list) \
                or not isinstance(warnings, list):
            raise self.fail()
        out.others = [self.violation(v) for v in others]
        out.found = {}
        for item in found:
            if not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str):
                raise self.fail()
            out.found[item[0]] = self.violation(item[1])
        out.warnings = {}
        for item in warnings:
            if not isinstance(item, list) or len(item) != 3:
                raise self.fail()
            prop = self.prop(item[0])
            assert prop is not None
            action = self.action(item[2])
            assert action is not None
            out.warnings[prop.index] = FiredWarning(prop, self.states(item[1]), action)


def restore_recorded(c: Compiled, path: Path, rec: object, out: Outcome) -> None:
    """Put the runs `recorded_json` wrote into `out`; CheckpointError if
    they do not fit the scenario."""
    _Reader(c, path).into(rec, out)


def save(path: Path, c: Compiled, st: Store, sc: np.ndarray, fired: np.ndarray,
         covered: np.ndarray, seconds: float, out: Outcome,
         unreduced: tuple[tuple[str, str], ...] = ()) -> None:
    """Write the search's checkpoint at `path` (atomically); `unreduced`:
    the pools this search leaves unreduced, and why (`CheckOptions.unreduced`):
    `--resume` leaves them so."""
    n = int(sc[K.SC_N])
    e = int(sc[K.SC_EDGES]) if sc[K.SC_RECORD] else 0
    meta = {**identity(c, bool(sc[K.SC_RECORD]), out), "seconds": seconds,
            "recorded": recorded_json(out), "escaped": _escaped(c),
            "unreduced": dict(unreduced)}
    arrays = {
        "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        "rows": np.ascontiguousarray(st.rows(n)), "parent": st.parent[:n],
        "flags": st.flags[:n], "edges": st.edges[:e], "sc": sc,
        "fired": fired, "covered": covered,
        "py_fired": np.frombuffer(bytes(c.fired), dtype=np.uint8),
        "py_covered": np.array(sorted(c.runtime.covered), dtype=np.int64),
    }

    def write(f: BinaryIO) -> None:
        np.savez(f, **arrays)  # type: ignore[arg-type]

    write_binary_atomic(path, write)


def saved_meta(path: Path) -> dict[str, Any] | None:
    """The description a checkpoint holds (which pools its search reduced,
    what the allocator watch saw), read before the scenario is compiled;
    None if the file cannot be read as one (`load` then says why)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
    except _UNREADABLE:
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None


def load(path: Path, c: Compiled, record: bool, out: Outcome) -> Checkpoint:
    """The checkpoint at `path`, checked against this search; what it
    recorded is put back into `out`."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(bytes(arrays["meta"]).decode())
    except _UNREADABLE as e:
        raise CheckpointError(f"{path}: not a migcheck checkpoint ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} file")
    want = identity(c, record, out)
    for key, value in want.items():
        if meta.get(key, [] if key == "pools" else None) != value:
            raise CheckpointError(f"{path}: a checkpoint of another search ({key}: "
                                  f"{meta.get(key)!r} in the file, {value!r} here)")
    names = ("rows", "parent", "flags", "edges", "sc", "fired", "covered", "py_fired",
             "py_covered")
    missing = [k for k in names if k not in arrays]
    if missing:
        raise CheckpointError(f"{path}: incomplete checkpoint (no {', '.join(missing)})")
    ck = Checkpoint(meta, *(arrays[k] for k in names))
    n = int(ck.sc[K.SC_N]) if len(ck.sc) == K.SC_SIZE else -1
    if n < 1 or ck.rows.shape[0] != n or len(ck.parent) != n or len(ck.flags) != n \
            or len(ck.py_fired) != len(c.fired) or not 0 <= int(ck.sc[K.SC_HEAD]) <= n \
            or (n and not bool(np.all((ck.parent >= 0) & (ck.parent < n)))) \
            or (len(ck.edges) and not bool(np.all((ck.edges >= 0) & (ck.edges < n)))):
        raise CheckpointError(f"{path}: inconsistent checkpoint")
    escaped = meta.get("escaped")
    if escaped is not None:
        if escaped not in want["pools"]:
            raise CheckpointError(f"{path}: inconsistent checkpoint (pool {escaped!r})")
        assert isinstance(c.canon, Canon)
        c.canon.watched = escaped  # as if this search had seen it
    restore_recorded(c, path, meta.get("recorded"), out)
    return ck
