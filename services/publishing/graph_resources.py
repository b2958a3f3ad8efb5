"""The process-wide Graph set-up: one HTTP session, client, publisher and reconciler."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import aiohttp

from services.outbound import OutboundClient
from services.publishing.graph_client import GraphClient
from services.publishing.orphans import Reconciler
from services.publishing.platform_dispatch import GraphPublisher


@dataclass
class GraphResources:
    """One HTTP session, Graph client and publisher for the whole process.

    `images` is the guarded session that fetches photos for the pre-flight checks.
    """

    session: aiohttp.ClientSession
    client: GraphClient
    publisher: GraphPublisher
    images: OutboundClient
    reconciler: Reconciler

    @classmethod
    def open(
        cls,
        base_url: str,
        *,
        listings_base_url: str | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 3,
        backoff_base_s: float = 1.0,
        max_backoff_s: float = 30.0,
        poll_interval_s: float = 1.0,
        poll_timeout_s: float = 60.0,
        check_quota: bool = True,
        visible_call_margin: timedelta | None = None,
    ) -> GraphResources:
        """Create them (call from a running event loop); close with `aclose`.

        `listings_base_url` is the builder's site: its photos pass the pre-flight guard
        even when it runs on a private address.
        """
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
        images = OutboundClient(listings_base_url)
        client = GraphClient(
            session,
            base_url,
            timeout_s=timeout_s,
            max_retries=max_retries,
            backoff_base_s=backoff_base_s,
            max_backoff_s=max_backoff_s,
        )
        publisher = GraphPublisher(
            client,
            images,
            check_quota=check_quota,
            poll_interval_s=poll_interval_s,
            poll_timeout_s=poll_timeout_s,
        )
        reconciler = Reconciler(
            client, poll_interval_s=poll_interval_s, poll_timeout_s=poll_timeout_s
        )
        if visible_call_margin is not None:
            reconciler.margin = visible_call_margin
        return cls(session, client, publisher, images, reconciler)

    async def aclose(self) -> None:
        """Close the HTTP sessions."""
        await self.session.close()
        await self.images.close()
