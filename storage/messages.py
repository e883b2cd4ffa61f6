"""Storing labelled messages."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from handlers.messages import IncomingMessage
from nlp.classifier import Classification
from storage.incidents import link_to_incident
from storage.models import Chat, Event, Member, Message, MessageSource, utcnow
from storage.privacy import mask_personal_data

MAX_STORED_TEXT = 4096

_INSERT_MESSAGE = insert(cast(Table, Message.__table__))
_STORED_BEFORE = select(Message.id).where(
    Message.chat_id == bindparam("chat_id"),
    Message.channel_message_id == bindparam("channel_message_id"),
)


def store_message(
    session: Session,
    chat: Chat,
    member: Member | None,
    incoming: IncomingMessage,
    labels: Classification,
) -> Message | None:
    """Store a post with its labels, linked to its incident; None when it was stored before.

    The row is written at once with its incident already set: one plain INSERT (no unit-of-work
    flush, no UPDATE after it). The message returned is not tracked by the session.
    """
    exists = session.scalar(
        _STORED_BEFORE, {"chat_id": chat.id, "channel_message_id": incoming.message_id}
    )
    if exists is not None:
        return None
    values: dict[str, object] = dict(
        initiative_id=chat.initiative_id,
        chat_id=chat.id,
        member_id=member.id if member else None,
        channel_message_id=incoming.message_id,
        reply_to_message_id=incoming.reply_to.message_id if incoming.reply_to else None,
        sent_at=incoming.sent_at,
        text=mask_personal_data(incoming.text)[:MAX_STORED_TEXT],
        kind=labels.kind,
        category=labels.category,
        urgent=labels.urgent,
        confidence=labels.confidence,
        needs_review=labels.needs_review,
        model_version=labels.model_version,
        source=MessageSource.LIVE.value,
        received_at=utcnow(),
    )
    message = Message(**values)
    link_to_incident(session, message)
    session.flush()  # the incident it joins or opens is written first
    result = session.connection().execute(
        _INSERT_MESSAGE, {**values, "incident_id": message.incident_id}
    )
    key = result.inserted_primary_key
    assert key is not None
    message.id = key[0]
    return message


def store_finding(
    session: Session,
    event: Event,
    text: str,
    category: str,
    labels: Classification,
    number: int,
    now: datetime,
) -> Message:
    """A finding from a schouw report, stored as a signal of the event's chat."""
    message = Message(
        initiative_id=event.initiative_id,
        chat_id=event.chat_id,
        member_id=event.organiser_id,
        channel_message_id=f"schouw-{event.id}-{number}",
        sent_at=now,
        text=mask_personal_data(text)[:MAX_STORED_TEXT],
        kind="signaal",
        category=category,
        urgent=False,
        confidence=labels.confidence,
        needs_review=labels.needs_review,
        model_version=labels.model_version,
        source=MessageSource.SCHOUW.value,
    )
    session.add(message)
    session.flush()
    return message
