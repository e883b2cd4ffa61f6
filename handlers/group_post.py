"""A member's post in a group: label it, store it, and remind of SAAR when it is urgent."""

from __future__ import annotations

from handlers.context import Conversation
from handlers.messages import Reply
from nlp.classifier import Classification
from storage.messages import store_message


def label_and_store(conversation: Conversation) -> tuple[Classification, bool]:
    """Classify the post and store it with its labels; False when it was stored before."""
    assert conversation.chat is not None
    labels = conversation.services.classifier.classify(conversation.message.text)
    stored = store_message(
        conversation.session,
        chat=conversation.chat,
        member=conversation.member,
        incoming=conversation.message,
        labels=labels,
    )
    return labels, stored is not None


def is_urgent_signal(labels: Classification) -> bool:
    return labels.kind == "signaal" and labels.urgent


def handle_group_post(conversation: Conversation) -> list[Reply]:
    """Classify and store a group post; an urgent signal gets the SAAR reminder at once."""
    labels, new = label_and_store(conversation)
    if not (new and is_urgent_signal(labels)):
        return []
    return [conversation.answer("saar_reminder")]
