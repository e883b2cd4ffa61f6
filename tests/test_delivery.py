"""The outbox delivery loop: Telegram's limits, 429 retry_after, transient errors, nothing lost."""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.delivery import Deliverer, RateLimiter
from bot.telegram import TelegramChannel
from handlers.messages import ChatRef, Reply
from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus, utcnow
from tests.standins.telegram_api import TelegramStandIn

GROUP = ChatRef("telegram", "-100200", "Merelbuurt", True)
OTHER = ChatRef("telegram", "-100300", "Lijsterbuurt", True)


def queue(db: Database, *replies: Reply) -> None:
    with db.unit_of_work() as session:
        outbox.enqueue(session, replies)


def rows(db: Database) -> list[OutboxMessage]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def deliver_all(deliverer: Deliverer, db: Database, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await deliverer.deliver_due()
        if all(
            row.status in (OutboxStatus.SENT.value, OutboxStatus.FAILED.value) for row in rows(db)
        ):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("outbox not delivered in time")


@pytest.fixture
def channel(telegram_api: TelegramStandIn) -> TelegramChannel:
    return TelegramChannel(telegram_api.token, f"{telegram_api.url}/bot")  # type: ignore[attr-defined]


async def test_one_message_per_second_per_chat_but_chats_in_parallel(
    db: Database, telegram_api: TelegramStandIn, channel: TelegramChannel
) -> None:
    queue(db, *[Reply(GROUP, f"bericht {n}") for n in range(3)], Reply(OTHER, "ander"))
    await channel.start()
    await deliver_all(Deliverer(db, [channel], RateLimiter(30, 1.0, 20), 0.05), db)
    await channel.stop()
    sent = telegram_api.sent()
    group_times = [c.at for c in sent if c.params["chat_id"] == GROUP.external_id]
    other_at = next(c.at for c in sent if c.params["chat_id"] == OTHER.external_id)
    assert [c.params["text"] for c in sent if c.params["chat_id"] == GROUP.external_id] == [
        "bericht 0",
        "bericht 1",
        "bericht 2",
    ]
    assert all(b - a >= 0.95 for a, b in itertools.pairwise(group_times))
    assert other_at < group_times[1], "another chat does not wait for this one"


async def test_per_minute_cap_per_group() -> None:
    limiter = RateLimiter(per_second=1000, per_chat_interval=0, per_chat_per_minute=3)
    for _ in range(3):
        assert limiter.chat_wait("g") == 0
        limiter.release(await limiter.acquire("g"))
    assert 59 < limiter.chat_wait("g") <= 60
    assert limiter.chat_wait("another") == 0


async def test_overall_rate_is_kept() -> None:
    limiter = RateLimiter(per_second=20, per_chat_interval=0, per_chat_per_minute=1000)
    started = time.monotonic()
    for number in range(21):
        limiter.release(await limiter.acquire(f"chat{number}"))
    assert time.monotonic() - started >= 0.95  # 21 sends at 20/s take at least a second


async def test_transient_error_is_retried_and_permanent_one_recorded(
    db: Database, telegram_api: TelegramStandIn, channel: TelegramChannel
) -> None:
    telegram_api.fail_next("sendMessage", 500)
    telegram_api.fail_next("sendMessage", 403)
    queue(db, Reply(GROUP, "eerste"), Reply(OTHER, "tweede"))
    await channel.start()
    await deliver_all(Deliverer(db, [channel], RateLimiter(30, 0, 20), 0.05), db)
    await channel.stop()
    first, second = rows(db)
    assert first.status == OutboxStatus.SENT.value and first.attempts == 2
    assert "Internal Server Error" in (first.last_error or "")
    assert second.status == OutboxStatus.FAILED.value and "kicked" in (second.last_error or "")


async def test_a_crash_while_sending_loses_nothing(
    db: Database, telegram_api: TelegramStandIn, channel: TelegramChannel
) -> None:
    queue(db, Reply(GROUP, "na de herstart"))
    with db.unit_of_work() as session:
        [row] = session.scalars(select(OutboxMessage))
        assert outbox.claim_many(session, [row.id])  # claimed, then the process died
        row.lease_until = utcnow() - timedelta(seconds=1)  # …and its lease ran out
    await channel.start()
    await deliver_all(Deliverer(db, [channel], RateLimiter(30, 0, 20), 0.05), db)
    await channel.stop()
    assert [c.params["text"] for c in telegram_api.sent()] == ["na de herstart"]
