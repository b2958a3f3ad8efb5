"""The audit log as the dashboard lists and exports it (newest first, keyset pages).

One function serves the page and the CSV export, so the export holds exactly the rows the
filter shows. `agent_id` limits the rows to one agent (None: an admin sees everyone's).
Rows are ordered by (timestamp, id) and found through the indexes on (timestamp, id) and
(agent_id, timestamp, id); a row without a timestamp (the column defaults to the insert
time, so none is written without one) has no place in that order and is left out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Agent, ApprovalLog, ContentPiece, Listing
from db.repositories._keyset import Cursor, before


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page shows: whose rows, which action, which time span [since, until)."""

    agent_id: uuid.UUID | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditRow(NamedTuple):
    """One decision on a draft (a named tuple: the CSV export makes 100,000 of them)."""

    log_id: uuid.UUID
    at: datetime
    action_type: str
    feedback: str | None
    from_status: str | None
    to_status: str | None
    version: int | None
    piece_id: uuid.UUID
    agent_id: uuid.UUID
    agent_name: str
    agent_email: str
    address: str
    city: str


async def audit_rows(
    session: AsyncSession, which: AuditFilter, *, after: Cursor | None, limit: int
) -> list[AuditRow]:
    """Up to `limit` rows matching the filter, newest first, after the cursor."""
    stmt = (
        select(
            ApprovalLog.id,
            ApprovalLog.timestamp,
            ApprovalLog.action_type,
            ApprovalLog.feedback,
            ApprovalLog.from_status,
            ApprovalLog.to_status,
            ApprovalLog.version,
            ApprovalLog.content_piece_id,
            Agent.id,
            Agent.name,
            Agent.email,
            Listing.address,
            Listing.city,
        )
        .select_from(ApprovalLog)
        .join(Agent, Agent.id == ApprovalLog.agent_id)
        .join(ContentPiece, ContentPiece.id == ApprovalLog.content_piece_id)
        .join(Listing, Listing.id == ContentPiece.listing_id)
        .where(ApprovalLog.timestamp.is_not(None))
    )
    if which.agent_id is not None:
        stmt = stmt.where(ApprovalLog.agent_id == which.agent_id)
    if which.action is not None:
        stmt = stmt.where(ApprovalLog.action_type == which.action)
    if which.since is not None:
        stmt = stmt.where(ApprovalLog.timestamp >= which.since)
    if which.until is not None:
        stmt = stmt.where(ApprovalLog.timestamp < which.until)
    if after is not None:
        stmt = stmt.where(before(ApprovalLog.timestamp, ApprovalLog.id, after))
    stmt = stmt.order_by(ApprovalLog.timestamp.desc(), ApprovalLog.id.desc()).limit(limit)
    # Core execution on the session's connection: these are plain rows, and the ORM's
    # result handling cost more than the query itself in the CSV export.
    result = await (await session.connection()).execute(stmt)
    make = AuditRow._make
    return [make(row) for row in result]
