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

A search that has recorded something on the way (a violation it goes past
because another is expected, a warning, `--all-violations`) is not
checkpointed: those live in Python objects the file does not hold. The
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
from checker.fsio import write_binary_atomic
from checker.vm import kernel as K
from checker.vm.store import Store

FORMAT = "migcheck-checkpoint/1"


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


def identity(c: Compiled, record: bool) -> dict[str, Any]:
    """What must match for a checkpoint to be resumed by this search."""
    ts = c.ts
    return {"format": FORMAT, "spec_sha256": ts.spec_sha256, "scenario": ts.scenario,
            "bindings": {k: int(v) for k, v in ts.bindings.items()},
            "livelock_steps": record, "por": c.ample is not None,
            "symmetry": c.canon is not None,  # states stored as representatives
            "actions": len(ts.actions), "slots": len(ts.slots)}


def save(path: Path, c: Compiled, st: Store, sc: np.ndarray, fired: np.ndarray,
         covered: np.ndarray, seconds: float) -> None:
    """Write the search's checkpoint at `path` (atomically)."""
    n = int(sc[K.SC_N])
    e = int(sc[K.SC_EDGES]) if sc[K.SC_RECORD] else 0
    meta = {**identity(c, bool(sc[K.SC_RECORD])), "seconds": seconds}
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


def load(path: Path, c: Compiled, record: bool) -> Checkpoint:
    """The checkpoint at `path`, checked against this search."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(bytes(arrays["meta"]).decode())
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not a migcheck checkpoint ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} file")
    want = identity(c, record)
    for key, value in want.items():
        if meta.get(key) != value:
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
    return ck
