"""The vocabulary every part of migcheck shares: what can go wrong in a run
(violation kinds), what a property is, what a search concludes, and the one
table of checks that every implementation of the semantics reports from.

Why one module: the reference interpreter (`checker.ir.interp`), the
compiled engine (`checker.explore.codegen`), the pre-state conditions
(`checker.ir.precond`, hence the Promela export), the z3 encoding
(`checker.symbolic.encode`) and the reports (SARIF rules, JUnit, JSON) all
name faults. With the kinds as an `Enum` and the wording here, mypy names
every place a new kind must go (`match` + `assert_never` over the kinds) and
a fault reads the same whichever engine found it.

The members are `StrEnum`s: their value is the word users see in `expect`
lines, JSON traces and SARIF rule ids, so they compare equal to those
strings and serialise as them. It imports nothing of checker: every
package may use it (tests/test_architecture.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, assert_never


class ViolationKind(StrEnum):
    """Every way a scenario can fail; an `expect` line names one of these."""

    NULL_DEREF = "null_deref"
    USE_AFTER_FREE = "use_after_free"
    DOUBLE_FREE = "double_free"
    OUT_OF_BOUNDS = "out_of_bounds"
    RANGE = "range"
    DIV_ZERO = "div_zero"
    SHIFT = "shift"
    ASSERT = "assert"
    THREAD_LIMIT = "thread_limit"
    INVARIANT = "invariant"
    FINAL = "final"
    ON_EXIT = "on_exit"
    DEADLOCK = "deadlock"
    # lockdep's "inconsistent lock state": a lock class taken in an interrupt
    # handler and elsewhere with that interrupt enabled (checker.explore.irqstate)
    INCONSISTENT_LOCK_STATE = "inconsistent_lock_state"

    # A fair infinite run on which a thread that is not a daemon never
    # finishes (checker.explore.fairness): a lasso counterexample.
    STARVATION = "starvation"

    # A fair infinite run on which a started thread with a progress label
    # passes none of its progress labels any more (a non-progress cycle,
    # checker.explore.fairness): a lasso counterexample.
    NO_PROGRESS = "no_progress"


class ExecContext(StrEnum):
    """What a thread instance is on its CPU (`ThreadInstance.context`): a task
    (`run`), or an interrupt (`irq`) or softirq (`softirq`) handler."""

    TASK = "task"
    HARDIRQ = "hardirq"
    SOFTIRQ = "softirq"


class PropertyKind(StrEnum):
    """What a declared property is (`checker.ir.nodes.Prop.kind`); each is
    also the violation kind reported when it fails."""

    ASSERT = "assert"
    INVARIANT = "invariant"
    FINAL = "final"
    ON_EXIT = "on_exit"
    # A `WARN_ON` site: reported when it fires, never a violation (the run
    # goes on); `expect warning NAME;` names it.
    WARNING = "warning"

    @property
    def violation(self) -> ViolationKind:
        assert self is not PropertyKind.WARNING, "a warning is not a violation"
        return ViolationKind(self.value)


class Verdict(StrEnum):
    """What one search concluded (`CheckResult.verdict`)."""

    VERIFIED = "verified"
    VIOLATION = "violation"
    INCOMPLETE = "incomplete"


class Status(StrEnum):
    """A scenario's verdict against its `expect` line, one word for reports."""

    MET = "met"
    UNMET = "unmet"
    VACUOUS = "vacuous"
    INCOMPLETE = "incomplete"


# What an `expect` line may say: a violation kind, or that none is reachable.
VERIFIED: Literal["verified"] = "verified"
ExpectKind = ViolationKind | Literal["verified"]
EXPECT_WORDS: tuple[str, ...] = (VERIFIED, *(k.value for k in ViolationKind))


def expect_kind(word: str) -> ExpectKind:
    """The kind an `expect` word names (the checker has validated it)."""
    return VERIFIED if word == VERIFIED else ViolationKind(word)


# ---------------------------------------------------------------- the checks


@dataclass(frozen=True)
class CheckRule:
    """One check of the semantics: the fault it raises, what it means (SARIF
    rule text) and the message a run reports. `template` is filled with
    `str.format` fields named in `fields`; an engine that knows no concrete
    value (the symbolic ones) fills them with the expression it checks."""

    kind: ViolationKind
    summary: str
    template: str
    fields: tuple[str, ...] = ()

    def message(self, **values: object) -> str:
        missing = set(self.fields) - values.keys()
        assert not missing, f"{self.kind}: no value for {sorted(missing)}"
        return self.template.format(**values)


class Check(StrEnum):
    """Each check the semantics makes, in the order C evaluates them when
    several apply to one operation:

    - a location: for each dynamic component from the outside in, the
      component's value is computed first (its own checks), then a
      reference is checked for null (NULL_REF), its range (REF_BOUNDS) and
      the object's allocated bit (FREED); an index for its bounds (INDEX);
    - an operator: its operands left to right, then DIVISOR, or SHIFT_COUNT
      then SHIFT_RANGE (a left shift whose value would pass the constant
      limit is refused before it is built);
    - a store: the value (its own checks), then the location, then the
      value's range (STORE_RANGE, WORD_FIELD_RANGE for a field of a word);
    - `free`: the reference, then DOUBLE_FREE; `start`: its arguments, each
      parameter's range (STORE_RANGE), then THREAD_SLOT;
    - `assert` and `on_exit`: the condition, then ASSERTION.

    tests/test_vocabulary.py holds the explicit engine, BMC and SPIN to this
    order on programs where two checks fail at once; tests/test_precond.py
    and tests/test_engines.py compare first faults with the interpreter's on
    random programs and states where faults abound."""

    NULL_REF = "null_ref"
    REF_BOUNDS = "ref_bounds"
    FREED = "freed"
    INDEX = "index"
    STORE_RANGE = "store_range"
    WORD_FIELD_RANGE = "word_field_range"
    DIVISOR = "divisor"
    SHIFT_COUNT = "shift_count"
    SHIFT_RANGE = "shift_range"
    DOUBLE_FREE = "double_free"
    THREAD_SLOT = "thread_slot"
    ASSERTION = "assertion"

    @property
    def rule(self) -> CheckRule:
        return CHECKS[self]

    def message(self, **values: object) -> str:
        return CHECKS[self].message(**values)


CHECKS: dict[Check, CheckRule] = {
    Check.NULL_REF: CheckRule(ViolationKind.NULL_DEREF, "A dereference of a null reference",
                              "{verb} through a null {pool} reference", ("verb", "pool")),
    Check.REF_BOUNDS: CheckRule(ViolationKind.OUT_OF_BOUNDS,
                                "A reference outside its pool",
                                "{verb}: {pool} reference {value} out of range",
                                ("verb", "pool", "value")),
    Check.FREED: CheckRule(ViolationKind.USE_AFTER_FREE,
                           "An access to an object after it was freed",
                           "{verb} {object} after it was freed", ("verb", "object")),
    Check.INDEX: CheckRule(ViolationKind.OUT_OF_BOUNDS, "An index outside its array",
                           "{verb}: index {value} out of bounds 0..{last}",
                           ("verb", "value", "last")),
    Check.STORE_RANGE: CheckRule(ViolationKind.RANGE, "A store outside a variable's bounds",
                                 "{target} = {value} is outside {lo}..{hi}",
                                 ("target", "value", "lo", "hi")),
    Check.WORD_FIELD_RANGE: CheckRule(ViolationKind.RANGE,
                                      "A store outside a word field's bounds",
                                      "a field of {target} = {value} is outside {lo}..{hi}",
                                      ("target", "value", "lo", "hi")),
    Check.DIVISOR: CheckRule(ViolationKind.DIV_ZERO, "A division by zero", "division by zero"),
    Check.SHIFT_COUNT: CheckRule(ViolationKind.SHIFT,
                                 "A shift by a negative amount (undefined in C)",
                                 "shift by a negative amount ({count})", ("count",)),
    Check.SHIFT_RANGE: CheckRule(ViolationKind.RANGE,
                                 "A left shift whose value passes the constant limit",
                                 "a left shift by {count} is beyond +-2^{limit}",
                                 ("count", "limit")),
    Check.DOUBLE_FREE: CheckRule(ViolationKind.DOUBLE_FREE, "An object freed twice",
                                 "free of {object}, already freed", ("object",)),
    Check.THREAD_SLOT: CheckRule(ViolationKind.THREAD_LIMIT,
                                 "A start with every instance slot busy",
                                 "start {thread}: all {count} instance slot(s) busy; raise "
                                 "the bound with 'max {thread} N;' in the scenario",
                                 ("thread", "count")),
    Check.ASSERTION: CheckRule(ViolationKind.ASSERT, "An assertion of the spec failed",
                               "assertion failed"),
}


def property_fault_message(kind: ViolationKind, name: str, thread: str) -> str | None:
    """How a run reports a named property that a step found false: an
    `assert` of the spec, or a thread's `on_exit` property at its end. None
    for a check's fault, which its rule words."""
    if kind == ViolationKind.ASSERT:
        return f"assertion '{name}' failed"
    if kind == ViolationKind.ON_EXIT:
        return f"{thread} ended with on_exit property '{name}' false"
    return None


def describe(kind: ViolationKind) -> str:
    """What a violation kind means, in one line (SARIF rules, `--help`).

    A kind a check raises reads as that check's summary, so the wording has
    one source (`CHECKS`); the other kinds are worded here. The `match` lists
    every kind so that mypy names this function when a kind is added."""
    match kind:
        case ViolationKind.OUT_OF_BOUNDS:
            # Two checks raise it (REF_BOUNDS, INDEX): one line covers both.
            return "An index or reference outside its array or pool"
        case ViolationKind.INVARIANT:
            return "An invariant of the spec does not hold"
        case ViolationKind.FINAL:
            return "A final property does not hold once every thread finished"
        case ViolationKind.ON_EXIT:
            return "A thread ended with an on_exit property false"
        case ViolationKind.DEADLOCK:
            return "No unfinished thread can move, or threads spin forever"
        case ViolationKind.INCONSISTENT_LOCK_STATE:
            return ("A lock taken in interrupt (softirq) context and elsewhere with that "
                    "interrupt enabled")
        case ViolationKind.STARVATION:
            return "A fair run that never ends leaves a thread unfinished forever"
        case ViolationKind.NO_PROGRESS:
            return "A fair run that never ends on which a thread stops passing its progress label"
        case (ViolationKind.NULL_DEREF | ViolationKind.USE_AFTER_FREE
              | ViolationKind.DOUBLE_FREE | ViolationKind.RANGE | ViolationKind.DIV_ZERO
              | ViolationKind.SHIFT | ViolationKind.ASSERT | ViolationKind.THREAD_LIMIT):
            return CHECKS[_first_check_raising(kind)].summary
        case _:
            assert_never(kind)


def _first_check_raising(kind: ViolationKind) -> Check:
    """The first check in `Check`'s order whose fault is `kind`: the one
    that describes it. For RANGE that is STORE_RANGE, the general case
    (WORD_FIELD_RANGE and SHIFT_RANGE are particular stores and shifts)."""
    for check in Check:
        if CHECKS[check].kind == kind:
            return check
    raise ValueError(f"no check raises {kind}")
