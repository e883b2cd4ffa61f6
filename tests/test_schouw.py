"""`/schouw`: plan in natural Dutch, RSVP with buttons, reminders, and the report afterwards."""

from __future__ import annotations

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from handlers.schouw_schedule import queue_schouw_messages
from storage.db import Database
from storage.models import Event, EventStatus, Message, OutboxMessage, Rsvp
from tests.conftest import LiveBot
from tests.standins.telegram_api import Call, TelegramStandIn, admin
from tests.telegram_updates import (
    GROUP_ID,
    bot_added,
    bot_message,
    button_press,
    group_message,
    user,
)
from tests.waiting import wait_until

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
ANJA, KEES, JAN = user(11, "Anja"), user(30, "Kees"), user(31, "Jan", username="wijkagentjan")


def sent_message_id(db: Database, text_part: str) -> int:
    """The Bot API message id the stand-in gave the bot's message containing `text_part`."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with db.unit_of_work() as session:
            for row in session.scalars(select(OutboxMessage)):
                if text_part in row.text and row.channel_message_id:
                    return int(row.channel_message_id)
        time.sleep(0.05)
    raise AssertionError(f"no sent message with {text_part!r}")


def event_row(db: Database) -> Event:
    with db.unit_of_work() as session:
        return session.scalars(select(Event)).one()


def setup_group(live_bot: LiveBot, telegram_api: TelegramStandIn) -> None:
    telegram_api.admins[GROUP_ID] = [admin(11, "Anja", "creator")]
    live_bot.post_update(bot_added())
    telegram_api.wait_for(1)


def invitation(telegram_api: TelegramStandIn) -> Call:
    for call in telegram_api.sent():
        if "reply_markup" in call.params:
            return call
    raise AssertionError(f"no invitation with buttons: {[c.params for c in telegram_api.sent()]}")


def test_only_coordinators_plan_and_everyone_can_list(
    live_bot: LiveBot, telegram_api: TelegramStandIn
) -> None:
    setup_group(live_bot, telegram_api)
    live_bot.post_update(group_message("/schouw donderdag 19:30 bij de kerk", sender=KEES))
    assert "coördinator" in telegram_api.wait_for(2)[1].params["text"]
    live_bot.post_update(group_message("/schouw", sender=KEES))
    assert "geen schouw gepland" in telegram_api.wait_for(3)[2].params["text"]


def test_plan_rsvp_reminders_and_report(
    live_bot: LiveBot, db: Database, telegram_api: TelegramStandIn
) -> None:
    setup_group(live_bot, telegram_api)
    live_bot.post_update(group_message("Hallo, Jan hier, de wijkagent", sender=JAN))
    live_bot.post_update(group_message("/rol @wijkagentjan politie", sender=ANJA))
    telegram_api.wait_for(2)

    # The coordinator leaves out the time and place: the bot asks, she answers by replying.
    live_bot.post_update(group_message("/schouw donderdag", sender=ANJA))
    question = telegram_api.wait_for(3)[2]
    assert "de tijd en de plek" in question.params["text"]
    question_id = sent_message_id(db, "Bijna klaar")
    live_bot.post_update(
        group_message(
            "19:30, verzamelen bij de kerk met de wijkagent",
            sender=ANJA,
            reply_to=bot_message(question_id),
        )
    )
    telegram_api.wait_for(4)
    invite = invitation(telegram_api)
    assert "de kerk" in invite.params["text"] and "politie" in invite.params["text"]
    assert "donderdag" in invite.params["text"] and "19:30" in invite.params["text"]
    buttons = invite.params["reply_markup"]["inline_keyboard"][0]
    assert [b["text"] for b in buttons] == ["✅ Ik kom", "🤔 Misschien", "❌ Kan niet"]
    planned = event_row(db)
    assert planned.status == EventStatus.PLANNED.value
    assert planned.starts_at is not None
    local = planned.starts_at.astimezone(AMSTERDAM)
    assert (local.weekday(), local.hour, local.minute) == (3, 19, 30)

    # Members answer with the buttons; the invitation shows the counts.
    invite_id = sent_message_id(db, "Doe je mee?")
    yes, maybe = buttons[0]["callback_data"], buttons[1]["callback_data"]
    live_bot.post_update(button_press(maybe, invite_id, sender=KEES))
    live_bot.post_update(button_press(yes, invite_id, sender=KEES))  # changed his mind
    live_bot.post_update(button_press(yes, invite_id, sender=JAN))
    notices = telegram_api.wait_for(3, "answerCallbackQuery")
    assert "je komt" in notices[-1].params["text"]
    wait_until(
        lambda: any(
            "2 komen" in edit.params["text"] for edit in telegram_api.sent("editMessageText")
        )
    )
    time.sleep(1.5)  # any edit still queued would come now
    final = telegram_api.sent("editMessageText")[-1].params["text"]
    assert "2 komen" in final and "0 misschien" in final
    with db.unit_of_work() as session:
        assert len(list(session.scalars(select(Rsvp)))) == 2

    # The list shows it.
    live_bot.post_update(group_message("/schouw", sender=KEES))
    listing = telegram_api.wait_for(5)[-1]
    assert "de kerk" in listing.params["text"] and "2 komen" in listing.params["text"]

    # Reminders the day before and two hours before, each once.
    assert planned.starts_at is not None
    with db.unit_of_work() as session:
        assert (
            queue_schouw_messages(session, planned.starts_at - timedelta(hours=20), AMSTERDAM) == 1
        )
        assert (
            queue_schouw_messages(session, planned.starts_at - timedelta(hours=19), AMSTERDAM) == 0
        )
        assert (
            queue_schouw_messages(session, planned.starts_at - timedelta(hours=1), AMSTERDAM) == 1
        )
    reminders = [c for c in telegram_api.wait_for(7) if "⏰" in c.params["text"]]
    assert len(reminders) == 2 and "Jan" in reminders[0].params["text"]

    # Afterwards the organiser is asked for a report; its lines become signals.
    with db.unit_of_work() as session:
        assert (
            queue_schouw_messages(session, planned.starts_at + timedelta(hours=3), AMSTERDAM) == 1
        )
    request_id = sent_message_id(db, "Hoe ging de schouw")
    live_bot.post_update(
        group_message(
            "- lantaarnpaal kapot bij het fietspad naar de school\n"
            "- struiken bij het tunneltje zo hoog dat je er niet langs kunt kijken\n"
            "- losliggende stoeptegels voor de bakker",
            sender=ANJA,
            reply_to=bot_message(request_id),
        )
    )
    thanks = telegram_api.wait_for(9)[-1]
    assert "3 bevindingen" in thanks.params["text"]
    with db.unit_of_work() as session:
        findings = list(session.scalars(select(Message).where(Message.source == "schouw")))
        reported = session.scalars(select(Event)).one()
    assert len(findings) == 3 and all(m.kind == "signaal" for m in findings)
    assert sum(m.category == "openbare_ruimte" for m in findings) >= 2
    assert reported.status == EventStatus.REPORTED.value and reported.findings == 3
    assert reported.partners_present == "politie"


def test_unreadable_day_is_asked_again(live_bot: LiveBot, telegram_api: TelegramStandIn) -> None:
    setup_group(live_bot, telegram_api)
    live_bot.post_update(group_message("/schouw sint-juttemis 19:30 bij de kerk", sender=ANJA))
    answer = telegram_api.wait_for(2)[1]
    assert "sint-juttemis" in answer.params["text"]
