"""The breadth-first kernel over JIT-compiled code (`llvm_jit`).

The kernel is `kernel.search` itself, not a copy: its Python function is
compiled a second time by numba (`rebound`) with `expand` and `predicate`
bound to the two shims below instead of the interpreter's (the parallel
search's phases are rebound the same way, `llvm_parallel`), so it has the
same events, counters and arrays, and `search.py`'s Python side serves both. The shims
keep the interpreter's signatures; in this kernel the `code` argument is
not bytecode but the int64 pair of the compiled entry points
(`llvm_jit.JitCode.addrs`), which the shims call through an intrinsic. The
addresses are run-time arguments, never constants in the kernel's code, so
numba caches the kernel on disk once for every scenario.

That cached code has the shims compiled into it: it lives in a directory
keyed by this file's hash too (under `jit.cache_dir`), so an edit here
compiles afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FunctionType
from typing import Any

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba import types
from numba.extending import intrinsic

from checker.vm import kernel
from checker.vm.jit import cache_dir, njit

_I64 = ir.IntType(64)


def _data(context: Any, builder: Any, ty: Any, value: Any) -> Any:
    return context.make_array(ty)(context, builder, value).data


@intrinsic
def _call_expand(_typingctx: Any, addr: Any, state: Any, out: Any, out_act: Any, faults: Any,
                 pend: Any, counts: Any) -> Any:
    """`llvm_emit`'s migcheck_expand at `addr`, on the arrays' data."""
    sig = types.int64(addr, state, out, out_act, faults, pend, counts)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        ptrs = [_data(context, builder, t, v) for t, v in zip(sig.args[1:], args[1:], strict=True)]
        fnty = ir.FunctionType(_I64, [p.type for p in ptrs])
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        return builder.call(fn, ptrs)

    return sig, codegen


@intrinsic
def _call_predicate(_typingctx: Any, addr: Any, state: Any, pend: Any, entry: Any) -> Any:
    """`llvm_emit`'s migcheck_predicate at `addr`."""
    sig = types.int64(addr, state, pend, types.int64)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        ptrs = [_data(context, builder, t, v) for t, v in zip(sig.args[1:3], args[1:3],
                                                              strict=True)]
        which = context.cast(builder, args[3], sig.args[3], types.int64)
        fnty = ir.FunctionType(_I64, [p.type for p in ptrs] + [_I64])
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        return builder.call(fn, [*ptrs, which])

    return sig, codegen


def _own_cache() -> Path:
    h = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    return cache_dir() / f"llvm-kernel-{h}"


@contextmanager
def _own_cache_dir() -> Iterator[None]:
    """numba reads its cache directory when a function is decorated."""
    saved = numba.config.CACHE_DIR  # type: ignore[attr-defined]
    numba.config.CACHE_DIR = str(_own_cache())  # type: ignore[attr-defined]
    try:
        yield
    finally:
        numba.config.CACHE_DIR = saved  # type: ignore[attr-defined]


def _shim(fn: Any) -> Any:
    with _own_cache_dir():
        return njit(cache=True)(fn)


@_shim
def expand(code: np.ndarray, slots: np.ndarray, pcs: np.ndarray, pcact: np.ndarray,
           acts: np.ndarray, aux: np.ndarray, state: np.ndarray, out: np.ndarray,
           out_act: np.ndarray, faults: np.ndarray, bufs: np.ndarray, regs: np.ndarray,
           pend: np.ndarray) -> tuple[int, int]:
    """`machine.expand`'s signature; `code` holds the entry points and
    `regs[0]` receives the fault count."""
    k: int = _call_expand(  # type: ignore[call-arg]
        code[0], state, out, out_act, faults, pend, regs)
    return k, regs[0]


@_shim
def predicate(code: np.ndarray, slots: np.ndarray, aux: np.ndarray, entry: int,
              state: np.ndarray, bufs: np.ndarray, regs: np.ndarray,
              pend: np.ndarray) -> int:
    """`machine.predicate`'s signature; `code` holds the entry points."""
    return _call_predicate(code[1], state, pend, entry)  # type: ignore[call-arg]


def rebound(kernel_fn: Any, name: str, nogil: bool = False) -> Any:
    """The numba kernel `kernel_fn` compiled again with its `expand` and
    `predicate` bound to the shims above, cached under `name` in this
    file's own cache directory (`kernel_fn`'s module, read at decoration,
    still names the source whose edits invalidate it)."""
    py = kernel_fn.py_func
    fn = FunctionType(py.__code__, {**py.__globals__, "expand": expand, "predicate": predicate},
                      name, py.__defaults__, py.__closure__)
    fn.__qualname__ = name  # its own entry in numba's cache index
    fn.__doc__ = py.__doc__
    with _own_cache_dir():
        return njit(cache=True, nogil=nogil)(fn)


search = rebound(kernel.search, "llvm_search")
