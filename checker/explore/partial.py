"""What a partial search is asked for, and its estimates of what it
missed (README, "Partial search"). Light: the command line reads `--store`
with it before anything compiled is loaded; `checker.vm.bitstate` runs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BITSTATE, HASHCOMPACT = "bitstate", "hashcompact"
DEFAULT_LOG2_BITS = 30  # 2^30 bits: a 128 MiB filter
DEFAULT_HASHES = 3  # SPIN's -k default
_EXACT = 100_000  # states past which the sum of the estimate is integrated


@dataclass(frozen=True)
class PartialConfig:
    """A partial search: its store and its diversification."""

    mode: str = BITSTATE
    log2_bits: int = DEFAULT_LOG2_BITS
    hashes: int = DEFAULT_HASHES
    seed: int = 0  # hash seeds and the successor order
    permute: bool = False  # store each state's successors in a seeded order
    max_depth: int | None = None  # expand no state at this depth


def parse_store(text: str) -> PartialConfig | None:
    """`--store`'s partial forms: bitstate[:W[:K]] (2^W bits, K hashes) or
    hashcompact; None for the exact forms. ValueError on a bad one."""
    name, *rest = text.split(":")
    if name == HASHCOMPACT and not rest:
        return PartialConfig(HASHCOMPACT)
    if name != BITSTATE or len(rest) > 2:
        if name in ("auto", "dense", "tree") and not rest:
            return None
        raise ValueError(f"unknown store {text!r} (auto, dense, tree, bitstate[:W[:K]], "
                         "hashcompact)")
    try:
        w = int(rest[0]) if rest else DEFAULT_LOG2_BITS
        k = int(rest[1]) if len(rest) > 1 else DEFAULT_HASHES
    except ValueError:
        raise ValueError(f"bad bitstate store {text!r}: bitstate[:W[:K]], integers") from None
    if not 6 <= w <= 40 or not 1 <= k <= 16:
        raise ValueError(f"bad bitstate store {text!r}: 2^W bits with 6 <= W <= 40, "
                         "1 <= K <= 16 hashes")
    return PartialConfig(BITSTATE, w, k)


def bitstate_omissions(n: int, m: int, k: int) -> float:
    """The expected number of states a bitstate search omits while storing
    n: sum over i < n of (1 - e^{-k i/m})^k, each new state's chance to
    find its k bits set (integrated numerically past 10^5 states)."""
    if n <= 0:
        return 0.0
    def f(i: float) -> float:
        return float(-math.expm1(-k * i / m)) ** k

    if n <= _EXACT:
        return math.fsum(f(i) for i in range(n))
    h = (n - 1) / _EXACT  # the trapezoid rule over _EXACT steps
    return h * (math.fsum(f(j * h) for j in range(1, _EXACT)) + (f(0) + f(n - 1)) / 2)


def hashcompact_omissions(n: int, bits: int = 64) -> float:
    """The expected number of states lost to equal b-bit hashes: sum over
    i < n of i / 2^b = n(n-1) / 2^(b+1)."""
    return n * (n - 1) / 2.0 ** (bits + 1)
