"""Importing coordinators' spreadsheets: Dutch and English headers, .xlsx and .csv, flags."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from config.settings import Settings
from importers.errors import UnreadableFile
from importers.pipeline import import_sheet
from importers.sheets import ColumnChoice, read_sheet
from nlp.classifier import Classifier
from storage.db import Database
from storage.models import Chat, Member, Message
from tests.importers.conftest import RunImport, table_counts


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Meldingen"
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def dutch_workbook(path: Path) -> Path:
    return _xlsx(
        path,
        [
            ["Meldingen Buurtpreventie Merelbuurt 2024"],
            [],
            ["Datum", "Tijd", "Omschrijving", "Categorie", "Locatie", "Melder"],
            [date(2024, 3, 13), time(22, 15), "Verdachte man voelt aan autodeuren", "Verdacht", "Lijsterstraat", "Piet de Vries"],
            [date(2024, 3, 14), time(8, 5), "Fiets gestolen uit schuur, slot opengebroken", "Inbraak", "Merelstraat 8", "06-12345678"],
            [],
            [datetime(2024, 3, 20, 19, 30), None, "Schouw met de wijkagent", "Activiteit", None, "Piet de Vries"],
            [date(2024, 3, 21), time(9, 0), None, "Overlast", "Park", "Anja"],
            ["12-04-2024", "23:40", "Lantaarnpaal bij speelveld kapot", "Openbare ruimte", "Speelveld", None],
        ],
    )  # fmt: skip


def test_a_dutch_workbook_is_stored_with_the_coordinators_category_beside_the_label(
    db: Database, settings: Settings, classifier: Classifier, tmp_path: Path
) -> None:
    path = dutch_workbook(tmp_path / "meldingen.xlsx")
    summary = import_sheet(db, settings, path, "Merelbuurt", classifier=classifier)
    assert (summary.messages, summary.new_messages, summary.senders) == (4, 4, 2)
    assert dict(summary.skipped) == {"no_text": 1}
    assert summary.columns == {
        "date": "Datum",
        "time": "Tijd",
        "text": "Omschrijving",
        "category": "Categorie",
        "location": "Locatie",
        "sender": "Melder",
    }
    with db.unit_of_work() as session:
        stored = session.scalars(select(Message).order_by(Message.sent_at)).all()
        chat = session.scalars(select(Chat)).one()
        members = session.scalars(select(Member)).all()
    assert (chat.channel, chat.external_id) == ("sheet", f"sheet:{chat.initiative_id}")
    assert [(m.sent_at, m.sheet_category, m.source) for m in stored] == [
        (datetime(2024, 3, 13, 21, 15, tzinfo=UTC), "Verdacht", "sheet"),
        (datetime(2024, 3, 14, 7, 5, tzinfo=UTC), "Inbraak", "sheet"),
        (datetime(2024, 3, 20, 18, 30, tzinfo=UTC), "Activiteit", "sheet"),
        (datetime(2024, 4, 12, 21, 40, tzinfo=UTC), "Openbare ruimte", "sheet"),
    ]
    assert stored[0].text == "Verdachte man voelt aan autodeuren (Lijsterstraat)"
    assert stored[1].text == "Fiets gestolen uit schuur, slot opengebroken (Merelstraat 8)"
    labels = classifier.classify_batch([m.text for m in stored])
    assert [m.kind for m in stored] == [label.kind for label in labels]
    assert summary.signals == sum(m.kind == "signaal" for m in stored)
    assert sorted(m.display_name for m in members) == ["Lid 2", "Piet"]
    assert all(re.fullmatch(r"[0-9a-f]{32}", m.external_id) for m in members)
    assert not any("12345678" in m.display_name + m.external_id for m in members)


def test_reimporting_a_sheet_adds_nothing(
    db: Database, settings: Settings, classifier: Classifier, tmp_path: Path
) -> None:
    path = dutch_workbook(tmp_path / "meldingen.xlsx")
    import_sheet(db, settings, path, "Merelbuurt", classifier=classifier)
    counts = table_counts(db)
    again = import_sheet(db, settings, path, "Merelbuurt", classifier=classifier)
    assert table_counts(db) == counts
    assert (again.messages, again.new_messages) == (4, 0)


def test_an_english_csv_with_month_first_dates_and_a_twelve_hour_clock(tmp_path: Path) -> None:
    path = tmp_path / "reports.csv"
    path.write_text(
        "Date,Time,Description,Category,Location\n"
        "03/09/2024,8:05 PM,Streetlight out on Mill Road,Public space,Mill Road\n"
        '03/14/2024,11:48 PM,"Someone trying car doors, grey hoodie",Suspicious,Oak Lane\n'
        "2024-03-15,07:02,Bike stolen from the shed,Theft,\n",
        encoding="utf-8",
    )
    sheet = read_sheet(path, Settings(_env_file=None).zone, ColumnChoice())  # type: ignore[call-arg]
    assert [(row.at.replace(tzinfo=None), row.category) for row in sheet.rows] == [
        (datetime(2024, 3, 9, 20, 5), "Public space"),
        (datetime(2024, 3, 14, 23, 48), "Suspicious"),
        (datetime(2024, 3, 15, 7, 2), "Theft"),
    ]
    assert sheet.rows[1].text == "Someone trying car doors, grey hoodie (Oak Lane)"
    assert sheet.rows[2].text == "Bike stolen from the shed"


def test_a_dutch_csv_from_excel_with_semicolons_and_written_dates(tmp_path: Path) -> None:
    path = tmp_path / "meldingen.csv"
    path.write_bytes(
        "Datum melding;Wat is er gebeurd;Soort melding;Waar\r\n"
        "12 maart 2024 22:15;Inbraak in garage, deur geforceerd;Inbraak;Vogelwijk\r\n"
        "13-3-2024;Geluidsoverlast café;Overlast;Dorpsstraat\r\n".encode("cp1252")
    )
    sheet = read_sheet(path, Settings(_env_file=None).zone, ColumnChoice())  # type: ignore[call-arg]
    assert sheet.columns == {
        "date": "Datum melding",
        "text": "Wat is er gebeurd",
        "category": "Soort melding",
        "location": "Waar",
    }
    assert [(row.at.replace(tzinfo=None), row.text) for row in sheet.rows] == [
        (datetime(2024, 3, 12, 22, 15), "Inbraak in garage, deur geforceerd (Vogelwijk)"),
        (datetime(2024, 3, 13, 12, 0), "Geluidsoverlast café (Dorpsstraat)"),
    ]


def test_column_flags_point_out_columns_with_unusual_names(
    run_import: RunImport, db: Database, tmp_path: Path
) -> None:
    path = _xlsx(
        tmp_path / "lijst.xlsx",
        [
            ["Wanneer gezien", "Wat zag je", "Label"],
            [datetime(2024, 5, 1, 21, 0), "Groep jongeren met vuurwerk bij de school", "Overlast"],
            [datetime(2024, 5, 2, 3, 10), "Auto rijdt rondjes zonder licht", "Verdacht"],
        ],
    )
    refused = run_import("sheet", str(path), "--initiative", "Vogelwijk")
    assert refused.exit_code == 1
    assert "Ik vind geen kolommen voor datum en omschrijving" in refused.stderr
    assert "Wanneer gezien, Wat zag je, Label" in refused.stderr
    assert set(table_counts(db).values()) == {0}
    done = run_import(
        "sheet",
        str(path),
        "--initiative",
        "Vogelwijk",
        "--date-column",
        "wanneer gezien",
        "--text-column",
        "B",
        "--category-column",
        "Label",
        "--json",
    )
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert (summary["messages"], summary["new_messages"]) == (2, 2)
    assert summary["columns"] == {
        "date": "Wanneer gezien",
        "text": "Wat zag je",
        "category": "Label",
    }
    with db.unit_of_work() as session:
        assert [
            m.sheet_category for m in session.scalars(select(Message).order_by(Message.id))
        ] == [
            "Overlast",
            "Verdacht",
        ]


def test_the_sheet_command_prints_a_dutch_summary(run_import: RunImport, tmp_path: Path) -> None:
    done = run_import(
        "sheet", str(dutch_workbook(tmp_path / "m.xlsx")), "--initiative", "Merelbuurt"
    )
    assert done.exit_code == 0, done.output
    assert "De spreadsheet van Merelbuurt is ingelezen." in done.stdout
    assert "4 meldingen, van 13-03-2024 22:15 tot en met 12-04-2024 23:40" in done.stdout
    assert "datum = Datum, tijd = Tijd, omschrijving = Omschrijving" in done.stdout
    assert "1 regels overgeslagen: 1× geen omschrijving" in done.stdout


@pytest.mark.parametrize(
    ("name", "content", "key"),
    [
        ("oud.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "import_error_sheet_xls"),
        ("kapot.xlsx", b"PK\x03\x04 not a workbook", "import_error_sheet_unreadable"),
        ("leeg.csv", b"", "import_error_empty"),
        ("scan.pdf", b"%PDF-1.4\n", "import_error_pdf"),
        ("chat.csv", b"12-03-2024 21:05 - Anja: hallo\n", "import_error_sheet_columns"),
    ],
)
def test_files_that_are_no_spreadsheet_of_reports_get_a_clear_reason(
    tmp_path: Path, name: str, content: bytes, key: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFile) as raised:
        read_sheet(path, Settings(_env_file=None).zone, ColumnChoice())  # type: ignore[call-arg]
    assert raised.value.key == key
