"""Commands, chat actions, the menu button, webhook reset, and the HTML parser itself."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    MenuButtonCommands,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest

from tests.fakes.telegram_api import FakeTelegram, format_text, parse_html


@pytest.fixture
async def bot(fake: FakeTelegram):
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


async def test_commands_per_scope(fake: FakeTelegram, bot: Bot) -> None:
    admin = fake.user(1301, "Admin")
    agent = fake.user(1302, "Agent")
    agent_cmds = [BotCommand("help", "How this works"), BotCommand("drafts", "Pending drafts")]
    admin_cmds = [*agent_cmds, BotCommand("addagent", "Invite an agent")]
    assert await bot.set_my_commands(agent_cmds) is True
    await bot.set_my_commands(admin_cmds, scope=BotCommandScopeChat(admin.id))
    assert [c.command for c in await bot.get_my_commands()] == ["help", "drafts"]
    scoped = await bot.get_my_commands(scope=BotCommandScopeChat(admin.id))
    assert [c.command for c in scoped] == ["help", "drafts", "addagent"]
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()
    assert [c["command"] for c in fake.commands_for(admin.id)][-1] == "addagent"
    assert [c["command"] for c in fake.commands_for(agent.id)] == ["help", "drafts"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("AddAgent", "bad")])
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands(agent_cmds, scope=BotCommandScopeChat(999_999))
    await bot.delete_my_commands(scope=BotCommandScopeChat(admin.id))
    assert [c["command"] for c in fake.commands_for(admin.id)] == ["help", "drafts"]


async def test_chat_action_and_menu_button(fake: FakeTelegram, bot: Bot) -> None:
    yara = fake.user(1303, "Yara")
    assert await bot.send_chat_action(yara.id, ChatAction.TYPING) is True
    assert [action for _, action in yara.chat.actions] == ["typing"]
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(yara.id, "dancing")
    assert await bot.set_chat_menu_button(menu_button=MenuButtonCommands()) is True
    assert fake.menu_button == {"type": "commands"}
    assert await bot.set_chat_menu_button(yara.id, MenuButtonCommands()) is True
    assert yara.chat.menu_button == {"type": "commands"}


async def test_delete_webhook_can_drop_pending_updates(fake: FakeTelegram, bot: Bot) -> None:
    zoe = fake.user(1304, "Zoe")
    await zoe.send_text("old message")
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert fake.pending_updates() == 0
    assert await bot.get_updates() == ()
    await zoe.send_text("new message")
    assert [u.message.text for u in await bot.get_updates()] == ["new message"]


def test_parse_html_entities_in_utf16() -> None:
    text, entities = parse_html(
        '🏠 <b>3 bd <i>2 ba</i></b> <a href="https://x.example/?a=1&amp;b=2">go</a>'
    )
    assert text == "🏠 3 bd 2 ba go"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 13, "length": 2, "url": "https://x.example/?a=1&b=2"},
    ]


def test_parse_html_pre_code_language_and_entities() -> None:
    text, entities = parse_html(
        '<pre><code class="language-python">a &lt; b &#38; c &#x3E; d</code></pre>'
    )
    assert text == "a < b & c > d"
    assert entities == [{"type": "pre", "offset": 0, "length": 13, "language": "python"}]
    # Unknown named entities and a bare ampersand stay as they are.
    assert parse_html("Tom &amp Jerry &copy; R&D") == ("Tom & Jerry &copy; R&D", [])


def test_format_text_cleans_like_telegram() -> None:
    text, entities = format_text("\n  <b>Hi</b>\r\n\tthere  \n", "HTML", None)
    assert text == "Hi\n there"
    assert entities == [{"type": "bold", "offset": 0, "length": 2}]
    with pytest.raises(Exception, match="unsupported parse_mode"):
        format_text("x", "BBCode", None)
