"""The outbox: what the bot will say, queued in the same transaction as the work behind it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from handlers.messages import Button, Reply
from storage.models import OutboxMessage, OutboxStatus, utcnow

LEASE = timedelta(seconds=60)


def _columns(reply: Reply) -> dict[str, object]:
    return {
        "channel": reply.chat.channel,
        "chat_external_id": reply.chat.external_id,
        "text": reply.text,
        "reply_to_message_id": reply.reply_to_message_id,
        "image": reply.image,
        "buttons": json.dumps([[b.label, b.data] for b in reply.buttons])
        if reply.buttons
        else None,
        "action": reply.action,
        "target_message_id": reply.target_message_id,
        "template": reply.template,
        "template_values": json.dumps(dict(reply.template_values), ensure_ascii=False)
        if reply.template_values
        else None,
    }


def _drop_pending_edits(session: Session, reply: Reply) -> None:
    """Only the newest edit of a message matters: older ones still waiting are dropped."""
    session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.channel == reply.chat.channel,
            OutboxMessage.chat_external_id == reply.chat.external_id,
            OutboxMessage.target_message_id == reply.target_message_id,
            OutboxMessage.action == "edit",
            OutboxMessage.status == OutboxStatus.PENDING.value,
        )
    )


def buttons_of(message: OutboxMessage) -> list[Button]:
    return [Button(label, data) for label, data in json.loads(message.buttons or "[]")]


def enqueue(session: Session, replies: Iterable[Reply]) -> int:
    """Queue replies; one with a key is queued only if that key never was. Returns how many."""
    queued = 0
    for reply in replies:
        if reply.action == "edit":
            _drop_pending_edits(session, reply)
        if reply.key is not None:
            queued += enqueue_once(session, reply)
        else:
            session.add(OutboxMessage(**_columns(reply)))
            queued += 1
    session.flush()
    return queued


def enqueue_once(session: Session, reply: Reply) -> int:
    """Queue `reply` unless a message with its key was ever queued; returns 1 or 0.

    The unique key makes this safe against a second scheduler doing the same at the same time.
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = session.execute(
        insert(OutboxMessage)
        .values(
            **_columns(reply),
            dedupe_key=reply.key,
            status=OutboxStatus.PENDING.value,
            attempts=0,
            created_at=utcnow(),
            next_attempt_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    return len(result.all())


def enqueue_many_once(session: Session, replies: Sequence[Reply]) -> None:
    """Queue many keyed replies in one statement (a broadcast); keys queued before are skipped."""
    if not replies:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    rows = [
        {
            **_columns(reply),
            "dedupe_key": reply.key,
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "next_attempt_at": now,
        }
        for reply in replies
    ]
    for start in range(0, len(rows), 1000):
        session.execute(
            insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"]),
            rows[start : start + 1000],
        )


@dataclass(frozen=True)
class Due:
    """A message that may be sent now, and what it counts against for rate limits."""

    id: int
    chat_external_id: str
    action: str
    target_message_id: str | None


def due(session: Session, channels: Iterable[str], limit: int = 200) -> list[Due]:
    """Messages that may be sent now, oldest first (expired leases included)."""
    now = utcnow()
    rows = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.chat_external_id,
            OutboxMessage.action,
            OutboxMessage.target_message_id,
        )
        .where(
            OutboxMessage.channel.in_(list(channels)),
            or_(
                (OutboxMessage.status == OutboxStatus.PENDING.value)
                & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == OutboxStatus.SENDING.value)
                & (OutboxMessage.lease_until < now),
            ),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return [Due(*row) for row in rows]


def claim_many(
    session: Session, outbox_ids: Sequence[int], lease: timedelta = LEASE
) -> list[OutboxMessage]:
    """Take several messages for sending in one statement; those another deliverer holds are
    left out. Returned in queue order."""
    if not outbox_ids:
        return []
    now = utcnow()
    taken = session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(outbox_ids)),
            or_(
                OutboxMessage.status == OutboxStatus.PENDING.value,
                (OutboxMessage.status == OutboxStatus.SENDING.value)
                & (OutboxMessage.lease_until < now),
            ),
        )
        .values(status=OutboxStatus.SENDING.value, lease_until=now + lease)
        .returning(OutboxMessage.id)
    ).all()
    if not taken:
        return []
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(taken)).order_by(OutboxMessage.id)
        )
    )


def release(session: Session, outbox_ids: Sequence[int]) -> None:
    """Put claimed messages that were not sent back in the queue, as they were."""
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(list(outbox_ids)),
            OutboxMessage.status == OutboxStatus.SENDING.value,
        )
        .values(status=OutboxStatus.PENDING.value, lease_until=None)
    )


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


def redirect(session: Session, channel: str, old_chat: str, new_chat: str) -> int:
    """Send what still waits for a chat (or is being sent to it) to the chat's new id."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.chat_external_id == old_chat,
            OutboxMessage.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]),
        )
        .values(chat_external_id=new_chat)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def key_of_sent_message(session: Session, channel: str, chat: str, message_id: str) -> str | None:
    """The dedupe key of the bot's message `message_id` in a chat (what a reply answers)."""
    return session.scalar(
        select(OutboxMessage.dedupe_key).where(
            OutboxMessage.channel == channel,
            OutboxMessage.chat_external_id == chat,
            OutboxMessage.channel_message_id == message_id,
        )
    )
