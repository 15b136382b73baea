"""A compiled search engine: a transition system as register bytecode, run by
one fixed numba interpreter (`machine`) inside a numba BFS kernel (`kernel`),
or compiled to machine code by LLVM (`llvm_emit`, `llvm_jit`) and run by the
same kernel (`llvm_kernel`, `llvm_search`: `--engine jit`).

Only `search`, `machine`/`kernel` and the `llvm_*` modules import numba or
llvmlite, and the command line imports them lazily: the other engines never
pay for them.
"""
