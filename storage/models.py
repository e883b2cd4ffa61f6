"""The database schema: typed SQLAlchemy 2 models.

Message text is personal data: it is stored masked (see `storage.privacy`), raw webhook
payloads are dropped once processed, and members are known by their channel id and a first name.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false as sa_false
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Role(enum.StrEnum):
    """What a member is in an initiative."""

    LID = "lid"
    COORDINATOR = "coordinator"
    POLITIE = "politie"
    HANDHAVING = "handhaving"
    GEMEENTE = "gemeente"
    VERENIGING = "vereniging"


PARTNER_ROLES = frozenset({Role.POLITIE, Role.HANDHAVING, Role.GEMEENTE})
# Who may read an initiative's trends and impact: its coordinators, partners and the association.
OVERVIEW_ROLES = frozenset({Role.COORDINATOR, Role.VERENIGING, *PARTNER_ROLES})


class Channel(enum.StrEnum):
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    CONSOLE = "console"


class InboxStatus(enum.StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _now_column() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=utcnow)


class Initiative(Base):
    __tablename__ = "initiatives"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    language: Mapped[str] = mapped_column(String(5), default="nl")
    municipality: Mapped[str | None] = mapped_column(String(120))
    province: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = _now_column()
    # When coordinators get the weekly digest, in the bot's time zone (Monday 08:00 by default).
    digest_weekday: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    digest_hour: Mapped[int] = mapped_column(Integer, default=8, server_default="8")
    digest_minute: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What a WhatsApp member gives with AANMELDEN to join; made when a coordinator asks for it.
    join_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    # Where members' WhatsApp posts are passed on (`WhatsAppRelay`).
    whatsapp_relay: Mapped[str] = mapped_column(
        String(20), default="coordinatoren", server_default="coordinatoren"
    )
    # The association's own initiative, which holds its staff (role vereniging); never invited.
    is_association: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    # A coordinator opted in to publishing the impact score in the yearly Communitymonitor.
    monitor_opt_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    chats: Mapped[list[Chat]] = relationship(back_populates="initiative")


class Chat(Base):
    """A Telegram group, a WhatsApp number or a console session, bound to one initiative."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(200))
    is_group: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _now_column()
    # Level-appropriate prompts to the group: switched off by a coordinator with /prompts uit;
    # the last one sent (its id in config/prompts) is never sent again right after.
    prompts_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    last_prompt: Mapped[str | None] = mapped_column(String(20))
    last_prompt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    initiative: Mapped[Initiative] = relationship(back_populates="chats")


class Member(Base):
    """A person in an initiative, with a role; known by channel id and first name only."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("initiative_id", "channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(80), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20), default=Role.LID.value)
    joined_at: Mapped[datetime] = _now_column()
    # When the bot welcomed this member with the group's signalling rules (SAAR).
    rules_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Message(Base):
    """A post in a chat with its labels."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "channel_message_id"),
        Index("ix_messages_initiative_sent", "initiative_id", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    channel_message_id: Mapped[str] = mapped_column(String(64))
    reply_to_message_id: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = _now_column()
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(20))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    confidence: Mapped[float] = mapped_column(Float)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    model_version: Mapped[str] = mapped_column(String(64))
    # Where the message came from (`MessageSource`); imported history keeps its original time.
    source: Mapped[str] = mapped_column(String(20), default="live", server_default="live")
    # The category a coordinator gave the row in an imported spreadsheet, next to the model's.
    sheet_category: Mapped[str | None] = mapped_column(String(80))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )


class InboundUpdate(Base):
    """A webhook delivery kept until it is processed: the durable inbox."""

    __tablename__ = "inbound_updates"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_inbound_updates_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    # The raw payload holds personal data; it is cleared once the update is processed.
    payload: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=InboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    received_at: Mapped[datetime] = _now_column()
    next_attempt_at: Mapped[datetime] = _now_column()
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """Something the bot will say; the delivery loop sends it within the channel's limits."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_external_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    reply_to_message_id: Mapped[str | None] = mapped_column(String(64))
    # Makes a scheduled message go out once, however often the job that queues it runs.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = _now_column()
    next_attempt_at: Mapped[datetime] = _now_column()
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    channel_message_id: Mapped[str | None] = mapped_column(String(64))
    # A PNG sent with `text` as its caption (a trend chart).
    image: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Buttons under the message, as JSON [[label, data], ...] (RSVP buttons).
    buttons: Mapped[str | None] = mapped_column(Text)
    # What to do: send a new message, edit `target_message_id`, or answer a button press.
    action: Mapped[str] = mapped_column(String(10), default="send", server_default="send")
    target_message_id: Mapped[str | None] = mapped_column(String(64))
    # WhatsApp outside the 24-hour window: the approved template (config/whatsapp.toml) to
    # use instead of free text, and its values as a JSON object.
    template: Mapped[str | None] = mapped_column(String(40))
    template_values: Mapped[str | None] = mapped_column(Text)


class MessageSource(enum.StrEnum):
    """How a message reached the bot."""

    LIVE = "live"
    WHATSAPP_EXPORT = "whatsapp_export"
    SHEET = "sheet"
    SCHOUW = "schouw"  # a finding from a schouw report


class MembershipKind(enum.StrEnum):
    JOINED = "joined"
    LEFT = "left"
    ADDED = "added"
    REMOVED = "removed"


class MembershipEvent(Base):
    """Someone joined or left an initiative's chat, e.g. as read from a WhatsApp export.

    `member_id` is empty when the export names only "you" (whoever exported the chat).
    `event_key` is a keyed hash of what happened when, so importing the same history twice
    records each event once.
    """

    __tablename__ = "membership_events"
    __table_args__ = (
        UniqueConstraint("initiative_id", "event_key"),
        Index("ix_membership_events_initiative_at", "initiative_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(20))
    event_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now_column()


class Incident(Base):
    """One event, however many posts it took: what trends count (see `storage.incidents`)."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_initiative_opened", "initiative_id", "opened_at"),
        Index("ix_incidents_chat_last", "chat_id", "last_message_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime())
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    followed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    message_count: Mapped[int] = mapped_column(Integer, default=0)


class PrivateChat(Base):
    """Someone who talks to the bot one-to-one, so the bot may write to them privately."""

    __tablename__ = "private_chats"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = _now_column()
    # WhatsApp allows free text only within 24 hours of the person's last message.
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventStatus(enum.StrEnum):
    """Where a planned event stands; allowed moves are in `EVENT_TRANSITIONS`."""

    DRAFT = "draft"  # the coordinator still has to say when or where
    PLANNED = "planned"
    HELD = "held"  # it took place; the organiser was asked for a report
    REPORTED = "reported"
    CANCELLED = "cancelled"


EVENT_TRANSITIONS: dict[EventStatus, frozenset[EventStatus]] = {
    EventStatus.DRAFT: frozenset({EventStatus.PLANNED, EventStatus.CANCELLED}),
    EventStatus.PLANNED: frozenset({EventStatus.HELD, EventStatus.CANCELLED}),
    EventStatus.HELD: frozenset({EventStatus.REPORTED}),
    EventStatus.REPORTED: frozenset(),
    EventStatus.CANCELLED: frozenset(),
}


class Event(Base):
    """Something an initiative does together: a schouw with partners, a meeting, a training."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_status_starts", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20), default="schouw")
    status: Mapped[str] = mapped_column(String(10), default=EventStatus.DRAFT.value)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    location: Mapped[str | None] = mapped_column(String(200))
    # Partner roles invited ("politie,gemeente"), and those recorded as present afterwards.
    partners_invited: Mapped[str] = mapped_column(String(100), default="")
    partners_present: Mapped[str | None] = mapped_column(String(100))
    # What the organiser said so far while the plan is a draft (JSON), read by the next answer.
    draft: Mapped[str | None] = mapped_column(Text)
    findings: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = _now_column()

    def move_to(self, status: EventStatus) -> None:
        if status not in EVENT_TRANSITIONS[EventStatus(self.status)]:
            raise ValueError(f"an event cannot go from {self.status} to {status}")
        self.status = status.value


class RsvpAnswer(enum.StrEnum):
    YES = "ja"
    MAYBE = "misschien"
    NO = "nee"


class Rsvp(Base):
    """A member's answer to an event invitation; the newest answer counts."""

    __tablename__ = "rsvps"
    __table_args__ = (UniqueConstraint("event_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(10))
    answered_at: Mapped[datetime] = _now_column()


class WhatsAppRelay(enum.StrEnum):
    """Where an initiative's WhatsApp posts are passed on."""

    COORDINATORS = "coordinatoren"
    GROUP = "groep"
    NOBODY = "niemand"


# Twilio's message statuses in the order they happen; a status callback never moves one back.
DELIVERY_STATUS_RANK: dict[str, int] = {
    "accepted": 1,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "failed": 4,
    "undelivered": 4,
    "delivered": 4,
    "read": 5,
}


class DeliveryStatus(Base):
    """The newest status the channel reported for a message the bot sent (Twilio callbacks)."""

    __tablename__ = "delivery_statuses"
    __table_args__ = (UniqueConstraint("channel", "channel_message_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    channel_message_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    rank: Mapped[int] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime] = _now_column()


class AudienceKind(enum.StrEnum):
    """Who a regional event is for."""

    ALL = "alle"
    PROVINCE = "provincie"
    MUNICIPALITIES = "gemeente"


class RegionalEventStatus(enum.StrEnum):
    DRAFT = "draft"  # made, not yet sent: the organiser confirms the audience first
    INVITED = "invited"
    CANCELLED = "cancelled"


class RegionalEvent(Base):
    """An activity of the association, to which many initiatives are invited."""

    __tablename__ = "regional_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    location: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str] = mapped_column(String(20), default=AudienceKind.ALL.value)
    # Province name, or municipality names separated by commas.
    audience_places: Mapped[str] = mapped_column(String(500), default="")
    min_level: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=RegionalEventStatus.DRAFT.value)
    # Who made it: a member with the vereniging role, or empty when made from the command line.
    created_by: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = _now_column()
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RegionalInvitation(Base):
    """One chat invited to a regional event: a Telegram group or a WhatsApp member."""

    __tablename__ = "regional_invitations"
    __table_args__ = (UniqueConstraint("event_id", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("regional_events.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))


class RegionalRsvp(Base):
    """A member's answer to a regional event; the newest answer counts."""

    __tablename__ = "regional_rsvps"
    __table_args__ = (UniqueConstraint("event_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("regional_events.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(10))
    answered_at: Mapped[datetime] = _now_column()
class Idea(Base):
    """A member's proposal for how the initiative could work (`/idee`); a coordinator adopts it."""

    __tablename__ = "ideas"
    __table_args__ = (
        UniqueConstraint("initiative_id", "number"),
        Index("ix_ideas_initiative_created", "initiative_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id", ondelete="CASCADE"))
    # Counts up per initiative, so a coordinator can say `/idee aannemen 3`.
    number: Mapped[int] = mapped_column(Integer)
    proposer_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)  # masked like messages
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    adopted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    adopted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
