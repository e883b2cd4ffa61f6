"""Channel-neutral types: what comes in from any channel and what the bot says back.

Each channel adapter in `bot/` maps its own payload into these; handlers see nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Person:
    """Someone writing to the bot, as the channel knows them."""

    external_id: str
    first_name: str = ""
    username: str | None = None


@dataclass(frozen=True, slots=True)
class ChatRef:
    """The conversation a message belongs to."""

    channel: str
    external_id: str
    title: str | None = None
    is_group: bool = True


@dataclass(frozen=True, slots=True)
class RepliedTo:
    """The message an incoming message answers (a Telegram reply)."""

    message_id: str
    sender: Person | None = None


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A text message from any channel."""

    chat: ChatRef
    sender: Person
    message_id: str
    text: str
    sent_at: datetime
    reply_to: RepliedTo | None = None
    # Filled by the adapter only where cheap and needed (`/start` in a group): the chat's admins.
    chat_admins: tuple[Person, ...] | None = None


@dataclass(frozen=True, slots=True)
class BotAddedToGroup:
    """The bot became a member of a group; its admins become the first coordinators."""

    chat: ChatRef
    admins: tuple[Person, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class MembersJoined:
    """People joined a group (or were added to it); the bot welcomes them with the rules."""

    chat: ChatRef
    members: tuple[Person, ...]
    message_id: str  # the channel's notice of the join
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class ButtonPressed:
    """Someone pressed a button under one of the bot's messages (an RSVP)."""

    chat: ChatRef
    sender: Person
    message_id: str  # the bot's message the button is under
    data: str
    callback_id: str  # to answer the press with a short notice


@dataclass(frozen=True, slots=True)
class ChatMoved:
    """A chat got a new id on its channel: a Telegram group upgraded to a supergroup. The
    initiative, its members, roles and history stay with the chat under its new id."""

    channel: str
    old_external_id: str
    new_external_id: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """An update the bot has nothing to do with (edits, stickers, other update types)."""

    reason: str


IncomingEvent = (
    IncomingMessage | BotAddedToGroup | MembersJoined | ButtonPressed | ChatMoved | Ignored
)


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    """Something the bot says, to a chat, optionally as a reply to one message, with a picture."""

    chat: ChatRef
    text: str
    reply_to_message_id: str | None = None
    image: bytes | None = None  # a PNG (a trend chart), sent with `text` as its caption
    buttons: tuple[Button, ...] = ()
    # "send" a new message, "edit" the bot's message `target_message_id`, or "notice": answer
    # the button press `target_message_id` (a callback id) with a short pop-up text.
    action: str = "send"
    target_message_id: str | None = None
    # Sent once ever per key (a digest, a reminder); also how a reply to this message is routed.
    key: str | None = None
    # WhatsApp outside the 24-hour window: the approved template to send instead, and its values.
    template: str | None = None
    template_values: tuple[tuple[str, str], ...] = ()
