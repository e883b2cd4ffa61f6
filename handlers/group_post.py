"""A member's post in a group: label it, store it, and remind of SAAR when it is urgent."""

from __future__ import annotations

from handlers.context import Conversation
from handlers.messages import Reply
from storage.messages import store_message


def handle_group_post(conversation: Conversation) -> list[Reply]:
    """Classify and store a group post; an urgent signal gets the SAAR reminder at once."""
    assert conversation.chat is not None
    labels = conversation.services.classifier.classify(conversation.message.text)
    stored = store_message(
        conversation.session,
        chat=conversation.chat,
        member=conversation.member,
        incoming=conversation.message,
        labels=labels,
    )
    if stored is None:
        return []
    if not (labels.kind == "signaal" and labels.urgent):
        return []
    return [conversation.answer("saar_reminder")]
