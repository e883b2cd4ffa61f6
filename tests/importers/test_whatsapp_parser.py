"""The WhatsApp export parser on byte-exact exports: every format variant, zips, foreign files."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from importers.errors import UnreadableFile
from importers.whatsapp import (
    ContentKind,
    MemberMessage,
    Record,
    Skipped,
    SystemKind,
    SystemMessage,
    read_export,
    scan,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "whatsapp"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LRM, LRE, PDF_MARK, FSI, PDI, NNBSP = "\u200e", "\u202a", "\u202c", "\u2068", "\u2069", "\u202f"


def records(name: str) -> list[Record]:
    return list(read_export(FIXTURES / name, AMSTERDAM).records())


def members(found: list[Record]) -> list[MemberMessage]:
    return [record for record in found if isinstance(record, MemberMessage)]


def systems(found: list[Record]) -> list[SystemMessage]:
    return [record for record in found if isinstance(record, SystemMessage)]


def at(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=AMSTERDAM)


@pytest.mark.parametrize(
    ("name", "invisible", "crlf_records"),
    [
        ("android_nl.txt", (FSI, PDI, LRE, PDF_MARK), False),
        ("android_nl_media.txt", (LRE, PDF_MARK), False),
        ("ios_nl.txt", (LRM, LRE, PDF_MARK), False),
        ("ios_nl_crlf.txt", (LRM,), True),
        ("android_en_us.txt", (NNBSP, FSI, PDI, LRE, PDF_MARK), True),
        ("ios_en_us.txt", (NNBSP, LRM, LRE, PDF_MARK), False),
        ("android_en_dmy_ambiguous.txt", (), False),
    ],
)
def test_fixtures_keep_the_invisible_characters_and_line_endings_whatsapp_writes(
    name: str, invisible: tuple[str, ...], crlf_records: bool
) -> None:
    raw = (FIXTURES / name).read_bytes()
    for character in invisible:
        assert character.encode() in raw, (name, hex(ord(character)))
    if crlf_records:
        # CRLF between records, a bare LF inside a multi-line message.
        assert raw.count(b"\r\n") > 0 and raw.replace(b"\r\n", b"").count(b"\n") > 0
    else:
        assert b"\r" not in raw


@pytest.mark.parametrize(
    ("name", "day_first", "bracketed", "twelve_hour", "seconds", "member_count", "system_count"),
    [
        ("android_nl.txt", True, False, False, False, 7, 8),
        ("android_nl_media.txt", True, False, False, False, 5, 0),
        ("ios_nl.txt", True, True, False, True, 7, 6),
        ("ios_nl_crlf.txt", True, True, False, True, 4, 3),
        ("android_en_us.txt", False, False, True, False, 6, 8),
        ("ios_en_us.txt", False, True, True, True, 6, 5),
        ("android_en_dmy_ambiguous.txt", True, False, True, False, 6, 1),
    ],
)
def test_each_format_is_worked_out_from_the_file(
    name: str,
    day_first: bool,
    bracketed: bool,
    twelve_hour: bool,
    seconds: bool,
    member_count: int,
    system_count: int,
) -> None:
    export = read_export(FIXTURES / name, AMSTERDAM)
    assert export.dialect.day_first is day_first
    assert export.dialect.bracketed is bracketed
    assert export.dialect.twelve_hour is twelve_hour
    assert export.dialect.seconds is seconds
    found = list(export.records())
    assert len(members(found)) == member_count
    assert len(systems(found)) == system_count
    assert not [record for record in found if isinstance(record, Skipped)]
    assert export.record_count == len(found)


def test_android_dutch_export_reads_members_system_messages_and_placeholders() -> None:
    found = records("android_nl.txt")
    messages = members(found)
    assert [m.sender for m in messages] == [
        "Anja",
        "Piet de Vries",
        "+31 6 12345678",
        "Piet de Vries",
        "Piet de Vries",
        "Anja",
        "Anja",
    ]
    report = messages[2]
    assert report.at == at(2024, 3, 13, 22, 15)
    # A continuation line that starts with a date, and one shaped like another dialect's header.
    assert report.text == (
        "Verdachte man loopt bij de garages aan deurklinken te voelen\n"
        "Donker jack, fiets zonder licht.\n"
        "12-03-2024 was hij er ook al\n"
        "14/03/2024, 09:00 - Wijkagent: graag melden via 0900-8844"
    )
    assert [m.content for m in messages[3:5]] == [ContentKind.MEDIA, ContentKind.DELETED]
    assert messages[5].text.startswith("@Kees welkom!")  # U+2068/U+2069 around the mention gone
    kinds = [(s.kind, s.subjects) for s in systems(found)]
    assert kinds == [
        (SystemKind.ENCRYPTION, ()),
        (SystemKind.CREATED, ()),
        (SystemKind.ADDED, ("Piet de Vries", "+31 6 12345678")),
        (SystemKind.JOINED, ("Kees",)),
        # The ": " inside the quoted new subject does not make it a member's message.
        (SystemKind.SUBJECT_CHANGED, ()),
        (SystemKind.SECURITY_CODE_CHANGED, ("+31 6 12345678",)),
        (SystemKind.LEFT, ("Piet de Vries",)),
        (SystemKind.REMOVED, ("Kees",)),
    ]


def test_an_export_with_media_keeps_a_photo_caption_as_the_message() -> None:
    messages = members(records("android_nl_media.txt"))
    assert [(m.content, m.text) for m in messages] == [
        (ContentKind.TEXT, "Verdachte auto bij de garages"),
        (ContentKind.TEXT, "Deze stond er de hele nacht, kenteken onleesbaar"),
        (ContentKind.MEDIA, ""),
        (ContentKind.DELETED, ""),
        (ContentKind.TEXT, "Ik heb het doorgegeven aan de wijkagent"),
    ]


def test_ios_dutch_export_tells_system_lines_written_as_if_sent_by_a_member() -> None:
    found = records("ios_nl.txt")
    assert [(s.kind, s.subjects) for s in systems(found)] == [
        (SystemKind.ENCRYPTION, ()),
        (SystemKind.CREATED, ()),
        (SystemKind.ADDED, ("Mohamed",)),
        (SystemKind.SECURITY_CODE_CHANGED, ("Mohamed",)),
        (SystemKind.LEFT, ("Mohamed",)),
        (SystemKind.JOINED, ("+31 6 23456789",)),
    ]
    messages = members(found)
    assert "Buurtwacht Lijsterstraat" not in {m.sender for m in messages}
    assert [m.content for m in messages] == [
        ContentKind.TEXT,
        ContentKind.MEDIA,  # afbeelding weggelaten
        ContentKind.MEDIA,  # <bijgevoegd: ….jpg>
        ContentKind.TEXT,
        ContentKind.DELETED,  # Je hebt dit bericht verwijderd.
        ContentKind.TEXT,
        ContentKind.TEXT,
    ]
    assert messages[0].at == at(2024, 4, 2, 19, 35, 40)
    assert messages[5].sender == "+31 6 23456789"
    assert (
        messages[5].text
        == "Fiets gestolen uit de schuur achter nr 8 ‼️\nSlot opengebroken. Aangifte gedaan."
    )
    assert messages[6].text == "Wat vervelend! Ik zet het door naar de wijkagent"  # edit mark gone


@pytest.mark.parametrize(
    ("name", "sender", "expected"),
    [
        (
            "ios_nl_crlf.txt",
            "Els",
            "Schouw donderdag 19:30 met de wijkagent, verzamelen bij de kerk.\nNeem een zaklamp mee!\n"
            "[18-09-2025, 21:00:00] Joost: zo zag de uitnodiging van vorig jaar eruit",
        ),
        (
            "android_en_us.txt",
            "Tom",
            "Someone is trying car doors on Oak Lane\nGrey hoodie, heading to the park\n"
            f"3/14/24, 11:50{NNBSP}PM - Tom: copied from the other group",
        ),
    ],
)
def test_with_crlf_records_a_header_after_a_bare_line_feed_stays_inside_the_message(
    name: str, sender: str, expected: str
) -> None:
    multi_line = [m for m in members(records(name)) if "\n" in m.text]
    assert [(m.sender, m.text) for m in multi_line] == [(sender, expected)]


def test_us_twelve_hour_clock_with_narrow_space_gives_local_times() -> None:
    found = records("android_en_us.txt")
    times = [record.at for record in found if not isinstance(record, Skipped)]
    assert times[4] == at(2024, 3, 14, 23, 48)  # 11:48 PM
    assert times[11] == at(2024, 3, 18, 0, 5)  # 12:05 AM
    assert times[12] == at(2024, 3, 18, 12, 30)  # 12:30 PM
    messages = members(found)
    assert [m.content for m in messages[2:5]] == [
        ContentKind.MEDIA,
        ContentKind.DELETED,
        ContentKind.DELETED,
    ]
    assert [(s.kind, s.subjects) for s in systems(found)][2:] == [
        (SystemKind.ADDED, ("Tom", "+31 6 34567890", "Sara")),
        (SystemKind.JOINED, ("Piet",)),
        (SystemKind.SUBJECT_CHANGED, ()),
        (SystemKind.SECURITY_CODE_CHANGED, ("Sara",)),
        (SystemKind.LEFT, ("Sara",)),
        (SystemKind.REMOVED, ("Tom",)),
    ]


def test_ios_english_export_keeps_a_sender_name_with_a_colon_and_phone_numbers() -> None:
    found = records("ios_en_us.txt")
    messages = members(found)
    assert [m.sender for m in messages] == [
        "Wijkagent: Jansen",
        "+44 7700 900123",
        "+44 7700 900123",
        "Anja",
        "Wijkagent: Jansen",
        "Anja",
    ]
    assert messages[0].text == "Goedemorgen, ik lees mee. Bij spoed altijd 112."
    assert messages[4].text == "Bedankt, we sturen een auto langs\nGraag ook melden via 0900-8844"
    assert [m.content for m in messages] == [
        ContentKind.TEXT,
        ContentKind.TEXT,
        ContentKind.MEDIA,
        ContentKind.MEDIA,
        ContentKind.TEXT,
        ContentKind.DELETED,
    ]
    assert messages[4].at == at(2025, 3, 2, 22, 18, 40)
    assert [(s.kind, s.subjects) for s in systems(found)] == [
        (SystemKind.ENCRYPTION, ()),
        (SystemKind.CREATED, ()),
        (SystemKind.ADDED, ("Wijkagent: Jansen",)),
        (SystemKind.SECURITY_CODE_CHANGED, ("Anja",)),
        (SystemKind.LEFT, ("+44 7700 900123",)),
    ]


def test_ambiguous_dates_are_read_in_the_order_where_days_follow_each_other() -> None:
    day_first = records("android_en_dmy_ambiguous.txt")
    assert [record.at.date().isoformat() for record in members(day_first)] == [
        "2024-03-01",
        "2024-03-02",
        "2024-03-03",
        "2024-03-05",
        "2024-03-09",
        "2024-03-10",
    ]
    assert members(day_first)[-1].at == at(2024, 3, 10, 0, 40)  # 12:40 a.m.
    month_first = scan(
        "03/01/2024, 19:45 - Lisa: one\n03/02/2024, 08:10 - Omar: two\n"
        "03/04/2024, 12:05 - Lisa: three\n",
        AMSTERDAM,
    )
    assert month_first.dialect.day_first is False
    assert [m.at.day for m in members(list(month_first.records()))] == [1, 2, 4]


def test_a_date_that_does_not_exist_is_skipped_with_its_reason() -> None:
    export = scan(
        "30-01-2024 10:00 - Anja: goed\n31-02-2024 10:00 - Anja: kan niet\n"
        "01-03-2024 10:00 - Anja: weer goed\n",
        AMSTERDAM,
    )
    found = list(export.records())
    assert [type(record) for record in found] == [MemberMessage, Skipped, MemberMessage]
    assert found[1] == Skipped("invalid_date")


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)


@pytest.mark.parametrize(
    ("fixture", "layout"),
    [
        ("android_nl.txt", {"WhatsApp Chat met Buurtpreventie Merelbuurt.txt": None}),
        (
            "android_nl_media.txt",
            {
                "WhatsApp Chat met Buurtpreventie Merelbuurt.txt": None,
                "IMG-20240313-WA0001.jpg": JPEG,
                "PTT-20240313-WA0002.opus": b"OggS" + bytes(32),
            },
        ),
        (
            "ios_nl.txt",
            {"_chat.txt": None, "00000007-PHOTO-2024-04-03-08-02-59.jpg": JPEG},
        ),
        (
            "ios_nl.txt",
            {
                "WhatsApp Chat - Buurtwacht Lijsterstraat/_chat.txt": None,
                "WhatsApp Chat - Buurtwacht Lijsterstraat/00000007-PHOTO-2024-04-03-08-02-59.jpg": JPEG,
                "__MACOSX/WhatsApp Chat - Buurtwacht Lijsterstraat/._chat.txt": b"\x00\x05\x16\x07",
            },
        ),
    ],
    ids=["android-text-only", "android-with-media", "ios-with-media", "ios-in-a-folder"],
)
def test_zip_exports_read_the_chat_whatever_lies_beside_it(
    tmp_path: Path, fixture: str, layout: dict[str, bytes | None]
) -> None:
    chat = (FIXTURES / fixture).read_bytes()
    archive = _zip(
        tmp_path / "export.zip",
        {name: chat if data is None else data for name, data in layout.items()},
    )
    from_zip = list(read_export(archive, AMSTERDAM).records())
    assert from_zip == records(fixture)


def _corrupt_zip(path: Path) -> Path:
    whole = _zip(path.with_name("whole.zip"), {"_chat.txt": (FIXTURES / "ios_nl.txt").read_bytes()})
    path.write_bytes(whole.read_bytes()[:120])
    return path


@pytest.mark.parametrize(
    ("name", "make", "key"),
    [
        (
            "report.pdf",
            lambda p: p.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"),
            "import_error_pdf",
        ),
        ("empty.txt", lambda p: p.write_bytes(b""), "import_error_empty"),
        ("blank.txt", lambda p: p.write_bytes(b"\r\n\r\n  \n"), "import_error_empty"),
        (
            "meldingen.csv",
            lambda p: p.write_bytes(
                b"datum;tijd;omschrijving\n12-03-2024;22:15;fiets gestolen\n"
                b"13-03-2024;07:00;lamp kapot\n"
            ),
            "import_error_not_whatsapp",
        ),
        (
            "system-only.txt",
            lambda p: p.write_bytes(b'12-03-2024 21:02 - Anja heeft groep "X" aangemaakt\n'),
            "import_error_not_whatsapp",
        ),
        ("photo.txt", lambda p: p.write_bytes(JPEG), "import_error_not_text"),
        (
            "latin1.txt",
            lambda p: p.write_bytes("caf\xe9 \xe9\xe9n".encode("latin-1")),
            "import_error_not_text",
        ),
        ("broken.zip", _corrupt_zip, "import_error_zip_corrupt"),
        (
            "not-really.zip",
            lambda p: p.write_bytes(b"PK\x03\x04 this is no zip at all"),
            "import_error_zip_corrupt",
        ),
        (
            "photos.zip",
            lambda p: _zip(p, {"IMG-20240313-WA0001.jpg": JPEG}),
            "import_error_zip_no_chat",
        ),
    ],
)
def test_files_that_are_not_exports_get_a_clear_reason(
    tmp_path: Path, name: str, make: object, key: str
) -> None:
    path = tmp_path / name
    make(path)  # type: ignore[operator]
    with pytest.raises(UnreadableFile) as raised:
        read_export(path, AMSTERDAM)
    assert raised.value.key == key


def test_a_missing_file_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile) as raised:
        read_export(tmp_path / "weg.txt", AMSTERDAM)
    assert raised.value.key == "import_error_not_found"
    assert raised.value.values == {"path": str(tmp_path / "weg.txt")}
