"""Events (schouws) and their RSVPs."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Event, EventStatus, Member, Rsvp, RsvpAnswer, utcnow

DRAFT_KEPT = timedelta(hours=2)


def open_draft(session: Session, chat_id: int, organiser_id: int) -> Event | None:
    """The organiser's unfinished plan in this chat, if it is recent."""
    return session.scalars(
        select(Event)
        .where(
            Event.chat_id == chat_id,
            Event.organiser_id == organiser_id,
            Event.status == EventStatus.DRAFT.value,
            Event.created_at >= utcnow() - DRAFT_KEPT,
        )
        .order_by(Event.id.desc())
        .limit(1)
    ).first()


def upcoming(session: Session, initiative_id: int, now: datetime) -> list[Event]:
    return list(
        session.scalars(
            select(Event)
            .where(
                Event.initiative_id == initiative_id,
                Event.status == EventStatus.PLANNED.value,
                Event.starts_at >= now,
            )
            .order_by(Event.starts_at)
        )
    )


def answer(session: Session, event: Event, member: Member, given: RsvpAnswer) -> None:
    """Record a member's answer; a new answer replaces the old one."""
    rsvp = session.scalars(
        select(Rsvp).where(Rsvp.event_id == event.id, Rsvp.member_id == member.id)
    ).one_or_none()
    if rsvp is None:
        session.add(Rsvp(event_id=event.id, member_id=member.id, answer=given.value))
    else:
        rsvp.answer, rsvp.answered_at = given.value, utcnow()
    session.flush()


def counts(session: Session, event_id: int) -> Counter[str]:
    return Counter(session.scalars(select(Rsvp.answer).where(Rsvp.event_id == event_id)))


def attendees(session: Session, event_id: int, answers: set[RsvpAnswer]) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .join(Rsvp, Rsvp.member_id == Member.id)
            .where(Rsvp.event_id == event_id, Rsvp.answer.in_([a.value for a in answers]))
            .order_by(Member.display_name)
        )
    )


def due_for(session: Session, status: EventStatus, start: datetime, end: datetime) -> list[Event]:
    """Events in `status` starting in [start, end)."""
    return list(
        session.scalars(
            select(Event).where(
                Event.status == status.value, Event.starts_at >= start, Event.starts_at < end
            )
        )
    )
