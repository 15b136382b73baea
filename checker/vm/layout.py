"""A state as a fixed number of 64-bit words.

Every slot lies inside one word, and bit 63 of every word stays unused so
that a word is a non-negative int64: the numba machine reads a slot with
one shift and one mask, and hashes and compares whole words. Slots are
placed by group (each thread's pc and frame, each pool's objects, the other
shared variables), first fit within the group's words, so that no word
mixes two groups: the tree store then shares a thread's frame or a pool
across the states that agree on it.

The packed Python int of `checker.explore.codegen.Packing` remains the
currency of the rare events (faults, violations, traces, post-passes):
`int_of` and `words_of` convert both ways by moving runs of slots that are
adjacent in both layouts as one bit field.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from checker.explore.codegen import Packing
from checker.ir.nodes import TransitionSystem

WORD_BITS = 63  # bit 63 is never used
# Rows of at most this many words are laid out tight and stored dense (`choose`).
TIGHT_WORDS = 2
Words = npt.NDArray[np.int64]


class NotSupported(Exception):
    """A scenario the VM engine cannot run; the message names what."""


@dataclass(frozen=True)
class Segment:
    """A run of bits at `packed` in the packed int and at `shift` in `word`."""

    packed: int
    width: int
    word: int
    shift: int


@dataclass(frozen=True)
class WordLayout:
    word: tuple[int, ...]  # per slot
    shift: tuple[int, ...]
    width: tuple[int, ...]
    nwords: int
    segments: tuple[Segment, ...]
    tight: bool = False  # groups share words (`of(..., tight=True)`)

    @staticmethod
    def choose(ts: TransitionSystem, packing: Packing) -> WordLayout:
        """The grouped layout, or the tight one where it fits in
        `TIGHT_WORDS` words and the grouped one does not: a row that short
        costs less stored dense than the tree saves by sharing groups, and
        the dense store searches at about twice the tree's speed
        (benchmarks/README "Memory")."""
        grouped = WordLayout.of(ts, packing)
        if grouped.nwords <= TIGHT_WORDS:
            return grouped
        tight = WordLayout.of(ts, packing, tight=True)
        return tight if tight.nwords <= TIGHT_WORDS else grouped

    @staticmethod
    def of(ts: TransitionSystem, packing: Packing, tight: bool = False) -> WordLayout:
        """Grouped: a word holds slots of one group (for the tree store).
        Tight: first fit over every word, groups mixed (fewest words)."""
        n = len(ts.slots)
        word, shift = [0] * n, [0] * n
        used: list[int] = []
        group_start = 0
        last_group: tuple[int, str] | None = None
        for k in _grouped(ts):
            w = packing.widths[k]
            if w > WORD_BITS:
                raise NotSupported(f"slot {ts.slots[k].name} needs {w} bits, more than "
                                   f"{WORD_BITS}")
            group = _group(ts, k)
            if group != last_group and not tight:
                last_group, group_start = group, len(used)
            # first fit within the group's own words: a word never mixes groups
            i = next((j for j in range(group_start, len(used)) if used[j] + w <= WORD_BITS),
                     len(used))
            if i == len(used):
                used.append(0)
            word[k], shift[k] = i, used[i]
            used[i] += w
        return WordLayout(tuple(word), tuple(shift), tuple(packing.widths), max(len(used), 1),
                          _segments(packing, word, shift), tight)

    def words_of(self, s: int) -> Words:
        out = np.zeros(self.nwords, dtype=np.int64)
        acc = [0] * self.nwords
        for g in self.segments:
            acc[g.word] |= ((s >> g.packed) & ((1 << g.width) - 1)) << g.shift
        out[:] = acc
        return out

    def int_of(self, words: Words) -> int:
        ws = words.tolist()
        s = 0
        for g in self.segments:
            s |= ((ws[g.word] >> g.shift) & ((1 << g.width) - 1)) << g.packed
        return s


def _group(ts: TransitionSystem, k: int) -> tuple[int, str]:
    """The part of the state slot k belongs to: a thread's pc and frame, one
    pool's objects, or the other shared variables."""
    s = ts.slots[k]
    if s.thread:
        return (s.thread, "")
    return (len(ts.threads) + 1, s.pool or "")


def _grouped(ts: TransitionSystem) -> list[int]:
    """Slots by group, each thread's pc first. A word holds slots of one
    group, so the tree store (`treestore`) finds a thread's frame or a
    pool's objects as whole subtrees that recur across states."""
    pcs = {t.pc_slot for t in ts.threads}
    return sorted(range(len(ts.slots)), key=lambda k: (_group(ts, k), k not in pcs, k))


def _segments(p: Packing, word: list[int], shift: list[int]) -> tuple[Segment, ...]:
    """Slots in packed order, merged while they stay adjacent in both layouts."""
    order = sorted(range(len(p.offsets)), key=lambda k: p.offsets[k])
    segs: list[Segment] = []
    for k in order:
        w = p.widths[k]
        if segs:
            last = segs[-1]
            if (last.word == word[k] and last.packed + last.width == p.offsets[k]
                    and last.shift + last.width == shift[k]):
                segs[-1] = Segment(last.packed, last.width + w, last.word, last.shift)
                continue
        segs.append(Segment(p.offsets[k], w, word[k], shift[k]))
    return tuple(segs)
