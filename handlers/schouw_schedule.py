"""Scheduled work around schouws: reminders the day before and two hours before, and the
request for a report afterwards. Every message has a key, so each goes out once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.messages import ChatRef, Reply
from handlers.schouw import REPORT_KEY, when_text
from handlers.texts import text
from storage import events
from storage.directory import has_private_chat, initiative_chats
from storage.models import Chat, Event, EventStatus, Member, RsvpAnswer
from storage.outbox import enqueue

DAY_BEFORE = timedelta(hours=24)
SOON = timedelta(hours=2)
# A schouw takes about this long; then the organiser is asked how it went.
DURATION = timedelta(hours=2)
COMING = {RsvpAnswer.YES, RsvpAnswer.MAYBE}


def _group(session: Session, event: Event) -> tuple[ChatRef, str]:
    chat = session.get(Chat, event.chat_id)
    assert chat is not None
    return ChatRef(chat.channel, chat.external_id, chat.title, True), chat.initiative.language


def _reminders(session: Session, event: Event, which: str, zone: ZoneInfo) -> list[Reply]:
    """The group reminder and a private one for each attendee the bot may write to."""
    assert event.starts_at is not None
    group, language = _group(session, event)
    coming = events.attendees(session, event.id, COMING)
    names = ", ".join(member.display_name for member in coming)
    attending = (
        text("schouw_attending", language, names=names)
        if coming
        else text("schouw_nobody_yet", language)
    )
    body = text(
        f"schouw_reminder_{which}",
        language,
        when=when_text(event.starts_at, zone, language),
        location=event.location or "?",
        attending=attending,
    )
    replies = [Reply(group, body, key=f"schouw:{event.id}:{which}")]
    planned_in = session.get(Chat, event.chat_id)
    if planned_in is not None and not planned_in.is_group:
        # Planned one-to-one (WhatsApp): the initiative's Telegram groups hear it too.
        replies += [
            Reply(
                ChatRef(chat.channel, chat.external_id, chat.title, True),
                body,
                key=f"schouw:{event.id}:{which}:chat{chat.id}",
            )
            for chat in initiative_chats(session, event.initiative_id)
            if chat.is_group
        ]
    for member in coming:
        if has_private_chat(session, member.channel, member.external_id):
            private = ChatRef(member.channel, member.external_id, None, is_group=False)
            replies.append(Reply(private, body, key=f"schouw:{event.id}:{which}:{member.id}"))
    return replies


def _report_request(session: Session, event: Event, zone: ZoneInfo) -> Reply:
    """Ask the organiser how it went: privately when possible, else in the group."""
    assert event.starts_at is not None
    group, language = _group(session, event)
    organiser = session.get(Member, event.organiser_id) if event.organiser_id else None
    chat = group
    if organiser and has_private_chat(session, organiser.channel, organiser.external_id):
        chat = ChatRef(organiser.channel, organiser.external_id, None, is_group=False)
    return Reply(
        chat,
        text("schouw_report_request", language, when=when_text(event.starts_at, zone, language)),
        key=f"{REPORT_KEY}:{event.id}",
    )


def queue_schouw_messages(session: Session, now: datetime, zone: ZoneInfo) -> int:
    """Queue the reminders and report requests that are due; returns how many were queued."""
    replies: list[Reply] = []
    for event in events.due_for(session, EventStatus.PLANNED, now + SOON, now + DAY_BEFORE):
        replies += _reminders(session, event, "day", zone)
    for event in events.due_for(session, EventStatus.PLANNED, now, now + SOON):
        replies += _reminders(session, event, "soon", zone)
    for event in events.due_for(
        session, EventStatus.PLANNED, now - timedelta(days=7), now - DURATION
    ):
        event.move_to(EventStatus.HELD)
        replies.append(_report_request(session, event, zone))
    return enqueue(session, replies)
