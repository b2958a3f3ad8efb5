"""The one result type every check returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

WarningKind = Literal["facts", "fair_housing", "disclosure", "limits"]


@dataclass(frozen=True, slots=True)
class CheckWarning:
    """Something the agent should see next to the draft.

    `phrase` is the exact text the warning is about (when there is one) and `suggestion` a
    replacement or next step.
    """

    kind: WarningKind
    message: str
    phrase: str | None = None
    suggestion: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready form, for storing next to a draft."""
        return asdict(self)
