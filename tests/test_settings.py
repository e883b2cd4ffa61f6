"""Settings: typed, validated at start-up with a clear message, secrets kept out of reprs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from config.settings import Settings, SettingsError, load_settings


def test_defaults_are_the_embedded_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url.startswith("sqlite:///")
    assert not settings.telegram_enabled
    assert settings.port == 8000


def test_bad_port_fails_with_the_setting_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")
    with pytest.raises(SettingsError, match="PORT"):
        load_settings()


def test_token_without_webhook_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings()


def test_secrets_stay_out_of_repr_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token="123:very-secret", telegram_webhook_secret="hush-hush"
    )
    assert "very-secret" not in repr(settings) and "hush-hush" not in repr(settings)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:very-secret")
    monkeypatch.setenv("PORT", "0")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "very-secret" not in str(error.value)


def test_postgres_urls_get_the_psycopg_driver() -> None:
    settings = Settings(_env_file=None, database_url="postgres://u@h/db")  # type: ignore[call-arg]
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_serve_with_bad_setting_exits_with_readable_message(tmp_path: object) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env={"PORT": "99999", "PATH": "", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(tmp_path),
    )
    assert result.returncode == 2
    assert "PORT" in result.stderr and "Traceback" not in result.stderr


def test_twilio_needs_all_three_and_a_whatsapp_sender(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC123")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "twilio-secret-token")
    monkeypatch.delenv("TWILIO_WHATSAPP_FROM", raising=False)
    with pytest.raises(SettingsError, match="TWILIO_WHATSAPP_FROM missing") as refused:
        load_settings()
    assert "twilio-secret-token" not in str(refused.value)
    monkeypatch.setenv("TWILIO_WHATSAPP_FROM", "+31612345678")
    with pytest.raises(SettingsError, match="whatsapp:"):
        load_settings()
    monkeypatch.setenv("TWILIO_WHATSAPP_FROM", "whatsapp:+31612345678")
    settings = load_settings()
    assert settings.whatsapp_enabled and "twilio-secret-token" not in repr(settings)
