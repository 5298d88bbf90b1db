"""Settings from the environment (and an optional .env file), via pydantic-settings."""

from __future__ import annotations

import base64
import binascii
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.reminder_plan import ReminderPolicy
from bot.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///readiness.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = Field(default=None, description="Bot token (xoxb-...).")
    slack_app_token: SecretStr | None = Field(default=None, description="App-level token (xapp-...) for Socket Mode.")
    slack_signing_secret: SecretStr | None = Field(default=None, description="Signing secret of the Slack app.")
    slack_api_url: str | None = Field(default=None, description="Base URL of Slack's Web API (the sandbox sets it).")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, description="SQLAlchemy URL; SQLite file by default.")
    checklist_path: Path | None = Field(default=None, description="A team's own checklist YAML; default: the shipped one.")
    log_level: str = Field(default="INFO")
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)

    # Reminders and the first-week watch list
    reminder_days_before: int = Field(default=2, ge=0, le=30, description="First reminder, days before the due date.")
    reminder_escalate_after_days: int = Field(default=2, ge=1, le=30,
                                              description="Overdue days before the thread and release channel hear.")
    working_hours: str = Field(default="09:00-18:00", description="Local working window for reminders.")
    working_days: str = Field(default="mon,tue,wed,thu,fri", description="Days reminders may be sent.")
    sweep_interval_seconds: float = Field(default=2.0, gt=0, le=60)
    lease_seconds: int = Field(default=30, ge=5, le=600)
    max_attempts: int = Field(default=8, ge=1, le=50)
    reconcile_interval_seconds: int = Field(default=60, ge=5)
    public_url: str = Field(default="http://localhost:3000",
                            description="Base URL where `readiness serve` is reachable; packet links start with it.")
    packet_link_secret: SecretStr | None = Field(
        default=None, description="HMAC key of packet links; default: derived from SLACK_SIGNING_SECRET.")
    packet_link_days: int = Field(default=14, ge=1, le=365, description="How long a packet link stays valid.")
    policy_path: Path | None = Field(
        default=None, description="Release policy used when a workspace stored none; default: the shipped sample.")

    # Installing to any workspace (OAuth mode: on when the client id and secret are both set)
    slack_client_id: str | None = Field(default=None, description="The Slack app's client id (OAuth mode).")
    slack_client_secret: SecretStr | None = Field(default=None, description="The Slack app's client secret.")
    token_encryption_key: SecretStr | None = Field(
        default=None, description="Fernet key (32 bytes, URL-safe base64) that encrypts stored Slack tokens.")
    token_encryption_old_keys: SecretStr | None = Field(
        default=None, description="Comma-separated earlier keys, still read while `workspace rekey` runs.")
    token_rotation_minutes: int = Field(default=120, ge=1, le=720,
                                        description="Refresh a rotating token this long before it expires.")
    slack_scopes: str | None = Field(default=None, description="Bot scopes asked for at install; default: the manifest's.")

    # Seeing what it does, and stopping cleanly
    metrics_enabled: bool = Field(default=False, description="Serve GET /metrics (Prometheus text format).")
    log_format: Literal["text", "json"] = Field(default="text", description="text, or json: one object per line.")
    shutdown_grace_seconds: float = Field(default=10.0, ge=0, le=300,
                                          description="How long in-flight requests may take to finish at shutdown.")

    @property
    def oauth_mode(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @field_validator("token_encryption_key", "token_encryption_old_keys")
    @classmethod
    def _fernet_keys(cls, value: SecretStr | None) -> SecretStr | None:
        for key in (k.strip() for k in (value.get_secret_value() if value else "").split(",")):
            if key and not is_fernet_key(key):
                raise ValueError("a key is 32 bytes in URL-safe base64 (44 characters), as "
                                 "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())'` prints")
        return value

    @field_validator("database_url")
    @classmethod
    def _driver(cls, url: str) -> str:
        return normalise_database_url(url)


    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, url: str | None) -> str | None:
        # slack_sdk joins method names onto the base URL: without the slash, its last segment is lost
        return url if not url or url.endswith("/") else url + "/"

    @field_validator("working_hours")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_window(value)
        return value

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: str) -> str:
        parse_days(value)
        return value

    def reminder_policy(self) -> ReminderPolicy:
        start, end = parse_window(self.working_hours)
        return ReminderPolicy(
            days_before=self.reminder_days_before,
            escalate_after_days=self.reminder_escalate_after_days,
            window_start=start,
            window_end=end,
            working_days=parse_days(self.working_days),
        )


DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_window(value: str) -> tuple[time, time]:
    try:
        start_text, end_text = value.split("-")
        start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    except ValueError:
        raise ValueError(f"working hours {value!r}: expected HH:MM-HH:MM, for example 09:00-18:00") from None
    if start >= end:
        raise ValueError(f"working hours {value!r}: the window must start before it ends")
    return start, end


def parse_days(value: str) -> frozenset[int]:
    days = set()
    for word in (w.strip().lower()[:3] for w in value.split(",") if w.strip()):
        if word not in DAY_NAMES:
            raise ValueError(f"working days {value!r}: {word!r} is not one of {', '.join(DAY_NAMES)}")
        days.add(DAY_NAMES.index(word))
    if not days:
        raise ValueError("working days: name at least one day")
    return frozenset(days)


def is_fernet_key(key: str) -> bool:
    """32 bytes in URL-safe base64, which is what a Fernet key is."""
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32 and len(key) == 44
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


def normalise_database_url(url: str) -> str:
    """PostgreSQL URLs use psycopg 3 whatever spelling the operator used."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_settings() -> Settings:
    """Settings from the environment; a bad value is one line naming the variable, not a traceback."""
    from pydantic import ValidationError


    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigError(f"{name}: {first['msg'].removeprefix('Value error, ')}") from None
