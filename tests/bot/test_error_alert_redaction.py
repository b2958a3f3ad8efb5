"""The admins' error alert (the PTB error handler) never carries a secret."""

from __future__ import annotations

from tests.bot.conftest import ADMIN_ID, BotHarness


async def test_the_error_alert_to_admins_has_no_token(harness: BotHarness) -> None:
    admin = harness.fake.user(ADMIN_ID)
    bot_token = harness.settings.require_bot_token()
    page_token = "EAAGpageTokenSeenInAnErrorText0123456789"
    error = RuntimeError(
        f"Cannot connect to http://127.0.0.1:9/bot{bot_token}/sendMessage "
        f"(GET /me?access_token={page_token})"
    )
    await harness.app.process_error(update=None, error=error)
    [alert] = admin.texts()
    assert "RuntimeError" in alert and "/sendMessage" in alert, alert
    assert bot_token not in alert and bot_token.split(":")[1] not in alert, alert
    assert page_token not in alert, alert
