"""The Application type every part of the bot annotates with.

It lives apart from bot/app.py so that handlers, jobs and probes can name it without
importing the module that imports them.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

App = Application[Any, Any, Any, Any, Any, Any]
