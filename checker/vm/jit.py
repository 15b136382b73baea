"""numba, configured for the VM: imported by `machine` and the kernels before
they define their jitted functions.

numba's on-disk cache is keyed by the source file of each function alone:
a kernel's cached code has the interpreter (`machine`) and the opcode
numbers (`opcodes`) compiled into it, and would survive an edit of either.
So the cache lives in a directory named by a hash of those sources, the
tree store's and numba's version, under the user's cache directory (the
package directory may be read-only): an edit or an upgrade compiles
afresh, once.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba

_SOURCES = ("opcodes.py", "machine.py", "kernel.py", "dfs_kernel.py", "parallel_kernel.py",
            "jit.py", "treestore.py", "pairs.py", "bitstate.py", "symmetry.py")


def cache_dir() -> Path:
    here = Path(__file__).resolve().parent
    h = hashlib.sha256(numba.__version__.encode())
    for name in _SOURCES:
        h.update((here / name).read_bytes())
    base = os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") \
        or str(Path.home() / ".cache")
    return Path(base) / "migcheck-vm" / h.hexdigest()[:16]


# numba reads its cache directory from its config when a function is decorated.
numba.config.CACHE_DIR = str(cache_dir())  # type: ignore[attr-defined]
njit = numba.njit
