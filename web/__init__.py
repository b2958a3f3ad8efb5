"""The web side: one aiohttp server in the bot's process (health, metrics, Telegram webhook).

`web` never imports `bot` (nor `bot` `web`): what the views need from the bot (readiness
probes, where webhook updates go) is handed in by the process wiring (rltr_mktg/process.py).
"""
