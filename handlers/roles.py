"""`/rol`: who coordinates, and coordinators naming others."""

from __future__ import annotations

from handlers.context import Conversation
from handlers.messages import Reply
from handlers.start import coordinator_names
from handlers.texts import text
from storage.directory import find_member, find_member_by_username, members_with_roles
from storage.models import PARTNER_ROLES, Member, Role

ASSIGNABLE_ROLES = {
    "lid": Role.LID,
    "coordinator": Role.COORDINATOR,
    "coördinator": Role.COORDINATOR,
    "politie": Role.POLITIE,
    "wijkagent": Role.POLITIE,
    "handhaving": Role.HANDHAVING,
    "boa": Role.HANDHAVING,
    "gemeente": Role.GEMEENTE,
}


def role_label(role: str, language: str) -> str:
    return text(f"role_{role}", language)


def _overview(conversation: Conversation) -> list[Reply]:
    assert conversation.initiative is not None and conversation.member is not None
    session, initiative, language = (
        conversation.session,
        conversation.initiative,
        conversation.language,
    )
    partners = members_with_roles(session, initiative.id, PARTNER_ROLES)
    partner_names = [
        f"{member.display_name} ({role_label(member.role, language)})" for member in partners
    ]
    return [
        conversation.say(
            "roles_overview",
            group=initiative.name,
            coordinators=coordinator_names(session, initiative.id, language),
            partners=", ".join(partner_names) or text("nobody", language),
            own_role=role_label(conversation.member.role, language),
        )
    ]


def _target_member(conversation: Conversation, words: list[str]) -> Member | None:
    assert conversation.chat is not None
    mention = next((word for word in words if word.startswith("@")), None)
    if mention:
        return find_member_by_username(
            conversation.session, conversation.chat.initiative_id, mention
        )
    replied = conversation.message.reply_to
    if replied and replied.sender:
        return find_member(
            conversation.session,
            conversation.chat.initiative_id,
            conversation.chat.channel,
            replied.sender.external_id,
        )
    return None


def handle_role(conversation: Conversation, args: str) -> list[Reply]:
    """Show the roles, or (coordinators only) give someone a role."""
    if conversation.initiative is None or conversation.member is None:
        return [conversation.say("roles_private")]
    words = args.split()
    if not words:
        return _overview(conversation)
    role_word = next((word.lower() for word in words if not word.startswith("@")), "")
    if role_word == Role.VERENIGING.value:
        return [conversation.answer("role_reserved")]
    role = ASSIGNABLE_ROLES.get(role_word)
    if role is None:
        return [conversation.answer("role_unknown")]
    if conversation.member.role != Role.COORDINATOR.value:
        return [
            conversation.answer(
                "role_only_coordinators",
                coordinators=coordinator_names(
                    conversation.session, conversation.initiative.id, conversation.language
                ),
            )
        ]
    has_target = any(word.startswith("@") for word in words) or conversation.message.reply_to
    if not has_target:
        return [conversation.answer("role_which_member", role=role_word)]
    target = _target_member(conversation, words)
    if target is None:
        who = next((word for word in words if word.startswith("@")), None) or text(
            "that_person", conversation.language
        )
        return [conversation.answer("role_member_not_found", who=who)]
    coordinators = members_with_roles(
        conversation.session, conversation.initiative.id, [Role.COORDINATOR]
    )
    if (
        target.role == Role.COORDINATOR.value
        and role != Role.COORDINATOR
        and len(coordinators) == 1
    ):
        return [conversation.answer("role_last_coordinator")]
    target.role = role.value
    return [
        conversation.answer(
            "role_set",
            name=target.display_name or target.username or "?",
            role=role_label(role.value, conversation.language),
        )
    ]
