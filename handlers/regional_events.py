"""The association's regional events: `/evenement` to make and send one, invitations with RSVP
to every targeted group and WhatsApp member, reminders a week and a day before, and answers.

`/evenement Titel | wanneer | waar | omschrijving | doelgroep` makes a draft and shows who it
would reach; `/evenement verstuur N` sends it; `/evenement N` shows progress and answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.impact import score_initiatives
from handlers.context import Conversation, Services
from handlers.messages import Button, ButtonPressed, ChatRef, Reply
from handlers.schouw import BUTTON_KEYS, pressing_member, read_rsvp_press, when_text
from handlers.schouw_parsing import parse_when
from handlers.texts import text
from storage import regional_events
from storage.models import (
    AudienceKind,
    Channel,
    Chat,
    Initiative,
    Member,
    RegionalEvent,
    RegionalEventStatus,
    RegionalInvitation,
    Role,
    RsvpAnswer,
    utcnow,
)
from storage.outbox import enqueue_many_once
from storage.regional_events import LevelsOf

BUTTON_PREFIX = "regional"
# Nearest first: once the day reminder is due, a week reminder not yet sent is skipped.
REMINDERS = (("day", timedelta(days=1)), ("week", timedelta(days=7)))
_LEVEL = re.compile(r"\b(?:vanaf\s+|minimaal\s+|min\.?\s*)?niveau\s*([1-5])\b", re.IGNORECASE)


class EventInputError(ValueError):
    """What the organiser gave cannot make an event; the message says what to fix (a text key)."""


@dataclass(frozen=True)
class AudienceChoice:
    kind: AudienceKind
    places: tuple[str, ...] = ()
    min_level: int | None = None


def parse_audience(words: str) -> AudienceChoice:
    """'alle', 'provincie Utrecht', 'gemeente Utrecht, Zeist', each optionally 'vanaf niveau 3'."""
    min_level = None
    if match := _LEVEL.search(words):
        min_level = int(match[1])
        words = words[: match.start()] + words[match.end() :]
    words = words.strip(" ,.;")
    head, _, rest = words.partition(" ")
    head = head.lower()
    places = tuple(place.strip() for place in rest.split(",") if place.strip())
    if head in ("provincie", "province") and places:
        return AudienceChoice(AudienceKind.PROVINCE, places[:1], min_level)
    if head in ("gemeente", "gemeenten", "municipality", "municipalities") and places:
        return AudienceChoice(AudienceKind.MUNICIPALITIES, places, min_level)
    if head in ("", "alle", "allen", "iedereen", "all", "everyone"):
        return AudienceChoice(AudienceKind.ALL, (), min_level)
    raise EventInputError("event_bad_audience")


def new_event(
    title: str,
    starts_at: datetime,
    location: str,
    description: str,
    audience: AudienceChoice,
    now: datetime,
    created_by: Member | None = None,
) -> RegionalEvent:
    """A draft event, checked: a title, a place, a moment in the future."""
    if not title.strip() or not location.strip():
        raise EventInputError("event_missing_fields")
    if starts_at <= now:
        raise EventInputError("event_in_past")
    return RegionalEvent(
        title=title.strip()[:200],
        starts_at=starts_at,
        location=location.strip()[:200],
        description=description.strip()[:2000],
        audience=audience.kind.value,
        audience_places=", ".join(audience.places)[:500],
        min_level=audience.min_level,
        status=RegionalEventStatus.DRAFT.value,
        created_by=created_by.id if created_by else None,
    )


def audience_text(event: RegionalEvent, language: str) -> str:
    places = ", ".join(regional_events.places_of(event))
    who = text(f"event_audience_{event.audience}", language, places=places)
    if event.min_level is not None:
        who += text("event_audience_level", language, level=event.min_level)
    return who


def _values(event: RegionalEvent, zone: ZoneInfo, language: str) -> dict[str, str]:
    return {
        "title": event.title,
        "when": when_text(event.starts_at, zone, language),
        "where": event.location,
    }


def rsvp_buttons(event: RegionalEvent, language: str) -> tuple[Button, ...]:
    return tuple(
        Button(text(key, language), f"{BUTTON_PREFIX}:{event.id}:{answer.value}")
        for answer, key in BUTTON_KEYS.items()
    )


def message_for(
    event: RegionalEvent,
    chat: Chat,
    initiative: Initiative,
    which: str,
    zone: ZoneInfo,
    answers: dict[str, int] | None = None,
) -> Reply:
    """The invitation, a reminder ("week"/"day") or a cancellation, as one chat should get it."""
    language = initiative.language
    values = _values(event, zone, language)
    body = text(f"event_{which}", language, **values, description=event.description)
    target = ChatRef(chat.channel, chat.external_id, chat.title, chat.is_group)
    key = (
        regional_events.invitation_key(event.id, chat.id)
        if which == "invite"
        else regional_events.reminder_key(event.id, which, chat.id)
    )
    if chat.channel == Channel.WHATSAPP.value:
        template = {"invite": "uitnodiging", "week": "herinnering", "day": "herinnering"}
        hint = "" if which == "cancel" else "\n\n" + text("event_whatsapp_answer", language)
        return Reply(
            chat=target,
            text=body + hint,
            key=key,
            template=template.get(which),
            template_values=tuple(values.items()),
        )
    if which == "cancel":
        return Reply(chat=target, text=body, key=key)
    counts = text(
        "schouw_counts",
        language,
        yes=(answers or {}).get(RsvpAnswer.YES.value, 0),
        maybe=(answers or {}).get(RsvpAnswer.MAYBE.value, 0),
        no=(answers or {}).get(RsvpAnswer.NO.value, 0),
    )
    return Reply(
        chat=target,
        text=f"{body}\n\n{counts}",
        buttons=rsvp_buttons(event, language),
        key=key,
    )


def send_invitations(
    session: Session,
    event: RegionalEvent,
    zone: ZoneInfo,
    levels_of: LevelsOf | None,
    now: datetime | None = None,
) -> int:
    """Freeze who is invited and queue one invitation per chat; returns how many."""
    initiatives = regional_events.targeted_initiatives(session, event, levels_of)
    by_id = {initiative.id: initiative for initiative in initiatives}
    chats = regional_events.invited_chats(session, list(by_id))
    regional_events.record_invitations(session, event, chats, now or utcnow())
    enqueue_many_once(
        session,
        [message_for(event, chat, by_id[chat.initiative_id], "invite", zone) for chat in chats],
    )
    return len(chats)


def cancel_event(session: Session, event: RegionalEvent, zone: ZoneInfo) -> int:
    """Cancel; everyone who was invited hears so. Returns how many are told."""
    invited = event.status == RegionalEventStatus.INVITED.value
    event.status = RegionalEventStatus.CANCELLED.value
    if not invited:
        return 0
    replies = [
        message_for(event, chat, initiative, "cancel", zone)
        for chat, initiative in regional_events.invitations(session, event.id)
    ]
    enqueue_many_once(session, replies)
    return len(replies)


def queue_reminders(session: Session, now: datetime, zone: ZoneInfo) -> int:
    """Queue the reminders that are due: a week and a day before, once per chat."""
    queued = 0
    for event in regional_events.upcoming(session, now):
        if event.status != RegionalEventStatus.INVITED.value or event.invited_at is None:
            continue
        for which, before in REMINDERS:
            due_from = event.starts_at - before
            # Invited after that moment: the invitation itself was the reminder.
            if not (due_from <= now and event.invited_at < due_from):
                continue
            declined = regional_events.declined_chats(session, event.id)
            replies = [
                message_for(event, chat, initiative, which, zone)
                for chat, initiative in regional_events.invitations(session, event.id)
                if chat.external_id not in declined
            ]
            enqueue_many_once(session, replies)
            queued += len(replies)
            break
    return queued


def _association_member(conversation: Conversation) -> Member | None:
    message = conversation.message
    return conversation.session.scalars(
        select(Member).where(
            Member.channel == message.chat.channel,
            Member.external_id == message.sender.external_id,
            Member.role == Role.VERENIGING.value,
        )
    ).first()


def _show(conversation: Conversation, event: RegionalEvent) -> Reply:
    session, language = conversation.session, conversation.language
    sending = regional_events.progress(session, event.id)
    answers = regional_events.counts(session, event.id)
    return conversation.say(
        "event_status",
        id=event.id,
        title=event.title,
        when=when_text(event.starts_at, conversation.services.zone, language),
        status=text(f"event_state_{event.status}", language),
        sent=sending.sent,
        total=sending.total,
        failed=sending.failed,
        yes=answers.get(RsvpAnswer.YES.value, 0),
        maybe=answers.get(RsvpAnswer.MAYBE.value, 0),
        no=answers.get(RsvpAnswer.NO.value, 0),
    )


def initiative_levels(session: Session, initiative_ids: Sequence[int]) -> dict[int, int]:
    """The impact level of each initiative now (for events from a minimum level)."""
    scores = score_initiatives(session, utcnow(), list(initiative_ids))
    return {initiative_id: score.level for initiative_id, score in scores.items()}


def handle_event_command(conversation: Conversation, args: str) -> list[Reply]:
    """`/evenement`: only for the association (role vereniging)."""
    session, services = conversation.session, conversation.services
    levels_of = initiative_levels
    organiser = _association_member(conversation)
    if organiser is None:
        return [conversation.answer("event_only_association")]
    words = args.split()
    if not words:
        upcoming = regional_events.upcoming(session, services.now())
        items = "\n".join(
            text(
                "event_list_item",
                conversation.language,
                id=e.id,
                title=e.title,
                when=when_text(e.starts_at, services.zone, conversation.language),
            )
            for e in upcoming
        ) or text("event_list_empty", conversation.language)
        return [conversation.say("event_help", items=items)]
    action = words[0].lower()
    if action.isdigit() or (len(words) == 2 and words[1].isdigit()):
        event_id = int(words[0] if action.isdigit() else words[1])
        event = session.get(RegionalEvent, event_id)
        if event is None:
            return [conversation.answer("event_unknown", id=event_id)]
        if action in ("verstuur", "send", "stuur"):
            if event.status != RegionalEventStatus.DRAFT.value:
                return [conversation.answer("event_already_sent", id=event.id)]
            count = send_invitations(session, event, services.zone, levels_of, services.now())
            return [conversation.answer("event_sending", count=count, id=event.id)]
        if action in ("schrap", "annuleer", "cancel"):
            if event.status == RegionalEventStatus.CANCELLED.value:
                return [conversation.answer("event_already_cancelled", id=event.id)]
            told = cancel_event(session, event, services.zone)
            return [conversation.answer("event_cancelled", id=event.id, count=told)]
        return [_show(conversation, event)]
    return _draft(conversation, args, organiser, levels_of)


def _draft(
    conversation: Conversation, args: str, organiser: Member, levels_of: LevelsOf | None
) -> list[Reply]:
    services, language = conversation.services, conversation.language
    fields = [field.strip() for field in args.split("|")]
    if len(fields) < 3:
        return [conversation.answer("event_format")]
    title, when_words, location = fields[:3]
    description = fields[3] if len(fields) > 3 else ""
    local_now = services.now().astimezone(services.zone)
    starts_at = parse_when(when_words, local_now)
    if starts_at is None:
        return [conversation.answer("event_bad_when", words=when_words[:60])]
    try:
        audience = parse_audience(fields[4] if len(fields) > 4 else "")
        event = new_event(
            title, starts_at, location, description, audience, services.now(), organiser
        )
    except EventInputError as error:
        return [conversation.answer(str(error))]
    conversation.session.add(event)
    conversation.session.flush()
    reach = regional_events.audience_of(conversation.session, event, levels_of)
    return [
        conversation.answer(
            "event_preview",
            id=event.id,
            title=event.title,
            when=when_text(event.starts_at, services.zone, language),
            where=event.location,
            audience=audience_text(event, language),
            initiatives=reach.initiatives,
            groups=reach.groups,
            numbers=reach.numbers,
        )
    ]


def record_answer(
    session: Session, event: RegionalEvent, member: Member, given: RsvpAnswer
) -> bool:
    """Keep the answer of someone whose initiative was invited; False when it was not."""
    if event.status != RegionalEventStatus.INVITED.value:
        return False
    invited = session.scalar(
        select(Chat.id)
        .join(RegionalInvitation, RegionalInvitation.chat_id == Chat.id)
        .where(
            RegionalInvitation.event_id == event.id,
            Chat.initiative_id == member.initiative_id,
        )
        .limit(1)
    )
    if invited is None:
        return False
    regional_events.answer(session, event, member, given)
    return True


def handle_regional_button(
    session: Session, services: Services, pressed: ButtonPressed
) -> list[Reply]:
    """An RSVP button under an invitation in a Telegram group."""
    press = read_rsvp_press(session, pressed)
    if press is None:
        return []
    event = session.get(RegionalEvent, press.event_id)
    if event is None or event.starts_at <= services.now():
        return [press.tell("event_gone")]
    member = pressing_member(session, press, pressed)
    if not record_answer(session, event, member, press.answer):
        return [press.tell("event_gone")]
    chat = press.chat
    updated = message_for(
        event,
        chat,
        chat.initiative,
        "invite",
        services.zone,
        regional_events.counts(session, event.id, chat.initiative_id),
    )
    return [
        press.tell(f"schouw_noted_{press.answer.value}"),
        replace(updated, action="edit", target_message_id=pressed.message_id, key=None),
    ]
