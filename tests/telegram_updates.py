"""Build Bot API update payloads as Telegram sends them to a webhook."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.standins.telegram_api import BOT_USER

GROUP_ID = -1001234567890
_update_ids = itertools.count(100_000)
_message_ids = itertools.count(1)


def user(
    user_id: int = 4242, first_name: str = "Anja", username: str | None = None
) -> dict[str, Any]:
    person: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if username:
        person["username"] = username
    return person


def group_message(
    text: str,
    sender: dict[str, Any] | None = None,
    chat_id: int = GROUP_ID,
    title: str = "Buurtpreventie Merelbuurt",
    reply_to: dict[str, Any] | None = None,
    update_id: int | None = None,
    message_id: int | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id if message_id is not None else next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "supergroup", "title": title},
        "from": sender or user(),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(text.split(" ", 1)[0])}
        ]
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return {
        "update_id": update_id if update_id is not None else next(_update_ids),
        "message": message,
    }


def private_message(text: str, sender: dict[str, Any] | None = None) -> dict[str, Any]:
    who = sender or user()
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_message_ids),
            "date": int(time.time()),
            "chat": {"id": who["id"], "type": "private", "first_name": who["first_name"]},
            "from": who,
            "text": text,
        },
    }


def bot_added(
    chat_id: int = GROUP_ID,
    title: str = "Buurtpreventie Merelbuurt",
    by: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "my_chat_member": {
            "chat": {"id": chat_id, "type": "supergroup", "title": title},
            "from": by or user(),
            "date": int(time.time()),
            "old_chat_member": {"status": "left", "user": BOT_USER},
            "new_chat_member": {"status": "member", "user": BOT_USER},
        },
    }


def button_press(
    data: str,
    bot_message_id: int,
    sender: dict[str, Any] | None = None,
    chat_id: int = GROUP_ID,
    title: str = "Buurtpreventie Merelbuurt",
) -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cb{next(_update_ids)}",
            "from": sender or user(),
            "chat_instance": "ci-1",
            "data": data,
            "message": {
                "message_id": bot_message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "supergroup", "title": title},
                "from": BOT_USER,
                "text": "…",
            },
        },
    }


def bot_message(message_id: int, chat_id: int = GROUP_ID) -> dict[str, Any]:
    """A message of the bot's, as it appears in `reply_to_message`."""
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "supergroup", "title": "Buurtpreventie Merelbuurt"},
        "from": BOT_USER,
        "text": "…",
    }


def members_joined(
    *people: dict[str, Any], chat_id: int = GROUP_ID, title: str = "Buurtpreventie Merelbuurt"
) -> dict[str, Any]:
    """The service message Telegram sends when people join a group (or are added to it)."""
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "supergroup", "title": title},
            "from": people[0],
            "new_chat_members": list(people),
        },
    }


def group_upgraded(
    old_chat_id: int,
    new_chat_id: int,
    title: str = "Buurtpreventie Merelbuurt",
    by: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two service messages of a group upgraded to a supergroup: the old group's
    `migrate_to_chat_id` and the new supergroup's first message, `migrate_from_chat_id`."""
    now = int(time.time())
    to_new = {
        "message_id": next(_message_ids),
        "date": now,
        "chat": {"id": old_chat_id, "type": "group", "title": title},
        "from": by or user(),
        "migrate_to_chat_id": new_chat_id,
    }
    from_old = {
        "message_id": 1,
        "date": now,
        "chat": {"id": new_chat_id, "type": "supergroup", "title": title},
        "from": by or user(),
        "migrate_from_chat_id": old_chat_id,
    }
    return (
        {"update_id": next(_update_ids), "message": to_new},
        {"update_id": next(_update_ids), "message": from_old},
    )
