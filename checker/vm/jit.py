"""numba, configured for the VM: imported by `machine` and the kernels before
they define their jitted functions.

numba's on-disk cache is keyed by the source file of each function alone:
a kernel's cached code has the interpreter (`machine`) and the opcode
numbers (`opcodes`) compiled into it, and would survive an edit of either.
So the cache lives in a directory named by a hash of those sources, the
tree store's and numba's version, under the user's cache directory (the
package directory may be read-only): an edit or an upgrade compiles
afresh, once.

numba's implementations of numpy (`numba.np.arraymath`, loaded with its
CPU target before the first call of any jitted function) probe for BLAS by
importing `scipy.linalg.cython_blas` when scipy is installed: scipy.linalg,
numpy.testing and numpy.f2py come with it, about 0.2 CPU s of every
process that runs the VM (`benchmarks/README.md`, "Start-up"). No kernel
here does linear algebra, so that module is loaded here with the BLAS
probe answered "absent" (numba's own path for a machine without scipy:
`np.dot` and friends then compile to plain loops); scipy itself stays
importable, and a process that had already imported scipy.linalg keeps its
BLAS.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numba

from checker.diskcache import cache_root

_SOURCES = ("opcodes.py", "machine.py", "kernel.py", "dfs_kernel.py", "parallel_kernel.py",
            "jit.py", "treestore.py", "pairs.py", "bitstate.py", "symmetry.py")


def cache_dir() -> Path:
    here = Path(__file__).resolve().parent
    h = hashlib.sha256(numba.__version__.encode())
    for name in _SOURCES:
        h.update((here / name).read_bytes())
    return cache_root() / h.hexdigest()[:16]


def _numpy_support_without_blas() -> None:
    """Import `numba.np.arraymath` with `scipy.linalg.cython_blas` hidden
    (a None entry in sys.modules makes its import fail, as if scipy were
    absent), unless something already imported it; the entry is removed
    afterwards, so a later `import scipy.linalg` works as usual."""
    blas = "scipy.linalg.cython_blas"
    if blas in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    sys.modules[blas] = None  # type: ignore[assignment]
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if sys.modules.get(blas, 0) is None:
            del sys.modules[blas]


# numba reads its cache directory from its config when a function is decorated.
numba.config.CACHE_DIR = str(cache_dir())  # type: ignore[attr-defined]
_numpy_support_without_blas()
njit = numba.njit
