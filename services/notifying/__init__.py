"""Telling agents: the Notifier interface the bot implements, notification rows, and the
delivery job's sending of drafts and notifications (with retries and per-part progress)."""
