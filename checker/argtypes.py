"""argparse `type=` functions for the limit flags.

A limit that is NaN, infinite, zero or negative is a usage error (exit 2):
`float("nan")` compares false with everything, so `--max-seconds nan` used to
switch the limit off silently, and `--max-states 0` stopped at once with a
meaningless "incomplete"."""

from __future__ import annotations

import argparse
import math


def positive_int(text: str) -> int:
    """A count of at least 1 (states, unrolling bound, sample size)."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def natural_int(text: str) -> int:
    """A count of at least 0 (a depth: 0 checks the initial state only)."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def positive_float(text: str) -> float:
    """A finite amount above 0 (seconds, megabytes)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number above 0, not {text}")
    return value


def nonnegative_float(text: str) -> float:
    """A finite amount of 0 or more (`prove --seconds 0`: no time, so
    "unknown" unless the base case settles it)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number, 0 or more, not {text}")
    return value
