"""Imported history is linked into incidents, so it counts in trends like live posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from config.settings import Settings
from importers.incidents import link_rows
from importers.pipeline import import_whatsapp
from nlp.classifier import Classifier
from storage.db import Database
from storage.models import Chat, Incident, Initiative, Message
from storage.trends import incident_facts
from tests.importers.conftest import FIXTURES

T0 = datetime(2024, 3, 13, 21, 0, tzinfo=UTC)


def _chat(db: Database) -> tuple[int, int]:
    with db.unit_of_work() as session:
        initiative = Initiative(name="Merelbuurt")
        session.add(initiative)
        session.flush()
        chat = Chat(initiative_id=initiative.id, channel="whatsapp", external_id="export:1")
        session.add(chat)
        session.flush()
        return initiative.id, chat.id


def _row(minutes: float, kind: str, category: str | None, urgent: bool = False) -> dict[str, Any]:
    return {
        "sent_at": T0 + timedelta(minutes=minutes),
        "kind": kind,
        "category": category,
        "urgent": urgent,
        "incident_id": None,
    }


def _link(db: Database, rows: list[dict[str, Any]], merge_signals: bool = True) -> int:
    initiative_id, chat_id = _chat(db)
    with db.unit_of_work() as session:
        return link_rows(session, initiative_id, chat_id, rows, merge_signals=merge_signals)


def test_posts_about_one_event_share_an_incident_and_feedback_closes_it(db: Database) -> None:
    rows = [
        _row(0, "signaal", "verdacht"),
        _row(40, "signaal", "verdacht", urgent=True),
        _row(45, "overig", None),
        _row(60, "signaal", "inbraak"),
        _row(6 * 60, "signaal", "verdacht"),  # hours later: another event
        _row(26 * 60, "terugkoppeling", "verdacht"),  # the next day: police came by
    ]
    assert _link(db, rows) == 3
    incident_of = [row["incident_id"] for row in rows]
    assert incident_of[0] == incident_of[1] and incident_of[2] is None
    assert len({incident_of[0], incident_of[3], incident_of[4]}) == 3
    assert incident_of[5] == incident_of[4]
    with db.unit_of_work() as session:
        incidents = session.scalars(select(Incident).order_by(Incident.opened_at)).all()
    assert [(i.category, i.message_count, i.urgent, i.followed_up) for i in incidents] == [
        ("verdacht", 2, True, False),
        ("inbraak", 1, False, False),
        ("verdacht", 2, False, True),
    ]


def test_every_spreadsheet_row_is_its_own_incident(db: Database) -> None:
    rows = [_row(0, "signaal", "verdacht"), _row(10, "signaal", "verdacht")]
    assert _link(db, rows, merge_signals=False) == 2
    assert rows[0]["incident_id"] != rows[1]["incident_id"]


def test_imported_reports_count_in_trends_once_however_often_imported(
    db: Database, settings: Settings, classifier: Classifier
) -> None:
    import_whatsapp(db, settings, FIXTURES / "android_nl.txt", "Merelbuurt", classifier=classifier)
    import_whatsapp(db, settings, FIXTURES / "android_nl.txt", "Merelbuurt", classifier=classifier)
    with db.unit_of_work() as session:
        initiative_id = session.scalars(select(Initiative.id)).one()
        signals = session.scalars(select(Message).where(Message.kind == "signaal")).all()
        facts = incident_facts(
            session,
            initiative_id,
            datetime(2024, 3, 1, tzinfo=UTC),
            datetime(2024, 4, 1, tzinfo=UTC),
        )
        incidents = session.scalars(select(Incident)).all()
    assert signals, "the fixture's burglary and suspicious-person reports are signals"
    assert all(message.incident_id is not None for message in signals)
    assert len(facts) == len(incidents) == len({message.incident_id for message in signals})
    assert sum(i.message_count for i in incidents) >= len(signals)


def test_a_later_chunk_adds_to_an_incident_an_earlier_one_opened(db: Database) -> None:
    initiative_id, chat_id = _chat(db)
    first, later = [_row(0, "signaal", "overlast")], [_row(30, "signaal", "overlast", urgent=True)]
    for rows in (first, later):
        with db.unit_of_work() as session:
            link_rows(session, initiative_id, chat_id, rows, merge_signals=True)
    assert first[0]["incident_id"] == later[0]["incident_id"]
    with db.unit_of_work() as session:
        incident = session.scalars(select(Incident)).one()
    assert (incident.message_count, incident.urgent) == (2, True)
    assert incident.last_message_at == T0 + timedelta(minutes=30)
