"""`python -m tests.fakes.graph_api`: run the fake Graph API on 127.0.0.1 (benches)."""

from tests.fakes.graph_api.server import main

main()
