"""Engine, sessions and the unit of work; one `Database` per process."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the webhook write while the worker reads; the busy timeout makes concurrent
    # writers wait for each other instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=0")


def make_engine(url: str) -> Engine:
    """An engine whose errors never carry SQL parameters: they hold message texts."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # No ping before every checkout: it cost a round trip per transaction (one per handled
    # update). A connection the server dropped (a restart) fails once instead; SQLAlchemy then
    # replaces every pooled connection and the workers retry their work as after any error. (The
    # webhook writes through a connection of its own: `storage.inbox.PostgresInbox`.)
    return create_engine(url, pool_size=10, max_overflow=10, hide_parameters=True)


class Database:
    """The engine and the session factory, created once and shared."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._no_wait_engine: Engine | None = None

    def no_wait_engine(self) -> Engine:
        """SQLite only: an engine whose writes fail at once (SQLITE_BUSY) instead of waiting
        while another connection writes; for a caller that must never block, and then waits
        elsewhere (see `InboxWorker.store_durably`)."""
        if self._no_wait_engine is None:
            engine = make_engine(self.url)
            event.listen(engine, "connect", _no_busy_wait)
            self._no_wait_engine = engine
        return self._no_wait_engine

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed when the block ends normally, rolled back otherwise."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self) -> None:
        """Bring the schema to the newest migration."""
        with self.engine.begin() as connection:
            config = self.alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        self.engine.dispose()
        if self._no_wait_engine is not None:
            self._no_wait_engine.dispose()


@contextmanager
def scratch_schema(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL schema on `server_url` for one test or benchmark run, dropped
    afterwards; yields the database URL whose connections work in it (`search_path`).

    Raises what SQLAlchemy raises when the server cannot be reached; nothing is left behind.
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield f"{server_url}?options=-csearch_path%3D{schema}"
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()
