"""The deployment recipe (deploy/): the compose file and the systemd units name only real
`branchbot` commands and real settings, Caddy routes exactly the public paths, and the
recipe runs without containers: `init` once, two service processes on PostgreSQL with the
compose file's settings, Caddy with deploy/Caddyfile in front, a Telegram update through it."""

import asyncio
import configparser
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.app.settings import PREFIX, Settings
from bot.cli.main import main
from tests.conftest import SECRET
from tests.support.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SETTINGS = {f"{PREFIX}{name.upper()}" for name in Settings.model_fields}
PUBLIC = {"/telegram", "/wecom/callback", "/web", "/web/*"}
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def branchbot_services(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in spec["services"].items() if s.get("image") == "branchbot:latest"}


def test_compose_runs_init_once_then_processes_of_real_commands_and_settings() -> None:
    spec = compose()
    bots = branchbot_services(spec)
    commands = {name: s["command"] for name, s in bots.items()}
    assert all(c[0] in main.commands for c in commands.values()), commands
    runs = [name for name, c in commands.items() if c == ["run"]]
    assert commands["init"] == ["init"] and bots["init"]["restart"] == "no" and len(runs) >= 2
    assert bots["init"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in runs:
        assert bots[name]["depends_on"] == {"init": {"condition": "service_completed_successfully"}}
    for name, service in bots.items():
        unknown = {v for v in service["environment"] if v.startswith(PREFIX)} - SETTINGS
        assert not unknown, (name, unknown)
    caddy = spec["services"]["caddy"]
    port = bots[runs[0]]["environment"]["BRANCHBOT_LISTEN_PORT"]
    assert caddy["environment"]["UPSTREAMS"].split() == [f"{name}:{port}" for name in runs]
    assert set(caddy["depends_on"]) == set(runs)
    webhook = bots[runs[0]]["environment"]["BRANCHBOT_WEBHOOK_URL"]
    assert re.sub(INTERPOLATION, "x", webhook).endswith("/telegram")


def test_every_variable_the_compose_file_uses_is_in_the_example() -> None:
    used = set(INTERPOLATION.findall((DEPLOY / "docker-compose.yml").read_text()))
    example = _env_file(DEPLOY / "env.example")
    assert used == set(example), used ^ set(example)
    assert {v for v in example if v.startswith(PREFIX)} <= SETTINGS


def test_the_image_copies_what_exists_and_runs_branchbot() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    copied = re.findall(r"^COPY (.+) \S+$", text, re.MULTILINE)
    for sources in copied:
        for source in sources.split():
            assert (ROOT / source).exists(), source
    assert 'ENTRYPOINT ["branchbot"]' in text and 'CMD ["run"]' in text


def test_systemd_units_run_real_commands_with_real_settings() -> None:
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {"branchbot-init.service", "branchbot@.service"}
    for unit in units:
        service = _unit(unit)["Service"]
        found = re.findall(r"/branchbot (\S+)", service.get("execstart", ""))
        assert all(command in main.commands for command in found), (unit.name, found)
        for line in service.get("environment", "").splitlines():
            name = line.strip('"').split("=")[0]
            assert name in SETTINGS or not name.startswith(PREFIX), (unit.name, name)
    assert set(_env_file(DEPLOY / "systemd" / "branchbot.env.example")) <= SETTINGS
    init = _unit(DEPLOY / "systemd" / "branchbot-init.service")["Service"]
    assert init["type"] == "oneshot" and init["execstart"].endswith("branchbot init")
    assert (
        "branchbot-init.service"
        in _unit(DEPLOY / "systemd" / "branchbot@.service")["Unit"]["requires"]
    )


def test_caddy_routes_the_public_paths_and_nothing_else() -> None:
    routes = _adapted("example.edu.cn", "bot1:8080 bot2:8080")["apps"]["http"]["servers"]
    [server] = routes.values()
    [site] = server["routes"]
    assert site["match"] == [{"host": ["example.edu.cn"]}]
    proxied, fallback = site["handle"][0]["routes"]
    assert set(proxied["match"][0]["path"]) == PUBLIC
    [proxy] = proxied["handle"][0]["routes"][0]["handle"]
    assert [u["dial"] for u in proxy["upstreams"]] == ["bot1:8080", "bot2:8080"]
    assert proxy["health_checks"]["active"]["uri"] == "/healthz"
    assert fallback["handle"][0]["routes"][0]["handle"][0]["status_code"] == 404


async def test_the_recipe_runs_behind_caddy_on_postgresql(
    fake: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several service processes share a PostgreSQL database, not a SQLite file")
    caddy_port, ports = _free_port(), [_free_port(), _free_port()]
    public = f"http://127.0.0.1:{caddy_port}"
    env = _compose_env(database_url, public, fake.base_url)
    await _run(env, "init")  # the compose file's one-shot service
    await _run(env, "branch", "add", "部署测试支部")
    added = await _run(
        env, "member", "add", "--branch", "部署测试支部", "--name", "部署测试", "--json"
    )
    code = json.loads(added)["invite_code"]
    caddy = _caddy(tmp_path, public, ports)
    bots = [_bot(env, port, tmp_path / f"bot{port}.log") for port in ports]
    try:
        await fake.wait_until(lambda: fake.webhook_url == f"{public}/telegram", timeout=30)
        await _proxy_ready(f"{public}/web/login")
        fake.push_message(7001, f"/start {code}")  # Telegram -> Caddy -> a service process
        await fake.wait_until(lambda: len(fake.texts_to(7001)) == 1, timeout=30)
        assert "绑定成功" in fake.texts_to(7001)[0]
        # Which answered: the service's responses carry its security headers, Caddy's not.
        # /wecom/callback reaches a service (which has no WeCom set up here: 404).
        async with aiohttp.ClientSession() as http:
            for path, status, served in (
                ("/web/login", 200, True),
                ("/wecom/callback", 404, True),
                ("/healthz", 404, False),
                ("/elsewhere", 404, False),
            ):
                async with http.get(public + path) as response:
                    assert response.status == status, path
                    assert ("X-Frame-Options" in response.headers) == served, path
    finally:
        for process in [*bots, caddy]:
            process.send_signal(signal.SIGTERM)
        for process in [*bots, caddy]:
            await asyncio.to_thread(process.wait, 30)
    assert all(process.returncode == 0 for process in bots)


# --- helpers --------------------------------------------------------------------------------


def _env_file(path: Path) -> dict[str, str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {name: value for name, value in pairs}


def _unit(path: Path) -> configparser.RawConfigParser:
    """A unit file; repeated keys (Environment=) joined line by line."""
    parser = configparser.RawConfigParser(strict=False, dict_type=_Joined)  # type: ignore[arg-type]
    parser.read(path)
    return parser


class _Joined(dict[str, Any]):
    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, list) and key in self:
            value = self[key] + value
        super().__setitem__(key, value)


def _caddy_binary() -> str:
    found = shutil.which("caddy")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs caddy (apt-get install caddy)")
        pytest.skip("caddy is not installed (apt-get install caddy)")
    return found


def _adapted(domain: str, upstreams: str) -> dict[str, Any]:
    """deploy/Caddyfile as Caddy itself reads it (its own JSON config)."""
    done = subprocess.run(
        [_caddy_binary(), "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        env={**os.environ, "DOMAIN": domain, "UPSTREAMS": upstreams},
        capture_output=True,
        check=True,
    )
    return json.loads(done.stdout)


def _caddy(tmp_path: Path, public: str, ports: list[int]) -> subprocess.Popen[bytes]:
    """Caddy on deploy/Caddyfile, plain HTTP on a free port, its admin API on another."""
    config = _adapted(public, " ".join(f"127.0.0.1:{p}" for p in ports))
    config["admin"] = {"listen": f"127.0.0.1:{_free_port()}"}
    path = tmp_path / "caddy.json"
    path.write_text(json.dumps(config))
    home = {"XDG_DATA_HOME": str(tmp_path / "caddy"), "XDG_CONFIG_HOME": str(tmp_path / "caddy")}
    return subprocess.Popen(
        [_caddy_binary(), "run", "--config", str(path)],
        env={**os.environ, **home},
        stderr=(tmp_path / "caddy.log").open("wb"),
    )


def _compose_env(database_url: str, public: str, telegram: str) -> dict[str, str]:
    """The environment the compose file gives its service processes, with this machine's
    database, address and fake Telegram in place of the containers'."""
    values = {
        "POSTGRES_PASSWORD": "x",
        "BRANCHBOT_SECRET_KEY": SECRET,
        "BRANCHBOT_TELEGRAM_TOKEN": "123456:TEST",
        "DOMAIN": public.removeprefix("http://"),
        "BRANCHBOT_WEBHOOK_SECRET": "deploy-test",
    }
    given = branchbot_services(compose())["bot1"]["environment"]
    env = {name: INTERPOLATION.sub(lambda m: values.get(m[1], ""), v) for name, v in given.items()}
    env = {name: value for name, value in env.items() if value}
    return {
        **os.environ,
        **env,
        "BRANCHBOT_DATABASE_URL": database_url,
        "BRANCHBOT_WEBHOOK_URL": f"{public}/telegram",  # https in the file; Caddy's TLS here is off
        "BRANCHBOT_PUBLIC_URL": public,
        "BRANCHBOT_LISTEN_HOST": "127.0.0.1",
        "BRANCHBOT_TELEGRAM_BASE_URL": telegram,
    }


async def _run(env: dict[str, str], *args: str) -> str:
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot", *args], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def _bot(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env={**env, "BRANCHBOT_LISTEN_PORT": str(port)},
        cwd=ROOT,
        stderr=log.open("wb"),
    )


async def _proxy_ready(url: str) -> None:
    """Until Caddy's first health checks pass it has no upstream to send to (503)."""
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass  # Caddy itself not listening yet
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered through the proxy")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
