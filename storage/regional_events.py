"""The association's regional events: who is invited, the invitations and reminders queued for
each chat once, the answers, and how far the sending has come."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.models import (
    AudienceKind,
    Channel,
    Chat,
    Initiative,
    Member,
    OutboxMessage,
    OutboxStatus,
    RegionalEvent,
    RegionalEventStatus,
    RegionalInvitation,
    RegionalRsvp,
    RsvpAnswer,
    utcnow,
)

# The level of each initiative, for events meant for initiatives from a minimum impact level.
LevelsOf = Callable[[Session, Sequence[int]], dict[int, int]]
INVITED_CHANNELS = (Channel.TELEGRAM.value, Channel.WHATSAPP.value)
FORGOTTEN_PREFIX = "vergeten:"


def invitation_key(event_id: int, chat_id: int) -> str:
    return f"regional:{event_id}:invite:{chat_id}"


def reminder_key(event_id: int, which: str, chat_id: int) -> str:
    return f"regional:{event_id}:{which}:{chat_id}"


def parse_key(key: str) -> tuple[int, str] | None:
    """(event id, "invite"/"week"/"day") from a regional event message's outbox key."""
    parts = key.split(":")
    if len(parts) != 4 or parts[0] != "regional" or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2]


def places_of(event: RegionalEvent) -> list[str]:
    return [place.strip() for place in event.audience_places.split(",") if place.strip()]


def targeted_initiatives(
    session: Session, event: RegionalEvent, levels_of: LevelsOf | None
) -> list[Initiative]:
    """The initiatives the event is for: by region, then (when asked) by impact level."""
    query = select(Initiative).where(Initiative.is_association.is_(False))
    places = [place.lower() for place in places_of(event)]
    if event.audience == AudienceKind.PROVINCE.value:
        query = query.where(func.lower(Initiative.province).in_(places))
    elif event.audience == AudienceKind.MUNICIPALITIES.value:
        query = query.where(func.lower(Initiative.municipality).in_(places))
    initiatives = list(session.scalars(query.order_by(Initiative.id)))
    if event.min_level is None or not initiatives:
        return initiatives
    if levels_of is None:
        raise ValueError("this event is for a minimum impact level, but no levels were given")
    levels = levels_of(session, [initiative.id for initiative in initiatives])
    return [i for i in initiatives if levels.get(i.id, 0) >= event.min_level]


def invited_chats(session: Session, initiative_ids: Sequence[int]) -> list[Chat]:
    """Each initiative's Telegram groups and the WhatsApp numbers that joined it."""
    chats: list[Chat] = []
    for start in range(0, len(initiative_ids), 1000):
        chunk = list(initiative_ids[start : start + 1000])
        chats += session.scalars(
            select(Chat)
            .where(
                Chat.initiative_id.in_(chunk),
                Chat.channel.in_(INVITED_CHANNELS),
                (Chat.is_group.is_(True) & (Chat.channel == Channel.TELEGRAM.value))
                | (
                    (Chat.channel == Channel.WHATSAPP.value)
                    & ~Chat.external_id.startswith(FORGOTTEN_PREFIX)
                ),
            )
            .order_by(Chat.id)
        )
    return chats


@dataclass(frozen=True)
class Audience:
    initiatives: int
    groups: int
    numbers: int


def audience_of(session: Session, event: RegionalEvent, levels_of: LevelsOf | None) -> Audience:
    initiatives = targeted_initiatives(session, event, levels_of)
    chats = invited_chats(session, [initiative.id for initiative in initiatives])
    numbers = sum(chat.channel == Channel.WHATSAPP.value for chat in chats)
    return Audience(len(initiatives), len(chats) - numbers, numbers)


def record_invitations(
    session: Session, event: RegionalEvent, chats: Iterable[Chat], now: datetime
) -> int:
    """Freeze the list of invited chats (reminders go to the same list); returns how many."""
    rows = [
        {"event_id": event.id, "chat_id": chat.id, "initiative_id": chat.initiative_id}
        for chat in chats
    ]
    if rows:
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(RegionalInvitation).on_conflict_do_nothing(
                index_elements=["event_id", "chat_id"]
            ),
            rows,
        )
    event.status = RegionalEventStatus.INVITED.value
    event.invited_at = now
    session.flush()
    return len(rows)


def invitations(session: Session, event_id: int) -> list[tuple[Chat, Initiative]]:
    return [
        (chat, initiative)
        for chat, initiative in session.execute(
            select(Chat, Initiative)
            .join(RegionalInvitation, RegionalInvitation.chat_id == Chat.id)
            .join(Initiative, Initiative.id == Chat.initiative_id)
            .where(RegionalInvitation.event_id == event_id)
            .order_by(Chat.id)
        )
    ]


def declined_chats(session: Session, event_id: int) -> set[str]:
    """WhatsApp numbers that said they will not come (they get no reminders)."""
    return set(
        session.scalars(
            select(Member.external_id)
            .join(RegionalRsvp, RegionalRsvp.member_id == Member.id)
            .where(
                RegionalRsvp.event_id == event_id,
                RegionalRsvp.answer == RsvpAnswer.NO.value,
                Member.channel == Channel.WHATSAPP.value,
            )
        )
    )


def answer(session: Session, event: RegionalEvent, member: Member, given: RsvpAnswer) -> None:
    """Record a member's answer; a later answer replaces an earlier one."""
    existing = session.scalars(
        select(RegionalRsvp).where(
            RegionalRsvp.event_id == event.id, RegionalRsvp.member_id == member.id
        )
    ).one_or_none()
    if existing is None:
        session.add(
            RegionalRsvp(
                event_id=event.id,
                member_id=member.id,
                initiative_id=member.initiative_id,
                answer=given.value,
            )
        )
    else:
        existing.answer = given.value
        existing.answered_at = utcnow()
    session.flush()


def counts(session: Session, event_id: int, initiative_id: int | None = None) -> dict[str, int]:
    query = select(RegionalRsvp.answer, func.count()).where(RegionalRsvp.event_id == event_id)
    if initiative_id is not None:
        query = query.where(RegionalRsvp.initiative_id == initiative_id)
    return {answer: count for answer, count in session.execute(query.group_by(RegionalRsvp.answer))}


@dataclass(frozen=True)
class InitiativeAnswers:
    name: str
    yes: int
    maybe: int
    no: int


def answers_per_initiative(session: Session, event_id: int) -> list[InitiativeAnswers]:
    """RSVP counts per invited initiative (also those that did not answer), by name."""
    rows = session.execute(
        select(Initiative.id, Initiative.name)
        .join(RegionalInvitation, RegionalInvitation.initiative_id == Initiative.id)
        .where(RegionalInvitation.event_id == event_id)
        .group_by(Initiative.id, Initiative.name)
        .order_by(Initiative.name)
    ).all()
    given: dict[tuple[int, str], int] = {
        (initiative_id, answer): count
        for initiative_id, answer, count in session.execute(
            select(RegionalRsvp.initiative_id, RegionalRsvp.answer, func.count())
            .where(RegionalRsvp.event_id == event_id)
            .group_by(RegionalRsvp.initiative_id, RegionalRsvp.answer)
        )
    }
    return [
        InitiativeAnswers(
            name,
            given.get((initiative_id, RsvpAnswer.YES.value), 0),
            given.get((initiative_id, RsvpAnswer.MAYBE.value), 0),
            given.get((initiative_id, RsvpAnswer.NO.value), 0),
        )
        for initiative_id, name in rows
    ]


@dataclass(frozen=True)
class Progress:
    """How far the invitations of an event have come."""

    total: int
    sent: int
    failed: int

    @property
    def waiting(self) -> int:
        return self.total - self.sent - self.failed

    @property
    def done(self) -> bool:
        return self.waiting <= 0


def progress(session: Session, event_id: int, which: str = "invite") -> Progress:
    prefix = f"regional:{event_id}:{which}:"
    by_status = dict(
        session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.dedupe_key.startswith(prefix, autoescape=True))
            .group_by(OutboxMessage.status)
        ).all()
    )
    return Progress(
        total=sum(by_status.values()),
        sent=by_status.get(OutboxStatus.SENT.value, 0),
        failed=by_status.get(OutboxStatus.FAILED.value, 0),
    )


def upcoming(session: Session, now: datetime) -> list[RegionalEvent]:
    return list(
        session.scalars(
            select(RegionalEvent)
            .where(
                RegionalEvent.starts_at > now,
                RegionalEvent.status != RegionalEventStatus.CANCELLED.value,
            )
            .order_by(RegionalEvent.starts_at)
        )
    )
