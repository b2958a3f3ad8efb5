"""The process entry: wires the bot and the web server together (the only place that may
import both `bot` and `web`)."""
