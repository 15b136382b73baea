"""Figures of the symbolic engines (no z3 import: the CLI loads it lazily)."""

from __future__ import annotations

from dataclasses import dataclass

from checker.explore.result import Stats


@dataclass
class BmcStats(Stats):
    """Figures of a BMC run (`depth`: the deepest step count checked)."""

    queries: int = 0
    width: int = 0  # bits of the bit-vector encoding
    complete: bool = False  # every run ends within `depth` steps
