"""Schema versions, kept by Alembic with the scripts shipped in ``pinsphere/migrations``.

Metadata and users are two branches of one script directory (branch labels ``metadata`` and
``users``), each recording its revision in its own version table, so that one database can
hold both and each backend upgrades only its own tables.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from pinsphere.backends.sql.engine import Database, open_database

__all__ = ["Branch", "schema_revision", "upgrade", "upgrade_schema"]

Branch = Literal["metadata", "users"]

VERSION_TABLES: dict[Branch, str] = {
    "metadata": "pinsphere_metadata_version",
    "users": "pinsphere_users_version",
}
# Serialises concurrent upgrades on PostgreSQL (SQLite's BEGIN IMMEDIATE already does).
_ADVISORY_LOCK = 0x70696E73  # "pins"


def _config(connection: Connection | None, branch: Branch) -> Config:
    config = Config()
    location = resources.files("pinsphere") / "migrations"
    config.set_main_option("script_location", str(location))
    config.attributes["connection"] = connection
    config.attributes["version_table"] = VERSION_TABLES[branch]
    return config


@functools.cache
def head_revision(branch: Branch) -> str:
    """The newest revision of a branch in the shipped scripts."""
    script = ScriptDirectory.from_config(_config(None, branch))
    head = script.get_revision(f"{branch}@head")
    assert head is not None
    return head.revision


def _current(conn: Connection, branch: Branch) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLES[branch]})
    return context.get_current_revision()


def upgrade(database: Database, branch: Branch) -> None:
    """Bring one branch of the schema to its newest revision, in one transaction.

    Does nothing (one small query) when the schema is current.
    """
    target = head_revision(branch)
    with database.read() as conn:
        if _has_schema(conn, database.schema) and _current(conn, branch) == target:
            return
    with database.write() as conn:
        if database.dialect == "postgresql":
            if database.schema is not None:
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{database.schema}"')
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK})")
        command.upgrade(_config(conn, branch), f"{branch}@head")


def _has_schema(conn: Connection, schema: str | None) -> bool:
    if schema is None or conn.dialect.name != "postgresql":
        return True
    found = conn.exec_driver_sql(
        "SELECT 1 FROM pg_namespace WHERE nspname = %(name)s", {"name": schema}
    ).first()
    return found is not None


def upgrade_schema(url: str, branch: Branch | None = None) -> dict[str, str]:
    """Upgrade a database's Pinsphere tables to the newest revision.

    Args:
        url: The backend URL (``sqlite:///…`` or ``postgresql+psycopg://…``, options allowed).
        branch: ``metadata`` or ``users``; both when ``None``.

    Returns:
        The revision of each upgraded branch.

    Raises:
        InvalidInput: The URL is not valid.
        BackendUnavailable: The database cannot be reached.
    """
    database, _ = open_database(url)
    try:
        done: dict[str, str] = {}
        for name in (branch,) if branch else ("metadata", "users"):
            upgrade(database, name)
            done[name] = head_revision(name)
        return done
    finally:
        database.dispose()


def schema_revision(url: str) -> dict[str, str | None]:
    """The revision each branch of a database stands at (``None``: not created yet).

    Raises:
        InvalidInput: The URL is not valid.
        BackendUnavailable: The database cannot be reached.
    """
    database, _ = open_database(url)
    try:
        with database.read() as conn:
            if not _has_schema(conn, database.schema):
                return {"metadata": None, "users": None}
            return {name: _current(conn, name) for name in VERSION_TABLES}
    finally:
        database.dispose()
