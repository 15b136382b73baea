"""argparse `type=` functions for the limit flags.

A limit that is NaN, infinite, zero or negative is a usage error (exit 2):
`float("nan")` compares false with everything, so `--max-seconds nan` used to
switch the limit off silently, and `--max-states 0` stopped at once with a
meaningless "incomplete"."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

Number = TypeVar("Number", int, float)


def positive_int(text: str) -> int:
    """A count of at least 1 (states, unrolling bound, sample size)."""
    return _bounded(text, _decimal, "an integer", 1, True, "must be at least 1, not {value}")


def natural_int(text: str) -> int:
    """A count of at least 0 (a depth: 0 checks the initial state only)."""
    return _bounded(text, _decimal, "an integer", 0, True, "must be 0 or more, not {value}")


def positive_float(text: str) -> float:
    """A finite amount above 0 (seconds, megabytes)."""
    return _bounded(text, float, "a number", 0, False,
                    "must be a finite number above 0, not {text}")


def nonnegative_float(text: str) -> float:
    """A finite amount of 0 or more (`prove --seconds 0`: no time, so
    "unknown" unless the base case settles it)."""
    return _bounded(text, float, "a number", 0, True,
                    "must be a finite number, 0 or more, not {text}")


def _decimal(text: str) -> int:
    """An integer in base 10 only: `--depth 0x10` is a mistake, not 16."""
    return int(text, 10)


def _bounded(text: str, parse: Callable[[str], Number], noun: str, lowest: float,
             inclusive: bool, refusal: str) -> Number:
    """`text` parsed, if it is finite and at least `lowest` (above it when
    not `inclusive`); else the usage error `refusal` (a `str.format`
    template of `value`, the parsed number, and `text`, as typed: a float's
    own spelling shows what was typed, `nan` or `1e400`).

    The upper test `< math.inf` refuses inf and NaN (which compares false
    with everything) and holds for any int, however large (`math.isfinite`
    would overflow on one)."""
    try:
        value = parse(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not {noun}") from None
    above = lowest <= value if inclusive else lowest < value
    if not (above and value < math.inf):
        raise argparse.ArgumentTypeError(refusal.format(value=value, text=text))
    return value
