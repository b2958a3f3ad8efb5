"""Error replies map to the PTB exceptions a real Telegram error would raise."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter

from tests.fakes.telegram_api import FakeTelegram


def _keyboard(data: str = "a:1", label: str = "Approve") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


@pytest.fixture
async def bot(fake: FakeTelegram):
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


async def test_wrong_token_is_invalid_token(fake: FakeTelegram) -> None:
    for token in ("999:not-our-token", "garbage"):
        with pytest.raises(InvalidToken):
            async with Bot(token, base_url=fake.base_url):
                pass


async def test_unknown_chat_and_missing_text(fake: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"^Chat not found$"):
        await bot.send_message(424242, "hello")
    erin = fake.user(1005, "Erin")
    with pytest.raises(BadRequest, match=r"^Message text is empty$"):
        await bot.send_message(erin.id, "  \n ")
    assert erin.messages == []


async def test_blocked_bot_is_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    frank = fake.user(1006, "Frank")
    frank.block_bot()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(frank.id, "new draft")
    assert frank.messages == []
    frank.unblock_bot()
    await bot.send_message(frank.id, "new draft")
    assert frank.texts() == ["new draft"]


async def test_callback_data_limits(fake: FakeTelegram, bot: Bot) -> None:
    gina = fake.user(1007, "Gina")
    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        await bot.send_message(gina.id, "x", reply_markup=_keyboard("a" * 65))
    # 64 bytes exactly is fine; 22 two-byte characters (44 bytes) too; 33 of them are not.
    await bot.send_message(gina.id, "x", reply_markup=_keyboard("a" * 64))
    await bot.send_message(gina.id, "x", reply_markup=_keyboard("ж" * 32))
    with pytest.raises(BadRequest, match=r"^Button_data_invalid$"):
        await bot.send_message(gina.id, "x", reply_markup=_keyboard("ж" * 33))
    with pytest.raises(BadRequest, match="text buttons are unallowed in the inline keyboard"):
        await bot.send_message(
            gina.id, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Plain")]])
        )
    assert len(gina.messages) == 2


async def test_text_and_caption_length_limits(fake: FakeTelegram, bot: Bot) -> None:
    hank = fake.user(1008, "Hank")
    await bot.send_message(hank.id, "a" * 4096)
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(hank.id, "a" * 4097)
    # Tags do not count, entities count as one character each.
    await bot.send_message(hank.id, "<b>" + "&lt;" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(hank.id, "<b>" + "&amp;" * 4097 + "</b>", parse_mode="HTML")
    # Characters outside the BMP count twice (UTF-16).
    await bot.send_message(hank.id, "🏠" * 2048)
    with pytest.raises(BadRequest, match=r"^Message is too long$"):
        await bot.send_message(hank.id, "🏠" * 2048 + "a")
    with pytest.raises(BadRequest, match=r"^Message caption is too long$"):
        await bot.send_photo(hank.id, "https://example.com/a.jpg", caption="c" * 1025)
    await bot.send_photo(
        hank.id, "https://example.com/a.jpg", caption="<i>" + "c" * 1024 + "</i>", parse_mode="HTML"
    )
    assert len(hank.messages) == 4


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("<b>bold", "Can't parse entities: can't find end tag corresponding to start tag b"),
        ("price < 5", 'Can\'t parse entities: unsupported start tag "" at byte offset 6'),
        ("a<br>b", 'Can\'t parse entities: unsupported start tag "br" at byte offset 1'),
        ("x</b>", "Can't parse entities: unexpected end tag at byte offset 1"),
        ("<b>x</i>", "Can't parse entities: unmatched end tag at byte offset 4"),
        ("<b", "Can't parse entities: unclosed start tag at byte offset 0"),
    ],
)
async def test_malformed_html_is_rejected(fake: FakeTelegram, bot: Bot, html, message) -> None:
    ivy = fake.user(1009, "Ivy")
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(ivy.id, html, parse_mode="HTML")
    assert caught.value.message.startswith(message)
    assert ivy.messages == []


async def test_edit_errors(fake: FakeTelegram, bot: Bot) -> None:
    jack = fake.user(1010, "Jack")
    sent = await bot.send_message(
        jack.id, "<b>Draft</b>", parse_mode="HTML", reply_markup=_keyboard()
    )
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("new", chat_id=jack.id, message_id=sent.message_id + 50)
    # Same text and entities and same keyboard: not modified.
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_text(
            "<strong>Draft</strong>",
            chat_id=jack.id,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=_keyboard(),
        )
    # Same text without the keyboard is a change (the keyboard goes away).
    await bot.edit_message_text(
        "<b>Draft</b>", chat_id=jack.id, message_id=sent.message_id, parse_mode="HTML"
    )
    assert jack.message(sent.message_id).buttons == []
    with pytest.raises(BadRequest, match=r"^Message is not modified"):
        await bot.edit_message_reply_markup(chat_id=jack.id, message_id=sent.message_id)
    await bot.edit_message_reply_markup(
        chat_id=jack.id, message_id=sent.message_id, reply_markup=_keyboard("c:1", "Cancel")
    )
    assert jack.message(sent.message_id).button_labels == ["Cancel"]
    with pytest.raises(BadRequest, match=r"^There is no caption in the message to edit$"):
        await bot.edit_message_caption(chat_id=jack.id, message_id=sent.message_id, caption="c")
    await bot.delete_message(jack.id, sent.message_id)
    with pytest.raises(BadRequest, match=r"^Message to edit not found$"):
        await bot.edit_message_text("again", chat_id=jack.id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"^Message to delete not found$"):
        await bot.delete_message(jack.id, sent.message_id)
    assert jack.messages == []
    assert jack.message(sent.message_id).deleted


async def test_callback_answers_once(fake: FakeTelegram, bot: Bot) -> None:
    kate = fake.user(1011, "Kate")
    sent = await bot.send_message(kate.id, "Draft", reply_markup=_keyboard())
    query_id = await kate.tap(sent.message_id, "Approve")
    assert await bot.answer_callback_query(query_id, "Done") is True
    with pytest.raises(BadRequest, match=r"^Query is too old and response timeout expired"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match=r"^Query is too old and response timeout expired"):
        await bot.answer_callback_query("12345")
    assert fake.callbacks[query_id].text == "Done"


async def test_late_callback_answer_is_too_old() -> None:
    import asyncio

    from tests.fakes.telegram_api import FloodLimits

    async with FakeTelegram(flood=FloodLimits(enabled=False), callback_answer_timeout=0.1) as fake:
        kim = fake.user(1015, "Kim")
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            sent = await bot.send_message(kim.id, "Draft", reply_markup=_keyboard())
            quick = await kim.tap(sent.message_id, "Approve")
            late = await kim.tap(sent.message_id, "Approve")
            assert await bot.answer_callback_query(quick) is True
            await asyncio.sleep(0.2)
            with pytest.raises(BadRequest, match=r"^Query is too old"):
                await bot.answer_callback_query(late)
        assert not fake.callbacks[late].answered


async def test_user_can_delete_own_message_only_bot_edits_its_own(
    fake: FakeTelegram, bot: Bot
) -> None:
    lena = fake.user(1012, "Lena")
    secret = await lena.send_text("EAAB-secret-token")
    with pytest.raises(BadRequest, match=r"^Message can't be edited$"):
        await bot.edit_message_text("x", chat_id=lena.id, message_id=secret.message_id)
    assert await bot.delete_message(lena.id, secret.message_id) is True
    assert lena.message(secret.message_id).deleted


# Reading RetryAfter's retry_after warns about its future timedelta type (PTB's own warning).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_failures(fake: FakeTelegram, bot: Bot) -> None:
    mike = fake.user(1013, "Mike")
    fake.fail_next("sendMessage", 502, "Bad Gateway")
    with pytest.raises(NetworkError):
        await bot.send_message(mike.id, "first")
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(mike.id, "second")
    assert str(caught.value) == "Flood control exceeded. Retry in 7 seconds"
    await bot.send_message(mike.id, "third")
    assert mike.texts() == ["third"]
    assert [c.status for c in fake.calls_to("sendMessage")] == [502, 429, 200]


async def test_raw_wire_envelope_and_status(fake: FakeTelegram) -> None:
    import aiohttp

    nora = fake.user(1014, "Nora")
    base = f"{fake.base_url}{fake.token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/sendMessage", json={"chat_id": nora.id, "text": "json"}) as r:
            body = await r.json()
            assert r.status == 200 and body["ok"] is True
            assert body["result"]["text"] == "json"
            assert body["result"]["chat"] == {
                "id": nora.id,
                "type": "private",
                "first_name": "Nora",
            }
        async with http.get(
            f"{base}/sendMessage", params={"chat_id": str(nora.id), "text": "42"}
        ) as r:
            assert (await r.json())["result"]["text"] == "42"  # a text stays a string
        form = {"chat_id": str(nora.id), "text": "x", "reply_markup": '{"inline_keyboard": 5}'}
        async with http.post(f"{base}/sendMessage", data=form) as r:
            assert r.status == 400
            assert (await r.json())["ok"] is False
        async with http.post(f"{base}/sendMessage", data={"chat_id": "1", "text": "x"}) as r:
            assert r.status == 400
            assert await r.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: chat not found",
            }
        async with http.post(f"{base}/noSuchMethod") as r:
            assert r.status == 404
            assert (await r.json())["description"] == "Not Found: method not found"
        async with http.post(f"{fake.base_url}1:wrong/getMe") as r:
            assert r.status == 401
            assert (await r.json())["error_code"] == 401
        data = aiohttp.FormData(default_to_multipart=True)
        data.add_field("chat_id", str(nora.id))
        data.add_field("text", "multipart")
        async with http.post(f"{base}/sendMessage", data=data) as r:
            assert r.status == 200
        assert fake.calls[-1].params == {"chat_id": nora.id, "text": "multipart"}
        assert fake.calls[-1].content_type == "multipart/form-data"
        async with http.post(f"{base}/sendMessage", json={"chat_id": nora.id, "text": 7}) as r:
            assert (await r.json())["result"]["text"] == "7"
    assert nora.texts() == ["json", "42", "multipart", "7"]
