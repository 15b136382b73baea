"""Tree compression of the visited states (the idea of LTSmin's tree table).

A state of NW 64-bit words is stored as a binary tree: each leaf node pairs
two words, each inner node pairs the ids of two nodes below it, and the root
pairs the two halves of the whole state. Every distinct pair is stored once,
in a hash table that gives it a dense id, so that the parts of a state that
recur across millions of states (a thread's frame, a pool object's fields,
the combination of two of them) cost nothing after their first occurrence.
A new state costs its root entry, and a new inner entry only where its
combination of parts is new.

Two tables:
- the root table, whose dense ids are the state indices in discovery order,
  so that the breadth-first queue is implicit and a parent index per state
  is enough for traces;
- the inner table, shared by every node below the root (a pair means the same
  whatever node holds it, so equal pairs at different places share an entry).

The jitted functions below allocate nothing: a table that might overflow is
grown by the Python side (`TreeStore.reserve`) before a search kernel
inserts, which is also where memory is counted, from the arrays themselves.
Keys are pairs of int64; a slot of the hash index holds `id + 1` (0: empty)
in an int32, with linear probing at a load of at most 3/4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from checker.vm import growable
from checker.vm.jit import njit

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]

MAX_LOAD_NUM, MAX_LOAD_DEN = 3, 4
MAX_ENTRIES = 2**31 - 2  # ids are held in int32 slots and packed in pairs
FULL = "the state store is full (2^31 entries in one table)"  # `reserve`'s OverflowError
_FIRST_CAPACITY = 1024


LEAF, NODE, ROOT = 0, 1, 2  # the table of a node, and the index into `count`


@dataclass(frozen=True)
class TreeShape:
    """The nodes of the tree, bottom-up. Inputs are numbered as one vector:
    0..NW-1 are the state's words, NW + i is the id of node i, and -1 reads
    as a 0 word (padding). Node i pairs inputs left[i] and right[i] and
    keeps its pairs in table[i]: LEAF when an input is a word (a pair of two
    64-bit values), NODE when both are ids (packed into one 64-bit key);
    the last node is the root, whose table is the list of states."""

    words: int
    left: I64
    right: I64
    table: I64
    root_packed: bool

    @staticmethod
    def of(words: int) -> TreeShape:
        """A balanced tree over `words` words."""
        if words < 1:
            raise ValueError("a state has at least one word")
        left: list[int] = []
        right: list[int] = []
        level = list(range(words))
        if len(level) == 1:
            level.append(-1)
        while True:
            nxt: list[int] = []
            for k in range(0, len(level) - 1, 2):
                left.append(level[k])
                right.append(level[k + 1])
                nxt.append(words + len(left) - 1)
            if len(level) % 2:
                nxt.append(level[-1])  # carried up unpaired
            if len(nxt) == 1:
                break
            level = nxt
        table = [NODE if min(a, b) >= words else LEAF for a, b in zip(left, right, strict=True)]
        root_packed = table[-1] == NODE
        table[-1] = ROOT
        return TreeShape(words, np.array(left, dtype=np.int64),
                         np.array(right, dtype=np.int64), np.array(table, dtype=np.int64),
                         root_packed)

    @property
    def nodes(self) -> int:
        return len(self.left)

    def inner(self, kind: int) -> int:
        """How many nodes below the root keep their pairs in table `kind`."""
        return int(np.count_nonzero(self.table == kind))


@njit(cache=True, inline="always")
def _hash(a: np.int64, b: np.int64) -> np.int64:
    """A 64-bit mix of the pair (a splitmix64-style finaliser over both)."""
    x = np.uint64(a) * np.uint64(0x9E3779B97F4A7C15) ^ np.uint64(b)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return np.int64(x >> np.uint64(1))


@njit(cache=True, inline="always")
def _pair(keys: I64, e: np.int64) -> tuple[np.int64, np.int64]:
    """Entry e of a table: two words, or two ids packed into one."""
    if keys.shape[1] == 2:
        return keys[e, 0], keys[e, 1]
    k = keys[e, 0]
    return k >> np.int64(32), k & np.int64(0xFFFFFFFF)


@njit(cache=True)
def _find_or_put(keys: I64, slots: I32, count: I64, which: int, a: np.int64,
                 b: np.int64, insert: bool = True) -> tuple[np.int64, bool]:
    """The id of pair (a, b) in one table, added if absent: (id, added);
    (-1, False) if absent and not `insert`. The caller guarantees room
    (count below the capacity of `keys` and the load limit of `slots`)."""
    wide = keys.shape[1] == 2
    packed = (a << np.int64(32)) | b
    mask = len(slots) - 1
    h = _hash(a, b) & mask
    while True:
        s = slots[h]
        if s == 0:
            if not insert:
                return np.int64(-1), False
            new = count[which]
            if wide:
                keys[new, 0] = a
                keys[new, 1] = b
            else:
                keys[new, 0] = packed
            slots[h] = np.int32(new + 1)
            count[which] = new + 1
            return np.int64(new), True
        e = np.int64(s) - 1
        if wide:
            if keys[e, 0] == a and keys[e, 1] == b:
                return e, False
        elif keys[e, 0] == packed:
            return e, False
        h = (h + 1) & mask


@njit(cache=True)
def tree_put(left: I64, right: I64, table: I64, root_keys: I64, root_slots: I32,
             leaf_keys: I64, leaf_slots: I32, node_keys: I64, node_slots: I32, count: I64,
             state: I64, vals: I64, insert: bool = True) -> tuple[np.int64, bool]:
    """Store `state`: (its index, whether it is new). `vals` is scratch of
    words + nodes entries; count[t] counts the entries of table t. Without
    `insert`, a new state is not stored and the index is -1 (the inner
    entries it adds are harmless: pairs, not states)."""
    nw = len(state)
    for k in range(nw):
        vals[k] = state[k]
    for i in range(len(left)):
        li, ri = left[i], right[i]
        a = vals[li] if li >= 0 else np.int64(0)
        b = vals[ri] if ri >= 0 else np.int64(0)
        t = table[i]
        if t == LEAF:
            vals[nw + i], _ = _find_or_put(leaf_keys, leaf_slots, count, LEAF, a, b)
        elif t == NODE:
            vals[nw + i], _ = _find_or_put(node_keys, node_slots, count, NODE, a, b)
        else:
            return _find_or_put(root_keys, root_slots, count, ROOT, a, b, insert)
    return np.int64(-1), False  # unreachable: the last node is the root


@njit(cache=True)
def tree_get(left: I64, right: I64, table: I64, root_keys: I64, leaf_keys: I64,
             node_keys: I64, index: np.int64, vals: I64, out: I64) -> None:
    """Write state number `index` into `out`, root first, down the tree."""
    nw = len(out)
    for i in range(len(left) - 1, -1, -1):
        t = table[i]
        if t == ROOT:
            a, b = _pair(root_keys, index)
        elif t == LEAF:
            a, b = _pair(leaf_keys, vals[nw + i])
        else:
            a, b = _pair(node_keys, vals[nw + i])
        li, ri = left[i], right[i]
        if li >= 0:
            vals[li] = a
        if ri >= 0:
            vals[ri] = b
    for k in range(nw):
        out[k] = vals[k]


@njit(cache=True, nogil=True)  # the multi-core search's parts grow in their own threads
def _rehash(keys: I64, count: np.int64, slots: I32) -> None:
    mask = len(slots) - 1
    for e in range(count):
        a, b = _pair(keys, np.int64(e))
        h = _hash(a, b) & mask
        while slots[h] != 0:
            h = (h + 1) & mask
        slots[h] = np.int32(e + 1)


class TreeStore:
    """The visited set of one search, tree-compressed. The arrays are
    public so that a search kernel can pass them to the jitted functions."""

    def __init__(self, words: int) -> None:
        self.shape = TreeShape.of(words)
        self.count = np.zeros(3, dtype=np.int64)
        self.keys = [growable.zeros((_FIRST_CAPACITY, 2), np.int64),
                     growable.zeros((_FIRST_CAPACITY, 1), np.int64),
                     growable.zeros((_FIRST_CAPACITY, 1 if self.shape.root_packed else 2),
                                    np.int64)]
        self.slots = [np.zeros(_slots_for(_FIRST_CAPACITY), dtype=np.int32) for _ in range(3)]
        self.vals = np.zeros(words + self.shape.nodes, dtype=np.int64)

    @property
    def states(self) -> int:
        return int(self.count[ROOT])

    def reserve(self, states: int) -> None:
        """Make room for `states` more states, whatever their inner entries
        (each adds at most one per node below the root)."""
        for kind, per_state in self.per_state():
            need = int(self.count[kind]) + states * per_state
            if need > MAX_ENTRIES:
                raise OverflowError(FULL)
            if need > len(self.keys[kind]):
                self._grow(kind, need)

    def _grow(self, kind: int, need: int) -> None:
        """Keys of `kind` with room for `need` entries (doubled in place:
        `growable`), and their hash index rebuilt, the old one dropped
        first (the keys are what it indexes): no array is held twice."""
        self.slots[kind] = np.zeros(0, dtype=np.int32)
        while len(self.keys[kind]) < need:
            growable.double(self.keys, kind)
        self.slots[kind] = np.zeros(_slots_for(len(self.keys[kind])), dtype=np.int32)
        _rehash(self.keys[kind], self.count[kind], self.slots[kind])

    def growth_bytes(self, states: int) -> int:
        """What `reserve(states)` adds to the memory: the keys' new room (they
        double in place) and each rebuilt index's growth (the old one is
        dropped first)."""
        extra = 0
        for kind, per_state in self.per_state():
            need = int(self.count[kind]) + states * per_state
            old = cap = len(self.keys[kind])
            if need > cap:
                while cap < need:
                    cap *= 2
                extra += (cap - old) * self.keys[kind].shape[1] * 8
                extra += (_slots_for(cap) - len(self.slots[kind])) * 4
        return extra

    def per_state(self) -> tuple[tuple[int, int], ...]:
        """(table, the most entries one new state adds to it)."""
        return ((ROOT, 1), (LEAF, self.shape.inner(LEAF)), (NODE, self.shape.inner(NODE)))

    def arrays(self) -> tuple[I64, I64, I64, I64, I32, I64, I32, I64, I32, I64]:
        """What tree_put takes before the state and scratch, in its order."""
        sh = self.shape
        return (sh.left, sh.right, sh.table, self.keys[ROOT], self.slots[ROOT],
                self.keys[LEAF], self.slots[LEAF], self.keys[NODE], self.slots[NODE], self.count)

    def kernel_args(self) -> tuple[npt.NDArray[np.int64] | I32, ...]:
        """The tree as the search kernels take it: `arrays()` and the scratch."""
        return (*self.arrays(), self.vals)

    def put(self, state: I64) -> tuple[int, bool]:
        """Store one state (the Python path; a kernel calls tree_put)."""
        self.reserve(1)
        index, new = tree_put(*self.arrays(), state, self.vals)
        return int(index), bool(new)

    def get(self, index: int) -> I64:
        out = np.zeros(self.shape.words, dtype=np.int64)
        sh = self.shape
        tree_get(sh.left, sh.right, sh.table, self.keys[ROOT], self.keys[LEAF],
                 self.keys[NODE], np.int64(index), self.vals, out)
        return out

    def nbytes(self) -> int:
        """The memory the store holds, as allocated."""
        arrays: list[npt.NDArray[np.int64] | npt.NDArray[np.int32]] = [
            *self.keys, *self.slots, self.vals, self.count]
        return sum(a.nbytes for a in arrays)

    def used_bytes(self) -> int:
        """The memory its entries need (keys as stored), plus the hash
        indexes at the size they have now."""
        return sum(int(self.count[k]) * self.keys[k].shape[1] * 8 + self.slots[k].nbytes
                   for k in (ROOT, LEAF, NODE))


def _slots_for(entries: int) -> int:
    """A power of two with `entries` at most 3/4 of it."""
    need = (entries * MAX_LOAD_DEN + MAX_LOAD_NUM - 1) // MAX_LOAD_NUM
    return 1 << max(need - 1, 1).bit_length()
