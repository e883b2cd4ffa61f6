"""The inbox worker: turns stored webhook deliveries into handled events, each exactly once.

Each delivery is handled in one transaction that also queues the replies and marks it done, so a
crash leaves it pending (to be handled after a restart) and never half-done. A delivery that fails
is retried later with backoff and does not hold up the ones behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool

from handlers.context import Services
from handlers.messages import IncomingEvent
from handlers.router import handle
from storage import inbox, outbox
from storage.db import Database
from storage.models import InboundUpdate

log = logging.getLogger(__name__)

EventParser = Callable[[str], Awaitable[IncomingEvent]]


class UnreadableUpdate(Exception):
    """The channel's library cannot read this delivery; retrying will not help."""


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

    def store_many(self, deliveries: list[tuple[str, str]]) -> None:
        """Keep deliveries in one transaction; a redelivery changes nothing."""
        with self.db.unit_of_work() as session:
            inbox.store_many(session, self.channel, deliveries)

    async def store_durably(self, external_id: str, payload: str) -> None:
        """Keep a delivery before the webhook answers (group commit: requests that arrive while
        a transaction is being written share the next one)."""
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
                try:
                    await run_in_threadpool(
                        self.store_many, [(key, payload) for key, payload, _ in batch]
                    )
                except Exception as error:  # each request answers with it
                    for _, _, future in batch:
                        future.set_exception(error)
                    continue
                for _, _, future in batch:
                    future.set_result(None)
        finally:
            self._writing = False

    def _due(self) -> list[tuple[int, str | None, int]]:
        with self.db.unit_of_work() as session:
            ids = inbox.due_ids(session, self.channel)
            rows = [session.get(InboundUpdate, update_id) for update_id in ids]
            return [(row.id, row.payload, row.attempts) for row in rows if row is not None]

    def _handle(self, update_id: int, event: IncomingEvent) -> int:
        with self.db.unit_of_work() as session:
            if inbox.lock_pending(session, update_id) is None:
                return 0  # another worker handled it meanwhile
            replies = handle(session, self.services, event)
            outbox.enqueue(session, replies)
            inbox.mark_done(session, update_id)
            return len(replies)

    def _failed(self, update_id: int, attempts: int, error: BaseException) -> None:
        # The error's type and message only: never the update, which holds personal data.
        log.warning("update %s failed (attempt %s): %r", update_id, attempts + 1, error)
        with self.db.unit_of_work() as session:
            if isinstance(error, UnreadableUpdate):
                inbox.mark_unreadable(session, update_id, str(error))
            else:
                inbox.mark_attempt_failed(session, update_id, attempts, repr(error))

    async def process_due(self) -> int:
        """Handle every delivery that is due; returns how many were handled."""
        handled = 0
        for update_id, payload, attempts in await run_in_threadpool(self._due):
            try:
                event = await self.to_event(payload or "{}")
                replies = await run_in_threadpool(self._handle, update_id, event)
            except Exception as error:
                await run_in_threadpool(self._failed, update_id, attempts, error)
                continue
            handled += 1
            if replies:
                self.on_replies()
        return handled

    async def run(self) -> None:
        """Process until cancelled, waking on new deliveries or every `poll_seconds`."""
        while True:
            try:
                await self.process_due()
            except Exception:
                log.exception("inbox round failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), self.poll_seconds)
            self.wakeup.clear()
