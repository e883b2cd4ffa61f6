"""Everything one bot process runs on: settings, database, classifier, channels and workers."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import configure as configure_scheduler
from bot.delivery import Deliverer, RateLimiter, Sender
from bot.inbox import InboxWorker
from bot.telegram import TelegramChannel
from bot.whatsapp import WhatsAppChannel, load_templates
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
    whatsapp: WhatsAppChannel | None = None
    whatsapp_inbox: InboxWorker | None = None
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
        if settings.whatsapp_enabled:
            whatsapp = build_whatsapp(settings, runtime.db)
            runtime.whatsapp = whatsapp
            runtime.senders.append(whatsapp)
            runtime.whatsapp_inbox = InboxWorker(
                runtime.db, runtime.services, Channel.WHATSAPP.value, whatsapp.to_event
            )
            runtime.services.whatsapp_number = settings.twilio_whatsapp_from
        runtime.deliverer = Deliverer(
            runtime.db,
            runtime.senders,
            limiters=channel_limiters(settings),
            lease=timedelta(seconds=settings.outbox_lease_seconds),
        )
        for inbox_worker in runtime.inboxes:
            inbox_worker.on_replies = runtime.deliverer.wakeup.set
        if with_scheduler:
            runtime.scheduler = configure_scheduler(AsyncIOScheduler(), runtime.db, settings)
        return runtime

    @property
    def inboxes(self) -> list[InboxWorker]:
        return [worker for worker in (self.telegram_inbox, self.whatsapp_inbox) if worker]

    async def start(self) -> list[asyncio.Task[None]]:
        tasks: list[asyncio.Task[None]] = []
        if self.scheduler is not None:
            self.scheduler.start()
        if not self.with_workers:
            return tasks
        if self.telegram is not None and self.telegram_inbox is not None:
            await self.telegram.start()
            tasks.append(asyncio.create_task(self.telegram_inbox.run(), name="telegram-inbox"))
        if self.whatsapp_inbox is not None:
            tasks.append(asyncio.create_task(self.whatsapp_inbox.run(), name="whatsapp-inbox"))
        if self.deliverer is not None and self.senders:
            tasks.append(asyncio.create_task(self.deliverer.run(), name="outbox"))
        return tasks

    async def run_workers(self, stop: asyncio.Event) -> None:
        """Process the inbox and deliver the outbox until `stop` is set (`buurtbot worker`)."""
        for worker in (*self.inboxes, self.deliverer):
            if worker is not None:
                worker.poll_seconds = WORKER_POLL_SECONDS
        tasks = await self.start()
        try:
            await stop.wait()
        finally:
            await self.finish(tasks)

    async def finish(self, tasks: list[asyncio.Task[None]]) -> None:
        """Stop the workers: sends in flight are finished and recorded first, then all stops."""
        if self.deliverer is not None and self.with_workers:
            await self.deliverer.shutdown()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.stop()

    async def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for inbox_worker in self.inboxes:
            await inbox_worker.close()
        if self.telegram is not None:
            await self.telegram.stop()


def channel_limiters(settings: Settings) -> dict[str, RateLimiter]:
    """Each channel's flood limits, from the settings."""
    return {
        Channel.TELEGRAM.value: RateLimiter(
            settings.telegram_messages_per_second, 1.0, settings.telegram_group_messages_per_minute
        ),
        # WhatsApp limits the sender's rate; one person gets at most a message a second.
        Channel.WHATSAPP.value: RateLimiter(settings.twilio_messages_per_second, 1.0, 60),
    }


def build_whatsapp(settings: Settings, db: Database) -> WhatsAppChannel:
    """The WhatsApp channel, reading the 24-hour window from the database."""
    from bot.media import media_url
    from storage.whatsapp import last_inbound

    assert settings.twilio_account_sid and settings.twilio_auth_token
    assert settings.twilio_whatsapp_from

    def window_start(number: str) -> datetime | None:
        with db.unit_of_work() as session:
            return last_inbound(session, number)

    return WhatsAppChannel(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token.get_secret_value(),
        sender=settings.twilio_whatsapp_from,
        api_url=settings.twilio_api_url,
        public_url=settings.public_url,
        last_inbound=window_start,
        media_url=lambda message: media_url(settings, message),
        templates=load_templates(settings.whatsapp_templates),
    )
