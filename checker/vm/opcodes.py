"""The VM's instruction set and status codes, shared by the bytecode
generator (`program`) and the fixed interpreter (`machine`).

Plain int constants, not an Enum: numba freezes module-level ints into the
compiled interpreter. An instruction is one row of seven int64s:
`op, a, b, c, d, e, f`; registers are int64 and every value a register holds
lies in (-2^62, 2^62) (see `program`), so no operation wraps silently.
"""

from __future__ import annotations

from checker.kinds import Check

WIDTH = 7  # op and six operands

# ---- status of running one action (or one predicate)
OK = 0  # the action ran to its end: a successor is in buffer 1
DISABLED = 1  # a guard or a Require was false
# 2.. : a fault, one code per check of `checker.kinds.Check`, then ESCAPE
FAULT_BASE = 2
CHECK_CODES: dict[Check, int] = {c: FAULT_BASE + i for i, c in enumerate(Check)}
NULL_REF = CHECK_CODES[Check.NULL_REF]
REF_BOUNDS = CHECK_CODES[Check.REF_BOUNDS]
FREED = CHECK_CODES[Check.FREED]
INDEX = CHECK_CODES[Check.INDEX]
STORE_RANGE = CHECK_CODES[Check.STORE_RANGE]
WORD_FIELD_RANGE = CHECK_CODES[Check.WORD_FIELD_RANGE]
DIVISOR = CHECK_CODES[Check.DIVISOR]
SHIFT_COUNT = CHECK_CODES[Check.SHIFT_COUNT]
DOUBLE_FREE = CHECK_CODES[Check.DOUBLE_FREE]
THREAD_SLOT = CHECK_CODES[Check.THREAD_SLOT]
ASSERTION = CHECK_CODES[Check.ASSERTION]
# The machine cannot decide exactly (a value would leave int64, a left shift
# by 62 or more): the state goes to the Python engine, which can.
ESCAPE = FAULT_BASE + len(Check)
PROP_BASE = 1 << 20  # a predicate's false property p returns PROP_BASE + p

# ---- control
END, REQ, JMP, JZ, JNZ, COPY, PROP, ESC = range(8)
# ---- values
CONST, MOV, LDS, LDD, LDDF, FIELD, NOT, NEG, BNOT, BOOL = range(10, 20)
ADD, SUB, MUL, ADDC, SUBC, MULC, AND, OR, XOR = range(20, 29)
EQ, NE, LT, LE, GT, GE, DIV, MOD, SHL, SHR = range(30, 40)
# with an immediate right operand: R[a] = R[b] op c
EQI, NEI, LTI, LEI, GTI, GEI, ADDI = range(60, 67)
# ---- locations and stores
CHKREF, CHKIDX, ADDMUL, CHKR, CHKRD, STS, STD, STDF, CSTORE, MULADD = range(40, 50)
# ---- heap, threads, covers, properties
ALLOC, FREE, START, COVER, ASSERT = range(50, 55)

SAFE = 1 << 62  # every register value v has |v| < SAFE
