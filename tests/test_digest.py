"""The weekly digest: once per coordinator per week, across restarts and with two schedulers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from bot.clock import configure, digest_job
from config.settings import Settings
from handlers.digest import queue_weekly_digests
from storage.db import Database
from storage.directory import bind_chat, record_private_chat, upsert_member
from storage.models import OutboxMessage, Role
from tests.conftest import LiveBot
from tests.standins.telegram_api import TelegramStandIn, admin
from tests.telegram_updates import GROUP_ID, bot_added, group_message, user

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MONDAY_0805 = datetime(2026, 11, 23, 8, 5, tzinfo=AMSTERDAM)


def setup_initiative(db: Database) -> None:
    with db.unit_of_work() as session:
        chat, _ = bind_chat(session, "telegram", "-100", "Merelbuurt", True)
        for user_id, name, private in (("11", "Anja", True), ("12", "Piet", False)):
            member = upsert_member(session, chat.initiative_id, "telegram", user_id, name, None)
            member.role = Role.COORDINATOR.value
            if private:
                record_private_chat(session, "telegram", user_id)
        upsert_member(session, chat.initiative_id, "telegram", "13", "Kees", None)
        record_private_chat(session, "telegram", "13")


def queue(db: Database, now: datetime) -> int:
    with db.unit_of_work() as session:
        return queue_weekly_digests(session, now, AMSTERDAM)


def digests(db: Database) -> list[OutboxMessage]:
    with db.unit_of_work() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.dedupe_key.startswith("digest:"))
                .order_by(OutboxMessage.id)
            )
        )


def test_digest_goes_to_coordinators_who_talk_to_the_bot_once_a_week(db: Database) -> None:
    setup_initiative(db)
    assert queue(db, MONDAY_0805 - timedelta(minutes=10)) == 0  # before 08:00
    assert queue(db, MONDAY_0805) == 2  # Anja's digest, and a word in the group for Piet
    assert queue(db, MONDAY_0805 + timedelta(minutes=10)) == 0  # the next tick
    [digest] = digests(db)
    assert digest.chat_external_id == "11"  # Anja; Piet has no private chat, Kees is no coordinator
    assert digest.image is not None and digest.image[:4] == b"\x89PNG"
    assert "👉" in digest.text
    with db.unit_of_work() as session:
        [ask] = session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("digest-ask-private:"))
        )
    assert ask.chat_external_id == "-100" and "Piet" in ask.text and "Start" in ask.text
    assert queue(db, MONDAY_0805 + timedelta(days=7)) == 1  # next week; Piet is asked only once
    assert len(digests(db)) == 2


def test_missed_digest_is_caught_up_but_not_days_later(db: Database) -> None:
    setup_initiative(db)
    assert queue(db, MONDAY_0805 + timedelta(days=3)) == 0
    assert queue(db, MONDAY_0805 + timedelta(hours=30)) == 2


def test_digest_time_is_configurable_per_initiative(db: Database) -> None:
    setup_initiative(db)
    with db.unit_of_work() as session:
        chat, _ = bind_chat(session, "telegram", "-100", None, True)
        chat.initiative.digest_weekday, chat.initiative.digest_hour = 4, 17
    assert queue(db, MONDAY_0805) == 0
    assert queue(db, datetime(2026, 11, 27, 17, 1, tzinfo=AMSTERDAM)) == 2


def test_two_schedulers_at_once_send_one_digest(db: Database) -> None:
    setup_initiative(db)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def tick() -> None:
        barrier.wait()
        try:
            results.append(queue(db, MONDAY_0805))
        except Exception:
            results.append(0)

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 2]
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_scheduler_jobs_have_fixed_ids_and_survive_a_restart(db: Database) -> None:
    settings = Settings(_env_file=None, database_url=db.url)  # type: ignore[call-arg]
    for _ in range(2):  # start, stop, start again: the job store is the database
        scheduler = configure(BackgroundScheduler(), db, settings)
        scheduler.start(paused=True)
        jobs = {job.id: job for job in scheduler.get_jobs()}
        scheduler.shutdown(wait=False)
    assert set(jobs) == {
        "retention",
        "weekly_digest",
        "schouw_messages",
        "regional_event_reminders",
        "level_prompts",
    }
    assert jobs["weekly_digest"].coalesce and jobs["weekly_digest"].misfire_grace_time == 540


def test_digest_job_runs_from_the_job_store_reference(db: Database) -> None:
    setup_initiative(db)
    now = datetime.now(AMSTERDAM)
    with db.unit_of_work() as session:
        chat, _ = bind_chat(session, "telegram", "-100", None, True)
        initiative = chat.initiative  # due this very minute
        initiative.digest_weekday, initiative.digest_hour = now.weekday(), now.hour
        initiative.digest_minute = now.minute
    digest_job(db.url, "Europe/Amsterdam")
    digest_job(db.url, "Europe/Amsterdam")  # as a restarted or second scheduler would
    with db.unit_of_work() as session:
        keys = sorted(session.scalars(select(OutboxMessage.dedupe_key)))
    assert len(keys) == 2 and keys[1].startswith("digest:")
    assert keys[0].startswith("digest-ask-private:")  # Piet is asked, once


def line_with(process: subprocess.Popen[str], markers: tuple[str, ...]) -> str:
    """The first line the process writes to stderr that holds one of `markers`."""
    assert process.stderr is not None
    for line in process.stderr:
        if any(marker in line for marker in markers):
            return line
    raise AssertionError("the process ended without saying whether it runs")


def test_a_second_clock_waits_on_standby(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the leader lock is PostgreSQL's; SQLite runs on one machine")
    env = {**os.environ, "DATABASE_URL": db.url}
    command = [sys.executable, "-m", "bot", "clock"]
    markers = ("Planner gestart", "wacht")
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as first:
        try:
            assert "Planner gestart" in line_with(first, markers)
            with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as second:
                try:
                    assert "wacht" in line_with(second, markers)
                finally:
                    second.terminate()
        finally:
            first.terminate()


def test_coordinator_moves_the_digest_and_others_may_not(
    live_bot: LiveBot, db: Database, telegram_api: TelegramStandIn
) -> None:
    telegram_api.admins[GROUP_ID] = [admin(11, "Anja", "creator")]
    live_bot.post_update(bot_added())
    telegram_api.wait_for(1)
    live_bot.post_update(group_message("/weekoverzicht", sender=user(30, "Kees")))
    assert "maandag om 08:00" in telegram_api.wait_for(2)[1].params["text"]
    live_bot.post_update(group_message("/weekoverzicht vrijdag 17:30", sender=user(30, "Kees")))
    assert "coördinator" in telegram_api.wait_for(3)[2].params["text"]
    live_bot.post_update(group_message("/weekoverzicht vr 17:30", sender=user(11, "Anja")))
    assert "vrijdag om 17:30" in telegram_api.wait_for(4)[3].params["text"]
    with db.unit_of_work() as session:
        chat, _ = bind_chat(session, "telegram", str(GROUP_ID), None, True)
        initiative = chat.initiative
        assert (initiative.digest_weekday, initiative.digest_hour, initiative.digest_minute) == (
            4,
            17,
            30,
        )
    live_bot.post_update(group_message("/weekoverzicht blauwe maan", sender=user(11, "Anja")))
    assert "Welke dag" in telegram_api.wait_for(5)[4].params["text"]
