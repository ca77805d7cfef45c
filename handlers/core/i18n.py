"""Message catalogs (locales/<lang>.toml beside the code that uses them) and the renderer that
turns a Msg into text.

Every package keeps its words in its own locales/ folder: each feature under handlers/, the core
(handlers/core: errors, usage and words many features share), handlers/common, and the web
page, command line, report files and channels under bot/. A language's catalog is every
locales/<lang>.toml under the LOCALE_ROOTS packages, read in path order; a key defined in two
files is an error naming both, so no file silently overrides another.

Handlers return Msgs; rendering happens here, at the edge, in the reader's language. A value
that is itself a Msg is rendered first; a list becomes one line per item.
"""

import importlib.util
import logging
import tomllib
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handlers.core.messages import Msg, Series

# The top-level packages whose locales/ folders make up the catalogs, searched without
# importing them (the core reads the words of bot/'s web page and channels, never its code).
LOCALE_ROOTS = ("handlers", "bot")
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


def locale_dirs() -> list[Path]:
    """Every package's locales/ folder under LOCALE_ROOTS, in path order."""
    found: list[Path] = []
    for name in LOCALE_ROOTS:
        spec = importlib.util.find_spec(name)
        tops = spec.submodule_search_locations if spec else None
        for top in tops or ():
            found += sorted(Path(top).glob("**/locales"))
    return found


def catalog_files(lang: str, dirs: list[Path] | None = None) -> list[Path]:
    """The files holding a language's words, one per package that has any."""
    parts = ((d / f"{lang}.toml") for d in (locale_dirs() if dirs is None else dirs))
    return [part for part in parts if part.is_file()]


def read_catalog_file(part: Path) -> dict[str, str]:
    """One file's words, by their full dotted keys, in the file's order."""
    with part.open("rb") as fh:
        return _flatten(tomllib.load(fh))


def load_catalog(lang: str, dirs: list[Path] | None = None) -> dict[str, str]:
    catalog: dict[str, str] = {}
    origin: dict[str, Path] = {}
    for part in catalog_files(lang, dirs):
        entries = read_catalog_file(part)
        twice = [f"{key} (also in {origin[key]})" for key in sorted(entries.keys() & catalog)]
        if twice:
            raise ValueError(f"{part}: keys defined in another file too: {', '.join(twice)}")
        catalog.update(entries)
        origin.update(dict.fromkeys(entries, part))
    return catalog


def available_languages(dirs: list[Path] | None = None) -> list[str]:
    folders = locale_dirs() if dirs is None else dirs
    return sorted({part.stem for folder in folders for part in folder.glob("*.toml")})


class Renderer:
    """Renders Msgs in a language, falling back to Chinese, then to the bare key."""

    def __init__(self, lang: str = DEFAULT_LANG, timezone: ZoneInfo | None = None) -> None:
        self.lang = lang
        self.timezone = timezone or ZoneInfo("Asia/Shanghai")
        dirs = locale_dirs()
        self._catalogs = {name: load_catalog(name, dirs) for name in available_languages(dirs)}

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
