"""Which writer runs: the OpenAI writer with an API key, the built-in one without.

Kept out of writer.py (the interface both writers import) so the interface imports neither.
"""

from __future__ import annotations

from services.generation.writer import Writer


def build_writer(
    api_key: str | None,
    base_url: str | None,
    model: str,
    concurrency: int = 4,
    timeout_s: float = 60,
) -> Writer:
    """The OpenAI writer when an API key is configured, otherwise the built-in writer."""
    if not api_key or not api_key.strip():
        from services.generation.builtin_writer import BuiltinWriter

        return BuiltinWriter()
    from services.generation.openai_writer import OpenAIWriter

    return OpenAIWriter(
        api_key=api_key.strip(),
        base_url=base_url or None,
        model=model,
        concurrency=concurrency,
        timeout_s=timeout_s,
    )


async def close_writer(writer: Writer) -> None:
    """Release a writer's HTTP resources, if it holds any."""
    aclose = getattr(writer, "aclose", None)
    if aclose is not None:
        await aclose()
