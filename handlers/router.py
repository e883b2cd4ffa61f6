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
    ChatMoved,
    Ignored,
    IncomingEvent,
    IncomingMessage,
    MembersJoined,
    Reply,
)
from handlers.monitor import handle_monitor
from handlers.regional_events import BUTTON_PREFIX, handle_event_command, handle_regional_button
from handlers.roles import handle_role
from handlers.schouw import handle_button_press, handle_schouw, route_reply
from handlers.start import handle_bot_added, handle_help, handle_start
from handlers.trend import handle_trend
from handlers.welcome import handle_members_joined
from handlers.whatsapp import (
    handle_join,
    handle_join_code,
    handle_relay_choice,
    handle_stop,
    handle_whatsapp_post,
)
from storage.directory import (
    bind_chat,
    find_chat,
    move_chat,
    record_private_chat,
    upsert_member,
)
from storage.models import Channel
from storage.outbox import key_of_sent_message
from storage.whatsapp import touch_inbound

CommandHandler = Callable[[Conversation, str], list[Reply]]
WHATSAPP = Channel.WHATSAPP.value

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
    "aanmelden": handle_join,
    "stop": handle_stop,
    "aanmeldcode": handle_join_code,
    "doorsturen": handle_relay_choice,
    "evenement": handle_event_command,
    "niveau": handle_level,
    "impact": handle_level,
    "idee": handle_idea,
    "idea": handle_idea,
    "prompts": handle_prompts,
    "tips": handle_prompts,
    "monitor": handle_monitor,
}
# On WhatsApp people type commands as plain words ("trend", "STOP"); punctuation after is fine.
_BARE_WORD_TRAILER = "?!.:,"


def parse_command(text: str, bare_words: bool = False) -> tuple[str, str] | None:
    """`/rol@buurtbot coordinator` → ("rol", "coordinator"); None for a plain message.

    With `bare_words` (WhatsApp), a message starting with a command's name counts too.
    """
    if text.startswith("/"):
        head, _, args = text[1:].partition(" ")
        name = head.split("@", 1)[0].lower()
        return (name, args.strip()) if name else None
    if bare_words:
        head, _, args = text.strip().partition(" ")
        name = head.rstrip(_BARE_WORD_TRAILER).lower()
        if name in COMMANDS:
            return name, args.strip()
    return None


def _conversation(session: Session, services: Services, message: IncomingMessage) -> Conversation:
    if message.chat.channel == WHATSAPP:
        # One-to-one, but bound to an initiative once the number joined with its code.
        touch_inbound(session, message.chat.external_id, message.sent_at)
        found = find_chat(session, WHATSAPP, message.chat.external_id)
        if found is None:
            return Conversation(session, services, message, None, None, None)
        chat = found
    elif not message.chat.is_group:
        record_private_chat(session, message.chat.channel, message.sender.external_id)
        return Conversation(session, services, message, None, None, None)
    else:
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
    if isinstance(event, ChatMoved):
        move_chat(session, event.channel, event.old_external_id, event.new_external_id)
        return []
    if isinstance(event, BotAddedToGroup):
        return handle_bot_added(session, event)
    if isinstance(event, MembersJoined):
        return handle_members_joined(session, services, event)
    if isinstance(event, ButtonPressed):
        if event.data.startswith(f"{BUTTON_PREFIX}:"):
            return handle_regional_button(session, services, event)
        return handle_button_press(session, services, event)
    conversation = _conversation(session, services, event)
    command = parse_command(event.text, bare_words=event.chat.channel == WHATSAPP)
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
    if event.chat.channel == WHATSAPP:
        if conversation.chat is None:
            return [conversation.say("whatsapp_not_joined")]
        return handle_whatsapp_post(conversation)
    if conversation.chat is None:
        return [conversation.say("private_post")]
    return handle_group_post(conversation)
