"""New members of a group: recorded as joins, and welcomed once with the group's signalling rules."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.context import Services
from handlers.messages import MembersJoined, Reply
from handlers.texts import text
from storage.directory import bind_chat, upsert_member
from storage.models import MembershipEvent, MembershipKind, MessageSource


def _join_key(event: MembersJoined, external_id: str) -> str:
    """Makes a join recorded once, however often the channel delivers its notice."""
    seen = f"{event.chat.channel}:{event.chat.external_id}:{event.message_id}:{external_id}"
    return hashlib.sha256(seen.encode()).hexdigest()[:32]


def handle_members_joined(
    session: Session, services: Services, event: MembersJoined
) -> list[Reply]:
    """Record each join; greet those who never got the rules, and note that they did."""
    chat, _ = bind_chat(
        session, event.chat.channel, event.chat.external_id, event.chat.title, is_group=True
    )
    greeted: list[str] = []
    for person in event.members:
        member = upsert_member(
            session,
            chat.initiative_id,
            chat.channel,
            person.external_id,
            person.first_name,
            person.username,
        )
        key = _join_key(event, person.external_id)
        recorded = session.scalar(
            select(MembershipEvent.id).where(
                MembershipEvent.initiative_id == chat.initiative_id,
                MembershipEvent.event_key == key,
            )
        )
        if recorded is None:
            session.add(
                MembershipEvent(
                    initiative_id=chat.initiative_id,
                    member_id=member.id,
                    kind=MembershipKind.JOINED.value,
                    at=event.sent_at,
                    source=MessageSource.LIVE.value,
                    event_key=key,
                )
            )
        if member.rules_received_at is None:
            member.rules_received_at = services.now()
            greeted.append(member.display_name or "?")
    session.flush()
    if not greeted:
        return []
    language = chat.initiative.language
    body = text("welcome_rules", language, names=", ".join(greeted), group=chat.initiative.name)
    return [Reply(event.chat, body, key=f"welcome:{chat.id}:{event.message_id}")]
