"""Storage: migrations match the models, on SQLite and PostgreSQL; personal data is masked."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.db import Database
from storage.migrate import include_object, is_current
from storage.models import Base
from storage.privacy import mask_personal_data, pseudonym


def test_migrations_build_exactly_the_models(db: Database) -> None:
    assert is_current(db)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": include_object})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_upgrade_twice_changes_nothing(db: Database) -> None:
    db.upgrade()
    assert is_current(db)


def test_phone_numbers_and_emails_are_masked_but_times_and_plates_kept() -> None:
    masked = mask_personal_data(
        "Bel 06-12345678 of +31 6 1234 5678, mail piet@example.nl; om 22:15 op 12-11-2025 "
        "stond 12-ABC-3 bij nr 14"
    )
    assert "12345678" not in masked and "1234 5678" not in masked and "piet@" not in masked
    assert "[telefoonnummer]" in masked and "[e-mailadres]" in masked
    assert (
        "22:15" in masked and "12-11-2025" in masked and "12-ABC-3" in masked and "nr 14" in masked
    )


def test_pseudonyms_are_stable_and_keyed() -> None:
    assert pseudonym("k1", "+31612345678") == pseudonym("k1", "+31612345678")
    assert pseudonym("k1", "+31612345678") != pseudonym("k2", "+31612345678")
    assert "612345678" not in pseudonym("k1", "+31612345678")


def test_retention_drops_handled_deliveries_and_blanks_old_texts(db: Database) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from storage import inbox
    from storage.models import Chat, InboundUpdate, Initiative, Message, utcnow
    from storage.retention import purge_expired

    long_ago = utcnow() - timedelta(days=500)
    with db.unit_of_work() as session:
        inbox.store(session, "telegram", "1", "{}")
        inbox.store(session, "telegram", "2", "{}")
        old = session.scalars(select(InboundUpdate).where(InboundUpdate.external_id == "1")).one()
        inbox.mark_done(session, old.id)
        old.processed_at = long_ago
        initiative = Initiative(name="Oud")
        session.add(initiative)
        session.flush()
        chat = Chat(initiative_id=initiative.id, channel="telegram", external_id="-1")
        session.add(chat)
        session.flush()
        for number, sent_at in ((1, long_ago), (2, utcnow())):
            session.add(
                Message(
                    initiative_id=initiative.id,
                    chat_id=chat.id,
                    channel_message_id=str(number),
                    sent_at=sent_at,
                    text=f"bericht {number}",
                    kind="signaal",
                    category="verdacht",
                    urgent=False,
                    confidence=0.9,
                    needs_review=False,
                    model_version="t",
                )
            )
    with db.unit_of_work() as session:
        purged = purge_expired(session)
    assert (purged.updates, purged.texts) == (1, 1)
    with db.unit_of_work() as session:
        assert [u.external_id for u in session.scalars(select(InboundUpdate))] == ["2"]
        texts = [m.text for m in session.scalars(select(Message).order_by(Message.id))]
        labels = [m.kind for m in session.scalars(select(Message))]
    assert texts == ["", "bericht 2"] and labels == ["signaal", "signaal"]
    with db.unit_of_work() as session:
        assert purge_expired(session) == type(purged)(0, 0, 0)


def test_inbox_store_tells_a_redelivery(db: Database) -> None:
    from storage import inbox

    with db.unit_of_work() as session:
        assert inbox.store(session, "telegram", "77", "{}") is True
    with db.unit_of_work() as session:
        assert inbox.store(session, "telegram", "77", "{}") is False


def test_webhook_store_survives_a_connection_the_server_dropped(db: Database) -> None:
    """Without a ping before every checkout, a pooled connection the server has closed (a
    restart) fails once; the webhook's group commit then stores on a fresh connection."""
    import pytest
    from sqlalchemy import func, select, text

    from bot.inbox import InboxWorker
    from handlers.context import Services
    from storage.models import InboundUpdate

    if db.is_sqlite:
        pytest.skip("SQLite has no server to drop the connection")

    async def no_event(_payload: str) -> object:
        raise AssertionError("not processed here")

    worker = InboxWorker(db, Services(classifier=None), "telegram", no_event)  # type: ignore[arg-type]
    worker.store_many([("1", "{}")])
    with db.engine.connect() as connection:
        pooled = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = Database(db.url)
    with admin.engine.begin() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled})
    admin.dispose()
    worker.store_many([("2", "{}"), ("1", "{}")])
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(InboundUpdate)) == 2


def test_webhook_store_never_waits_for_a_lock_on_the_event_loop(db: Database) -> None:
    """On SQLite the webhook writes a group on the event loop only when no other connection
    is writing; while one is, nothing is written there and the group waits in a thread instead,
    and is stored once the other writer commits."""
    import asyncio
    import threading

    import pytest
    from sqlalchemy import func, select, text

    from bot.inbox import InboxWorker
    from handlers.context import Services
    from storage.models import InboundUpdate

    if not db.is_sqlite:
        pytest.skip("PostgreSQL writes never run on the event loop")

    async def no_event(_payload: str) -> object:
        raise AssertionError("not processed here")

    worker = InboxWorker(db, Services(classifier=None), "telegram", no_event)  # type: ignore[arg-type]
    assert worker._store_without_waiting([("1", "{}")]) is True

    released = threading.Event()
    with db.engine.connect() as other:
        other.execute(text("BEGIN IMMEDIATE"))  # another writer holds the lock
        assert worker._store_without_waiting([("2", "{}")]) is False

        async def store_while_locked() -> None:
            stored = asyncio.create_task(worker.store_durably("2", "{}"))
            await asyncio.sleep(0.2)
            assert not stored.done()  # waiting for the lock, in a thread: the loop runs on
            released.set()
            await asyncio.wait_for(stored, 15)

        def release() -> None:
            released.wait(15)
            other.execute(text("COMMIT"))

        releaser = threading.Thread(target=release)
        releaser.start()
        asyncio.run(store_while_locked())
        releaser.join()
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(InboundUpdate)) == 2
