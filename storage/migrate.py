"""Where the schema stands against the migrations."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.db import Database


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(db: Database) -> str | None:
    return ScriptDirectory.from_config(db.alembic_config()).get_current_head()


def is_current(db: Database) -> bool:
    return current_revision(db) == head_revision(db)


def include_object(
    _obj: object, name: str | None, type_: str, reflected: bool, _compare_to: object
) -> bool:
    """Leave the scheduler's own job table (APScheduler creates it) out of autogenerate."""
    return not (type_ == "table" and reflected and name == "apscheduler_jobs")
