"""The inbox worker: turns stored webhook deliveries into handled events, each exactly once.

Each delivery is handled in one transaction that also queues the replies and marks it done, so a
crash leaves it pending (to be handled after a restart) and never half-done. A delivery that fails
is retried later with backoff and does not hold up the ones behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from handlers.context import Services, TextClassifier
from handlers.messages import IncomingEvent, IncomingMessage
from handlers.router import handle, parse_command
from nlp.classifier import Classification
from storage import inbox, outbox
from storage.db import Database

log = logging.getLogger(__name__)

EventParser = Callable[[str], Awaitable[IncomingEvent]]
# SQLITE_BUSY and SQLITE_LOCKED (primary codes): another connection is writing.
_SQLITE_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}

# Deliveries are mapped, classified (as one batch) and handled this many at a time.
CHUNK = 32
# In one process with the webhook (`buurtbot serve`) the webhook goes first: the worker starts
# an update once no delivery has come in for QUIET_SECONDS, or after GIVE_WAY_SECONDS at most,
# so that under constant load it still handles updates (and a burst right after it). A worker in
# its own process is never woken by the webhook and never waits (its process runs at a lower
# CPU priority instead: `buurtbot worker --nice`).
QUIET_SECONDS = 0.001
GIVE_WAY_SECONDS = 0.02
# On PostgreSQL, this many updates share a transaction: long enough to save most commits, short
# enough that a worker in the web process gives way to the webhook often.
UPDATES_PER_TRANSACTION = 8


class UnreadableUpdate(Exception):
    """The channel's library cannot read this delivery; retrying will not help."""


class Prelabelled:
    """The classifier, with the labels of texts it has already labelled in one batch.

    A label depends only on the text and the model, so a post gets exactly the labels it would
    get on its own (`classify_batch` equals `classify` per text); texts not in the batch are
    classified as usual.
    """

    def __init__(self, classifier: TextClassifier, labels: dict[str, Classification]) -> None:
        self.classifier = classifier
        self.labels = labels

    def classify(self, text: str) -> Classification:
        labels = self.labels.get(text)
        return labels if labels is not None else self.classifier.classify(text)

    def classify_batch(self, texts: Sequence[str]) -> list[Classification]:
        return self.classifier.classify_batch(texts)


def _group_post_text(event: IncomingEvent) -> str | None:
    """The text a group post will be labelled by; None for what is not a post to label."""
    if not isinstance(event, IncomingMessage) or not event.chat.is_group:
        return None
    return None if parse_command(event.text) is not None else event.text


class InboxWorker:
    """Processes one channel's pending deliveries, in order of arrival."""

    def __init__(
        self,
        db: Database,
        services: Services,
        channel: str,
        to_event: EventParser,
        on_replies: Callable[[], None] = lambda: None,
        poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.services = services
        self.channel = channel
        self.to_event = to_event
        self.on_replies = on_replies
        self.poll_seconds = poll_seconds
        self.wakeup = asyncio.Event()
        self._waiting: list[tuple[str, str, asyncio.Future[None]]] = []
        self._writing = False
        self._last_delivery = float("-inf")  # when the webhook last stored a delivery
        self._postgres = None if db.is_sqlite else inbox.PostgresInbox(db.engine.url)
        # On PostgreSQL a commit (and its round trips) per update cost more than handling it, so
        # updates share transactions. SQLite commits cheaply, but its one writer at a time would
        # keep the webhook waiting for a shared transaction: one update each there.
        self._per_transaction = 1 if db.is_sqlite else UPDATES_PER_TRANSACTION

    def store_many(self, deliveries: list[tuple[str, str]]) -> None:
        """SQLite: keep deliveries in one transaction; a redelivery changes nothing."""
        with self.db.engine.begin() as connection:
            inbox.store_many(connection, self.channel, deliveries)

    def _store_without_waiting(self, deliveries: list[tuple[str, str]]) -> bool:
        """On SQLite, keep the deliveries right here on the event loop when no other connection
        is writing: a local insert of a group takes less CPU than handing it to a thread. False
        (and nothing written) when the database is busy; the caller then waits in a thread, so
        the event loop never waits for a lock."""
        try:
            with self.db.no_wait_engine().begin() as connection:
                inbox.store_many(connection, self.channel, deliveries)
        except OperationalError as error:
            code = getattr(error.orig, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _SQLITE_BUSY_CODES:
                return False
            raise
        return True

    async def store_durably(self, external_id: str, payload: str) -> None:
        """Keep a delivery before the webhook answers (group commit: requests that arrive while
        a transaction is being written share the next one)."""
        self._last_delivery = time.monotonic()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((external_id, payload, future))
        if not self._writing:
            self._writing = True
            asyncio.get_running_loop().create_task(self._write_waiting())
        await future

    async def _write_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                deliveries = [(key, payload) for key, payload, _ in batch]
                try:
                    if self._postgres is not None:
                        await self._postgres.store_many(self.channel, deliveries)
                    elif not self._store_without_waiting(deliveries):
                        await run_in_threadpool(self.store_many, deliveries)
                except Exception as error:  # each request answers with it
                    for _, _, future in batch:
                        future.set_exception(error)
                    continue
                for _, _, future in batch:
                    future.set_result(None)
        finally:
            self._writing = False

    async def close(self) -> None:
        """Close the webhook's own database connection (PostgreSQL)."""
        if self._postgres is not None:
            await self._postgres.close()

    def _due(self) -> list[tuple[int, str | None, int]]:
        with self.db.unit_of_work() as session:
            return inbox.due(session, self.channel)

    def _prelabelled(self, events: list[IncomingEvent]) -> Services:
        """Services whose classifier already knows the labels of these events' group posts:
        labelled as one batch (much cheaper per text than one by one), before and outside the
        transactions that store them (which then hold the database's write lock shorter)."""
        texts = list(dict.fromkeys(t for t in map(_group_post_text, events) if t is not None))
        if not texts:
            return self.services
        try:
            labels = self.services.classifier.classify_batch(texts)
        except Exception:
            # Each post is then classified on its own, and one that fails is retried alone.
            log.exception("batch classification failed; classifying one by one")
            return self.services
        return dataclasses.replace(
            self.services,
            classifier=Prelabelled(self.services.classifier, dict(zip(texts, labels, strict=True))),
        )

    def _handle(
        self, events: list[tuple[int, int, IncomingEvent]], services: Services
    ) -> dict[int, int]:
        """Handle updates in one transaction, in order; how many replies each queued. Updates
        that another worker has handled meanwhile, or is handling now, are left out."""
        with self.db.unit_of_work() as session:
            locked = inbox.lock_pending(session, [update_id for update_id, _, _ in events])
            replies_queued = {}
            for update_id, _, event in events:
                if update_id in locked:
                    replies = handle(session, services, event)
                    outbox.enqueue(session, replies)
                    replies_queued[update_id] = len(replies)
            inbox.mark_done(session, list(replies_queued))
            return replies_queued

    def _failed(self, update_id: int, attempts: int, error: BaseException) -> None:
        # The error's type and message only: never the update, which holds personal data.
        log.warning("update %s failed (attempt %s): %r", update_id, attempts + 1, error)
        with self.db.unit_of_work() as session:
            if isinstance(error, UnreadableUpdate):
                inbox.mark_unreadable(session, update_id, str(error))
            else:
                inbox.mark_attempt_failed(session, update_id, attempts, repr(error))

    async def _give_way(self) -> None:
        """Let the webhook in this process answer first (see GIVE_WAY_SECONDS)."""
        started = time.monotonic()
        while True:
            now = time.monotonic()
            quiet = now - self._last_delivery
            if quiet >= QUIET_SECONDS or now - started >= GIVE_WAY_SECONDS:
                return
            await asyncio.sleep(min(QUIET_SECONDS - quiet, started + GIVE_WAY_SECONDS - now))

    async def process_due(self) -> int:
        """Handle every delivery that is due; returns how many were handled."""
        due = await run_in_threadpool(self._due)
        handled = 0
        for start in range(0, len(due), CHUNK):
            handled += await self._process(due[start : start + CHUNK])
        return handled

    async def _process(self, due: list[tuple[int, str | None, int]]) -> int:
        events: list[tuple[int, int, IncomingEvent]] = []
        await self._give_way()
        for update_id, payload, attempts in due:
            try:
                events.append((update_id, attempts, await self.to_event(payload or "{}")))
            except Exception as error:
                await run_in_threadpool(self._failed, update_id, attempts, error)
        services = await run_in_threadpool(self._prelabelled, [event for _, _, event in events])
        replies_queued: dict[int, int] = {}
        for start in range(0, len(events), self._per_transaction):
            replies_queued |= await self._handle_together(
                events[start : start + self._per_transaction], services
            )
        if any(replies_queued.values()):
            self.on_replies()
        # Updates another worker took are not counted: a round of only those must not start the
        # next at once.
        return len(replies_queued)

    async def _handle_together(
        self, events: list[tuple[int, int, IncomingEvent]], services: Services
    ) -> dict[int, int]:
        """Handle updates in one transaction; when one fails, each in a transaction of its own
        (all were rolled back), so that only the one that fails waits for a retry."""
        await self._give_way()
        try:
            return await run_in_threadpool(self._handle, events, services)
        except Exception as error:
            if len(events) == 1:
                update_id, attempts, _ = events[0]
                await run_in_threadpool(self._failed, update_id, attempts, error)
                return {}
        replies_queued: dict[int, int] = {}
        for one in events:
            replies_queued |= await self._handle_together([one], services)
        return replies_queued

    async def run(self) -> None:
        """Process until cancelled. A round that handled something is followed at once by the
        next (a backlog is worked through without pauses); after an idle round the worker waits
        for a new delivery or `poll_seconds`."""
        while True:
            self.wakeup.clear()  # a delivery stored from here on makes the wait below end
            handled = 0
            try:
                handled = await self.process_due()
            except Exception:
                log.exception("inbox round failed; trying again")
            if handled:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), self.poll_seconds)
