"""Graph API errors and their translation into the project's own `PublishError`.

The Graph answers most errors with HTTP 400, so classification branches on `code` and
`error_subcode`, never on the HTTP status alone (specs/EXTERNAL_APIS.md §2.3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from services.redaction import redact

Platform = Literal["facebook", "instagram"]

ErrorKind = Literal[
    "token_invalid",  # the caller deactivates the account and asks the agent to reconnect
    "permission",
    "media",
    "caption",
    "rate_limited",
    "quota",
    "duplicate",
    "policy",
    "invalid_request",
    "not_found",
    "wrong_platform",
    "outcome_unknown",  # the platform may or may not have published; never re-post automatically
    "transient",
    "unknown",
]

RETRYABLE_KINDS: frozenset[str] = frozenset({"transient", "rate_limited"})


class GraphError(Exception):
    """An error answered by the Graph API, parsed from `{"error": {...}}`."""

    def __init__(
        self,
        http_status: int,
        code: int | None,
        subcode: int | None,
        message: str,
        type: str | None = None,
        fbtrace_id: str | None = None,
        is_transient: bool | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.subcode = subcode
        self.message = message
        self.type = type
        self.fbtrace_id = fbtrace_id
        self.is_transient = is_transient
        self.user_title = user_title
        self.user_msg = user_msg

    @classmethod
    def from_body(cls, http_status: int, body: Any, *, secret: str | None = None) -> GraphError:
        """Parse a Graph error body; anything that is not one yields a code-less error."""
        err = body.get("error") if isinstance(body, dict) else None
        if not isinstance(err, dict):
            return cls(http_status, None, None, f"HTTP {http_status} without a Graph error body")

        def text(key: str) -> str | None:
            value = err.get(key)
            return redact(str(value), secret) if value is not None else None

        transient = err.get("is_transient")
        return cls(
            http_status=http_status,
            code=_as_int(err.get("code")),
            subcode=_as_int(err.get("error_subcode")),
            message=text("message") or "",
            type=text("type"),
            fbtrace_id=text("fbtrace_id"),
            is_transient=transient if isinstance(transient, bool) else None,
            user_title=text("error_user_title"),
            user_msg=text("error_user_msg"),
        )

    def __str__(self) -> str:
        return (
            f"Graph error HTTP {self.http_status} code={self.code} subcode={self.subcode} "
            f"type={self.type} fbtrace_id={self.fbtrace_id}: {self.message}"
        )


class PublishError(Exception):
    """A failure to talk to or publish on a platform, in the project's own terms.

    `user_message` is one sentence an agent understands, saying what to do next.
    `retry_after_s` is the least wait before another attempt makes sense, when known.
    `detail` is a redacted technical description for logs.
    """

    def __init__(
        self,
        kind: ErrorKind,
        retryable: bool,
        user_message: str,
        code: int | None = None,
        subcode: int | None = None,
        *,
        retry_after_s: float | None = None,
        fbtrace_id: str | None = None,
        http_status: int | None = None,
        detail: str = "",
        graph_message: str | None = None,
    ) -> None:
        super().__init__(user_message)
        self.kind: ErrorKind = kind
        self.retryable = retryable
        self.user_message = user_message
        self.code = code
        self.subcode = subcode
        self.retry_after_s = retry_after_s
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.detail = detail
        self.graph_message = graph_message

    @property
    def deactivates_account(self) -> bool:
        """True when the stored token is dead: deactivate the account and ask to reconnect."""
        return self.kind == "token_invalid"

    def __str__(self) -> str:
        codes = f" (code {self.code}" + (f"/{self.subcode}" if self.subcode else "") + ")"
        return self.user_message + (codes if self.code is not None else "")

    def __repr__(self) -> str:
        return (
            f"PublishError(kind={self.kind!r}, retryable={self.retryable}, code={self.code}, "
            f"subcode={self.subcode}, user_message={self.user_message!r})"
        )


@dataclass(frozen=True)
class _Rule:
    kind: ErrorKind
    message: str  # "{svc}" is replaced by Facebook or Instagram

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS


_RECONNECT = "reconnect the account with /connect"

_TOKEN_SUBCODES: dict[int, str] = {
    458: "The app was removed from the {svc} account, so its token no longer works; ",
    459: "{svc} needs the account owner to log in and pass a security check first; then ",
    460: "The {svc} password was changed, so the saved token stopped working; ",
    463: "The saved {svc} token has expired; ",
    464: "The {svc} user behind the token is not confirmed; confirm the account, then ",
    467: "The saved {svc} token is no longer valid; ",
}
_TOKEN_DEFAULT = f"{{svc}} rejected the saved token (invalid, expired or revoked); {_RECONNECT}."

_SUBCODES: dict[int, _Rule] = {
    2207001: _Rule("transient", "Instagram had a server error; tap Retry in a few minutes."),
    2207003: _Rule(
        "transient", "Instagram timed out downloading a photo; tap Retry in a few minutes."
    ),
    2207006: _Rule("transient", "Instagram lost the uploaded photo; tap Retry in a few minutes."),
    2207008: _Rule("transient", "Instagram lost track of the upload; tap Retry in a few minutes."),
    2207020: _Rule(
        "transient", "The Instagram upload expired before publishing; tap Retry in a few minutes."
    ),
    2207027: _Rule(
        "transient", "Instagram was still processing the photos; tap Retry in a few minutes."
    ),
    2207032: _Rule(
        "transient", "Instagram could not prepare the upload; tap Retry in a few minutes."
    ),
    2207053: _Rule(
        "transient", "Instagram had an unknown upload error; tap Retry in a few minutes."
    ),
    2207004: _Rule(
        "media", "A photo is larger than Instagram's 8 MB limit; use a smaller photo and tap Retry."
    ),
    2207005: _Rule(
        "media", "A photo is in a format Instagram does not accept; use JPEG photos and tap Retry."
    ),
    2207009: _Rule(
        "media",
        "A photo's shape is not allowed on Instagram (it must be between 4:5 portrait and "
        "1.91:1 landscape); crop it or choose other photos and tap Retry.",
    ),
    2207026: _Rule(
        "media", "Instagram accepts only MP4 or MOV videos; convert the video and tap Retry."
    ),
    2207028: _Rule(
        "media", "An Instagram carousel needs 2 to 10 photos; change the photos and tap Retry."
    ),
    2207052: _Rule(
        "media",
        "Instagram could not download a photo from its link; make sure the photo opens "
        "publicly in a browser, then tap Retry.",
    ),
    2207057: _Rule(
        "media", "The video thumbnail position is outside the video; fix it and tap Retry."
    ),
    2207010: _Rule(
        "caption",
        "The caption is longer than Instagram's 2,200 characters; shorten it and tap Retry.",
    ),
    2207040: _Rule(
        "caption", "The caption tags more than 20 accounts with @; remove some and tap Retry."
    ),
    2207023: _Rule(
        "invalid_request", "Instagram did not recognise the media type; use photos and tap Retry."
    ),
    2207035: _Rule(
        "invalid_request", "Instagram rejected the product tags; remove them and tap Retry."
    ),
    2207036: _Rule(
        "invalid_request", "Instagram rejected the product tags; remove them and tap Retry."
    ),
    2207037: _Rule(
        "invalid_request", "Instagram rejected the product tags; remove them and tap Retry."
    ),
    2207042: _Rule(
        "quota",
        "This Instagram account reached its daily publishing limit; the post can go out "
        "after the 24-hour window, so tap Retry tomorrow.",
    ),
    2207050: _Rule(
        "permission",
        "The Instagram account is restricted, inactive or needs a security check; resolve it "
        "in the Instagram app, then tap Retry.",
    ),
    2207051: _Rule(
        "policy",
        "Instagram blocked this post as suspected spam; wait a day, check the account in the "
        "Instagram app, then tap Retry.",
    ),
}

_RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613})
_RATE_LIMITED = _Rule(
    "rate_limited",
    "{svc} is limiting how fast we can post right now; tap Retry in a few minutes.",
)
_TRANSIENT = _Rule("transient", "{svc} had a temporary problem; tap Retry in a few minutes.")
_PERMISSION = _Rule(
    "permission",
    "The saved token lacks a permission needed to post (pages_manage_posts on Facebook, "
    "instagram_content_publish on Instagram); reconnect the account with /connect and grant it.",
)

_CODES: dict[int, _Rule] = {
    1: _TRANSIENT,
    2: _TRANSIENT,
    -1: _TRANSIENT,
    -2: _TRANSIENT,
    24: _Rule("transient", "{svc} lost track of the upload; tap Retry in a few minutes."),
    9007: _SUBCODES[2207027],
    9: _SUBCODES[2207042],
    25: _SUBCODES[2207050],
    102: _Rule("token_invalid", f"The {{svc}} login session is no longer valid; {_RECONNECT}."),
    3: _PERMISSION,
    10: _PERMISSION,
    352: _SUBCODES[2207026],
    9004: _SUBCODES[2207052],
    36000: _SUBCODES[2207004],
    36001: _SUBCODES[2207005],
    36003: _SUBCODES[2207009],
    36004: _SUBCODES[2207010],
    324: _Rule(
        "media",
        "Facebook could not use a photo (missing or not a picture); check that each photo link "
        "opens publicly, then tap Retry.",
    ),
    368: _Rule(
        "policy",
        "{svc} has temporarily blocked posting from this account for a policy reason; check the "
        "account's notifications on {svc}, then try again later.",
    ),
    506: _Rule(
        "duplicate",
        "{svc} refused this as a duplicate of a recent post on the page; check the page before "
        "posting it again.",
    ),
    1609005: _Rule(
        "invalid_request",
        "Facebook could not attach the link; check that it opens, then tap Retry.",
    ),
}

# 100 with subcode 33: the id does not exist or the token cannot see it.
_NOT_FOUND = _Rule(
    "not_found",
    "{svc} cannot find that account or post with this token; check the account id and that the "
    "token belongs to it, then reconnect with /connect.",
)
_REDUCE_DATA = _Rule(
    "invalid_request",
    "Facebook refused the post as too large; use fewer photos or a shorter text and tap Retry.",
)


_TOKEN_RULE = _Rule("token_invalid", _TOKEN_DEFAULT)
_INVALID_PARAMETER = _Rule("invalid_request", "")


def service_name(platform: Platform | None, subcode: int | None = None) -> str:
    """The name an agent knows: Instagram for IG accounts or IG-only subcodes, else Facebook."""
    if platform == "instagram" or (subcode is not None and 2207000 <= subcode < 2208000):
        return "Instagram"
    return "Facebook"


def classify(err: GraphError, platform: Platform | None = None) -> PublishError:
    """Translate a Graph error into a `PublishError` with a kind, retryability and a sentence."""
    svc = service_name(platform, err.subcode)
    code, subcode = err.code, err.subcode
    rule = _rule_for(err)
    if rule is None:
        if err.is_transient or err.http_status >= 500 or err.http_status == 429:
            rule = _TRANSIENT
        else:
            return PublishError(
                "unknown",
                False,
                _unknown_sentence(err, svc),
                code,
                subcode,
                fbtrace_id=err.fbtrace_id,
                http_status=err.http_status,
                detail=str(err),
                graph_message=err.message,
            )
    if rule.kind == "token_invalid" and code == 190:
        prefix = _TOKEN_SUBCODES.get(subcode or 0)
        message = prefix + _RECONNECT + "." if prefix else _TOKEN_DEFAULT
    elif rule.kind == "invalid_request" and rule is _INVALID_PARAMETER:
        message = _invalid_parameter_sentence(err, svc)
    else:
        message = rule.message
    return PublishError(
        rule.kind,
        rule.retryable,
        message.format(svc=svc),
        code,
        subcode,
        retry_after_s=None,
        fbtrace_id=err.fbtrace_id,
        http_status=err.http_status,
        detail=str(err),
        graph_message=err.message,
    )


def _rule_for(err: GraphError) -> _Rule | None:
    code, subcode = err.code, err.subcode
    if code == 190:
        return _TOKEN_RULE
    if code == 4 and subcode == 2207051:
        return _SUBCODES[2207051]
    if code in _RATE_LIMIT_CODES or (code is not None and 80000 <= code <= 80014):
        return _RATE_LIMITED
    if code == 1 and "reduce the amount of data" in err.message.lower():
        return _REDUCE_DATA
    if subcode is not None and subcode in _SUBCODES:
        return _SUBCODES[subcode]
    if code is not None and 200 <= code <= 299:
        return _PERMISSION
    if code == 100:
        return _NOT_FOUND if subcode == 33 else _INVALID_PARAMETER
    if code is not None:
        return _CODES.get(code)
    return None


def rule_for_container_subcode(
    subcode: int | None, platform: Platform = "instagram"
) -> PublishError:
    """Explain an Instagram container that ended in `ERROR`, whose `status` names a subcode."""
    rule = _SUBCODES.get(subcode or 0)
    if rule is None:
        return PublishError(
            "unknown",
            False,
            "Instagram could not process the photos"
            + (f" (error {subcode})" if subcode else "")
            + "; check that they are JPEG photos under 8 MB and tap Retry.",
            None,
            subcode,
        )
    return PublishError(
        rule.kind, rule.retryable, rule.message.format(svc=service_name(platform)), None, subcode
    )


def _invalid_parameter_sentence(err: GraphError, svc: str) -> str:
    if err.user_msg:
        return f"{svc} rejected the post: {_sentence_body(err.user_msg)}; fix it and tap Retry."
    return (
        f"{svc} rejected part of the request as invalid ({_sentence_body(err.message)}); "
        "check the post and tap Retry."
    )


def _unknown_sentence(err: GraphError, svc: str) -> str:
    what = _sentence_body(err.user_msg or err.message) or f"HTTP {err.http_status}"
    return (
        f"{svc} returned an unexpected error ({what}); tap Retry, and if it happens again "
        "contact support."
    )


def _sentence_body(text: str) -> str:
    return " ".join(text.split()).rstrip(" .")[:300]


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def parse_container_subcode(status: str | None) -> int | None:
    """Pull the error subcode out of a container's `status` text, e.g. 'Error: ... 2207009'."""
    if not status:
        return None
    match = re.search(r"\b(2\d{6})\b", status)
    return int(match.group(1)) if match else None


def transport_error(
    what: str, *, retryable: bool, platform: Platform | None, detail: str
) -> PublishError:
    """An error below HTTP (timeout, refused or dropped connection, unreadable answer)."""
    svc = service_name(platform)
    if retryable:
        return PublishError(
            "transient",
            True,
            f"{svc} could not be reached ({what}); tap Retry in a few minutes.",
            detail=detail,
        )
    return PublishError(
        "outcome_unknown",
        False,
        f"{svc} did not confirm the post ({what}), so it may or may not be on the page; "
        "please check your page before posting it again.",
        detail=detail,
    )
