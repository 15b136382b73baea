"""A compiled search engine: a transition system as register bytecode, run by
one fixed numba interpreter (`machine`) inside a numba BFS kernel (`kernel`)
or DFS kernel (`dfs_kernel`).

Only the searches (`search`, `dfs`) and the jitted modules import numba,
and only the searches are imported by the command line, lazily: the other
engines never pay for it.
"""
