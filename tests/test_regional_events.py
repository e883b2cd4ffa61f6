"""The association's regional events: targeting, invitations with RSVP on both channels,
reminders a week and a day before, and the answers per initiative."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from bot.cli import app
from handlers.regional_events import (
    AudienceChoice,
    initiative_levels,
    new_event,
    parse_audience,
    queue_reminders,
    send_invitations,
)
from storage.db import Database
from storage.directory import bind_chat
from storage.models import (
    AudienceKind,
    Initiative,
    OutboxMessage,
    RegionalEvent,
    RegionalInvitation,
    RegionalRsvp,
    RsvpAnswer,
)
from storage.regional_events import answer, answers_per_initiative, invitations, progress
from storage.whatsapp import join
from tests.conftest import LiveBot
from tests.impact_groups import Clock, Group, level_1, level_2
from tests.standins.telegram_api import TelegramStandIn, admin
from tests.standins.twilio_api import TwilioStandIn
from tests.telegram_updates import bot_added, button_press, private_message, user
from tests.test_whatsapp import post_inbound, texts_to
from tests.waiting import wait_until

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
VERA = user(99, "Vera")
KEES = user(30, "Kees")
GROUPS = {
    -1001: ("Merelbuurt", "Utrecht", "Utrecht"),
    -1002: ("Lijsterbuurt", "Zeist", "Utrecht"),
    -1003: ("Havenkwartier", "Rotterdam", "Zuid-Holland"),
}
NUMBER = "+31612345678"


def cli(db: Database, *args: str) -> Result:
    result = CliRunner().invoke(app, list(args), env={"DATABASE_URL": db.url})
    assert result.exit_code == 0, result.output
    return result


def setup_groups(bot: LiveBot, telegram_api: TelegramStandIn, db: Database) -> None:
    """Three groups join the bot; their regions are set from the command line."""
    for chat_id, (title, _, _) in GROUPS.items():
        telegram_api.admins[chat_id] = [admin(11, "Anja", "creator")]
        bot.post_update(bot_added(chat_id=chat_id, title=title))
    telegram_api.wait_for(len(GROUPS))
    for title, municipality, province in GROUPS.values():
        cli(db, "initiative", "set", title, "--gemeente", municipality, "--provincie", province)


def test_association_invites_a_province_and_collects_answers_per_initiative(
    whatsapp_bot: LiveBot, telegram_api: TelegramStandIn, twilio_api: TwilioStandIn, db: Database
) -> None:
    setup_groups(whatsapp_bot, telegram_api, db)
    code = cli(db, "initiative", "code", "Merelbuurt").stdout.strip()
    post_inbound(whatsapp_bot, twilio_api, f"AANMELDEN {code}", number=NUMBER)
    wait_until(lambda: any("Welkom" in t for t in texts_to(twilio_api, NUMBER)))
    cli(db, "vereniging", "add", "--telegram", "99", "--naam", "Vera")

    # Someone without the vereniging role may not.
    whatsapp_bot.post_update(private_message("/evenement Feest | morgen 20:00 | hier", KEES))
    wait_until(lambda: any("vereniging" in c.params["text"] for c in telegram_api.sent()))

    whatsapp_bot.post_update(
        private_message(
            "/evenement Regioavond Utrecht | 12 december 19:30 | Stadhuis Utrecht "
            "| Uitleg over de Communitymonitor | provincie Utrecht",
            VERA,
        )
    )
    wait_until(lambda: any("Concept #1" in c.params["text"] for c in telegram_api.sent()))
    preview = next(c for c in telegram_api.sent() if "Concept #1" in c.params["text"])
    assert "2 initiatieven, 2 groepen en 1 WhatsApp-leden" in preview.params["text"]
    assert preview.params["chat_id"] == "99"

    whatsapp_bot.post_update(private_message("/evenement verstuur 1", VERA))
    wait_until(
        lambda: (
            len(
                [
                    c
                    for c in telegram_api.sent()
                    if "Regioavond" in c.params["text"] and "reply_markup" in c.params
                ]
            )
            == 2
        )
    )
    wait_until(lambda: any("Regioavond" in t for t in texts_to(twilio_api, NUMBER)))
    invited = {c.params["chat_id"] for c in telegram_api.sent() if "reply_markup" in c.params}
    assert invited == {"-1001", "-1002"}, "Rotterdam is not in the province of Utrecht"
    whatsapp_invite = next(t for t in texts_to(twilio_api, NUMBER) if "Regioavond" in t)
    assert "Ja, Misschien of Nee" in whatsapp_invite

    # Answers: a button in the Merelbuurt group, "ja" on WhatsApp, "nee" in Lijsterbuurt.
    merel_invite = next(
        c
        for c in telegram_api.sent()
        if c.params["chat_id"] == "-1001" and "reply_markup" in c.params
    )
    message_id = _sent_id(db, "-1001", "Regioavond")
    whatsapp_bot.post_update(
        button_press("regional:1:ja", message_id, KEES, chat_id=-1001, title="Merelbuurt")
    )
    whatsapp_bot.post_update(
        button_press(
            "regional:1:nee",
            _sent_id(db, "-1002", "Regioavond"),
            user(31, "Jan"),
            chat_id=-1002,
            title="Lijsterbuurt",
        )
    )
    post_inbound(whatsapp_bot, twilio_api, "Ja!", number=NUMBER)
    wait_until(lambda: _rsvps(db) == 3)
    wait_until(lambda: any("Genoteerd: je komt" in t for t in texts_to(twilio_api, NUMBER)))
    assert merel_invite is not None
    edits = telegram_api.wait_for(1, "editMessageText")
    assert "1 komen" in edits[0].params["text"]

    shown = cli(db, "events", "show", "1").stdout
    assert "Merelbuurt" in shown and "Lijsterbuurt" in shown and "Havenkwartier" not in shown
    with db.unit_of_work() as session:
        per_initiative = {
            row.name: (row.yes, row.maybe, row.no) for row in answers_per_initiative(session, 1)
        }
        sending = progress(session, 1)
    assert per_initiative == {"Merelbuurt": (2, 0, 0), "Lijsterbuurt": (0, 0, 1)}
    assert (sending.total, sending.sent, sending.failed) == (3, 3, 0)


def _sent_id(db: Database, chat_id: str, text_part: str) -> int:
    with db.unit_of_work() as session:
        for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_external_id == chat_id)
        ):
            if text_part in row.text and row.channel_message_id:
                return int(row.channel_message_id)
    raise AssertionError("invitation not sent")


def _rsvps(db: Database) -> int:
    with db.unit_of_work() as session:
        return int(session.scalar(select(func.count()).select_from(RegionalRsvp)) or 0)


def _initiative_with_group(db: Database, chat_id: str, title: str, municipality: str) -> int:
    with db.unit_of_work() as session:
        chat, _ = bind_chat(session, "telegram", chat_id, title, True)
        chat.initiative.municipality = municipality
        return chat.initiative_id


def test_municipality_targeting_and_reminders_once_a_week_and_a_day_before(db: Database) -> None:
    utrecht = _initiative_with_group(db, "-2001", "Merelbuurt", "Utrecht")
    _initiative_with_group(db, "-2002", "Lijsterbuurt", "Zeist")
    _initiative_with_group(db, "-2003", "Havenkwartier", "Rotterdam")
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    with db.unit_of_work() as session:
        initiative = session.get(Initiative, utrecht)
        assert initiative is not None
        declined = join(session, "whatsapp:+31600000001", initiative, "Els", now)
        stays = join(session, "whatsapp:+31600000002", initiative, "Bo", now)
        event = new_event(
            "Training signaleren",
            now + timedelta(days=10),
            "Buurthuis",
            "",
            parse_audience("gemeente Utrecht, Rotterdam"),
            now,
        )
        session.add(event)
        session.flush()
        assert send_invitations(session, event, AMSTERDAM, None, now) == 4  # 2 groups, 2 numbers
        answer(session, event, declined, RsvpAnswer.NO)
        event_id, stays_id = event.id, stays.id
    assert stays_id

    def reminders(at: datetime) -> int:
        with db.unit_of_work() as session:
            return queue_reminders(session, at, AMSTERDAM)

    def queued(which: str) -> set[str]:
        with db.unit_of_work() as session:
            return set(
                session.scalars(
                    select(OutboxMessage.chat_external_id).where(
                        OutboxMessage.dedupe_key.startswith(f"regional:{event_id}:{which}:")
                    )
                )
            )

    assert reminders(now + timedelta(days=1)) == 0, "more than a week before: nothing yet"
    reminders(now + timedelta(days=3, minutes=1))
    reminders(now + timedelta(days=3, minutes=16))  # the next tick: no second reminder
    assert queued("week") == {"-2001", "-2003", "whatsapp:+31600000002"}, "not who said no"
    reminders(now + timedelta(days=9, minutes=5))
    assert queued("day") == {"-2001", "-2003", "whatsapp:+31600000002"}
    with db.unit_of_work() as session:
        rows = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.dedupe_key.startswith(f"regional:{event_id}:")
            )
        ).all()
        week = [row for row in rows if ":week:" in row.dedupe_key]  # type: ignore[operator]
        assert len(rows) == 4 + 3 + 3
        whatsapp_week = next(row for row in week if row.channel == "whatsapp")
        assert whatsapp_week.template == "herinnering" and "Training signaleren" in (
            whatsapp_week.template_values or ""
        )
        invited = session.scalar(select(func.count()).select_from(RegionalInvitation))
    assert invited == 4


def test_audience_words_and_bad_input() -> None:
    assert parse_audience("") == AudienceChoice(AudienceKind.ALL)
    assert parse_audience("alle vanaf niveau 3") == AudienceChoice(AudienceKind.ALL, (), 3)
    assert parse_audience("provincie Noord-Brabant") == AudienceChoice(
        AudienceKind.PROVINCE, ("Noord-Brabant",)
    )
    assert parse_audience("gemeente Utrecht, Zeist, vanaf niveau 2") == AudienceChoice(
        AudienceKind.MUNICIPALITIES, ("Utrecht", "Zeist"), 2
    )
    for bad in ("de buren", "provincie"):
        try:
            parse_audience(bad)
        except ValueError as error:
            assert str(error) == "event_bad_audience"
        else:
            raise AssertionError(f"{bad!r} accepted")


def test_evenement_explains_what_is_wrong(
    whatsapp_bot: LiveBot, telegram_api: TelegramStandIn, db: Database
) -> None:
    cli(db, "vereniging", "add", "--telegram", "99", "--naam", "Vera")
    for command, expected in (
        ("/evenement", "Evenementen van de vereniging"),
        ("/evenement alleen een titel", "Schrijf het zo"),
        ("/evenement Avond | ooit | Utrecht", "Geef een dag en een tijd"),
        (
            "/evenement Avond | 12 december 19:30 | Utrecht | | de buren",
            "doelgroep begrijp ik niet",
        ),
        ("/evenement 42", "ken ik niet"),
    ):
        whatsapp_bot.post_update(private_message(command, VERA))
        wait_until(
            lambda expected=expected: any(expected in c.params["text"] for c in telegram_api.sent())
        )
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(RegionalEvent)) == 0


def test_events_for_a_minimum_impact_level_reach_only_those_initiatives(db: Database) -> None:
    clock = Clock(datetime.now(UTC))
    starting, signalling, agreeing = (Group(db, clock, number) for number in (1, 2, 3))
    starting.add_bot()  # nothing done yet: level 0
    level_1(signalling)
    level_2(agreeing)
    with db.unit_of_work() as session:
        levels = initiative_levels(
            session, [g.initiative_id() for g in (starting, signalling, agreeing)]
        )
        assert sorted(levels.values()) == [0, 1, 2]
        event = new_event(
            "Masterclass coördinatoren",
            clock.now + timedelta(days=30),
            "Utrecht",
            "",
            parse_audience("alle, vanaf niveau 2"),
            clock.now,
        )
        session.add(event)
        session.flush()
        assert send_invitations(session, event, AMSTERDAM, initiative_levels) == 1
        [(chat, initiative)] = invitations(session, event.id)
    assert initiative.name == agreeing.name and chat.external_id == agreeing.chat.external_id


def test_whatsapp_only_initiative_is_set_up_from_the_command_line(db: Database) -> None:
    from storage.models import Member

    made = cli(
        db, "initiative", "add", "Lindenhof", "--gemeente", "Utrecht", "--provincie", "Utrecht"
    )
    code = cli(db, "initiative", "code", "Lindenhof").stdout.strip()
    assert len(code) == 6 and code in made.output
    cli(db, "initiative", "role", "Lindenhof", "coordinator", "--whatsapp", "+31 6 1111 1111")
    with db.unit_of_work() as session:
        initiative = session.scalars(select(Initiative).where(Initiative.name == "Lindenhof")).one()
        member = session.scalars(select(Member)).one()
        assert (initiative.municipality, initiative.province) == ("Utrecht", "Utrecht")
        assert (member.channel, member.external_id, member.role) == (
            "whatsapp",
            "whatsapp:+31611111111",
            "coordinator",
        )
    renewed = cli(db, "initiative", "code", "Lindenhof", "--nieuw").stdout.strip()
    assert renewed != code
    unknown = CliRunner().invoke(
        app, ["initiative", "code", "Nergens"], env={"DATABASE_URL": db.url}
    )
    assert unknown.exit_code == 1 and "Nergens" in unknown.output
    bad_number = CliRunner().invoke(
        app,
        ["initiative", "role", "Lindenhof", "lid", "--whatsapp", "0612"],
        env={"DATABASE_URL": db.url},
    )
    assert bad_number.exit_code == 2 and "+31612345678" in bad_number.output
