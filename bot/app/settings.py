"""Settings from BRANCHBOT_* environment variables, an optional .env and branchbot.toml.

A missing or wrong setting stops start-up with one line naming the variable (ConfigError).
"""

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.channels.budget import BLOCK, MARGIN, Limits
from handlers.access.settings import AccessSettings
from handlers.account.settings import AccountSettings
from handlers.care.settings import CareSettings
from handlers.dues.settings import DuesSettings
from handlers.evaluation.settings import EvaluationSettings
from handlers.groups.settings import GroupSettings
from handlers.meetings.settings import MeetingSettings
from handlers.moves.settings import MovesSettings
from handlers.notices.settings import NoticeSettings
from handlers.orglife.settings import OrgLifeSettings
from handlers.pipeline.settings import PipelineSettings
from handlers.study.settings import StudySettings
from handlers.surveys.settings import SurveySettings
from handlers.thoughts.settings import ThoughtSettings

PREFIX = "BRANCHBOT_"
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(Exception):
    """One bad setting: `variable` is its environment name, `problem` says what is wrong."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class SettingProblem(ValueError):
    """A check across settings that fails: names the one setting to fix (a model validator's
    error has no field of its own, so it carries the variable here)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field


class Settings(
    AccountSettings,
    MovesSettings,
    NoticeSettings,
    MeetingSettings,
    OrgLifeSettings,
    StudySettings,
    ThoughtSettings,
    PipelineSettings,
    DuesSettings,
    SurveySettings,
    AccessSettings,
    EvaluationSettings,
    CareSettings,
    GroupSettings,
    BaseSettings,
):
    """The service's own settings here; each feature's come from its section (handlers/<feature>/
    settings.py), declared there once and read here under the same flat names."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_file=".env", extra="ignore", validate_default=True
    )

    database_url: str = "sqlite+aiosqlite:///data/branchbot.sqlite3"
    telegram_token: SecretStr | None = None
    # WeCom (企业微信) self-built application: all five, or none (see docs/wecom.md).
    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_secret: SecretStr | None = None
    wecom_token: SecretStr | None = None
    wecom_aes_key: SecretStr | None = None
    # (wecom_base_url, WeCom's API host, is in GroupSettings: a robot's address is checked on it)
    # A member with both a Telegram and a WeCom account gets messages on the one they used
    # last, or on all of them.
    deliver_to: Literal["last", "all"] = "last"
    telegram_base_url: str = "https://api.telegram.org"
    telegram_rate_limit: bool = True
    # Measured best at 8: httpcore's pool bookkeeping grows with requests in flight.
    telegram_concurrency: int = Field(8, ge=1, le=256)
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # How long a process's claim on an update in the inbox holds without being renewed (it
    # renews every third of it while alive): a dead process's updates wait this long.
    inbox_lease_seconds: float = Field(30.0, ge=1, le=600)
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(8080, ge=0, le=65535)  # 0: any free port (tests)
    # The address people open (behind an HTTPS reverse proxy, say https://dj.example.edu):
    # with https, the web page's cookies are Secure (the service itself never sees TLS).
    public_url: str | None = None
    # Reverse proxies whose X-Forwarded-For names the real requester (the web sign-in's
    # per-address limits count by it); empty: the connecting address is the requester.
    trusted_proxies: list[str] = Field(default_factory=list)
    # When set, /metrics answers only `Authorization: Bearer <token>` (docs/operations.md).
    metrics_token: SecretStr | None = None
    timezone: str = "Asia/Shanghai"
    lang: Literal["zh_CN", "en"] = "zh_CN"
    secret_key: SecretStr | None = None
    # The outbox sender's limits: Telegram allows about 30 messages a second to different
    # chats, about one a second to one chat and 20 a minute to one group.
    outbox_per_second: float = Field(Limits.per_second, gt=0, le=1000)
    outbox_chat_per_second: float = Field(Limits.chat_per_second, gt=0, le=100)
    outbox_group_per_minute: float = Field(Limits.group_per_minute, gt=0, le=1000)
    outbox_max_attempts: int = Field(Limits.max_attempts, ge=1, le=50)
    # Every message, answer or queued, takes a slot of its platform's budget (shared by all
    # processes on PostgreSQL: docs/operations.md). The slots are 1 / (limit × margin) apart;
    # half of what the margin leaves is how late a message may leave after its slot, the other
    # half is for the network's jitter. A process reserves up to `rate_block` slots at once.
    rate_margin: float = Field(MARGIN, ge=0.5, lt=1.0)
    rate_block: int = Field(BLOCK, ge=1, le=30)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Path(os.environ.get(f"{PREFIX}CONFIG_FILE", "branchbot.toml"))
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_file)
        return init_settings, env_settings, dotenv_settings, toml

    @field_validator(
        "telegram_token",
        "webhook_secret",
        "secret_key",
        "webhook_url",
        "wecom_corp_id",
        "wecom_agent_id",
        "wecom_secret",
        "wecom_token",
        "wecom_aes_key",
        "metrics_token",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite or postgresql, e.g. postgresql://host/db")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}, e.g. Asia/Shanghai") from err
        return value

    @field_validator("telegram_base_url", "webhook_url", "wecom_base_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value.rstrip("/") if value else value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as err:
                raise ValueError(f"not an address or network: {entry!r}") from err
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                Fernet(value.get_secret_value().encode())
            except ValueError as err:
                raise ValueError("not a valid key; make one with `branchbot keygen`") from err
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("use at least 16 characters, e.g. from `openssl rand -hex 32`")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.match(value.get_secret_value()):
            raise ValueError("use 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> "Settings":
        if self.webhook_url and self.webhook_secret is None:
            raise SettingProblem("webhook_secret", "required when WEBHOOK_URL is set")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def require_secret_key(self) -> str:
        if self.secret_key is None:
            raise ConfigError(f"{PREFIX}SECRET_KEY", "not set; make one with `branchbot keygen`")
        return self.secret_key.get_secret_value()

    @model_validator(mode="after")
    def _wecom_complete(self) -> "Settings":
        given = {name: getattr(self, f"wecom_{name}") for name in WECOM_PARTS}
        missing = [name for name, value in given.items() if value is None]
        if 0 < len(missing) < len(WECOM_PARTS):
            raise SettingProblem(
                f"wecom_{missing[0]}", "not set; it is required with the other WECOM_ settings"
            )
        return self

    @field_validator("wecom_aes_key")
    @classmethod
    def _wecom_aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9+/]{43}", value.get_secret_value()):
            raise ValueError("must be the 43-character EncodingAESKey (letters and digits)")
        return value

    @property
    def wecom_configured(self) -> bool:
        return self.wecom_corp_id is not None

    def require_wecom(self) -> "WeComSettings":
        for name in WECOM_PARTS:
            if not getattr(self, f"wecom_{name}"):
                raise ConfigError(f"{PREFIX}WECOM_{name.upper()}", "not set")
        return WeComSettings(
            str(self.wecom_corp_id),
            int(self.wecom_agent_id or 0),
            _secret(self.wecom_secret),
            _secret(self.wecom_token),
            _secret(self.wecom_aes_key),
            self.wecom_base_url.rstrip("/"),
        )

    def require_telegram_token(self) -> str:
        if self.telegram_token is None:
            raise ConfigError(f"{PREFIX}TELEGRAM_TOKEN", "not set; ask @BotFather for a token")
        return self.telegram_token.get_secret_value()


WECOM_PARTS = ("corp_id", "agent_id", "secret", "token", "aes_key")


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


@dataclass(frozen=True)
class WeComSettings:
    corp_id: str
    agent_id: int
    secret: str
    token: str
    aes_key: str
    base_url: str


def load_settings(**overrides: object) -> Settings:
    """Read the settings, or raise ConfigError naming the first bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        first = err.errors()[0]
        raise ConfigError(f"{PREFIX}{_field_of(first).upper()}", _message_of(first)) from None


def _field_of(error: Any) -> str:
    """The setting an error is about: its field, or the one a cross-setting check names."""
    if error["loc"]:
        return str(error["loc"][0])
    problem = error.get("ctx", {}).get("error")
    # Every cross-setting check names its setting; this is only for one that forgot to.
    return problem.field if isinstance(problem, SettingProblem) else "SETTINGS"


def _message_of(error: Any) -> str:
    return str(error["msg"]).removeprefix("Value error, ")
