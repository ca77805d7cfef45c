"""The tests' own layout: test modules import shared rigs and helpers from tests/support,
never from one another (a helper another module needs belongs in support)."""

import ast
from pathlib import Path

TESTS = Path(__file__).parents[1]


def _is_test_module(dotted: str) -> bool:
    return any(part.startswith("test_") for part in dotted.split("."))


def imports_of_test_modules(source: str) -> list[str]:
    """The test modules `source` imports, as written (`tests.x.test_y`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                a.name
                for a in node.names
                if a.name.startswith("tests.") and _is_test_module(a.name)
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith("tests"):
                continue  # a library's test_* module (aiohttp.test_utils) is not ours
            if _is_test_module(node.module):
                found.append(node.module)
            found += [f"{node.module}.{a.name}" for a in node.names if _is_test_module(a.name)]
    return found


def test_no_test_module_imports_another() -> None:
    offenders = {
        str(path.relative_to(TESTS)): found
        for path in sorted(TESTS.rglob("*.py"))
        if (found := imports_of_test_modules(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "move the shared helpers into tests/support"


def test_the_check_sees_every_spelling() -> None:
    source = (
        "import tests.dues.test_dues\n"
        "from tests.notices.test_notices import queued\n"
        "from tests.study import test_study\n"
        "from tests.support.notices import queued\n"
        "from aiohttp.test_utils import TestClient\n"
    )
    assert imports_of_test_modules(source) == [
        "tests.dues.test_dues",
        "tests.notices.test_notices",
        "tests.study.test_study",
    ]
