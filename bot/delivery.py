"""The delivery loop: sends what the outbox holds, within each channel's limits, retrying what failed.

A message is claimed with a lease before it is sent and marked sent after; a crash in between
makes it go out again once the lease expires (at least once), and nothing queued is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import defaultdict, deque
from datetime import timedelta
from typing import Protocol

from starlette.concurrency import run_in_threadpool

from storage import outbox
from storage.db import Database
from storage.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# Rounds start at most this often: a burst of queued replies (each one wakes the loop) makes one
# round, not one per reply, each looking through everything that waits for a rate limit.
MIN_ROUND_SECONDS = 0.05


class RetryLater(Exception):
    """The channel asked to wait (Telegram's 429 with retry_after)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds:g} s")
        self.seconds = seconds


class TransientError(Exception):
    """A network hiccup or server error: try again with backoff."""


class PermanentError(Exception):
    """The channel refused the message for good (blocked, chat gone, bad request)."""


class Sender(Protocol):
    channel: str

    async def send(self, message: OutboxMessage) -> str: ...


class RateLimiter:
    """Keeps sends under an overall rate, a per-chat rate and a per-chat per-minute cap."""

    def __init__(
        self, per_second: float, per_chat_interval: float, per_chat_per_minute: int
    ) -> None:
        self.interval = 1.0 / per_second
        self.per_chat_interval = per_chat_interval
        self.per_chat_per_minute = per_chat_per_minute
        self.next_slot = 0.0
        self.paused_until = 0.0
        self.recent: defaultdict[str, deque[float]] = defaultdict(deque)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    def chat_wait(self, chat: str) -> float:
        """Seconds until `chat` may get another message (0 when it may now)."""
        now = time.monotonic()
        sent = self.recent[chat]
        while sent and now - sent[0] >= 60:
            sent.popleft()
        wait = 0.0
        if sent:
            wait = max(wait, sent[-1] + self.per_chat_interval - now)
        if len(sent) >= self.per_chat_per_minute:
            wait = max(wait, sent[0] + 60 - now)
        return wait

    async def acquire(self, chat: str) -> None:
        """Wait for the overall slot; the caller has checked the chat is free."""
        now = time.monotonic()
        start = max(now, self.next_slot, self.paused_until)
        self.next_slot = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)
        self.recent[chat].append(time.monotonic())


def _limit_key(message: OutboxMessage | outbox.Due) -> str:
    """What a message counts against: its chat, or for a button notice the press it answers."""
    if message.action == "notice":
        return f"notice:{message.target_message_id}"
    return message.chat_external_id


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, 300) * (0.5 + random.random() / 2))


class Deliverer:
    """Sends due outbox messages for the given senders until stopped."""

    def __init__(
        self,
        db: Database,
        senders: list[Sender],
        limiter: RateLimiter | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.senders = {sender.channel: sender for sender in senders}
        self.limiter = limiter or RateLimiter(30, 1.0, 20)
        self.poll_seconds = poll_seconds
        self.wakeup = asyncio.Event()

    def _due(self) -> list[outbox.Due]:
        with self.db.unit_of_work() as session:
            return outbox.due(session, self.senders)

    def _claim(self, outbox_id: int) -> OutboxMessage | None:
        with self.db.unit_of_work() as session:
            return outbox.claim(session, outbox_id)

    async def deliver_due(self) -> int:
        """Send what is due now; returns how many were sent."""
        sent = 0
        # A chat at its limit waits for the next round, and so does everything queued after it
        # for that chat: messages in one chat go out in the order they were queued.
        waiting: set[str] = set()
        for candidate in await run_in_threadpool(self._due):
            key = _limit_key(candidate)
            if key in waiting or self.limiter.chat_wait(key) > 0:
                waiting.add(key)
                continue
            message = await run_in_threadpool(self._claim, candidate.id)
            if message is None:
                continue  # another deliverer took it
            await self.limiter.acquire(key)
            sent += await self._deliver(message)
        return sent

    async def _deliver(self, message: OutboxMessage) -> int:
        sender = self.senders[message.channel]
        try:
            channel_message_id = await sender.send(message)
        except RetryLater as error:
            self.limiter.pause(error.seconds)
            await run_in_threadpool(
                self._reschedule, message, timedelta(seconds=error.seconds), str(error), False
            )
            return 0
        except PermanentError as error:
            log.warning("outbox %s refused by %s: %s", message.id, message.channel, error)
            await run_in_threadpool(self._fail, message, str(error))
            return 0
        except Exception as error:
            if message.attempts + 1 >= MAX_ATTEMPTS:
                await run_in_threadpool(self._fail, message, repr(error))
            else:
                await run_in_threadpool(
                    self._reschedule, message, backoff(message.attempts + 1), repr(error), True
                )
            return 0
        await run_in_threadpool(self._mark_sent, message, channel_message_id)
        return 1

    def _reschedule(
        self, message: OutboxMessage, wait: timedelta, error: str, count_attempt: bool
    ) -> None:
        with self.db.unit_of_work() as session:
            outbox.reschedule(session, message.id, utcnow() + wait, error, count_attempt)

    def _fail(self, message: OutboxMessage, error: str) -> None:
        with self.db.unit_of_work() as session:
            outbox.mark_failed(session, message.id, error)

    def _mark_sent(self, message: OutboxMessage, channel_message_id: str) -> None:
        with self.db.unit_of_work() as session:
            outbox.mark_sent(session, message.id, channel_message_id)

    async def run(self) -> None:
        """Deliver until cancelled, waking on new messages or every `poll_seconds`."""
        while True:
            started = time.monotonic()
            try:
                await self.deliver_due()
            except Exception:
                log.exception("delivery round failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), self.poll_seconds)
            rest = started + MIN_ROUND_SECONDS - time.monotonic()
            if rest > 0:
                await asyncio.sleep(rest)
            self.wakeup.clear()
