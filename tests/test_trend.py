"""`/trend` through the real app: who may ask, what comes back, where it goes; and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage.db import Database
from storage.incidents import link_to_incident
from storage.models import Chat, Message
from tests.conftest import LiveBot
from tests.standins.telegram_api import TelegramStandIn, admin
from tests.telegram_updates import GROUP_ID, bot_added, group_message, private_message, user

ANJA = user(11, "Anja")


def seed_incidents(db: Database, per_category: dict[str, tuple[int, int]]) -> None:
    """Incidents in the bound group: (this period, the period before) per category."""
    now = datetime.now(UTC)
    with db.unit_of_work() as session:
        chat = session.scalars(select(Chat).where(Chat.external_id == str(GROUP_ID))).one()
        number = 0
        for category, (current, previous) in per_category.items():
            for index in range(current + previous):
                days_ago = 1 + index * 0.4 if index < current else 29 + (index - current) * 0.4
                number += 1
                message = Message(
                    initiative_id=chat.initiative_id,
                    chat_id=chat.id,
                    channel_message_id=f"seed-{number}",
                    sent_at=now - timedelta(days=days_ago),
                    text="…",
                    kind="signaal",
                    category=category,
                    urgent=False,
                    confidence=0.9,
                    needs_review=False,
                    model_version="seed",
                )
                session.add(message)
                session.flush()
                link_to_incident(session, message)


def bound_group(live_bot: LiveBot, telegram_api: TelegramStandIn) -> None:
    telegram_api.admins[GROUP_ID] = [admin(11, "Anja", "creator")]
    live_bot.post_update(bot_added())
    telegram_api.wait_for(1)


def test_members_without_a_role_are_refused_politely(
    live_bot: LiveBot, telegram_api: TelegramStandIn
) -> None:
    bound_group(live_bot, telegram_api)
    live_bot.post_update(group_message("/trend", sender=user(30, "Kees")))
    refusal = telegram_api.wait_for(2)[1]
    assert "coördinatoren en partners" in refusal.params["text"]
    assert telegram_api.sent("sendPhoto") == []


def test_coordinator_gets_trend_with_chart_in_the_group(
    live_bot: LiveBot, db: Database, telegram_api: TelegramStandIn
) -> None:
    bound_group(live_bot, telegram_api)
    seed_incidents(db, {"inbraak": (14, 2), "overlast": (3, 3)})
    live_bot.post_update(group_message("/trend 4w", sender=ANJA))
    [photo] = telegram_api.wait_for(1, "sendPhoto")
    assert int(photo.params["chat_id"]) == GROUP_ID
    assert photo.params["photo"][:8] == b"\x89PNG\r\n\x1a\n"
    caption = photo.params["caption"]
    assert "17 meldingen" in caption  # incidents in the period, not posts
    assert "inbraak 14" in caption


def test_trend_goes_privately_when_the_coordinator_talks_to_the_bot(
    live_bot: LiveBot, telegram_api: TelegramStandIn
) -> None:
    bound_group(live_bot, telegram_api)
    live_bot.post_update(private_message("/start", sender=ANJA))
    telegram_api.wait_for(2)
    live_bot.post_update(group_message("/trend", sender=ANJA))
    [photo] = telegram_api.wait_for(1, "sendPhoto")
    assert int(photo.params["chat_id"]) == 11
    note = telegram_api.wait_for(3)[2]
    assert int(note.params["chat_id"]) == GROUP_ID and "privé" in note.params["text"]


def test_unreadable_period_gets_a_clear_answer(
    live_bot: LiveBot, telegram_api: TelegramStandIn
) -> None:
    bound_group(live_bot, telegram_api)
    live_bot.post_update(group_message("/trend blauwe maandag", sender=ANJA))
    answer = telegram_api.wait_for(2)[1]
    assert "blauwe maandag" in answer.params["text"]


def test_trend_from_the_command_line(db: Database, tmp_path: os.PathLike[str]) -> None:
    with db.unit_of_work() as session:
        from storage.directory import bind_chat

        bind_chat(session, "telegram", str(GROUP_ID), "Merelbuurt", True)
    seed_incidents(db, {"diefstal": (5, 1)})
    png = f"{tmp_path}/trend.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "trend",
            "--initiative",
            "Merelbuurt",
            "--weeks",
            "4",
            "--png",
            png,
        ],
        env={**os.environ, "DATABASE_URL": db.url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "5 meldingen" in result.stdout and "diefstal 5" in result.stdout
    with open(png, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    unknown = subprocess.run(
        [sys.executable, "-m", "bot", "trend", "--initiative", "Nergensbuurt"],
        env={**os.environ, "DATABASE_URL": db.url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unknown.returncode == 1 and "Nergensbuurt" in unknown.stderr
