"""Incident linking: the posts about one event become one incident; trends count incidents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.db import Database
from storage.incidents import link_to_incident
from storage.models import Chat, Incident, Initiative, Message

START = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    with db.unit_of_work() as session:
        initiative = Initiative(name="Merelbuurt")
        session.add(initiative)
        session.flush()
        session.add_all(
            [
                Chat(initiative_id=initiative.id, channel="telegram", external_id="-1"),
                Chat(initiative_id=initiative.id, channel="telegram", external_id="-2"),
            ]
        )
        session.flush()
        yield session


def post(
    session: Session,
    minutes: float,
    kind: str,
    category: str | None,
    urgent: bool = False,
    reply_to: str | None = None,
    chat: str = "-1",
) -> Message:
    chat_row = session.scalars(select(Chat).where(Chat.external_id == chat)).one()
    number = session.scalar(select(Message.id).order_by(Message.id.desc()).limit(1)) or 0
    message = Message(
        initiative_id=chat_row.initiative_id,
        chat_id=chat_row.id,
        channel_message_id=str(number + 1),
        reply_to_message_id=reply_to,
        sent_at=START + timedelta(minutes=minutes),
        text="…",
        kind=kind,
        category=category,
        urgent=urgent,
        confidence=0.9,
        needs_review=False,
        model_version="test",
    )
    session.add(message)
    session.flush()
    link_to_incident(session, message)
    return message


def incidents(session: Session) -> list[Incident]:
    return list(session.scalars(select(Incident).order_by(Incident.id)))


def test_report_and_its_echoes_are_one_incident(session: Session) -> None:
    report = post(session, 0, "signaal", "verdacht")
    post(session, 5, "signaal", "verdacht")  # "idd zag hem ook"
    post(session, 50, "signaal", "verdacht", urgent=True)  # "nu staat hij bij nr 40"
    post(session, 70, "terugkoppeling", "verdacht")  # "politie is er"
    [incident] = incidents(session)
    assert incident.message_count == 4
    assert incident.urgent and incident.followed_up
    assert incident.opened_at == report.sent_at


def test_reply_joins_the_incident_whatever_its_label(session: Session) -> None:
    report = post(session, 0, "signaal", "inbraak")
    post(session, 300, "signaal", "verdacht", reply_to=report.channel_message_id)
    [incident] = incidents(session)
    assert incident.message_count == 2 and incident.category == "inbraak"


def test_same_category_later_or_other_chat_is_a_new_incident(session: Session) -> None:
    post(session, 0, "signaal", "overlast")
    post(session, 60 * 5, "signaal", "overlast")
    post(session, 10, "signaal", "overlast", chat="-2")
    post(session, 15, "signaal", "verkeer")
    assert len(incidents(session)) == 4


def test_contentless_follow_up_marks_the_latest_incident(session: Session) -> None:
    post(session, 0, "signaal", "brand", urgent=True)
    post(session, 90, "terugkoppeling", "verdacht")  # "112 gebeld, brandweer komt"
    [incident] = incidents(session)
    assert incident.followed_up and incident.category == "brand"


def test_follow_up_next_day_finds_its_category(session: Session) -> None:
    post(session, 0, "signaal", "openbare_ruimte")
    post(session, 60, "signaal", "diefstal")
    post(session, 60 * 30, "terugkoppeling", "openbare_ruimte")  # "lamp is vervangen"
    lamp, bike = incidents(session)
    assert lamp.followed_up and not bike.followed_up


def test_follow_up_without_a_signal_and_chat_open_no_incident(session: Session) -> None:
    assert post(session, 0, "terugkoppeling", "verdacht").incident_id is None
    assert post(session, 10, "overig", None).incident_id is None
    assert post(session, 20, "activiteit", None).incident_id is None
    assert incidents(session) == []
