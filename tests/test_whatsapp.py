"""WhatsApp through Twilio: signed webhooks, join codes, STOP, the 24-hour window, statuses.

Everything goes through the real app on loopback and the real twilio client, aimed at a
stand-in of Twilio's REST API. Twilio signs for the bot's public URL (PUBLIC_URL); the app
itself is reached on loopback, as behind a reverse proxy.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select, update

from handlers.schouw_schedule import queue_schouw_messages
from storage.db import Database
from storage.models import (
    Chat,
    Event,
    InboundUpdate,
    Member,
    Message,
    OutboxMessage,
    PrivateChat,
    Role,
    utcnow,
)
from storage.retention import purge_expired
from storage.whatsapp import status_of
from tests.conftest import PUBLIC_URL, LiveBot, LiveBotFactory
from tests.standins.telegram_api import TelegramStandIn, admin
from tests.standins.twilio_api import TwilioStandIn
from tests.telegram_updates import GROUP_ID, bot_added, group_message, user
from tests.waiting import wait_until

NUMBER = "+31612345678"
COORDINATOR_NUMBER = "+31687654321"
ANJA = user(11, "Anja")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_sids = itertools.count(1)


def sid() -> str:
    return f"SM{next(_sids):032x}"


def post_inbound(
    bot: LiveBot,
    twilio_api: TwilioStandIn,
    body: str,
    number: str = NUMBER,
    message_sid: str | None = None,
) -> httpx.Response:
    params = twilio_api.inbound(number, body, message_sid or sid(), profile_name="Piet de Vries")
    return twilio_api.post_webhook(
        bot.http, f"{bot.url}/whatsapp", params, signed_url=f"{PUBLIC_URL}/whatsapp"
    )


def count(db: Database, model: type) -> int:
    with db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def texts_to(twilio_api: TwilioStandIn, number: str) -> list[str]:
    """What the number was sent: free text, or the text a template carried."""
    return [
        m.params.get("Body") or " ".join(json.loads(m.params["ContentVariables"]).values())
        for m in twilio_api.sent()
        if m.to == f"whatsapp:{number}"
    ]


def join_code_from_group(bot: LiveBot, telegram_api: TelegramStandIn) -> str:
    """The bot joins a Telegram group (Anja is admin, so coordinator) and Anja asks the code."""
    telegram_api.admins[GROUP_ID] = [admin(11, "Anja", "creator")]
    bot.post_update(bot_added())
    telegram_api.wait_for(1)
    bot.post_update(group_message("/aanmeldcode", ANJA))
    [*_, answer] = telegram_api.wait_for(2)
    found = re.search(r"AANMELDEN ([A-Z0-9]{6})", answer.params["text"])
    assert found, answer.params["text"]
    return found[1]


def joined(bot: LiveBot, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn) -> None:
    code = join_code_from_group(bot, telegram_api)
    assert post_inbound(bot, twilio_api, f"aanmelden {code.lower()}").status_code == 200
    wait_until(lambda: any("Welkom" in t for t in texts_to(twilio_api, NUMBER)))


def test_signed_inbound_message_is_stored_and_answered(
    whatsapp_bot: LiveBot, twilio_api: TwilioStandIn, db: Database
) -> None:
    response = post_inbound(whatsapp_bot, twilio_api, "Hallo, wat is dit?")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    [reply] = twilio_api.wait_for(1)
    assert reply.to == f"whatsapp:{NUMBER}" and reply.params["From"] == twilio_api.sender
    assert "AANMELDEN" in reply.params["Body"], "an unknown number is told how to join"
    assert reply.params["StatusCallback"] == f"{PUBLIC_URL}/whatsapp/status"
    with db.unit_of_work() as session:
        [stored] = session.scalars(select(InboundUpdate)).all()
        assert stored.channel == "whatsapp" and stored.payload is None, "payload cleared once done"


def test_bad_or_missing_signature_is_refused_and_nothing_stored(
    whatsapp_bot: LiveBot, twilio_api: TwilioStandIn, db: Database
) -> None:
    params = twilio_api.inbound(NUMBER, "inbraak bij de buren", sid())
    url = f"{whatsapp_bot.url}/whatsapp"
    forged = twilio_api.post_webhook(
        whatsapp_bot.http, url, params, signature="bm90IGEgc2lnbmF0dXJl"
    )
    missing = whatsapp_bot.http.post(url, data=params)
    # Signed for the loopback address the app sees, not for the public URL Twilio uses.
    wrong_url = twilio_api.post_webhook(whatsapp_bot.http, url, params, signed_url=url)
    tampered = dict(params, Body="iets anders")
    tampered_response = twilio_api.post_webhook(
        whatsapp_bot.http,
        url,
        tampered,
        signature=twilio_api.signature(f"{PUBLIC_URL}/whatsapp", params),
    )
    assert [r.status_code for r in (forged, missing, wrong_url, tampered_response)] == [403] * 4
    assert count(db, InboundUpdate) == 0 and count(db, Message) == 0
    assert twilio_api.sent() == []


def test_without_public_url_the_forwarded_scheme_and_host_are_used(
    db: Database, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn
) -> None:
    factory = LiveBotFactory(db, telegram_api, twilio_api, public_url=None)
    try:
        bot = factory.start()
        params = twilio_api.inbound(NUMBER, "hallo", sid())
        response = twilio_api.post_webhook(
            bot.http,
            f"{bot.url}/whatsapp",
            params,
            signed_url="https://bot.buurt.example/whatsapp",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bot.buurt.example"},
        )
        assert response.status_code == 200
        twilio_api.wait_for(1)
        assert "StatusCallback" not in twilio_api.sent()[0].params, "no public URL to call back"
    finally:
        factory.stop()


def test_redelivered_message_sid_changes_nothing(
    whatsapp_bot: LiveBot, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn, db: Database
) -> None:
    joined(whatsapp_bot, telegram_api, twilio_api)
    message_sid = sid()
    for _ in range(3):
        response = post_inbound(
            whatsapp_bot,
            twilio_api,
            "Er staat al de hele avond een busje met draaiende motor bij de speeltuin",
            message_sid=message_sid,
        )
        assert response.status_code == 200
    wait_until(lambda: any("Dank je" in t for t in texts_to(twilio_api, NUMBER)))
    wait_until(lambda: count(db, Message) == 1)
    wait_until(lambda: _all_sent(db))
    with db.unit_of_work() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(InboundUpdate)
                .where(InboundUpdate.external_id == message_sid)
            )
            == 1
        )
        pending = session.scalar(
            select(func.count()).select_from(InboundUpdate).where(InboundUpdate.status == "pending")
        )
    assert pending == 0
    thanks = [t for t in texts_to(twilio_api, NUMBER) if "Dank je" in t]
    assert len(thanks) == 1, thanks


def test_join_post_is_labelled_stored_and_relayed_to_the_group(
    whatsapp_bot: LiveBot, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn, db: Database
) -> None:
    joined(whatsapp_bot, telegram_api, twilio_api)
    whatsapp_bot.post_update(group_message("/doorsturen groep", ANJA))
    wait_until(
        lambda: any(
            "voortaan naar de Telegramgroep" in c.params["text"] for c in telegram_api.sent()
        )
    )
    report = "NU staat er iemand met een koevoet aan de achterdeur van nr 14 te wrikken!!"
    post_inbound(whatsapp_bot, twilio_api, report)
    wait_until(lambda: any(report in c.params["text"] for c in telegram_api.sent()))
    wait_until(lambda: any("doorgestuurd naar de groep" in t for t in texts_to(twilio_api, NUMBER)))
    relayed = next(c for c in telegram_api.sent() if report in c.params["text"])
    assert relayed.params["chat_id"] == str(GROUP_ID) and "Piet" in relayed.params["text"]
    assert "de Vries" not in relayed.params["text"], "only the first name is kept"
    assert any("112" in t for t in texts_to(twilio_api, NUMBER)), "urgent: the SAAR reminder"
    with db.unit_of_work() as session:
        message = session.scalars(select(Message)).one()
        chat = session.get(Chat, message.chat_id)
        member = session.get(Member, message.member_id)
        assert chat is not None and chat.channel == "whatsapp" and not chat.is_group
        assert member is not None and member.display_name == "Piet"
        assert (message.kind, message.category, message.urgent) == ("signaal", "inbraak", True)


def test_unknown_code_and_join_only_on_whatsapp(
    whatsapp_bot: LiveBot, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn, db: Database
) -> None:
    post_inbound(whatsapp_bot, twilio_api, "AANMELDEN ZZZZZZ")
    [reply] = twilio_api.wait_for(1)
    assert "ZZZZZZ" in reply.params["Body"] and "ken ik niet" in reply.params["Body"]
    assert count(db, Chat) == 0


def test_stop_leaves_and_forgets_the_number(
    whatsapp_bot: LiveBot, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn, db: Database
) -> None:
    joined(whatsapp_bot, telegram_api, twilio_api)
    post_inbound(whatsapp_bot, twilio_api, "Bij de brug ligt al dagen een kapotte lantaarnpaal")
    wait_until(lambda: count(db, Message) == 1)
    post_inbound(whatsapp_bot, twilio_api, "STOP")
    # The bot no longer knows when the number last wrote, so the goodbye is a template.
    wait_until(lambda: any("afgemeld" in t for t in texts_to(twilio_api, NUMBER)))
    wait_until(lambda: _all_sent(db))
    with db.unit_of_work() as session:
        purge_expired(session)
    with db.unit_of_work() as session:
        digits = NUMBER.lstrip("+")
        for model, column in (
            (Member, Member.external_id),
            (Chat, Chat.external_id),
            (PrivateChat, PrivateChat.external_id),
            (OutboxMessage, OutboxMessage.chat_external_id),
        ):
            left = session.scalar(
                select(func.count()).select_from(model).where(column.contains(digits))
            )
            assert left == 0, f"{model.__name__} still holds the number"
        assert session.scalar(select(func.count()).select_from(Message)) == 1, "the report stays"
    # After STOP the number is a stranger again.
    post_inbound(whatsapp_bot, twilio_api, "hallo?")
    wait_until(lambda: "AANMELDEN" in texts_to(twilio_api, NUMBER)[-1])


def _all_sent(db: Database) -> bool:
    """Nothing is waiting in the outbox any more."""
    with db.unit_of_work() as session:
        return not session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_(["pending", "sending"]))
        )


def test_outside_the_24_hour_window_a_template_is_sent(
    whatsapp_bot: LiveBot, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn, db: Database
) -> None:
    # The WhatsApp member is a coordinator; a report from another member is relayed to them.
    joined(whatsapp_bot, telegram_api, twilio_api)
    with db.unit_of_work() as session:
        session.execute(
            update(Member).where(Member.channel == "whatsapp").values(role=Role.COORDINATOR.value)
        )
    code = session_code(db)
    post_inbound(whatsapp_bot, twilio_api, f"AANMELDEN {code}", number=COORDINATOR_NUMBER)
    wait_until(lambda: any("Welkom" in t for t in texts_to(twilio_api, COORDINATOR_NUMBER)))

    post_inbound(
        whatsapp_bot,
        twilio_api,
        "Vanmiddag is bij nr 3 een fiets uit de voortuin gestolen",
        number=COORDINATOR_NUMBER,
    )
    wait_until(lambda: any("fiets" in t for t in texts_to(twilio_api, NUMBER)))
    inside = next(
        m
        for m in twilio_api.sent()
        if m.to == f"whatsapp:{NUMBER}" and "fiets" in m.params.get("Body", "")
    )
    assert not inside.is_template, "within 24 hours of their last message: free text"

    with db.unit_of_work() as session:  # a day and a bit has passed since NUMBER last wrote
        session.execute(
            update(PrivateChat)
            .where(PrivateChat.external_id == f"whatsapp:{NUMBER}")
            .values(last_inbound_at=utcnow() - timedelta(hours=25))
        )
    post_inbound(
        whatsapp_bot,
        twilio_api,
        "Er wordt weer geprobeerd fietsen te stelen bij het station",
        number=COORDINATOR_NUMBER,
    )
    wait_until(
        lambda: any(m.is_template for m in twilio_api.sent() if m.to == f"whatsapp:{NUMBER}")
    )
    template = next(m for m in twilio_api.sent() if m.is_template)
    assert template.params["ContentSid"] == "HX00000000000000000000000000000001"
    assert "Body" not in template.params
    variables = json.loads(template.params["ContentVariables"])
    assert "fietsen te stelen" in variables["1"]


def session_code(db: Database) -> str:
    from storage.models import Initiative

    with db.unit_of_work() as session:
        code = session.scalars(
            select(Initiative.join_code).where(Initiative.join_code.is_not(None))
        ).one()
        assert code is not None
        return code


def test_status_callbacks_are_recorded_and_only_move_forward(
    whatsapp_bot: LiveBot, twilio_api: TwilioStandIn, db: Database
) -> None:
    post_inbound(whatsapp_bot, twilio_api, "hallo")
    [sent] = twilio_api.wait_for(1)
    url = f"{whatsapp_bot.url}/whatsapp/status"

    def callback(status: str, **more: str) -> int:
        params = {
            "MessageSid": sent.sid,
            "MessageStatus": status,
            "AccountSid": twilio_api.account_sid,
            **more,
        }
        return twilio_api.post_webhook(
            whatsapp_bot.http, url, params, signed_url=f"{PUBLIC_URL}/whatsapp/status"
        ).status_code

    assert callback("sent") == 204
    assert callback("delivered") == 204
    assert callback("sent") == 204  # late and out of order
    with db.unit_of_work() as session:
        assert status_of(session, sent.sid) == "delivered"
    assert callback("read") == 204
    assert callback("failed", ErrorCode="63016") == 204
    with db.unit_of_work() as session:
        assert status_of(session, sent.sid) == "read"
    forged = twilio_api.post_webhook(
        whatsapp_bot.http,
        url,
        {"MessageSid": sent.sid, "MessageStatus": "failed"},
        signature="eA==",
    )
    assert forged.status_code == 403


def test_twilio_429_is_retried_and_the_message_still_arrives(
    whatsapp_bot: LiveBot, twilio_api: TwilioStandIn, db: Database
) -> None:
    twilio_api.fail_next(429, 20429)
    post_inbound(whatsapp_bot, twilio_api, "hallo")
    [reply] = twilio_api.wait_for(1)
    assert "AANMELDEN" in reply.params["Body"]
    wait_until(lambda: _all_sent(db))
    with db.unit_of_work() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.status == "sent" and "retry" in (row.last_error or "")


def test_coordinator_commands_as_plain_words_with_chart(
    whatsapp_bot: LiveBot, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn, db: Database
) -> None:
    joined(whatsapp_bot, telegram_api, twilio_api)
    post_inbound(whatsapp_bot, twilio_api, "trend")
    wait_until(
        lambda: any(
            "niet toegestaan" in t or "coördinator" in t for t in texts_to(twilio_api, NUMBER)[1:]
        )
    )
    with db.unit_of_work() as session:
        session.execute(
            update(Member).where(Member.channel == "whatsapp").values(role=Role.COORDINATOR.value)
        )
    post_inbound(whatsapp_bot, twilio_api, "Trend")
    wait_until(lambda: any("📊" in m.params.get("Body", "") for m in twilio_api.sent()))
    chart = next(m for m in twilio_api.sent() if "📊" in m.params.get("Body", ""))
    media = chart.params["MediaUrl"]
    assert media.startswith(f"{PUBLIC_URL}/media/")
    # Twilio fetches the picture from the bot (here: through the loopback address).
    picture = whatsapp_bot.http.get(whatsapp_bot.url + media.removeprefix(PUBLIC_URL))
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    wrong = whatsapp_bot.http.get(
        whatsapp_bot.url
        + re.sub(r"/[0-9a-f]{32}\.png$", "/" + "0" * 32 + ".png", media.removeprefix(PUBLIC_URL))
    )
    assert wrong.status_code == 404


def test_whatsapp_coordinator_plans_a_schouw_everyone_is_invited_and_answers_in_words(
    whatsapp_bot: LiveBot, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn, db: Database
) -> None:
    from storage.models import Rsvp

    joined(whatsapp_bot, telegram_api, twilio_api)  # NUMBER: a member
    post_inbound(
        whatsapp_bot, twilio_api, f"AANMELDEN {session_code(db)}", number=COORDINATOR_NUMBER
    )
    wait_until(lambda: any("Welkom" in t for t in texts_to(twilio_api, COORDINATOR_NUMBER)))
    with db.unit_of_work() as session:
        session.execute(
            update(Member)
            .where(Member.external_id == f"whatsapp:{COORDINATOR_NUMBER}")
            .values(role=Role.COORDINATOR.value)
        )
    post_inbound(
        whatsapp_bot, twilio_api, "schouw donderdag 19:30 bij de kerk", number=COORDINATOR_NUMBER
    )
    wait_until(lambda: any("Schouw op" in t for t in texts_to(twilio_api, NUMBER)))
    wait_until(lambda: any("Schouw op" in c.params["text"] for c in telegram_api.sent()))
    in_group = next(c for c in telegram_api.sent() if "Schouw op" in c.params["text"])
    assert in_group.params["chat_id"] == str(GROUP_ID) and "reply_markup" in in_group.params
    wait_until(lambda: any("Schouw op" in t for t in texts_to(twilio_api, COORDINATOR_NUMBER)))
    member_invite = next(t for t in texts_to(twilio_api, NUMBER) if "Schouw op" in t)
    assert "Ja, Misschien of Nee" in member_invite

    post_inbound(whatsapp_bot, twilio_api, "ja", number=NUMBER)
    wait_until(lambda: any("Genoteerd: je komt" in t for t in texts_to(twilio_api, NUMBER)))
    with db.unit_of_work() as session:
        [rsvp] = session.scalars(select(Rsvp)).all()
        member = session.get(Member, rsvp.member_id)
        assert member is not None and member.external_id == f"whatsapp:{NUMBER}"
        assert rsvp.answer == "ja"
        assert session.scalar(select(func.count()).select_from(Message)) == 0, (
            "an answer, not a report"
        )
        event = session.scalars(select(Event)).one()
        assert event.starts_at is not None
        queue_schouw_messages(session, event.starts_at - timedelta(hours=20), AMSTERDAM)
        reminded = set(
            session.scalars(
                select(OutboxMessage.chat_external_id).where(
                    OutboxMessage.dedupe_key.startswith(f"schouw:{event.id}:day")
                )
            )
        )
    # The organiser's chat, the initiative's Telegram group, and the member who is coming.
    assert reminded == {f"whatsapp:{COORDINATOR_NUMBER}", str(GROUP_ID), f"whatsapp:{NUMBER}"}
