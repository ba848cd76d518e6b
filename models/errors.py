"""Errors that mean "the user gave us something we cannot use".

The CLI turns a `DuelError` into one line on stderr and exit code 2; anything else is a bug
(exit 1 with a hint to rerun with --debug). Every layer may raise it, so it lives at the bottom.
"""

from __future__ import annotations


class DuelError(Exception):
    """Bad input or an unusable environment, explained in one line for the user."""

    exit_code = 2


class ModelNotFoundError(DuelError):
    """A model reference that names no known model or file."""


class BadModelFileError(DuelError):
    """A file that is missing, not GGUF, or truncated."""


class BundledModelError(DuelError):
    """A bundled weight part is missing or has the wrong hash."""


class InsufficientMemoryError(DuelError):
    """The model would not fit in free memory (override with --force)."""
