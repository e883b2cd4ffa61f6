"""Everything one bot process runs on: settings, database, classifier, channels and workers."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import configure as configure_scheduler
from bot.delivery import Deliverer, Sender
from bot.inbox import InboxWorker
from bot.telegram import TelegramChannel
from config.settings import Settings
from handlers.context import Services
from storage.db import Database
from storage.models import Channel

log = logging.getLogger(__name__)

# A worker in its own process is not woken by the webhook, so it looks for new work often.
WORKER_POLL_SECONDS = 0.2


@dataclass
class Runtime:
    settings: Settings
    db: Database
    services: Services
    model_version: str
    telegram: TelegramChannel | None = None
    telegram_inbox: InboxWorker | None = None
    deliverer: Deliverer | None = None
    senders: list[Sender] = field(default_factory=list)
    scheduler: AsyncIOScheduler | None = None
    # False in a web process when `buurtbot worker` processes and delivers elsewhere.
    with_workers: bool = True

    @classmethod
    def build(
        cls, settings: Settings, db: Database | None = None, with_scheduler: bool = False
    ) -> Runtime:
        """Wire up the parts the settings switch on."""
        from nlp.classifier import get_classifier

        classifier = get_classifier()
        runtime = cls(
            settings=settings,
            db=db or Database(settings.database_url),
            services=Services(classifier=classifier),
            model_version=classifier.version,
        )
        if settings.telegram_bot_token is not None:
            telegram = TelegramChannel(
                settings.telegram_bot_token.get_secret_value(), settings.telegram_base_url
            )
            runtime.telegram = telegram
            runtime.senders.append(telegram)
            runtime.telegram_inbox = InboxWorker(
                runtime.db, runtime.services, Channel.TELEGRAM.value, telegram.to_event
            )
        runtime.deliverer = Deliverer(runtime.db, runtime.senders)
        if runtime.telegram_inbox is not None:
            runtime.telegram_inbox.on_replies = runtime.deliverer.wakeup.set
        if with_scheduler:
            runtime.scheduler = configure_scheduler(AsyncIOScheduler(), runtime.db, settings)
        return runtime

    async def start(self) -> list[asyncio.Task[None]]:
        tasks: list[asyncio.Task[None]] = []
        if self.scheduler is not None:
            self.scheduler.start()
        if not self.with_workers:
            return tasks
        if self.telegram is not None and self.telegram_inbox is not None:
            await self.telegram.start()
            tasks.append(asyncio.create_task(self.telegram_inbox.run(), name="telegram-inbox"))
        if self.deliverer is not None and self.senders:
            tasks.append(asyncio.create_task(self.deliverer.run(), name="outbox"))
        return tasks

    async def run_workers(self, stop: asyncio.Event) -> None:
        """Process the inbox and deliver the outbox until `stop` is set (`buurtbot worker`)."""
        for worker in (self.telegram_inbox, self.deliverer):
            if worker is not None:
                worker.poll_seconds = WORKER_POLL_SECONDS
        tasks = await self.start()
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.stop()

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self.telegram is not None:
            await self.telegram.stop()
