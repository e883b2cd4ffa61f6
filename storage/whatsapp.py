"""WhatsApp numbers: joining an initiative with a code, leaving and being forgotten, the 24-hour
window, and the delivery statuses Twilio reports."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage.directory import find_chat, upsert_member
from storage.models import (
    DELIVERY_STATUS_RANK,
    Channel,
    Chat,
    DeliveryStatus,
    Initiative,
    Member,
    MembershipEvent,
    MembershipKind,
    OutboxMessage,
    OutboxStatus,
    PrivateChat,
    utcnow,
)
from storage.privacy import pseudonym

# No 0/O or 1/I/L: a code is read out loud and typed on a phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
WHATSAPP = Channel.WHATSAPP.value


def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def join_code(session: Session, initiative: Initiative, renew: bool = False) -> str:
    """The initiative's join code, made on first use; `renew` replaces it (the old one stops)."""
    if initiative.join_code is None or renew:
        code = new_join_code()
        while session.scalar(select(Initiative.id).where(Initiative.join_code == code)):
            code = new_join_code()
        initiative.join_code = code
        session.flush()
    assert initiative.join_code is not None
    return initiative.join_code


def normalise_code(given: str) -> str:
    return "".join(character for character in given.upper() if character.isalnum())


def initiative_for_code(session: Session, code: str) -> Initiative | None:
    code = normalise_code(code)
    if not code:
        return None
    return session.scalars(select(Initiative).where(Initiative.join_code == code)).one_or_none()


def touch_inbound(session: Session, number: str, at: datetime) -> None:
    """Remember that `number` wrote to the bot at `at` (it opens WhatsApp's 24-hour window)."""
    chat = session.scalars(
        select(PrivateChat).where(
            PrivateChat.channel == WHATSAPP, PrivateChat.external_id == number
        )
    ).one_or_none()
    if chat is None:
        session.add(PrivateChat(channel=WHATSAPP, external_id=number, last_inbound_at=at))
        session.flush()
    elif chat.last_inbound_at is None or chat.last_inbound_at < at:
        chat.last_inbound_at = at


def last_inbound(session: Session, number: str) -> datetime | None:
    return session.scalar(
        select(PrivateChat.last_inbound_at).where(
            PrivateChat.channel == WHATSAPP, PrivateChat.external_id == number
        )
    )


def join(session: Session, number: str, initiative: Initiative, name: str, at: datetime) -> Member:
    """Bind the number to `initiative` as a member; a number belongs to one initiative at a time."""
    chat = find_chat(session, WHATSAPP, number)
    if chat is None:
        chat = Chat(
            initiative_id=initiative.id, channel=WHATSAPP, external_id=number, is_group=False
        )
        session.add(chat)
    elif chat.initiative_id != initiative.id:
        chat.initiative_id = initiative.id
    session.flush()
    member = upsert_member(session, initiative.id, WHATSAPP, number, name, None)
    # The welcome a joining number gets holds the signalling rules (SAAR).
    member.rules_received_at = at
    _record_membership(session, member, MembershipKind.JOINED, at)
    return member


def _record_membership(session: Session, member: Member, kind: MembershipKind, at: datetime) -> None:
    session.add(
        MembershipEvent(
            initiative_id=member.initiative_id,
            member_id=member.id,
            kind=kind.value,
            at=at,
            source="whatsapp",
            event_key=pseudonym(
                str(member.initiative_id), f"{kind.value}:{member.id}:{at.isoformat()}"
            ),
        )
    )


def forget(session: Session, number: str, at: datetime) -> bool:
    """STOP: the number leaves and is forgotten; its posts stay, with no way back to the number.

    Returns False when the bot did not know the number.
    """
    forgotten = "vergeten:" + secrets.token_hex(12)
    known = False
    for member in session.scalars(
        select(Member).where(Member.channel == WHATSAPP, Member.external_id == number)
    ):
        known = True
        _record_membership(session, member, MembershipKind.LEFT, at)
        member.external_id = forgotten
        member.display_name = ""
        member.username = None
    chat = find_chat(session, WHATSAPP, number)
    if chat is not None:
        known = True
        chat.external_id = forgotten
        chat.title = None
    known |= bool(
        session.execute(
            delete(PrivateChat).where(
                PrivateChat.channel == WHATSAPP, PrivateChat.external_id == number
            )
        ).rowcount  # type: ignore[attr-defined]
    )
    # What was still to be sent is dropped; what was sent keeps no number.
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == WHATSAPP,
            OutboxMessage.chat_external_id == number,
            OutboxMessage.status == OutboxStatus.PENDING.value,
        )
        .values(status=OutboxStatus.FAILED.value, last_error="number left (STOP)")
    )
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.channel == WHATSAPP, OutboxMessage.chat_external_id == number)
        .values(chat_external_id=forgotten)
    )
    session.flush()
    return known


def record_status(session: Session, message_sid: str, status: str, error_code: str | None) -> None:
    """Keep the newest status of a sent message; an older status arriving late changes nothing."""
    rank = DELIVERY_STATUS_RANK.get(status)
    if rank is None:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(DeliveryStatus).values(
        channel=WHATSAPP,
        channel_message_id=message_sid,
        status=status,
        rank=rank,
        error_code=error_code,
        updated_at=utcnow(),
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["channel", "channel_message_id"],
            set_={
                "status": statement.excluded.status,
                "rank": statement.excluded.rank,
                "error_code": statement.excluded.error_code,
                "updated_at": statement.excluded.updated_at,
            },
            where=DeliveryStatus.rank < statement.excluded.rank,
        )
    )


def status_of(session: Session, message_sid: str) -> str | None:
    return session.scalar(
        select(DeliveryStatus.status).where(
            DeliveryStatus.channel == WHATSAPP, DeliveryStatus.channel_message_id == message_sid
        )
    )
