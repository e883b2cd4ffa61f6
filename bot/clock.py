"""The scheduler process (`buurtbot clock`): APScheduler with its jobs in the database.

Jobs have fixed ids and are added with replace_existing, so restarting the clock never doubles
them; the job store is the bot's own database, so a missed run is caught up after a restart
within the job's misfire grace time.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import text
from sqlalchemy.orm import Session

from config.settings import Settings
from handlers.digest import queue_weekly_digests
from handlers.level_prompts import queue_level_prompts
from handlers.regional_events import queue_reminders
from handlers.schouw_schedule import queue_schouw_messages
from storage.db import Database
from storage.retention import purge_expired

log = logging.getLogger(__name__)

JOB_STORE_TABLE = "apscheduler_jobs"


def _run(job_id: str, database_url: str, work: Callable[[Session], object]) -> None:
    """Run one job's work in one transaction, under the job's lock; log what it did."""
    db = Database(database_url)
    try:
        with db.unit_of_work() as session:
            if not hold_job_lock(session, job_id):
                log.info("%s: another scheduler is on it", job_id)
                return
            outcome = work(session)
        log.info("%s: %s", job_id, outcome)
    finally:
        db.dispose()


# The jobs below are referenced by name from the persistent job store: keep their names.


def retention_job(database_url: str) -> None:
    """Delete what is no longer needed."""
    _run("retention", database_url, purge_expired)


def digest_job(database_url: str, zone_name: str) -> None:
    """Queue the weekly digests that are due."""
    _run(
        "weekly_digest",
        database_url,
        lambda session: queue_weekly_digests(session, datetime.now(UTC), ZoneInfo(zone_name)),
    )


def schouw_job(database_url: str, zone_name: str) -> None:
    """Queue schouw reminders and report requests that are due."""
    _run(
        "schouw_messages",
        database_url,
        lambda session: queue_schouw_messages(session, datetime.now(UTC), ZoneInfo(zone_name)),
    )


def regional_event_job(database_url: str, zone_name: str) -> None:
    """Queue the reminders of the association's events that are due."""
    _run(
        "regional_event_reminders",
        database_url,
        lambda session: queue_reminders(session, datetime.now(UTC), ZoneInfo(zone_name)),
    )


def prompts_job(database_url: str) -> None:
    """Queue the level-appropriate tips that are due."""
    _run(
        "level_prompts",
        database_url,
        lambda session: queue_level_prompts(session, datetime.now(UTC)),
    )


def hold_job_lock(session: Session, job_id: str) -> bool:
    """On PostgreSQL, let one scheduler at a time run a job (a transaction-level advisory lock).

    SQLite has a single writer anyway; the outbox's unique dedupe keys keep both correct.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(
        session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key(job_id)})
    )


def lock_key(name: str) -> int:
    """The 64-bit PostgreSQL advisory-lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def configure(scheduler: BaseScheduler, db: Database, settings: Settings) -> BaseScheduler:
    """Give a scheduler the persistent store, the time zone and the bot's jobs."""
    scheduler.configure(
        jobstores={"default": SQLAlchemyJobStore(engine=db.engine, tablename=JOB_STORE_TABLE)},
        timezone=settings.zone,
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    scheduler.add_job(
        retention_job,
        "cron",
        hour=3,
        minute=30,
        id="retention",
        args=[settings.database_url],
        replace_existing=True,
        misfire_grace_time=12 * 3600,
    )
    scheduler.add_job(
        digest_job,
        "cron",
        minute="*/10",
        id="weekly_digest",
        args=[settings.database_url, settings.timezone],
        replace_existing=True,
        # A tick that could not run is simply replaced by the next one ten minutes later.
        misfire_grace_time=9 * 60,
    )
    scheduler.add_job(
        schouw_job,
        "cron",
        minute="*/5",
        id="schouw_messages",
        args=[settings.database_url, settings.timezone],
        replace_existing=True,
        misfire_grace_time=4 * 60,
    )
    scheduler.add_job(
        regional_event_job,
        "cron",
        minute="2-59/15",
        id="regional_event_reminders",
        args=[settings.database_url, settings.timezone],
        replace_existing=True,
        misfire_grace_time=14 * 60,
    )
    scheduler.add_job(
        prompts_job,
        "cron",
        # Hourly in the daytime: a tip never arrives at night; a missed hour is not made up.
        hour="10-19",
        minute=15,
        id="level_prompts",
        args=[settings.database_url],
        replace_existing=True,
        misfire_grace_time=50 * 60,
    )
    return scheduler


LEADER_LOCK_KEY = lock_key("buurtbot-clock")
STANDBY_SECONDS = 15.0


@contextmanager
def leadership(db: Database, on_standby: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Be the one active scheduler: on PostgreSQL, hold a session-level advisory lock for as
    long as the block runs; a second clock waits on standby until the first one stops."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect() as connection:
        told = False
        while not connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK_KEY}
        ):
            connection.rollback()
            if not told:
                on_standby()
                told = True
            time.sleep(STANDBY_SECONDS)
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK_KEY})
            connection.commit()
