"""Admin commands: onboarding and the publishing kill switch."""

from __future__ import annotations

import logging

from bot.handler_kit import Command, handles_message
from bot.render import bold, code, escape
from services.onboarding import add_agent, invite_link
from services.publishing import publish_pause

log = logging.getLogger(__name__)


@handles_message(admin=True)
async def addagent(c: Command) -> None:
    """/addagent <email> <full name>: create the agent, reply with the invite link."""
    if len(c.args) < 2:
        await c.reply(
            "Usage: /addagent &lt;email&gt; &lt;full name&gt;, e.g. "
            + code("/addagent chris@example.com Chris Doe")
        )
        return
    new = await c.rt.database.run(add_agent, email=c.args[0], name=" ".join(c.args[1:]))
    link = invite_link(c.rt.bot_username, new.invite_token)
    await c.reply(
        f"Agent {bold(new.agent.name)} ({escape(new.agent.email)}) created.\n"
        f"Send them this link (single use, valid 7 days):\n{escape(link)}"
    )


@handles_message(admin=True)
async def pause(c: Command) -> None:
    """/pause: stop all publishing at once (scheduled posts wait)."""
    await publish_pause.set_paused(c.rt.database, True)
    await c.reply("⏸ Publishing is paused. Scheduled posts will wait. /resume to restart.")


@handles_message(admin=True)
async def resume(c: Command) -> None:
    """/resume: publishing runs again."""
    await publish_pause.set_paused(c.rt.database, False)
    await c.reply("▶️ Publishing is running again.")
