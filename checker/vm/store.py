"""The visited states of a VM search, as the kernel reads and writes them.

Two forms, one numbering (discovery order, so the breadth-first queue is
an index range and a parent index per state gives traces):

- dense: `store[cap, words]` rows and an open-addressing `table` of hash
  tags and indices (kernel.find). One probe and one row compare a lookup:
  the fastest, at 8 bytes per word of the state plus 9-18 bytes of table
  (filled to 7/8).
- tree: `treestore.TreeStore`, LTSmin-style tree compression. A state of
  many words costs its root entry and the inner entries that are new:
  47 bytes/state on `frees_vs_two_compactors` (24 words) against 246 dense,
  67 against 258 on `realloc_vs_three_compactors`, parents included, at
  0.9-1.0x the dense form's speed (benchmarks/vm_store.py; a lookup alone
  costs 2-5x, but expanding a state costs more than storing it).

A search starts dense and moves to the tree when the dense arrays' next
doubling would pass `TREE_AT_BYTES` (the rows are re-inserted in order, so
every index stays valid; the kernel goes on in tree mode from where it
returned): small and medium searches keep the speed, large ones fit in
memory. A row of at most `TIGHT_WORDS` words (the tight layout of
`layout.WordLayout.choose`) stays dense: at 16 bytes it costs about 35
bytes a state with its table and parent, near what the tree saves, at twice
the tree's speed. `CheckOptions.store` forces either form.

Every figure of memory comes from the arrays' sizes: `growth_bytes` is
what the next `grow` adds to the memory, for `--max-memory` (the arrays
double in place, `growable`: the new halves; a rebuilt table: the
difference, the old one being dropped first).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from checker.explore.limits import Budget
from checker.vm import growable
from checker.vm import kernel as K
from checker.vm.layout import TIGHT_WORDS, Words
from checker.vm.treestore import LEAF, NODE, ROOT, TreeStore

# Parents, recorded steps and the tree's ids are int32: 4 bytes a state,
# and a search of more states stops as incomplete (`cap_reason`).
MAX_STATES = 2**31 - 2
TREE_AT_BYTES = 1 << 28  # dense rows + table: past this (256 MiB), the tree
_FIRST_CAP = 1 << 12
# The visited table's highest load: 7/8. Linear probing with a 31-bit tag in
# each entry rejects nearly every other state without reading its row, so a
# full table costs a few more probes in one or two cache lines, while a
# table kept half full would take 16-32 bytes a state instead of 9-18
# (benchmarks/README "Memory").
LOAD_NUM, LOAD_DEN = 7, 8


def state_cap(budget: Budget) -> int:
    """The kernel's SC_CAP: --max-states, within what the arrays can number."""
    return min(budget.state_cap, MAX_STATES)


def cap_reason(budget: Budget) -> str:
    """Why a search that hit SC_CAP stopped."""
    if budget.state_cap <= MAX_STATES:
        return budget.over_states()
    return f"the compiled engine's limit of {MAX_STATES:,} states"


class Store:
    """The kernel's arrays, grown by doubling."""

    def __init__(self, nwords: int, record_edges: bool, form: str = "auto"):
        if form not in ("auto", "dense", "tree"):
            raise ValueError(f"unknown store form {form!r}")
        cap = _FIRST_CAP
        self.nwords = nwords
        self.form = form
        self.store = growable.zeros((cap, nwords), np.int64)
        self.parent = growable.zeros((cap,), np.int32)
        self.flags = growable.zeros((cap,), np.uint8)
        self.table = np.zeros(2 * cap, dtype=np.int64)
        # int32 pairs: 8 bytes a step (a store beyond 2^31 states is out of reach)
        self.edges = growable.zeros((cap if record_edges else 1, 2), np.int32)
        self.cur = np.zeros(nwords, dtype=np.int64)  # the tree's row being expanded
        self.tree: TreeStore | None = None
        self._no_tree = TreeStore(1)  # typed placeholders for the kernel in dense form

    # ------------------------------------------------------------ reading

    def row(self, i: int) -> Words:
        """State i's words (a copy in tree form)."""
        return self.store[i] if self.tree is None else self.tree.get(i)

    def rows(self, n: int) -> Words:
        """States 0..n-1 as a dense array (the tree's are decoded)."""
        return self.store[:n] if self.tree is None else decoded(self.tree, n)

    def tree_args(self) -> tuple[np.ndarray, ...]:
        """The tree's arrays in kernel.search's order (placeholders if dense);
        taken afresh after every `grow`, which may replace them."""
        return (self.tree or self._no_tree).kernel_args()

    def nbytes(self) -> int:
        """The bytes the visited set holds, as allocated (doubling included;
        the steps kept for the livelock pass are not counted)."""
        arrays: list[np.ndarray] = [self.store, self.parent, self.flags, self.table]
        return sum(a.nbytes for a in arrays) + (self.tree.nbytes() if self.tree else 0)

    # ------------------------------------------------------------ writing

    def fill(self, rows: Words, parents: list[int], sc: Words) -> None:
        """The first states of a search handed over by the Python engine:
        rows in discovery order with their parents' indices."""
        n = len(rows)
        while len(self.parent) < n + 1:
            growable.double(self, "parent")
            growable.double(self, "flags")
        self.parent[:n] = parents
        if self._wants_tree(n):
            self._to_tree(rows, sc)
            return
        dense_of(self, rows)

    def fill_edges(self, rows: Words, cols: Words) -> int:
        """The steps the Python engine recorded; their number."""
        e = len(rows)
        while len(self.edges) < e + 1:
            growable.double(self, "edges")
        self.edges[:e, 0] = rows
        self.edges[:e, 1] = cols
        return e

    def growth_bytes(self, sc: Words) -> int:
        """What the next `grow` adds to the memory; when it moves to the tree, an
        estimate: the dense rows' bytes, which the specs' trees stay near
        (1.0-1.3x when they are built; rows that share no pair, up to about
        3.5x). The next check of `--max-memory`, at the next growth, reads
        the memory the tree took."""
        n = int(sc[K.SC_N])
        extra = 0
        if n >= len(self.parent):  # in place: the new halves
            extra += self.parent.nbytes + self.flags.nbytes
        extra += rows_growth_bytes(self.tree, self.store, self.table, n,
                                   self.tree is None and self._wants_tree(n))
        if sc[K.SC_RECORD] and sc[K.SC_EDGES] >= len(self.edges):
            extra += self.edges.nbytes
        return extra

    def grow(self, sc: Words) -> None:
        """Room for at least one more state (and step), then the kernel's
        bounds: GROW_AT (states before the next return) and EDGE_CAP."""
        n = int(sc[K.SC_N])
        if n >= len(self.parent):
            growable.double(self, "parent")
            growable.double(self, "flags")
        if self.tree is None and self._wants_tree(n):
            self._to_tree(self.store[:n], sc)
        if self.tree is None:
            dense_room(self, n)
            sc[K.SC_GROW_AT] = min(len(self.store), table_room(len(self.table)),
                                   len(self.parent))
        else:
            self.tree.reserve(1)  # doubles each table without room for one more state
            sc[K.SC_GROW_AT] = len(self.parent)
        if sc[K.SC_RECORD] and sc[K.SC_EDGES] >= len(self.edges):
            growable.double(self, "edges")
        sc[K.SC_EDGE_CAP] = len(self.edges)

    def _wants_tree(self, n: int) -> bool:
        return wants_tree(self.form, self.nwords, n, TREE_AT_BYTES)

    def _to_tree(self, rows: Words, sc: Words) -> None:
        """Re-insert the rows in order (their indices stay), drop the dense
        arrays, and switch the kernel to tree mode."""
        self.tree = tree_of(rows)
        sc[K.SC_TREE_LEAF], sc[K.SC_TREE_NODE] = tree_entries(self.tree)
        self.store = np.zeros((1, self.nwords), dtype=np.int64)
        self.table = np.zeros(2, dtype=np.int64)
        sc[K.SC_TREE] = 1


class Dense(Protocol):
    """Dense rows and their table (`Store`, a worker's part)."""

    store: Words
    table: Words


def dense_of(d: Dense, rows: Words) -> None:
    """`d` holding `rows` as states 0..n-1, with room for state n: its rows
    and table grown as needed, the table rebuilt."""
    n = len(rows)
    while len(d.store) < n + 1:
        growable.double(d, "store")
    d.store[:n] = rows
    size = len(d.table)
    while table_full(n, size):
        size *= 2
    _rebuilt_table(d, size, n)


def dense_room(d: Dense, n: int) -> None:
    """`d` with room for state n's row: its rows doubled if full (in place:
    `growable`), its table doubled and rehashed if full."""
    if n >= len(d.store):
        growable.double(d, "store")
    if table_full(n, len(d.table)):
        _rebuilt_table(d, 2 * len(d.table), n)


def _rebuilt_table(d: Dense, size: int, n: int) -> None:
    """A table of `size` entries for the first n rows. The rows are the
    keys, so the old table is dropped before the new one is filled: the two
    are never resident at once."""
    d.table = np.zeros(0, dtype=np.int64)
    d.table = np.zeros(size, dtype=np.int64)
    K.rehash(d.table, d.store, n)


def rows_growth_bytes(tree: TreeStore | None, store: Words, table: Words, n: int,
                      to_tree: bool) -> int:
    """What making room for state n's row adds to the memory: the tree's
    next doublings; moving `to_tree`, an estimate (`Store.growth_bytes`);
    else the dense rows' new half (they double in place: `growable`) and
    the table's (the old one is dropped before the new one is filled)."""
    if tree is not None:
        return tree.growth_bytes(1)
    if to_tree:
        return int(store[:n].nbytes)
    extra = store.nbytes if n >= len(store) else 0
    return extra + (table.nbytes if table_full(n, len(table)) else 0)


def wants_tree(form: str, nwords: int, n: int, at_bytes: int) -> bool:
    """Whether a store of `form` ("auto", "dense" or "tree") with state n
    next to store keeps its rows in the tree: always or never as asked,
    else (auto) once the dense rows and table for n + 1 states would pass
    `at_bytes`, and never for a row of at most `TIGHT_WORDS` words (the
    tree saves little there, at half the speed)."""
    if form != "auto":
        return form == "tree"
    if nwords <= TIGHT_WORDS:
        return False
    dense = (n + 1) * nwords * 8 + 2 * (n + 1) * 8 * 2
    return dense > at_bytes


def tree_entries(tree: TreeStore) -> tuple[int, int]:
    """The most leaf and inner entries one new state adds to `tree` (the
    kernels' room check, `kernel.tree_room`)."""
    return tree.shape.inner(LEAF), tree.shape.inner(NODE)


def decoded(tree: TreeStore, n: int) -> Words:
    """States 0..n-1 of `tree` as a dense array."""
    out = np.zeros((n, tree.shape.words), dtype=np.int64)
    sh = tree.shape
    K.tree_rows(sh.left, sh.right, sh.table, tree.keys[ROOT], tree.keys[LEAF], tree.keys[NODE],
                0, n, tree.vals, out)
    return out


def tree_of(rows: Words) -> TreeStore:
    """A tree store of `rows`, in order: row i is state i. Equal rows are
    an error (a dense store holds each state once)."""
    n, nwords = rows.shape
    tree = TreeStore(nwords)
    leaf, node = tree_entries(tree)
    rows = np.ascontiguousarray(rows)
    i = 0
    while i < n:
        tree.reserve(1)
        i = K.tree_put_rows(*tree.arrays(), rows, i, leaf, node, tree.vals)
    if tree.states != n:
        raise AssertionError(f"{n - tree.states} stored states were equal")
    return tree


def table_full(n: int, size: int) -> bool:
    """Whether a table of `size` entries lacks room for state n (index n,
    the (n+1)-th): the load stays at most LOAD_NUM/LOAD_DEN."""
    return LOAD_DEN * (n + 1) > LOAD_NUM * size


def table_room(size: int) -> int:
    """The states a table of `size` entries holds."""
    return size * LOAD_NUM // LOAD_DEN
