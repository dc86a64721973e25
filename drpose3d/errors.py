"""The package's exception types, in one place so that callers (the CLI above all) catch them
by kind rather than by the module that happened to raise them."""

from __future__ import annotations


class DataError(ValueError):
    """Input data that cannot be used; the message names the file, what was found and what was expected."""


class RunError(ValueError):
    """A run that cannot be resolved: a bad preset, seed count, device or run.json."""
