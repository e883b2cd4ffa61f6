"""Storing imported history: pseudonymised members, labelled messages (linked into incidents,
which trends count) and membership events.

Each chunk is one transaction with bulk inserts. Messages are keyed by a content key and events
by an event key, so storing the same history twice (or an overlapping, longer export) adds
nothing twice; only texts not stored before are classified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from handlers.texts import text as catalogue_text
from importers.incidents import link_rows
from importers.whatsapp import ContentKind
from nlp.classifier import Classification
from storage.db import Database
from storage.messages import MAX_STORED_TEXT
from storage.models import (
    Chat,
    Initiative,
    Member,
    MembershipEvent,
    MembershipKind,
    Message,
    MessageSource,
    Role,
    utcnow,
)
from storage.privacy import mask_personal_data

SIGNAL = "signaal"
_MEMBERS = cast(Table, Member.__table__)
_MESSAGES = cast(Table, Message.__table__)
_EVENTS = cast(Table, MembershipEvent.__table__)
# Media placeholders and deleted-message marks are kept as messages that say nothing.
_RULE_LABELS = {
    ContentKind.MEDIA: ("[media]", "rule:media"),
    ContentKind.DELETED: ("[verwijderd]", "rule:deleted"),
}


class BatchClassifier(Protocol):
    def classify_batch(self, texts: Sequence[str]) -> list[Classification]: ...


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in imported history: a pseudonym, and a first name only for saved contacts."""

    external_id: str
    first_name: str | None


@dataclass(frozen=True, slots=True)
class HistoryMessage:
    key: str
    sent_at: datetime
    sender: Person | None
    text: str
    content: ContentKind = ContentKind.TEXT
    sheet_category: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    key: str
    at: datetime
    kind: MembershipKind
    member: Person | None  # None: whoever exported the chat


@dataclass(frozen=True, slots=True)
class Target:
    """Where imported history goes: the initiative and its import chat."""

    initiative_id: int
    initiative_name: str
    language: str
    chat_id: int
    channel: str
    source: MessageSource
    initiative_created: bool


@dataclass
class Stored:
    """What one chunk added, and what it found already there."""

    new_messages: int = 0
    existing_messages: int = 0
    signals: int = 0
    new_events: int = 0
    new_members: int = 0
    new_incidents: int = 0


def prepare_target(
    db: Database, initiative_name: str, channel: str, chat_prefix: str, source: MessageSource
) -> Target:
    """Find the initiative by name (or create it) and the chat its imported history belongs to."""
    with db.unit_of_work() as session:
        initiative = session.scalars(
            select(Initiative).where(Initiative.name == initiative_name.strip())
        ).one_or_none()
        created = initiative is None
        if initiative is None:
            initiative = Initiative(name=initiative_name.strip()[:200])
            session.add(initiative)
            session.flush()
        # Keyed by the initiative's id, not its name: a renamed initiative keeps its history.
        external_id = f"{chat_prefix}:{initiative.id}"
        chat = session.scalars(
            select(Chat).where(Chat.channel == channel, Chat.external_id == external_id)
        ).one_or_none()
        if chat is None:
            chat = Chat(
                initiative_id=initiative.id,
                channel=channel,
                external_id=external_id,
                title=initiative.name,
                is_group=True,
            )
            session.add(chat)
            session.flush()
        return Target(
            initiative_id=initiative.id,
            initiative_name=initiative.name,
            language=initiative.language,
            chat_id=chat.id,
            channel=channel,
            source=source,
            initiative_created=created,
        )


def _insert_ignoring_duplicates(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Bulk insert; a row whose unique key is already there is left alone (a concurrent import)."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


@dataclass
class HistoryWriter:
    """Writes chunks of history for one target; remembers the members it has seen."""

    db: Database
    target: Target
    classifier: Callable[[], BatchClassifier]
    _members: dict[str, tuple[int, datetime]] = field(default_factory=dict)

    def write(self, messages: Sequence[HistoryMessage], events: Sequence[HistoryEvent]) -> Stored:
        """Store one chunk in one transaction."""
        stored = Stored()
        with self.db.unit_of_work() as session:
            first_seen: dict[str, datetime] = {}
            people: dict[str, Person] = {}
            for person, at in [(m.sender, m.sent_at) for m in messages] + [
                (e.member, e.at) for e in events
            ]:
                if person is None:
                    continue
                people.setdefault(person.external_id, person)
                if person.external_id not in first_seen or at < first_seen[person.external_id]:
                    first_seen[person.external_id] = at
            stored.new_members = self._ensure_members(session, people, first_seen)
            self._store_messages(session, messages, stored)
            self._store_events(session, events, stored)
        return stored

    def _ensure_members(
        self, session: Session, people: dict[str, Person], first_seen: dict[str, datetime]
    ) -> int:
        target = self.target
        unknown = [external_id for external_id in people if external_id not in self._members]
        if unknown:
            self._members.update(self._known_members(session, unknown))
        new = [external_id for external_id in unknown if external_id not in self._members]
        if new:
            number = session.scalar(
                select(func.count(Member.id)).where(
                    Member.initiative_id == target.initiative_id, Member.channel == target.channel
                )
            )
            rows = []
            for offset, external_id in enumerate(new, start=1):
                name = people[external_id].first_name or catalogue_text(
                    "import_member_label", target.language, number=(number or 0) + offset
                )
                rows.append(
                    {
                        "initiative_id": target.initiative_id,
                        "channel": target.channel,
                        "external_id": external_id,
                        "display_name": name[:80],
                        "username": None,
                        "role": Role.LID.value,
                        "joined_at": first_seen[external_id],
                    }
                )
            _insert_ignoring_duplicates(session, _MEMBERS, rows)
            self._members.update(self._known_members(session, new))
        # History reaches further back than the member's record: they joined earlier.
        for external_id, at in first_seen.items():
            member_id, joined_at = self._members[external_id]
            if at < joined_at:
                session.execute(
                    update(Member)
                    .where(Member.id == member_id, Member.joined_at > at)
                    .values(joined_at=at)
                )
                self._members[external_id] = (member_id, at)
        return len(new)

    def _known_members(
        self, session: Session, external_ids: Iterable[str]
    ) -> dict[str, tuple[int, datetime]]:
        rows = session.execute(
            select(Member.external_id, Member.id, Member.joined_at).where(
                Member.initiative_id == self.target.initiative_id,
                Member.channel == self.target.channel,
                Member.external_id.in_(list(external_ids)),
            )
        )
        return {external_id: (member_id, joined) for external_id, member_id, joined in rows}

    def _store_messages(
        self, session: Session, messages: Sequence[HistoryMessage], stored: Stored
    ) -> None:
        if not messages:
            return
        target = self.target
        found = session.execute(
            select(Message.channel_message_id, Message.kind).where(
                Message.chat_id == target.chat_id,
                Message.channel_message_id.in_([m.key for m in messages]),
            )
        )
        present = {key: kind for key, kind in found}
        fresh = [m for m in messages if m.key not in present]
        stored.existing_messages = len(messages) - len(fresh)
        stored.signals = sum(kind == SIGNAL for kind in present.values())
        to_classify = [m.text for m in fresh if m.content is ContentKind.TEXT]
        labels = iter(self.classifier().classify_batch(to_classify) if to_classify else [])
        now = utcnow()
        rows = []
        for message in fresh:
            row: dict[str, Any] = {
                "initiative_id": target.initiative_id,
                "chat_id": target.chat_id,
                "member_id": (
                    self._members[message.sender.external_id][0] if message.sender else None
                ),
                "channel_message_id": message.key,
                "reply_to_message_id": None,
                "sent_at": message.sent_at,
                "received_at": now,
                "source": target.source.value,
                "sheet_category": message.sheet_category,
                "incident_id": None,
            }
            if message.content is ContentKind.TEXT:
                label = next(labels)
                row.update(
                    text=mask_personal_data(message.text)[:MAX_STORED_TEXT],
                    kind=label.kind,
                    category=label.category,
                    urgent=label.urgent,
                    confidence=label.confidence,
                    needs_review=label.needs_review,
                    model_version=label.model_version,
                )
                stored.signals += label.kind == SIGNAL
            else:
                marker, version = _RULE_LABELS[message.content]
                row.update(
                    text=marker,
                    kind="overig",
                    category=None,
                    urgent=False,
                    confidence=1.0,
                    needs_review=False,
                    model_version=version,
                )
            rows.append(row)
        stored.new_incidents = link_rows(
            session,
            target.initiative_id,
            target.chat_id,
            rows,
            merge_signals=target.source is not MessageSource.SHEET,
        )
        _insert_ignoring_duplicates(session, _MESSAGES, rows)
        stored.new_messages = len(rows)

    def _store_events(
        self, session: Session, events: Sequence[HistoryEvent], stored: Stored
    ) -> None:
        if not events:
            return
        target = self.target
        present = set(
            session.scalars(
                select(MembershipEvent.event_key).where(
                    MembershipEvent.initiative_id == target.initiative_id,
                    MembershipEvent.event_key.in_([e.key for e in events]),
                )
            )
        )
        rows = [
            {
                "initiative_id": target.initiative_id,
                "member_id": self._members[event.member.external_id][0] if event.member else None,
                "kind": event.kind.value,
                "at": event.at,
                "source": target.source.value,
                "event_key": event.key,
                "created_at": utcnow(),
            }
            for event in events
            if event.key not in present
        ]
        _insert_ignoring_duplicates(session, _EVENTS, rows)
        stored.new_events = len(rows)
