"""Storage: migrations match the models, on SQLite and PostgreSQL; personal data is masked."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.db import Database
from storage.migrate import is_current
from storage.models import Base
from storage.privacy import mask_personal_data, pseudonym


def test_migrations_build_exactly_the_models(db: Database) -> None:
    assert is_current(db)
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
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
    assert "22:15" in masked and "12-11-2025" in masked and "12-ABC-3" in masked and "nr 14" in masked


def test_pseudonyms_are_stable_and_keyed() -> None:
    assert pseudonym("k1", "+31612345678") == pseudonym("k1", "+31612345678")
    assert pseudonym("k1", "+31612345678") != pseudonym("k2", "+31612345678")
    assert "612345678" not in pseudonym("k1", "+31612345678")
