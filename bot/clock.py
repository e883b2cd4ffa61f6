"""The scheduler process (`buurtbot clock`): APScheduler with its jobs in the database.

Jobs have fixed ids and are added with replace_existing, so restarting the clock never doubles
them; the job store is the bot's own database, so a missed run is caught up after a restart
within the job's misfire grace time.
"""

from __future__ import annotations

import logging

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler

from config.settings import Settings
from storage.db import Database
from storage.retention import purge_expired

log = logging.getLogger(__name__)

JOB_STORE_TABLE = "apscheduler_jobs"


def retention_job(database_url: str) -> None:
    """Run the retention purge (referenced by name from the persistent job store)."""
    db = Database(database_url)
    try:
        with db.unit_of_work() as session:
            purged = purge_expired(session)
        log.info("retention: %s", purged)
    finally:
        db.dispose()


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
    return scheduler
