"""A compiled search engine: a transition system as register bytecode, run by
one fixed numba interpreter (`machine`) inside a numba BFS kernel (`kernel`)
or DFS kernel (`dfs_kernel`), on N threads (`parallel`), or compiled to
machine code by LLVM (`llvm_emit`, `llvm_jit`) and run by the same BFS
kernel (`llvm_kernel`, `llvm_search`: `--engine jit`).

Only the searches and the jitted modules import numba or llvmlite, and the
command line imports them lazily (`tiered` imports none until it hands
over): a small search never pays for them.
"""
