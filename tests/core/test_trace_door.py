"""Handler code writes traces through one door, a Tracer (handlers/core/tracer.py): no module
under handlers/ but handlers/core calls storage.traces' writers itself. Reading traces
(counts, refs already written) is not writing and stays free.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WRITERS = {"append", "append_many"}
MODULE = "storage.traces"


def _trace_modules(tree: ast.AST) -> set[str]:
    """The names storage.traces is bound to in a module (`from storage import traces as t`,
    `import storage.traces as t`), and `storage` itself when imported plainly."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "storage" and not node.level:
            names |= {a.asname or a.name for a in node.names if a.name == "traces"}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == MODULE:
                    names.add(alias.asname or "storage")
    return names


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def writes(source: str, filename: str = "<module>") -> list[str]:
    """Where a module reaches storage.traces' writers, as `line: what`."""
    tree = ast.parse(source, filename=filename)
    bound = _trace_modules(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == MODULE:
            found += [f"{node.lineno}: imports {a.name}" for a in node.names if a.name in WRITERS]
        elif isinstance(node, ast.Attribute) and node.attr in WRITERS:
            owner = _dotted(node.value)
            if owner in bound or owner == MODULE:
                found.append(f"{node.lineno}: {owner}.{node.attr}")
    return found


def test_handlers_write_traces_only_through_a_tracer() -> None:
    broken = [
        f"{path.relative_to(ROOT)}:{where}"
        for path in sorted((ROOT / "handlers").rglob("*.py"))
        if (ROOT / "handlers" / "core") not in path.parents
        for where in writes(path.read_text(encoding="utf-8"), str(path))
    ]
    assert not broken, "write through ctx.trace or a SessionTracer:\n" + "\n".join(broken)


@pytest.mark.parametrize(
    "source",
    [
        "from storage import traces\nasync def f(s, b):\n    await traces.append(s, b)\n",
        "from storage import traces as t\nasync def f(s, b):\n    await t.append_many(s, b)\n",
        "import storage.traces\nasync def f(s, b):\n    await storage.traces.append(s, b)\n",
        "from storage.traces import append_many\n",
    ],
)
def test_the_check_catches_each_way_in(source: str) -> None:
    assert writes(source)


def test_reading_traces_and_other_appends_pass() -> None:
    source = (
        "from storage import traces\n"
        "from storage.traces import Entry\n"
        "async def f(s, rows):\n"
        "    rows.append(1)\n"
        "    return await traces.count(s, kind='x')\n"
    )
    assert writes(source) == []
