"""Answering an invitation in words, where there are no buttons (WhatsApp): "ja", "nee", ...

The answer goes to the newest invitation the bot sent this chat in the past weeks: a schouw of
the member's own initiative, or a regional event of the association.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select

from handlers.context import Conversation
from handlers.messages import Reply
from handlers.regional_events import record_answer
from storage import events, regional_events
from storage.models import Event, EventStatus, OutboxMessage, RegionalEvent, RsvpAnswer

INVITATION_MAX_AGE = timedelta(days=45)
RSVP_WORDS = {
    RsvpAnswer.YES: {"ja", "yes", "jazeker", "jep", "ik kom", "ik kom ook", "kom ik", "👍", "✅"},
    RsvpAnswer.MAYBE: {"misschien", "maybe", "weet nog niet", "wellicht", "🤔"},
    RsvpAnswer.NO: {"nee", "no", "neen", "kan niet", "ik kan niet", "helaas niet", "❌"},
}


def rsvp_answer(words: str) -> RsvpAnswer | None:
    said = " ".join(words.lower().strip(" .!?,").split())
    return next((answer for answer, known in RSVP_WORDS.items() if said in known), None)


def _newest_invitation_key(conversation: Conversation) -> str | None:
    chat = conversation.message.chat
    since = conversation.services.now() - INVITATION_MAX_AGE
    return conversation.session.scalar(
        select(OutboxMessage.dedupe_key)
        .where(
            OutboxMessage.channel == chat.channel,
            OutboxMessage.chat_external_id == chat.external_id,
            OutboxMessage.created_at >= since,
            or_(
                OutboxMessage.dedupe_key.startswith("schouw-invitation:"),
                OutboxMessage.dedupe_key.startswith("regional:"),
            ),
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )


def handle_rsvp_word(conversation: Conversation) -> list[Reply] | None:
    """Record "ja"/"misschien"/"nee" for the newest invitation; None when it is not an answer."""
    given = rsvp_answer(conversation.message.text)
    member = conversation.member
    if given is None or member is None:
        return None
    key = _newest_invitation_key(conversation)
    if key is None:
        return None
    session, now = conversation.session, conversation.services.now()
    if key.startswith("schouw-invitation:"):
        event_id = key.split(":")[1]
        schouw = session.get(Event, int(event_id)) if event_id.isdigit() else None
        if (
            schouw is None
            or schouw.status != EventStatus.PLANNED.value
            or schouw.initiative_id != member.initiative_id
        ):
            return [conversation.say("schouw_gone")]
        events.answer(session, schouw, member, given)
    else:
        parsed = regional_events.parse_key(key)
        regional = session.get(RegionalEvent, parsed[0]) if parsed else None
        if regional is None or regional.starts_at <= now:
            return [conversation.say("event_gone")]
        if not record_answer(session, regional, member, given):
            return [conversation.say("event_gone")]
    return [conversation.say(f"schouw_noted_{given.value}")]
