"""Reading the spreadsheets coordinators keep by hand (.xlsx, .csv): one report per row.

The columns are recognised by their Dutch or English names (date, time, description, category,
location, reporter), or named with `ColumnChoice`. Dates are read as Dutch people write them
(day first) unless the column shows otherwise. Pure: no database, no settings.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from importers.errors import UnreadableFile

ROLES = ("date", "time", "text", "category", "location", "sender")
# Names as they are normalised by `_normal` (lower case, letters and digits only).
_NAMES: dict[str, tuple[str, ...]] = {
    "date": (
        "datum", "date", "dag", "datummelding", "meldingsdatum", "datumvoorval",
        "datumincident", "datumtijd", "datetime", "gemeldop", "wanneer", "timestamp",
        "tijdstempel", "reportdate", "incidentdate", "day", "when",
    ),
    "time": ("tijd", "time", "tijdstip", "uur", "tijdmelding", "hour"),
    "text": (
        "omschrijving", "beschrijving", "melding", "bericht", "toelichting", "wat",
        "watisergebeurd", "details", "opmerking", "opmerkingen", "tekst", "signaal",
        "description", "message", "text", "report", "notes", "note", "incident", "summary",
    ),
    "category": (
        "categorie", "soort", "soortmelding", "type", "typemelding", "onderwerp", "rubriek",
        "classificatie", "category", "kind", "subject", "topic",
    ),
    "location": (
        "locatie", "plaats", "adres", "straat", "waar", "plek", "buurt", "wijk",
        "location", "place", "address", "street", "where", "area",
    ),
    "sender": (
        "melder", "gemelddoor", "naam", "naammelder", "ingevoerddoor", "reporter",
        "reportedby", "name", "sender",
    ),
}  # fmt: skip
_HEADER_ROWS_SEARCHED = 10
_MIDDAY = time(12, 0)  # a row with a date but no time: midday keeps it on its own day
_NUMERIC_DATE = re.compile(
    r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})(?:[ T,]+(\d{1,2})[:.u](\d{2})(?:[:.](\d{2}))?)?"
)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?.*")
_TIME = re.compile(r"(\d{1,2})[:.u](\d{2})(?:[:.](\d{2}))?\s*([AaPp]\.?\s?[Mm]\.?)?")
_EXCEL_EPOCH = datetime(1899, 12, 30)


@dataclass(frozen=True)
class ColumnChoice:
    """Column names (or letters: "B") that override the recognised ones."""

    date: str | None = None
    time: str | None = None
    text: str | None = None
    category: str | None = None
    location: str | None = None
    sender: str | None = None


@dataclass(frozen=True, slots=True)
class SheetRow:
    """One report: when (local time, aware), what, the coordinator's category, who reported it."""

    at: datetime
    text: str
    category: str | None
    sender: str | None


@dataclass
class Sheet:
    columns: dict[str, str]  # role → the header as written in the file
    rows: list[SheetRow]
    skipped: Counter[str] = field(default_factory=Counter)


def _normal(name: object) -> str:
    ascii_name = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_name.casefold())


def _letter_index(name: str) -> int | None:
    """ "B" → 1: a column given by its spreadsheet letter."""
    if not re.fullmatch(r"[A-Za-z]{1,2}", name):
        return None
    index = 0
    for character in name.upper():
        index = index * 26 + ord(character) - ord("A") + 1
    return index - 1


def _columns(header: Sequence[object], choice: ColumnChoice) -> dict[str, int]:
    """Role → column index, from the override first and the known names after."""
    normal = [_normal(cell) if cell is not None else "" for cell in header]
    found: dict[str, int] = {}
    for role in ROLES:
        wanted = getattr(choice, role)
        if wanted is None:
            continue
        if _normal(wanted) in normal:
            found[role] = normal.index(_normal(wanted))
        elif (index := _letter_index(wanted)) is not None and index < len(header):
            found[role] = index
        else:
            raise UnreadableFile("import_error_sheet_column_missing", column=wanted)
    taken = set(found.values())
    for role in ROLES:
        if role in found:
            continue
        for name in _NAMES[role]:
            if name in normal and normal.index(name) not in taken:
                found[role] = normal.index(name)
                taken.add(found[role])
                break
    if "date" not in found and "time" in found and normal[found["time"]] == "tijdstip":
        found["date"] = found.pop("time")
    return found


def read_sheet(
    path: Path, zone: ZoneInfo, choice: ColumnChoice, sheet_name: str | None = None
) -> Sheet:
    """Read every report row of a .xlsx or .csv; `UnreadableFile` when it has none to give."""
    try:
        with path.open("rb") as file:
            magic = file.read(8)
    except OSError:
        raise UnreadableFile("import_error_not_found", path=str(path)) from None
    if not magic:
        raise UnreadableFile("import_error_empty")
    if magic.startswith(b"%PDF"):
        raise UnreadableFile("import_error_pdf")
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("import_error_sheet_xls")
    if magic.startswith(b"PK") or path.suffix.casefold() in (".xlsx", ".xlsm"):
        table = _xlsx_rows(path, sheet_name)
    else:
        table = _csv_rows(path.read_bytes())
    return _rows(table, zone, choice)


def _xlsx_rows(path: Path, sheet_name: str | None) -> list[tuple[object, ...]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise UnreadableFile("import_error_sheet_unreadable") from None
    try:
        if sheet_name is not None:
            if sheet_name not in workbook.sheetnames:
                raise UnreadableFile(
                    "import_error_sheet_tab_missing",
                    sheet=sheet_name,
                    sheets=", ".join(workbook.sheetnames),
                )
            worksheet = workbook[sheet_name]
        else:
            worksheet = workbook.worksheets[0]
        return [tuple(row) for row in worksheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _csv_rows(raw: bytes) -> list[tuple[object, ...]]:
    if b"\x00" in raw[:4096]:
        raise UnreadableFile("import_error_not_text")
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves CSV in the ANSI code page.
        content = raw.decode("cp1252", errors="replace")
    sample = content[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=";,\t|")
    except csv.Error:
        dialect = csv.excel
        if sample.count(";") > sample.count(","):
            dialect = _Semicolon
    return [tuple(row) for row in csv.reader(io.StringIO(content), dialect)]


class _Semicolon(csv.excel):
    delimiter = ";"


def _rows(table: list[tuple[object, ...]], zone: ZoneInfo, choice: ColumnChoice) -> Sheet:
    header_at, columns = None, {}
    for number, row in enumerate(table[:_HEADER_ROWS_SEARCHED]):
        found = _columns(row, choice)
        if "date" in found and "text" in found:
            header_at, columns = number, found
            break
    if header_at is None:
        first = next((row for row in table if any(_filled(cell) for cell in row)), ())
        raise UnreadableFile(
            "import_error_sheet_columns",
            found=", ".join(str(cell) for cell in first if _filled(cell)) or "-",
        )
    header = table[header_at]
    body = [row for row in table[header_at + 1 :] if any(_filled(cell) for cell in row)]
    day_first = _day_first(_cell(row, columns["date"]) for row in body)

    rows: list[SheetRow] = []
    skipped: Counter[str] = Counter()
    for row in body:
        text = _text(_cell(row, columns["text"]))
        if not text:
            skipped["no_text"] += 1
            continue
        at = _when(
            _cell(row, columns["date"]),
            _cell(row, columns["time"]) if "time" in columns else None,
            day_first,
        )
        if at is None:
            skipped["no_date"] += 1
            continue
        location = _text(_cell(row, columns["location"])) if "location" in columns else ""
        if location and location.casefold() not in text.casefold():
            text = f"{text} ({location})"
        category = _text(_cell(row, columns["category"])) if "category" in columns else ""
        sender = _text(_cell(row, columns["sender"])) if "sender" in columns else ""
        rows.append(SheetRow(at.replace(tzinfo=zone), text, category[:80] or None, sender or None))
    names = {role: str(header[index]) for role, index in columns.items()}
    return Sheet(names, rows, skipped)


def _filled(cell: object) -> bool:
    return cell is not None and str(cell).strip() != ""


def _cell(row: Sequence[object], index: int) -> object:
    return row[index] if index < len(row) else None


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


def _day_first(cells: Iterable[object]) -> bool:
    """Dutch sheets put the day first; only a column whose second part goes past 12 does not."""
    first_over = second_over = 0
    for cell in cells:
        if isinstance(cell, str) and (match := _NUMERIC_DATE.match(cell.strip())):
            first_over += int(match.group(1)) > 12
            second_over += int(match.group(2)) > 12
    return not second_over > first_over


def _when(day_cell: object, time_cell: object, day_first: bool) -> datetime | None:
    """A naive local datetime from a date cell and an optional time cell."""
    moment = _date_value(day_cell, day_first)
    if moment is None:
        return None
    clock = _time_value(time_cell)
    if clock is not None:
        return datetime.combine(moment.date(), clock)
    return moment


def _date_value(cell: object, day_first: bool) -> datetime | None:
    if isinstance(cell, datetime):
        moment = cell.replace(tzinfo=None)
        return moment if moment.time() != time(0) else datetime.combine(moment.date(), _MIDDAY)
    if isinstance(cell, date):
        return datetime.combine(cell, _MIDDAY)
    if isinstance(cell, int | float) and 20_000 < cell < 80_000:
        moment = _EXCEL_EPOCH + timedelta(days=float(cell))
        return moment if moment.time() != time(0) else datetime.combine(moment.date(), _MIDDAY)
    if not isinstance(cell, str) or not cell.strip():
        return None
    value = cell.strip()
    try:
        if match := _ISO_DATE.fullmatch(value):
            year, month, day, hour, minute, second = match.groups()
            return _moment(int(year), int(month), int(day), hour, minute, second)
        if match := _NUMERIC_DATE.fullmatch(value):
            first, second_part, year, hour, minute, second = match.groups()
            day, month = (first, second_part) if day_first else (second_part, first)
            full_year = int(year) + 2000 if len(year) == 2 else int(year)
            return _moment(full_year, int(month), int(day), hour, minute, second)
    except ValueError:
        return None
    import dateparser

    parsed = dateparser.parse(
        value,
        languages=["nl", "en"],
        settings={
            "DATE_ORDER": "DMY" if day_first else "MDY",
            "REQUIRE_PARTS": ["day", "month", "year"],
        },
    )
    if parsed is None:
        return None
    return parsed if parsed.time() != time(0) else datetime.combine(parsed.date(), _MIDDAY)


def _moment(
    year: int, month: int, day: int, hour: str | None, minute: str | None, second: str | None
) -> datetime:
    if hour is None or minute is None:
        return datetime.combine(date(year, month, day), _MIDDAY)
    return datetime(year, month, day, int(hour), int(minute), int(second or 0))


def _time_value(cell: object) -> time | None:
    if isinstance(cell, datetime):
        return cell.time()
    if isinstance(cell, time):
        return cell.replace(tzinfo=None)
    if isinstance(cell, float) and 0 <= cell < 1:
        return (datetime.min + timedelta(days=cell)).time().replace(microsecond=0)
    if not isinstance(cell, str) or not (match := _TIME.fullmatch(cell.strip())):
        return None
    hour, minute, second, ampm = match.groups()
    hours = int(hour)
    if ampm:
        hours = hours % 12 + (12 if ampm[0] in "pP" else 0)
    try:
        return time(hours, int(minute), int(second or 0))
    except ValueError:
        return None
