"""Storage: migrations match the models, on SQLite and PostgreSQL; personal data is masked."""

from __future__ import annotations

import pytest
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
        inbox.mark_done(session, [old.id])
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
    """The webhook writes on PostgreSQL through a connection of its own; when the server has
    closed it (a restart), the next group fails once and is stored on a fresh connection."""
    import asyncio

    import pytest
    from sqlalchemy import func, select, text

    from storage import inbox
    from storage.models import InboundUpdate

    if db.is_sqlite:
        pytest.skip("SQLite has no server to drop the connection")

    async def store_across_a_dropped_connection() -> None:
        writer = inbox.PostgresInbox(db.engine.url)
        try:
            await writer.store_many("telegram", [("1", "{}")])
            assert writer._connection is not None
            backend = writer._connection.info.backend_pid
            with db.engine.begin() as connection:
                terminate = text("SELECT pg_terminate_backend(:pid)")
                assert connection.execute(terminate, {"pid": backend}).scalar_one() is True
            await writer.store_many("telegram", [("2", "{}"), ("1", "{}")])
        finally:
            await writer.close()

    asyncio.run(store_across_a_dropped_connection())
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


def test_one_failing_update_in_a_batch_leaves_the_others_handled(db: Database) -> None:
    """The worker handles a batch of updates in one transaction; when one of them fails, the
    batch is rolled back and each is handled on its own: the others are stored once, and only
    the failing one waits for a retry."""
    import asyncio
    import json
    from collections.abc import Sequence
    from datetime import UTC, datetime

    from sqlalchemy import select

    from bot.inbox import InboxWorker
    from handlers.context import Services
    from handlers.messages import ChatRef, IncomingMessage, Person
    from nlp.classifier import Classification, get_classifier
    from storage import inbox
    from storage.models import InboundUpdate, InboxStatus, Message

    class BreaksOnOneText:
        """The shipped classifier, except that it fails on one text."""

        def __init__(self) -> None:
            self.model = get_classifier()

        def classify(self, text: str) -> Classification:
            if "kapot" in text:
                raise RuntimeError("classifier broke")
            return self.model.classify(text)

        def classify_batch(self, texts: Sequence[str]) -> list[Classification]:
            return [self.classify(text) for text in texts]

    async def to_event(payload: str) -> IncomingMessage:
        data = json.loads(payload)
        return IncomingMessage(
            chat=ChatRef("telegram", "-100", "Buurtapp Oost"),
            sender=Person("7", "Henk"),
            message_id=data["id"],
            text=data["text"],
            sent_at=datetime(2026, 11, 24, 20, 0, tzinfo=UTC),
        )

    texts = [
        "Verdachte man bij de garages achter de Eikenlaan",
        "deze tekst maakt het model kapot",
        "Fiets gestolen bij het station, blauwe Gazelle",
    ]
    with db.unit_of_work() as session:
        inbox.store_many(
            session,
            "telegram",
            [(str(i), json.dumps({"id": str(i), "text": text})) for i, text in enumerate(texts)],
        )
    worker = InboxWorker(db, Services(classifier=BreaksOnOneText()), "telegram", to_event)
    assert asyncio.run(worker.process_due()) == 2

    with db.unit_of_work() as session:
        stored = session.scalars(select(Message.text).order_by(Message.id)).all()
        updates = {u.external_id: u for u in session.scalars(select(InboundUpdate))}
    assert stored == [texts[0], texts[2]]
    assert [updates[key].status for key in "012"] == [
        InboxStatus.DONE.value,
        InboxStatus.PENDING.value,
        InboxStatus.DONE.value,
    ]
    failed = updates["1"]
    assert failed.attempts == 1 and failed.payload is not None
    assert failed.last_error and "classifier broke" in failed.last_error


def test_chats_and_members_are_remembered_within_a_session_but_not_when_deleted(
    db: Database,
) -> None:
    """The worker handles several updates in one session: a chat or member found once is not
    looked up again, but one deleted meanwhile (WhatsApp STOP) is not handed out again."""
    from sqlalchemy import event

    from storage import directory

    with db.unit_of_work() as session:
        chat, _ = directory.bind_chat(session, "telegram", "-100", "Buurtapp Oost", True)
        directory.upsert_member(session, chat.initiative_id, "telegram", "7", "Henk", None)

    selects: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.unit_of_work() as session:
            chat = directory.find_chat(session, "telegram", "-100")
            assert chat is not None
            member = directory.find_member(session, chat.initiative_id, "telegram", "7")
            assert member is not None
            looked_up = len(selects)
            assert directory.find_chat(session, "telegram", "-100") is chat
            assert directory.find_member(session, chat.initiative_id, "telegram", "7") is member
            assert len(selects) == looked_up

            session.delete(member)
            session.flush()
            assert directory.find_member(session, chat.initiative_id, "telegram", "7") is None
            assert len(selects) == looked_up + 1
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_scratch_schema_is_used_then_dropped(database_url: str) -> None:
    """The PostgreSQL case of `database_url` comes from `scratch_schema`: its connections
    work in their own schema, and the schema is gone once the block ends."""
    import sqlalchemy

    from storage.db import scratch_schema
    from tests.conftest import POSTGRES_URL

    if database_url.startswith("sqlite"):
        pytest.skip("a scratch schema is PostgreSQL's")
    with scratch_schema(POSTGRES_URL, "check") as url:
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            schema = connection.execute(sqlalchemy.text("SELECT current_schema()")).scalar_one()
        engine.dispose()
        assert schema.startswith("check_")
    admin = sqlalchemy.create_engine(POSTGRES_URL)
    with admin.connect() as connection:
        left = connection.execute(
            sqlalchemy.text("SELECT count(*) FROM pg_namespace WHERE nspname = :name"),
            {"name": schema},
        ).scalar_one()
    admin.dispose()
    assert left == 0
