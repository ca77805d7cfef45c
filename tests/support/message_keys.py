"""Where the code and the web templates use message keys, for the catalog tests.

A key is used where a string literal in bot/ or handlers/ equals it, where an f-string (or a
`"prefix." + x`) starts with a prefix of it, or where a template calls t() with it; a command's
summary and usage keys are used by the module declaring the command, and `trace.<kind>` by the
code that writes that kind of trace.
"""

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from handlers.features import FEATURES

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("bot", "handlers")
TEMPLATES = ROOT / "bot" / "web" / "templates"
# `t("key", ...)` in a template; a `~` after the literal makes it a prefix (t("stage." ~ s)).
TEMPLATE_KEY = re.compile(r"""\bt\(\s*(["'])([^"']+)\1\s*(~)?""")
# Prefixes too generic to say whose a key is: every command's usage (f"cmd.{command}.usage")
# and every trace's name (f"trace.{kind}") are looked up by them.
GENERIC_PREFIXES = {"cmd.", "trace."}


@dataclass
class Uses:
    """Literal strings and constant key prefixes, each with the places (path:line) using it."""

    literals: dict[str, set[str]] = field(default_factory=dict)
    prefixes: dict[str, set[str]] = field(default_factory=dict)

    def add(self, into: dict[str, set[str]], text: str, where: str) -> None:
        into.setdefault(text, set()).add(where)


def _prefix(node: ast.JoinedStr) -> str:
    prefix = ""
    for part in node.values:
        if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
            break
        prefix += part.value
    return prefix


def _scan_python(path: Path, uses: Uses) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            uses.add(uses.literals, node.value, where)
        elif isinstance(node, ast.JoinedStr) and (prefix := _prefix(node)):
            uses.add(uses.prefixes, prefix, where)
        elif (
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Add)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        ):
            uses.add(uses.prefixes, node.left.value, where)


def _scan_template(path: Path, uses: Uses) -> None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for found in TEMPLATE_KEY.finditer(line):
            into = uses.prefixes if found.group(3) else uses.literals
            uses.add(into, found.group(2), f"{path.relative_to(ROOT)}:{number}")


def template_keys() -> Uses:
    """The keys and key prefixes (`t("stage." ~ m.stage)`) the web templates use."""
    uses = Uses()
    for path in sorted(TEMPLATES.glob("*.html")):
        _scan_template(path, uses)
    return uses


@cache
def scan() -> Uses:
    """Every string literal and constant prefix in bot/ and handlers/, and the templates' keys."""
    uses = template_keys()
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            _scan_python(path, uses)
    return uses


def _module_path(module: str) -> str:
    return str(Path(*module.split(".")).with_suffix(".py"))


def key_users(key: str) -> set[str]:
    """The files (relative paths) that use a message key."""
    uses = scan()
    places = set(uses.literals.get(key, ()))
    for prefix, where in uses.prefixes.items():
        if "." in prefix and prefix not in GENERIC_PREFIXES and key.startswith(prefix):
            places |= where
    if key.startswith("trace."):
        places |= uses.literals.get(key.removeprefix("trace."), set())
    files = {place.rsplit(":", 1)[0] for place in places}
    return files | command_key_users().get(key, set())


@cache
def command_key_users() -> dict[str, set[str]]:
    """Each command's summary and usage keys, with the module declaring the command."""
    found: dict[str, set[str]] = {}
    for feature in FEATURES:
        for command in feature.commands:
            where = _module_path(command.handler.__module__)
            for key in (command.summary_key, command.usage_key):
                found.setdefault(key, set()).add(where)
    return found


def room(path: str) -> str:
    """The package a file's words belong to: handlers/<x>, bot/<x> or bot/channels/<x>.

    Modules at the top of handlers/ (the FEATURES list) count as the core.
    """
    parts = Path(path).parts
    if parts[:2] == ("bot", "channels") and len(parts) > 3:
        return "/".join(parts[:3])
    if parts[0] == "handlers" and len(parts) == 2:
        return "handlers/core"
    return "/".join(parts[:2])
