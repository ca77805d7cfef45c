"""The house's one-way layering (bot → scheduler → handlers → storage), checked on every import.

Every module's imports are read with ast, wherever they stand: at the top, under
`if TYPE_CHECKING`, or inside a function (a late import is still a dependency). A rule broken
fails the build naming the module, the line and the import.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "storage", "scheduler")
# handlers/ subpackages every feature uses; every other subpackage is a feature.
SHARED = ("core", "common")

# Breaks of a rule that are known and accepted: (module, imported) -> why. Keep it empty unless
# a move would cost more than the exception; every entry says why it is allowed.
ALLOWED: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the module imported (for `from a import b`, a.b when b is a module)
    name: str | None  # the name taken from the target, if any
    line: int

    @property
    def shown(self) -> str:
        return f"{self.target}.{self.name}" if self.name else self.target

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.shown}"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_modules(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    return {
        module_name(path, root): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module a `from ... import` reads from, relative levels resolved."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    anchor = parts if is_package else parts[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join([*anchor, node.module] if node.module else anchor)


def imports_of(module: str, path: Path, known: set[str]) -> list[Import]:
    """Every import in the module's source, however deep in the tree it stands."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, is_package, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in known:
                    found.append(Import(module, sub, None, node.lineno))
                else:
                    found.append(Import(module, base, alias.name, node.lineno))
    return found


def _under(name: str, *prefixes: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _feature(name: str) -> str | None:
    """The feature package a handlers module belongs to, if it belongs to one."""
    parts = name.split(".")
    if len(parts) < 2 or parts[0] != "handlers" or parts[1] in SHARED or parts[1] == "features":
        return None
    return parts[1]


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def rule_broken(imp: Import) -> str | None:
    """The layering rule this import breaks, or None."""
    source, target = imp.module, imp.target
    if _under(source, "storage") and _under(target, "bot", "scheduler", "handlers"):
        return "storage imports nothing above it"
    if _under(source, "handlers") and _under(target, "bot", "scheduler"):
        if _feature(source):
            return "a feature imports no channel, web page or command line (bot.*)"
        return "handlers imports neither bot nor scheduler"
    if _under(source, *(f"handlers.{shared}" for shared in SHARED)) and (
        _feature(target) or _under(target, "handlers.features")
    ):
        return "handlers.core and handlers.common import no feature"
    if _under(source, "scheduler") and _under(target, "bot"):
        return "scheduler imports nothing from bot"
    if _under(source, "bot.channels") and _under(target, "bot.cli", "bot.web"):
        return "a channel imports neither the command line nor the web page"
    owner, other = _feature(source), _feature(target)
    if owner and other and owner != other:
        taken = [imp.name or "", *target.split(".")[2:]]
        if any(_is_private(part) for part in taken):
            return "a feature takes no private name from another feature"
    return None


def violations(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    modules = find_modules(root, packages)
    known = set(modules)
    broken: list[str] = []
    for module, path in modules.items():
        for imp in imports_of(module, path, known):
            rule = rule_broken(imp)
            if rule and (imp.module, imp.shown) not in ALLOWED:
                broken.append(f"{imp}: {rule}")
    return broken


def test_the_house_keeps_its_layers() -> None:
    broken = violations(ROOT)
    assert not broken, "layering broken:\n" + "\n".join(broken)


def test_every_allowed_break_still_exists() -> None:
    """An exception that no longer applies is removed, so the list never hides a new break."""
    modules = find_modules(ROOT)
    seen = {
        (imp.module, imp.shown)
        for module, path in modules.items()
        for imp in imports_of(module, path, set(modules))
    }
    assert set(ALLOWED) <= seen, f"stale entries in ALLOWED: {set(ALLOWED) - seen}"


# The checker itself, on a synthetic house: each rule must catch what it is for.

SYNTHETIC = {
    "storage/__init__.py": "",
    "storage/db.py": "def f():\n    from handlers.core import context\n",
    "scheduler/__init__.py": "",
    "scheduler/jobs.py": "import bot.serve\n",
    "bot/__init__.py": "",
    "bot/serve.py": "",
    "bot/cli/__init__.py": "",
    "bot/channels/__init__.py": "",
    "bot/channels/console.py": "from ..cli import main\n",
    "handlers/__init__.py": "",
    "handlers/features.py": "from handlers.meetings import feature\n",
    "handlers/core/__init__.py": "",
    "handlers/core/router.py": (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from handlers import features\n"
    ),
    "handlers/common/__init__.py": "",
    "handlers/common/lookup.py": "from handlers.account.members import find\n",
    "handlers/account/__init__.py": "",
    "handlers/account/members.py": "from handlers.core import router\n",
    "handlers/meetings/__init__.py": "",
    "handlers/meetings/feature.py": (
        "from handlers.core.router import route\n"
        "from handlers.meetings.checkin import _code\n"
        "from handlers.account.members import _secret\n"
    ),
    "handlers/meetings/checkin.py": "from bot.channels import console\n",
}


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    for name, source in SYNTHETIC.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source, encoding="utf-8")
    return tmp_path


def test_the_checker_catches_each_rule(synthetic: Path) -> None:
    assert set(violations(synthetic)) == {
        "storage.db:2 imports handlers.core.context: storage imports nothing above it",
        "scheduler.jobs:1 imports bot.serve: scheduler imports nothing from bot",
        "bot.channels.console:1 imports bot.cli.main: "
        "a channel imports neither the command line nor the web page",
        "handlers.core.router:3 imports handlers.features: "
        "handlers.core and handlers.common import no feature",
        "handlers.common.lookup:1 imports handlers.account.members.find: "
        "handlers.core and handlers.common import no feature",
        "handlers.meetings.feature:3 imports handlers.account.members._secret: "
        "a feature takes no private name from another feature",
        "handlers.meetings.checkin:1 imports bot.channels.console: "
        "a feature imports no channel, web page or command line (bot.*)",
    }


def test_a_clean_house_passes(synthetic: Path) -> None:
    for name in ("storage/db.py", "scheduler/jobs.py", "bot/channels/console.py"):
        (synthetic / name).write_text("import sqlalchemy\nfrom storage import db\n")
    for name in ("handlers/core/router.py", "handlers/common/lookup.py"):
        (synthetic / name).write_text("from handlers.core import router\n")
    (synthetic / "handlers/meetings/checkin.py").write_text("from ._shared import x\n")
    (synthetic / "handlers/meetings/feature.py").write_text(
        "from handlers.account import members\n"
    )
    assert violations(synthetic) == []
