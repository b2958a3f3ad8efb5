"""A fake Meta Graph API on 127.0.0.1, faithful to specs/EXTERNAL_APIS.md §2-§3.

The package: records (state), graph_faults (errors), request_params, one mixin of
`FakeGraphApi` per kind of Graph endpoint (tokens, node_reads, pages, ig_containers,
recent_reads, insights, images), server.py (the server itself), and facebook_login.py
(the Facebook Login dialog, mounted on the server).

Use it in tests::

    async with FakeGraphApi() as fake:
        fake.add_page("104857392018374", "EAAGpage...", "Sunny Homes")
        client = GraphClient(session, fake.base_url)

What it speaks: any `/vNN.N/` prefix or none; `access_token` as a query/form/JSON parameter or
an `Authorization: Bearer` header; Page photos/feed/permalinks; Instagram containers with a
status progression, carousels, `media_publish` with the rolling quota, `content_publishing_limit`;
`debug_token`; error bodies `{"error": {message, type, code, error_subcode, fbtrace_id, ...}}`.

What it adds for tests: per-call latency, failure injection (`fail_next`), a record of every
call (`calls`), the posts that became visible (`posts`), and test images served from its own
`/images/<name>` so pre-flight code can fetch them. Container-creation checks image URLs that
point at itself (missing → 9004, not JPEG → 36001, > 8 MiB → 36000, bad ratio → 36003).

Run standalone (for benches with several processes)::

    python -m tests.fakes.graph_api --port 8765 --latency 0.1

and drive it with `POST /__fake__/pages`, `POST /__fake__/ig_users`, `GET /__fake__/state`.
"""

from tests.fakes.graph_api.graph_faults import GraphFault, graph_error_body
from tests.fakes.graph_api.records import (
    DAY_S,
    ContainerPlan,
    Failure,
    FakeCall,
    FakeContainer,
    FakeIgUser,
    FakeImage,
    FakePage,
    FakePhoto,
    FakePost,
    FakeToken,
)
from tests.fakes.graph_api.server import FakeGraphApi, main

__all__ = [
    "DAY_S",
    "ContainerPlan",
    "Failure",
    "FakeCall",
    "FakeContainer",
    "FakeGraphApi",
    "FakeIgUser",
    "FakeImage",
    "FakePage",
    "FakePhoto",
    "FakePost",
    "FakeToken",
    "GraphFault",
    "graph_error_body",
    "main",
]
