"""A Telegram group post, through the real web app and the Bot API stand-in, to a stored labelled row."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from storage import inbox
from storage.db import Database
from storage.models import (
    Chat,
    InboundUpdate,
    InboxStatus,
    Initiative,
    Member,
    Message,
    OutboxMessage,
    OutboxStatus,
)
from tests.conftest import LiveBot, LiveBotFactory
from tests.standins.telegram_api import TelegramStandIn, admin
from tests.telegram_updates import (
    GROUP_ID,
    bot_added,
    group_message,
    group_upgraded,
    private_message,
    user,
)
from tests.waiting import wait_until


def messages(db: Database) -> list[Message]:
    with db.unit_of_work() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def count(db: Database, model: type) -> int:
    with db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def inbox_done(db: Database) -> bool:
    with db.unit_of_work() as session:
        return not session.scalar(
            select(func.count()).where(InboundUpdate.status == InboxStatus.PENDING.value)
        )


def test_group_post_becomes_labelled_row(live_bot: LiveBot, db: Database) -> None:
    response = live_bot.post_update(
        group_message("Vannacht is er bij nr 14 ingebroken, achterdeur opengebroken en laptop weg")
    )
    assert response.status_code == 200
    wait_until(lambda: messages(db))
    [stored] = messages(db)
    assert (stored.kind, stored.category, stored.urgent) == ("signaal", "inbraak", False)
    assert stored.model_version == live_bot.runtime.model_version
    assert 0 < stored.confidence <= 1


def test_urgent_burglary_gets_saar_reminder(
    live_bot: LiveBot, telegram_api: TelegramStandIn
) -> None:
    update = group_message(
        "NU iemand aan het inbreken bij nr 8!! hij staat met een koevoet aan de voordeur"
    )
    assert live_bot.post_update(update).status_code == 200
    [call] = telegram_api.wait_for(1)
    assert "112" in call.params["text"] and "SAAR" in call.params["text"]
    assert int(call.params["chat_id"]) == GROUP_ID
    assert call.params["reply_parameters"]["message_id"] == update["message"]["message_id"]


def test_everyday_post_gets_no_reply(
    live_bot: LiveBot, db: Database, telegram_api: TelegramStandIn
) -> None:
    live_bot.post_update(group_message("Goedemorgen allemaal, fijne dag!"))
    wait_until(lambda: messages(db))
    assert messages(db)[0].kind == "overig"
    wait_until(lambda: inbox_done(db))
    assert telegram_api.sent() == []


def test_wrong_or_missing_secret_is_refused_and_nothing_stored(
    live_bot: LiveBot, db: Database
) -> None:
    update = group_message("Er loopt iemand bij de schuurtjes te kijken")
    assert live_bot.post_update(update, secret="wrong").status_code == 403
    assert live_bot.post_update(update, secret=None).status_code == 403
    assert (
        live_bot.http.post(
            f"{live_bot.url}/telegram",
            content=b"not even json",
            headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
        ).status_code
        == 403
    )
    assert count(db, InboundUpdate) == 0
    assert messages(db) == []


def test_duplicate_delivery_gives_one_row_and_one_reply(
    live_bot: LiveBot, db: Database, telegram_api: TelegramStandIn
) -> None:
    update = group_message("Brand!! Er komt rook uit de garage van nr 3, nu!")
    for _ in range(3):
        assert live_bot.post_update(update).status_code == 200
    telegram_api.wait_for(1)
    wait_until(lambda: inbox_done(db))
    time.sleep(0.3)
    assert len(messages(db)) == 1
    assert count(db, InboundUpdate) == 1
    assert len(telegram_api.sent()) == 1


def test_malformed_json_and_unknown_updates_are_handled(live_bot: LiveBot, db: Database) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-webhook-token-for-tests"}
    url = f"{live_bot.url}/telegram"
    assert live_bot.http.post(url, content=b"{not json", headers=headers).status_code == 400
    assert live_bot.http.post(url, json={"message": {}}, headers=headers).status_code == 400
    assert live_bot.http.post(url, json=[1, 2], headers=headers).status_code == 400
    assert live_bot.http.post(url, json={"update_id": "7"}, headers=headers).status_code == 400
    assert count(db, InboundUpdate) == 0
    # A kind of update this bot version does not know, and an edit: stored, done, no message.
    assert (
        live_bot.post_update({"update_id": 987654, "some_future_update": {"x": 1}}).status_code
        == 200
    )
    edited = group_message("aangepaste tekst")
    edited["edited_message"] = edited.pop("message")
    assert live_bot.post_update(edited).status_code == 200
    # A known kind the library cannot read: kept as failed for an operator, not retried.
    broken = {"update_id": 987656, "message": {"message_id": 1, "text": "hoi"}}
    assert live_bot.post_update(broken).status_code == 200
    live_bot.post_update(group_message("Er staat al dagen een kapotte koelkast bij de container"))
    wait_until(lambda: messages(db))
    wait_until(lambda: inbox_done(db))
    with db.unit_of_work() as session:
        statuses = {row.external_id: row.status for row in session.scalars(select(InboundUpdate))}
        unreadable = session.scalars(
            select(InboundUpdate).where(InboundUpdate.external_id == "987656")
        ).one()
    assert statuses.pop("987656") == InboxStatus.FAILED.value
    assert unreadable.attempts == 1 and unreadable.payload is not None
    assert set(statuses.values()) == {InboxStatus.DONE.value}
    assert len(messages(db)) == 1
    assert live_bot.http.get(f"{live_bot.url}/healthz").json()["status"] == "ok"


def test_processed_payloads_are_not_kept(live_bot: LiveBot, db: Database) -> None:
    live_bot.post_update(group_message("Bel me op 06-12345678 als je die man weer ziet"))
    wait_until(lambda: messages(db))
    wait_until(lambda: inbox_done(db))
    with db.unit_of_work() as session:
        [row] = session.scalars(select(InboundUpdate))
    assert row.payload is None
    assert "12345678" not in messages(db)[0].text


def test_restart_processes_stored_updates_once(
    live_bots: LiveBotFactory, db: Database, telegram_api: TelegramStandIn
) -> None:
    # As after a crash right after answering 200: the deliveries are stored, none processed.
    with db.unit_of_work() as session:
        for text in (
            "Goedemorgen allemaal, fijne zondag!",
            "NU vechtpartij op het plein, iemand ligt op de grond!",
        ):
            update = group_message(text)
            inbox.store(session, "telegram", str(update["update_id"]), json.dumps(update))
    assert count(db, Message) == 0
    live_bots.start()
    wait_until(lambda: len(messages(db)) == 2)
    telegram_api.wait_for(1)
    live_bots.stop()
    live_bots.start()
    time.sleep(0.5)
    assert len(messages(db)) == 2
    assert len(telegram_api.sent()) == 1


def test_rate_limited_reply_is_retried_after_retry_after(
    live_bot: LiveBot, db: Database, telegram_api: TelegramStandIn
) -> None:
    telegram_api.fail_next("sendMessage", 429, retry_after=1)
    live_bot.post_update(
        group_message("Help er ligt een oude man bewusteloos op de stoep bij de Spar, nu")
    )
    first, second = telegram_api.wait_for(2)
    assert second.at - first.at >= 0.9, "waited for retry_after before trying again"
    wait_until(lambda: count_sent(db) == 1)
    with db.unit_of_work() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert row.status == OutboxStatus.SENT.value


def count_sent(db: Database) -> int:
    with db.unit_of_work() as session:
        return int(
            session.scalar(
                select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT.value)
            )
            or 0
        )


def test_failed_update_is_kept_for_retry_and_does_not_block_the_chat(
    live_bot: LiveBot, db: Database, telegram_api: TelegramStandIn
) -> None:
    telegram_api.fail_next("getChatAdministrators", 500)
    live_bot.post_update(group_message("/start", sender=user(1, "Henk")))
    live_bot.post_update(group_message("Lantaarnpaal bij het speelveld is al een week kapot"))
    wait_until(lambda: messages(db))
    with db.unit_of_work() as session:
        start = session.scalars(select(InboundUpdate).order_by(InboundUpdate.id)).first()
    assert start is not None and start.status == InboxStatus.PENDING.value
    assert start.attempts == 1 and start.payload is not None and start.last_error


def test_bot_added_to_group_binds_it_and_makes_admins_coordinators(
    live_bot: LiveBot, db: Database, telegram_api: TelegramStandIn
) -> None:
    telegram_api.admins[GROUP_ID] = [admin(11, "Anja", "creator"), admin(12, "Piet")]
    live_bot.post_update(bot_added())
    [welcome] = telegram_api.wait_for(1)
    assert "Anja" in welcome.params["text"] and "Piet" in welcome.params["text"]
    with db.unit_of_work() as session:
        roles = {m.display_name: m.role for m in session.scalars(select(Member))}
    assert roles == {"Anja": "coordinator", "Piet": "coordinator"}


def test_only_coordinators_give_roles(
    live_bot: LiveBot, db: Database, telegram_api: TelegramStandIn
) -> None:
    telegram_api.admins[GROUP_ID] = [admin(11, "Anja", "creator")]
    live_bot.post_update(bot_added())
    telegram_api.wait_for(1)
    jan = user(21, "Jan", username="wijkagentjan")
    live_bot.post_update(group_message("Goedemiddag, ik ben de nieuwe wijkagent", sender=jan))
    live_bot.post_update(group_message("/rol @wijkagentjan politie", sender=user(22, "Kees")))
    refusal = telegram_api.wait_for(2)[1]
    assert "coördinator" in refusal.params["text"]
    live_bot.post_update(group_message("/rol @wijkagentjan politie", sender=user(11, "Anja")))
    confirmation = telegram_api.wait_for(3)[2]
    assert "Jan" in confirmation.params["text"]
    live_bot.post_update(group_message("/rol", sender=jan))
    overview = telegram_api.wait_for(4)[3].params
    assert "Anja" in overview["text"] and "Jan (politie)" in overview["text"]
    with db.unit_of_work() as session:
        member = session.scalars(select(Member).where(Member.display_name == "Jan")).one()
    assert member.role == "politie"


def test_private_help_answers_in_dutch(live_bot: LiveBot, telegram_api: TelegramStandIn) -> None:
    live_bot.post_update(private_message("/help"))
    [answer] = telegram_api.wait_for(1)
    assert "/rol" in answer.params["text"] and "coördinator" in answer.params["text"].lower()


OLD_GROUP_ID = -4_000_123
NEW_SUPERGROUP_ID = -1_009_876_543_210


def chats(db: Database) -> list[tuple[str, int]]:
    with db.unit_of_work() as session:
        return [(c.external_id, c.initiative_id) for c in session.scalars(select(Chat))]


def test_group_upgraded_to_supergroup_keeps_its_initiative_roles_and_history(
    live_bot: LiveBot, db: Database, telegram_api: TelegramStandIn
) -> None:
    telegram_api.admins[OLD_GROUP_ID] = [admin(11, "Anja", "creator")]
    live_bot.post_update(bot_added(chat_id=OLD_GROUP_ID))
    telegram_api.wait_for(1)
    live_bot.post_update(
        group_message(
            "Vannacht is bij de school een fiets uit de stalling gestolen",
            chat_id=OLD_GROUP_ID,
            message_id=7,
        )
    )
    wait_until(lambda: len(messages(db)) == 1)
    [(_, initiative_id)] = chats(db)

    for update in group_upgraded(OLD_GROUP_ID, NEW_SUPERGROUP_ID):
        assert live_bot.post_update(update).status_code == 200
    # The supergroup numbers its messages afresh: its 7th is not the old group's 7th.
    live_bot.post_update(
        group_message(
            "Wie heeft er zaterdag tijd voor de avondronde?",
            chat_id=NEW_SUPERGROUP_ID,
            message_id=7,
        )
    )
    wait_until(lambda: len(messages(db)) == 2)
    assert chats(db) == [(str(NEW_SUPERGROUP_ID), initiative_id)]
    old, new = messages(db)
    assert (old.initiative_id, new.initiative_id) == (initiative_id, initiative_id)
    assert old.channel_message_id == f"{OLD_GROUP_ID}:7" and new.channel_message_id == "7"

    # Anja is still the coordinator there, and the bot answers in the supergroup.
    live_bot.post_update(group_message("/rol", sender=user(11, "Anja"), chat_id=NEW_SUPERGROUP_ID))
    answer = telegram_api.wait_for(2)[1].params
    assert int(answer["chat_id"]) == NEW_SUPERGROUP_ID
    assert "Coördinatoren: Anja" in answer["text"]
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Initiative)) == 1


def test_reply_to_an_upgraded_group_follows_it_to_the_supergroup(
    live_bot: LiveBot, db: Database, telegram_api: TelegramStandIn
) -> None:
    telegram_api.admins[OLD_GROUP_ID] = [admin(11, "Anja", "creator")]
    # The bot missed the upgrade: Telegram refuses the welcome to the old id and names the new.
    telegram_api.fail_next("sendMessage", 400, migrate_to_chat_id=NEW_SUPERGROUP_ID)
    live_bot.post_update(bot_added(chat_id=OLD_GROUP_ID))
    refused, delivered = telegram_api.wait_for(2)
    assert int(refused.params["chat_id"]) == OLD_GROUP_ID
    assert int(delivered.params["chat_id"]) == NEW_SUPERGROUP_ID
    assert delivered.params["text"] == refused.params["text"]
    wait_until(lambda: count_sent(db) == 1)
    assert [external_id for external_id, _ in chats(db)] == [str(NEW_SUPERGROUP_ID)]
    # Telegram's own notice of the upgrade, arriving later, changes nothing more.
    for update in group_upgraded(OLD_GROUP_ID, NEW_SUPERGROUP_ID):
        live_bot.post_update(update)
    wait_until(lambda: inbox_done(db))
    assert [external_id for external_id, _ in chats(db)] == [str(NEW_SUPERGROUP_ID)]
