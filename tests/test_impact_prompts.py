"""Level-appropriate tips: at most one per 14 days per group, never the same text twice in a
row, chosen for the group's level, and switched off and on by a coordinator."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlalchemy import select

from analytics.impact import score_initiative
from handlers.level_prompts import queue_level_prompts
from handlers.texts import prompt_texts, text
from storage.db import Database
from storage.directory import bind_chat
from storage.models import OutboxMessage
from tests.impact_groups import ANJA, KEES, Clock, Group, level_2


def tips(db: Database, group: Group) -> list[OutboxMessage]:
    with db.unit_of_work() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.chat_external_id == group.chat.external_id,
                    OutboxMessage.dedupe_key.startswith("prompt:"),
                )
                .order_by(OutboxMessage.id)
            )
        )


def queue(db: Database, now: datetime) -> int:
    with db.unit_of_work() as session:
        return queue_level_prompts(session, now)


def test_tips_rotate_fit_the_level_and_come_at_most_every_two_weeks(db: Database) -> None:
    clock = Clock(datetime.now(UTC))
    group = Group(db, clock, 2)
    level_2(group)
    with db.unit_of_work() as session:
        assert score_initiative(session, group.initiative_id(), clock.now).level == 2
    start = clock.now + timedelta(minutes=1)  # the group was bound a moment after the clock's now
    assert queue(db, start + timedelta(days=1)) == 0  # a new group gets a fortnight first
    sent_days = []
    for day in range(14, 120):
        if queue(db, start + timedelta(days=day)):
            sent_days.append(day)
        assert queue(db, start + timedelta(days=day)) == 0  # a second run the same day
    assert sent_days == [14, 28, 42, 56, 70, 84, 98, 112]
    texts = [tip.text for tip in tips(db, group)]
    assert len(texts) == len(sent_days)
    assert all(a != b for a, b in pairwise(texts))
    level_two = prompt_texts("nl")[2]
    assert set(texts) == set(level_two)  # every level-2 tip in turn, nothing else


def test_a_group_without_a_level_gets_level_one_tips(db: Database) -> None:
    clock = Clock(datetime.now(UTC))
    group = Group(db, clock, 0)
    group.add_bot()
    assert queue(db, clock.now + timedelta(days=15)) == 1
    [tip] = tips(db, group)
    assert tip.text == prompt_texts("nl")[1][0]


def test_two_schedulers_at_once_queue_one_tip(db: Database) -> None:
    clock = Clock(datetime.now(UTC))
    group = Group(db, clock, 1)
    group.add_bot()
    results: list[int] = []
    barrier = threading.Barrier(2)

    def tick() -> None:
        barrier.wait()
        try:
            results.append(queue(db, clock.now + timedelta(days=15)))
        except Exception:  # SQLite may refuse the second writer; then it sent nothing either
            results.append(0)

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    assert len(tips(db, group)) == 1


def test_imported_whatsapp_history_gets_no_tips(db: Database) -> None:
    with db.unit_of_work() as session:
        bind_chat(session, "whatsapp", "export:1", "Buurt uit WhatsApp", True)
    assert queue(db, datetime.now(UTC) + timedelta(days=30)) == 0


def test_a_coordinator_switches_tips_off_and_on(db: Database) -> None:
    clock = Clock(datetime.now(UTC))
    group = Group(db, clock, 1)
    group.add_bot()
    _, [refused] = group.say(KEES, "/prompts uit")
    assert "coördinator" in refused.text
    _, [off] = group.say(ANJA, "/prompts uit")
    assert off.text == text("prompts_off")
    assert queue(db, clock.now + timedelta(days=30)) == 0
    _, [status] = group.say(KEES, "/prompts")
    assert status.text == text("prompts_off")
    _, [on] = group.say(ANJA, "/prompts aan")
    assert "14 dagen" in on.text
    assert queue(db, clock.now + timedelta(days=30)) == 1
    assert len(tips(db, group)) == 1
    _, [unreadable] = group.say(ANJA, "/prompts misschien")
    assert unreadable.text == text("prompts_unreadable")


def test_dutch_and_english_tips_exist_for_every_level() -> None:
    dutch, english = prompt_texts("nl"), prompt_texts("en")
    assert dutch.keys() == english.keys() == {1, 2, 3, 4, 5}
    for level in dutch:
        assert len(dutch[level]) == len(english[level]) >= 2
        assert len(set(dutch[level])) == len(dutch[level])
