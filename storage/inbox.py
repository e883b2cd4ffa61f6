"""The inbox: webhook deliveries stored durably before they are answered, then processed once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from storage.models import InboundUpdate, InboxStatus, utcnow

MAX_ATTEMPTS = 8
_TABLE = cast(Table, InboundUpdate.__table__)


def _row(channel: str, external_id: str, payload: str) -> dict[str, object]:
    now = utcnow()
    return {
        "channel": channel,
        "external_id": external_id,
        "payload": payload,
        "status": InboxStatus.PENDING.value,
        "received_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }


def _insert_new(session: Session) -> Insert:
    """An insert that leaves a delivery stored before (a redelivery) as it was."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(InboundUpdate).on_conflict_do_nothing(index_elements=["channel", "external_id"])


def store(session: Session, channel: str, external_id: str, payload: str) -> bool:
    """Keep a delivery; False when the same one was stored before (a redelivery)."""
    result = session.execute(
        _insert_new(session)
        .values(**_row(channel, external_id, payload))
        .returning(InboundUpdate.id)
    )
    return result.first() is not None


_INSERT_NEW = {
    dialect: insert(_TABLE).on_conflict_do_nothing(index_elements=["channel", "external_id"])
    for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_STORED_COLUMNS = (
    "channel",
    "external_id",
    "payload",
    "status",
    "received_at",
    "next_attempt_at",
    "attempts",
)


@functools.cache
def _driver_insert(dialect: Dialect) -> tuple[str, tuple[str, ...] | None, Callable[[Any], Any]]:
    """The webhook's insert as the database driver takes it, compiled once: its SQL, the order
    of its parameters (None when they are named), and how a timestamp is passed."""
    compiled = _INSERT_NEW[dialect.name].compile(
        dialect=dialect, column_keys=list(_STORED_COLUMNS), for_executemany=True
    )
    stamp = _TABLE.c.received_at.type.bind_processor(dialect)
    order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
    return str(compiled), order, stamp or (lambda value: value)


def store_many(
    connection: Connection | Session, channel: str, deliveries: list[tuple[str, str]]
) -> None:
    """Keep several deliveries in one statement; redeliveries are left as they were.

    The webhook calls this for every group of requests: the statement is compiled once and the
    rows go to the driver as they are (one timestamp for the group, converted once), without
    SQLAlchemy converting every value of every row."""
    if isinstance(connection, Session):
        connection = connection.connection()
    sql, order, stamp = _driver_insert(connection.dialect)
    now = stamp(utcnow())
    rows = [
        {
            "channel": channel,
            "external_id": external_id,
            "payload": payload,
            "status": InboxStatus.PENDING.value,
            "received_at": now,
            "next_attempt_at": now,
            "attempts": 0,
        }
        for external_id, payload in deliveries
    ]
    if order is None:
        connection.exec_driver_sql(sql, rows)
    else:
        connection.exec_driver_sql(sql, [tuple(row[key] for key in order) for row in rows])


def due(session: Session, channel: str, limit: int = 200) -> list[tuple[int, str | None, int]]:
    """(id, payload, attempts) of the pending deliveries whose time has come, in arrival order."""
    rows = session.execute(
        select(InboundUpdate.id, InboundUpdate.payload, InboundUpdate.attempts)
        .where(
            InboundUpdate.channel == channel,
            InboundUpdate.status == InboxStatus.PENDING.value,
            InboundUpdate.next_attempt_at <= utcnow(),
        )
        .order_by(InboundUpdate.id)
        .limit(limit)
    )
    return [(update_id, payload, attempts) for update_id, payload, attempts in rows]


_LOCK_PENDING = (
    select(InboundUpdate.id)
    .where(
        InboundUpdate.id == bindparam("update_id"),
        InboundUpdate.status == InboxStatus.PENDING.value,
    )
    .with_for_update(skip_locked=True)
)


def lock_pending(session: Session, update_id: int) -> bool:
    """Lock the delivery for this transaction; False when it no longer waits to be processed
    (done, failed, or locked by another worker)."""
    return session.scalar(_LOCK_PENDING, {"update_id": update_id}) is not None


_MARK_DONE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("update_id"))
    .values(
        status=InboxStatus.DONE.value,
        payload=None,
        processed_at=bindparam("now", type_=_TABLE.c.processed_at.type),
        attempts=_TABLE.c.attempts + 1,
        last_error=None,
    )
)


def mark_done(session: Session, update_id: int) -> None:
    """Done, and the payload (personal data) gone. A plain SQL update in the session's
    transaction: no ORM object of the delivery is loaded that it would have to synchronise."""
    session.flush()
    session.connection().execute(_MARK_DONE, {"update_id": update_id, "now": utcnow()})


def mark_attempt_failed(session: Session, update_id: int, attempts: int, error: str) -> None:
    """Retry later with backoff; after MAX_ATTEMPTS keep it as failed for an operator."""
    attempts += 1
    failed = attempts >= MAX_ATTEMPTS
    session.execute(
        update(InboundUpdate)
        .where(InboundUpdate.id == update_id)
        .values(
            status=InboxStatus.FAILED.value if failed else InboxStatus.PENDING.value,
            attempts=attempts,
            last_error=error[:500],
            next_attempt_at=utcnow() + timedelta(seconds=min(2**attempts, 900)),
        )
    )


def mark_unreadable(session: Session, update_id: int, error: str) -> None:
    """Keep a delivery that cannot be read for an operator; it is not retried."""
    session.execute(
        update(InboundUpdate)
        .where(InboundUpdate.id == update_id)
        .values(
            status=InboxStatus.FAILED.value,
            attempts=InboundUpdate.attempts + 1,
            last_error=error[:500],
        )
    )
