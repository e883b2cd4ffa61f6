"""Fixtures for the import tests: settings for the test database, the classifier, the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from bot.cli import app
from config.settings import Settings
from nlp.classifier import Classifier, get_classifier
from storage.db import Database
from tests.conftest import make_settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "whatsapp"
RunImport = Callable[..., Result]


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    """The shipped model, the one `buurtbot import` uses."""
    return get_classifier()


@pytest.fixture
def settings(db: Database) -> Settings:
    return make_settings(db.url, None)


@pytest.fixture
def run_import(db: Database, classifier: Classifier) -> RunImport:
    """Run `buurtbot import <args>` in-process against the test database."""

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, ["import", *args], env={"DATABASE_URL": db.url})

    return run


def table_counts(db: Database) -> dict[str, int]:
    """Rows per table that an import writes to."""
    tables = ("initiatives", "chats", "members", "messages", "membership_events")
    with db.engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in tables
        }
