"""Level-appropriate tips to a group: at most one per interval (14 days by default), chosen for
the initiative's current impact level, never the same text twice in a row; `/prompts aan|uit`.

Queued by the scheduler. The outbox key names the group and the time of its previous tip, so two
schedulers (or a rerun) queue a tip once; only the one that queued it records it as sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from analytics.impact import impact_config, score_initiatives
from handlers.context import Conversation
from handlers.messages import ChatRef, Reply
from handlers.monitor import OFF_WORDS, ON_WORDS
from handlers.start import coordinator_names
from handlers.texts import prompt_texts
from storage.models import Channel, Chat, Role
from storage.outbox import enqueue


def choose_prompt(level: int, last: str | None, language: str) -> tuple[str, str]:
    """(id, text) of the tip for `level` that follows `last` in the config's order."""
    level = max(level, 1)  # a group without a level yet gets the level 1 tips
    tips = prompt_texts(language)[level]
    ids = [f"{level}.{number}" for number in range(len(tips))]
    index = (ids.index(last) + 1) % len(ids) if last in ids else 0
    return ids[index], tips[index]


def prompt_key(chat: Chat) -> str:
    previous = chat.last_prompt_at or chat.created_at
    return f"prompt:{chat.id}:{previous.isoformat()}"


def _due_chats(session: Session, now: datetime, interval: timedelta) -> list[Chat]:
    """Groups with tips on whose last tip (or, before the first, binding) is `interval` ago."""
    cutoff = now - interval
    return list(
        session.scalars(
            select(Chat)
            .where(
                # Telegram is the one channel the bot posts in groups; WhatsApp groups (and
                # spreadsheets) reach it as imports only.
                Chat.channel == Channel.TELEGRAM.value,
                Chat.is_group,
                Chat.prompts_enabled,
                or_(
                    Chat.last_prompt_at <= cutoff,
                    and_(Chat.last_prompt_at.is_(None), Chat.created_at <= cutoff),
                ),
            )
            .order_by(Chat.id)
        )
    )


def queue_level_prompts(session: Session, now: datetime) -> int:
    """Queue a tip for every group that is due; returns how many were queued."""
    chats = _due_chats(session, now, timedelta(days=impact_config().prompt_interval_days))
    if not chats:
        return 0
    scores = score_initiatives(session, now, {chat.initiative_id for chat in chats})
    queued = 0
    for chat in chats:
        language = chat.initiative.language
        prompt_id, body = choose_prompt(
            scores[chat.initiative_id].level, chat.last_prompt, language
        )
        group = ChatRef(chat.channel, chat.external_id, chat.title, is_group=True)
        if enqueue(session, [Reply(group, body, key=prompt_key(chat))]):
            chat.last_prompt, chat.last_prompt_at = prompt_id, now
            queued += 1
    return queued


def handle_prompts(conversation: Conversation, args: str) -> list[Reply]:
    """Show whether the group gets tips; a coordinator switches them on or off."""
    chat, member, initiative = conversation.chat, conversation.member, conversation.initiative
    if chat is None or member is None or initiative is None:
        return [conversation.say("prompts_in_group")]
    word = args.strip().lower()
    if word:
        if word not in ON_WORDS | OFF_WORDS:
            return [conversation.answer("prompts_unreadable")]
        if member.role != Role.COORDINATOR.value:
            names = coordinator_names(conversation.session, initiative.id, conversation.language)
            return [conversation.answer("prompts_only_coordinators", coordinators=names)]
        chat.prompts_enabled = word in ON_WORDS
    if chat.prompts_enabled:
        return [conversation.answer("prompts_on", days=impact_config().prompt_interval_days)]
    return [conversation.answer("prompts_off")]
