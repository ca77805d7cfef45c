"""A fake Telegram Bot API server on aiohttp that the real python-telegram-bot talks to.

Used by the end-to-end tests and by benchmark scripts (standalone:
python -m tests.support.fake_telegram).
"""

from tests.support.fake_telegram.api import JSON, ApiError, Call, Files
from tests.support.fake_telegram.server import FakeTelegram

__all__ = ["JSON", "ApiError", "Call", "FakeTelegram", "Files"]
