"""Settings from the environment (and an optional .env file), via pydantic-settings."""

from __future__ import annotations

from datetime import time
from pathlib import Path

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
