"""migcheck's model library: the `.mig` modules of this directory.

Not Python: the build maps this directory onto the package `checker.models`
(setup.py), so that an installed migcheck finds the modules as package data
(`checker/dsl/library.py`). This directory stays the source of truth.
"""
