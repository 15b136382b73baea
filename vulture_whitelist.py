"""Names vulture cannot see used, each called by name from outside Python's
view. `make lint` runs vulture with this file (pyproject's [tool.vulture]);
add a name here only when something calls it by name, and say what."""

# ruff: noqa: B018
from vulture.whitelist_utils import Whitelist

from checker.dsl.parser import _Builder, _TypedefPostLexer
from checker.explore.codegen import Runtime
from checker.pytest_plugin import ScenarioItem, SpecErrorItem, SpecFile

by_name = Whitelist()  # any attribute read of it marks that name used

# lark's postlexer interface: the parser reads always_accept and calls process.
_TypedefPostLexer.always_accept
_TypedefPostLexer.process

# lark Transformer rule methods without @v_args (ignored through
# pyproject's ignore_decorators), and rule aliases bound to one method.
_Builder.initializer
_Builder.cover_args
_Builder.on_cpu
_Builder.pool_domain
_Builder.range_domain
_Builder.binop_eq
_Builder.binop_rel
_Builder.binop_shift
_Builder.binop_add
_Builder.binop_mul

# Called from the Python source that explore/codegen.py generates ("R.div(...)").
Runtime.deref_fault
Runtime.oob
Runtime.range_fault_at
Runtime.assert_fault
Runtime.div
Runtime.shl
Runtime.shr

# pytest hooks and the Item/Collector interface (checker/pytest_plugin.py).
by_name.pytest_addoption
by_name.pytest_collect_file
SpecFile.collect
SpecErrorItem.runtest
SpecErrorItem.reportinfo
ScenarioItem.runtest
ScenarioItem.reportinfo

# rich calls a RenderHook's process_renderables (checker/textsafe.py, from the
# security branch); a context manager's __exit__ takes *exc whether it reads
# it or not (tests/test_security.py).
by_name.process_renderables
by_name.exc

# tests: selenium reads the option's binary_location; pytest reads a module's
# pytestmark.
by_name.binary_location
by_name.pytestmark

# pytest collects tests by name: tests/test_fuzz.py builds its fuzz tests
# with hypothesis decorators applied as calls, bound to test_* names.
by_name.test_mutated_specs_never_crash
by_name.test_mutated_specs_never_crash_long
by_name.test_random_specs_never_crash
by_name.test_random_specs_never_crash_long

# numba reads its cache directory from numba.config (checker/vm/jit.py sets it).
by_name.CACHE_DIR

# numba's on-disk cache names a function's entry by its __qualname__
# (checker/vm/llvm_kernel.py: the rebound kernel gets its own).
by_name.__qualname__
