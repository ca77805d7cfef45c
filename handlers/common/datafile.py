"""Reading a data file a branch may replace (the indicators, the groups of members): TOML
checked by the feature's own parser; every problem, the file's too, is one line."""

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def checked_toml(path: Path, parse: Callable[[dict[str, Any]], T], error: type[ValueError]) -> T:
    """The file's contents as `parse` makes them; a file that cannot be read or is not TOML
    is an `error` of one line (the caller names the file)."""
    try:
        with path.open("rb") as fh:
            return parse(tomllib.load(fh))
    except OSError as err:
        raise error(f"cannot read the file ({err.strerror or err})") from None
    except tomllib.TOMLDecodeError as err:
        raise error(f"not valid TOML: {err}") from None
