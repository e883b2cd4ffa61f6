"""Importing WhatsApp exports into the database: labels, idempotence, pseudonyms, the CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import String, Text, select
from sqlalchemy import text as sql

from config.settings import Settings
from importers.pipeline import import_whatsapp
from importers.whatsapp import ContentKind, MemberMessage, read_export
from nlp.classifier import Classifier
from storage.db import Database
from storage.models import Base, Chat, Member, MembershipEvent, Message
from tests.importers.conftest import FIXTURES, RunImport, table_counts


def test_imported_messages_keep_their_original_time_labels_and_source(
    db: Database, settings: Settings, classifier: Classifier
) -> None:
    summary = import_whatsapp(
        db, settings, FIXTURES / "android_nl.txt", "Merelbuurt", classifier=classifier
    )
    assert (summary.messages, summary.new_messages, summary.system_messages) == (7, 7, 8)
    assert (summary.senders, summary.media, summary.deleted) == (3, 1, 1)
    assert summary.initiative_created
    with db.unit_of_work() as session:
        chat = session.scalars(select(Chat)).one()
        assert (chat.channel, chat.external_id) == ("whatsapp", f"export:{chat.initiative_id}")
        stored = session.scalars(select(Message).order_by(Message.sent_at, Message.id)).all()
    assert {message.source for message in stored} == {"whatsapp_export"}
    assert stored[2].sent_at == datetime(2024, 3, 13, 21, 15, tzinfo=UTC)  # 22:15 in Amsterdam
    placeholders = [(m.text, m.kind, m.model_version) for m in stored[3:5]]
    assert placeholders == [
        ("[media]", "overig", "rule:media"),
        ("[verwijderd]", "overig", "rule:deleted"),
    ]
    # Labelled like a live post: the text as written, before masking.
    written = [
        record.text
        for record in read_export(FIXTURES / "android_nl.txt", settings.zone).records()
        if isinstance(record, MemberMessage) and record.content is ContentKind.TEXT
    ]
    labels = classifier.classify_batch(written)
    texts = [m for m in stored if not m.model_version.startswith("rule:")]
    assert [(m.kind, m.category, m.urgent) for m in texts] == [
        (label.kind, label.category, label.urgent) for label in labels
    ]
    assert summary.signals == sum(m.kind == "signaal" for m in stored)
    assert summary.as_json()["first"] == "2024-03-12T21:02:00+01:00"
    assert summary.as_json()["last"] == "2024-03-18T09:16:00+01:00"


def test_reimporting_the_same_export_adds_nothing(
    db: Database, settings: Settings, classifier: Classifier, tmp_path: Path
) -> None:
    archive = tmp_path / "WhatsApp Chat - Buurtwacht Lijsterstraat.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("_chat.txt", (FIXTURES / "ios_nl.txt").read_bytes())
    first = import_whatsapp(db, settings, archive, "Lijsterstraat", classifier=classifier)
    after_first = table_counts(db)
    again = import_whatsapp(db, settings, archive, "Lijsterstraat", classifier=classifier)
    assert table_counts(db) == after_first
    assert (first.new_messages, again.new_messages, again.messages) == (7, 0, 7)
    assert (first.new_membership_events, again.new_membership_events) == (3, 0)
    assert again.signals == first.signals and not again.initiative_created


def _first_records(source: Path, count: int, target: Path) -> Path:
    """The export as it was `count` records earlier: cut at a record boundary."""
    lines = source.read_text(encoding="utf-8").split("\n")
    starts = [
        i for i, line in enumerate(lines) if re.match(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2} - ", line)
    ]
    target.write_text("\n".join(lines[: starts[count]]) + "\n", encoding="utf-8")
    return target


def test_a_longer_overlapping_export_adds_only_what_is_new(
    db: Database, settings: Settings, classifier: Classifier, tmp_path: Path
) -> None:
    earlier = _first_records(FIXTURES / "android_nl.txt", 9, tmp_path / "earlier.txt")
    first = import_whatsapp(db, settings, earlier, "Merelbuurt", classifier=classifier)
    later = import_whatsapp(
        db, settings, FIXTURES / "android_nl.txt", "Merelbuurt", classifier=classifier
    )
    assert (first.messages, later.messages, later.new_messages) == (5, 7, 2)
    with db.unit_of_work() as session:
        assert len(session.scalars(select(Message)).all()) == 7
        assert len(session.scalars(select(MembershipEvent)).all()) == 5


def test_identical_messages_in_one_minute_stay_apart_and_dedupe_across_exports(
    db: Database, settings: Settings, classifier: Classifier, tmp_path: Path
) -> None:
    thumbs = "14-03-2024 08:31 - Anja: 👍\n"
    two = tmp_path / "two.txt"
    two.write_text("14-03-2024 08:30 - Anja: Schouw donderdag?\n" + thumbs * 2, encoding="utf-8")
    three = tmp_path / "three.txt"
    three.write_text(two.read_text(encoding="utf-8") + thumbs, encoding="utf-8")
    import_whatsapp(db, settings, two, "Merelbuurt", classifier=classifier)
    import_whatsapp(db, settings, three, "Merelbuurt", classifier=classifier)
    import_whatsapp(db, settings, two, "Merelbuurt", classifier=classifier)
    with db.unit_of_work() as session:
        assert [m.text for m in session.scalars(select(Message).order_by(Message.id))] == [
            "Schouw donderdag?",
            "👍",
            "👍",
            "👍",
        ]


def _every_stored_string(db: Database) -> list[str]:
    values: list[str] = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c.name for c in table.columns if isinstance(c.type, String | Text)]
            if not columns:
                continue
            for row in connection.execute(select(*[table.c[name] for name in columns])):
                values += [value for value in row if value]
    return values


def test_no_raw_phone_number_or_full_name_anywhere_in_the_database(
    db: Database, settings: Settings, classifier: Classifier
) -> None:
    for fixture in sorted(FIXTURES.glob("*.txt")):
        import_whatsapp(db, settings, fixture, "Merelbuurt", classifier=classifier)
    stored = "\n".join(_every_stored_string(db))
    digits_only = re.sub(r"\D", "", stored)
    for number in ("612345678", "623456789", "634567890", "7700900123", "98765432"):
        assert number not in digits_only, number
    for name in ("de Vries", "Jansen", "Buurtwacht Lijsterstraat", "Oak Lane Watch"):
        assert name not in stored, name
    assert "[telefoonnummer]" in stored  # "mijn nummer is 06-98765432", masked like live posts
    with db.unit_of_work() as session:
        members = session.scalars(select(Member).order_by(Member.id)).all()
    assert all(re.fullmatch(r"[0-9a-f]{32}", m.external_id) for m in members)
    names = {m.display_name for m in members}
    assert {"Anja", "Piet", "Wijkagent"} <= names
    # Phone numbers become a numbered label, never the number.
    assert sum(bool(re.fullmatch(r"Lid \d+", name)) for name in names) == 4


def test_joins_adds_leaves_and_removals_are_kept_with_their_member(
    db: Database, settings: Settings, classifier: Classifier, tmp_path: Path
) -> None:
    export = tmp_path / "export.txt"
    export.write_bytes(
        (FIXTURES / "android_nl.txt").read_bytes()
        + b"19-03-2024 10:00 - Anja heeft je toegevoegd\n"
    )
    summary = import_whatsapp(db, settings, export, "Merelbuurt", classifier=classifier)
    assert dict(summary.membership) == {"added": 3, "joined": 1, "left": 1, "removed": 1}
    with db.unit_of_work() as session:
        events = session.execute(
            select(
                MembershipEvent.kind,
                Member.display_name,
                MembershipEvent.at,
                MembershipEvent.source,
            )
            .outerjoin(Member, Member.id == MembershipEvent.member_id)
            .order_by(MembershipEvent.at, MembershipEvent.id)
        ).all()
        piet = session.scalars(select(Member).where(Member.display_name == "Piet")).one()
    assert [(kind, name) for kind, name, _, _ in events] == [
        ("added", "Piet"),
        ("added", "Lid 3"),  # +31 6 12345678, the third member the import met
        ("joined", "Kees"),
        ("left", "Piet"),
        ("removed", "Kees"),
        ("added", None),  # "je": whoever exported the chat
    ]
    assert events[2][2] == datetime(2024, 3, 14, 7, 30, tzinfo=UTC)
    assert {source for *_, source in events} == {"whatsapp_export"}
    # Piet's history starts when he was added, before his first message.
    assert piet.joined_at == datetime(2024, 3, 12, 20, 3, tzinfo=UTC)


def test_the_command_prints_a_friendly_dutch_summary(run_import: RunImport, db: Database) -> None:
    done = run_import("whatsapp", str(FIXTURES / "android_nl.txt"), "--initiative", "Merelbuurt")
    assert done.exit_code == 0, done.output
    assert "Nieuw initiatief “Merelbuurt” aangemaakt." in done.stdout
    assert (
        "7 berichten van 3 leden, van 12-03-2024 21:02 tot en met 18-03-2024 09:16" in done.stdout
    )
    assert "7 nieuw bewaard, 0 stonden er al in" in done.stdout
    assert (
        "8 systeemberichten: 1 lid geworden, 2 toegevoegd, 1 vertrokken, 1 verwijderd"
        in done.stdout
    )
    again = run_import("whatsapp", str(FIXTURES / "android_nl.txt"), "--initiative", "Merelbuurt")
    assert "0 nieuw bewaard, 7 stonden er al in" in again.stdout
    assert "aangemaakt" not in again.stdout


def test_the_json_summary_is_one_object_with_the_promised_fields(
    run_import: RunImport, tmp_path: Path
) -> None:
    export = tmp_path / "export.txt"
    export.write_bytes(
        (FIXTURES / "ios_en_us.txt").read_bytes() + b"[3/13/25, 9:01:00\xe2\x80\xafAM] Anja: \n"
    )
    done = run_import("whatsapp", str(export), "--initiative", "Oak Lane", "--json")
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["messages"] == 6
    assert summary["system_messages"] == 5
    assert summary["senders"] == 3
    assert summary["first"] == "2025-03-01T09:00:00+01:00"
    assert summary["last"] == "2025-03-13T09:00:00+01:00"
    assert summary["skipped"] == {"total": 1, "reasons": {"empty_message": 1}}
    assert isinstance(summary["signals"], int) and summary["signals"] <= 3
    assert summary["initiative_created"] is True


def test_a_file_that_is_no_export_changes_nothing_and_says_why_in_dutch(
    run_import: RunImport, db: Database, tmp_path: Path
) -> None:
    pdf = tmp_path / "verslag.pdf"
    pdf.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    done = run_import("whatsapp", str(pdf), "--initiative", "Merelbuurt")
    assert done.exit_code == 1
    assert "Dit is een PDF." in done.stderr
    assert isinstance(done.exception, SystemExit)
    assert set(table_counts(db).values()) == {0}


def test_the_installed_command_reports_a_foreign_file_without_a_traceback(
    db: Database, tmp_path: Path
) -> None:
    csv = tmp_path / "meldingen.csv"
    csv.write_text("datum,omschrijving\n2024-03-12,fiets gestolen\n", encoding="utf-8")
    with db.engine.begin() as connection:
        before = connection.execute(sql("SELECT count(*) FROM initiatives")).scalar_one()
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("buurtbot")),
            "import",
            "whatsapp",
            str(csv),
            "--initiative",
            "X",
        ],
        capture_output=True,
        env={**os.environ, "DATABASE_URL": db.url},
        timeout=120,
    )
    assert done.returncode == 1
    assert "Dit is geen WhatsApp-export" in done.stderr.decode()
    assert b"Traceback" not in done.stderr and done.stdout == b""
    assert set(table_counts(db).values()) == {0} and before == 0
