"""migcheck: a model checker for the concurrency protocols of Linux memory management."""

__version__ = "0.1.0"
