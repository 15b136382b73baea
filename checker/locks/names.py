"""Names a reader of the spec uses for locks and shared fields.

A lock *class* is what lockdep would call one: a static lock is its variable
(`zs_class.lock`), a lock inside pool objects is the struct's field path
(`zspage.lock`), and a lock passed as a pointer to a pool object is that
struct (`page`: lock_page(page) locks the page). A lock *instance* is one
concrete lock: `zspages[0].lock`, `pages[1]`.

A *field* is the same idea for data: `zspage.inuse`, `page.flags.PG_isolated`,
`page_mem.obj[].head`; a *location* is one concrete slot (or word field of a
slot) of a field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from checker.ir.layout import bits_for
from checker.ir.nodes import LockEvent, Slot, TransitionSystem
from checker.sema.types import BoolType, EnumType, IntType, PtrType, StructType, TidType, Type

_INDEX = re.compile(r"\[[^\]]*\]")


def split_path(name: str) -> list[str]:
    """`zspages[0].lock.readers` -> ['zspages[0]', 'lock', 'readers']."""
    return name.split(".")


@dataclass(frozen=True, order=True)
class LockInstance:
    lock_class: str
    name: str


def pool_of_pointer(ts: TransitionSystem, t: Type | None) -> str | None:
    """The pool holding the objects a pointer type refers to, if any."""
    if not isinstance(t, PtrType):
        return None
    for pool in ts.pools.values():
        if pool.elem is t.target:
            return pool.name
    return None


def object_lock_pool(ts: TransitionSystem, ev: LockEvent) -> str | None:
    """For an annotation naming a pointer parameter to a pool object
    (`lock_page(struct page *page) __acquires(page)`), the pool: the lock is
    the object the pointer designates. None for a lock passed by reference."""
    if not ev.loc.static:
        return None
    slot = ts.slots[ev.loc.base]
    if slot.shared or slot.kind != "ref":
        return None
    return pool_of_pointer(ts, slot.type)


def object_lock(ts: TransitionSystem, pool: str, ref: int) -> LockInstance:
    elem = ts.pools[pool].elem
    name = elem.name if isinstance(elem, StructType) else pool
    return LockInstance(name, f"{pool}[{ref - 1}]")


def location_lock(ts: TransitionSystem, ev: LockEvent, slot_index: int) -> LockInstance:
    """The instance of a lock passed by reference, resolved to its first slot."""
    slot = ts.slots[slot_index]
    depth = len(split_path(ev.lock_class))
    if ev.loc.bits is not None:
        field = word_field_name(ts, slot, ev.loc.bits[0])
        return LockInstance(ev.lock_class, f"{slot.name}.{field}")
    parts = split_path(slot.name)
    # A lock struct spans several slots (`lock.readers`, `lock.writer`): the
    # instance is the slot's name cut to the depth of the class path.
    keep = max(depth, 1) if len(parts) > depth else len(parts)
    return LockInstance(ev.lock_class, ".".join(parts[:keep]))


def field_range(t: Type, ts: TransitionSystem) -> tuple[int, int]:
    """The value range of a word field's type (as the layout packs it)."""
    if isinstance(t, BoolType):
        return 0, 1
    if isinstance(t, IntType):
        assert t.lo is not None and t.hi is not None
        return t.lo, t.hi
    if isinstance(t, EnumType):
        return 0, len(t.members) - 1
    if isinstance(t, PtrType):
        pool = pool_of_pointer(ts, t)
        return (0, ts.pools[pool].size) if pool else (0, 0)
    if isinstance(t, TidType):
        return 0, len(ts.threads)
    return 0, 0


def word_fields(ts: TransitionSystem, st: StructType) -> list[tuple[str, int]]:
    """(field name, shift) of each field of a word, in layout order."""
    out = []
    shift = 0
    for f in st.fields.values():
        lo, hi = field_range(f.type, ts)
        out.append((f.name, shift))
        shift += bits_for(hi - lo + 1)
    return out


def word_field_name(ts: TransitionSystem, slot: Slot, shift: int) -> str:
    if isinstance(slot.type, StructType) and slot.type.is_word:
        for name, sh in word_fields(ts, slot.type):
            if sh == shift:
                return name
    return f"bits{shift}"


def field_of_slot(ts: TransitionSystem, slot: Slot) -> str:
    """The field a shared slot belongs to: pool objects by their struct name,
    indices dropped (`page_mems[0].obj[1].head` -> `page_mem.obj[].head`)."""
    name = slot.name
    if slot.pool is not None:
        elem = ts.pools[slot.pool].elem
        head, _, rest = name.partition("]")
        struct = elem.name if isinstance(elem, StructType) else head.split("[")[0]
        name = struct + rest
        if slot.kind == "alloc":
            return f"{struct} (allocation)"
    return _INDEX.sub("[]", name)


def location_name(ts: TransitionSystem, slot_index: int, word_field: str | None) -> str:
    name = ts.slots[slot_index].name
    return f"{name}.{word_field}" if word_field else name


def field_name(ts: TransitionSystem, slot_index: int, word_field: str | None) -> str:
    base = field_of_slot(ts, ts.slots[slot_index])
    return f"{base}.{word_field}" if word_field else base
