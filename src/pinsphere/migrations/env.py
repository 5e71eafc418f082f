"""Alembic's entry point for Pinsphere's migrations.

Pinsphere runs its migrations programmatically (see :mod:`pinsphere.backends.sql.migrate`):
the caller hands over an open connection, already in a transaction, and the name of the
version table of the branch being upgraded (metadata and users are separate branches with
separate version tables, so each backend upgrades only its own tables).
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Pinsphere's migrations run through pinsphere.backends.sql.upgrade_schema(url)"
    )

context.configure(
    connection=connection,
    version_table=config.attributes["version_table"],
    # Runs inside the caller's transaction: on SQLite and PostgreSQL DDL is transactional,
    # so a failed upgrade leaves the schema as it was.
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
