"""Fuzz bot.callback_data: whatever a client sends back is refused cleanly or decodes to
exactly what this bot signed."""

from __future__ import annotations

import uuid

from hypothesis import example, given
from hypothesis import strategies as st

from bot.callback_data import (
    MAX_CALLBACK_DATA,
    MAX_EXTRA,
    MAX_VERSION,
    Action,
    CallbackData,
    CallbackSigner,
    ForgedCallback,
)

SIGNER = CallbackSigner(b"fuzz-key-" * 4)
OTHER = CallbackSigner(b"other-key" * 4)

_actions = st.sampled_from(list(Action))
_extras = st.text(alphabet="ABCXYZabcxyz0189_.-", max_size=MAX_EXTRA)  # what encode() admits
_versions = st.integers(0, MAX_VERSION)
_signed = st.builds(SIGNER.encode, _actions, st.uuids(), _versions, _extras)


def _decode_or_refuse(data: object) -> CallbackData | None:
    """The decode, or None for a refusal; any other exception fails the test."""
    try:
        return SIGNER.decode(data)
    except ForgedCallback:
        return None


def _assert_canonical(data: str, decoded: CallbackData) -> None:
    """A decode is only valid for data this signer would have written byte for byte."""
    again = SIGNER.encode(decoded.action, decoded.entity_id, decoded.version, decoded.extra)
    assert again == data
    assert len(data.encode("utf-8")) <= MAX_CALLBACK_DATA


@given(st.binary(max_size=MAX_CALLBACK_DATA), st.sampled_from(["replace", "surrogateescape"]))
@example(b"", "replace")
@example(b":", "replace")
@example(b"a:AAAAAAAAAAAAAAAAAAAAAA:0::AAAAAAAAAA", "replace")
@example(b"a:\xff\xfe:0::0123456789", "surrogateescape")
def test_any_bytes_are_refused_or_decode_canonically(raw: bytes, errors: str) -> None:
    data = raw.decode("utf-8", errors)
    decoded = _decode_or_refuse(data)
    if decoded is not None:
        _assert_canonical(data, decoded)


@given(st.text(max_size=MAX_CALLBACK_DATA * 2))
def test_any_text_is_refused_or_decodes_canonically(data: str) -> None:
    decoded = _decode_or_refuse(data)
    if decoded is not None:
        _assert_canonical(data, decoded)


@given(st.one_of(st.none(), st.integers(), st.binary(max_size=64), st.lists(st.text())))
def test_non_text_is_refused(data: object) -> None:
    assert _decode_or_refuse(data) is None


@given(_actions, st.uuids(), _versions, _extras)
def test_everything_signed_decodes_to_itself(
    action: Action, entity_id: uuid.UUID, version: int, extra: str
) -> None:
    data = SIGNER.encode(action, entity_id, version, extra)
    assert len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
    assert SIGNER.decode(data) == CallbackData(action, entity_id, version, extra)
    assert _decode_or_refuse_with(OTHER, data) is None


def _decode_or_refuse_with(signer: CallbackSigner, data: str) -> CallbackData | None:
    try:
        return signer.decode(data)
    except ForgedCallback:
        return None


@given(
    _signed,
    st.lists(
        st.tuples(
            st.sampled_from(["flip", "drop", "insert"]),
            st.integers(0, 63),
            st.binary(min_size=1, max_size=1),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_altered_signed_data_is_refused(data: str, edits: list[tuple[str, int, bytes]]) -> None:
    raw = bytearray(data.encode("ascii"))
    for kind, at, byte in edits:
        at %= len(raw) + (kind == "insert")
        if kind == "flip" and at < len(raw):
            raw[at] ^= byte[0] or 1
        elif kind == "drop" and len(raw) > 1:
            del raw[at % len(raw)]
        else:
            raw[at:at] = byte
    altered = raw.decode("utf-8", "replace")
    decoded = _decode_or_refuse(altered)
    if altered == data:
        assert decoded == SIGNER.decode(data)
    else:
        # 60 bits of MAC: a forged button that verifies is a bug, not bad luck.
        assert decoded is None
