"""Message catalogs (handlers/core/locales/<lang>/*.toml) and the renderer that turns a Msg
into text.

A language's catalog is every TOML file in its folder, one per feature area, read in name
order; a key defined in two files is an error, so parts never silently override each other.

Handlers return Msgs; rendering happens here, at the edge, in the reader's language. A value
that is itself a Msg is rendered first; a list becomes one line per item.
"""

import logging
import tomllib
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handlers.core.messages import Msg, Series

LOCALES = Path(__file__).parent / "locales"
DEFAULT_LANG = "zh_CN"
log = logging.getLogger(__name__)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{full}."))
        else:
            flat[full] = str(value)
    return flat


def load_catalog(lang: str) -> dict[str, str]:
    catalog: dict[str, str] = {}
    for part in sorted((LOCALES / lang).glob("*.toml")):
        with part.open("rb") as fh:
            entries = _flatten(tomllib.load(fh))
        twice = sorted(entries.keys() & catalog.keys())
        if twice:
            raise ValueError(f"{part}: keys defined in another file too: {twice}")
        catalog.update(entries)
    return catalog


def available_languages() -> list[str]:
    return sorted(p.name for p in LOCALES.iterdir() if p.is_dir() and any(p.glob("*.toml")))


class Renderer:
    """Renders Msgs in a language, falling back to Chinese, then to the bare key."""

    def __init__(self, lang: str = DEFAULT_LANG, timezone: ZoneInfo | None = None) -> None:
        self.lang = lang
        self.timezone = timezone or ZoneInfo("Asia/Shanghai")
        self._catalogs = {name: load_catalog(name) for name in available_languages()}

    def template(self, key: str, lang: str | None = None) -> str:
        for name in (lang or self.lang, DEFAULT_LANG):
            text = self._catalogs.get(name, {}).get(key)
            if text is not None:
                return text
        log.warning("missing message key %s", key)
        return key

    def has(self, key: str) -> bool:
        return key in self._catalogs[DEFAULT_LANG]

    def value(self, value: Any, lang: str | None = None) -> str:
        if isinstance(value, Msg):
            return self.render(value, lang)
        if isinstance(value, Series):
            separator = self.template("list.separator", lang)
            return separator.join(self.value(v, lang) for v in value)
        if isinstance(value, list | tuple):
            return "\n".join(self.value(v, lang) for v in value)
        if isinstance(value, datetime):
            return value.astimezone(self.timezone).strftime("%Y-%m-%d %H:%M")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Enum):
            return str(value.value)
        return str(value)

    def render(self, msg: Msg, lang: str | None = None) -> str:
        template = self.template(msg.key, lang)
        params = {k: self.value(v, lang) for k, v in msg.params.items()}
        try:
            return template.format_map(params)
        except (KeyError, IndexError, ValueError):
            log.warning("message %s does not fit its values %s", msg.key, sorted(params))
            return template

    def render_key(self, key: str, **params: Any) -> str:
        return self.render(Msg(key, **params))
