"""Optional parts (the wecom and documents extras): the rest works without them, and using one
that is missing says in one line which extra to install."""

import subprocess
import sys
from typing import Any, cast

import pytest

from bot.app.services import Services
from bot.cli.support import run
from bot.serve import _wecom
from handlers.core.extras import MissingExtra, optional_part
from handlers.core.messages import UserError
from handlers.study.documents import read_document

EXTRAS_MODULES = ("wechatpy", "eviltransform", "docx", "pypdf", "playwright")


def _uninstall(monkeypatch: pytest.MonkeyPatch, *packages: str) -> None:
    """As if the packages were not installed: imports of them fail as a missing module."""
    for name in list(sys.modules):
        if name.split(".")[0] in packages or name == "bot.channels.wecom.service":
            monkeypatch.delitem(sys.modules, name)
    for package in packages:
        monkeypatch.setitem(sys.modules, package, None)


def test_the_service_and_the_command_line_load_without_any_extra() -> None:
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in EXTRAS_MODULES)
    code = f"import sys; {blocked}; import bot.serve, bot.cli.main, bot.cli.demo, bot.cli.study"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", ["notes.docx", "notes.pdf"])
def test_a_document_without_its_reader_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    _uninstall(monkeypatch, "docx", "pypdf")
    with pytest.raises(UserError) as raised:
        read_document(name, b"anything")
    assert raised.value.msg.key == "material.needs_extra"
    assert raised.value.msg.params == {"name": name, "extra": "documents"}


@pytest.mark.parametrize("package", ["wechatpy", "eviltransform"])
def test_wecom_configured_without_its_extra_names_it(
    monkeypatch: pytest.MonkeyPatch, package: str
) -> None:
    _uninstall(monkeypatch, package)
    with pytest.raises(MissingExtra) as raised:
        _wecom(cast(Services, None))
    assert (raised.value.extra, raised.value.module) == ("wecom", package)


def test_the_command_line_says_it_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    async def needs_wecom() -> Any:
        raise MissingExtra("wecom", "WeCom", "wechatpy")

    with pytest.raises(SystemExit) as exited:
        run(None, needs_wecom())
    assert exited.value.code == 2
    said = capsys.readouterr().err.strip()
    assert "\n" not in said and "WeCom" in said and "pip install 'branchbot[wecom]'" in said


def test_only_a_missing_module_is_a_missing_extra() -> None:
    with pytest.raises(ImportError), optional_part("documents", "PDF"):
        raise ImportError("cannot import name 'PdfReader'")
