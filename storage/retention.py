"""Retention: drop what the bot no longer needs, keeping the labels that trends are made of.

Idempotent, so the scheduler may run it as often as it likes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import (
    Channel,
    InboundUpdate,
    InboxStatus,
    Message,
    OutboxMessage,
    OutboxStatus,
    PrivateChat,
    utcnow,
)

PROCESSED_UPDATES_KEPT = timedelta(days=7)
SENT_MESSAGES_KEPT = timedelta(days=30)
# Long enough for the twelve-month impact window and the year's Communitymonitor.
MESSAGE_TEXT_KEPT = timedelta(days=400)


@dataclass(frozen=True)
class Purged:
    updates: int
    outbox: int
    texts: int


def purge_expired(session: Session) -> Purged:
    """Delete handled webhook deliveries and sent messages; blank old message texts."""
    now = utcnow()
    updates = session.execute(
        delete(InboundUpdate).where(
            InboundUpdate.status == InboxStatus.DONE.value,
            InboundUpdate.processed_at < now - PROCESSED_UPDATES_KEPT,
        )
    )
    sent = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.SENT.value,
            OutboxMessage.sent_at < now - SENT_MESSAGES_KEPT,
        )
    )
    # A number that sent STOP is forgotten: its last messages (the goodbye) go as soon as sent.
    forgotten = session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.channel == Channel.WHATSAPP.value,
            OutboxMessage.status.in_([OutboxStatus.SENT.value, OutboxStatus.FAILED.value]),
            OutboxMessage.chat_external_id.not_in(
                select(PrivateChat.external_id).where(
                    PrivateChat.channel == Channel.WHATSAPP.value
                )
            ),
            OutboxMessage.chat_external_id.not_like("vergeten:%"),
        )
    )
    texts = session.execute(
        update(Message)
        .where(Message.sent_at < now - MESSAGE_TEXT_KEPT, Message.text != "")
        .values(text="")
    )
    return Purged(
        updates.rowcount,  # type: ignore[attr-defined]
        sent.rowcount + forgotten.rowcount,  # type: ignore[attr-defined]
        texts.rowcount,  # type: ignore[attr-defined]
    )
