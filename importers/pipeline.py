"""From a read export or sheet to stored history: pseudonyms, content keys, chunks, a summary.

A content key is a keyed hash (BLAKE2b, keyed from the pseudonym key) of the local minute, the
sender's pseudonym, the content and the how-manieth identical message in that minute it is. The
same message gets the same key in every export from the same phone, and in a longer export that
overlaps an earlier one; minute precision also lets an iOS export (with seconds) meet an Android
one (without). A burst of identical messages ("👍", "👍") stays apart through the occurrence number.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from config.settings import Settings
from importers.sheets import ColumnChoice, SheetRow, read_sheet
from importers.store import (
    BatchClassifier,
    HistoryEvent,
    HistoryMessage,
    HistoryWriter,
    Person,
    Stored,
    Target,
    prepare_target,
)
from importers.whatsapp import (
    MEMBERSHIP_KINDS,
    ChatExport,
    ContentKind,
    MemberMessage,
    Skipped,
    SystemMessage,
    read_export,
)
from storage.db import Database
from storage.models import MembershipKind, MessageSource
from storage.privacy import pseudonym

CHUNK = 2000
_PHONE = re.compile(r"\+?[\d\s\-().]{6,}")


@dataclass
class ImportSummary:
    """What an import found and stored; `as_json()` is the `--json` output."""

    initiative: str
    initiative_created: bool
    messages: int = 0
    new_messages: int = 0
    system_messages: int = 0
    membership: Counter[str] = field(default_factory=Counter)
    new_membership_events: int = 0
    new_incidents: int = 0
    senders: int = 0
    first: datetime | None = None
    last: datetime | None = None
    signals: int = 0
    media: int = 0
    deleted: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    columns: dict[str, str] = field(default_factory=dict)  # a sheet's: role → header

    def add(self, stored: Stored) -> None:
        self.new_messages += stored.new_messages
        self.signals += stored.signals
        self.new_membership_events += stored.new_events
        self.new_incidents += stored.new_incidents

    def saw(self, at: datetime) -> None:
        if self.first is None or at < self.first:
            self.first = at
        if self.last is None or at > self.last:
            self.last = at

    def as_json(self) -> dict[str, Any]:
        return {
            "initiative": self.initiative,
            "initiative_created": self.initiative_created,
            "messages": self.messages,
            "new_messages": self.new_messages,
            "already_present": self.messages - self.new_messages,
            "system_messages": self.system_messages,
            "membership_events": {
                kind.value: self.membership[kind.value] for kind in MembershipKind
            },
            "new_membership_events": self.new_membership_events,
            "senders": self.senders,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "signals": self.signals,
            "new_incidents": self.new_incidents,
            "media": self.media,
            "deleted": self.deleted,
            "skipped": {"total": self.skipped.total(), "reasons": dict(self.skipped)},
        } | ({"columns": self.columns} if self.columns else {})


Progress = Callable[[int], None]


class _Keys:
    """Content keys and pseudonyms for one import."""

    def __init__(self, secret: str, target: Target) -> None:
        self.secret = secret
        # BLAKE2b's own keyed mode: one call per message, where HMAC takes several.
        self._content_key = hashlib.sha256(f"content-key:{secret}".encode()).digest()
        self.target = target
        self._occurrences: Counter[tuple[str, str, int]] = Counter()
        self._people: dict[str, Person] = {}

    def person(self, name: str) -> Person:
        """The pseudonym of a sender as the file names them; a first name only for a contact name.

        A phone number is pseudonymised from the number alone ("+31612345678"), so the same
        person writing later through a live WhatsApp channel can be recognised; a contact name
        only within this initiative, because names are not unique. Display names: the first
        name of a contact name; none for a number (the store numbers it "Lid 3").
        """
        known = self._people.get(name)
        if known is not None:
            return known
        digits = "".join(character for character in name if character.isdigit())
        if _PHONE.fullmatch(name) and len(digits) >= 8:
            person = Person(pseudonym(self.secret, f"+{digits}"), None)
        else:
            folded = " ".join(name.casefold().split())
            first = name.split()[0].strip(":,.;\"'") if name.split() else ""
            person = Person(
                pseudonym(self.secret, f"name:{self.target.initiative_id}:{folded}"),
                first[:30] if any(character.isalpha() for character in first) else None,
            )
        self._people[name] = person
        return person

    def key(self, prefix: str, at: datetime, who: str, what: str) -> str:
        minute = f"{at.year:04d}-{at.month:02d}-{at.day:02d}T{at.hour:02d}:{at.minute:02d}"
        # hash(): a full copy of every text would stay in memory for the length of the import.
        base = (minute, who, hash(what))
        self._occurrences[base] += 1
        number = self._occurrences[base]
        content = f"{minute}\x1f{who}\x1f{what}\x1f{number}".encode()
        return prefix + hashlib.blake2b(content, key=self._content_key, digest_size=16).hexdigest()


def _classifier_loader(classifier: BatchClassifier | None) -> Callable[[], BatchClassifier]:
    """The classifier, loaded only when a chunk has new text to label."""
    loaded: list[BatchClassifier] = [classifier] if classifier is not None else []

    def load() -> BatchClassifier:
        if not loaded:
            from nlp.classifier import get_classifier

            loaded.append(get_classifier())
        return loaded[0]

    return load


def import_whatsapp(
    db: Database,
    settings: Settings,
    path: Path,
    initiative: str,
    *,
    classifier: BatchClassifier | None = None,
    on_start: Callable[[int], None] | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Read a WhatsApp export and store it; raises `UnreadableFile` before storing anything."""
    export = read_export(path, settings.zone)
    target = prepare_target(db, initiative, "whatsapp", "export", MessageSource.WHATSAPP_EXPORT)
    if on_start is not None:
        on_start(export.record_count)
    keys = _Keys(settings.pseudonym_key.get_secret_value(), target)
    summary = ImportSummary(target.initiative_name, target.initiative_created)
    writer = HistoryWriter(db, target, _classifier_loader(classifier))
    senders: set[str] = set()
    for messages, events, records in _whatsapp_chunks(export, keys, summary, senders):
        summary.add(writer.write(messages, events))
        if progress is not None:
            progress(records)
    summary.senders = len(senders)
    return summary


def _whatsapp_chunks(
    export: ChatExport, keys: _Keys, summary: ImportSummary, senders: set[str]
) -> Iterator[tuple[list[HistoryMessage], list[HistoryEvent], int]]:
    messages: list[HistoryMessage] = []
    events: list[HistoryEvent] = []
    records = 0
    for record in export.records():
        records += 1
        if isinstance(record, MemberMessage):
            person = keys.person(record.sender)
            senders.add(person.external_id)
            summary.messages += 1
            summary.saw(record.at)
            if record.content is ContentKind.MEDIA:
                summary.media += 1
            elif record.content is ContentKind.DELETED:
                summary.deleted += 1
            what = f"{record.content.value}:{record.text}"
            messages.append(
                HistoryMessage(
                    keys.key("wa-", record.at, person.external_id, what),
                    record.at,
                    person,
                    record.text,
                    record.content,
                )
            )
        elif isinstance(record, SystemMessage):
            summary.system_messages += 1
            summary.saw(record.at)
            if record.kind in MEMBERSHIP_KINDS:
                kind = MembershipKind(record.kind.value)
                for subject in record.subjects:
                    member = keys.person(subject) if subject is not None else None
                    who = member.external_id if member else "you"
                    summary.membership[kind.value] += 1
                    events.append(
                        HistoryEvent(
                            keys.key("ev-", record.at, who, kind.value), record.at, kind, member
                        )
                    )
        elif isinstance(record, Skipped):
            summary.skipped[record.reason] += 1
        if len(messages) + len(events) >= CHUNK:
            yield messages, events, records
            messages, events, records = [], [], 0
    if messages or events or records:
        yield messages, events, records


def import_sheet(
    db: Database,
    settings: Settings,
    path: Path,
    initiative: str,
    *,
    columns: ColumnChoice | None = None,
    sheet_name: str | None = None,
    classifier: BatchClassifier | None = None,
    on_start: Callable[[int], None] | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Read a coordinator's spreadsheet and store its rows; `UnreadableFile` before storing."""
    sheet = read_sheet(path, settings.zone, columns or ColumnChoice(), sheet_name)
    target = prepare_target(db, initiative, "sheet", "sheet", MessageSource.SHEET)
    if on_start is not None:
        on_start(len(sheet.rows) + sheet.skipped.total())
    keys = _Keys(settings.pseudonym_key.get_secret_value(), target)
    summary = ImportSummary(target.initiative_name, target.initiative_created)
    summary.skipped.update(sheet.skipped)
    summary.columns = sheet.columns
    writer = HistoryWriter(db, target, _classifier_loader(classifier))
    senders: set[str] = set()
    for chunk in _chunks(sheet.rows, CHUNK):
        messages = []
        for row in chunk:
            person = keys.person(row.sender) if row.sender else None
            if person is not None:
                senders.add(person.external_id)
            summary.messages += 1
            summary.saw(row.at)
            what = f"{row.text}\x1f{row.category or ''}"
            messages.append(
                HistoryMessage(
                    keys.key("sheet-", row.at, person.external_id if person else "", what),
                    row.at,
                    person,
                    row.text,
                    sheet_category=row.category,
                )
            )
        summary.add(writer.write(messages, []))
        if progress is not None:
            progress(len(chunk))
    summary.senders = len(senders)
    return summary


def _chunks(rows: Iterable[SheetRow], size: int) -> Iterator[list[SheetRow]]:
    chunk: list[SheetRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
