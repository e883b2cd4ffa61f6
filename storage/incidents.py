"""Incidents: the posts about one event, linked together, so that trends count events, not posts.

In a chat one event arrives as many posts: the report, "idd zag hem ook", "112 gebeld",
"politie is er". The linking rule, in order:

1. A reply to a post that belongs to an incident joins that incident.
2. A signal joins the newest incident in the same chat and category whose last post is at most
   `SIGNAL_WINDOW` old; otherwise it opens a new incident.
3. A follow-up (terugkoppeling) joins the newest incident in the same chat and category within
   `FOLLOW_UP_WINDOW`, else the newest incident of any category in the chat within
   `LOOSE_FOLLOW_UP_WINDOW` (short follow-ups such as "politie is er" rarely name the topic),
   and marks it as followed up. A follow-up that matches nothing opens no incident.

The windows: members keep posting about one event for an hour or two ("hij staat er nog",
"nu bij nr 40"); a second event of the same kind in the same street on the same evening is
rare enough that joining it costs less than splitting one event in two. Follow-ups arrive later
(police reports back the next day), hence the longer windows.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from storage.models import Incident, Message

SIGNAL_WINDOW = timedelta(hours=2)
FOLLOW_UP_WINDOW = timedelta(days=3)
LOOSE_FOLLOW_UP_WINDOW = timedelta(hours=24)
LINKED_KINDS = frozenset({"signaal", "terugkoppeling"})


_REPLIED_INCIDENT = select(Message.incident_id).where(
    Message.chat_id == bindparam("chat_id"),
    Message.channel_message_id == bindparam("replied_id"),
)
# The newest incident in a chat with a post since `since`, of any category or of one.
_RECENT_ANY = (
    select(Incident)
    .where(
        Incident.chat_id == bindparam("chat_id"),
        Incident.last_message_at >= bindparam("since", type_=Incident.last_message_at.type),
        Incident.opened_at <= bindparam("sent_at", type_=Incident.opened_at.type),
    )
    .order_by(Incident.last_message_at.desc())
    .limit(1)
)
_RECENT_OF_CATEGORY = _RECENT_ANY.where(Incident.category == bindparam("category"))


def _replied_incident(session: Session, message: Message) -> Incident | None:
    if message.reply_to_message_id is None:
        return None
    incident_id = session.scalar(
        _REPLIED_INCIDENT,
        {"chat_id": message.chat_id, "replied_id": message.reply_to_message_id},
    )
    return session.get(Incident, incident_id) if incident_id is not None else None


def _recent_incident(
    session: Session, message: Message, window: timedelta, category: str | None
) -> Incident | None:
    parameters = {
        "chat_id": message.chat_id,
        "since": message.sent_at - window,
        "sent_at": message.sent_at,
    }
    if category is None:
        return session.scalars(_RECENT_ANY, parameters).first()
    return session.scalars(_RECENT_OF_CATEGORY, {**parameters, "category": category}).first()


def link_to_incident(session: Session, message: Message) -> Incident | None:
    """Attach a labelled message to its incident (opening one for a new signal).

    The message may be stored already or about to be (not yet added to the session)."""
    if message.kind not in LINKED_KINDS:
        return None
    follow_up = message.kind == "terugkoppeling"
    incident = _replied_incident(session, message)
    if incident is None and not follow_up:
        incident = _recent_incident(session, message, SIGNAL_WINDOW, message.category)
    if incident is None and follow_up:
        incident = _recent_incident(
            session, message, FOLLOW_UP_WINDOW, message.category
        ) or _recent_incident(session, message, LOOSE_FOLLOW_UP_WINDOW, None)
    if incident is None:
        if follow_up:
            return None
        incident = Incident(
            initiative_id=message.initiative_id,
            chat_id=message.chat_id,
            category=message.category or "verdacht",
            opened_at=message.sent_at,
            last_message_at=message.sent_at,
            urgent=False,
            followed_up=False,
            message_count=0,
        )
        session.add(incident)
        session.flush()
    incident.message_count += 1
    incident.last_message_at = max(incident.last_message_at, message.sent_at)
    incident.urgent = incident.urgent or message.urgent
    incident.followed_up = incident.followed_up or follow_up
    message.incident_id = incident.id
    return incident
