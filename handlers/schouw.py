"""`/schouw`: coordinators plan a neighbourhood walk, members answer with buttons, findings come back.

Plan (`/schouw donderdag 19:30 bij de kerk met wijkagent`, asking for what is missing) →
invitation with RSVP buttons → reminders (see `handlers.schouw_schedule`) → afterwards the
organiser is asked for a report whose lines become signals.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from analytics.names import category_name, month_abbreviation, weekday_name
from handlers.context import Conversation, Services
from handlers.messages import Button, ButtonPressed, ChatRef, Reply
from handlers.schouw_parsing import SchouwPlan, parse_schouw
from handlers.start import coordinator_names
from handlers.texts import text
from storage import events
from storage.directory import bind_chat, initiative_chats, upsert_member
from storage.incidents import link_to_incident
from storage.messages import store_finding
from storage.models import (
    PARTNER_ROLES,
    Channel,
    Chat,
    Event,
    EventStatus,
    Member,
    Role,
    RsvpAnswer,
)

RSVP_PREFIX = "rsvp"
QUESTION_KEY = "schouw-question"
REPORT_KEY = "schouw-report"
BUTTON_KEYS = {
    RsvpAnswer.YES: "schouw_button_yes",
    RsvpAnswer.MAYBE: "schouw_button_maybe",
    RsvpAnswer.NO: "schouw_button_no",
}
FINDINGS_DEFAULT_CATEGORY = "openbare_ruimte"
MAX_FINDINGS = 30


def when_text(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """'donderdag 26 nov 19:30', in local time."""
    local = moment.astimezone(zone)
    return (
        f"{weekday_name(local.weekday(), language)} {local.day} "
        f"{month_abbreviation(local.month, language)} {local:%H:%M}"
    )


def partners_text(roles: str, language: str) -> str:
    return ", ".join(text(f"role_{role}", language) for role in roles.split(",") if role)


def counts_text(language: str, answers: dict[str, int]) -> str:
    return text(
        "schouw_counts",
        language,
        yes=answers.get(RsvpAnswer.YES.value, 0),
        maybe=answers.get(RsvpAnswer.MAYBE.value, 0),
        no=answers.get(RsvpAnswer.NO.value, 0),
    )


def rsvp_buttons(event: Event, language: str) -> tuple[Button, ...]:
    return tuple(
        Button(text(key, language), f"{RSVP_PREFIX}:{event.id}:{answer.value}")
        for answer, key in BUTTON_KEYS.items()
    )


def invitation_text(event: Event, zone: ZoneInfo, language: str, answers: dict[str, int]) -> str:
    assert event.starts_at is not None
    partners = partners_text(event.partners_invited, language)
    return text(
        "schouw_invitation",
        language,
        when=when_text(event.starts_at, zone, language),
        location=event.location or "?",
        partners_line=text("schouw_partners", language, partners=partners) if partners else "",
        counts=counts_text(language, answers),
    )


def _apply(event: Event, plan: SchouwPlan, zone: ZoneInfo) -> None:
    event.draft = plan.to_json()
    event.location = plan.location
    event.partners_invited = ",".join(plan.partners)
    if plan.day and plan.at:
        event.starts_at = datetime.combine(plan.day, plan.at, tzinfo=zone)


def _ask_for_missing(conversation: Conversation, event: Event, plan: SchouwPlan) -> Reply:
    language = conversation.language
    if plan.unreadable_day:
        key, values = "schouw_unreadable_day", {"words": plan.unreadable_day}
    else:
        missing = [
            text(name, language)
            for value, name in (
                (plan.day, "schouw_missing_day"),
                (plan.at, "schouw_missing_time"),
                (plan.location, "schouw_missing_place"),
            )
            if not value
        ]
        key, values = "schouw_missing", {"missing": " en ".join(missing)}
    now = conversation.services.now()
    return Reply(
        chat=conversation.message.chat,
        text=text(key, language, **values),
        reply_to_message_id=conversation.message.message_id,
        key=f"{QUESTION_KEY}:{event.id}:{now.timestamp():.0f}",
    )


def _continue_plan(conversation: Conversation, event: Event, said: str) -> list[Reply]:
    """Fold what the organiser said into the plan; invite when it is complete."""
    zone, now = conversation.services.zone, conversation.services.now()
    plan = parse_schouw(said, now.astimezone(zone)).merged_into(SchouwPlan.from_json(event.draft))
    _apply(event, plan, zone)
    if plan.unreadable_day or not (plan.day and plan.at and plan.location):
        return [_ask_for_missing(conversation, event, plan)]
    assert event.starts_at is not None
    if event.starts_at <= now:
        event.starts_at = None
        event.draft = replace(plan, day=None, at=None).to_json()
        return [conversation.answer("schouw_in_past")]
    event.move_to(EventStatus.PLANNED)
    event.draft = None
    language = conversation.language
    invitation = Reply(
        chat=conversation.message.chat,
        text=invitation_text(event, zone, language, {}),
        buttons=rsvp_buttons(event, language),
        key=f"schouw-invitation:{event.id}",
    )
    return [invitation, *_invitations_elsewhere(conversation, event, invitation)]


def _invitations_elsewhere(
    conversation: Conversation, event: Event, invitation: Reply
) -> list[Reply]:
    """The same invitation for the initiative's other chats: its other Telegram groups (with
    buttons) and its WhatsApp members (answering in words)."""
    language, zone = conversation.language, conversation.services.zone
    assert event.starts_at is not None
    replies = []
    for chat in initiative_chats(conversation.session, event.initiative_id):
        if chat.id == event.chat_id:
            continue
        target = ChatRef(chat.channel, chat.external_id, chat.title, chat.is_group)
        key = f"schouw-invitation:{event.id}:{chat.id}"
        if chat.channel == Channel.WHATSAPP.value:
            replies.append(
                Reply(
                    chat=target,
                    # Without the counts line, which only a Telegram group's message keeps current.
                    text=invitation.text.rsplit("\n", 1)[0]
                    + "\n\n"
                    + text("event_whatsapp_answer", language),
                    key=key,
                    template="uitnodiging",
                    template_values=(
                        ("title", text("schouw_title", language)),
                        ("when", when_text(event.starts_at, zone, language)),
                        ("where", event.location or "?"),
                    ),
                )
            )
        else:
            replies.append(replace(invitation, chat=target, key=key))
    return replies


def _list(conversation: Conversation) -> list[Reply]:
    assert conversation.initiative is not None
    zone, language = conversation.services.zone, conversation.language
    planned = events.upcoming(
        conversation.session, conversation.initiative.id, conversation.services.now()
    )
    if not planned:
        return [conversation.say("schouw_list_empty")]
    items = []
    for event in planned:
        assert event.starts_at is not None
        partners = partners_text(event.partners_invited, language)
        items.append(
            text(
                "schouw_list_item",
                language,
                when=when_text(event.starts_at, zone, language),
                location=event.location or "?",
                partners=text("schouw_list_partners", language, partners=partners)
                if partners
                else "",
                counts=counts_text(language, events.counts(conversation.session, event.id)),
            )
        )
    return [conversation.say("schouw_list", items="\n".join(items))]


def handle_schouw(conversation: Conversation, args: str) -> list[Reply]:
    """List planned schouws, or (coordinators) plan one."""
    if conversation.chat is None or conversation.member is None or conversation.initiative is None:
        return [conversation.say("schouw_in_group")]
    if not args.strip():
        return _list(conversation)
    if conversation.member.role != Role.COORDINATOR.value:
        return [
            conversation.answer(
                "schouw_only_coordinators",
                coordinators=coordinator_names(
                    conversation.session, conversation.initiative.id, conversation.language
                ),
            )
        ]
    event = events.open_draft(conversation.session, conversation.chat.id, conversation.member.id)
    if event is None:
        event = Event(
            initiative_id=conversation.initiative.id,
            chat_id=conversation.chat.id,
            organiser_id=conversation.member.id,
            kind="schouw",
            status=EventStatus.DRAFT.value,
            partners_invited="",
        )
        conversation.session.add(event)
        conversation.session.flush()
    return _continue_plan(conversation, event, args)


def handle_plan_answer(conversation: Conversation, event: Event) -> list[Reply]:
    """The organiser answered the bot's question about a plan."""
    return _continue_plan(conversation, event, conversation.message.text)


@dataclass(frozen=True)
class RsvpPress:
    """A pressed RSVP button: which event, what answer, in which chat, and the notice to give."""

    event_id: int
    answer: RsvpAnswer
    chat: Chat
    notice: Reply

    @property
    def language(self) -> str:
        return self.chat.initiative.language

    def tell(self, key: str) -> Reply:
        return replace(self.notice, text=text(key, self.language))


def read_rsvp_press(session: Session, pressed: ButtonPressed) -> RsvpPress | None:
    """`rsvp:12:ja` (a schouw) or `regional:3:nee` (an association event); None otherwise."""
    _, _, rest = pressed.data.partition(":")
    event_id, _, given = rest.partition(":")
    if not event_id.isdigit() or given not in set(RsvpAnswer):
        return None
    chat, _ = bind_chat(
        session, pressed.chat.channel, pressed.chat.external_id, pressed.chat.title, True
    )
    notice = Reply(
        chat=pressed.chat, text="", action="notice", target_message_id=pressed.callback_id
    )
    return RsvpPress(int(event_id), RsvpAnswer(given), chat, notice)


def pressing_member(session: Session, press: RsvpPress, pressed: ButtonPressed) -> Member:
    return upsert_member(
        session,
        press.chat.initiative_id,
        press.chat.channel,
        pressed.sender.external_id,
        pressed.sender.first_name,
        pressed.sender.username,
    )


def handle_button_press(
    session: Session, services: Services, pressed: ButtonPressed
) -> list[Reply]:
    """An RSVP button: record the answer, show it to the member, update the counts."""
    press = read_rsvp_press(session, pressed)
    if press is None or not pressed.data.startswith(f"{RSVP_PREFIX}:"):
        return []
    event = session.get(Event, press.event_id)
    chat, language, given = press.chat, press.language, press.answer.value
    if (
        event is None
        or event.initiative_id != chat.initiative_id
        or event.status != EventStatus.PLANNED.value
    ):
        return [press.tell("schouw_gone")]
    member = pressing_member(session, press, pressed)
    events.answer(session, event, member, press.answer)
    answers = events.counts(session, event.id)
    return [
        press.tell(f"schouw_noted_{given}"),
        Reply(
            chat=pressed.chat,
            text=invitation_text(event, services.zone, language, answers),
            buttons=rsvp_buttons(event, language),
            action="edit",
            target_message_id=pressed.message_id,
        ),
    ]


def handle_report(conversation: Conversation, event: Event) -> list[Reply]:
    """The organiser's report after the walk: every line becomes a signal."""
    session = conversation.session
    lines = [
        line.strip(" -•*\t")
        for line in conversation.message.text.splitlines()
        if len(line.strip(" -•*\t")) >= 3
    ][:MAX_FINDINGS]
    if not lines:
        return [conversation.answer("schouw_report_empty")]
    labels = conversation.services.classifier.classify_batch(lines)
    found: Counter[str] = Counter()
    for number, (line, label) in enumerate(zip(lines, labels, strict=True), start=1):
        category = label.category if label.category else FINDINGS_DEFAULT_CATEGORY
        message = store_finding(
            session, event, line, category, label, number, conversation.services.now()
        )
        link_to_incident(session, message)
        found[category] += 1
    event.findings = len(lines)
    event.partners_present = ",".join(partners_present(session, event))
    event.move_to(EventStatus.REPORTED)
    language = conversation.language
    summary = ", ".join(f"{category_name(c, language)} {n}" for c, n in found.most_common())
    return [conversation.answer("schouw_report_thanks", count=len(lines), summary=summary)]


def partners_present(session: Session, event: Event) -> list[str]:
    """Partner roles that took part: those invited, and partners who said they would come."""
    roles = {role for role in event.partners_invited.split(",") if role}
    roles |= {
        member.role
        for member in events.attendees(session, event.id, {RsvpAnswer.YES})
        if Role(member.role) in PARTNER_ROLES
    }
    return sorted(roles)


def route_reply(conversation: Conversation, key: str) -> list[Reply] | None:
    """Handle a reply to one of the bot's schouw messages; None when it is not one."""
    kind, _, rest = key.partition(":")
    event_id = rest.split(":", 1)[0]
    event = conversation.session.get(Event, int(event_id)) if event_id.isdigit() else None
    if event is None:
        return None
    member = conversation.member
    if (
        kind == QUESTION_KEY
        and event.status == EventStatus.DRAFT.value
        and member is not None
        and event.organiser_id == member.id
    ):
        return handle_plan_answer(conversation, event)
    if kind == REPORT_KEY and event.status == EventStatus.HELD.value:
        return handle_report(conversation, event)
    return None
