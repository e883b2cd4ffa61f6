"""`/trend [periode]`: incidents per category against the period before, with a chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from analytics.chart import render_trend_chart
from analytics.periods import PeriodError, parse_period
from analytics.summary import render_trend_text
from analytics.trend import TrendReport, build_trend
from handlers.context import Conversation, initiatives_asked_about
from handlers.messages import ChatRef, Reply
from storage.directory import has_private_chat
from storage.models import OVERVIEW_ROLES, Initiative
from storage.trends import incident_facts

MAX_INITIATIVES_PER_ANSWER = 3


@dataclass(frozen=True)
class TrendAnswer:
    report: TrendReport
    text: str
    chart: bytes


def trend_answer(
    session: Session,
    initiative: Initiative,
    period_text: str,
    now: datetime,
    zone: ZoneInfo,
) -> TrendAnswer:
    """The trend of one initiative for what a coordinator asked; raises PeriodError."""
    language = initiative.language
    current, previous = parse_period(period_text, now, zone, language)
    facts = incident_facts(session, initiative.id, previous.start, current.end)
    report = build_trend(initiative.name, facts, current, previous, zone)
    return TrendAnswer(
        report, render_trend_text(report, language), render_trend_chart(report, language)
    )


def handle_trend(conversation: Conversation, args: str) -> list[Reply]:
    """Answer coordinators and partners with the trend; refuse others politely."""
    session, message = conversation.session, conversation.message
    initiatives = initiatives_asked_about(
        conversation, OVERVIEW_ROLES, "trend_command_not_allowed", "trend_command_no_initiative"
    )
    if isinstance(initiatives, Reply):
        return [initiatives]
    services = conversation.services
    private = ChatRef(message.chat.channel, message.sender.external_id, None, is_group=False)
    in_group = message.chat.is_group
    send_privately = in_group and has_private_chat(
        session, message.chat.channel, message.sender.external_id
    )
    target = private if send_privately else message.chat
    replies: list[Reply] = []
    for initiative in initiatives[:MAX_INITIATIVES_PER_ANSWER]:
        try:
            answer = trend_answer(session, initiative, args, services.now(), services.zone)
        except PeriodError as error:
            return [conversation.answer("trend_command_bad_period", problem=str(error))]
        replies.append(Reply(chat=target, text=answer.text, image=answer.chart))
    if send_privately:
        replies.append(conversation.answer("trend_command_sent_privately"))
    return replies
