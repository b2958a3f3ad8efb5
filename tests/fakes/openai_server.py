"""A local fake of the OpenAI API (Chat Completions and Responses) for the real `openai` client.

Wire format as in shared/specs/EXTERNAL_APIS.md §4: JSON bodies, `Authorization: Bearer`,
`chat.completion` objects whose structured output is a JSON *string* in `message.content`,
`response` objects with `output[].content[].text`, errors as
`{"error": {"message", "type", "param", "code"}}` with the matching HTTP status, `retry-after`
on 429. A strict `json_schema` that breaks the strict rules is refused with 400, like the API.

Each request takes the next scripted behaviour (or the default, "good"):

    async with FakeOpenAI(latency_s=0.3) as fake:
        fake.script("rate_limit", "good")
        client = AsyncOpenAI(api_key="sk-test", base_url=fake.base_url)

A good draft is built from the facts in the prompt (the JSON after "LISTING FACTS (JSON):").
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

FACTS_MARKER = "LISTING FACTS (JSON):"
AGENT_MARKER = "AGENT (JSON):"
DISCLOSURE_PREFIX = "Disclosure line (include it exactly):"

KINDS = (
    "good",
    "wrong_facts",
    "flagged_phrase",
    "no_disclosure",
    "too_many_hashtags",
    "refusal",
    "length",
    "content_filter",
    "malformed_json",
    "schema_mismatch",
    "rate_limit",
    "insufficient_quota",
    "server_error",
    "overloaded",
    "auth_error",
    "permission_denied",
    "model_not_found",
)

_ERRORS: dict[str, tuple[int, str, str, str | None]] = {
    "rate_limit": (
        429,
        "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): "
        "Limit 3, Used 3, Requested 1. Please try again in 1s.",
        "requests",
        "rate_limit_exceeded",
    ),
    "insufficient_quota": (
        429,
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
        "insufficient_quota",
    ),
    "server_error": (
        500,
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    "overloaded": (
        503,
        "The engine is currently overloaded, please try again later.",
        "server_error",
        None,
    ),
    "auth_error": (
        401,
        "Incorrect API key provided: sk-test. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    "permission_denied": (
        403,
        "Country, region, or territory not supported",
        "request_forbidden",
        "unsupported_country_region_territory",
    ),
    "model_not_found": (
        404,
        "The model `gpt-fake` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
}


@dataclass
class Behaviour:
    """What the fake does with one request."""

    kind: str = "good"
    latency_s: float | None = None
    # For 429s: seconds to wait. Sent as `retry-after` (whole seconds, as the API does) and, when
    # below a second, also as `retry-after-ms` so tests stay fast.
    retry_after_s: float | None = 0.05
    phrase: str = "Perfect for young families, with a master bedroom retreat."

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fake behaviour {self.kind!r}; one of {KINDS}")


@dataclass
class RecordedRequest:
    """One request as the fake received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    behaviour: str
    started: float
    finished: float = 0.0
    usage_total: int = 0
    answer: str | None = None

    @property
    def retry_count(self) -> int:
        """The SDK's `x-stainless-retry-count` header (0 on a first attempt)."""
        return int(self.headers.get("x-stainless-retry-count", "0"))

    @property
    def user_prompt(self) -> str:
        """The user message (chat) or input text (responses)."""
        return _user_text(self.body)

    @property
    def system_prompt(self) -> str:
        """The system message (chat) or instructions (responses)."""
        if "messages" in self.body:
            return "\n".join(
                str(m.get("content", ""))
                for m in self.body["messages"]
                if m.get("role") in ("system", "developer")
            )
        return str(self.body.get("instructions") or "")

    @property
    def schema(self) -> dict[str, Any] | None:
        """The json_schema block the client sent (name, strict, schema)."""
        fmt = self.body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
            return dict(fmt.get("json_schema") or {})
        text = self.body.get("text")
        if isinstance(text, dict) and isinstance(text.get("format"), dict):
            return dict(text["format"])
        return None


@dataclass
class FakeOpenAI:
    """The fake server. Use as an async context manager; `base_url` ends with /v1."""

    latency_s: float = 0.0
    default: str = "good"
    host: str = "127.0.0.1"
    requests: list[RecordedRequest] = field(default_factory=list)
    max_in_flight: int = 0
    _queue: deque[Behaviour] = field(default_factory=deque)
    _in_flight: int = 0
    _runner: web.AppRunner | None = None
    base_url: str = ""

    def script(self, *behaviours: str | Behaviour) -> None:
        """Queue behaviours for the next requests, in order."""
        for b in behaviours:
            self._queue.append(b if isinstance(b, Behaviour) else Behaviour(kind=b))

    def reset(self) -> None:
        """Forget recorded requests and queued behaviours."""
        self.requests.clear()
        self._queue.clear()
        self.max_in_flight = 0

    async def start(self) -> str:
        """Listen on a free port on 127.0.0.1; returns the base URL (with /v1)."""
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/responses", self._responses)
        app.router.add_get("/_fake/stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = getattr(site, "_server", None)
        port = server.sockets[0].getsockname()[1] if server is not None else 0
        self.base_url = f"http://{self.host}:{port}/v1"
        return self.base_url

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- handlers ---------------------------------------------------------------------------

    async def _stats(self, request: web.Request) -> web.Response:
        """Counters for a fake running in another process (benchmarks)."""
        return web.json_response(
            {
                "requests": len(self.requests),
                "max_in_flight": self.max_in_flight,
                "usage_total": sum(r.usage_total for r in self.requests),
            }
        )

    async def _begin(
        self, request: web.Request
    ) -> tuple[RecordedRequest, Behaviour] | web.Response:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _error(
                400,
                "We could not parse the JSON body of your request.",
                "invalid_request_error",
                None,
                None,
            )
        behaviour = self._queue.popleft() if self._queue else Behaviour(kind=self.default)
        record = RecordedRequest(
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            behaviour=behaviour.kind,
            started=time.monotonic(),
        )
        self.requests.append(record)
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return _error(
                401, "You didn't provide an API key.", "invalid_request_error", None, None
            )
        if "model" not in body:
            return _error(
                400, "you must provide a model parameter", "invalid_request_error", None, None
            )
        schema = record.schema
        if schema is not None and schema.get("strict"):
            problem = _strict_problem(schema.get("schema") or {})
            if problem:
                return _error(
                    400,
                    f"Invalid schema for response_format '{schema.get('name')}': {problem}",
                    "invalid_request_error",
                    "response_format",
                    None,
                )
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            delay = behaviour.latency_s if behaviour.latency_s is not None else self.latency_s
            if delay > 0:
                await asyncio.sleep(delay)
        finally:
            self._in_flight -= 1
        record.finished = time.monotonic()
        return record, behaviour

    async def _chat(self, request: web.Request) -> web.Response:
        started = await self._begin(request)
        if isinstance(started, web.Response):
            return started
        record, behaviour = started
        if behaviour.kind in _ERRORS:
            return _error_for(behaviour)
        body = record.body
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            return _error(
                400, "'messages' is a required property", "invalid_request_error", "messages", None
            )
        content, refusal, finish = _answer(record, behaviour)
        prompt_tokens = _tokens(json.dumps(body["messages"]))
        completion_tokens = _tokens(content or refusal or "")
        record.usage_total = prompt_tokens + completion_tokens
        record.answer = content
        return web.json_response(
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": content,
                            "refusal": refusal,
                            "annotations": [],
                        },
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
                },
                "service_tier": "default",
                "system_fingerprint": "fp_fake",
            },
            headers=_ok_headers(),
        )

    async def _responses(self, request: web.Request) -> web.Response:
        started = await self._begin(request)
        if isinstance(started, web.Response):
            return started
        record, behaviour = started
        if behaviour.kind in _ERRORS:
            return _error_for(behaviour)
        body = record.body
        if "input" not in body:
            return _error(
                400,
                "Missing required parameter: 'input'.",
                "invalid_request_error",
                "input",
                "missing_required_parameter",
            )
        content, refusal, finish = _answer(record, behaviour)
        part: dict[str, Any]
        if refusal is not None:
            part = {"type": "refusal", "refusal": refusal}
        else:
            part = {"type": "output_text", "text": content or "", "annotations": [], "logprobs": []}
        incomplete = finish in ("length", "content_filter")
        input_tokens = _tokens(json.dumps(body.get("input")) + str(body.get("instructions") or ""))
        output_tokens = _tokens(content or refusal or "")
        record.usage_total = input_tokens + output_tokens
        record.answer = content
        return web.json_response(
            {
                "id": f"resp_{uuid.uuid4().hex[:24]}",
                "object": "response",
                "created_at": int(time.time()),
                "status": "incomplete" if incomplete else "completed",
                "model": body["model"],
                "output": [
                    {
                        "type": "message",
                        "id": f"msg_{uuid.uuid4().hex[:24]}",
                        "status": "incomplete" if incomplete else "completed",
                        "role": "assistant",
                        "content": [part],
                    }
                ],
                "error": None,
                "incomplete_details": (
                    {"reason": "max_output_tokens" if finish == "length" else "content_filter"}
                    if incomplete
                    else None
                ),
                "instructions": body.get("instructions"),
                "metadata": {},
                "parallel_tool_calls": True,
                "temperature": 1.0,
                "top_p": 1.0,
                "tool_choice": "auto",
                "tools": [],
                "text": body.get("text") or {"format": {"type": "text"}},
                "usage": {
                    "input_tokens": input_tokens,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens": output_tokens,
                    "output_tokens_details": {"reasoning_tokens": 0},
                    "total_tokens": input_tokens + output_tokens,
                },
            },
            headers=_ok_headers(),
        )


# --- building answers --------------------------------------------------------------------------


def _answer(record: RecordedRequest, behaviour: Behaviour) -> tuple[str | None, str | None, str]:
    """(content, refusal, finish_reason) for a request that is not an HTTP error."""
    if behaviour.kind == "refusal":
        return None, "I'm sorry, but I can't help with that request.", "stop"
    schema = record.schema or {}
    draft = build_draft(record.user_prompt, str(schema.get("name") or ""), schema.get("schema"))
    if behaviour.kind == "wrong_facts":
        draft = _wrong_facts(draft, _facts_from(record.user_prompt))
    elif behaviour.kind == "flagged_phrase":
        draft = {
            k: (f"{v} {behaviour.phrase}" if k in _TEXT_KEYS and isinstance(v, str) else v)
            for k, v in draft.items()
        }
    elif behaviour.kind == "no_disclosure":
        line = _disclosure_from(record.user_prompt)
        draft = {
            k: (v.replace(line, "").strip() if isinstance(v, str) and line else v)
            for k, v in draft.items()
        }
    elif behaviour.kind == "too_many_hashtags" and "instagram_text" in draft:
        tags = [f"#Tag{i}" for i in range(40)]
        draft["hashtags"] = tags
        draft["instagram_text"] += "\n\n" + " ".join(tags) + "\n\n" + ("Lovely home. " * 200)
    elif behaviour.kind == "schema_mismatch":
        draft = {"title": "Not the schema you asked for"}
    text = json.dumps(draft, ensure_ascii=False)
    if behaviour.kind == "malformed_json":
        return text[: len(text) // 2], None, "stop"
    if behaviour.kind == "length":
        return text[: len(text) // 3], None, "length"
    if behaviour.kind == "content_filter":
        return text[: len(text) // 4], None, "content_filter"
    return text, None, "stop"


_TEXT_KEYS = ("body", "facebook_text", "instagram_text", "description")


def _user_text(body: dict[str, Any]) -> str:
    if "messages" in body:
        return "\n".join(
            _content_text(m.get("content")) for m in body["messages"] if m.get("role") == "user"
        )
    raw = body.get("input")
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list):
        return "\n".join(
            _content_text(m.get("content"))
            for m in raw
            if isinstance(m, dict) and m.get("role", "user") == "user"
        )
    return ""


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _json_after(prompt: str, marker: str) -> dict[str, Any]:
    at = prompt.find(marker)
    if at < 0:
        return {}
    rest = prompt[at + len(marker) :].lstrip()
    try:
        value, _ = json.JSONDecoder().raw_decode(rest)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _facts_from(prompt: str) -> dict[str, Any]:
    return _json_after(prompt, FACTS_MARKER)


def _disclosure_from(prompt: str) -> str:
    for line in prompt.splitlines():
        if line.startswith(DISCLOSURE_PREFIX):
            return line[len(DISCLOSURE_PREFIX) :].strip()
    return ""


def build_draft(prompt: str, name: str, schema: Any) -> dict[str, Any]:
    """What a well-behaved model would answer: facts from the prompt, every schema field."""
    facts = _facts_from(prompt)
    agent = _json_after(prompt, AGENT_MARKER)
    disclosure = _disclosure_from(prompt) or "Equal Housing Opportunity"
    city = facts.get("city") or "town"
    where = f"{facts['community']}, {city}" if facts.get("community") else city
    price = facts.get("price_display")
    prev = facts.get("previous_price_display")
    numbers = []
    if facts.get("beds") is not None:
        numbers.append(f"{facts['beds']} bedrooms")
    if facts.get("baths") is not None:
        numbers.append(f"{facts['baths']} baths")
    if facts.get("sqft_display"):
        numbers.append(f"{facts['sqft_display']} sq ft")
    stats = ", ".join(numbers)
    features = ", ".join(str(f).lower() for f in (facts.get("key_features") or [])[:3])
    lead = f"New construction in {where}: {facts.get('address', 'this home')}."
    first_tag = "#JustListed"
    task = prompt.split("\n", 1)[0].lower()
    if "price improvement" in prompt.lower() and price:
        lead = f"Price improvement in {where}! Now {price}" + (f", was {prev}." if prev else ".")
    # The lifecycle tasks, followed as a model would (a `just sold` post names no price).
    elif '"now selling"' in task:
        lead = f"Now selling in {where}: {facts.get('address')} is for sale."
        first_tag = "#NowSelling"
    elif '"just sold"' in task:
        lead, first_tag, price = f"Just sold in {where}: {facts.get('address')}.", "#JustSold", None
    elif '"back on the market"' in task:
        lead = f"Back on the market in {where}: {facts.get('address')}."
        first_tag = "#BackOnTheMarket"
    body = " ".join(
        s
        for s in (
            lead,
            f"It offers {stats}." if stats else "",
            f"Priced at {price}." if price and "Price improvement" not in lead else "",
            f"Highlights: {features}." if features else "",
        )
        if s
    )
    contact = agent.get("phone") or agent.get("email") or ""
    cta = f"Contact {agent.get('name', 'me')} at {contact} to schedule a tour."
    if first_tag == "#JustSold":
        cta = f"Thinking of selling? Contact {agent.get('name', 'me')} at {contact}."
    tags = ["#NewHomes", f"#{re.sub(r'[^A-Za-z0-9]', '', str(city))}RealEstate", first_tag]
    url = facts.get("source_url")
    if name == "FlyerText":
        draft: dict[str, Any] = {
            "headline": f"New Home in {where}",
            "subheadline": f"{facts.get('address')}, {city}" + (f" · {price}" if price else ""),
            "bullets": numbers + [str(f) for f in (facts.get("key_features") or [])[:4]],
            "description": body,
            "call_to_action": cta,
            "agent_contact": f"{agent.get('name', '')}\n{contact}\n{disclosure}",
        }
    else:
        fb = f"{lead}\n\n{body}\n\n{cta}" + (
            f"\nSee all the photos and details: {url}" if url else ""
        )
        fb += f"\n\n{disclosure}\n\n{' '.join(tags)}"
        ig = f"🏡 {lead}\n\n" + "\n".join(numbers) + (f"\n💰 {price}" if price else "")
        ig += f"\n\n📲 Link in bio. {cta}\n\n{disclosure}\n\n{' '.join(tags)}"
        draft = {
            "headline": f"New Home in {where}",
            "body": body,
            "hashtags": tags,
            "call_to_action": cta,
            "facebook_text": fb,
            "instagram_text": ig,
        }
    properties = (schema or {}).get("properties") if isinstance(schema, dict) else None
    if isinstance(properties, dict) and properties:
        draft = {key: draft.get(key, _placeholder(spec)) for key, spec in properties.items()}
    return draft


def _placeholder(spec: Any) -> Any:
    kind = spec.get("type") if isinstance(spec, dict) else None
    if kind == "array":
        return ["item"]
    if kind in ("integer", "number"):
        return 0
    if kind == "boolean":
        return False
    return "text"


def _wrong_facts(draft: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """The draft with one more bedroom and a price $10,000 higher than the listing."""
    out = dict(draft)
    beds, price = facts.get("beds"), facts.get("price")
    for key, value in draft.items():
        if not isinstance(value, str):
            continue
        if beds is not None:
            value = re.sub(rf"\b{beds} bedrooms\b", f"{beds + 1} bedrooms", value)
        if price is not None and facts.get("price_display"):
            value = value.replace(str(facts["price_display"]), f"${int(price) + 10_000:,}")
        out[key] = value
    return out


def _strict_problem(schema: Any, path: str = "") -> str | None:
    """Why a schema breaks the strict-mode rules (None when it is fine)."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            props = schema.get("properties") or {}
            if schema.get("additionalProperties") is not False:
                return (
                    f"In context={path or '()'}, 'additionalProperties' is required to be "
                    "supplied and to be false."
                )
            missing = [k for k in props if k not in (schema.get("required") or [])]
            if missing:
                return (
                    f"In context={path or '()'}, 'required' is required to be supplied and "
                    f"to be an array including every key in properties. Missing '{missing[0]}'."
                )
        for key, value in schema.items():
            problem = _strict_problem(value, f"{path}/{key}")
            if problem:
                return problem
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            problem = _strict_problem(value, f"{path}/{i}")
            if problem:
                return problem
    return None


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _ok_headers() -> dict[str, str]:
    return {
        "x-request-id": f"req_{uuid.uuid4().hex[:24]}",
        "openai-processing-ms": "1",
        "x-ratelimit-limit-requests": "5000",
        "x-ratelimit-remaining-requests": "4999",
        "x-ratelimit-reset-requests": "12ms",
    }


def _error(
    status: int,
    message: str,
    type_: str,
    param: str | None,
    code: str | None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": type_, "param": param, "code": code}},
        status=status,
        headers={"x-request-id": f"req_{uuid.uuid4().hex[:24]}", **(headers or {})},
    )


def _error_for(behaviour: Behaviour) -> web.Response:
    status, message, type_, code = _ERRORS[behaviour.kind]
    headers: dict[str, str] = {}
    if behaviour.kind == "rate_limit" and behaviour.retry_after_s is not None:
        headers["retry-after"] = str(max(1, math.ceil(behaviour.retry_after_s)))
        if behaviour.retry_after_s < 1:
            headers["retry-after-ms"] = str(int(behaviour.retry_after_s * 1000))
    return _error(status, message, type_, None, code, headers)


async def _serve(latency_s: float) -> None:
    fake = FakeOpenAI(latency_s=latency_s)
    print(await fake.start(), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.close()


if __name__ == "__main__":
    # Standalone: `python -m tests.fakes.openai_server [latency_s]` prints the base URL, serves
    # until killed.
    import sys

    asyncio.run(_serve(float(sys.argv[1]) if len(sys.argv) > 1 else 0.0))
