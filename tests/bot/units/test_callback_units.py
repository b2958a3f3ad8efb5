"""bot.callback_data: signed, compact, routable, and refusing anything it did not sign."""

from __future__ import annotations

import re
import uuid

import pytest

from bot.callback_data import (
    MAX_CALLBACK_DATA,
    MAX_EXTRA,
    MAX_VERSION,
    Action,
    CallbackData,
    CallbackSigner,
    ForgedCallback,
    pattern,
)

KEY = b"k" * 32
SIGNER = CallbackSigner(KEY)
DRAFT = uuid.UUID("7b0c3c1e-51a4-4d8e-9a55-3f5f4b7f2a10")


def test_round_trip_every_action() -> None:
    for action in Action:
        for version, extra in ((0, ""), (7, "fb"), (MAX_VERSION, "x" * MAX_EXTRA)):
            data = SIGNER.encode(action, DRAFT, version, extra)
            assert SIGNER.decode(data) == CallbackData(action, DRAFT, version, extra)


def test_longest_data_fits_telegrams_64_bytes() -> None:
    for action in Action:
        data = SIGNER.encode(action, uuid.UUID(int=2**128 - 1), MAX_VERSION, "Z" * MAX_EXTRA)
        assert len(data.encode("utf-8")) <= MAX_CALLBACK_DATA == 64


def test_prefix_routes_like_callback_query_handler() -> None:
    data = SIGNER.encode("approve", DRAFT, 3)
    assert data.startswith("a:")
    assert pattern(Action.APPROVE) == "^a:" == pattern("approve") == pattern("a")
    assert re.match(pattern(Action.APPROVE), data)
    others = [a for a in Action if a is not Action.APPROVE]
    assert not any(re.match(pattern(a), data) for a in others)
    assert len({a.value for a in Action}) == len(Action)


def test_tampering_with_any_character_is_refused() -> None:
    data = SIGNER.encode(Action.REJECT, DRAFT, 12, "n.new")
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:."
    for index, original in enumerate(data):
        for replacement in (c for c in alphabet[::7] if c != original):
            forged = data[:index] + replacement + data[index + 1 :]
            with pytest.raises(ForgedCallback):
                SIGNER.decode(forged)


def test_other_versions_and_ids_need_their_own_signature() -> None:
    good = SIGNER.encode(Action.APPROVE, DRAFT, 1)
    payload, mac = good.rsplit(":", 1)
    newer = payload.replace(":1:", ":2:")
    with pytest.raises(ForgedCallback):
        SIGNER.decode(f"{newer}:{mac}")


@pytest.mark.parametrize(
    "garbage",
    ["", ":", "a:1", "a:x:0::", "approve:42", "a" * 65, "ж" * 10, "a:::::", None, 42],
)
def test_garbage_is_refused(garbage) -> None:
    with pytest.raises(ForgedCallback):
        SIGNER.decode(garbage)


def test_wrong_key_is_refused() -> None:
    data = SIGNER.encode(Action.POST_NOW, DRAFT)
    with pytest.raises(ForgedCallback):
        CallbackSigner(b"another key, 32 bytes long......").decode(data)


def test_key_derived_from_secret_is_stable_and_not_the_secret() -> None:
    token = "123456:ABC-DEF"
    first, second = CallbackSigner.from_secret(token), CallbackSigner.from_secret(token)
    data = first.encode(Action.SETTINGS, DRAFT, 0, "qh.on")
    assert second.decode(data).extra == "qh.on"
    with pytest.raises(ForgedCallback):
        CallbackSigner.from_secret("654321:OTHER").decode(data)
    with pytest.raises(ForgedCallback):
        CallbackSigner(token.encode() + b"-padding-padding").decode(data)


def test_encode_rejects_out_of_range_fields() -> None:
    with pytest.raises(ValueError):
        SIGNER.encode("publish_everything", DRAFT)
    with pytest.raises(ValueError):
        SIGNER.encode(Action.APPROVE, DRAFT, -1)
    with pytest.raises(ValueError):
        SIGNER.encode(Action.APPROVE, DRAFT, MAX_VERSION + 1)
    with pytest.raises(ValueError):
        SIGNER.encode(Action.CONNECT, DRAFT, 0, "x" * (MAX_EXTRA + 1))
    with pytest.raises(ValueError):
        SIGNER.encode(Action.CONNECT, DRAFT, 0, "a:b")
    with pytest.raises(TypeError):
        SIGNER.encode(Action.APPROVE, str(DRAFT))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CallbackSigner(b"short")


def test_action_names_parse() -> None:
    assert Action.parse("marketing_approved") is Action.MARKETING_APPROVED
    assert Action.parse("k") is Action.CONNECT
    with pytest.raises(ValueError):
        Action.parse("nope")
