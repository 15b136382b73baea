"""The semantic types of the spec language.

Storage types carry their bounds (an `int[0..3]` variable holds 0..3 and a
store outside that range is a violation). Expressions of integer category are
typed `INT`, unbounded: arithmetic is exact and the range is checked when the
value is stored.

A pointer `struct page *` denotes either a reference to an object of the one
pool that holds `struct page` objects (a first-class value: stored, compared,
passed) or, when no pool holds that type, a by-reference parameter bound to
an lvalue at each call site (`spin_lock(&class->lock)`), which can only be
dereferenced or passed on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.dsl.diagnostics import Span


class Type:
    """Base of all semantic types."""

    def show(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.show()


@dataclass(frozen=True, eq=True)
class BoolType(Type):
    def show(self) -> str:
        return "bool"


@dataclass(frozen=True, eq=True)
class IntType(Type):
    """A bounded integer storage type; `lo`/`hi` None means an expression value."""

    lo: int | None = None
    hi: int | None = None

    def show(self) -> str:
        if self.lo is None:
            return "int"
        return f"int[{self.lo}..{self.hi}]"


@dataclass(frozen=True, eq=True)
class TidSetType(IntType):
    """A set of thread ids as the bits of a bounded integer (`tidset[lo..hi]`):
    an integer everywhere, except to the symmetry check, which allows only
    set operations on it and renames its bits with the threads."""

    def show(self) -> str:
        return f"tidset[{self.lo}..{self.hi}]"


@dataclass(frozen=True, eq=True)
class TidType(Type):
    """A thread identity: 0 for none, 1..N for the scenario's thread slots."""

    def show(self) -> str:
        return "tid"


@dataclass(frozen=True, eq=True)
class VoidType(Type):
    def show(self) -> str:
        return "void"


@dataclass(eq=False)
class EnumType(Type):
    name: str
    members: list[str]
    span: Span

    def show(self) -> str:
        return f"enum {self.name}"


@dataclass(eq=False)
class FieldInfo:
    name: str
    type: Type
    span: Span


@dataclass(eq=False)
class StructType(Type):
    """A struct, or with `is_word` a word: scalar fields packed in one machine
    word, so that a store to one field is a read-modify-write of the word."""

    name: str
    is_word: bool
    span: Span
    fields: dict[str, FieldInfo] = field(default_factory=dict)

    def show(self) -> str:
        return f"{'word' if self.is_word else 'struct'} {self.name}"


@dataclass(frozen=True, eq=False)
class ArrayType(Type):
    elem: Type
    length: int

    def show(self) -> str:
        return f"{self.elem.show()}[{self.length}]"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ArrayType)
            and other.length == self.length
            and same_type(other.elem, self.elem)
        )

    def __hash__(self) -> int:
        return hash(("array", self.length))


@dataclass(frozen=True, eq=False)
class PtrType(Type):
    target: Type

    def show(self) -> str:
        return f"{self.target.show()} *"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PtrType) and same_type(other.target, self.target)

    def __hash__(self) -> int:
        return hash("ptr")


@dataclass(frozen=True, eq=True)
class NullType(Type):
    def show(self) -> str:
        return "null"


BOOL = BoolType()
INT = IntType()
TID = TidType()
VOID = VoidType()
NULL = NullType()


def same_type(a: Type, b: Type) -> bool:
    if isinstance(a, EnumType | StructType) or isinstance(b, EnumType | StructType):
        return a is b
    if isinstance(a, IntType) and isinstance(b, IntType):
        return True
    return a == b


def is_int(t: Type) -> bool:
    return isinstance(t, IntType | TidType)


def is_scalar(t: Type) -> bool:
    """Values that fit in one state slot."""
    if isinstance(t, StructType):
        return t.is_word
    return isinstance(t, BoolType | IntType | TidType | EnumType | PtrType)


def is_truthy(t: Type) -> bool:
    """Types allowed as a condition, C style: nonzero / non-null is true."""
    return isinstance(t, BoolType | IntType | TidType | PtrType)


def assignable(dst: Type, src: Type) -> bool:
    """Whether a value of type `src` can be stored in a location of type `dst`."""
    if isinstance(dst, PtrType):
        return isinstance(src, NullType) or (isinstance(src, PtrType) and dst == src)
    if is_int(dst):
        return is_int(src)
    if isinstance(dst, BoolType):
        return isinstance(src, BoolType)
    return same_type(dst, src)
