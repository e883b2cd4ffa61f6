"""The inbox: webhook deliveries stored durably before they are answered, then processed once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import psycopg
from sqlalchemy import URL, Connection, Dialect, Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from storage.models import InboundUpdate, InboxStatus, utcnow

MAX_ATTEMPTS = 8
_TABLE = cast(Table, InboundUpdate.__table__)


def _row(channel: str, external_id: str, payload: str, now: object) -> dict[str, object]:
    """A new delivery's column values, received (and due) `now`."""
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
        .values(**_row(channel, external_id, payload, utcnow()))
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
    rows = [_row(channel, external_id, payload, now) for external_id, payload in deliveries]
    if order is None:
        connection.exec_driver_sql(sql, rows)
    else:
        connection.exec_driver_sql(sql, [tuple(row[key] for key in order) for row in rows])


class PostgresInbox:
    """The webhook's insert on PostgreSQL, awaited on the event loop.

    One connection of its own in autocommit: the single statement is its own transaction, so a
    group costs one round trip and is durable (synchronous commit) when the await returns. The
    group goes as two arrays that the server unnests, whatever its size. No thread is involved:
    handing every group to a thread and back cost more CPU than the insert itself. Callers write
    one group at a time (the webhook's group commit does).
    """

    def __init__(self, url: URL) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._sql = (
            f"INSERT INTO {_TABLE.name} (channel, external_id, payload, status, received_at,"
            " next_attempt_at, attempts)"
            " SELECT %(channel)s, delivery.external_id, delivery.payload, %(status)s, %(now)s,"
            " %(now)s, 0 FROM unnest(%(external_ids)b::varchar[], %(payloads)b::text[])"
            " AS delivery (external_id, payload)"
            " ON CONFLICT (channel, external_id) DO NOTHING"
        )

    async def store_many(self, channel: str, deliveries: list[tuple[str, str]]) -> None:
        """Keep several deliveries in one statement; redeliveries are left as they were.

        A connection the server dropped (a restart) fails once; the group is then written on a
        new one (the insert is idempotent, so writing it twice would change nothing)."""
        parameters = {
            "channel": channel,
            "status": InboxStatus.PENDING.value,
            "now": utcnow(),
            "external_ids": [external_id for external_id, _ in deliveries],
            "payloads": [payload for _, payload in deliveries],
        }
        try:
            await self._execute(parameters)
        except psycopg.OperationalError:
            await self.close()
            await self._execute(parameters)

    async def _execute(self, parameters: dict[str, Any]) -> None:
        if self._connection is None or self._connection.closed:
            self._connection = await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True
            )
        await self._connection.execute(self._sql, parameters)

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()


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
        InboundUpdate.id.in_(bindparam("update_ids", expanding=True)),
        InboundUpdate.status == InboxStatus.PENDING.value,
    )
    .with_for_update(skip_locked=True)
)


def lock_pending(session: Session, update_ids: list[int]) -> set[int]:
    """Lock these deliveries for this transaction; those that no longer wait to be processed
    (done, failed, or locked by another worker) are left out of the answer."""
    return set(session.scalars(_LOCK_PENDING, {"update_ids": update_ids}))


_MARK_DONE = (
    update(_TABLE)
    .where(_TABLE.c.id.in_(bindparam("update_ids", expanding=True)))
    .values(
        status=InboxStatus.DONE.value,
        payload=None,
        processed_at=bindparam("now", type_=_TABLE.c.processed_at.type),
        attempts=_TABLE.c.attempts + 1,
        last_error=None,
    )
)


def mark_done(session: Session, update_ids: list[int]) -> None:
    """Done, and the payload (personal data) gone. A plain SQL update in the session's
    transaction: no ORM object of a delivery is loaded that it would have to synchronise."""
    session.flush()
    session.connection().execute(_MARK_DONE, {"update_ids": update_ids, "now": utcnow()})


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
