"""The one place where incoming events meet their handlers.

Order matters: the chat and member are resolved first (every handler needs them), then a
command goes to its handler, and anything else in a group is a post to label and store.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from handlers.context import Conversation, Services
from handlers.digest_schedule import handle_digest_schedule
from handlers.group_post import handle_group_post
from handlers.ideas import handle_idea
from handlers.impact import handle_level
from handlers.level_prompts import handle_prompts
from handlers.messages import (
    BotAddedToGroup,
    ButtonPressed,
    Ignored,
    IncomingEvent,
    IncomingMessage,
    MembersJoined,
    Reply,
)
from handlers.monitor import handle_monitor
from handlers.roles import handle_role
from handlers.schouw import handle_button_press, handle_schouw, route_reply
from handlers.start import handle_bot_added, handle_help, handle_start
from handlers.trend import handle_trend
from handlers.welcome import handle_members_joined
from storage.directory import bind_chat, record_private_chat, upsert_member
from storage.outbox import key_of_sent_message

CommandHandler = Callable[[Conversation, str], list[Reply]]

COMMANDS: dict[str, CommandHandler] = {
    "start": handle_start,
    "help": handle_help,
    "hulp": handle_help,
    "rol": handle_role,
    "rollen": handle_role,
    "trend": handle_trend,
    "schouw": handle_schouw,
    "weekoverzicht": handle_digest_schedule,
    "digest": handle_digest_schedule,
    "niveau": handle_level,
    "impact": handle_level,
    "idee": handle_idea,
    "idea": handle_idea,
    "prompts": handle_prompts,
    "tips": handle_prompts,
    "monitor": handle_monitor,
}


def parse_command(text: str) -> tuple[str, str] | None:
    """`/rol@buurtbot coordinator` → ("rol", "coordinator"); None for a plain message."""
    if not text.startswith("/"):
        return None
    head, _, args = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name, args.strip()) if name else None


def _conversation(session: Session, services: Services, message: IncomingMessage) -> Conversation:
    if not message.chat.is_group:
        record_private_chat(session, message.chat.channel, message.sender.external_id)
        return Conversation(session, services, message, None, None, None)
    chat, _ = bind_chat(
        session, message.chat.channel, message.chat.external_id, message.chat.title, True
    )
    member = upsert_member(
        session,
        chat.initiative_id,
        chat.channel,
        message.sender.external_id,
        message.sender.first_name,
        message.sender.username,
    )
    return Conversation(session, services, message, chat, chat.initiative, member)


def _route_reply(conversation: Conversation, replied_id: str) -> list[Reply] | None:
    """A reply to one of the bot's own questions goes to whoever asked it."""
    chat = conversation.message.chat
    key = key_of_sent_message(conversation.session, chat.channel, chat.external_id, replied_id)
    return route_reply(conversation, key) if key else None


def handle(session: Session, services: Services, event: IncomingEvent) -> list[Reply]:
    """Everything the bot does for one incoming event; the caller owns the transaction."""
    if isinstance(event, Ignored):
        return []
    if isinstance(event, BotAddedToGroup):
        return handle_bot_added(session, event)
    if isinstance(event, MembersJoined):
        return handle_members_joined(session, services, event)
    if isinstance(event, ButtonPressed):
        return handle_button_press(session, services, event)
    conversation = _conversation(session, services, event)
    command = parse_command(event.text)
    if command is not None:
        name, args = command
        handler = COMMANDS.get(name)
        if handler is None:
            return [conversation.answer("unknown_command")]
        return handler(conversation, args)
    if event.reply_to is not None:
        routed = _route_reply(conversation, event.reply_to.message_id)
        if routed is not None:
            return routed
    if conversation.chat is None:
        return [conversation.say("private_post")]
    return handle_group_post(conversation)
