"""Alembic environment: runs against the engine monitor hands over (see store.db.upgrade)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from monitor.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # plain `alembic` command line: take the URL from the ini
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,  # SQLite needs batch mode for ALTER
        )
        context.run_migrations()


run_migrations()
