"""`/weekoverzicht [dag] [tijd]`: when coordinators get the weekly digest (Monday 08:00 by default)."""

from __future__ import annotations

import re

from analytics.names import weekday_name
from handlers.context import Conversation
from handlers.messages import Reply
from handlers.start import coordinator_names
from handlers.texts import text
from storage.models import Role

_TIME = re.compile(r"\b([01]?\d|2[0-3])(?:[:.]([0-5]\d)|\s*u(?:ur)?\b)")
_ENGLISH_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_weekday(words: str, language: str) -> int | None:
    """Monday is 0: a Dutch or English day name, or its short form (`ma`, `do`, `fri`)."""
    dutch = text("trend_weekdays", language).lower().split()
    for word in words.lower().replace(".", " ").split():
        for number, names in enumerate(zip(dutch, _ENGLISH_DAYS, strict=True)):
            short = 2 <= len(word) <= 3 and any(name.startswith(word) for name in names)
            if short or word in names:
                return number
    return None


def handle_digest_schedule(conversation: Conversation, args: str) -> list[Reply]:
    """Show when the digest comes; a coordinator can move it to another day or time."""
    initiative, member = conversation.initiative, conversation.member
    if initiative is None or member is None:
        return [conversation.say("digest_schedule_in_group")]
    language = conversation.language
    if args.strip():
        if member.role != Role.COORDINATOR.value:
            names = coordinator_names(conversation.session, initiative.id, language)
            return [conversation.answer("digest_schedule_only_coordinators", coordinators=names)]
        day = parse_weekday(args, language)
        moment = _TIME.search(args)
        if day is None and moment is None:
            return [conversation.answer("digest_schedule_unreadable")]
        if day is not None:
            initiative.digest_weekday = day
        if moment is not None:
            initiative.digest_hour, initiative.digest_minute = int(moment[1]), int(moment[2] or 0)
    return [
        conversation.answer(
            "digest_schedule_now",
            day=weekday_name(initiative.digest_weekday, language),
            time=f"{initiative.digest_hour:02d}:{initiative.digest_minute:02d}",
        )
    ]
