"""What a handler gets to work with: one unit of work, the classifier, and who is asking."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from handlers.messages import ChatRef, IncomingMessage, Reply
from handlers.texts import text
from nlp.classifier import Classification
from storage.models import Chat, Initiative, Member


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

    def say_to(self, chat: ChatRef, key: str, /, **values: object) -> Reply:
        return Reply(chat=chat, text=text(key, self.language, **values))
