"""Optional parts of the install (pyproject.toml's extras), imported when first used.

A deployment may leave out WeCom or the Word and PDF readers. Using a part it left out then
fails with one line naming the extra to install, not a ModuleNotFoundError from deep inside.
"""

from collections.abc import Iterator
from contextlib import contextmanager


class MissingExtra(Exception):
    """`purpose` needs the extra `extra`, and its module `module` is not installed."""

    def __init__(self, extra: str, purpose: str, module: str) -> None:
        super().__init__(
            f"{purpose} needs the optional part '{extra}' ({module} is not installed): "
            f"pip install 'branchbot[{extra}]'"
        )
        self.extra = extra
        self.purpose = purpose
        self.module = module


@contextmanager
def optional_part(extra: str, purpose: str) -> Iterator[None]:
    """Imports in this block belong to `extra`: one missing becomes MissingExtra."""
    try:
        yield
    except ModuleNotFoundError as err:
        # The package, not the submodule the import stopped at.
        raise MissingExtra(extra, purpose, (err.name or "?").split(".")[0]) from err
