"""The Telegram channel: Bot API updates in, channel-neutral events out, and sending replies."""

from __future__ import annotations

import json
import logging
import os

# Opt in to python-telegram-bot's timedelta periods now (retry_after), as v23 will do.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import (
    Bot,
    CallbackQuery,
    Chat,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
    User,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot.delivery import ChatMovedError, PermanentError, RetryLater, TransientError
from bot.inbox import UnreadableUpdate
from handlers.messages import (
    BotAddedToGroup,
    ButtonPressed,
    ChatMoved,
    ChatRef,
    Ignored,
    IncomingEvent,
    IncomingMessage,
    MembersJoined,
    Person,
    RepliedTo,
)
from storage.models import Channel, OutboxMessage
from storage.outbox import buttons_of

log = logging.getLogger(__name__)

GROUP_TYPES = {Chat.GROUP, Chat.SUPERGROUP}
JOINED_STATUSES = {"member", "administrator"}
CAPTION_LIMIT = 1024


def _person(user: User) -> Person:
    return Person(external_id=str(user.id), first_name=user.first_name, username=user.username)


def _chat(chat: Chat) -> ChatRef:
    return ChatRef(
        channel=Channel.TELEGRAM.value,
        external_id=str(chat.id),
        title=chat.title,
        is_group=chat.type in GROUP_TYPES,
    )


def _keyboard(message: OutboxMessage) -> InlineKeyboardMarkup | None:
    """The message's buttons side by side in one row."""
    buttons = buttons_of(message)
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(button.label, callback_data=button.data) for button in buttons]]
    )


class TelegramChannel:
    """Talks to the Bot API through python-telegram-bot, at `base_url` (Telegram's or a stand-in)."""

    channel = Channel.TELEGRAM.value

    def __init__(self, token: str, base_url: str) -> None:
        self.bot = Bot(
            token=token,
            base_url=base_url,
            request=HTTPXRequest(connection_pool_size=16, read_timeout=15, write_timeout=15),
        )

    async def start(self) -> None:
        """Learn who the bot is (getMe); when the Bot API is unreachable, try again later."""
        try:
            await self.bot.initialize()
        except TelegramError as error:
            log.warning("Bot API not reachable at start-up (%s); will retry", type(error).__name__)

    async def _ready(self) -> None:
        await self.bot.initialize()  # returns at once when it has been done

    async def stop(self) -> None:
        await self.bot.shutdown()

    async def admins(self, chat_id: int) -> tuple[Person, ...]:
        members = await self.bot.get_chat_administrators(chat_id)
        return tuple(_person(member.user) for member in members if not member.user.is_bot)

    def _addressed_elsewhere(self, text: str) -> bool:
        """A command meant for another bot in the same group (`/start@otherbot`)."""
        head = text.split(" ", 1)[0]
        return "@" in head and head.split("@", 1)[1].lower() != (self.bot.username or "").lower()

    async def to_event(self, payload: str) -> IncomingEvent:
        """Map one stored update to what the handlers understand."""
        await self._ready()
        try:
            update = Update.de_json(json.loads(payload), self.bot)
        except (TypeError, KeyError, ValueError, AttributeError) as error:
            raise UnreadableUpdate(f"{type(error).__name__}: {error}") from error
        if update.my_chat_member is not None:
            return await self._membership_event(update.my_chat_member)
        if update.callback_query is not None:
            return self._button_event(update.callback_query)
        message = update.message
        if message is None:
            return Ignored(reason="update type not handled")
        return await self._message_event(message)

    async def _membership_event(self, change: ChatMemberUpdated) -> IncomingEvent:
        joined = (
            change.new_chat_member.user.id == self.bot.id
            and change.new_chat_member.status in JOINED_STATUSES
            and change.old_chat_member.status not in JOINED_STATUSES
            and change.chat.type in GROUP_TYPES
        )
        if not joined:
            return Ignored(reason="membership change not about the bot joining a group")
        return BotAddedToGroup(chat=_chat(change.chat), admins=await self.admins(change.chat.id))

    def _button_event(self, query: CallbackQuery) -> IncomingEvent:
        message = query.message
        if message is None or not query.data:
            return Ignored(reason="button press without its message")
        return ButtonPressed(
            chat=_chat(message.chat),
            sender=_person(query.from_user),
            message_id=str(message.message_id),
            data=query.data,
            callback_id=query.id,
        )

    async def _message_event(self, message: Message) -> IncomingEvent:
        # An upgrade to a supergroup: the old group gets `migrate_to_chat_id`, the new
        # supergroup `migrate_from_chat_id`; either one is enough, the second changes nothing.
        if message.migrate_to_chat_id:
            return ChatMoved(
                Channel.TELEGRAM.value, str(message.chat.id), str(message.migrate_to_chat_id)
            )
        if message.migrate_from_chat_id:
            return ChatMoved(
                Channel.TELEGRAM.value, str(message.migrate_from_chat_id), str(message.chat.id)
            )
        if message.new_chat_members:
            return self._members_joined(message)
        text = message.text or message.caption
        if not text or message.from_user is None or message.from_user.is_bot:
            return Ignored(reason="no text from a person")
        if text.startswith("/") and self._addressed_elsewhere(text):
            return Ignored(reason="command for another bot")
        chat = _chat(message.chat)
        is_start = text.split(" ", 1)[0].split("@", 1)[0].lower() == "/start"
        replied = message.reply_to_message
        return IncomingMessage(
            chat=chat,
            sender=_person(message.from_user),
            message_id=str(message.message_id),
            text=text,
            sent_at=message.date,
            reply_to=RepliedTo(
                message_id=str(replied.message_id),
                sender=_person(replied.from_user) if replied.from_user else None,
            )
            if replied
            else None,
            chat_admins=await self.admins(message.chat.id) if is_start and chat.is_group else None,
        )

    def _members_joined(self, message: Message) -> IncomingEvent:
        """People joined a group; the bot itself joining comes as `my_chat_member`."""
        people = tuple(_person(user) for user in message.new_chat_members if not user.is_bot)
        if not people or message.chat.type not in GROUP_TYPES:
            return Ignored(reason="no people joined a group")
        return MembersJoined(
            chat=_chat(message.chat),
            members=people,
            message_id=str(message.message_id),
            sent_at=message.date,
        )

    async def send(self, message: OutboxMessage) -> str:
        """Carry out one outbox message; errors are mapped to what the delivery loop should do."""
        try:
            return await self._carry_out(message)
        except RetryAfter as error:
            raise RetryLater(error.retry_after.total_seconds()) from error  # type: ignore[union-attr]
        except ChatMigrated as error:
            raise ChatMovedError(str(error.new_chat_id)) from error
        except BadRequest as error:
            if "message is not modified" in str(error).lower():
                return message.target_message_id or ""  # the edit shows what it already showed
            raise PermanentError(str(error)) from error
        except Forbidden as error:
            raise PermanentError(str(error)) from error
        except TelegramError as error:
            raise TransientError(str(error)) from error

    async def _carry_out(self, message: OutboxMessage) -> str:
        if message.action == "notice":
            await self.bot.answer_callback_query(message.target_message_id or "", text=message.text)
            return message.target_message_id or ""
        chat_id = int(message.chat_external_id)
        markup = _keyboard(message)
        if message.action == "edit":
            await self.bot.edit_message_text(
                text=message.text,
                chat_id=chat_id,
                message_id=int(message.target_message_id or 0),
                reply_markup=markup,
            )
            return message.target_message_id or ""
        reply = (
            ReplyParameters(
                message_id=int(message.reply_to_message_id), allow_sending_without_reply=True
            )
            if message.reply_to_message_id
            else None
        )
        if message.image is None:
            sent = await self.bot.send_message(
                chat_id=chat_id, text=message.text, reply_parameters=reply, reply_markup=markup
            )
        elif len(message.text) <= CAPTION_LIMIT:
            sent = await self.bot.send_photo(
                chat_id=chat_id, photo=message.image, caption=message.text, reply_parameters=reply
            )
        else:
            # Too long for a caption: the picture, then the text. A retry after a failure of the
            # second call sends both again, which is better than losing the text.
            await self.bot.send_photo(chat_id=chat_id, photo=message.image, reply_parameters=reply)
            sent = await self.bot.send_message(chat_id=chat_id, text=message.text)
        return str(sent.message_id)

    async def set_webhook(self, url: str, secret: str) -> bool:
        return await self.bot.set_webhook(
            url=url,
            secret_token=secret,
            allowed_updates=["message", "my_chat_member", "callback_query"],
        )
