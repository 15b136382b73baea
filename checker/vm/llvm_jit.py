"""Compile a scenario's bytecode to machine code with llvmlite, in process.

`llvm_emit` writes the IR; LLVM optimises it (`PIPELINE`) and emits an object file
for this machine's CPU; MCJIT loads it and gives the addresses of its two
entry points, which the JIT kernel (`llvm_kernel`) calls. The object file
is cached on disk, keyed by a hash of the IR, the CPU and LLVM's version,
under the VM's cache root (`jit/<hash>.obj`, through `checker.diskcache`:
written whole, checked by a digest, bounded): a spec run again, or another
scenario with the same code, loads in milliseconds instead of paying LLVM's
optimiser again.

No C compiler is needed: llvmlite ships LLVM (numba depends on it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import llvmlite  # type: ignore[import-untyped]
import llvmlite.binding as llvm  # type: ignore[import-untyped]
import numpy as np

from checker.diskcache import FileCache, cache_root
from checker.vm.llvm_emit import EXPAND, PREDICATE, emit_module
from checker.vm.program import Program

# The passes that matter for this code: registers to SSA values (sroa) and
# one straight line per check (simplifycfg), then LLVM's fast instruction
# selection. Measured on frees_vs_two_compactors (1.85 M states, 17k
# instructions of bytecode): 1.1 to 1.3 CPU s of compile, against 5.2 to 5.9 s
# for the O2 pipeline with optimised code generation (3 s with optimised code
# generation alone), for a search of 1.2 s against O2's 1.0 s (an `expand`
# twice as slow, 170 against 86 ns a state): the state store and its hash
# table bound the search once the interpreter's dispatch is gone, so O2's
# better code only pays beyond about 30 M states.
PIPELINE = "sroa,simplifycfg;codegen-O0"


@dataclass(frozen=True)
class JitCode:
    """A loaded object's entry points; the engine keeps them mapped, so it
    must live as long as the addresses are used."""

    engine: llvm.ExecutionEngine
    addrs: np.ndarray  # int64 [2]: migcheck_expand, migcheck_predicate
    cached: bool  # loaded from the disk cache, not compiled
    obj: bytes  # the object file, kept alive for the engine, which may refer to it


def _target_machine() -> llvm.TargetMachine:
    llvm.initialize_native_target()  # idempotent; numba may have done it
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_triple(llvm.get_process_triple())
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                        features=llvm.get_host_cpu_features().flatten(),
                                        opt=0, jit=True)


def object_dir() -> Path:
    return cache_root() / "jit"


def _key(ir: str, tm: llvm.TargetMachine) -> str:
    h = hashlib.sha256()
    for part in (llvmlite.__version__, tm.triple, llvm.get_host_cpu_name(),
                 llvm.get_host_cpu_features().flatten(), PIPELINE, ir):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:32]


def _optimised_object(ir: str, tm: llvm.TargetMachine) -> bytes:
    mod = llvm.parse_assembly(ir)
    mod.verify()
    pb = llvm.create_pass_builder(tm, llvm.create_pipeline_tuning_options(speed_level=2))
    fpm = llvm.create_new_function_pass_manager()
    fpm.add_sroa_pass()
    fpm.add_simplify_cfg_pass()
    for fn in mod.functions:
        if not fn.is_declaration:
            fpm.run(fn, pb)
    return bytes(tm.emit_object(mod))


# ~360 KB an object on average: a few hundred scenarios.
OBJECTS_LIMIT = 256 << 20
_OBJECTS = FileCache(lambda: object_dir(), OBJECTS_LIMIT, ".obj")


# Loaded code by key: a scenario compiled twice in one process (tests, the
# benchmark) loads once, and the engines stay alive with their addresses.
_LOADED: dict[str, JitCode] = {}


def compile_ir(ir: str) -> JitCode:
    """Machine code for `ir`, loaded once per process (`load_ir`)."""
    tm = _target_machine()
    key = _key(ir, tm)
    if key not in _LOADED:
        _LOADED[key] = load_ir(ir)
    return _LOADED[key]


def load_ir(ir: str) -> JitCode:
    """Machine code for `ir` from the disk cache, or compiled and cached."""
    tm = _target_machine()
    key = _key(ir, tm)
    got = _OBJECTS.get(key)
    cached = got is not None
    obj = got if got is not None else _optimised_object(ir, tm)
    if not cached:
        _OBJECTS.put(key, obj)
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), tm)
    engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    addrs = np.array([engine.get_function_address(EXPAND),
                      engine.get_function_address(PREDICATE)], dtype=np.int64)
    if not addrs.all():
        raise RuntimeError(f"JIT object {key}: an entry point is missing")
    return JitCode(engine, addrs, cached, obj)


def ir_of(prog: Program) -> str:
    """`prog`'s IR for this machine's target."""
    tm = _target_machine()
    return emit_module(prog, tm.triple, str(tm.target_data))


def is_cached(prog: Program) -> bool:
    """Whether `prog`'s object code is in the disk cache (its IR emitted to
    know: milliseconds), so that the JIT costs a load, not a compile."""
    return _OBJECTS.has(_key(ir_of(prog), _target_machine()))


def compile_program_code(prog: Program) -> JitCode:
    return compile_ir(ir_of(prog))
