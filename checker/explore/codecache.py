"""The generated code of a scenario, compiled once per machine: Python's
`compile` of a spec scenario's 7,000-12,000 generated lines takes 0.1-0.2
CPU s (`specs/zsmalloc/migration.mig`), paid by every command that runs
the scenario, and twice by `doc` and `diff` (the check and the lock search);
its code object, marshalled, loads in about 5 ms. Small sources (random
programs, tiny specs) compile faster than a cache round trip and are not
stored. The store and its guarantees: `checker.diskcache`.
"""

from __future__ import annotations

import importlib.util
import marshal
import sys
import zlib
from pathlib import Path
from types import CodeType

from checker.diskcache import FileCache, cache_root, key_of

# Characters of source from which a compile (about 5 M characters a CPU
# second) costs more than a load from the cache.
CACHE_FROM = 32_768
LIMIT = 256 << 20


def code_dir() -> Path:
    return cache_root() / "py"


_STORE = FileCache(lambda: code_dir(), LIMIT, ".code")


def compiled(source: str, name: str) -> CodeType:
    """`compile(source, name, "exec")`, from the cache when it holds it.
    Raises what `compile` raises."""
    if len(source) < CACHE_FROM:
        return compile(source, name, "exec")
    # The bytecode's format, and whether asserts are compiled (-O), decide
    # the code object as much as the source does.
    key = key_of(importlib.util.MAGIC_NUMBER, sys.implementation.cache_tag,
                 str(sys.flags.optimize), name, source)
    got = _STORE.get(key)
    if got is not None:
        try:
            code = marshal.loads(zlib.decompress(got))
        except (ValueError, EOFError, TypeError, zlib.error):
            code = None
        if isinstance(code, CodeType):
            return code
    code = compile(source, name, "exec")
    try:
        blob = zlib.compress(marshal.dumps(code), 1)
    except ValueError:  # not marshallable: compiled each time
        return code
    _STORE.put(key, blob)
    return code
