"""The outbox: what the bot will say, queued in the same transaction as the work behind it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from handlers.messages import Reply
from storage.models import OutboxMessage, OutboxStatus, utcnow

LEASE = timedelta(seconds=60)


def enqueue(session: Session, replies: Iterable[Reply]) -> list[OutboxMessage]:
    rows = [
        OutboxMessage(
            channel=reply.chat.channel,
            chat_external_id=reply.chat.external_id,
            text=reply.text,
            reply_to_message_id=reply.reply_to_message_id,
        )
        for reply in replies
    ]
    session.add_all(rows)
    return rows


def due_ids(session: Session, channels: Iterable[str], limit: int = 100) -> list[int]:
    """Ids of messages that may be sent now, oldest first (expired leases included)."""
    now = utcnow()
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.channel.in_(list(channels)),
                or_(
                    (OutboxMessage.status == OutboxStatus.PENDING.value)
                    & (OutboxMessage.next_attempt_at <= now),
                    (OutboxMessage.status == OutboxStatus.SENDING.value)
                    & (OutboxMessage.lease_until < now),
                ),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )


def claim(session: Session, outbox_id: int) -> OutboxMessage | None:
    """Take one message for sending; None when another deliverer took it first."""
    now = utcnow()
    claimed = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            or_(
                OutboxMessage.status == OutboxStatus.PENDING.value,
                (OutboxMessage.status == OutboxStatus.SENDING.value)
                & (OutboxMessage.lease_until < now),
            ),
        )
        .values(status=OutboxStatus.SENDING.value, lease_until=now + LEASE)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(OutboxMessage, outbox_id)


def mark_sent(session: Session, outbox_id: int, channel_message_id: str | None) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(
            status=OutboxStatus.SENT.value,
            sent_at=utcnow(),
            lease_until=None,
            channel_message_id=channel_message_id,
            attempts=OutboxMessage.attempts + 1,
        )
    )


def reschedule(
    session: Session, outbox_id: int, at: datetime, error: str, count_attempt: bool = True
) -> None:
    """Put a message back in the queue for a later attempt."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(
            status=OutboxStatus.PENDING.value,
            next_attempt_at=at,
            lease_until=None,
            last_error=error[:500],
            attempts=OutboxMessage.attempts + (1 if count_attempt else 0),
        )
    )


def mark_failed(session: Session, outbox_id: int, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id)
        .values(
            status=OutboxStatus.FAILED.value,
            lease_until=None,
            last_error=error[:500],
            attempts=OutboxMessage.attempts + 1,
        )
    )
