"""A broadcast to many chats: within each channel's limit, and exactly once across a restart.

The worker runs as its own process (`buurtbot worker`), as in production, sending through the
real python-telegram-bot and twilio clients to the loopback stand-ins. It is stopped half-way
(SIGTERM, as a deploy or a platform restart does) or killed outright (SIGKILL), then started
again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.delivery import RateLimiter
from handlers.regional_events import AudienceChoice, new_event, send_invitations
from storage.db import Database
from storage.directory import bind_chat
from storage.models import AudienceKind, OutboxMessage, OutboxStatus, utcnow
from storage.whatsapp import join
from tests.conftest import WEBHOOK_SECRET
from tests.rates import most_in_any_second
from tests.standins.telegram_api import TelegramStandIn
from tests.standins.twilio_api import TwilioStandIn
from tests.waiting import wait_until

GROUPS = NUMBERS = 100
RATE = 40  # messages a second, per channel, for the test (production: 30 and 80)
IN_FLIGHT = 8  # the delivery lanes' default


def prepare_broadcast(db: Database) -> None:
    """100 initiatives, each with a Telegram group and a WhatsApp member; one invitation each."""
    now = utcnow()
    with db.unit_of_work() as session:
        for number in range(GROUPS):
            chat, _ = bind_chat(
                session, "telegram", str(-1_000_000 - number), f"Buurt {number}", True
            )
            join(session, f"whatsapp:+3161{number:07d}", chat.initiative, "Lid", now)
        event = new_event(
            "Regioavond",
            now + timedelta(days=20),
            "Stadhuis",
            "",
            AudienceChoice(AudienceKind.ALL),
            now,
        )
        session.add(event)
        session.flush()
        assert (
            send_invitations(session, event, ZoneInfo("Europe/Amsterdam"), None) == GROUPS + NUMBERS
        )


class Worker:
    """`buurtbot worker` in its own process."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)
        _, errors = self.process.communicate(timeout=60)
        if signum == signal.SIGTERM:
            assert self.process.returncode == 0, errors.decode()[-2000:]


@pytest.fixture
def worker(
    db: Database, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn, tmp_path: Path
) -> Iterator[Worker]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": db.url,
        "TELEGRAM_BOT_TOKEN": telegram_api.token,
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TELEGRAM_API_URL": telegram_api.url,  # type: ignore[attr-defined]
        "TWILIO_ACCOUNT_SID": twilio_api.account_sid,
        "TWILIO_AUTH_TOKEN": twilio_api.auth_token,
        "TWILIO_WHATSAPP_FROM": twilio_api.sender,
        "TWILIO_API_URL": twilio_api.url,
        "TELEGRAM_MESSAGES_PER_SECOND": str(RATE),
        "TWILIO_MESSAGES_PER_SECOND": str(RATE),
        "OUTBOX_LEASE_SECONDS": "3",
        "LOG_LEVEL": "WARNING",
    }
    running = Worker(env, tmp_path)
    yield running
    if running.process is not None and running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def received(telegram_api: TelegramStandIn, twilio_api: TwilioStandIn) -> Counter[str]:
    """How many invitations each chat got."""
    got: Counter[str] = Counter(
        call.params["chat_id"]
        for call in telegram_api.sent()
        if "Regioavond" in call.params["text"]
    )
    got.update(message.to for message in twilio_api.sent())
    return got


def outbox_waiting(db: Database) -> int:
    with db.unit_of_work() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.status.in_(
                        [OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]
                    )
                )
            )
            or 0
        )


def stop_half_way(
    db: Database,
    telegram_api: TelegramStandIn,
    twilio_api: TwilioStandIn,
    worker: Worker,
    signum: int,
) -> None:
    """Start the broadcast and stop the worker with `signum` once 60 invitations are out."""
    prepare_broadcast(db)
    worker.start()
    wait_until(lambda: sum(received(telegram_api, twilio_api).values()) >= 60, timeout=60)
    worker.stop(signum)


def test_broadcast_stopped_half_way_and_restarted_reaches_everyone_exactly_once(
    db: Database, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn, worker: Worker
) -> None:
    stop_half_way(db, telegram_api, twilio_api, worker, signal.SIGTERM)
    half_way = sum(received(telegram_api, twilio_api).values())
    assert half_way < GROUPS + NUMBERS, "stopped before the end"
    with db.unit_of_work() as session:
        in_flight = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.SENDING.value)
        )
    assert in_flight == 0, "a stopping worker finishes and records what it was sending"

    worker.start()
    wait_until(lambda: outbox_waiting(db) == 0, timeout=60)
    worker.stop(signal.SIGTERM)
    got = received(telegram_api, twilio_api)
    assert len(got) == GROUPS + NUMBERS, "nobody skipped"
    assert set(got.values()) == {1}, f"sent twice: {[chat for chat, n in got.items() if n > 1]}"
    assert most_in_any_second([c.at for c in telegram_api.sent()]) <= RATE
    assert most_in_any_second([m.at for m in twilio_api.sent()]) <= RATE


def test_broadcast_killed_outright_loses_nobody(
    db: Database, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn, worker: Worker
) -> None:
    stop_half_way(db, telegram_api, twilio_api, worker, signal.SIGKILL)
    assert sum(received(telegram_api, twilio_api).values()) < GROUPS + NUMBERS
    time.sleep(0.5)
    worker.start()  # messages that were in flight wait for their lease (3 s) and go again
    wait_until(lambda: outbox_waiting(db) == 0, timeout=90)
    worker.stop(signal.SIGTERM)
    got = received(telegram_api, twilio_api)
    assert len(got) == GROUPS + NUMBERS, "nobody skipped"
    # Only a send in flight at the moment of the kill can go twice: at most the lanes' width.
    assert sum(got.values()) - len(got) <= 2 * IN_FLIGHT


async def test_limiter_keeps_every_one_second_window_under_the_rate() -> None:
    limiter = RateLimiter(per_second=50, per_chat_interval=0, per_chat_per_minute=1000)
    spans: list[tuple[float, float]] = []

    async def send(number: int) -> None:
        slot = await limiter.acquire(f"chat{number}")
        started = time.monotonic()
        # Answers come back late and unevenly; the limit must hold however they arrive.
        await asyncio.sleep(0.2 if number % 7 == 0 else 0.01)
        spans.append((started, time.monotonic()))
        limiter.release(slot)

    await asyncio.gather(*[send(number) for number in range(130)])
    # A request arrives at the server somewhere between its start and its answer: even if
    # each arrived at the worst moment, no second sees more than the limit.
    assert most_in_any_second([start for start, _ in spans]) <= 50
    assert max(_worst_case_window(spans)) <= 50


def _worst_case_window(spans: list[tuple[float, float]]) -> list[int]:
    """For every one-second window that opens at an answer, how many requests could have
    arrived in it."""
    return [
        sum(1 for start, end in spans if start < window_start + 1.0 and end >= window_start)
        for _, window_start in spans
    ]
