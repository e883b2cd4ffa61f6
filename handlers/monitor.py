"""`/monitor aan|uit`: a coordinator opts the initiative in or out of the Communitymonitor."""

from __future__ import annotations

from handlers.context import Conversation
from handlers.messages import Reply
from handlers.start import coordinator_names
from storage.models import Role

ON_WORDS = frozenset({"aan", "ja", "on", "yes"})
OFF_WORDS = frozenset({"uit", "nee", "off", "no"})


def handle_monitor(conversation: Conversation, args: str) -> list[Reply]:
    """Show whether the initiative takes part; a coordinator switches it on or off."""
    initiative, member = conversation.initiative, conversation.member
    if initiative is None or member is None:
        return [conversation.say("monitor_in_group")]
    word = args.strip().lower()
    if word:
        if word not in ON_WORDS | OFF_WORDS:
            return [conversation.answer("monitor_unreadable")]
        if member.role != Role.COORDINATOR.value:
            names = coordinator_names(conversation.session, initiative.id, conversation.language)
            return [conversation.answer("monitor_only_coordinators", coordinators=names)]
        initiative.monitor_opt_in = word in ON_WORDS
    key = "monitor_on" if initiative.monitor_opt_in else "monitor_off"
    return [conversation.answer(key, initiative=initiative.name)]
