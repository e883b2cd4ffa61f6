"""`/niveau`: the initiative's impact level, how it came about, and the next concrete step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from analytics.impact import impact_config, score_initiative
from analytics.impact.explain import render_impact_text
from handlers.context import Conversation, initiatives_asked_about
from handlers.messages import Reply
from storage.models import OVERVIEW_ROLES, Initiative

MAX_INITIATIVES_PER_ANSWER = 3


def impact_text(session: Session, initiative: Initiative, now: datetime) -> str:
    """The level of one initiative with its explanation, in the initiative's language."""
    score = score_initiative(session, initiative.id, now)
    months = impact_config().window_months
    return render_impact_text(score, initiative.name, months, initiative.language)


def handle_level(conversation: Conversation, _args: str) -> list[Reply]:
    """Answer coordinators and partners with the level; explain to others who may ask."""
    session, message = conversation.session, conversation.message
    initiatives = initiatives_asked_about(
        conversation, OVERVIEW_ROLES, "impact_command_not_allowed", "impact_command_no_initiative"
    )
    if isinstance(initiatives, Reply):
        return [initiatives]
    now = conversation.services.now()
    return [
        Reply(chat=message.chat, text=impact_text(session, initiative, now))
        for initiative in initiatives[:MAX_INITIATIVES_PER_ANSWER]
    ]
