"""The types of a checked lemma's expressions (`checker.sema.lemmas` gives
them; `checker.ir.lemma` encodes them), apart from the checker so that the
elaboration's side tables can name them."""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.dsl import ast


@dataclass(frozen=True)
class Bits:
    """An unsigned `width`-bit value."""

    width: int


@dataclass(frozen=True)
class Truth:
    """A condition (comparisons, `&&`, `||`, `!`)."""


@dataclass(frozen=True)
class Known:
    """A constant, folded exactly (it takes a width where it is used)."""

    value: int


LType = Bits | Truth | Known


@dataclass
class LemmaInfo:
    """A checked lemma: the type of every expression and each variable's width."""

    decl: ast.LemmaDecl
    types: dict[ast.Expr, LType] = field(default_factory=dict)
    widths: dict[str, int] = field(default_factory=dict)
    consts: dict[str, int] = field(default_factory=dict)  # constants it names, with values
    expect: str = "proved"
