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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from starlette.concurrency import run_in_threadpool

from storage import outbox
from storage.db import Database
from storage.directory import move_chat
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


class ChatMovedError(Exception):
    """The chat has a new id (a Telegram group became a supergroup): send it there."""

    def __init__(self, new_external_id: str) -> None:
        super().__init__(f"chat moved to {new_external_id}")
        self.new_external_id = new_external_id


class PermanentError(Exception):
    """The channel refused the message for good (blocked, chat gone, bad request)."""


class Sender(Protocol):
    channel: str

    async def send(self, message: OutboxMessage) -> str: ...


@dataclass
class Slot:
    """One send's place in the rate limit: when it may start, and when it was answered."""

    start: float
    end: float | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event)


class RateLimiter:
    """Keeps sends under an overall rate, a per-chat rate and a per-chat per-minute cap.

    The overall rate holds in every window of one second *as the receiving server counts*, not
    just on average: sends are spaced evenly, and a send starts only once the send `per_second`
    places before it was answered a second (plus a small margin) ago. A request arrives between
    its start and its answer, so however the network delays them, no second at the receiver sees
    more than `per_second` of them. Call `release` with the slot when the answer is in.
    """

    def __init__(
        self,
        per_second: float,
        per_chat_interval: float,
        per_chat_per_minute: int,
        window_margin: float = 0.005,
    ) -> None:
        self.interval = 1.0 / per_second
        self.per_window = max(1, int(per_second))
        self.window = 1.0 + window_margin
        self.per_chat_interval = per_chat_interval
        self.per_chat_per_minute = per_chat_per_minute
        self.next_slot = 0.0
        self.paused_until = 0.0
        self.slots: deque[Slot] = deque(maxlen=self.per_window)
        self.recent: defaultdict[str, deque[float]] = defaultdict(deque)

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)

    def chat_wait(self, chat: str) -> float:
        """Seconds until `chat` may get another message (0 when it may now)."""
        now = time.monotonic()
        sent = self.recent[chat]
        while sent and now - sent[0] >= 60:
            sent.popleft()
        if not sent:
            del self.recent[chat]  # keeps the map as small as the chats being written to
            return 0.0
        wait = sent[-1] + self.per_chat_interval - now
        if len(sent) >= self.per_chat_per_minute:
            wait = max(wait, sent[0] + 60 - now)
        return max(wait, 0.0)

    async def acquire(self, chat: str) -> Slot:
        """Wait for the next overall slot; the caller has checked the chat is free."""
        while len(self.slots) == self.per_window and self.slots[0].end is None:
            await self.slots[0].answered.wait()
        now = time.monotonic()
        start = max(now, self.next_slot, self.paused_until)
        if len(self.slots) == self.per_window:
            oldest_end = self.slots[0].end
            assert oldest_end is not None
            start = max(start, oldest_end + self.window)
        slot = Slot(start)
        self.slots.append(slot)
        self.next_slot = start + self.interval
        self.recent[chat].append(start)
        if start > now:
            await asyncio.sleep(start - now)
        return slot

    @staticmethod
    def release(slot: Slot) -> None:
        """The send in `slot` was answered (or failed): it no longer holds up the window."""
        if slot.end is None:
            slot.end = time.monotonic()
            slot.answered.set()


def _limit_key(message: OutboxMessage | outbox.Due) -> str:
    """What a message counts against: its chat, or for a button notice the press it answers."""
    if message.action == "notice":
        return f"notice:{message.target_message_id}"
    return message.chat_external_id


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, 300) * (0.5 + random.random() / 2))


class Lane:
    """One channel's deliveries: its own limits, several sends in flight, one per chat at a time."""

    def __init__(
        self,
        db: Database,
        sender: Sender,
        limiter: RateLimiter,
        max_in_flight: int,
        lease: timedelta,
    ) -> None:
        self.db = db
        self.sender = sender
        self.limiter = limiter
        self.lease = lease
        self.slots = asyncio.Semaphore(max_in_flight)
        self.busy_chats: set[str] = set()
        self.in_flight: set[asyncio.Task[int]] = set()
        self.stopping = False

    def _due(self) -> list[outbox.Due]:
        with self.db.unit_of_work() as session:
            return outbox.due(session, [self.sender.channel])

    def _claim(self, outbox_ids: list[int]) -> dict[int, OutboxMessage]:
        with self.db.unit_of_work() as session:
            return {m.id: m for m in outbox.claim_many(session, outbox_ids, self.lease)}

    def _release(self, outbox_ids: list[int]) -> None:
        with self.db.unit_of_work() as session:
            outbox.release(session, outbox_ids)

    def _next_batch(self, due: list[outbox.Due]) -> list[tuple[outbox.Due, str]]:
        """The messages to send this round: the first waiting one of each chat that may get one.

        A chat at its limit waits for the next round, and so does everything queued after it
        for that chat: messages in one chat go out in the order they were queued. The batch is
        small enough to be sent well within its lease.
        """
        limit = max(1, int(self.limiter.per_window * self.lease.total_seconds() / 4))
        seen: set[str] = set()
        batch: list[tuple[outbox.Due, str]] = []
        for candidate in due:
            key = _limit_key(candidate)
            if key in seen:
                continue
            seen.add(key)
            if key in self.busy_chats or self.limiter.chat_wait(key) > 0:
                continue
            batch.append((candidate, key))
            if len(batch) >= limit:
                break
        return batch

    async def deliver_due(self) -> int:
        """Send what is due now; returns how many were sent."""
        batch = self._next_batch(await run_in_threadpool(self._due))
        if not batch:
            return 0
        # Taken in one go; another deliverer's claims are simply skipped.
        claimed = await run_in_threadpool(self._claim, [due.id for due, _ in batch])
        started: set[int] = set()
        for candidate, key in batch:
            message = claimed.get(candidate.id)
            if message is None or self.stopping:
                continue
            await self.slots.acquire()
            slot = await self.limiter.acquire(key)
            self.busy_chats.add(key)
            started.add(message.id)
            task = asyncio.create_task(self._deliver(message, key, slot))
            self.in_flight.add(task)
        if unsent := [outbox_id for outbox_id in claimed if outbox_id not in started]:
            await run_in_threadpool(self._release, unsent)  # stopping: back in the queue
        results = await asyncio.gather(*self.in_flight, return_exceptions=True)
        self.in_flight.clear()
        for result in results:
            if isinstance(result, BaseException):
                log.error("recording a delivery failed: %r", result)
        return sum(result for result in results if isinstance(result, int))

    async def run(self, wakeup: asyncio.Event, poll_seconds: Callable[[], float]) -> None:
        """Deliver until stopping; straight on while there is work, else wait to be woken."""
        while not self.stopping:
            started = time.monotonic()
            try:
                sent = await self.deliver_due()
            except Exception:
                log.exception("delivery round for %s failed; trying again", self.sender.channel)
                sent = 0
            if sent and not self.stopping:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), poll_seconds())
            if (rest := started + MIN_ROUND_SECONDS - time.monotonic()) > 0:
                await asyncio.sleep(rest)
            wakeup.clear()

    async def _deliver(self, message: OutboxMessage, key: str, slot: Slot) -> int:
        try:
            return await self._send(message, slot)
        finally:
            self.limiter.release(slot)
            self.busy_chats.discard(key)
            self.slots.release()

    async def _send(self, message: OutboxMessage, slot: Slot) -> int:
        try:
            try:
                channel_message_id = await self.sender.send(message)
            finally:
                self.limiter.release(slot)
        except RetryLater as error:
            self.limiter.pause(error.seconds)
            await run_in_threadpool(
                self._reschedule, message, timedelta(seconds=error.seconds), str(error), False
            )
            return 0
        except ChatMovedError as error:
            await run_in_threadpool(self._follow_chat, message, error.new_external_id)
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

    def _follow_chat(self, message: OutboxMessage, new_external_id: str) -> None:
        """Move the chat to its new id and send the message again, there and at once."""
        with self.db.unit_of_work() as session:
            move_chat(session, message.channel, message.chat_external_id, new_external_id)
            outbox.reschedule(session, message.id, utcnow(), "chat moved", count_attempt=False)

    def _fail(self, message: OutboxMessage, error: str) -> None:
        with self.db.unit_of_work() as session:
            outbox.mark_failed(session, message.id, error)

    def _mark_sent(self, message: OutboxMessage, channel_message_id: str) -> None:
        with self.db.unit_of_work() as session:
            outbox.mark_sent(session, message.id, channel_message_id)


class Wakeup:
    """Wakes every lane at once (something new was queued)."""

    def __init__(self, events: list[asyncio.Event]) -> None:
        self.events = events

    def set(self) -> None:
        for event in self.events:
            event.set()


class Deliverer:
    """Sends due outbox messages, one lane per channel, until stopped.

    Each channel has its own limits (`limiters`, or one shared `limiter`). `shutdown` lets the
    sends in flight finish and be recorded before it returns, so a restart sends nobody a
    message twice; only a hard kill can leave a send in flight unrecorded, and that message
    goes out again once its lease runs out (at least once, never lost).
    """

    def __init__(
        self,
        db: Database,
        senders: list[Sender],
        limiter: RateLimiter | None = None,
        poll_seconds: float = 1.0,
        limiters: dict[str, RateLimiter] | None = None,
        max_in_flight: int = 8,
        lease: timedelta = outbox.LEASE,
    ) -> None:
        self.db = db
        self.lanes = {
            sender.channel: Lane(
                db,
                sender,
                (limiters or {}).get(sender.channel) or limiter or RateLimiter(30, 1.0, 20),
                max_in_flight,
                lease,
            )
            for sender in senders
        }
        self.poll_seconds = poll_seconds
        self.wakeup = Wakeup([asyncio.Event() for _ in self.lanes])
        self.stopping = False
        self.stopped = asyncio.Event()

    async def deliver_due(self) -> int:
        """One round in every lane at once; returns how many were sent."""
        return sum(await asyncio.gather(*(lane.deliver_due() for lane in self.lanes.values())))

    async def run(self) -> None:
        """Deliver until `shutdown` (or cancelled), each lane at its own pace, waking on new
        messages or every `poll_seconds`."""
        try:
            await asyncio.gather(
                *(
                    lane.run(event, lambda: self.poll_seconds)
                    for lane, event in zip(self.lanes.values(), self.wakeup.events, strict=True)
                )
            )
        finally:
            self.stopped.set()

    async def shutdown(self, timeout: float = 30) -> None:
        """Stop taking new messages; wait for the sends in flight to finish and be recorded."""
        self.stopping = True
        for lane in self.lanes.values():
            lane.stopping = True
        self.wakeup.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopped.wait(), timeout)
