"""What the impact score is computed from: a few figures per initiative, counted set-based.

Every figure comes from one GROUP BY query over all initiatives asked for at once, so scoring
2,000 initiatives costs the same handful of queries as scoring one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, extract, false, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from storage.models import (
    PARTNER_ROLES,
    Event,
    EventStatus,
    Idea,
    Incident,
    Member,
    MembershipEvent,
    MembershipKind,
    Message,
    Role,
)

HELD = (EventStatus.HELD.value, EventStatus.REPORTED.value)
NOT_CALLED_OFF = (EventStatus.PLANNED.value, *HELD)
JOINS = (MembershipKind.JOINED.value, MembershipKind.ADDED.value)


@dataclass
class Indicators:
    """The figures of one initiative over one window (member counts are as they are now)."""

    signals: int = 0
    followups: int = 0  # posts labelled terugkoppeling
    chat: int = 0  # posts labelled overig
    agreements: int = 0
    coordinators: int = 0
    partner_members: int = 0
    partner_schouws: int = 0  # schouws planned or held with a partner invited
    incidents: int = 0
    incidents_followed_up: int = 0
    partner_events: int = 0
    joined: int = 0
    joined_welcomed: int = 0
    activity_months: int = 0
    trainings: int = 0
    idea_posts: int = 0
    ideas_filed: int = 0
    ideas_adopted: int = 0

    @property
    def relevant_share(self) -> float:
        relevant = self.signals + self.followups
        return relevant / (relevant + self.chat) if relevant + self.chat else 0.0

    @property
    def partner_contacts(self) -> int:
        return self.partner_members + self.partner_schouws

    @property
    def followed_up_share(self) -> float:
        return self.incidents_followed_up / self.incidents if self.incidents else 0.0

    @property
    def welcomed_share(self) -> float:
        return self.joined_welcomed / self.joined if self.joined else 0.0

    @property
    def ideas(self) -> int:
        return self.idea_posts + self.ideas_filed

    def value(self, indicator: str) -> float:
        return float(getattr(self, indicator))


# What a criterion in config/impact.toml may compare with a threshold.
INDICATORS = (
    "signals",
    "relevant_share",
    "agreements",
    "coordinators",
    "partner_contacts",
    "followed_up_share",
    "partner_events",
    "joined",
    "welcomed_share",
    "activity_months",
    "trainings",
    "ideas",
    "ideas_adopted",
)
SHARE_INDICATORS = frozenset({"relevant_share", "followed_up_share", "welcomed_share"})
_COUNTED = frozenset(field.name for field in fields(Indicators))


def _count_if(condition: ColumnElement[bool] | InstrumentedAttribute[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


QueryT = TypeVar("QueryT", bound=Select[Any])


def _only(query: QueryT, column: InstrumentedAttribute[int], ids: Collection[int] | None) -> QueryT:
    """The query for the initiatives `ids` only; None means all of them."""
    return query if ids is None else query.where(column.in_(list(ids)))


def _month_of(session: Session, column: InstrumentedAttribute[Any]) -> tuple[Any, Any]:
    """The calendar month (UTC) of a timestamp column, as (year, month) expressions."""
    moment: Any = column
    if session.get_bind().dialect.name == "postgresql":
        moment = func.timezone("UTC", column)
    return extract("year", moment), extract("month", moment)


def _message_counts(
    start: datetime,
    end: datetime,
    ids: Collection[int] | None,
    words: Iterable[str],
) -> Select[Any]:
    text = func.lower(Message.text)
    mentions = [text.contains(word, autoescape=True) for word in words]
    mentions_training = or_(*mentions) if mentions else false()
    return _only(
        select(
            Message.initiative_id,
            _count_if(Message.kind == "signaal").label("signals"),
            _count_if(Message.kind == "terugkoppeling").label("followups"),
            _count_if(Message.kind == "overig").label("chat"),
            _count_if(Message.kind == "afspraak").label("agreements"),
            _count_if(Message.kind == "idee").label("idea_posts"),
            _count_if(and_(Message.kind == "activiteit", mentions_training)).label("trainings"),
        )
        .where(Message.sent_at >= start, Message.sent_at <= end)
        .group_by(Message.initiative_id),
        Message.initiative_id,
        ids,
    )


def _member_counts(ids: Collection[int] | None) -> Select[Any]:
    partner_roles = [role.value for role in PARTNER_ROLES]
    return _only(
        select(
            Member.initiative_id,
            _count_if(Member.role == Role.COORDINATOR.value).label("coordinators"),
            _count_if(Member.role.in_(partner_roles)).label("partner_members"),
        ).group_by(Member.initiative_id),
        Member.initiative_id,
        ids,
    )


def _incident_counts(start: datetime, end: datetime, ids: Collection[int] | None) -> Select[Any]:
    return _only(
        select(
            Incident.initiative_id,
            func.count().label("incidents"),
            _count_if(Incident.followed_up).label("incidents_followed_up"),
        )
        .where(Incident.opened_at >= start, Incident.opened_at <= end)
        .group_by(Incident.initiative_id),
        Incident.initiative_id,
        ids,
    )


def _event_counts(start: datetime, end: datetime, ids: Collection[int] | None) -> Select[Any]:
    present = func.coalesce(Event.partners_present, Event.partners_invited)
    return _only(
        select(
            Event.initiative_id,
            _count_if(and_(Event.status.in_(NOT_CALLED_OFF), Event.partners_invited != "")).label(
                "partner_schouws"
            ),
            _count_if(and_(Event.status.in_(HELD), Event.starts_at <= end, present != "")).label(
                "partner_events"
            ),
        )
        # A schouw planned before the window's end counts as contact, whenever it takes place.
        .where(Event.starts_at >= start, or_(Event.starts_at <= end, Event.created_at <= end))
        .group_by(Event.initiative_id),
        Event.initiative_id,
        ids,
    )


def _join_counts(start: datetime, end: datetime, ids: Collection[int] | None) -> Select[Any]:
    return _only(
        select(
            MembershipEvent.initiative_id,
            func.count().label("joined"),
            _count_if(Member.rules_received_at.is_not(None)).label("joined_welcomed"),
        )
        .outerjoin(Member, Member.id == MembershipEvent.member_id)
        .where(
            MembershipEvent.kind.in_(JOINS),
            MembershipEvent.at >= start,
            MembershipEvent.at <= end,
        )
        .group_by(MembershipEvent.initiative_id),
        MembershipEvent.initiative_id,
        ids,
    )


def _idea_counts(start: datetime, end: datetime, ids: Collection[int] | None) -> Select[Any]:
    return _only(
        select(
            Idea.initiative_id,
            _count_if(and_(Idea.created_at >= start, Idea.created_at <= end)).label("ideas_filed"),
            _count_if(and_(Idea.adopted_at >= start, Idea.adopted_at <= end)).label(
                "ideas_adopted"
            ),
        ).group_by(Idea.initiative_id),
        Idea.initiative_id,
        ids,
    )


def _activity_months(
    session: Session, start: datetime, end: datetime, ids: Collection[int] | None
) -> dict[int, int]:
    """Distinct calendar months with an activity post or a schouw held, per initiative."""
    months: defaultdict[int, set[tuple[int, int]]] = defaultdict(set)
    post_year, post_month = _month_of(session, Message.sent_at)
    posts = _only(
        select(Message.initiative_id, post_year, post_month)
        .where(Message.kind == "activiteit", Message.sent_at >= start, Message.sent_at <= end)
        .group_by(Message.initiative_id, post_year, post_month),
        Message.initiative_id,
        ids,
    )
    event_year, event_month = _month_of(session, Event.starts_at)
    held = _only(
        select(Event.initiative_id, event_year, event_month)
        .where(Event.status.in_(HELD), Event.starts_at >= start, Event.starts_at <= end)
        .group_by(Event.initiative_id, event_year, event_month),
        Event.initiative_id,
        ids,
    )
    for query in (posts, held):
        for initiative_id, year, month in session.execute(query):
            months[initiative_id].add((int(year), int(month)))
    return {initiative_id: len(seen) for initiative_id, seen in months.items()}


def collect_indicators(
    session: Session,
    start: datetime,
    end: datetime,
    initiative_ids: Collection[int],
    training_words: Iterable[str],
    all_initiatives: bool = False,
) -> dict[int, Indicators]:
    """The figures of each initiative in `initiative_ids` for the window [start, end].

    With `all_initiatives` the queries are not filtered by id (faster than a long IN list).
    """
    ids = None if all_initiatives else initiative_ids
    found = {initiative_id: Indicators() for initiative_id in initiative_ids}
    queries = [
        _message_counts(start, end, ids, tuple(training_words)),
        _member_counts(ids),
        _incident_counts(start, end, ids),
        _event_counts(start, end, ids),
        _join_counts(start, end, ids),
        _idea_counts(start, end, ids),
    ]
    for query in queries:
        for row in session.execute(query).mappings():
            figures = found.get(row["initiative_id"])
            if figures is None:
                continue
            for name, value in row.items():
                if name in _COUNTED:
                    setattr(figures, name, int(value or 0))
    for initiative_id, months in _activity_months(session, start, end, ids).items():
        if initiative_id in found:
            found[initiative_id].activity_months = months
    return found
