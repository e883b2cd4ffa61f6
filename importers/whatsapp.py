"""Reading WhatsApp's "Export chat" files: Android and iOS, Dutch and English phone settings.

`read_export(path, zone)` opens the .txt or the .zip that WhatsApp writes, checks that it is an
export and works out its format from the file itself (brackets, date order, 12- or 24-hour
clock, CRLF between records); `ChatExport.records()` then yields typed records in file order.
Pure: no database, no settings.
"""

from __future__ import annotations

import enum
import itertools
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import NamedTuple
from zoneinfo import ZoneInfo

from importers.errors import UnreadableFile

# Records enough to know how an export writes its headers and dates (weeks of a busy group).
_SAMPLE = 20_000
# Far above any real export (a million messages is ~100 MB); stops a zip bomb.
MAX_CHAT_BYTES = 512 * 1024 * 1024

# Characters WhatsApp puts around names, phone numbers and mentions. The direction marks before
# system texts are read first, then removed too.
_INVISIBLE = re.compile("[\u202a-\u202e\u2066-\u2069\ufeff]")
_LRM, _RLM = "\u200e", "\u200f"
_SPACE = "[ \u00a0\u202f]"
_AMPM = rf"[AaPp]\.?{_SPACE}?[Mm]\.?"


class ContentKind(enum.StrEnum):
    """What a member's message holds: text, only a media placeholder, or a deleted-message mark."""

    TEXT = "text"
    MEDIA = "media"
    DELETED = "deleted"


class SystemKind(enum.StrEnum):
    """What a system message says; joins, adds, leaves and removals change the membership."""

    ENCRYPTION = "encryption"
    CREATED = "created"
    JOINED = "joined"
    ADDED = "added"
    LEFT = "left"
    REMOVED = "removed"
    SUBJECT_CHANGED = "subject_changed"
    SECURITY_CODE_CHANGED = "security_code_changed"
    NUMBER_CHANGED = "number_changed"
    OTHER = "other"


MEMBERSHIP_KINDS = frozenset(
    {SystemKind.JOINED, SystemKind.ADDED, SystemKind.LEFT, SystemKind.REMOVED}
)


# Records are named tuples: an export can hold a million of them, and a tuple is cheap to make.
class MemberMessage(NamedTuple):
    """A message a member wrote; `at` is the export's local wall-clock time, made aware."""

    at: datetime
    sender: str
    text: str
    content: ContentKind


class SystemMessage(NamedTuple):
    """A line WhatsApp wrote itself. `subjects` are the members it is about; None is "you",
    whoever exported the chat (the export does not say who that is)."""

    at: datetime
    kind: SystemKind
    subjects: tuple[str | None, ...]


class Skipped(NamedTuple):
    """A record that could not be used, and why (`invalid_date`, `empty_message`)."""

    reason: str


Record = MemberMessage | SystemMessage | Skipped


@dataclass(frozen=True, slots=True)
class Dialect:
    """How this export writes its record headers, as worked out from the file."""

    bracketed: bool  # iOS: "[12-03-24 14:05:33] "; Android: "12-03-2024 14:05 - "
    separator: str
    comma: bool
    year_first: bool
    year_digits: int
    seconds: bool
    twelve_hour: bool
    day_first: bool
    # Records end in CRLF while line breaks inside a message are a bare LF: only a line after a
    # CRLF can start a record, whatever the line looks like.
    crlf_records: bool


# ----------------------------------------------------------------------------------------------
# Record headers

_HEADER_PARTS = (
    r"(?P<pre>[\u200e\u200f]*)(?P<br>\[)?"
    r"(?P<a>\d{1,4})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})"
    rf"(?P<comma>,)?{_SPACE}"
    r"(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?"
    rf"(?:{_SPACE}?(?P<ampm>{_AMPM}))?"
    rf"(?(br)\]{_SPACE}|{_SPACE}-{_SPACE})"
)
_ANY_HEADER = re.compile(_HEADER_PARTS)


def _anchor(crlf_records: bool) -> str:
    return r"(?:\A|(?<=\r\n))" if crlf_records else r"(?m:^)"


def _strict_header(dialect: Dialect, *, capture: bool = True) -> str:
    """A header regex that accepts only this export's own header shape.

    With `capture`, the date and time parts are named groups; without, there are none.
    """
    sep = re.escape(dialect.separator)
    if dialect.year_first:
        date = rf"(?P<a>\d{{4}}){sep}(?P<b>\d{{1,2}}){sep}(?P<c>\d{{1,2}})"
    else:
        year = rf"\d{{{dialect.year_digits}}}"
        date = rf"(?P<a>\d{{1,2}}){sep}(?P<b>\d{{1,2}}){sep}(?P<c>{year})"
    seconds = r"[:.](?P<S>\d{2})" if dialect.seconds else r"(?P<S>)"
    ampm = rf"{_SPACE}?(?P<ampm>{_AMPM})" if dialect.twelve_hour else r"(?P<ampm>)"
    pattern = (
        _anchor(dialect.crlf_records)
        + r"(?P<pre>[\u200e\u200f]*)"
        + (r"\[" if dialect.bracketed else "")
        + date
        + ("," if dialect.comma else "")
        + _SPACE
        + r"(?P<H>\d{1,2})[:.](?P<M>\d{2})"
        + seconds
        + ampm
        + (rf"\]{_SPACE}" if dialect.bracketed else rf"{_SPACE}-{_SPACE}")
    )
    return pattern if capture else re.sub(r"\(\?P<\w+>", "(?:", pattern)


# ----------------------------------------------------------------------------------------------
# What a message holds

_MEDIA_PLACEHOLDERS = frozenset(
    text.casefold()
    for text in (
        "<Media weggelaten>",
        "<Media omitted>",
        "afbeelding weggelaten",
        "video weggelaten",
        "audio weggelaten",
        "sticker weggelaten",
        "GIF weggelaten",
        "document weggelaten",
        "Contactkaart weggelaten",
        "Visitekaartje weggelaten",
        "<Videonotitie weggelaten>",
        "image omitted",
        "video omitted",
        "audio omitted",
        "sticker omitted",
        "GIF omitted",
        "document omitted",
        "Contact card omitted",
        "<Video note omitted>",
    )
)
_TOMBSTONES = frozenset(
    {
        "dit bericht is verwijderd",
        "je hebt dit bericht verwijderd",
        "u hebt dit bericht verwijderd",
        "dit bericht is verwijderd door een beheerder",
        "this message was deleted",
        "you deleted this message",
        "this message was deleted by admin",
    }
)
# iOS: "<bijgevoegd: 00000012-PHOTO-2024-03-12-21-15-02.jpg>", a document name may come first.
_IOS_ATTACHMENT = re.compile(r"(?:[^\n<]*\s)?<(?:bijgevoegd|attached): [^>\n]+>")
# Android with media: "IMG-20240312-WA0003.jpg (bestand bijgevoegd)", a caption on the next lines.
_ANDROID_ATTACHMENT = re.compile(r"[^\n]*\((?:bestand bijgevoegd|file attached)\)")
_EDITED = re.compile(r"\s*<(?:Dit bericht is bewerkt|This message was edited)>\s*\Z")


def _content(text: str) -> tuple[ContentKind, str]:
    """Tell media placeholders and deleted-message marks from text; keep a media caption."""
    text = text.strip()
    if len(text) <= 48:
        folded = text.casefold()
        if folded in _MEDIA_PLACEHOLDERS:
            return ContentKind.MEDIA, ""
        if folded.rstrip(".") in _TOMBSTONES:
            return ContentKind.DELETED, ""
    if "<bijgevoegd: " in text or "<attached: " in text:
        match = _IOS_ATTACHMENT.match(text)
        if match:
            caption = text[match.end() :].strip()
            return (ContentKind.TEXT, caption) if caption else (ContentKind.MEDIA, "")
    if "bijgevoegd)" in text or "attached)" in text:
        match = _ANDROID_ATTACHMENT.match(text)
        if match:
            caption = text[match.end() :].strip()
            return (ContentKind.TEXT, caption) if caption else (ContentKind.MEDIA, "")
    return ContentKind.TEXT, text


# ----------------------------------------------------------------------------------------------
# System messages, in the order they are tried: the specific ones before the loose ones.

_NOT_A_PERSON = r"(?!(?:de|het|dit|deze|een|this|the|a|an|their|his|her) )"
_SYSTEM_PATTERNS: tuple[tuple[SystemKind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE | re.DOTALL))
    for kind, pattern in (
        (
            SystemKind.ENCRYPTION,
            r"^(?:berichten en (?:oproepen|gesprekken) (?:worden|zijn) end-to-end versleuteld"
            r"|berichten (?:die naar deze (?:groep|chat) worden (?:verzonden|verstuurd)|naar deze groep), "
            r"zijn nu beveiligd met end-to-end versleuteling"
            r"|messages and calls are end-to-end encrypted"
            r"|messages (?:you send )?to this (?:group|chat)(?: and calls)? are now secured with "
            r"end-to-end encryption)",
        ),
        (
            SystemKind.SECURITY_CODE_CHANGED,
            r"^(?:je|uw|de) beveiligingscode (?:voor|met|van) (?P<subjects>.+?) is gewijzigd\b",
        ),
        (SystemKind.SECURITY_CODE_CHANGED, r"^your security code with (?P<subjects>.+?) changed\b"),
        (
            SystemKind.CREATED,
            r"^.+? (?:heeft|hebt) (?:de |deze )?groep\b.*\b(?:aangemaakt|gemaakt)\.?$",
        ),
        (SystemKind.CREATED, r"^.+? created (?:the |this )?group\b"),
        (
            SystemKind.SUBJECT_CHANGED,
            r"^.+? (?:heeft|hebt) (?:het onderwerp|de groepsnaam|de naam van (?:de|deze) groep)"
            r"(?: van deze groep)? (?:gewijzigd|veranderd)\b",
        ),
        (
            SystemKind.SUBJECT_CHANGED,
            r"^.+? changed (?:the subject|the group name|this group's name)\b",
        ),
        (
            SystemKind.JOINED,
            r"^(?P<subjects>.+?) (?:(?:is|ben|bent|zijn) (?:deelnemer|lid) geworden"
            r"|(?:neemt|neem|nemen) deel|(?:heeft|hebt|hebben) deelgenomen"
            r"|(?:is|ben|bent|zijn) toegetreden) (?:via|met|vanuit)\b",
        ),
        (SystemKind.JOINED, r"^(?P<subjects>.+?) joined (?:using|via|from)\b"),
        (SystemKind.LEFT, r"^(?P<subjects>.+?) (?:heeft|hebt|hebben) de groep verlaten\.?$"),
        (SystemKind.LEFT, r"^(?P<subjects>.+?) left\.?$"),
        (
            SystemKind.ADDED,
            rf"^.+? (?:heeft|hebt|hebben) {_NOT_A_PERSON}(?P<subjects>.+?) toegevoegd\.?$",
        ),
        (SystemKind.ADDED, rf"^.+? added {_NOT_A_PERSON}(?P<subjects>.+?)\.?$"),
        (SystemKind.ADDED, r"^(?P<subjects>je|u|jij) (?:bent|ben) toegevoegd\b"),
        (SystemKind.ADDED, r"^(?P<subjects>you) were added\b"),
        (
            SystemKind.REMOVED,
            rf"^.+? (?:heeft|hebt|hebben) {_NOT_A_PERSON}(?P<subjects>.+?) verwijderd\.?$",
        ),
        (SystemKind.REMOVED, rf"^.+? removed {_NOT_A_PERSON}(?P<subjects>.+?)\.?$"),
        (SystemKind.REMOVED, r"^(?P<subjects>je|u|jij) (?:bent|ben) verwijderd\b"),
        (SystemKind.REMOVED, r"^(?P<subjects>you) were removed\b"),
        (
            SystemKind.NUMBER_CHANGED,
            r"^.+? (?:is gewijzigd naar|heeft een nieuw telefoonnummer|changed to"
            r"|changed their phone number)\b",
        ),
    )
)
# Texts that are system messages even where iOS writes them as if a member sent them.
_UNMISTAKABLE = frozenset({SystemKind.ENCRYPTION, SystemKind.SECURITY_CODE_CHANGED})
_UNMISTAKABLE_STARTS = (
    "berichten ",
    "messages ",
    "je beveiligingscode",
    "uw beveiligingscode",
    "de beveiligingscode",
    "your security code",
)
_QUOTES = re.compile('["“”]')
_NAME_LIST = re.compile(r"\s*,\s*|\s+(?:en|and|&)\s+")
_YOU = frozenset({"je", "jij", "jou", "u", "you"})


def _system(text: str) -> tuple[SystemKind, tuple[str | None, ...]] | None:
    for kind, pattern in _SYSTEM_PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        named = match.groupdict().get("subjects")
        if not named:
            return kind, ()
        subjects = tuple(
            None if name.casefold() in _YOU else name
            for name in (part.strip().strip('"“”') for part in _NAME_LIST.split(named))
            if name
        )
        return kind, subjects
    return None


def clean_name(name: str) -> str:
    """A sender's name without invisible characters, the "~" of non-contacts, extra spaces."""
    name = _INVISIBLE.sub("", name).replace(_LRM, "").replace(_RLM, "")
    return " ".join(name.lstrip().lstrip("~").split())


# ----------------------------------------------------------------------------------------------
# The export


@dataclass
class ChatExport:
    """A decoded export whose format is known; `records()` reads it."""

    text: str
    dialect: Dialect
    zone: ZoneInfo
    record_count: int
    # First-split senders whose every message starts with the same "x: ": names with ": " in them.
    colon_names: dict[str, str]
    chat_file: str
    _days: dict[tuple[str, str, str], tuple[int, int, int] | tuple[()]] = field(
        default_factory=dict
    )
    _names: dict[str, str] = field(default_factory=dict)

    def records(self) -> Iterator[Record]:
        """Every record in file order: member messages, system messages and skipped ones."""
        text = self.text
        pending: re.Match[str] | None = None
        for header in re.compile(_strict_header(self.dialect)).finditer(text):
            if pending is not None:
                yield self._record(pending, text[pending.end() : header.start()])
            pending = header
        if pending is not None:
            yield self._record(pending, text[pending.end() :])

    def _record(self, header: re.Match[str], body: str) -> Record:
        marks, a, b, c, hour, minute, second, ampm = header.groups()
        day = self._days.get((a, b, c))
        if day is None:
            day = self._days[(a, b, c)] = self._date(int(a), int(b), int(c))
        at = self._time(day, hour, minute, second, ampm) if day else None
        if at is None:
            return Skipped("invalid_date")
        body = body.rstrip("\r\n")
        if "\r" in body:
            body = body.replace("\r\n", "\n")
        first_end = body.find("\n")
        split = body.find(": ", 0, first_end if first_end >= 0 else len(body))
        if split <= 0:
            return self._system_record(at, body)
        head = body[:split]
        if ('"' in head or "“" in head or "”" in head) and len(_QUOTES.findall(head)) % 2:
            # The ": " is inside a quoted group name ("Buurt: Noord"): a system line.
            return self._system_record(at, body)
        sender = self.colon_names.get(head, head)
        rest = body[len(sender) + 2 :]
        # iOS marks system lines (and media) with a left-to-right mark before the line or text.
        marked = bool(marks)
        if not rest.isascii():  # every mark is outside ASCII; most Dutch texts are not
            marked = marked or rest.startswith((_LRM, _RLM))
            rest = _INVISIBLE.sub("", rest).replace(_LRM, "").replace(_RLM, "")
        if rest.endswith(">"):
            rest = _EDITED.sub("", rest)
        content, message = _content(rest)
        if content is ContentKind.TEXT:
            if not message:
                return Skipped("empty_message")
            if marked or message[:20].casefold().startswith(_UNMISTAKABLE_STARTS):
                system = _system(message)
                if system is not None and (marked or system[0] in _UNMISTAKABLE):
                    return SystemMessage(at, *system)
        name = self._names.get(sender)
        if name is None:
            name = self._names[sender] = clean_name(sender)
        return MemberMessage(at, name, message, content)

    def _system_record(self, at: datetime, body: str) -> SystemMessage:
        text = " ".join(_INVISIBLE.sub("", body).replace(_LRM, "").replace(_RLM, "").split())
        found = _system(text)
        return SystemMessage(at, *found) if found else SystemMessage(at, SystemKind.OTHER, ())

    def _time(
        self, day: tuple[int, int, int], hour: str, minute: str, second: str, ampm: str
    ) -> datetime | None:
        hours = int(hour)
        if ampm:
            if not 1 <= hours <= 12:
                return None
            hours = hours % 12 + (12 if ampm[0] in "pP" else 0)
        try:
            return datetime(
                *day, hours, int(minute), int(second) if second else 0, tzinfo=self.zone
            )
        except ValueError:
            return None

    def _date(self, a: int, b: int, c: int) -> tuple[int, int, int] | tuple[()]:
        """(year, month, day), or () for a date that does not exist."""
        if self.dialect.year_first:
            year, month, day = a, b, c
        elif self.dialect.day_first:
            day, month, year = a, b, c
        else:
            month, day, year = a, b, c
        year += 2000 if year < 100 else 0
        try:
            datetime(year, month, day)
        except ValueError:
            return ()
        return year, month, day


def read_export(path: Path, zone: ZoneInfo) -> ChatExport:
    """Open an export (.txt, or the .zip with or without media) and work out its format.

    Raises `UnreadableFile` for anything that is not a WhatsApp export.
    """
    raw, chat_file = _chat_bytes(path)
    text = _decode(raw)
    return scan(text, zone, chat_file)


def scan(text: str, zone: ZoneInfo, chat_file: str = "") -> ChatExport:
    """Work out an export's format from its text.

    The header shape and the date order come from the first records; one regex pass over all
    records then finds the senders (for names with ": " in them).
    """
    text = text.lstrip("\ufeff")
    start = len(text) - len(text.lstrip())
    if start == len(text):
        raise UnreadableFile("import_error_empty")
    if _ANY_HEADER.match(text, start) is None:
        raise UnreadableFile("import_error_not_whatsapp")
    crlf_records = 0 < text.count("\r\n") < text.count("\n")

    shapes: Counter[tuple[bool, str, bool, int, bool, bool]] = Counter()
    dates: dict[tuple[str, str, str], None] = {}  # distinct, in order of appearance
    any_header = re.compile(_anchor(crlf_records) + _HEADER_PARTS)
    for match in itertools.islice(any_header.finditer(text), _SAMPLE):
        _pre, br, a, sep, b, c, comma, _h, _m, s, ampm = match.groups()
        year_digits = len(a) if len(a) == 4 else -len(c)  # negative: the year comes last
        shape = (
            br is not None,
            sep,
            comma is not None,
            year_digits,
            s is not None,
            ampm is not None,
        )
        shapes[shape] += 1
        dates[(a, b, c)] = None
    (bracketed, separator, comma, year_digits, seconds, twelve_hour) = shapes.most_common(1)[0][0]
    day_first = True
    if year_digits < 0:
        numbers = [(int(a), int(b), int(c)) for a, b, c in dates]
        day_first = _day_first(
            sum(first > 12 for first, _, _ in numbers),
            sum(second > 12 for _, second, _ in numbers),
            numbers,
            twelve_hour,
            separator,
        )
    dialect = Dialect(
        bracketed=bracketed,
        separator=separator,
        comma=comma,
        year_first=year_digits > 0,
        year_digits=abs(year_digits),
        seconds=seconds,
        twelve_hour=twelve_hour,
        day_first=day_first,
        crlf_records=crlf_records,
    )
    # Per record: the sender, and the text before a second ": " if there is one.
    survey = re.compile(
        _strict_header(dialect, capture=False) + r"(?:([^\n:]+): (?:([^\n:]{1,40}): )?)?"
    ).findall(text)
    sender_counts: Counter[str] = Counter()
    prefixes: dict[str, set[str]] = {}
    for (name, prefix), seen in Counter(survey).items():
        if name:
            sender_counts[name] += seen
            prefixes.setdefault(name, set()).add(prefix)
    if not sender_counts:
        raise UnreadableFile("import_error_not_whatsapp")
    colon_names = {
        name: f"{name}: {prefix}"
        for name, (prefix, *others) in prefixes.items()
        if prefix and not others and sender_counts[name] >= 2
    }
    return ChatExport(text, dialect, zone, len(survey), colon_names, chat_file)


def _day_first(
    first_over_12: int,
    second_over_12: int,
    dates: list[tuple[int, int, int]],
    twelve_hour: bool,
    separator: str,
) -> bool:
    """Day before month? A part above 12 says so; else the reading in which the days follow
    each other most closely; else the custom of the clock (US exports use a 12-hour clock)."""
    if first_over_12 != second_over_12:
        return first_over_12 > second_over_12
    spans = []
    for day_first in (True, False):
        ordinals = []
        for first, second, year in dates:
            day, month = (first, second) if day_first else (second, first)
            try:
                ordinals.append(datetime(year % 100 + 2000, month, day).toordinal())
            except ValueError:
                continue
        spans.append(sum(abs(b - a) for a, b in itertools.pairwise(ordinals)))
    if spans[0] != spans[1]:
        return spans[0] < spans[1]
    return not (twelve_hour and separator == "/")


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableFile("import_error_not_text") from None
    if b"\x00" in raw[:4096]:
        raise UnreadableFile("import_error_not_text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("import_error_not_text") from None


def _chat_bytes(path: Path) -> tuple[bytes, str]:
    """The chat text's bytes, from the .txt itself or from inside the .zip; and its name."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise UnreadableFile("import_error_not_found", path=str(path))
        with path.open("rb") as file:
            magic = file.read(8)
    except OSError:
        raise UnreadableFile("import_error_not_found", path=str(path)) from None
    if size == 0:
        raise UnreadableFile("import_error_empty")
    if magic.startswith(b"%PDF"):
        raise UnreadableFile("import_error_pdf")
    if magic.startswith((b"PK\x03\x04", b"PK\x05\x06")) or path.suffix.lower() == ".zip":
        return _from_zip(path)
    if size > MAX_CHAT_BYTES:
        raise UnreadableFile("import_error_too_large")
    return path.read_bytes(), path.name


def _chat_rank(name: str) -> int:
    base = PurePosixPath(name).name.casefold()
    if base == "_chat.txt":
        return 0
    if base.startswith(("whatsapp chat", "whatsapp-chat", "whatsapp")):
        return 1
    return 2


def _from_zip(path: Path) -> tuple[bytes, str]:
    try:
        with zipfile.ZipFile(path) as archive:
            texts = [
                info
                for info in archive.infolist()
                if not info.is_dir()
                and not info.filename.startswith("__MACOSX/")
                and info.filename.casefold().endswith(".txt")
            ]
            texts.sort(key=lambda info: (_chat_rank(info.filename), info.filename.count("/")))
            if not texts or (_chat_rank(texts[0].filename) == 2 and len(texts) > 1):
                raise UnreadableFile("import_error_zip_no_chat")
            chat = texts[0]
            if chat.file_size > MAX_CHAT_BYTES:
                raise UnreadableFile("import_error_too_large")
            return archive.read(chat), chat.filename
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError):
        raise UnreadableFile("import_error_zip_corrupt") from None
