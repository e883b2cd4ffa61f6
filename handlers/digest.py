"""The weekly digest: each coordinator gets the week's trend, its chart and one next step.

Queued by the scheduler; each (initiative, coordinator, ISO week) has one outbox dedupe key, so a
digest goes out once however often the job runs, after restarts and with two schedulers.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.summary import suggested_next_step
from handlers.messages import ChatRef, Reply
from handlers.texts import text
from handlers.trend import trend_answer
from storage.directory import has_private_chat, initiative_chats, members_with_roles
from storage.models import Channel, Initiative, Member, OutboxMessage, Role
from storage.outbox import enqueue

# A digest missed (the clock was down) is still sent this long after its time, not later.
CATCH_UP = timedelta(days=2)
DIGEST_PERIOD = "vorige week"


def scheduled_moment(initiative: Initiative, now: datetime, zone: ZoneInfo) -> datetime:
    """This week's digest time of an initiative, as an aware datetime."""
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    day = monday + timedelta(days=initiative.digest_weekday)
    return datetime.combine(
        day, time(initiative.digest_hour, initiative.digest_minute), tzinfo=zone
    )


def week_key(moment: datetime, zone: ZoneInfo) -> str:
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def digest_key(initiative: Initiative, member: Member, week: str) -> str:
    return f"digest:{initiative.id}:{member.id}:{week}"


def _recipients(session: Session, initiative: Initiative) -> tuple[list[Member], list[Member]]:
    """Coordinators the bot may write to privately, and those it may not (yet)."""
    reachable, unreachable = [], []
    for member in members_with_roles(session, initiative.id, [Role.COORDINATOR]):
        if has_private_chat(session, member.channel, member.external_id):
            reachable.append(member)
        else:
            unreachable.append(member)
    return reachable, unreachable


def _ask_for_private_chat(session: Session, initiative: Initiative, members: list[Member]) -> int:
    """Tell coordinators in their group, once ever each, how to get the digest privately.

    Telegram lets a bot write to someone only after they started a chat with it.
    """
    groups = [
        chat
        for chat in initiative_chats(session, initiative.id)
        if chat.channel == Channel.TELEGRAM.value
    ]
    if not groups:
        return 0
    group = ChatRef(groups[0].channel, groups[0].external_id, groups[0].title, True)
    return enqueue(
        session,
        [
            Reply(
                group,
                text("digest_start_private_chat", initiative.language, name=member.display_name),
                key=f"digest-ask-private:{initiative.id}:{member.id}",
            )
            for member in members
            if member.channel == Channel.TELEGRAM.value
        ],
    )


def _already_queued(session: Session, keys: list[str]) -> set[str]:
    return set(
        session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys)))
    )


def queue_weekly_digests(session: Session, now: datetime, zone: ZoneInfo) -> int:
    """Queue every digest that is due and not yet queued; returns how many were queued."""
    queued = 0
    for initiative in session.scalars(select(Initiative).order_by(Initiative.id)):
        moment = scheduled_moment(initiative, now, zone)
        if not moment <= now < moment + CATCH_UP:
            continue
        week = week_key(moment, zone)
        recipients, unreachable = _recipients(session, initiative)
        queued += _ask_for_private_chat(session, initiative, unreachable)
        keys = {digest_key(initiative, member, week): member for member in recipients}
        done = _already_queued(session, list(keys))
        waiting = {key: member for key, member in keys.items() if key not in done}
        if not waiting:
            continue
        answer = trend_answer(session, initiative, DIGEST_PERIOD, moment, zone)
        body = f"{answer.text}\n\n{suggested_next_step(answer.report, initiative.language)}"
        for key, member in waiting.items():
            chat = ChatRef(member.channel, member.external_id, None, is_group=False)
            queued += enqueue(session, [Reply(chat, body, image=answer.chart, key=key)])
    return queued
