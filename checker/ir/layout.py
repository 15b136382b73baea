"""The state vector: how each variable of a scenario maps to slots.

A scalar takes one slot; a struct takes its fields' slots in declaration
order; an array its elements' slots one after the other; a word one slot whose
value packs its fields from bit 0 up, each stored as `value - lo` in just
enough bits. Pool objects are laid out as `[allocated, fields...]`, so that a
reference `r` reaches field offset `f` at `base + (r - 1) * stride + 1 + f`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from checker.ir.nodes import PoolInfo, Slot
from checker.sema.symbols import Elaboration
from checker.sema.types import (
    ArrayType,
    BoolType,
    EnumType,
    IntType,
    PtrType,
    StructType,
    TidType,
    Type,
)


@dataclass(frozen=True)
class WordField:
    shift: int
    width: int
    lo: int
    hi: int
    type: Type


def bits_for(n_values: int) -> int:
    return max((n_values - 1).bit_length(), 1) if n_values > 1 else 1


def default_of(lo: int, hi: int) -> int:
    return 0 if lo <= 0 <= hi else lo


class Layout:
    """Allocates slots for a scenario; grows while threads are lowered."""

    def __init__(self, el: Elaboration, n_threads: int):
        self.el = el
        self.n_threads = n_threads
        self.slots: list[Slot] = []
        self.pools: dict[str, PoolInfo] = {}
        self._words: dict[int, dict[str, WordField]] = {}

    # ------------------------------------------------------------ type shapes
    def size(self, t: Type) -> int:
        if isinstance(t, ArrayType):
            return t.length * self.size(t.elem)
        if isinstance(t, StructType) and not t.is_word:
            return sum(self.size(f.type) for f in t.fields.values())
        return 1

    def field_offset(self, st: StructType, name: str) -> int:
        off = 0
        for f in st.fields.values():
            if f.name == name:
                return off
            off += self.size(f.type)
        raise KeyError(name)

    def scalar_range(self, t: Type) -> tuple[int, int, str]:
        if isinstance(t, BoolType):
            return 0, 1, "bool"
        if isinstance(t, IntType):
            assert t.lo is not None and t.hi is not None
            return t.lo, t.hi, "int"
        if isinstance(t, TidType):
            return 0, self.n_threads, "tid"
        if isinstance(t, EnumType):
            return 0, len(t.members) - 1, "enum"
        if isinstance(t, PtrType):
            pool = self.el.pool_of(t)
            return 0, pool.size if pool else 0, "ref"
        if isinstance(t, StructType) and t.is_word:
            width = sum(f.width for f in self.word_fields(t).values())
            return 0, (1 << width) - 1, "word"
        raise AssertionError(f"not a scalar: {t}")

    def word_fields(self, st: StructType) -> dict[str, WordField]:
        cached = self._words.get(id(st))
        if cached is not None:
            return cached
        out: dict[str, WordField] = {}
        shift = 0
        for f in st.fields.values():
            lo, hi, _ = self.scalar_range(f.type)
            width = bits_for(hi - lo + 1)
            out[f.name] = WordField(shift, width, lo, hi, f.type)
            shift += width
        self._words[id(st)] = out
        return out

    def default_value(self, t: Type) -> int:
        if isinstance(t, StructType) and t.is_word:
            raw = 0
            for wf in self.word_fields(t).values():
                raw |= (default_of(wf.lo, wf.hi) - wf.lo) << wf.shift
            return raw
        lo, hi, _ = self.scalar_range(t)
        return default_of(lo, hi)

    # ------------------------------------------------------------ allocation
    def add(self, name: str, t: Type, thread: int = 0, pool: str | None = None,
            frame: bool = False) -> int:
        """Allocate the slots of a variable of type `t`; returns its first slot."""
        base = len(self.slots)
        self._add(name, t, thread, pool)
        if frame:
            for i in range(base, len(self.slots)):
                self.slots[i] = replace(self.slots[i], frame=True)
        return base

    def _add(self, name: str, t: Type, thread: int, pool: str | None) -> None:
        if isinstance(t, ArrayType):
            for i in range(t.length):
                self._add(f"{name}[{i}]", t.elem, thread, pool)
        elif isinstance(t, StructType) and not t.is_word:
            for f in t.fields.values():
                self._add(f"{name}.{f.name}", f.type, thread, pool)
        else:
            lo, hi, kind = self.scalar_range(t)
            self.slots.append(
                Slot(len(self.slots), name, lo, hi, self.default_value(t), kind, t, thread, pool)
            )

    def add_raw(self, name: str, lo: int, hi: int, kind: str, thread: int = 0,
                pool: str | None = None) -> int:
        index = len(self.slots)
        self.slots.append(Slot(index, name, lo, hi, default_of(lo, hi), kind, None, thread, pool))
        return index

    def add_pools(self) -> None:
        for pool in self.el.pools.values():
            base = len(self.slots)
            for i in range(pool.size):
                self.add_raw(f"{pool.name}[{i}]", 0, 1, "alloc", pool=pool.name)
                self._add(f"{pool.name}[{i}]", pool.elem, 0, pool.name)
            stride = 1 + self.size(pool.elem)
            self.pools[pool.name] = PoolInfo(pool.name, base, stride, pool.size, pool.elem)

    def truncate(self, n: int) -> None:
        del self.slots[n:]
