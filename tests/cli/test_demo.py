"""`branchbot demo` plays its whole script without a token or network, in both languages."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import main


@pytest.mark.parametrize(("lang", "expected"), [("zh_CN", "留痕链完整"), ("en", "Trace chain")])
def test_demo_plays_through(tmp_path: Path, lang: str, expected: str) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--no-console", "--folder", str(tmp_path)], env={"BRANCHBOT_LANG": lang}
    )
    assert result.exit_code == 0, result.output
    assert expected in result.output
    assert result.output.count("◀") >= 18  # every scripted line was answered
    assert (tmp_path / "demo.sqlite3").exists()
    assert any((tmp_path / "console").glob("mydata-*.json"))
