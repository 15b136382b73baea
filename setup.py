"""The one thing pyproject.toml cannot say: the model library, the top-level
`models/` directory, is installed as the package `checker.models`, so that
`import "spinlock";` finds it as package data from any directory, in a plain
`pip install .` as in `pip install -e .`. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["checker", "checker.*"]), "checker.models"],
    package_dir={"checker.models": "models"},
)
