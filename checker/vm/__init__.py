"""A compiled search engine: a transition system as register bytecode, run by
one fixed numba interpreter (`machine`) inside a numba BFS kernel (`kernel`).

Only `search` and `machine`/`kernel` import numba, and only `search` is
imported by the command line, lazily: the other engines never pay for it.
"""
