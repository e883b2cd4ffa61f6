"""What a handler gets to work with: one unit of work, the classifier, and who is asking."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.messages import IncomingMessage, Reply
from handlers.texts import text
from nlp.classifier import Classification
from storage.directory import initiatives_with_role
from storage.models import Chat, Initiative, Member, Role


class TextClassifier(Protocol):
    def classify(self, text: str) -> Classification: ...

    def classify_batch(self, texts: Sequence[str]) -> list[Classification]: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Services:
    """Long-lived services, created once per process and handed to every handler."""

    classifier: TextClassifier
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Amsterdam"))
    now: Callable[[], datetime] = _utcnow
    # The bot's WhatsApp number ("whatsapp:+31..."), for telling people where to join; None
    # when the WhatsApp channel is off.
    whatsapp_number: str | None = None


@dataclass(slots=True)
class Conversation:
    """One incoming message with the chat, initiative and member it belongs to."""

    session: Session
    services: Services
    message: IncomingMessage
    chat: Chat | None
    initiative: Initiative | None
    member: Member | None

    @property
    def language(self) -> str:
        return self.initiative.language if self.initiative else "nl"

    def say(self, key: str, /, **values: object) -> Reply:
        """A reply in this conversation's chat, rendered from the text catalogue."""
        return Reply(chat=self.message.chat, text=text(key, self.language, **values))

    def answer(self, key: str, /, **values: object) -> Reply:
        """Like `say`, but as a reply to the incoming message."""
        return Reply(
            chat=self.message.chat,
            text=text(key, self.language, **values),
            reply_to_message_id=self.message.message_id,
        )


def initiatives_asked_about(
    conversation: Conversation, roles: Collection[Role], refused: str, none: str
) -> list[Initiative] | Reply:
    """The initiatives someone with one of `roles` asks about: in a group its own initiative,
    one-to-one every initiative where they have such a role. Otherwise the answer to give:
    `refused` in a group where they lack the role, `none` when they have it nowhere."""
    if conversation.initiative is not None:
        member = conversation.member
        if member is None or Role(member.role) not in roles:
            return conversation.answer(refused)
        return [conversation.initiative]
    message = conversation.message
    found = initiatives_with_role(
        conversation.session, message.chat.channel, message.sender.external_id, roles
    )
    return found or conversation.say(none)
