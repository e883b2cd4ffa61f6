"""`/start` and `/help`, and the bot joining a group."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from handlers.context import Conversation
from handlers.messages import BotAddedToGroup, Person, Reply
from handlers.texts import text
from storage.directory import bind_chat, members_with_roles, upsert_member
from storage.models import Channel, Chat, Role


def _name_list(names: Sequence[str], language: str) -> str:
    return ", ".join(names) if names else text("nobody", language)


def coordinator_names(session: Session, initiative_id: int, language: str) -> str:
    members = members_with_roles(session, initiative_id, [Role.COORDINATOR])
    return _name_list([member.display_name or "?" for member in members], language)


def make_first_coordinators(session: Session, chat: Chat, admins: Sequence[Person]) -> None:
    """The group's admins become coordinators while the initiative has none."""
    if members_with_roles(session, chat.initiative_id, [Role.COORDINATOR]):
        return
    for admin in admins:
        member = upsert_member(
            session,
            chat.initiative_id,
            chat.channel,
            admin.external_id,
            admin.first_name,
            admin.username,
        )
        member.role = Role.COORDINATOR.value


def handle_bot_added(session: Session, event: BotAddedToGroup) -> list[Reply]:
    """Bind the group to an initiative and welcome it."""
    chat, _ = bind_chat(
        session, event.chat.channel, event.chat.external_id, event.chat.title, is_group=True
    )
    make_first_coordinators(session, chat, event.admins)
    language = chat.initiative.language
    return [
        Reply(
            chat=event.chat,
            text=text(
                "added_to_group",
                language,
                group=chat.initiative.name,
                coordinators=coordinator_names(session, chat.initiative_id, language),
            ),
        )
    ]


def handle_start(conversation: Conversation, _args: str) -> list[Reply]:
    """Greet; in a group, bind it and make its admins coordinators when it has none yet."""
    if conversation.chat is None or conversation.initiative is None:
        return [conversation.say("start_private", name=conversation.message.sender.first_name)]
    had_coordinators = bool(
        members_with_roles(conversation.session, conversation.initiative.id, [Role.COORDINATOR])
    )
    make_first_coordinators(
        conversation.session, conversation.chat, conversation.message.chat_admins or ()
    )
    key = "start_group_known" if had_coordinators else "start_group_bound"
    return [
        conversation.say(
            key,
            group=conversation.initiative.name,
            coordinators=coordinator_names(
                conversation.session, conversation.initiative.id, conversation.language
            ),
        )
    ]


def handle_help(conversation: Conversation, _args: str) -> list[Reply]:
    """Explain what the bot does, in the member's language and for their channel."""
    if conversation.message.chat.channel == Channel.WHATSAPP.value:
        return [conversation.say("help_whatsapp")]
    return [conversation.say("help")]
