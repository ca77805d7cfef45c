"""requirements/dev.lock still satisfies pyproject.toml: a range changed without regenerating
the lock (see CONTRIBUTING.md) fails here rather than as a surprise install in CI."""

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements/dev.lock").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            assert pinned, f"requirements/dev.lock: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = pinned
    return pins


def _requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = project["dependencies"] + [
        wanted for extra in project["optional-dependencies"].values() for wanted in extra
    ]
    return [
        requirement
        for requirement in map(Requirement, listed)
        if canonicalize_name(requirement.name) != "branchbot"
    ]


def test_the_lock_pins_every_requirement_within_its_range() -> None:
    pins = _pins()
    for requirement in _requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is in pyproject.toml but not in the lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"the lock pins {requirement.name}=={pins[name]}, outside {requirement}"
        )


def test_the_dev_tools_are_pinned_exactly() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for wanted in map(Requirement, project["optional-dependencies"]["dev"]):
        if canonicalize_name(wanted.name) != "branchbot":
            assert str(wanted.specifier).startswith("=="), f"{wanted} is not pinned exactly"
