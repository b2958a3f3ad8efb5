"""Checks every draft passes before the agent sees it: facts, fair housing, disclosure, limits."""

from services.generation.checks.warning import CheckWarning, WarningKind

__all__ = ["CheckWarning", "WarningKind"]
