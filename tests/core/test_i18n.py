"""Message catalogs: en matches zh_CN file by file, and every key the code and the web templates
use exists.

zh_CN is the default and complete catalog; in every package's locales/ folder, en.toml must have
exactly the keys of zh_CN.toml beside it (in the same order) and the same `{placeholder}` names.
Where each key lives (beside the code using it) is tests/core/test_i18n_owners.py's concern.
"""

import ast
import re
import string
from pathlib import Path

import pytest

from handlers.core.i18n import DEFAULT_LANG, Renderer, load_catalog, locale_dirs, read_catalog_file
from handlers.core.messages import Msg
from handlers.features import FEATURES
from storage.trace_kinds import TRACE_KINDS
from tests.support.message_keys import ROOT, SCANNED, template_keys

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


@pytest.mark.parametrize("folder", locale_dirs(), ids=lambda d: str(d.parent.relative_to(ROOT)))
def test_each_folder_has_the_same_keys_in_both_languages(folder: Path) -> None:
    files = sorted(p.name for p in folder.iterdir() if p.suffix == ".toml")
    assert files == ["en.toml", "zh_CN.toml"], f"{folder} should hold en.toml and zh_CN.toml"
    zh = list(read_catalog_file(folder / "zh_CN.toml"))
    en = list(read_catalog_file(folder / "en.toml"))
    missing_in_en, extra_in_en = sorted(set(zh) - set(en)), sorted(set(en) - set(zh))
    assert not missing_in_en and not extra_in_en, (
        f"{folder}: en.toml is missing keys {missing_in_en}; "
        f"en.toml has keys not in zh_CN.toml {extra_in_en}"
    )
    assert en == zh, f"{folder}: en.toml should list its keys in the same order as zh_CN.toml"


def test_every_feature_keeps_its_words_beside_it() -> None:
    found = {folder.parent.relative_to(ROOT).as_posix() for folder in locale_dirs()}
    features = {
        "/".join(command.handler.__module__.split(".")[:2])
        for feature in FEATURES
        for command in feature.commands
    }
    assert len(features) > 10 and {"handlers/core", "bot/web", "bot/cli"} <= found, found
    assert not features - found, f"features without a locales/ folder: {features - found}"


def test_a_key_in_two_files_is_an_error_naming_both(tmp_path: Path) -> None:
    dirs = [tmp_path / "a" / "locales", tmp_path / "b" / "locales"]
    for folder, text in zip(dirs, ('[x]\ny = "1"\n', 'z = "2"\nx.y = "3"\n'), strict=True):
        folder.mkdir(parents=True)
        (folder / "en.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"x\.y") as raised:
        load_catalog("en", dirs)
    assert str(dirs[0] / "en.toml") in str(raised.value)
    assert str(dirs[1] / "en.toml") in str(raised.value)
    assert load_catalog("en", dirs[1:]) == {"z": "2", "x.y": "3"}


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
    uses = template_keys()
    keys, prefixes = uses.literals, uses.prefixes
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
