"""A branch's own data file (the indicators, the groups of members) refused when the service
starts: `branchbot run` stops with exit code 2 and one line naming the file and the problem,
and an absent file names its setting."""

from pathlib import Path

from tests.conftest import Cli


def refused_at_start(cli: Cli, variable: str, broken: Path, problem: str) -> None:
    result = cli(
        "run",
        **{variable: str(broken)},
        BRANCHBOT_TELEGRAM_TOKEN="123:abc",
        BRANCHBOT_TELEGRAM_BASE_URL="http://127.0.0.1:9",  # never reached
        BRANCHBOT_LISTEN_PORT="0",
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert str(broken) in lines[0] and problem in lines[0], lines[0]
    absent = cli("run", **{variable: str(broken.parent / "absent.toml")})
    assert absent.exit_code == 2
    assert variable in absent.stderr and "absent.toml" in absent.stderr
