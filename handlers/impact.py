"""`/niveau`: the initiative's impact level, how it came about, and the next concrete step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from analytics.impact import impact_config, score_initiative
from analytics.impact.explain import render_impact_text
from handlers.context import Conversation
from handlers.messages import Reply
from storage.directory import initiatives_with_role
from storage.models import PARTNER_ROLES, Initiative, Role

IMPACT_ROLES = frozenset({Role.COORDINATOR, Role.VERENIGING, *PARTNER_ROLES})
MAX_INITIATIVES_PER_ANSWER = 3


def impact_text(session: Session, initiative: Initiative, now: datetime) -> str:
    """The level of one initiative with its explanation, in the initiative's language."""
    score = score_initiative(session, initiative.id, now)
    months = impact_config().window_months
    return render_impact_text(score, initiative.name, months, initiative.language)


def handle_level(conversation: Conversation, _args: str) -> list[Reply]:
    """Answer coordinators and partners with the level; explain to others who may ask."""
    session, message = conversation.session, conversation.message
    if conversation.initiative is not None:
        member = conversation.member
        if member is None or Role(member.role) not in IMPACT_ROLES:
            return [conversation.answer("impact_command_not_allowed")]
        initiatives = [conversation.initiative]
    else:
        initiatives = initiatives_with_role(
            session, message.chat.channel, message.sender.external_id, IMPACT_ROLES
        )
        if not initiatives:
            return [conversation.say("impact_command_no_initiative")]
    now = conversation.services.now()
    return [
        Reply(chat=message.chat, text=impact_text(session, initiative, now))
        for initiative in initiatives[:MAX_INITIATIVES_PER_ANSWER]
    ]
