"""Settings from the environment (and an optional .env file), via pydantic-settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    @field_validator("database_url")
    @classmethod
    def _driver(cls, url: str) -> str:
        return normalise_database_url(url)


def normalise_database_url(url: str) -> str:
    """PostgreSQL URLs use psycopg 3 whatever spelling the operator used."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
