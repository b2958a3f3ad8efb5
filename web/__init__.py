"""The web side: one aiohttp server in the bot's process (health, metrics, Telegram webhook,
the dashboard).

`web` never imports `bot` (nor `bot` `web`): what the views need from the bot (readiness
probes, where webhook updates go, the database, how a dashboard click reaches the agent's
phone) is handed in by the process wiring (rltr_mktg/process.py).
"""
