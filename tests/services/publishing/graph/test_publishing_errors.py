"""Classification of Graph error bodies into PublishError kinds and sentences."""

from __future__ import annotations

import pytest

from services.publishing.graph_errors import (
    GraphError,
    classify,
    parse_container_subcode,
    rule_for_container_subcode,
)
from services.redaction import redact


def graph(code: int | None, subcode: int | None = None, *, status: int = 400, **extra: object):
    body = {"error": {"message": "m", "type": "OAuthException", "code": code, **extra}}
    if subcode is not None:
        body["error"]["error_subcode"] = subcode
    return GraphError.from_body(status, body)


@pytest.mark.parametrize(
    ("code", "subcode", "kind", "retryable"),
    [
        (190, None, "token_invalid", False),
        (190, 458, "token_invalid", False),
        (190, 460, "token_invalid", False),
        (190, 463, "token_invalid", False),
        (190, 467, "token_invalid", False),
        (102, None, "token_invalid", False),
        (10, None, "permission", False),
        (200, None, "permission", False),
        (299, None, "permission", False),
        (4, None, "rate_limited", True),
        (17, None, "rate_limited", True),
        (32, None, "rate_limited", True),
        (341, None, "rate_limited", True),
        (613, None, "rate_limited", True),
        (80001, None, "rate_limited", True),
        (80002, None, "rate_limited", True),
        (4, 2207051, "policy", False),
        (1, None, "transient", True),
        (2, None, "transient", True),
        (-1, 2207001, "transient", True),
        (-2, 2207003, "transient", True),
        (-2, 2207020, "transient", True),
        (24, 2207008, "transient", True),
        (9007, 2207027, "transient", True),
        (9, 2207042, "quota", False),
        (25, 2207050, "permission", False),
        (100, None, "invalid_request", False),
        (100, 33, "not_found", False),
        (100, 2207028, "media", False),
        (100, 2207040, "caption", False),
        (36000, 2207004, "media", False),
        (36001, 2207005, "media", False),
        (36003, 2207009, "media", False),
        (36004, 2207010, "caption", False),
        (9004, 2207052, "media", False),
        (352, 2207026, "media", False),
        (324, None, "media", False),
        (368, None, "policy", False),
        (506, None, "duplicate", False),
        (1609005, None, "invalid_request", False),
        (12345, None, "unknown", False),
    ],
)
def test_classify_by_code_and_subcode(code, subcode, kind, retryable) -> None:
    err = classify(graph(code, subcode))
    assert (err.kind, err.retryable) == (kind, retryable)
    assert err.code == code and err.subcode == subcode
    # One sentence that says what to do next, never empty, never a raw code dump.
    assert err.user_message.endswith(".")
    assert 20 < len(err.user_message) < 320


def test_token_invalid_deactivates_and_says_reconnect() -> None:
    err = classify(graph(190, 460), "facebook")
    assert err.deactivates_account
    assert "password was changed" in err.user_message
    assert "/connect" in err.user_message
    assert not classify(graph(4)).deactivates_account


def test_instagram_wording_for_instagram_accounts() -> None:
    assert classify(graph(190, 463), "instagram").user_message.startswith("The saved Instagram")
    assert "Instagram" in classify(graph(36003, 2207009)).user_message
    assert "4:5" in classify(graph(36003, 2207009)).user_message


def test_unknown_codes_fall_back_on_is_transient_and_http_status() -> None:
    assert classify(graph(777, is_transient=True)).kind == "transient"
    assert classify(graph(777, status=503)).retryable
    assert classify(graph(777, status=429)).retryable
    unknown = classify(graph(777))
    assert unknown.kind == "unknown" and not unknown.retryable


def test_reduce_amount_of_data_is_not_retried() -> None:
    err = classify(
        GraphError.from_body(
            500,
            {"error": {"code": 1, "message": "Please reduce the amount of data you're asking for"}},
        )
    )
    assert err.kind == "invalid_request" and not err.retryable
    assert "fewer photos" in err.user_message


def test_invalid_parameter_prefers_meta_user_message() -> None:
    err = classify(graph(100, error_user_msg="The link is not valid."))
    assert "The link is not valid" in err.user_message


def test_from_body_tolerates_garbage() -> None:
    for body in (None, "html", {"error": "x"}, {"foo": 1}, []):
        err = GraphError.from_body(502, body)
        assert err.code is None and err.http_status == 502
    err = GraphError.from_body(400, {"error": {"code": "190", "error_subcode": "460"}})
    assert (err.code, err.subcode) == (190, 460)


def test_from_body_redacts_the_secret_and_token_parameters() -> None:
    token = "EAAGsecretTokenValue1234567890"
    body = {"error": {"code": 100, "message": f"bad {token} and access_token=XYZ&x=1"}}
    err = GraphError.from_body(400, body, secret=token)
    assert token not in str(err) and "XYZ" not in str(err)


def test_redact_masks_tokens_and_bearer_headers() -> None:
    text = "GET /me?access_token=abc123&fields=id Authorization: Bearer sekrit input_token=zz"
    out = redact(text, "nothing-here")
    assert "abc123" not in out and "sekrit" not in out and "zz" not in out
    assert "fields=id" in out


def test_container_status_subcode() -> None:
    assert parse_container_subcode("Error: Media upload has failed with error code 2207009") == (
        2207009
    )
    assert parse_container_subcode("In Progress") is None
    assert parse_container_subcode(None) is None
    err = rule_for_container_subcode(2207009)
    assert err.kind == "media" and not err.retryable
    assert rule_for_container_subcode(2207001).retryable
    assert rule_for_container_subcode(None).kind == "unknown"
