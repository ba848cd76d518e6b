"""Bad-input errors of the benchmarks layer (each is one line for the user, exit 2)."""

from __future__ import annotations

from models.errors import DuelError


class UnknownSuiteError(DuelError):
    """A suite name that is neither built in nor imported."""


class SuiteDataError(DuelError):
    """A suite or import file that cannot be used: malformed line, missing column, bad label, no items."""


class RunNotFoundError(DuelError):
    """A run id (or `last`) that names no stored run."""
