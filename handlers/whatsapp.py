"""WhatsApp one-to-one: joining with a code, STOP, and a member's report passed on as the
initiative chose (to its coordinators, to its Telegram group, or to nobody)."""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Conversation
from handlers.group_post import is_urgent_signal, label_and_store
from handlers.messages import ChatRef, Reply
from handlers.rsvp_words import handle_rsvp_word
from handlers.texts import text
from storage.directory import has_private_chat, members_with_roles
from storage.models import Channel, Chat, Role, WhatsAppRelay
from storage.whatsapp import forget, initiative_for_code, join, join_code

WHATSAPP = Channel.WHATSAPP.value
TELEGRAM = Channel.TELEGRAM.value
RELAY_CHOICES = {
    "coordinatoren": WhatsAppRelay.COORDINATORS,
    "coördinatoren": WhatsAppRelay.COORDINATORS,
    "coordinators": WhatsAppRelay.COORDINATORS,
    "groep": WhatsAppRelay.GROUP,
    "group": WhatsAppRelay.GROUP,
    "niemand": WhatsAppRelay.NOBODY,
    "uit": WhatsAppRelay.NOBODY,
    "nobody": WhatsAppRelay.NOBODY,
}
# Kinds worth passing on; chatter and thanks stay with the bot.
RELAYED_KINDS = frozenset({"signaal", "terugkoppeling", "afspraak", "activiteit", "idee"})


def display_number(number: str | None) -> str:
    return (number or "").removeprefix("whatsapp:")


def handle_join(conversation: Conversation, args: str) -> list[Reply]:
    """`AANMELDEN <code>`: a WhatsApp number joins the initiative whose code it gives."""
    message = conversation.message
    if message.chat.channel != WHATSAPP:
        return [conversation.answer("whatsapp_join_only_whatsapp")]
    if not args.strip():
        return [conversation.say("whatsapp_join_no_code")]
    initiative = initiative_for_code(conversation.session, args)
    if initiative is None or initiative.is_association:
        return [conversation.say("whatsapp_join_unknown_code", code=args.strip()[:20])]
    join(
        conversation.session,
        message.sender.external_id,
        initiative,
        message.sender.first_name,
        message.sent_at,
    )
    return [
        Reply(
            chat=message.chat,
            text=text("whatsapp_joined", initiative.language, group=initiative.name),
        )
    ]


def handle_stop(conversation: Conversation, _args: str) -> list[Reply]:
    """`STOP`: the number leaves its initiative and the bot forgets it."""
    message = conversation.message
    if message.chat.channel != WHATSAPP:
        return [conversation.answer("whatsapp_stop_only_whatsapp")]
    forget(conversation.session, message.sender.external_id, message.sent_at)
    return [conversation.say("whatsapp_stopped")]


def handle_join_code(conversation: Conversation, args: str) -> list[Reply]:
    """`/aanmeldcode [nieuw]`: coordinators get (or renew) the code members join WhatsApp with."""
    initiative, member = conversation.initiative, conversation.member
    if initiative is None or member is None:
        return [conversation.say("join_code_in_group")]
    if member.role != Role.COORDINATOR.value:
        return [conversation.answer("join_code_only_coordinators")]
    renew = args.strip().lower() in ("nieuw", "new", "vernieuw")
    code = join_code(conversation.session, initiative, renew=renew)
    number = display_number(conversation.services.whatsapp_number)
    key = "join_code" if number else "join_code_no_whatsapp"
    return [conversation.say(key, code=code, number=number, group=initiative.name)]


def handle_relay_choice(conversation: Conversation, args: str) -> list[Reply]:
    """`/doorsturen coordinatoren|groep|niemand`: where WhatsApp reports go."""
    initiative, member = conversation.initiative, conversation.member
    if initiative is None or member is None:
        return [conversation.say("join_code_in_group")]
    choice = RELAY_CHOICES.get(args.strip().lower())
    if choice is None:
        return [
            conversation.say(
                "relay_current",
                current=text(f"relay_{initiative.whatsapp_relay}", conversation.language),
            )
        ]
    if member.role != Role.COORDINATOR.value:
        return [conversation.answer("relay_only_coordinators")]
    initiative.whatsapp_relay = choice.value
    return [
        conversation.say("relay_set", current=text(f"relay_{choice.value}", conversation.language))
    ]


def _relay_targets(conversation: Conversation) -> list[ChatRef]:
    """Where this initiative wants its WhatsApp reports: coordinators, or its Telegram groups."""
    session, initiative = conversation.session, conversation.initiative
    assert initiative is not None
    if initiative.whatsapp_relay == WhatsAppRelay.GROUP.value:
        groups = session.scalars(
            select(Chat).where(
                Chat.initiative_id == initiative.id, Chat.channel == TELEGRAM, Chat.is_group
            )
        )
        return [ChatRef(TELEGRAM, chat.external_id, chat.title, True) for chat in groups]
    if initiative.whatsapp_relay != WhatsAppRelay.COORDINATORS.value:
        return []
    sender = conversation.message.sender.external_id
    targets = []
    for coordinator in members_with_roles(session, initiative.id, [Role.COORDINATOR]):
        if coordinator.external_id == sender:
            continue
        if coordinator.channel == WHATSAPP or (
            coordinator.channel == TELEGRAM
            and has_private_chat(session, TELEGRAM, coordinator.external_id)
        ):
            targets.append(ChatRef(coordinator.channel, coordinator.external_id, None, False))
    return targets


def handle_whatsapp_post(conversation: Conversation) -> list[Reply]:
    """Store and label the report like a group post, pass it on, and tell the sender where it went."""
    message = conversation.message
    if not message.text:
        return [conversation.say("whatsapp_text_only")]
    answered = handle_rsvp_word(conversation)
    if answered is not None:
        return answered
    labels, new = label_and_store(conversation)
    if not new:
        return []  # the same message again: answered the first time
    replies = [conversation.answer("saar_reminder")] if is_urgent_signal(labels) else []
    if labels.kind not in RELAYED_KINDS:
        return [*replies, conversation.say("whatsapp_post_noted")]
    language = conversation.language
    relay_text = text(
        "whatsapp_relay_urgent" if is_urgent_signal(labels) else "whatsapp_relay",
        language,
        name=message.sender.first_name or text("that_person", language),
        text=message.text,
    )
    targets = _relay_targets(conversation)
    replies += [Reply(chat=target, text=relay_text) for target in targets]
    if not targets:
        thanks = "whatsapp_post_stored"
    elif targets[0].is_group:
        thanks = "whatsapp_post_to_group"
    else:
        thanks = "whatsapp_post_to_coordinators"
    return [*replies, conversation.say(thanks)]
