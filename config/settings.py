"""Settings read once from the environment (and a local `.env`), typed and validated.

Secrets are `SecretStr`, so they never show up in a repr, a log line or a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

import config

DEFAULT_DATABASE_URL = "sqlite:///buurtbot.db"
TELEGRAM_DEFAULT_API_URL = "https://api.telegram.org"


class SettingsError(Exception):
    """A setting has a value the bot cannot start with; the message says which and why."""


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    telegram_bot_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str = TELEGRAM_DEFAULT_API_URL
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_whatsapp_from: str | None = None
    # Where the Twilio REST API is reached; Twilio's own hosts unless set (tests, a proxy).
    twilio_api_url: str | None = None
    # Messages per second Twilio accepts from the WhatsApp sender (80 by default for WhatsApp).
    twilio_messages_per_second: float = Field(default=80, gt=0, le=1000)
    # Telegram's flood limits: about 30 messages a second overall, 20 a minute in one group.
    telegram_messages_per_second: float = Field(default=30, gt=0, le=1000)
    telegram_group_messages_per_minute: int = Field(default=20, gt=0, le=1000)
    # The approved WhatsApp templates used outside the 24-hour window.
    whatsapp_templates: Path = Path(config.__file__).resolve().parent / "whatsapp.toml"
    # How long a message being sent is reserved; after a hard crash it is sent again after this.
    outbox_lease_seconds: float = Field(default=60, gt=0, le=3600)
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    timezone: str = "Europe/Amsterdam"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Pseudonymises phone numbers and user ids where only "the same person" matters.
    pseudonym_key: SecretStr = SecretStr("buurtbot-local-development-key")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value.startswith("postgres://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgres://")
        elif value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not value.startswith(("sqlite://", "postgresql+psycopg://")):
            raise ValueError("use a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("telegram_api_url", "public_url", "twilio_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @model_validator(mode="after")
    def _telegram_needs_secret(self) -> Settings:
        if self.telegram_bot_token is not None and self.telegram_webhook_secret is None:
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_BOT_TOKEN is set "
                "(any long random string; `buurtbot telegram set-webhook` hands it to Telegram)"
            )
        return self

    @model_validator(mode="after")
    def _twilio_complete(self) -> Settings:
        given = {
            "TWILIO_ACCOUNT_SID": self.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": self.twilio_auth_token,
            "TWILIO_WHATSAPP_FROM": self.twilio_whatsapp_from,
        }
        missing = [name for name, value in given.items() if not value]
        if 0 < len(missing) < len(given):
            raise ValueError(
                f"{', '.join(missing)} missing: WhatsApp through Twilio needs "
                "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_WHATSAPP_FROM together"
            )
        if self.twilio_whatsapp_from and not self.twilio_whatsapp_from.startswith("whatsapp:+"):
            raise ValueError("TWILIO_WHATSAPP_FROM must look like whatsapp:+31612345678")
        return self

    @property
    def whatsapp_enabled(self) -> bool:
        return self.twilio_account_sid is not None and self.twilio_auth_token is not None

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None

    @property
    def telegram_base_url(self) -> str:
        """The Bot API prefix python-telegram-bot appends the token to."""
        url = self.telegram_api_url
        return url if url.endswith("/bot") else f"{url}/bot"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings() -> Settings:
    """Read the settings, turning a validation failure into one readable message."""
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc']).upper()}: {issue['msg']}"
            for issue in error.errors()
        )
        raise SettingsError(f"Invalid setting - {problems}") from None
