"""Message catalogs: en matches zh_CN, and every key the code and the web templates use exists.

zh_CN (handlers/core/locales/zh_CN/*.toml) is the default and complete catalog; every other
catalog must have exactly its files and keys (in the same order) and the same `{placeholder}` names.
"""

import ast
import re
import string
from pathlib import Path

import pytest

from handlers.core.i18n import DEFAULT_LANG, LOCALES, Renderer, load_catalog
from handlers.core.messages import Msg
from handlers.features import FEATURES
from storage.trace_kinds import TRACE_KINDS

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "handlers")
TEMPLATES = ROOT / "bot" / "web" / "templates"
# `t("key", ...)` in a template; a `~` after the literal makes it a prefix (t("stage." ~ s)).
TEMPLATE_KEY = re.compile(r"""\bt\(\s*(["'])([^"']+)\1\s*(~)?""")
# Calls whose first argument is a message key; `say(settings, key, ...)` takes it second.
KEY_CALLS = {"Msg": 0, "UserError": 0, "RecordedRefusal": 0, "say": 1}
CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
FULL_WIDTH_PUNCTUATION = re.compile("[\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40]")

ZH = load_catalog(DEFAULT_LANG)
EN = load_catalog("en")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _dummy_format(template: str) -> str:
    names = placeholders(template)
    positional = [f"<{n}>" for n in names if n == "" or n.isdigit()]
    named = {re.split(r"[.\[]", n)[0]: f"<{n}>" for n in names if n and not n.isdigit()}
    return template.format(*positional, **named)


def _key_literals(node: ast.expr) -> tuple[set[str], set[str]]:
    """(exact keys, constant prefixes of f-string keys) a key argument can evaluate to."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}, set()
    if isinstance(node, ast.JoinedStr):
        prefix = ""
        for part in node.values:
            if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
                break
            prefix += part.value
        return set(), {prefix}
    if isinstance(node, ast.IfExp):
        body_keys, body_prefixes = _key_literals(node.body)
        else_keys, else_prefixes = _key_literals(node.orelse)
        return body_keys | else_keys, body_prefixes | else_prefixes
    return set(), set()  # a variable (e.g. command.summary_key): checked elsewhere


def _used_keys() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Message keys and f-string key prefixes used in the code, each with where it is used."""
    keys: dict[str, set[str]] = {}
    prefixes: dict[str, set[str]] = {}
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                position = KEY_CALLS.get(name or "")
                if position is None or len(node.args) <= position:
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found_keys, found_prefixes = _key_literals(node.args[position])
                for key in found_keys:
                    keys.setdefault(key, set()).add(where)
                for prefix in found_prefixes:
                    prefixes.setdefault(prefix, set()).add(where)
    return keys, prefixes


def _missing_report(missing: dict[str, set[str]]) -> str:
    return "\n".join(
        f"  {key}  (used at {', '.join(sorted(where))})" for key, where in sorted(missing.items())
    )


def test_catalogs_have_the_same_keys() -> None:
    missing_in_en = sorted(ZH.keys() - EN.keys())
    extra_in_en = sorted(EN.keys() - ZH.keys())
    assert not missing_in_en and not extra_in_en, (
        f"en.toml is missing keys {missing_in_en}; en.toml has keys not in zh_CN.toml {extra_in_en}"
    )
    assert list(EN) == list(ZH), "en should list its keys in the same order as zh_CN"
    parts = {
        lang: sorted(p.name for p in (LOCALES / lang).glob("*.toml"))
        for lang in ("en", DEFAULT_LANG)
    }
    assert parts["en"] == parts[DEFAULT_LANG], f"catalog files differ: {parts}"


@pytest.mark.parametrize("key", sorted(ZH.keys() & EN.keys()))
def test_placeholders_match(key: str) -> None:
    assert placeholders(EN[key]) == placeholders(ZH[key]), (
        f"{key}: en has {sorted(placeholders(EN[key]))}, zh_CN has {sorted(placeholders(ZH[key]))}"
    )


@pytest.mark.parametrize(
    ("lang", "key"),
    [("zh_CN", key) for key in sorted(ZH)] + [("en", key) for key in sorted(EN)],
)
def test_templates_format(lang: str, key: str) -> None:
    template = (ZH if lang == "zh_CN" else EN)[key]
    try:
        _dummy_format(template)
    except (KeyError, IndexError, ValueError) as err:
        pytest.fail(f"{lang} {key} does not format: {err!r}: {template!r}")


def test_english_uses_ascii_punctuation() -> None:
    bad = {key: text for key, text in EN.items() if FULL_WIDTH_PUNCTUATION.search(text)}
    assert not bad, f"full-width punctuation in en.toml: {bad}"


def _template_keys() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Message keys and key prefixes (`t("stage." ~ m.stage)`) the web templates use."""
    keys: dict[str, set[str]] = {}
    prefixes: dict[str, set[str]] = {}
    for path in sorted(TEMPLATES.glob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for found in TEMPLATE_KEY.finditer(line):
                into = prefixes if found.group(3) else keys
                into.setdefault(found.group(2), set()).add(f"{path.relative_to(ROOT)}:{number}")
    return keys, prefixes


@pytest.mark.parametrize("lang", [DEFAULT_LANG, "en"])
def test_keys_used_in_code_exist_in_both_catalogs(lang: str) -> None:
    keys, _ = _used_keys()
    assert keys, "found no Msg/UserError/RecordedRefusal/say calls: is the scan broken?"
    catalog = ZH if lang == DEFAULT_LANG else EN
    missing = {key: where for key, where in keys.items() if key not in catalog}
    assert not missing, (
        f"message keys used in code but MISSING FROM {lang}:\n{_missing_report(missing)}"
    )


@pytest.mark.parametrize("lang", [DEFAULT_LANG, "en"])
def test_keys_used_in_templates_exist_in_both_catalogs(lang: str) -> None:
    keys, prefixes = _template_keys()
    assert "web.title" in keys and "stage." in prefixes, "the template scan is broken"
    catalog = ZH if lang == DEFAULT_LANG else EN
    missing = {key: where for key, where in keys.items() if key not in catalog}
    missing |= {
        f"{p}*": where for p, where in prefixes.items() if not any(k.startswith(p) for k in catalog)
    }
    assert not missing, (
        f"message keys used in templates but MISSING FROM {lang}:\n{_missing_report(missing)}"
    )


def test_key_prefixes_used_in_code_exist_in_default_catalog() -> None:
    _, prefixes = _used_keys()
    assert prefixes, "found no f-string message keys: is the scan broken?"
    missing = {p: where for p, where in prefixes.items() if not any(k.startswith(p) for k in ZH)}
    assert not missing, (
        "f-string message keys whose prefix matches NO key in zh_CN.toml:\n"
        f"{_missing_report(missing)}"
    )


def test_command_keys_exist_in_default_catalog() -> None:
    commands = [command for feature in FEATURES for command in feature.commands]
    assert commands
    missing = sorted(
        key
        for command in commands
        for key in (command.summary_key, command.usage_key)
        if key not in ZH
    )
    assert not missing, f"command summary/usage keys MISSING FROM zh_CN.toml: {missing}"


def test_trace_kind_keys_exist_in_default_catalog() -> None:
    missing = sorted(f"trace.{kind}" for kind in TRACE_KINDS if f"trace.{kind}" not in ZH)
    assert not missing, f"trace kind keys MISSING FROM zh_CN.toml: {missing}"


def test_renders_in_english() -> None:
    text = Renderer("en").render(
        Msg("bind.ok", name="Li", branch="B", role=Msg("role.member"), stage=Msg("stage.full"))
    )
    assert not CJK.search(text), text
    assert "Li" in text and "B" in text
    assert "member (full member)" in text
    assert "{" not in text and "}" not in text
