"""Shared fixtures: a real database (SQLite file and PostgreSQL), the Bot API stand-in, the live app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.runtime import Runtime
from bot.web import create_app
from config.settings import Settings
from storage.db import Database, scratch_schema
from tests.standins.server import LoopbackServer
from tests.standins.telegram_api import TelegramStandIn
from tests.standins.twilio_api import TwilioStandIn

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WEBHOOK_SECRET = "s3cret-webhook-token-for-tests"
# What Twilio is told the bot's address is; the app itself listens on loopback (behind a "proxy").
PUBLIC_URL = "https://buurtbot.example.nl"


def _postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return None


_POSTGRES_PROBLEM = _postgres_reachable()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/buurtbot.db"
        return
    if _POSTGRES_PROBLEM is not None:
        if os.environ.get("BUURTBOT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here but not reachable ({_POSTGRES_PROBLEM})")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({_POSTGRES_PROBLEM})")
    with scratch_schema(POSTGRES_URL, "t") as url:
        yield url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def telegram_api() -> Iterator[TelegramStandIn]:
    standin = TelegramStandIn()
    with LoopbackServer(standin.app()) as server:
        standin.url = server.url  # type: ignore[attr-defined]
        yield standin


@pytest.fixture
def twilio_api() -> Iterator[TwilioStandIn]:
    standin = TwilioStandIn()
    with LoopbackServer(standin.app()) as server:
        standin.url = server.url
        yield standin


def make_settings(
    database_url: str,
    telegram_api: TelegramStandIn | None,
    twilio_api: TwilioStandIn | None = None,
    **more: object,
) -> Settings:
    values: dict[str, object] = {"database_url": database_url}
    if telegram_api is not None:
        values.update(
            telegram_bot_token=telegram_api.token,
            telegram_webhook_secret=WEBHOOK_SECRET,
            telegram_api_url=telegram_api.url,  # type: ignore[attr-defined]
        )
    if twilio_api is not None:
        values.update(
            twilio_account_sid=twilio_api.account_sid,
            twilio_auth_token=twilio_api.auth_token,
            twilio_whatsapp_from=twilio_api.sender,
            twilio_api_url=twilio_api.url,
            public_url=PUBLIC_URL,
        )
    values.update(more)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class LiveBot:
    """The real web app served on loopback, with its runtime and an HTTP client."""

    url: str
    runtime: Runtime
    http: httpx.Client

    def post_update(
        self, update: dict[str, object], secret: str | None = WEBHOOK_SECRET
    ) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return self.http.post(f"{self.url}/telegram", json=update, headers=headers)


class LiveBotFactory:
    """Starts (and restarts) the app against one database and one Bot API stand-in."""

    def __init__(
        self,
        db: Database,
        telegram_api: TelegramStandIn,
        twilio_api: TwilioStandIn | None = None,
        **settings: object,
    ) -> None:
        self.db = db
        self.telegram_api = telegram_api
        self.twilio_api = twilio_api
        self.settings = settings
        self.servers: list[LoopbackServer] = []
        self.clients: list[httpx.Client] = []

    def start(self) -> LiveBot:
        settings = make_settings(self.db.url, self.telegram_api, self.twilio_api, **self.settings)
        runtime = Runtime.build(settings, self.db)
        for worker in (*runtime.inboxes, runtime.deliverer):
            if worker is not None:
                worker.poll_seconds = 0.05
        server = LoopbackServer(create_app(runtime)).start()
        self.servers.append(server)
        self.clients.append(httpx.Client(timeout=10))
        return LiveBot(server.url, runtime, self.clients[-1])

    def stop(self) -> None:
        while self.clients:
            self.clients.pop().close()
        while self.servers:
            self.servers.pop().stop()


@pytest.fixture
def live_bots(db: Database, telegram_api: TelegramStandIn) -> Iterator[LiveBotFactory]:
    factory = LiveBotFactory(db, telegram_api)
    yield factory
    factory.stop()


@pytest.fixture
def live_bot(live_bots: LiveBotFactory) -> LiveBot:
    return live_bots.start()


@pytest.fixture
def whatsapp_bots(
    db: Database, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn
) -> Iterator[LiveBotFactory]:
    """The app with both Telegram and WhatsApp (Twilio) switched on, behind PUBLIC_URL."""
    factory = LiveBotFactory(db, telegram_api, twilio_api)
    yield factory
    factory.stop()


@pytest.fixture
def whatsapp_bot(whatsapp_bots: LiveBotFactory) -> LiveBot:
    return whatsapp_bots.start()
