"""The README and docs/ stay true to the tree: every relative link resolves (file and heading),
every repository path cited in backticks exists, and the README stays short enough to read.

Paths move (issue 22 moved most of them); a page that still names an old one misleads a newcomer
more than a page that names none, so a stale path fails the build here.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 200

FENCE = re.compile(r"^```.*?^```", re.M | re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
# A cited path starts at one of the repository's top-level folders; anything else in backticks
# (commands, settings, table names, `data/...` written at run time) is not a path in the tree.
REPO_PATH = re.compile(r"^(?:bot|handlers|storage|scheduler|tests|bench|docs|\.ci)/[\w./<>*-]*$")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def prose(page: Path) -> str:
    """The page without its fenced code blocks (shell examples name files that need not exist)."""
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (CJK kept), spaces to -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(prose(page)):
        base = slug(heading)
        name, n = base, 0
        while name in found:  # GitHub numbers repeated headings: name, name-1, name-2
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


def cited_paths(page: Path) -> list[str]:
    paths = []
    for span in CODE_SPAN.findall(prose(page)):
        for token in span.split():
            token = token.split("::")[0].rstrip(".,;:)")
            if REPO_PATH.match(token):
                paths.append(token)
    return paths


def exists(cited: str) -> bool:
    """A path with placeholders (`handlers/<feature>/`) exists when something matches it."""
    pattern = re.sub(r"<[^>]+>", "*", cited).rstrip("/")
    if "*" in pattern:
        return any(ROOT.glob(pattern))
    return (ROOT / pattern).exists()


def test_pages_found() -> None:
    names = {page.name for page in PAGES}
    assert {"README.md", "configuration.md", "architecture.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        goal = (page.parent / file_part).resolve() if file_part else page
        if not goal.exists():
            broken.append(f"{target}: no such file")
        elif anchor and goal.suffix == ".md" and anchor not in anchors(goal):
            broken.append(f"{target}: no heading #{anchor} in {goal.name}")
    assert not broken, f"{page.name}: broken links: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_cited_paths_exist(page: Path) -> None:
    missing = sorted({path for path in cited_paths(page) if not exists(path)})
    assert not missing, f"{page.name} cites paths that do not exist: {missing}"


def test_readme_is_short() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/"


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """The helpers see what they must: a stale path, a placeholder path, a slug with CJK."""
    page = tmp_path / "page.md"
    page.write_text(
        "# Traces (留痕)\n\nSee `bot/tg/send.py`, `handlers/<feature>/` and `data/x.db`.\n"
        "```sh\nls bench/nothing.py\n```\n",
        encoding="utf-8",
    )
    assert cited_paths(page) == ["bot/tg/send.py", "handlers/<feature>/"]
    assert not exists("bot/tg/send.py")
    assert exists("handlers/<feature>/")
    assert anchors(page) == {"traces-留痕"}
