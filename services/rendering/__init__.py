"""Renderers that turn plain values into files: bytes in, bytes out.

No database, no network, no Telegram: the flyer PDF and its PNG preview, and the weekly
digest chart. Callers load the data, call a renderer, and send the bytes.
"""
