"""Initiatives, their chats and their members with roles."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import bindparam, func, inspect, select, update
from sqlalchemy.orm import Session, joinedload

from storage import outbox
from storage.models import Channel, Chat, Initiative, Member, Message, PrivateChat, Role

log = logging.getLogger(__name__)

# Built once: every group post looks up its chat and member (SQLAlchemy then also reuses the
# compiled SQL without building and hashing the statement again).
_FIND_CHAT = (
    select(Chat)
    .where(Chat.channel == bindparam("channel"), Chat.external_id == bindparam("external_id"))
    # Every caller goes on to the chat's initiative: one query instead of two.
    .options(joinedload(Chat.initiative, innerjoin=True))
)
_FIND_MEMBER = select(Member).where(
    Member.initiative_id == bindparam("initiative_id"),
    Member.channel == bindparam("channel"),
    Member.external_id == bindparam("external_id"),
)


_Found = TypeVar("_Found", Chat, Member)


def _remembered(
    session: Session,
    key: tuple[object, ...],
    still_matches: Callable[[_Found], bool],
    load: Callable[[], _Found | None],
) -> _Found | None:
    """What `load` finds, remembered for the rest of the session: the worker handles a batch
    of updates in one session, and most of a batch comes from the same few chats and members.
    A remembered row that was deleted, or no longer matches, is looked up again."""
    remembered: dict[tuple[object, ...], _Found] = session.info.setdefault("directory", {})
    found = remembered.get(key)
    if found is not None:
        state = inspect(found)
        if state.persistent and not state.deleted and still_matches(found):
            return found
    found = load()
    if found is not None:
        remembered[key] = found
    return found


def find_chat(session: Session, channel: str, external_id: str) -> Chat | None:
    return _remembered(
        session,
        ("chat", channel, external_id),
        lambda chat: chat.channel == channel and chat.external_id == external_id,
        lambda: session.scalars(
            _FIND_CHAT, {"channel": channel, "external_id": external_id}
        ).one_or_none(),
    )


def unique_initiative_name(session: Session, wanted: str) -> str:
    """`wanted`, or `wanted (2)`, `(3)`, … when another initiative has that name already."""
    wanted = (wanted.strip() or "Buurtpreventie")[:180]
    taken = set(
        session.scalars(
            select(Initiative.name).where(Initiative.name.startswith(wanted, autoescape=True))
        )
    )
    name, number = wanted, 1
    while name in taken:
        number += 1
        name = f"{wanted} ({number})"
    return name


def create_initiative(session: Session, name: str) -> Initiative:
    initiative = Initiative(name=unique_initiative_name(session, name))
    session.add(initiative)
    session.flush()
    return initiative


def bind_chat(
    session: Session, channel: str, external_id: str, title: str | None, is_group: bool
) -> tuple[Chat, bool]:
    """The chat, bound to an initiative; a group seen for the first time gets its own one."""
    chat = find_chat(session, channel, external_id)
    if chat is not None:
        if title and chat.title != title:
            chat.title = title
        return chat, False
    initiative = create_initiative(session, title or f"Groep {external_id}")
    chat = Chat(
        initiative_id=initiative.id,
        channel=channel,
        external_id=external_id,
        title=title,
        is_group=is_group,
    )
    session.add(chat)
    session.flush()
    return chat, True


def move_chat(session: Session, channel: str, old_external_id: str, new_external_id: str) -> bool:
    """Follow a chat to its new id on its channel (a Telegram group upgraded to a supergroup):
    the initiative, members, roles and history stay with it, and what waits to be sent to it
    goes to the new id. Idempotent; returns whether the chat row moved just now.

    The new chat numbers its messages afresh, so the ids of the messages stored so far get the
    old chat id in front: they stay unique in the chat and a new message can never be taken
    for one of them.
    """
    outbox.redirect(session, channel, old_external_id, new_external_id)
    chat = find_chat(session, channel, old_external_id)
    if chat is None:
        return False  # moved already (Telegram tells both the old and the new chat)
    if find_chat(session, channel, new_external_id) is not None:
        log.warning(
            "chat %s moved to %s, which is bound already; both kept", chat.id, new_external_id
        )
        return False
    stored = session.execute(
        select(Message.id, Message.channel_message_id, Message.reply_to_message_id).where(
            Message.chat_id == chat.id
        )
    ).all()
    renamed = [
        {
            "id": row.id,
            "channel_message_id": _old_message_id(old_external_id, row.channel_message_id),
            "reply_to_message_id": _old_message_id(old_external_id, row.reply_to_message_id),
        }
        for row in stored
        if row.channel_message_id.isdigit()
    ]
    if renamed:
        session.execute(update(Message), renamed)
    chat.external_id = new_external_id
    session.flush()
    log.info("chat %s moved to its new id (%d stored messages renumbered)", chat.id, len(renamed))
    return True


def _old_message_id(old_chat: str, message_id: str | None) -> str | None:
    if message_id is None or not message_id.isdigit():
        return message_id
    return f"{old_chat}:{message_id}"


def find_member(
    session: Session, initiative_id: int, channel: str, external_id: str
) -> Member | None:
    return _remembered(
        session,
        ("member", initiative_id, channel, external_id),
        lambda member: (
            (member.initiative_id, member.channel, member.external_id)
            == (initiative_id, channel, external_id)
        ),
        lambda: session.scalars(
            _FIND_MEMBER,
            {"initiative_id": initiative_id, "channel": channel, "external_id": external_id},
        ).one_or_none(),
    )


def upsert_member(
    session: Session,
    initiative_id: int,
    channel: str,
    external_id: str,
    first_name: str,
    username: str | None,
) -> Member:
    """The member, created as `lid` when new; name and username kept current."""
    member = find_member(session, initiative_id, channel, external_id)
    if member is None:
        member = Member(
            initiative_id=initiative_id,
            channel=channel,
            external_id=external_id,
            display_name=first_name[:80],
            username=username,
            role=Role.LID.value,
        )
        session.add(member)
        session.flush()
    else:
        if first_name and member.display_name != first_name[:80]:
            member.display_name = first_name[:80]
        if username and member.username != username:
            member.username = username
    return member


def find_member_by_username(session: Session, initiative_id: int, username: str) -> Member | None:
    return session.scalars(
        select(Member).where(
            Member.initiative_id == initiative_id,
            func.lower(Member.username) == username.lower().lstrip("@"),
        )
    ).first()


def members_with_roles(session: Session, initiative_id: int, roles: Iterable[Role]) -> list[Member]:
    return list(
        session.scalars(
            select(Member)
            .where(
                Member.initiative_id == initiative_id,
                Member.role.in_([role.value for role in roles]),
            )
            .order_by(Member.display_name, Member.id)
        )
    )


def initiatives_with_role(
    session: Session, channel: str, external_id: str, roles: Iterable[Role]
) -> list[Initiative]:
    """The initiatives in which this person has one of `roles`, by name."""
    return list(
        session.scalars(
            select(Initiative)
            .join(Member, Member.initiative_id == Initiative.id)
            .where(
                Member.channel == channel,
                Member.external_id == external_id,
                Member.role.in_([role.value for role in roles]),
            )
            .order_by(Initiative.name)
        )
    )


def record_private_chat(session: Session, channel: str, external_id: str) -> None:
    """Remember that this person talks to the bot one-to-one (so it may write to them)."""
    if not has_private_chat(session, channel, external_id):
        session.add(PrivateChat(channel=channel, external_id=external_id))
        session.flush()


def has_private_chat(session: Session, channel: str, external_id: str) -> bool:
    return (
        session.scalar(
            select(PrivateChat.id).where(
                PrivateChat.channel == channel, PrivateChat.external_id == external_id
            )
        )
        is not None
    )


def initiative_chats(session: Session, initiative_id: int) -> list[Chat]:
    """Where the initiative's members can be reached: its Telegram groups and WhatsApp members."""
    return list(
        session.scalars(
            select(Chat)
            .where(
                Chat.initiative_id == initiative_id,
                ((Chat.channel == Channel.TELEGRAM.value) & Chat.is_group.is_(True))
                | (
                    (Chat.channel == Channel.WHATSAPP.value)
                    & ~Chat.external_id.startswith("vergeten:")
                ),
            )
            .order_by(Chat.id)
        )
    )
