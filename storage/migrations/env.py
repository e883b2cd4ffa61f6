"""Alembic environment: migrations run on the connection the caller hands over."""

from __future__ import annotations

from alembic import context

from storage.migrate import include_object
from storage.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through `buurtbot db upgrade`, which passes the connection.")


context.configure(
    connection=connection,
    include_object=include_object,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
