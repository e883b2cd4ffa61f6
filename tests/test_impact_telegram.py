"""/niveau and the welcome with the rules through the real web app and the Bot API stand-in."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import Database
from storage.models import Member
from tests.conftest import LiveBot
from tests.standins.telegram_api import BOT_USER, TelegramStandIn, admin
from tests.telegram_updates import GROUP_ID, bot_added, group_message, members_joined, user

ANJA, KEES = user(11, "Anja"), user(30, "Kees")


def test_niveau_and_welcome_through_the_web_app(
    live_bot: LiveBot, db: Database, telegram_api: TelegramStandIn
) -> None:
    telegram_api.admins[GROUP_ID] = [admin(11, "Anja", "creator")]
    assert live_bot.post_update(bot_added()).status_code == 200
    telegram_api.wait_for(1)

    # New members get the signalling rules once; the bot joining is no member.
    live_bot.post_update(members_joined(KEES, BOT_USER))
    welcome = telegram_api.wait_for(2)[1].params["text"]
    assert "Welkom Kees!" in welcome and "112" in welcome

    for post in (
        "Bij nr 12 is vannacht ingebroken, achterdeur opengebroken",
        "Fiets gestolen bij de bakker, blauw damesfiets",
        "Lantaarnpaal bij het speelveld doet het al een week niet",
        "Goedemorgen allemaal",
    ):
        live_bot.post_update(group_message(post, sender=KEES))
    live_bot.post_update(group_message("/niveau", sender=KEES))
    refusal = telegram_api.wait_for(3)[2].params["text"]
    assert "coördinatoren en partners" in refusal

    live_bot.post_update(group_message("/niveau", sender=ANJA))
    answer = telegram_api.wait_for(4)[3].params["text"]
    assert "Impact van Buurtpreventie Merelbuurt: niveau 1 · Gezamenlijk perspectief" in answer
    assert "✅ meldingen: 3 (nodig: 3)" in answer
    assert "⬜ afspraken gedeeld: 0 (nodig: 2)" in answer
    assert "👉 Volgende stap:" in answer
    with db.unit_of_work() as session:
        kees = session.scalars(select(Member).where(Member.external_id == "30")).one()
        assert kees.rules_received_at is not None
