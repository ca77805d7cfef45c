"""The Telegram adapter, on python-telegram-bot: polling or webhook, in and out."""
