"""The OpenAI writer: Chat Completions with strict structured outputs.

Transport failures (429, 5xx, timeouts, connection errors) are retried by the SDK, which honours
`retry-after`. A response that arrives but is unusable (a refusal, output cut off by the token
limit, a content filter stop, JSON that does not validate) is asked for once more, then reported
as a retryable failure so the listing is picked up on the next pass.
"""

from __future__ import annotations

import asyncio
import logging

import openai
import pydantic
from openai import AsyncOpenAI

from services.generation.content import CONTENT_MODELS
from services.generation.prompts import SYSTEM_PROMPT, user_prompt
from services.generation.writer import GenerationFailed, WriteRequest, WriteResult

log = logging.getLogger(__name__)

# A post is ~400-700 output tokens; the cap stops a runaway answer from costing more.
MAX_COMPLETION_TOKENS = 1_500
_UNUSABLE_ATTEMPTS = 2


class OpenAIWriter:
    """Writes drafts with an OpenAI (or compatible) model; at most `concurrency` at a time."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None,
        model: str,
        concurrency: int = 4,
        timeout_s: float = 60,
        max_retries: int = 2,
        client: AsyncOpenAI | None = None,
    ) -> None:
        self.model = model
        self.name = f"openai:{model}"
        self._client = client or AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout_s, max_retries=max_retries
        )
        self._slots = asyncio.Semaphore(max(1, concurrency))

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.close()

    async def write(self, req: WriteRequest) -> WriteResult:
        """One draft; raises GenerationFailed with a sentence an admin can act on."""
        model_cls = CONTENT_MODELS[req.kind]
        messages: list[dict[str, str]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_prompt(req)},
        ]
        tokens = 0
        problem = "no answer"
        async with self._slots:
            for attempt in range(1, _UNUSABLE_ATTEMPTS + 1):
                try:
                    completion = await self._client.chat.completions.parse(
                        model=self.model,
                        messages=messages,  # type: ignore[arg-type]
                        response_format=model_cls,
                        max_completion_tokens=MAX_COMPLETION_TOKENS,
                    )
                except openai.LengthFinishReasonError as exc:
                    tokens += _usage(exc.completion)
                    problem = "the answer was cut off by the token limit"
                except openai.ContentFilterFinishReasonError as exc:
                    tokens += _usage(exc.completion)
                    problem = "the answer was stopped by the content filter"
                except pydantic.ValidationError:
                    problem = "the answer was not valid JSON for the draft schema"
                except openai.APIError as exc:
                    raise _translate(exc, self.model) from exc
                else:
                    tokens += _usage(completion)
                    message = completion.choices[0].message
                    if message.parsed is not None:
                        return WriteResult(
                            content=message.parsed.model_dump(mode="json"),
                            writer=self.name,
                            usage_tokens=tokens,
                            note=None,
                        )
                    problem = (
                        f"the model refused ({message.refusal.strip()})"
                        if message.refusal
                        else "the answer was empty"
                    )
                log.warning(
                    "openai draft attempt %d/%d for %s unusable: %s",
                    attempt,
                    _UNUSABLE_ATTEMPTS,
                    req.facts.source_id,
                    problem,
                )
        raise GenerationFailed(
            f"OpenAI did not return a usable draft ({problem}); it will be tried again on the "
            "next pass.",
            retryable=True,
        )


def _usage(completion: object) -> int:
    usage = getattr(completion, "usage", None)
    total = getattr(usage, "total_tokens", None)
    return int(total) if isinstance(total, int) else 0


def _translate(exc: openai.APIError, model: str) -> GenerationFailed:
    """The SDK's error as our own, with a plain sentence for the admin."""
    code = getattr(exc, "code", None)
    if isinstance(exc, openai.AuthenticationError):
        return GenerationFailed(
            "OpenAI rejected the API key; set a valid OPENAI_API_KEY (or remove it to use the "
            "built-in writer).",
            retryable=False,
        )
    if isinstance(exc, openai.RateLimitError) and code == "insufficient_quota":
        return GenerationFailed(
            "The OpenAI account is out of credit; add billing credit on platform.openai.com or "
            "remove OPENAI_API_KEY to use the built-in writer.",
            retryable=False,
        )
    if isinstance(exc, openai.PermissionDeniedError):
        return GenerationFailed(
            "OpenAI refused access for this key (project permissions or region); check the key's "
            "permissions on platform.openai.com.",
            retryable=False,
        )
    if isinstance(exc, openai.NotFoundError):
        return GenerationFailed(
            f"The OpenAI model '{model}' is not available to this key; set OPENAI_MODEL to a "
            "model the account can use.",
            retryable=False,
        )
    if isinstance(exc, openai.RateLimitError):
        return GenerationFailed(
            "OpenAI is rate-limiting requests; drafts will be retried on the next pass.",
            retryable=True,
        )
    if isinstance(exc, (openai.APIConnectionError, openai.InternalServerError)):
        return GenerationFailed(
            "OpenAI could not be reached or had a server error; drafts will be retried on the "
            "next pass.",
            retryable=True,
        )
    if isinstance(exc, openai.APIStatusError) and (
        exc.status_code in (408, 409) or exc.status_code >= 500
    ):
        return GenerationFailed(
            "OpenAI had a temporary problem; drafts will be retried on the next pass.",
            retryable=True,
        )
    return GenerationFailed(
        f"OpenAI refused the request ({exc.message}); check OPENAI_MODEL and OPENAI_BASE_URL.",
        retryable=False,
    )
