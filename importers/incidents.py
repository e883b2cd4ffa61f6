"""Linking imported messages into incidents in bulk, by the rules of `storage.incidents`.

Trends count incidents, so imported history must be linked like live posts are. Linking one
message at a time costs a query or two each; an import links a whole chunk in memory instead, in
time order, against the incidents of the import chat that the chunk can reach, and writes the
incidents back with one bulk insert and one bulk update. An export has no replies, so only the
time rules apply; a spreadsheet row is one report, so there every signal opens its own incident.

In time order the rules need only the newest incident per category (and the newest of all, for
a loose follow-up): an older one is out of every window the newest is out of.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from storage.incidents import FOLLOW_UP_WINDOW, LINKED_KINDS, LOOSE_FOLLOW_UP_WINDOW, SIGNAL_WINDOW
from storage.models import Incident

_REACH = max(SIGNAL_WINDOW, FOLLOW_UP_WINDOW, LOOSE_FOLLOW_UP_WINDOW)
_INCIDENTS = cast(Table, Incident.__table__)


@dataclass(slots=True, eq=False)
class _Open:
    """An incident as the linking sees it; `id` is None until it is inserted."""

    id: int | None
    category: str
    opened_at: datetime
    last_message_at: datetime
    urgent: bool
    followed_up: bool
    message_count: int


def link_rows(
    session: Session,
    initiative_id: int,
    chat_id: int,
    rows: list[dict[str, Any]],
    *,
    merge_signals: bool,
) -> int:
    """Set `incident_id` on the message rows that belong to an incident; the number opened."""
    linked = sorted(
        (row for row in rows if row["kind"] in LINKED_KINDS), key=lambda row: row["sent_at"]
    )
    if not linked:
        return 0
    waiting = [
        _Open(*found)
        for found in session.execute(
            select(
                Incident.id,
                Incident.category,
                Incident.opened_at,
                Incident.last_message_at,
                Incident.urgent,
                Incident.followed_up,
                Incident.message_count,
            )
            .where(
                Incident.chat_id == chat_id,
                Incident.last_message_at >= linked[0]["sent_at"] - _REACH,
                Incident.opened_at <= linked[-1]["sent_at"],
            )
            .order_by(Incident.opened_at.desc())
        )
    ]
    newest: dict[str | None, _Open] = {}  # per category; None: of all categories
    created: list[_Open] = []
    earlier: dict[int, _Open] = {}  # incidents from an earlier import that this chunk adds to
    chosen: list[tuple[dict[str, Any], _Open]] = []

    def consider(incident: _Open) -> None:
        for key in (incident.category, None):
            current = newest.get(key)
            if current is None or incident.last_message_at >= current.last_message_at:
                newest[key] = incident

    for row in linked:
        at: datetime = row["sent_at"]
        while waiting and waiting[-1].opened_at <= at:
            consider(waiting.pop())
        incident = _pick(newest, row, at, merge_signals)
        if incident is None:
            if row["kind"] == "terugkoppeling":
                continue
            incident = _Open(None, row["category"] or "verdacht", at, at, False, False, 0)
            created.append(incident)
        incident.message_count += 1
        incident.last_message_at = max(incident.last_message_at, at)
        incident.urgent = incident.urgent or row["urgent"]
        incident.followed_up = incident.followed_up or row["kind"] == "terugkoppeling"
        if incident.id is not None:
            earlier[incident.id] = incident
        consider(incident)
        chosen.append((row, incident))
    _write(session, initiative_id, chat_id, created, list(earlier.values()))
    for row, incident in chosen:
        row["incident_id"] = incident.id
    return len(created)


def _pick(
    newest: dict[str | None, _Open], row: dict[str, Any], at: datetime, merge_signals: bool
) -> _Open | None:
    def within(incident: _Open | None, window: timedelta) -> _Open | None:
        return (
            incident if incident is not None and incident.last_message_at >= at - window else None
        )

    if row["kind"] == "terugkoppeling":
        return within(newest.get(row["category"]), FOLLOW_UP_WINDOW) or within(
            newest.get(None), LOOSE_FOLLOW_UP_WINDOW
        )
    return within(newest.get(row["category"]), SIGNAL_WINDOW) if merge_signals else None


def _write(
    session: Session, initiative_id: int, chat_id: int, created: list[_Open], updated: list[_Open]
) -> None:
    if created:
        ids = session.scalars(
            insert(_INCIDENTS).returning(_INCIDENTS.c.id, sort_by_parameter_order=True),
            [
                {
                    "initiative_id": initiative_id,
                    "chat_id": chat_id,
                    "category": incident.category,
                    "opened_at": incident.opened_at,
                    "last_message_at": incident.last_message_at,
                    "urgent": incident.urgent,
                    "followed_up": incident.followed_up,
                    "message_count": incident.message_count,
                }
                for incident in created
            ],
        ).all()
        for incident, new_id in zip(created, ids, strict=True):
            incident.id = new_id
    if updated:
        session.connection().execute(
            update(_INCIDENTS).where(_INCIDENTS.c.id == bindparam("incident")),
            [
                {
                    "incident": incident.id,
                    "last_message_at": incident.last_message_at,
                    "urgent": incident.urgent,
                    "followed_up": incident.followed_up,
                    "message_count": incident.message_count,
                }
                for incident in updated
            ],
        )
