"""The symbolic engines (`migcheck prove`, `check --engine`): BMC, k-induction,
Houdini and Spacer over a z3 encoding of the IR."""
