"""`/idee`: members file ideas; a coordinator adopts one by replying `/idee aangenomen` to the
bot's note of it, or with `/idee aannemen 3`. `/idee` alone lists the open ideas."""

from __future__ import annotations

import re
from dataclasses import replace

from handlers.context import Conversation
from handlers.messages import Reply
from handlers.start import coordinator_names
from handlers.texts import text
from storage.ideas import adopt, file_idea, find_idea, open_ideas
from storage.models import Idea, Member, Role
from storage.outbox import key_of_sent_message

IDEA_KEY = "idea"
# "/idee aangenomen", "/idee aannemen 3", "/idee adopt 3": the words a coordinator may use.
_ADOPT = re.compile(r"^(?:aangenomen|aannemen|adopted|adopt)(?:\s+#?(\d+))?\s*$", re.IGNORECASE)


def _replied_idea_number(conversation: Conversation) -> int | None:
    """The idea whose note (the bot's message) this message replies to."""
    replied, chat = conversation.message.reply_to, conversation.message.chat
    if replied is None or conversation.chat is None:
        return None
    key = key_of_sent_message(
        conversation.session, chat.channel, chat.external_id, replied.message_id
    )
    kind, _, number = (key or "").partition(":")
    return int(number.split(":")[-1]) if kind == IDEA_KEY and number else None


def _list(conversation: Conversation) -> list[Reply]:
    assert conversation.initiative is not None
    ideas = open_ideas(conversation.session, conversation.initiative.id)
    if not ideas:
        return [conversation.say("idea_list_empty")]
    language = conversation.language
    items = "\n".join(
        text("idea_list_item", language, number=idea.number, idea=idea.text, proposer=name)
        for idea, name in ideas
    )
    return [conversation.say("idea_list", items=items)]


def _file(conversation: Conversation, said: str) -> list[Reply]:
    assert conversation.initiative is not None and conversation.member is not None
    idea = file_idea(
        conversation.session,
        conversation.initiative.id,
        conversation.member,
        said,
        conversation.services.now(),
    )
    note = conversation.answer("idea_filed", number=idea.number, idea=idea.text)
    # The key lets a coordinator's reply to this note find the idea.
    return [replace(note, key=f"{IDEA_KEY}:{idea.initiative_id}:{idea.number}")]


def _adopt(conversation: Conversation, number: int | None) -> list[Reply]:
    assert conversation.initiative is not None and conversation.member is not None
    session, initiative = conversation.session, conversation.initiative
    if conversation.member.role != Role.COORDINATOR.value:
        names = coordinator_names(session, initiative.id, conversation.language)
        return [conversation.answer("idea_only_coordinators", coordinators=names)]
    number = number or _replied_idea_number(conversation)
    if number is None:
        return [conversation.answer("idea_which")]
    idea = find_idea(session, initiative.id, number)
    if idea is None:
        return [conversation.answer("idea_not_found", number=number)]
    if idea.adopted_at is not None:
        return [conversation.answer("idea_already_adopted", number=number)]
    adopt(idea, conversation.member, conversation.services.now())
    return [conversation.say("idea_adopted", **_adopted_values(conversation, idea))]


def _adopted_values(conversation: Conversation, idea: Idea) -> dict[str, object]:
    assert conversation.member is not None
    proposer = conversation.session.get(Member, idea.proposer_id) if idea.proposer_id else None
    return {
        "number": idea.number,
        "idea": idea.text,
        "coordinator": conversation.member.display_name or "?",
        "proposer": proposer.display_name if proposer and proposer.display_name else "?",
    }


def handle_idea(conversation: Conversation, args: str) -> list[Reply]:
    """File an idea, list the open ones, or (coordinators) adopt one."""
    if conversation.initiative is None or conversation.member is None:
        return [conversation.say("idea_in_group")]
    said = args.strip()
    if not said:
        return _list(conversation)
    adopting = _ADOPT.match(said)
    if adopting:
        return _adopt(conversation, int(adopting[1]) if adopting[1] else None)
    return _file(conversation, said)
