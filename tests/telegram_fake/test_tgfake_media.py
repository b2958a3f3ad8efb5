"""Photos: multipart uploads of bytes, URLs, media groups, captions and getFile."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest

from tests.fakes.telegram_api import FakeTelegram


def _jpeg(width: int = 64, height: int = 48, color: str = "navy") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
async def bot(fake: FakeTelegram):
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as client:
        yield client


async def test_send_photo_bytes_is_multipart_and_downloadable(fake: FakeTelegram, bot: Bot) -> None:
    olga = fake.user(1101, "Olga")
    data = _jpeg(80, 60)
    sent = await bot.send_photo(olga.id, data, caption="<b>3 bd</b> &amp; pool", parse_mode="HTML")
    call = fake.calls_to("sendPhoto")[0]
    assert call.content_type == "multipart/form-data"
    assert call.params["photo"].data == data  # arrived as a file part named "photo"
    assert call.params["caption"] == "<b>3 bd</b> &amp; pool"
    shown = olga.last_message
    assert shown is not None and shown.photo is not None
    assert (shown.photo.width, shown.photo.height) == (80, 60)
    assert shown.caption == "3 bd & pool"
    assert shown.caption_entities == [{"type": "bold", "offset": 0, "length": 4}]
    assert sent.photo[-1].width == 80
    file = await bot.get_file(sent.photo[-1].file_id)
    assert bytes(await file.download_as_bytearray()) == data
    # The same file_id can be sent again without re-uploading.
    again = await bot.send_photo(olga.id, sent.photo[-1].file_id)
    assert again.photo[-1].file_unique_id == sent.photo[-1].file_unique_id


async def test_send_photo_rejects_bad_input(fake: FakeTelegram, bot: Bot) -> None:
    pete = fake.user(1102, "Pete")
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(pete.id, b"not an image at all")
    with pytest.raises(BadRequest, match="Photo_invalid_dimensions"):
        await bot.send_photo(pete.id, _jpeg(2100, 100))
    with pytest.raises(BadRequest, match="Wrong file identifier/http url specified"):
        await bot.send_photo(pete.id, "AgACunknownfileid")
    fake.broken_urls.add("https://cdn.example.com/missing.jpg")
    with pytest.raises(BadRequest, match="Failed to get http url content"):
        await bot.send_photo(pete.id, "https://cdn.example.com/missing.jpg")
    assert pete.messages == []


async def test_media_group_with_urls(fake: FakeTelegram, bot: Bot) -> None:
    quinn = fake.user(1103, "Quinn")
    urls = [f"https://cdn.example.com/home/{i}.jpg" for i in range(4)]
    media = [InputMediaPhoto(urls[0], caption="<i>Front</i>", parse_mode="HTML")]
    media += [InputMediaPhoto(url) for url in urls[1:]]
    sent = await bot.send_media_group(quinn.id, media)
    assert len(sent) == 4
    assert len({m.media_group_id for m in sent}) == 1 and sent[0].media_group_id
    shown = quinn.messages
    assert [m.photo.url for m in shown] == urls
    assert shown[0].caption == "Front"
    assert [m.message_id for m in shown] == [m.message_id for m in sent]
    call = fake.calls_to("sendMediaGroup")[0]
    assert call.content_type == "application/x-www-form-urlencoded"
    assert [item["media"] for item in call.params["media"]] == urls
    assert fake.messages_sent == 4 and len(fake.sent_log) == 1


async def test_media_group_with_uploaded_bytes_uses_attach(fake: FakeTelegram, bot: Bot) -> None:
    rosa = fake.user(1104, "Rosa")
    photos = [_jpeg(40 + i, 30) for i in range(3)]
    sent = await bot.send_media_group(rosa.id, [InputMediaPhoto(p) for p in photos])
    call = fake.calls_to("sendMediaGroup")[0]
    names = [item["media"] for item in call.params["media"]]
    assert all(name.startswith("attach://") for name in names)
    assert [call.params[name.removeprefix("attach://")].data for name in names] == photos
    assert [m.photo[-1].width for m in sent] == [40, 41, 42]


async def test_media_group_limits(fake: FakeTelegram, bot: Bot) -> None:
    sam = fake.user(1105, "Sam")
    eleven = [InputMediaPhoto(f"https://cdn.example.com/{i}.jpg") for i in range(11)]
    with pytest.raises(BadRequest, match="Too many messages to send as an album"):
        await bot.send_media_group(sam.id, eleven)
    fake.broken_urls.add("https://cdn.example.com/1.jpg")
    with pytest.raises(BadRequest, match="Failed to send message #2"):
        await bot.send_media_group(sam.id, eleven[:3])
    long_caption = InputMediaPhoto("https://cdn.example.com/2.jpg", caption="x" * 1025)
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_media_group(sam.id, [long_caption, eleven[3]])
    assert sam.messages == []


async def test_edit_caption_of_a_photo(fake: FakeTelegram, bot: Bot) -> None:
    tina = fake.user(1106, "Tina")
    sent = await bot.send_photo(tina.id, "https://cdn.example.com/a.jpg", caption="v1")
    await bot.edit_message_caption(chat_id=tina.id, message_id=sent.message_id, caption="v2")
    assert tina.message(sent.message_id).caption == "v2"
    with pytest.raises(BadRequest, match="There is no text in the message to edit"):
        await bot.edit_message_text("text", chat_id=tina.id, message_id=sent.message_id)
