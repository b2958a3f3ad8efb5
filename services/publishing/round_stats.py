"""What one publish round did (`PublishRound`), and how many posts a round runs side by side."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_CONCURRENCY = 32


@dataclass
class PublishRound:
    """What one round of the publish job did."""

    paused: bool = False
    claimed: int = 0
    succeeded: int = 0
    failed: int = 0
    retried: int = 0
    deactivated: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    orphans: int = 0
    reconciled_published: int = 0
    reconciled_retried: int = 0
    reconciled_waiting: int = 0
